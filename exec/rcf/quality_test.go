package rcf

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// labelled is a generated series with its anomalies marked. Rows marked
// ignore are neither: with shingling, the rows just after an anomaly still
// hold it in their shingle, so they count neither for nor against a method.
type labelled struct {
	rows    [][]float64
	anomaly []bool
	ignore  []bool
}

func newLabelled(n int) labelled {
	return labelled{rows: make([][]float64, n), anomaly: make([]bool, n), ignore: make([]bool, n)}
}

// auc is the area under the ROC curve: the chance that a random anomaly
// scores above a random normal row (ties count half), by the rank-sum
// formula with average ranks for ties.
func auc(scores []float64, positive []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSum float64
	var pos, neg int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for _, k := range idx[i:j] {
			if positive[k] {
				rankSum += avg
			}
		}
		i = j
	}
	for _, p := range positive {
		if p {
			pos++
		} else {
			neg++
		}
	}
	return (rankSum - float64(pos*(pos+1))/2) / float64(pos*neg)
}

// precisionAtK is the share of anomalies among the k highest scores, k the
// number of anomalies.
func precisionAtK(scores []float64, positive []bool) float64 {
	idx := make([]int, len(scores))
	k := 0
	for i := range idx {
		idx[i] = i
		if positive[i] {
			k++
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	hits := 0
	for _, i := range idx[:k] {
		if positive[i] {
			hits++
		}
	}
	return float64(hits) / float64(k)
}

// rollingZ is the baseline: for each row the largest |x - mean| / stddev over
// its columns, with mean and stddev of the previous window rows.
func rollingZ(rows [][]float64, window int) []float64 {
	out := make([]float64, len(rows))
	for t := window; t < len(rows); t++ {
		for c := range rows[t] {
			var s, ss float64
			for _, r := range rows[t-window : t] {
				s += r[c]
				ss += r[c] * r[c]
			}
			mean := s / float64(window)
			sd := math.Sqrt(max(ss/float64(window)-mean*mean, 1e-12))
			out[t] = max(out[t], math.Abs(rows[t][c]-mean)/sd)
		}
	}
	return out
}

type quality struct{ rcfAUC, zAUC, rcfPrec, zPrec float64 }

// evaluate runs a forest and the baseline over the series and measures both
// on the rows after the forest's warm-up that are not ignored.
func evaluate(t *testing.T, name string, cfg Config, data labelled) quality {
	t.Helper()
	f := mustNew(t, cfg)
	rcf := make([]float64, len(data.rows))
	for i, r := range data.rows {
		rcf[i] = f.Update(r)
	}
	z := rollingZ(data.rows, 100)
	start := cfg.SampleSize + cfg.ShingleSize - 1
	var rs, zs []float64
	var pos []bool
	for i := start; i < len(rcf); i++ {
		if data.ignore[i] {
			continue
		}
		rs, zs, pos = append(rs, rcf[i]), append(zs, z[i]), append(pos, data.anomaly[i])
	}
	q := quality{auc(rs, pos), auc(zs, pos), precisionAtK(rs, pos), precisionAtK(zs, pos)}
	n := 0
	for _, p := range pos {
		if p {
			n++
		}
	}
	t.Logf("%-13s %d trees, rows %d, anomalies %d: RCF AUC %.3f precision@%d %.3f | rolling z-score AUC %.3f precision@%d %.3f",
		name, cfg.Trees, len(pos), n, q.rcfAUC, n, q.rcfPrec, q.zAUC, n, q.zPrec)
	return q
}

// eventTimes picks anomaly times after start, at least gap apart.
func eventTimes(rng *rand.Rand, start, n, count, gap int) []int {
	var ts []int
	for len(ts) < count {
		c := start + rng.IntN(n-start-gap)
		if !slices.ContainsFunc(ts, func(x int) bool { return x > c-gap && x < c+gap }) {
			ts = append(ts, c)
		}
	}
	return ts
}

// spikes: a noisy sine (amplitude 10, noise 1) with 1% of rows pushed up or
// down by 6 to 9. Many spikes stay inside the sine's range; a shingle of 4
// shows them against their neighbours.
func spikes(n int, seed uint64) labelled {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := newLabelled(n)
	for i := range d.rows {
		d.rows[i] = []float64{10*math.Sin(2*math.Pi*float64(i)/60) + rng.NormFloat64()}
	}
	for _, e := range eventTimes(rng, 300, n, n/100, 8) {
		d.rows[e][0] += float64(1-2*rng.IntN(2)) * (6 + 3*rng.Float64())
		d.anomaly[e] = true
		for j := e + 1; j < e+4 && j < n; j++ {
			d.ignore[j] = true
		}
	}
	return d
}

// levelShifts: noise around a level that jumps by 4 to 6 every 400 to 600
// rows; the first 5 rows at a new level are the anomalies.
func levelShifts(n int, seed uint64) labelled {
	rng := rand.New(rand.NewPCG(seed, 2))
	d := newLabelled(n)
	level, next := 0.0, 500
	for i := range d.rows {
		if i == next {
			level += float64(1-2*rng.IntN(2)) * (4 + 2*rng.Float64())
			next += 400 + rng.IntN(200)
			for j := i; j < i+5 && j < n; j++ {
				d.anomaly[j] = true
			}
		}
		d.rows[i] = []float64{level + rng.NormFloat64()}
	}
	return d
}

// correlated: two columns that follow one signal (uniform over -10..10) with
// noise 0.5; 1% of rows move the second column 4 to 6 towards the middle,
// so each column stays in its usual range but the pair leaves the diagonal.
func correlated(n int, seed uint64) labelled {
	rng := rand.New(rand.NewPCG(seed, 3))
	d := newLabelled(n)
	for i := range d.rows {
		s := 20*rng.Float64() - 10
		d.rows[i] = []float64{s + 0.5*rng.NormFloat64(), s + 0.5*rng.NormFloat64()}
	}
	for _, e := range eventTimes(rng, 300, n, n/100, 3) {
		r := d.rows[e]
		off := 4 + 2*rng.Float64()
		if r[1] > 0 {
			off = -off
		}
		r[1] += off
		d.anomaly[e] = true
	}
	return d
}

// phaseJumps: a clean sine (period 40, noise 0.05) that jumps half a cycle
// at a few times, so every value stays in range; the 8 rows whose shingle
// spans a jump are the anomalies.
func phaseJumps(n, shingle int, seed uint64) labelled {
	rng := rand.New(rand.NewPCG(seed, 4))
	d := newLabelled(n)
	events := eventTimes(rng, 400, n, n/300, 100)
	phase := 0.0
	for i := range d.rows {
		if slices.Contains(events, i) {
			phase += math.Pi
			for j := i; j < i+shingle && j < n; j++ {
				d.anomaly[j] = true
			}
		}
		d.rows[i] = []float64{math.Sin(2*math.Pi*float64(i)/40+phase) + 0.05*rng.NormFloat64()}
	}
	return d
}

// TestQuality measures RCF against a rolling z-score (window 100) on four
// labelled series; the figures go to the log (go test -v -run Quality).
func TestQuality(t *testing.T) {
	const n = 3000
	cfg := DefaultConfig(1)
	cfg.Seed = 1
	cfg.Trees = qualityTrees

	spk := cfg
	spk.ShingleSize = 4
	q := evaluate(t, "spikes", spk, spikes(n, 1))
	if q.rcfAUC < 0.95 {
		t.Errorf("spikes: RCF AUC %.3f, want >= 0.95", q.rcfAUC)
	}

	q = evaluate(t, "level shifts", cfg, levelShifts(n, 2))
	if q.rcfAUC < 0.8 {
		t.Errorf("level shifts: RCF AUC %.3f, want >= 0.8", q.rcfAUC)
	}
	// With the default timeDecay the forest remembers the old level for long
	// after a shift, so rows well after it still look new; a shorter memory,
	// closer to the baseline's window, forgets it sooner.
	short := cfg
	short.TimeDecay = 1000
	q = evaluate(t, "level/td=1000", short, levelShifts(n, 2))
	if q.rcfAUC < 0.8 {
		t.Errorf("level shifts, timeDecay 1000: RCF AUC %.3f, want >= 0.8", q.rcfAUC)
	}

	two := cfg
	two.Columns = 2
	q = evaluate(t, "multi-column", two, correlated(n, 3))
	if q.rcfAUC < 0.95 || q.rcfAUC <= q.zAUC || q.rcfPrec <= q.zPrec {
		t.Errorf("multi-column: RCF AUC %.3f precision %.3f, z-score %.3f %.3f; want RCF >= 0.95 and better", q.rcfAUC, q.rcfPrec, q.zAUC, q.zPrec)
	}

	sh := cfg
	sh.ShingleSize = 8
	q = evaluate(t, "shingled", sh, phaseJumps(n, 8, 4))
	if q.rcfAUC <= q.zAUC || q.rcfPrec <= q.zPrec {
		t.Errorf("shingled: RCF AUC %.3f precision %.3f, z-score %.3f %.3f; want RCF better", q.rcfAUC, q.rcfPrec, q.zAUC, q.zPrec)
	}
}

// TestAUCOracle pins the metric helpers on cases worked by hand.
func TestAUCOracle(t *testing.T) {
	pos := []bool{false, true, false, true}
	if a := auc([]float64{1, 2, 3, 4}, pos); a != 0.75 { // pairs (2>1) (4>1) (4>3) won, (2<3) lost
		t.Fatalf("auc %v, want 0.75", a)
	}
	if a := auc([]float64{1, 1, 1, 1}, pos); a != 0.5 {
		t.Fatalf("auc with all ties %v, want 0.5", a)
	}
	if p := precisionAtK([]float64{1, 2, 3, 4}, pos); p != 0.5 {
		t.Fatalf("precision %v, want 0.5", p)
	}
}
