//go:build !race

package rcf

// qualityTrees is the forest size of TestQuality: KDA's default.
const qualityTrees = 100
