//go:build race

package rcf

// qualityTrees is the forest size of TestQuality: the race detector makes
// tree walks ~10x slower, so under it the test runs smaller forests (its
// figures for the record come from the normal run, at KDA's 100 trees).
const qualityTrees = 25
