package exec

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql/types"
)

// topKState is TOP_K(x, k): the k most frequent non-NULL values of the group,
// as JSON text [{"value":v,"count":n},...], most frequent first, values of
// equal count in ascending order (numbers numerically, strings by their
// bytes, false before true; see keyCodec), NULL for a group of NULLs.
//
// Counts are exact: each group holds every distinct value it has seen with its
// count until the window closes, so memory is proportional to the distinct
// values per group and window (about 60 bytes per distinct value plus the
// value's key: 8 bytes for numbers and timestamps, 16 for decimals, the bytes
// of strings). For columns of very many distinct values per window, prefer
// APPROX_COUNT_DISTINCT, or a shorter window.
type topKState[K cmp.Ordered] struct {
	k      int
	codec  keyCodec
	ops    keyOps[K]
	groups []*freqTable[K] // nil until the group's first non-NULL value
}

// freqTable counts the distinct values of one group by their key.
type freqTable[K cmp.Ordered] struct {
	index  map[K]int32 // key -> position in keys and counts
	keys   []K
	counts []int64
}

// newTopKState returns a maker of TOP_K(x, k) states for x of type t.
func newTopKState(t types.Type, k int) func() aggState {
	c := keyCodec{t: t}
	if c.wordKeys() {
		ops := wordKeyOps()
		return func() aggState { return &topKState[uint64]{k: k, codec: c, ops: ops} }
	}
	ops := stringKeyOps(c)
	return func() aggState { return &topKState[string]{k: k, codec: c, ops: ops} }
}

func (s *topKState[K]) addGroup() { s.groups = append(s.groups, nil) }

func (s *topKState[K]) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	key := s.ops.reader(arg)
	noNulls := arg.NullN() == 0
	for k, r := range rows {
		if !noNulls && arg.IsNull(int(r)) {
			continue
		}
		f := s.groups[gids[k]]
		if f == nil {
			f = &freqTable[K]{index: map[K]int32{}}
			s.groups[gids[k]] = f
		}
		f.add(key(int(r)), 1, s.ops.own)
	}
}

// add counts n more of the value of key; own copies a new key to keep.
func (f *freqTable[K]) add(key K, n int64, own func(K) K) {
	if i, ok := f.index[key]; ok {
		f.counts[i] += n
		return
	}
	kept := own(key)
	f.index[kept] = int32(len(f.keys))
	f.keys = append(f.keys, kept)
	f.counts = append(f.counts, n)
}

func (s *topKState[K]) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*topKState[K])
	from := o.groups[src]
	if from == nil || (o == s && dst == src) {
		return
	}
	if s.groups[dst] == nil {
		s.groups[dst] = &freqTable[K]{index: map[K]int32{}}
	}
	for i, k := range from.keys {
		s.groups[dst].add(k, from.counts[i], identity[K])
	}
}

// top returns the positions of the k most frequent values of f in output
// order: a bounded heap keeps the best k seen (O(d log k) for d values), then
// they are sorted.
func (s *topKState[K]) top(f *freqTable[K]) []int32 {
	// before says whether entry a comes before entry b in the output.
	before := func(a, b int32) bool {
		if f.counts[a] != f.counts[b] {
			return f.counts[a] > f.counts[b]
		}
		return f.keys[a] < f.keys[b]
	}
	// h is a heap whose root is the worst of the best k so far.
	h := make([]int32, 0, min(s.k, len(f.keys)))
	down := func(i int) {
		for {
			w, l, r := i, 2*i+1, 2*i+2
			if l < len(h) && before(h[w], h[l]) {
				w = l
			}
			if r < len(h) && before(h[w], h[r]) {
				w = r
			}
			if w == i {
				return
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	for i := range f.keys {
		e := int32(i)
		switch {
		case len(h) < s.k:
			h = append(h, e)
			for j := len(h) - 1; j > 0 && before(h[(j-1)/2], h[j]); j = (j - 1) / 2 {
				h[j], h[(j-1)/2] = h[(j-1)/2], h[j]
			}
		case before(e, h[0]):
			h[0] = e
			down(0)
		}
	}
	slices.SortFunc(h, func(a, b int32) int {
		if before(a, b) {
			return -1
		}
		return 1
	})
	return h
}

func (s *topKState[K]) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	var out []byte
	for _, f := range s.groups {
		if f == nil {
			b.AppendNull()
			continue
		}
		out = append(out[:0], '[')
		for n, i := range s.top(f) {
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"value":`...)
			out = s.codec.appendJSON(out, s.ops.bytes(f.keys[i]))
			out = append(out, `,"count":`...)
			out = strconv.AppendInt(out, f.counts[i], 10)
			out = append(out, '}')
		}
		out = append(out, ']')
		b.BinaryBuilder.Append(out)
	}
	return b.NewArray(), nil
}
