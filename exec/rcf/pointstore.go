package rcf

// pointStore keeps every point the forest's samplers and trees refer to, once
// per forest rather than once per tree: a point accepted by 40 trees costs one
// copy of its values. Holders (sampler entries and tree leaves) count
// references; a slot is reused once its count drops to zero.
type pointStore struct {
	dims   int
	values []float64 // slot i is values[i*dims : (i+1)*dims]
	refs   []int32
	free   []int32
}

func newPointStore(dims int) pointStore { return pointStore{dims: dims} }

// add copies p into a slot with no references and returns the slot.
func (s *pointStore) add(p []float64) int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		copy(s.values[int(i)*s.dims:], p)
		return i
	}
	i := int32(len(s.refs))
	s.values = append(s.values, p...)
	s.refs = append(s.refs, 0)
	return i
}

func (s *pointStore) point(i int32) []float64 {
	off := int(i) * s.dims
	return s.values[off : off+s.dims : off+s.dims]
}

func (s *pointStore) retain(i int32) { s.refs[i]++ }

// release drops one reference and frees the slot when it was the last.
func (s *pointStore) release(i int32) {
	s.refs[i]--
	if s.refs[i] == 0 {
		s.free = append(s.free, i)
	}
}

// freeIfUnused frees a slot that add returned but nobody retained.
func (s *pointStore) freeIfUnused(i int32) {
	if s.refs[i] == 0 {
		s.free = append(s.free, i)
	}
}

// live is the number of slots in use.
func (s *pointStore) live() int { return len(s.refs) - len(s.free) }

func (s *pointStore) bytes() int {
	return cap(s.values)*8 + cap(s.refs)*4 + cap(s.free)*4
}
