// Package rcf owns the streaming robust random cut forest behind
// RANDOM_CUT_FOREST and RANDOM_CUT_FOREST_WITH_EXPLANATION: random cut trees,
// their time-decayed samples, shingling, anomaly scores with per-column
// attributions, forests kept per key, and their binary state for
// checkpoints. The algorithm is that of Guha et al., "Robust Random Cut
// Forest Based Anomaly Detection On Streams" (ICML 2016), with the scoring
// and sampling conventions of AWS's open-source library
// (github.com/aws/random-cut-forest-by-aws); the code is our own.
//
// # Use
//
// A Forest takes one row of Config.Columns numbers at a time. Update scores
// the row against the forest as it is, then offers it to every tree's
// sample; UpdateExplain also splits the score over the columns. Scores are 0
// until the forest has seen SampleSize points (KDA's warm-up) and, with
// shingling, until the shingle is full. Keyed keeps one forest per key with
// a bound on keys. Forests and Keyed serialise with MarshalBinary, and a
// restored one continues with exactly the scores the original would give.
//
// # Points, trees and samples
//
// With ShingleSize k the trees see points of k*Columns values: the last k
// rows, oldest first. Each tree keeps a sample of SampleSize points chosen by
// time-decayed weighted reservoir sampling (sampler.go explains the formula):
// a point of age a stays with probability falling like exp(-a/TimeDecay), so
// the model follows the most recent TimeDecay points or so. A tree is built
// on its sample by random cuts: a dimension chosen in proportion to the
// range of the data in it, then a value uniform in that range. Insertions
// and deletions change one path, O(depth). Points are stored once per
// forest and shared by the trees that sample them.
//
// # Scores
//
// The score is the AWS library's standard anomaly score, not collusive
// displacement: it needs no extra state, it is what the AWS library reports
// by default (whether KDA ran that code is not documented), and its values
// read the same way for every data set. For each tree it is the expected depth-based
// isolation score of the point had it been inserted: walking up from where
// the point would land, each node would have separated it from its box with
// probability (range the point adds)/(range of the box with the point), and
// a point isolated at depth d scores 1/(d+1). The tree's score is scaled by
// log2(1+mass), about the depth of a balanced tree over its sample, and the
// forest averages its trees. So scores near 1 or below are ordinary, and an
// isolated outlier scores up to log2(1+SampleSize) (8 at the default 256).
// A point equal to a sampled point scores lower still (1/(d+log2(1+m)),
// damped by the share m of the sample it holds).
//
// The attribution splits each tree's score over the dimensions and
// directions in proportion to how far the point sticks out of each box
// above (high) or below (low) it; dimensions of a column are summed over the
// shingle. Per column: Score = high+low (columns add up to the score),
// Direction = HIGH when high > low, Strength = |high-low|/(high+low).
//
// # Scales
//
// Inputs are not normalised. Cuts fall in proportion to each dimension's
// range, so a column whose values spread over thousands dominates one that
// spreads over units, and anomalies in the narrow column are found late or
// not at all. Scale columns to comparable ranges in SQL first when they
// differ (for example divide by a typical value). Multiplying every column by
// the same factor does not change scores.
//
// # Unusable values
//
// A row with NaN, an infinite value or a value beyond ±1e300 (where sums of
// ranges over up to 900 dimensions could overflow) scores 0 (with no
// attribution) and is ignored: it enters neither the shingle nor any sample.
// Forest.Skipped counts such rows.
//
// # Cost
//
// Scoring walks each tree once from the root to a leaf and back up until the
// point falls inside a box; a row is accepted by a tree at a rate of about
// SampleSize/TimeDecay once the forest has seen TimeDecay points (more
// often before), and an accepted row costs one deletion and one insertion.
// Memory is about (36 + 16*dims) bytes per sample slot per tree, plus
// (4 + 8*dims) bytes per distinct sampled point (up to Trees*SampleSize of
// them once the samples have drifted apart); Forest.MemoryBytes estimates it.
// At the defaults over one column that is 1.7 MB per forest (4.2 MB over
// five columns), and its state about 0.8 MB: the cuts, keys and points must
// be kept exactly for a restored forest to give the same scores.
package rcf
