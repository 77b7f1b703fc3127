package exec

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql/types"
)

// varianceState is VAR_POP, VAR_SAMP, STDDEV_POP or STDDEV_SAMP over a
// numeric argument (BIGINT and DECIMAL are read as DOUBLE), by Welford's
// online algorithm over shifted data: per group the count, a shift (the
// group's first value), the mean of the values minus the shift and the sum of
// their squared differences from that mean (m2), each value x updating them as
//
//	n++; y := x - shift; d := y - mean; mean += d / n; m2 += d * (y - mean)
//
// Unlike sum-of-squares formulas this loses no precision when the mean is
// large against the spread, and the shift keeps the running mean small, so
// rounding it does not cost digits either (values 1e9 + U(0,1) keep 15
// digits; TestVarianceIsNumericallyStable). m2 never decreases, so it is
// never negative. Results: NULL for no (non-NULL) value; the sample forms are
// NULL for one value (n-1 = 0); NaN in, NaN out; an infinity gives NaN.
type varianceState struct {
	samp, sqrt bool
	scale      int32 // of a DECIMAL argument
	n          []int64
	shift      []float64
	mean, m2   []float64
}

func newVarianceState(fn string, argT types.Type) *varianceState {
	return &varianceState{
		samp:  fn == "var_samp" || fn == "stddev_samp",
		sqrt:  fn == "stddev_pop" || fn == "stddev_samp",
		scale: argT.Scale,
	}
}

func (s *varianceState) addGroup() {
	s.n = append(s.n, 0)
	s.shift = append(s.shift, 0)
	s.mean = append(s.mean, 0)
	s.m2 = append(s.m2, 0)
}

func (s *varianceState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	forEachFloat(arg, s.scale, rows, func(k int, x float64) {
		g := gids[k]
		if s.n[g] == 0 {
			s.shift[g] = x
		}
		s.n[g]++
		y := x - s.shift[g]
		d := y - s.mean[g]
		s.mean[g] += d / float64(s.n[g])
		s.m2[g] += d * (y - s.mean[g])
	})
}

// mergeFrom folds group src of other into group dst (Chan et al.'s pairwise
// update: the combined m2 adds the squared distance of the means, weighted).
func (s *varianceState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*varianceState)
	nb := o.n[src]
	if nb == 0 {
		return
	}
	na := s.n[dst]
	if na == 0 {
		s.n[dst], s.shift[dst], s.mean[dst], s.m2[dst] = nb, o.shift[src], o.mean[src], o.m2[src]
		return
	}
	n := float64(na + nb)
	d := (o.shift[src] - s.shift[dst]) + (o.mean[src] - s.mean[dst]) // difference of the true means
	s.mean[dst] += d * float64(nb) / n
	s.m2[dst] += o.m2[src] + d*d*float64(na)*float64(nb)/n
	s.n[dst] = na + nb
}

// result is the group's value and whether it is not NULL.
func (s *varianceState) result(g int) (float64, bool) {
	n := s.n[g]
	if n == 0 || (s.samp && n == 1) {
		return 0, false
	}
	d := float64(n)
	if s.samp {
		d--
	}
	v := s.m2[g] / d
	if s.sqrt {
		v = math.Sqrt(v)
	}
	return v, true
}

func (s *varianceState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	for g := range s.n {
		if v, ok := s.result(g); ok {
			b.Append(v)
		} else {
			b.AppendNull()
		}
	}
	return b.NewArray(), nil
}
