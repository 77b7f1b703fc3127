package exec

import "fmt"

// mergeableState is an aggState whose groups can be folded together: session
// windows merge when a row bridges two, and per-key windows are compacted and
// emitted by copying their groups into fresh states. other is always of the
// same concrete type as the receiver (it may be the receiver itself).
type mergeableState interface {
	aggState
	// mergeFrom folds group src of other into group dst of s.
	mergeFrom(dst int32, other aggState, src int32)
}

// checkMergeable reports an aggregate whose state cannot merge, for window
// kinds that need it.
func checkMergeable(spec *aggSpec, kind string) error {
	for i, f := range spec.aggStates {
		if _, ok := f().(mergeableState); !ok {
			return fmt.Errorf("%s windows do not support %s yet", kind, spec.stage.Aggs[i].Fn)
		}
	}
	return nil
}

func (s *countState) mergeFrom(dst int32, other aggState, src int32) {
	s.n[dst] += other.(*countState).n[src]
}

func (s *countDistinctState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*countDistinctState)
	if o == s && dst == src {
		return
	}
	for v := range o.sets[src] {
		s.sets[dst][v] = struct{}{}
	}
}

func (s *sumIntState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*sumIntState)
	a, b := s.sum[dst], o.sum[src]
	sum := a + b
	if (b > 0 && sum < a) || (b < 0 && sum > a) || o.overflow[src] {
		s.overflow[dst] = true
	}
	s.sum[dst] = sum
	s.n[dst] += o.n[src]
}

func (s *sumFloatState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*sumFloatState)
	s.sum[dst] += o.sum[src]
	s.n[dst] += o.n[src]
}

func (s *sumDecimalState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*sumDecimalState)
	s.sum[dst] = s.sum[dst].Add(o.sum[src])
	s.n[dst] += o.n[src]
	if o.overflow[src] || !s.sum[dst].FitsInPrecision(38) {
		s.overflow[dst] = true
	}
}

func (s *minMaxIntState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*minMaxIntState)
	if !o.seen[src] {
		return
	}
	v := o.v[src]
	if !s.seen[dst] || (s.max && v > s.v[dst]) || (!s.max && v < s.v[dst]) {
		s.v[dst], s.seen[dst] = v, true
	}
}

func (s *minMaxFloatState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*minMaxFloatState)
	if !o.seen[src] {
		return
	}
	v := o.v[src]
	if !s.seen[dst] || (s.max && floatLess(s.v[dst], v)) || (!s.max && floatLess(v, s.v[dst])) {
		s.v[dst], s.seen[dst] = v, true
	}
}

func (s *minMaxDecimalState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*minMaxDecimalState)
	if !o.seen[src] {
		return
	}
	v := o.v[src]
	if !s.seen[dst] || (s.max && v.Greater(s.v[dst])) || (!s.max && v.Less(s.v[dst])) {
		s.v[dst], s.seen[dst] = v, true
	}
}

func (s *minMaxStringState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*minMaxStringState)
	if !o.seen[src] {
		return
	}
	v := o.v[src]
	if !s.seen[dst] || (s.max && v > s.v[dst]) || (!s.max && v < s.v[dst]) {
		s.v[dst], s.seen[dst] = v, true
	}
}

func (s *minMaxBoolState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*minMaxBoolState)
	if !o.seen[src] {
		return
	}
	v := o.v[src]
	if !s.seen[dst] || (s.max && v && !s.v[dst]) || (!s.max && !v && s.v[dst]) {
		s.v[dst], s.seen[dst] = v, true
	}
}
