//go:build !race

package exec

// oracleEvents is the size of the differential tests' inputs.
const oracleEvents = 100_000
