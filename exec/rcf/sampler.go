package rcf

import (
	"math"
	"math/rand/v2"
)

// sampler is one tree's time-decayed reservoir: weighted random sampling
// without replacement (Efraimidis and Spirakis) where the point that arrives
// at sequence number i has weight exp(lambda*i), lambda = 1/TimeDecay.
//
// Each point gets the key
//
//	key(i) = log(E_i) - lambda*i,  E_i ~ Exponential(1)
//
// and the reservoir keeps the SampleSize smallest keys (the AWS library
// writes the same key as log(-log(u)) - lambda*i). The key is the log of
// E_i/w_i, so a point stays against any later one in proportion to its
// weight: a point of age a survives as if its weight were exp(-lambda*a)
// times a new point's. In steady state, with tau the largest key kept, a
// point of age a is in the sample with probability
//
//	P(age a) = 1 - exp(-exp(tau + lambda*(now - a)))
//
// (tau moves with -lambda*now, so this depends on the age alone), which is
// about 1 for recent points and decays like exp(-lambda*a) for old ones: the
// sample spans roughly the last TimeDecay points.
//
// Drawing a key for every point and every tree would cost two logarithms per
// tree per row. Instead the sampler draws, once per acceptance, the sequence
// number of the next point it will accept: with threshold tau, point i is
// rejected with probability exp(-exp(tau + lambda*i)), so the points j..m are
// all rejected with probability exp(-S) where
//
//	S = exp(tau + lambda*j) * (exp(lambda*(m-j+1)) - 1) / (exp(lambda) - 1)
//
// and the first accepted point is the first m with S >= E, E ~ Exp(1):
//
//	m = j - 1 + ceil(log(1 + E*(exp(lambda)-1)*exp(-(tau+lambda*j))) / lambda)
//
// The accepted point's key is then drawn given that it is below tau
// (E truncated to [0, exp(tau+lambda*m))). Between acceptances the rows cost
// one comparison per tree. The two ways give the same distribution of
// samples; TestSamplerAgeDistribution checks the ages of sampled points
// against a sampler that draws every key and against P(age a) above.
type sampler struct {
	keys       []float64 // max-heap: keys[0] is the key evicted next
	points     []int32   // point store slot of each key
	nextAccept int64     // once full: the sequence number of the next point accepted
}

// decay holds lambda and what the sampler precomputes from it.
type decay struct {
	lambda         float64
	logExpm1Lambda float64 // log(exp(lambda) - 1)
}

func newDecay(timeDecay int) decay {
	l := 1 / float64(timeDecay)
	return decay{lambda: l, logExpm1Lambda: math.Log(math.Expm1(l))}
}

// offerResult says what happened to an offered point.
type offerResult uint8

const (
	rejected offerResult = iota
	added                // accepted while filling: nothing evicted
	replaced             // accepted: the returned slot was evicted
)

// offer shows the sampler the point in slot pid at sequence number seq.
// Sequence numbers must be offered in increasing order.
func (s *sampler) offer(seq int64, pid int32, capacity int, d decay, rng *rand.PCG) (offerResult, int32) {
	if len(s.keys) < capacity {
		key := math.Log(-math.Log(uniformOpen(rng))) - d.lambda*float64(seq)
		s.push(key, pid)
		if len(s.keys) == capacity {
			s.nextAccept = s.next(seq+1, d, rng)
		}
		return added, 0
	}
	if seq != s.nextAccept {
		return rejected, 0
	}
	tau := s.keys[0]
	// E given E < c, c = exp(tau + lambda*seq), by inverting its distribution.
	c := math.Exp(tau + d.lambda*float64(seq))
	e := -math.Log1p(uniformOpen(rng) * math.Expm1(-c))
	key := math.Log(max(e, math.SmallestNonzeroFloat64)) - d.lambda*float64(seq)
	if !(key < tau) {
		key = math.Nextafter(tau, math.Inf(-1))
	}
	evicted := s.points[0]
	s.keys[0], s.points[0] = key, pid
	s.down(0)
	s.nextAccept = s.next(seq+1, d, rng)
	return replaced, evicted
}

// next draws the sequence number of the next accepted point, from j on.
func (s *sampler) next(j int64, d decay, rng *rand.PCG) int64 {
	a := math.Log(-math.Log(uniformOpen(rng))) + d.logExpm1Lambda - (s.keys[0] + d.lambda*float64(j))
	l := a // log(1 + exp(a)), without overflow
	if a < 36 {
		l = math.Log1p(math.Exp(a))
	}
	n := math.Ceil(l / d.lambda)
	if n < 1 {
		n = 1
	}
	if n >= float64(math.MaxInt64-j) {
		return math.MaxInt64
	}
	return j + int64(n) - 1
}

func (s *sampler) push(key float64, pid int32) {
	s.keys = append(s.keys, key)
	s.points = append(s.points, pid)
	i := len(s.keys) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !(s.keys[p] < s.keys[i]) {
			break
		}
		s.swap(i, p)
		i = p
	}
}

func (s *sampler) down(i int) {
	n := len(s.keys)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.keys[r] > s.keys[l] {
			m = r
		}
		if !(s.keys[m] > s.keys[i]) {
			return
		}
		s.swap(i, m)
		i = m
	}
}

func (s *sampler) swap(i, j int) {
	s.keys[i], s.keys[j] = s.keys[j], s.keys[i]
	s.points[i], s.points[j] = s.points[j], s.points[i]
}

func (s *sampler) bytes() int { return cap(s.keys)*8 + cap(s.points)*4 + 8 }
