package exec

import (
	"cmp"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql/types"
)

// distinctState is AGG(DISTINCT x) for SUM, AVG and the variances over a
// numeric x. Per group it holds the set of distinct non-NULL values seen, by
// key (keyCodec: values equal as SQL compares them have one key, so 0 and -0
// are one value, and so are all NaNs); when the window closes it feeds each
// group's values, in ascending order (so that a DOUBLE sum rounds the same way
// every run), to a fresh state of the plain aggregate and returns its result.
// Memory grows with the distinct values of a group (about 50 bytes each).
type distinctState[K cmp.Ordered] struct {
	newInner func() aggState
	codec    keyCodec
	ops      keyOps[K]
	seen     []map[K]struct{} // nil until the group's first value
}

// newDistinctState returns a maker of AGG(DISTINCT x) states for x of type t,
// AGG's states made by newInner.
func newDistinctState(newInner func() aggState, t types.Type) func() aggState {
	c := keyCodec{t: t}
	if c.wordKeys() {
		ops := wordKeyOps()
		return func() aggState { return &distinctState[uint64]{newInner: newInner, codec: c, ops: ops} }
	}
	ops := stringKeyOps(c)
	return func() aggState { return &distinctState[string]{newInner: newInner, codec: c, ops: ops} }
}

func (s *distinctState[K]) addGroup() { s.seen = append(s.seen, nil) }

func (s *distinctState[K]) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	key := s.ops.reader(arg)
	noNulls := arg.NullN() == 0
	for k, r := range rows {
		if !noNulls && arg.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		set := s.seen[g]
		if set == nil {
			set = map[K]struct{}{}
			s.seen[g] = set
		}
		if v := key(int(r)); !has(set, v) {
			set[s.ops.own(v)] = struct{}{}
		}
	}
}

func has[K comparable](set map[K]struct{}, k K) bool {
	_, ok := set[k]
	return ok
}

func (s *distinctState[K]) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*distinctState[K])
	if len(o.seen[src]) == 0 || (o == s && dst == src) {
		return
	}
	if s.seen[dst] == nil {
		s.seen[dst] = map[K]struct{}{}
	}
	for k := range o.seen[src] {
		s.seen[dst][k] = struct{}{}
	}
}

func (s *distinctState[K]) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewBuilder(mem, s.codec.t.Arrow())
	defer b.Release()
	var rows, gids []int32
	var keys []K
	for g, set := range s.seen {
		keys = keys[:0]
		for k := range set {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			s.codec.appendTo(b, s.ops.bytes(k))
			rows = append(rows, int32(len(rows)))
			gids = append(gids, int32(g))
		}
	}
	vals := b.NewArray()
	defer vals.Release()
	inner := s.newInner()
	for range s.seen {
		inner.addGroup()
	}
	if len(rows) > 0 {
		inner.update(vals, nil, rows, gids)
	}
	return inner.build(mem)
}
