package rcf

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveSampler is the definition the skip-ahead sampler must match: a key
// log(-log(u)) - lambda*i for every point, keeping the capacity smallest.
type naiveSampler struct {
	keys  []float64
	seqs  []int64
	worst int // index of the largest key
}

func (s *naiveSampler) offer(seq int64, capacity int, lambda float64, rng *rand.Rand) {
	key := math.Log(-math.Log(1-rng.Float64())) - lambda*float64(seq)
	if len(s.keys) < capacity {
		s.keys = append(s.keys, key)
		s.seqs = append(s.seqs, seq)
	} else if key < s.keys[s.worst] {
		s.keys[s.worst], s.seqs[s.worst] = key, seq
	} else {
		return
	}
	s.worst = 0
	for i, k := range s.keys {
		if k > s.keys[s.worst] {
			s.worst = i
		}
	}
}

// predictedAgeProbabilities is the steady-state chance that a point of age a
// (0 = newest) is in a sample of size capacity out of n points: 1 -
// exp(-exp(theta - lambda*a)), with theta set so that they add up to the
// capacity (found by bisection).
func predictedAgeProbabilities(n, capacity int, lambda float64) []float64 {
	p := make([]float64, n)
	fill := func(theta float64) float64 {
		var sum float64
		for a := range p {
			p[a] = -math.Expm1(-math.Exp(theta - lambda*float64(a)))
			sum += p[a]
		}
		return sum
	}
	lo, hi := -50.0, 50.0
	for range 200 {
		mid := (lo + hi) / 2
		if fill(mid) < float64(capacity) {
			lo = mid
		} else {
			hi = mid
		}
	}
	fill((lo + hi) / 2)
	return p
}

// TestSamplerAgeDistribution measures the ages of the points the samplers
// hold after a long stream and compares them (1) with a naive sampler that
// draws a key for every point, by a two-sample chi-square test, and (2) with
// the distribution the decay formula predicts.
func TestSamplerAgeDistribution(t *testing.T) {
	const (
		samplers  = 200
		capacity  = 64
		timeDecay = 1000
		n         = 12000
	)
	d := newDecay(timeDecay)
	var fast, naive []int64 // ages
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range samplers {
		var s sampler
		pcg := rand.NewPCG(uint64(i), 17)
		var ns naiveSampler
		for seq := range int64(n) {
			s.offer(seq, int32(seq), capacity, d, pcg)
			ns.offer(seq, capacity, d.lambda, rng)
		}
		if len(s.points) != capacity {
			t.Fatalf("sampler holds %d points", len(s.points))
		}
		for _, pid := range s.points {
			fast = append(fast, n-1-int64(pid))
		}
		for _, seq := range ns.seqs {
			naive = append(naive, n-1-seq)
		}
	}

	// Buckets of equal predicted mass.
	pred := predictedAgeProbabilities(n, capacity, d.lambda)
	const buckets = 16
	var edges []int // bucket b holds ages [edges[b-1], edges[b])
	var cum float64
	for a, p := range pred {
		cum += p
		if cum >= float64(len(edges)+1)*capacity/buckets && len(edges) < buckets-1 {
			edges = append(edges, a+1)
		}
	}
	edges = append(edges, n)
	hist := func(ages []int64) []float64 {
		h := make([]float64, buckets)
		for _, a := range ages {
			b, _ := slices.BinarySearch(edges, int(a)+1)
			h[b]++
		}
		return h
	}
	hf, hn := hist(fast), hist(naive)
	var chi2 float64
	for b := range hf {
		if s := hf[b] + hn[b]; s > 0 {
			chi2 += (hf[b] - hn[b]) * (hf[b] - hn[b]) / s
		}
	}
	// 15 degrees of freedom: P(chi2 > 50) is below 1e-5.
	if chi2 > 50 {
		t.Errorf("skip-ahead and naive samplers differ: chi-square %.1f over %d buckets\nskip-ahead %v\nnaive      %v", chi2, buckets, hf, hn)
	}
	mean := func(ages []int64) float64 {
		var s float64
		for _, a := range ages {
			s += float64(a)
		}
		return s / float64(len(ages))
	}
	var predMean float64
	for a, p := range pred {
		predMean += float64(a) * p
	}
	predMean /= capacity
	expect := float64(samplers*capacity) / buckets
	var worst float64
	for b := range hf {
		worst = max(worst, math.Abs(hf[b]-expect)/expect)
	}
	t.Logf("mean age: skip-ahead %.1f, naive %.1f, formula %.1f; chi-square %.1f; worst bucket off the formula by %.1f%%",
		mean(fast), mean(naive), predMean, chi2, 100*worst)
	// The formula holds the threshold fixed where a real sample's moves, so
	// allow a few percent.
	if math.Abs(mean(fast)-predMean) > 0.05*predMean || worst > 0.12 {
		t.Errorf("ages differ from the formula: mean %.1f, predicted %.1f, a bucket off by %.1f%%\n%v", mean(fast), predMean, 100*worst, hf)
	}
}

// TestSamplerAcceptanceRate: in steady state a sampler accepts a new point
// with the formula's probability for age 0 (about capacity/timeDecay).
func TestSamplerAcceptanceRate(t *testing.T) {
	const capacity, timeDecay, n = 50, 500, 200000
	d := newDecay(timeDecay)
	var s sampler
	rng := rand.NewPCG(1, 1)
	accepted := 0
	for seq := range int64(n) {
		if r, _ := s.offer(seq, int32(seq), capacity, d, rng); r == replaced && seq >= n/2 {
			accepted++
		}
	}
	rate := float64(accepted) / (n / 2)
	want := predictedAgeProbabilities(40*timeDecay, capacity, d.lambda)[0]
	if math.Abs(rate-want) > 0.05*want {
		t.Fatalf("accepts %.4f per point, want about %.4f", rate, want)
	}
}
