//go:build race

package exec

// oracleEvents is the size of the differential tests' inputs; the race
// detector makes everything ~10x slower, so it gets a smaller one.
const oracleEvents = 20_000
