package exec

import (
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
type topKState struct {
	k      int
	codec  keyCodec
	groups []*freqTable // nil until the group's first non-NULL value
	buf    []byte
}

// freqTable counts the distinct values of one group by their key.
type freqTable struct {
	index  map[string]int32 // key -> position in keys and counts
	keys   []string
	counts []int64
}

func newTopKState(t types.Type, k int) *topKState {
	return &topKState{k: k, codec: keyCodec{t: t}}
}

func (s *topKState) addGroup() { s.groups = append(s.groups, nil) }

func (s *topKState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	key := s.codec.reader(arg)
	noNulls := arg.NullN() == 0
	for k, r := range rows {
		if !noNulls && arg.IsNull(int(r)) {
			continue
		}
		f := s.groups[gids[k]]
		if f == nil {
			f = &freqTable{index: map[string]int32{}}
			s.groups[gids[k]] = f
		}
		s.buf = key(s.buf[:0], int(r))
		f.add(s.buf, 1)
	}
}

// add counts n more of the value of key.
func (f *freqTable) add(key []byte, n int64) {
	if i, ok := f.index[string(key)]; ok {
		f.counts[i] += n
		return
	}
	kept := string(key) // a copy: the batch is released
	f.index[kept] = int32(len(f.keys))
	f.keys = append(f.keys, kept)
	f.counts = append(f.counts, n)
}

func (s *topKState) mergeFrom(dst int32, other aggState, src int32) {
	o := other.(*topKState)
	from := o.groups[src]
	if from == nil || (o == s && dst == src) {
		return
	}
	if s.groups[dst] == nil {
		s.groups[dst] = &freqTable{index: map[string]int32{}}
	}
	for i, k := range from.keys {
		s.groups[dst].add([]byte(k), from.counts[i])
	}
}

// top returns the positions of the k most frequent values of f in output
// order: a bounded heap keeps the best k seen (O(d log k) for d values), then
// they are sorted.
func (s *topKState) top(f *freqTable) []int32 {
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

func (s *topKState) build(mem memory.Allocator) (arrow.Array, []string) {
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
			out = s.codec.appendJSON(out, f.keys[i])
			out = append(out, `,"count":`...)
			out = strconv.AppendInt(out, f.counts[i], 10)
			out = append(out, '}')
		}
		out = append(out, ']')
		b.BinaryBuilder.Append(out)
	}
	return b.NewArray(), nil
}
