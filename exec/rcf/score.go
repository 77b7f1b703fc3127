package rcf

import "math"

// The scoring functions of the AWS library's standard anomaly score: a point
// isolated at depth d scores 1/(d+1); a point equal to a sampled one (a leaf
// of mass m) scores 1/(d + log2(1+m)), damped by 1 - m/(2*treeMass); the tree's
// score is then multiplied by log2(1+treeMass), so that an ordinary point
// (isolated near the expected depth of a tree of that mass) scores about 1.
func scoreUnseen(depth int) float64 { return 1 / float64(depth+1) }

func scoreSeen(depth int, leafMass int32) float64 {
	return 1 / (float64(depth) + math.Log2(1+float64(leafMass)))
}

func damp(leafMass, treeMass int32) float64 { return 1 - float64(leafMass)/(2*float64(treeMass)) }

func normaliser(treeMass int32) float64 { return math.Log2(1 + float64(treeMass)) }

// descend follows p's cuts to a leaf, appending the internal nodes on the way
// to path (the root first); path[i] is at depth i.
func (t *tree) descend(p []float64, path []int32) ([]int32, int32) {
	path = path[:0]
	cur := t.root
	for cur >= 0 {
		path = append(path, cur)
		cur = t.nodes[cur].child(p)
	}
	return path, ^cur
}

// separation is the probability that a random cut of the box lo..hi extended
// by p separates p from the box: the range p adds over the extended range.
func separation(p, lo, hi []float64) float64 {
	var grow, span float64
	hi = hi[:len(p)]
	lo = lo[:len(p)]
	for i, x := range p {
		l, h := lo[i], hi[i]
		span += h - l
		if x > h {
			grow += x - h
		} else if x < l {
			grow += l - x
		}
	}
	if grow <= 0 {
		return 0
	}
	return grow / (span + grow)
}

// score is the tree's anomaly score of p without changing the tree: the
// expected isolation score over the random cuts the tree could have drawn if
// p had been inserted (the AWS library's scalar score visitor). Walking up
// from p's leaf, each node separates p with probability q; then p would have
// been isolated at that node's depth. Once p lies inside a box q is 0 for it
// and every ancestor, so the walk stops.
// norm is normaliser(t.mass), which the caller caches.
func (t *tree) score(p []float64, ps *pointStore, path []int32, norm float64) ([]int32, float64) {
	if t.mass == 0 {
		return path, 0
	}
	path, leaf := t.descend(p, path)
	depth := len(path)
	mass := t.leafMass[leaf]
	if equalPoints(ps.point(t.leafPoint[leaf]), p) {
		return path, damp(mass, t.mass) * scoreSeen(depth, mass) * norm
	}
	s := scoreUnseen(depth)
	for d := depth - 1; d >= 0; d-- {
		lo, hi := t.box(path[d])
		q := separation(p, lo, hi)
		if q == 0 {
			break
		}
		s = q*scoreUnseen(d) + (1-q)*s
	}
	return path, s * norm
}

// attribution is the per-dimension split of a score: high[i] is the part
// due to p being above the data in dimension i, low[i] below.
type attribution struct {
	high, low []float64
}

func newAttribution(dims int) attribution {
	return attribution{high: make([]float64, dims), low: make([]float64, dims)}
}

func (a attribution) clear() {
	clear(a.high)
	clear(a.low)
}

func (a attribution) total() float64 {
	var s float64
	for i := range a.high {
		s += a.high[i] + a.low[i]
	}
	return s
}

// explainScratch is the working space of explain, reused across trees.
type explainScratch struct {
	acc, prob attribution
	shadowLo  []float64
	shadowHi  []float64
}

func newExplainScratch(dims int) explainScratch {
	return explainScratch{
		acc: newAttribution(dims), prob: newAttribution(dims),
		shadowLo: make([]float64, dims), shadowHi: make([]float64, dims),
	}
}

// cutProbabilities sets prob to the probability that a random cut of the box
// extended by p separates p in each dimension and direction, and returns
// their sum (separation's value).
func cutProbabilities(prob attribution, p, lo, hi []float64) float64 {
	var grow, span float64
	for i, x := range p {
		l, h := lo[i], hi[i]
		span += h - l
		var up, down float64
		if x > h {
			up = x - h
		} else if x < l {
			down = l - x
		}
		prob.high[i], prob.low[i] = up, down
		grow += up + down // one of them is 0: the same sum as separation's
	}
	if grow <= 0 {
		return 0
	}
	span += grow
	for i := range p {
		prob.high[i] /= span
		prob.low[i] /= span
	}
	return grow / span
}

// explain returns the tree's score of p, the same value score returns, and
// adds its split by dimension and direction into sum (the AWS library's
// attribution visitor). Each node's chance to isolate p is spread over the
// dimensions in proportion to how far p sticks out of the box in each; the
// split is then scaled to add up to the score. For a point equal to a sampled
// one, the split follows the boxes without that leaf (its "shadow"), which
// tells in which directions p differs from its neighbours.
func (t *tree) explain(p []float64, ps *pointStore, path []int32, norm float64, sc *explainScratch, sum attribution) ([]int32, float64) {
	if t.mass == 0 {
		return path, 0
	}
	path, leaf := t.descend(p, path)
	depth := len(path)
	mass := t.leafMass[leaf]
	acc := sc.acc
	acc.clear()
	var s float64
	if equalPoints(ps.point(t.leafPoint[leaf]), p) {
		s = damp(mass, t.mass) * scoreSeen(depth, mass)
		child := ^leaf
		for d := depth - 1; d >= 0; d-- {
			nd := &t.nodes[path[d]]
			sib := int32(nd.left)
			if sib == child {
				sib = int32(nd.right)
			}
			lo, hi := t.childBox(sib, ps)
			if d == depth-1 {
				copy(sc.shadowLo, lo)
				copy(sc.shadowHi, hi)
			} else {
				for i := range lo {
					sc.shadowLo[i] = min(sc.shadowLo[i], lo[i])
					sc.shadowHi[i] = max(sc.shadowHi[i], hi[i])
				}
			}
			child = path[d]
			q := cutProbabilities(sc.prob, p, sc.shadowLo, sc.shadowHi)
			if q == 0 {
				break
			}
			accumulate(acc, sc.prob, q, scoreUnseen(d))
		}
	} else {
		s = scoreUnseen(depth)
		q0 := cutProbabilities(sc.prob, p, ps.point(t.leafPoint[leaf]), ps.point(t.leafPoint[leaf]))
		accumulate(acc, sc.prob, q0, s)
		for d := depth - 1; d >= 0; d-- {
			lo, hi := t.box(path[d])
			q := cutProbabilities(sc.prob, p, lo, hi)
			if q == 0 {
				break
			}
			s = q*scoreUnseen(d) + (1-q)*s
			accumulate(acc, sc.prob, q, scoreUnseen(d))
		}
	}
	score := s * norm
	// Scale the split to the score; a split of nothing (p inside every shadow
	// box) is spread evenly, with no direction.
	if tot := acc.total(); tot > 0 {
		f := score / tot
		for i := range acc.high {
			sum.high[i] += acc.high[i] * f
			sum.low[i] += acc.low[i] * f
		}
	} else {
		v := score / float64(2*len(acc.high))
		for i := range acc.high {
			sum.high[i] += v
			sum.low[i] += v
		}
	}
	return path, score
}

// accumulate is acc = (1-q)*acc + v*prob, where prob sums to q.
func accumulate(acc, prob attribution, q, v float64) {
	for i := range acc.high {
		acc.high[i] = (1-q)*acc.high[i] + v*prob.high[i]
		acc.low[i] = (1-q)*acc.low[i] + v*prob.low[i]
	}
}
