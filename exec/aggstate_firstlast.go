package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql/types"
)

// firstLastState is FIRST_VALUE(x) or LAST_VALUE(x): the non-NULL x of the
// group's row with the smallest (FIRST) or largest (LAST) event time. Among
// rows of equal time FIRST keeps the first to arrive and LAST the last to
// arrive (arrival: the order the state receives rows, which is each source
// split's order; rows of different splits interleave as they are read). Per
// group it holds the value, its time, its arrival number (seq, which keeps the
// tie rule exact when session windows merge groups) and whether one was seen.
type firstLastState[T any] struct {
	last bool
	t    types.Type // of the argument (checkpoints check it)
	col  valueColumn[T]
	v    []T
	at   []int64
	seq  []uint64
	seen []bool
	next uint64 // the arrival number of the next non-NULL row
	// scratch for one update: the winning row of each group it changed, so a
	// value is copied out of the batch once per group, not once per row
	pend    []int32
	touched []int32
}

// newFirstLastState returns a maker of FIRST_VALUE / LAST_VALUE states over
// arguments of type t.
func newFirstLastState(t types.Type, last bool) (func() aggState, error) {
	switch t.Kind {
	case types.BigInt:
		return firstLastMaker(t, int64Column(), last), nil
	case types.Timestamp:
		return firstLastMaker(t, timestampColumn(), last), nil
	case types.Double:
		return firstLastMaker(t, float64Column(), last), nil
	case types.Decimal:
		return firstLastMaker(t, decimalColumn(t), last), nil
	case types.Varchar, types.JSON:
		return firstLastMaker(t, stringColumn(), last), nil
	case types.Boolean:
		return firstLastMaker(t, boolColumn(), last), nil
	}
	return nil, fmt.Errorf("FIRST_VALUE and LAST_VALUE over %s are not supported", t)
}

func firstLastMaker[T any](t types.Type, col valueColumn[T], last bool) func() aggState {
	return func() aggState { return &firstLastState[T]{last: last, t: t, col: col} }
}

func (s *firstLastState[T]) addGroup() {
	var zero T
	s.v = append(s.v, zero)
	s.at = append(s.at, 0)
	s.seq = append(s.seq, 0)
	s.seen = append(s.seen, false)
	s.pend = append(s.pend, -1)
}

// wins says whether a value at time t with arrival number seq replaces group g's.
func (s *firstLastState[T]) wins(g int32, t int64, seq uint64) bool {
	switch {
	case !s.seen[g]:
		return true
	case t != s.at[g]:
		return (t > s.at[g]) == s.last
	}
	return (seq > s.seq[g]) == s.last
}

func (s *firstLastState[T]) update(arg arrow.Array, times []int64, rows, gids []int32) {
	value := s.col.reader(arg)
	noNulls := arg.NullN() == 0
	for k, r := range rows {
		if !noNulls && arg.IsNull(int(r)) {
			continue
		}
		g, t, seq := gids[k], times[r], s.next
		s.next++
		if s.wins(g, t, seq) {
			s.at[g], s.seq[g], s.seen[g] = t, seq, true
			if s.pend[g] < 0 {
				s.touched = append(s.touched, g)
			}
			s.pend[g] = r
		}
	}
	for _, g := range s.touched {
		s.v[g] = s.col.own(value(int(s.pend[g])))
		s.pend[g] = -1
	}
	s.touched = s.touched[:0]
}

// mergeFrom folds group src of other (a state of the same aggregate) into group dst.
func (s *firstLastState[T]) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*firstLastState[T])
	s.next = max(s.next, o.next)
	if o.seen[src] && s.wins(dst, o.at[src], o.seq[src]) {
		s.v[dst], s.at[dst], s.seq[dst], s.seen[dst] = o.v[src], o.at[src], o.seq[src], true
	}
}

func (s *firstLastState[T]) build(mem memory.Allocator) (arrow.Array, []string) {
	return s.col.build(mem, s.v, s.seen), nil
}
