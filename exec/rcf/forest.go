package rcf

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Forest is a streaming robust random cut forest: it scores each row against
// the points its trees sample, then offers the row to every tree's sampler.
// A Forest is not safe for concurrent use.
type Forest struct {
	cfg    Config
	dims   int
	decay  decay
	trees  []sampledTree
	points pointStore

	shingle []float64 // the last ShingleSize rows, oldest first
	filled  int       // rows in the shingle, up to ShingleSize
	seen    int64     // points (full shingles) offered to the samplers
	skipped int64     // rows ignored because a value was not usable

	fullNorm float64 // normaliser(SampleSize), the usual tree mass

	path    []int32 // scratch for tree walks
	explain explainScratch
	sum     attribution
}

// sampledTree is one tree, its sampler and its random generator.
type sampledTree struct {
	tree    tree
	sampler sampler
	rng     rand.PCG
}

// New returns an empty forest, or the Validate error.
func New(cfg Config) (*Forest, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := newForest(cfg)
	for i := range f.trees {
		f.trees[i].rng = *rand.NewPCG(cfg.Seed, splitmix(uint64(i)))
	}
	return f, nil
}

// newForest allocates a forest for a valid cfg; random generators are left
// for the caller to seed or restore.
func newForest(cfg Config) *Forest {
	dims := cfg.dims()
	f := &Forest{
		cfg:      cfg,
		dims:     dims,
		decay:    newDecay(cfg.TimeDecay),
		fullNorm: normaliser(int32(cfg.SampleSize)),
		trees:    make([]sampledTree, cfg.Trees),
		points:   newPointStore(dims),
		shingle:  make([]float64, dims),
		explain:  newExplainScratch(dims),
		sum:      newAttribution(dims),
	}
	for i := range f.trees {
		f.trees[i].tree = newTree(dims)
	}
	return f
}

// splitmix spreads a tree number over 64 bits, so that neighbouring trees
// start far apart in their generators' sequences.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Config is the forest's configuration.
func (f *Forest) Config() Config { return f.cfg }

// Seen is the number of points (full shingles) the forest has sampled from.
func (f *Forest) Seen() int64 { return f.seen }

// Skipped is the number of rows ignored because a value was NaN, infinite or
// beyond ±MaxValue.
func (f *Forest) Skipped() int64 { return f.skipped }

// Warm reports whether the next full shingle gets a score: the forest has
// seen SampleSize points, KDA's warm-up.
func (f *Forest) Warm() bool { return f.seen >= int64(f.cfg.SampleSize) }

// Update scores a row of Columns values against the forest as it is, then
// offers it to every tree's sampler, and returns the score: 0 until the
// shingle is full and the forest has seen SampleSize points, then >= 0, about
// 1 or below for ordinary points and higher for anomalies.
//
// A row with a NaN or infinite value, or one beyond ±MaxValue, scores 0 and
// is ignored: it enters neither the shingle nor any sample (Skipped counts
// it), so it can neither corrupt a tree nor shift the shingle. Update panics
// if len(row) is not Columns.
func (f *Forest) Update(row []float64) float64 {
	f.checkLen("row", len(row))
	if !f.push(row) {
		return 0
	}
	var score float64
	if f.Warm() {
		for i := range f.trees {
			var s float64
			t := &f.trees[i].tree
			f.path, s = t.score(f.shingle, &f.points, f.path, f.norm(t.mass))
			score += s
		}
		score /= float64(len(f.trees))
	}
	f.insert()
	return score
}

// UpdateExplain is Update, and also fills out[c] with column c's share of the
// score (summed over the shingle's positions). The column scores add up to
// the score; while the forest warms up every column gets Score 0, Strength 0
// and Direction Low, as in KDA. The score is the one Update would return.
// UpdateExplain panics if len(row) or len(out) is not Columns.
func (f *Forest) UpdateExplain(row []float64, out []Attribution) float64 {
	f.checkLen("row", len(row))
	f.checkLen("attribution", len(out))
	clear(out)
	if !f.push(row) {
		return 0
	}
	var score float64
	if f.Warm() {
		f.sum.clear()
		for i := range f.trees {
			var s float64
			t := &f.trees[i].tree
			f.path, s = t.explain(f.shingle, &f.points, f.path, f.norm(t.mass), &f.explain, f.sum)
			score += s
		}
		n := float64(len(f.trees))
		score /= n
		f.attribute(out, n)
	}
	f.insert()
	return score
}

func (f *Forest) norm(mass int32) float64 {
	if mass == int32(f.cfg.SampleSize) {
		return f.fullNorm
	}
	return normaliser(mass)
}

// attribute folds the summed per-dimension split into per-column results.
func (f *Forest) attribute(out []Attribution, trees float64) {
	cols := f.cfg.Columns
	for c := range out {
		var high, low float64
		for d := c; d < f.dims; d += cols {
			high += f.sum.high[d]
			low += f.sum.low[d]
		}
		high, low = high/trees, low/trees
		a := Attribution{Score: high + low, Direction: Low}
		if high > low {
			a.Direction = High
		}
		if a.Score > 0 {
			a.Strength = math.Abs(high-low) / a.Score
		}
		out[c] = a
	}
}

func (f *Forest) checkLen(what string, n int) {
	if n != f.cfg.Columns {
		panic(fmt.Sprintf("rcf: %s has %d values, the forest has %d columns", what, n, f.cfg.Columns))
	}
}

// MaxValue bounds the magnitude of input values: beyond it, sums of ranges
// over many dimensions could overflow to infinity.
const MaxValue = 1e300

// allUsable reports whether every value is within ±MaxValue (so not NaN).
func allUsable(vs []float64) bool {
	for _, v := range vs {
		if !(math.Abs(v) <= MaxValue) {
			return false
		}
	}
	return true
}

// push adds a usable row to the shingle and reports whether the shingle is
// full.
func (f *Forest) push(row []float64) bool {
	if !allUsable(row) {
		f.skipped++
		return false
	}
	cols := f.cfg.Columns
	copy(f.shingle, f.shingle[cols:])
	copy(f.shingle[f.dims-cols:], row)
	if f.filled < f.cfg.ShingleSize {
		f.filled++
	}
	return f.filled == f.cfg.ShingleSize
}

// insert offers the current shingle to every tree.
func (f *Forest) insert() {
	seq := f.seen
	f.seen++
	pid := f.points.add(f.shingle)
	for i := range f.trees {
		st := &f.trees[i]
		res, evicted := st.sampler.offer(seq, pid, f.cfg.SampleSize, f.decay, &st.rng)
		if res == rejected {
			continue
		}
		f.points.retain(pid)
		if res == replaced {
			var err error
			if f.path, err = st.tree.remove(f.points.point(evicted), &f.points, f.path); err != nil {
				// The sampler and its tree hold the same points by construction,
				// and restored state is checked, so this is a bug.
				panic(fmt.Sprintf("rcf: tree %d: %v", i, err))
			}
			f.points.release(evicted)
		}
		st.tree.insert(f.shingle, pid, &f.points, &st.rng)
	}
	f.points.freeIfUnused(pid)
}

// MemoryBytes estimates the bytes the forest holds (slice capacities and the
// fixed parts), for sizing keyed forests.
func (f *Forest) MemoryBytes() int {
	n := 200 + f.points.bytes() + len(f.shingle)*8 + cap(f.path)*4 + 8*f.dims*8
	for i := range f.trees {
		n += f.trees[i].tree.bytes() + f.trees[i].sampler.bytes() + 16 + 64
	}
	return n
}
