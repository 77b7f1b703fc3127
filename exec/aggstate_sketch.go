package exec

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/axiomhq/hyperloglog"
	tdigest "github.com/caio/go-tdigest/v5"

	"github.com/eddy-streams/eddy/sql/types"
)

// hllState is APPROX_COUNT_DISTINCT(x): a HyperLogLog sketch per group
// (github.com/axiomhq/hyperloglog, LogLog-Beta estimator, precision 14: 2^14
// one-byte registers). A group starts in the sketch's sparse form, which holds
// the hashes of the values seen so far and counts small sets almost exactly,
// and turns dense (16 KiB) as it grows. The standard error of the dense
// estimate is 1.04/sqrt(2^14) = 0.81%: about 95% of estimates are within 1.6%
// and 99.7% within 2.5% of the true count (TestApproxCountDistinctError
// measures it). Values are hashed by their key bytes (keyCodec, so 0 and -0
// count once) with the library's MetroHash64, which is fixed, so a sketch
// restored from a checkpoint keeps counting the same values the same way.
// NULLs are not counted; a group of NULLs gives 0.
type hllState struct {
	codec keyCodec
	// sketches[g] is nil until group g's first non-NULL value.
	// *hyperloglog.Sketch has MarshalBinary and UnmarshalBinary.
	sketches []*hyperloglog.Sketch
	buf      []byte
}

// hllPrecision is log2 of the number of HyperLogLog registers.
const hllPrecision = 14

func newHLLState(t types.Type) *hllState { return &hllState{codec: keyCodec{t: t}} }

func (s *hllState) addGroup() { s.sketches = append(s.sketches, nil) }

func (s *hllState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	key := s.codec.reader(arg)
	noNulls := arg.NullN() == 0
	for k, r := range rows {
		if !noNulls && arg.IsNull(int(r)) {
			continue
		}
		sk := s.sketches[gids[k]]
		if sk == nil {
			sk, _ = hyperloglog.NewSketch(hllPrecision, true) // the precision is valid
			s.sketches[gids[k]] = sk
		}
		s.buf = key(s.buf[:0], int(r))
		sk.Insert(s.buf)
	}
}

func (s *hllState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*hllState)
	from := o.sketches[src]
	switch {
	case from == nil || (o == s && dst == src):
	case s.sketches[dst] == nil:
		s.sketches[dst] = from.Clone()
	default:
		_ = s.sketches[dst].Merge(from) // same precision
	}
}

func (s *hllState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for _, sk := range s.sketches {
		if sk == nil {
			b.Append(0)
			continue
		}
		b.Append(int64(sk.Estimate()))
	}
	return b.NewArray(), nil
}

// percentileState is APPROX_PERCENTILE(x, q): an estimate of the continuous
// percentile (PERCENTILE_CONT) of the group's non-NULL values, the value at
// rank q*(n-1) of the sorted values, interpolated linearly between the two
// nearest ranks. NaN sorts above +Infinity (as in MIN and MAX).
//
// A group keeps its finite values exactly while it has at most
// percentileExact of them (the answer is then exact); past that they move
// into a t-digest (github.com/caio/go-tdigest/v5, compression 100). A t-digest
// has no hard error bound; TestApproxPercentileAccuracy holds its rank error
// (how far the estimate's rank among the true values is from q*n) within 0.1%
// of n for 0.05 <= q <= 0.95 and 0.05% at the tails, over 100,000 values of
// uniform, normal, exponential, lognormal, sorted and few-valued data
// (observed at most 0.02%). Infinities and NaNs are counted, not put in the
// digest, and take their places at the ends of the order.
type percentileState struct {
	q     float64
	scale int32 // of a DECIMAL argument
	// exact[g] holds group g's finite values until it has more than
	// percentileExact of them; then digests[g] holds them instead.
	exact [][]float64
	// A checkpoint saves a digest's centroids exactly (means as float64, not
	// the library's AsBytes, which rounds them to float32 deltas) and
	// rebuilds it centroid by centroid: see percentileState.load.
	digests []*tdigest.TDigest
	// Non-finite values of each group.
	negInf, posInf, nan []int64
	// rng drives the digests' merge choices; a fixed seed makes a run
	// repeatable, and a checkpoint saves its state.
	rng *digestRNG
}

// percentileExact is how many finite values a group keeps exactly before it
// uses a t-digest.
const percentileExact = 1024

// digestCompression is the t-digest's compression: about that many centroids
// after compression, up to 20 times as many between compressions.
const digestCompression = 100

func newPercentileState(t types.Type, q float64) *percentileState {
	return &percentileState{q: q, scale: t.Scale, rng: newDigestRNG()}
}

func (s *percentileState) addGroup() {
	s.exact = append(s.exact, nil)
	s.digests = append(s.digests, nil)
	s.negInf = append(s.negInf, 0)
	s.posInf = append(s.posInf, 0)
	s.nan = append(s.nan, 0)
}

func (s *percentileState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	forEachFloat(arg, s.scale, rows, func(k int, x float64) {
		g := gids[k]
		switch {
		case math.IsNaN(x):
			s.nan[g]++
		case math.IsInf(x, 1):
			s.posInf[g]++
		case math.IsInf(x, -1):
			s.negInf[g]++
		default:
			s.addFinite(g, x)
		}
	})
}

// addFinite adds a finite value to group g.
func (s *percentileState) addFinite(g int32, x float64) {
	switch {
	case s.digests[g] != nil:
		_ = s.digests[g].Add(x) // fails only for NaN
	case len(s.exact[g]) < percentileExact:
		s.exact[g] = append(s.exact[g], x)
	default:
		s.toDigest(g)
		_ = s.digests[g].Add(x)
	}
}

// toDigest moves group g's exact values into a new t-digest.
func (s *percentileState) toDigest(g int32) {
	d, _ := tdigest.New(tdigest.Compression(digestCompression), tdigest.RandomNumberGenerator(s.rng)) // valid options
	for _, v := range s.exact[g] {
		_ = d.Add(v)
	}
	s.digests[g], s.exact[g] = d, nil
}

func (s *percentileState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*percentileState)
	if o == s && dst == src {
		return
	}
	s.negInf[dst] += o.negInf[src]
	s.posInf[dst] += o.posInf[src]
	s.nan[dst] += o.nan[src]
	if o.digests[src] == nil {
		for _, x := range o.exact[src] {
			s.addFinite(dst, x)
		}
		return
	}
	if s.digests[dst] == nil {
		s.toDigest(dst)
	}
	_ = s.digests[dst].Merge(o.digests[src]) // same compression
}

func (s *percentileState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	for g := range s.exact {
		if v, ok := s.result(g); ok {
			b.Append(v)
		} else {
			b.AppendNull()
		}
	}
	return b.NewArray(), nil
}

// result is group g's percentile, and false when it has no value.
func (s *percentileState) result(g int) (float64, bool) {
	var finite int64
	var quantile func(q float64) float64 // of the finite values
	var at func(r int64) float64         // the finite value of rank r
	if d := s.digests[g]; d != nil {
		finite = int64(d.Count())
		quantile = d.Quantile
		at = func(r int64) float64 { return d.Quantile(float64(r) / float64(max(finite-1, 1))) }
	} else {
		vals := s.exact[g]
		slices.Sort(vals)
		finite = int64(len(vals))
		quantile = func(q float64) float64 { return exactPercentile(vals, q) }
		at = func(r int64) float64 { return vals[r] }
	}
	neg, pos, nan := s.negInf[g], s.posInf[g], s.nan[g]
	n := neg + finite + pos + nan
	if n == 0 {
		return 0, false
	}
	rank := func(r int64) float64 {
		switch {
		case r < neg:
			return math.Inf(-1)
		case r < neg+finite:
			return at(r - neg)
		case r < neg+finite+pos:
			return math.Inf(1)
		}
		return math.NaN()
	}
	pos64 := s.q * float64(n-1)
	lo := int64(math.Floor(pos64))
	hi := min(lo+1, n-1)
	frac := pos64 - float64(lo)
	switch {
	case frac == 0 || lo == hi:
		return rank(lo), true
	case lo >= neg && hi < neg+finite: // both ranks finite: the digest interpolates
		if finite == 1 {
			return at(0), true
		}
		return quantile((pos64 - float64(neg)) / float64(finite-1)), true
	}
	return lerp(rank(lo), rank(hi), frac), true
}

// exactPercentile is the continuous percentile q of sorted values.
func exactPercentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	p := q * float64(n-1)
	lo := int(math.Floor(p))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return lerp(sorted[lo], sorted[lo+1], p-float64(lo))
}

// lerp interpolates between a <= b (or b NaN); an infinite end gives that
// infinity (NaN for -Infinity to +Infinity).
func lerp(a, b, frac float64) float64 {
	switch {
	case frac == 0 || a == b:
		return a
	case math.IsInf(a, 0) || math.IsInf(b, 0):
		return a*(1-frac) + b*frac
	}
	return a + frac*(b-a)
}

// digestRNG is the random source of a window's t-digests (tdigest.RNG),
// shared by its groups: one small PCG instead of a math/rand source per digest.
// The PCG is kept so that a checkpoint can save and restore its state
// (rand.Rand holds no state of its own).
type digestRNG struct {
	pcg *rand.PCG
	r   *rand.Rand
}

func newDigestRNG() *digestRNG { return digestRNGOf(rand.NewPCG(0x7d1e, 0x5eed)) }

func digestRNGOf(pcg *rand.PCG) *digestRNG { return &digestRNG{pcg: pcg, r: rand.New(pcg)} }

func (d *digestRNG) Float32() float32 { return d.r.Float32() }
func (d *digestRNG) Intn(n int) int   { return d.r.IntN(n) }
func (d *digestRNG) Clone() tdigest.RNG {
	return digestRNGOf(rand.NewPCG(d.r.Uint64(), d.r.Uint64()))
}
