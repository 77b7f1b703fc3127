package rcf

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func smallConfig(cols, shingle int) Config {
	return Config{Trees: 20, SampleSize: 32, TimeDecay: 400, ShingleSize: shingle, Columns: cols, Seed: 42}
}

func mustNew(t testing.TB, cfg Config) *Forest {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// randomRows mixes noise, repeated values (duplicate points) and outliers.
func randomRows(n, cols int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	rows := make([][]float64, n)
	for i := range rows {
		r := make([]float64, cols)
		for c := range r {
			switch rng.IntN(10) {
			case 0:
				r[c] = float64(rng.IntN(3))
			case 1:
				r[c] = rng.NormFloat64() * 50
			default:
				r[c] = math.Sin(float64(i)/7+float64(c)) + rng.NormFloat64()*0.1
			}
		}
		rows[i] = r
	}
	return rows
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig(1).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want []string
	}{
		{func(c *Config) { c.Trees = 0 }, []string{"numberOfTrees", "0", "1 to 1000"}},
		{func(c *Config) { c.Trees = 1001 }, []string{"numberOfTrees", "1001", "1 to 1000"}},
		{func(c *Config) { c.SampleSize = 9 }, []string{"subSampleSize", "9", "10 to 1000"}},
		{func(c *Config) { c.SampleSize = 1001 }, []string{"subSampleSize", "1001", "10 to 1000"}},
		{func(c *Config) { c.TimeDecay = 0 }, []string{"timeDecay", "0", "1 to 2147483647"}},
		{func(c *Config) { c.TimeDecay = 256 }, []string{"subSampleSize 256", "less than timeDecay 256"}},
		{func(c *Config) { c.ShingleSize = 31 }, []string{"shingleSize", "31", "1 to 30"}},
		{func(c *Config) { c.Columns = 0 }, []string{"1 to 30 numeric columns", "got 0"}},
		{func(c *Config) { c.Columns = 31 }, []string{"got 31"}},
	} {
		c := DefaultConfig(1)
		tc.edit(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%+v: no error", c)
			continue
		}
		if _, nerr := New(c); nerr == nil {
			t.Errorf("%+v: New accepted it", c)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q does not say %q", c, err, w)
			}
		}
	}
}

func TestWarmUp(t *testing.T) {
	for _, shingle := range []int{1, 4} {
		cfg := smallConfig(2, shingle)
		f := mustNew(t, cfg)
		rows := randomRows(200, 2, 1)
		zeros := cfg.SampleSize + shingle - 1
		for i, r := range rows {
			s := f.Update(r)
			if i < zeros && s != 0 {
				t.Fatalf("shingle %d: row %d scored %v during warm-up", shingle, i, s)
			}
			if i >= zeros && !(s > 0) {
				t.Fatalf("shingle %d: row %d scored %v after warm-up", shingle, i, s)
			}
		}
	}
}

func TestSameSeedSameScores(t *testing.T) {
	rows := randomRows(1500, 3, 2)
	run := func(seed uint64) []float64 {
		cfg := smallConfig(3, 2)
		cfg.Seed = seed
		f := mustNew(t, cfg)
		out := make([]float64, len(rows))
		for i, r := range rows {
			out[i] = f.Update(r)
		}
		return out
	}
	a, b, c := run(5), run(5), run(6)
	same := 0
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("row %d: %v then %v with the same seed", i, a[i], b[i])
		}
		if a[i] == c[i] {
			same++
		}
	}
	if same > 100 { // the warm-up zeros
		t.Fatalf("%d of %d scores equal with different seeds", same, len(a))
	}
}

// TestNonFiniteRowsIgnored: a NaN, infinite or too large row scores 0 and
// leaves the forest exactly as if the row had not come.
func TestNonFiniteRowsIgnored(t *testing.T) {
	rows := randomRows(600, 2, 3)
	clean := mustNew(t, smallConfig(2, 3))
	dirty := mustNew(t, smallConfig(2, 3))
	bad := [][]float64{{math.NaN(), 1}, {1, math.Inf(1)}, {math.Inf(-1), math.NaN()}, {-1.5e300, 0}}
	out := make([]Attribution, 2)
	for i, r := range rows {
		if i%50 == 7 {
			b := bad[i%len(bad)]
			if s := dirty.UpdateExplain(b, out); s != 0 || out[0] != (Attribution{}) {
				t.Fatalf("row %d: non-finite row scored %v, %+v", i, s, out)
			}
		}
		if a, b := clean.Update(r), dirty.Update(r); a != b {
			t.Fatalf("row %d: %v without the bad rows, %v with", i, a, b)
		}
	}
	if dirty.Skipped() != 12 || clean.Skipped() != 0 {
		t.Fatalf("skipped %d and %d, want 12 and 0", dirty.Skipped(), clean.Skipped())
	}
	dirty.skipped = 0 // the one difference allowed
	sa, _ := clean.MarshalBinary()
	sb, _ := dirty.MarshalBinary()
	if !bytes.Equal(sa, sb) {
		t.Fatal("the bad rows changed the forest's state")
	}
	// The largest usable values still give finite scores and attributions.
	for _, r := range [][]float64{{MaxValue, -MaxValue}, {-MaxValue, MaxValue}, {0, 0}} {
		if s := dirty.UpdateExplain(r, out); math.IsNaN(s) || math.IsInf(s, 0) || math.IsNaN(out[0].Score+out[1].Score) {
			t.Fatalf("row %v scored %v, %+v", r, s, out)
		}
	}
}

// TestForestTreesMatchSamplers streams rows with many duplicates through a
// forest and checks every tree against its sampler: the tree holds exactly
// the sampled points, with boxes and masses recomputed from scratch.
func TestForestTreesMatchSamplers(t *testing.T) {
	cfg := smallConfig(2, 2)
	cfg.TimeDecay = 100 // fast turnover: many deletions
	f := mustNew(t, cfg)
	for i, r := range randomRows(3000, 2, 4) {
		f.Update(r)
		if i%500 != 499 {
			continue
		}
		refs := make([]int32, len(f.points.refs))
		for ti := range f.trees {
			st := &f.trees[ti]
			want := map[string]int{}
			for _, pid := range st.sampler.points {
				want[fmt.Sprint(f.points.point(pid))]++
				refs[pid]++
			}
			if err := checkTree(&st.tree, &f.points, want); err != nil {
				t.Fatalf("row %d, tree %d: %v", i, ti, err)
			}
			for l, pid := range st.tree.leafPoint {
				if st.tree.leafMass[l] > 0 {
					refs[pid]++
				}
			}
		}
		for pid := range refs {
			if refs[pid] != f.points.refs[pid] {
				t.Fatalf("row %d: point %d has %d references, %d counted", i, pid, f.points.refs[pid], refs[pid])
			}
		}
	}
}

// TestExplainSumsToScore: UpdateExplain gives the score Update gives, bit for
// bit, and column shares that add up to it.
func TestExplainSumsToScore(t *testing.T) {
	for _, shingle := range []int{1, 3} {
		cfg := smallConfig(3, shingle)
		plain, expl := mustNew(t, cfg), mustNew(t, cfg)
		out := make([]Attribution, 3)
		rows := randomRows(1000, 3, 5)
		for i, r := range rows {
			if (i/50)%2 == 1 {
				r = rows[i-50] // repeated blocks: points equal to sampled ones
				rows[i] = r
			}
			a := plain.Update(r)
			b := expl.UpdateExplain(r, out)
			if math.Float64bits(a) != math.Float64bits(b) {
				t.Fatalf("shingle %d, row %d: Update %v, UpdateExplain %v", shingle, i, a, b)
			}
			var sum float64
			for c, at := range out {
				if at.Score < 0 || at.Strength < 0 || at.Strength > 1+1e-12 || math.IsNaN(at.Score+at.Strength) {
					t.Fatalf("row %d column %d: %+v", i, c, at)
				}
				if b == 0 && at != (Attribution{}) {
					t.Fatalf("row %d column %d: %+v during warm-up", i, c, at)
				}
				sum += at.Score
			}
			if math.Abs(sum-b) > 1e-9 {
				t.Fatalf("shingle %d, row %d: columns add up to %v, score %v", shingle, i, sum, b)
			}
		}
		if !slices.ContainsFunc(expl.trees, func(st sampledTree) bool {
			return slices.ContainsFunc(st.tree.leafMass, func(m int32) bool { return m > 1 })
		}) {
			t.Fatalf("shingle %d: no tree holds a repeated point, so the test missed scoring repeats", shingle)
		}
	}
}

// TestDirection: a value far above the data in one column is HIGH and
// carries most of the score; far below is LOW.
func TestDirection(t *testing.T) {
	cfg := smallConfig(2, 1)
	cfg.Trees = 50
	f := mustNew(t, cfg)
	rng := rand.New(rand.NewPCG(8, 8))
	for range 500 {
		f.Update([]float64{rng.NormFloat64(), rng.NormFloat64()})
	}
	out := make([]Attribution, 2)
	for _, tc := range []struct {
		row  []float64
		col  int
		want Direction
	}{
		{[]float64{9, 0}, 0, High},
		{[]float64{0, -9}, 1, Low},
		{[]float64{-9, 0.1}, 0, Low},
	} {
		s := f.UpdateExplain(tc.row, out)
		a := out[tc.col]
		if s < 2 || a.Direction != tc.want || a.Score < 0.8*s || a.Strength < 0.9 {
			t.Errorf("%v: score %v, column %d %+v; want direction %v with most of the score", tc.row, s, tc.col, a, tc.want)
		}
	}
}

func TestExplanationJSON(t *testing.T) {
	got := Explanation([]string{"Systolic", "Diastolic"}, []Attribution{
		{Score: 0.37924, Direction: Low, Strength: 0.09216},
		{Score: 0.33226, Direction: High, Strength: 0.021},
	})
	want := `{"Systolic":{"DIRECTION":"LOW","STRENGTH":"0.0922","ATTRIBUTION_SCORE":"0.3792"},` +
		`"Diastolic":{"DIRECTION":"HIGH","STRENGTH":"0.0210","ATTRIBUTION_SCORE":"0.3323"}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !bytes.HasPrefix(AppendExplanation([]byte("x"), nil, nil), []byte("x{}")) {
		t.Fatal("AppendExplanation does not append")
	}
}

// TestLargestSample runs the largest sample (1000 points: node and leaf
// numbers near their 16-bit limits) with fast turnover and checks the trees.
func TestLargestSample(t *testing.T) {
	cfg := Config{Trees: 2, SampleSize: MaxSampleSize, TimeDecay: 1500, ShingleSize: 1, Columns: 1, Seed: 3}
	f := mustNew(t, cfg)
	rng := rand.New(rand.NewPCG(4, 4))
	for range 4000 {
		f.Update([]float64{rng.NormFloat64()})
	}
	for ti := range f.trees {
		st := &f.trees[ti]
		want := map[string]int{}
		for _, pid := range st.sampler.points {
			want[fmt.Sprint(f.points.point(pid))]++
		}
		if st.tree.mass != MaxSampleSize || len(st.tree.nodes) != MaxSampleSize-1 {
			t.Fatalf("tree %d: mass %d, %d nodes", ti, st.tree.mass, len(st.tree.nodes))
		}
		if err := checkTree(&st.tree, &f.points, want); err != nil {
			t.Fatalf("tree %d: %v", ti, err)
		}
	}
}

// TestConstantSeries: a series that never changes is one leaf per tree; the
// value itself scores 1/2 (a seen point holding the whole sample, at the
// root) and any other value log2(1+SampleSize), isolated at once.
func TestConstantSeries(t *testing.T) {
	cfg := smallConfig(1, 1)
	f := mustNew(t, cfg)
	for range 100 {
		f.Update([]float64{3})
	}
	out := make([]Attribution, 1)
	if s := f.UpdateExplain([]float64{3}, out); s != 0.5 || out[0].Score != 0.5 || out[0].Strength != 0 {
		t.Fatalf("the constant scored %v, %+v; want 0.5 with no direction", s, out[0])
	}
	want := math.Log2(1 + float64(cfg.SampleSize))
	if s := f.UpdateExplain([]float64{4}, out); math.Abs(s-want) > 1e-12 || out[0].Direction != High || out[0].Strength != 1 {
		t.Fatalf("another value scored %v, %+v; want %v, HIGH", s, out[0], want)
	}
}
