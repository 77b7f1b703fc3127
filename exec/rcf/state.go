package rcf

import (
	"errors"
	"fmt"
	"math"

	"github.com/eddy-streams/eddy/exec/snapshot"
)

// stateMagic starts every forest state; stateVersion is bumped on any change
// of the layout below.
const (
	stateMagic   = "eddy-rcf"
	stateVersion = 1
)

// ErrState is wrapped by every error about a damaged, truncated or
// inconsistent state.
var ErrState = errors.New("rcf: bad forest state")

// MarshalBinary writes the forest's whole state: configuration, shingle,
// counters, points, and for every tree its random generator, sampler and
// cuts. A forest restored from it gives, for the same rows, bit for bit the
// scores the original would have given. The layout (snapshot encoding):
//
//	"eddy-rcf" version
//	trees sampleSize timeDecay shingleSize columns seed
//	seen skipped filled shingle[dims]
//	points: n, then n*dims values
//	per tree: generator, nextAccept, sample size, (point, key)*, cuts
//
// Cuts are written in preorder: 0 dim cut <left> <right> for a node, 1 point
// mass for a leaf. Boxes and masses are not written; restoring recomputes
// them. Points are numbered in order of first use, so equal forests give
// equal bytes.
func (f *Forest) MarshalBinary() ([]byte, error) {
	var e snapshot.Encoder
	f.encode(&e)
	return e.Data(), nil
}

func (f *Forest) encode(e *snapshot.Encoder) {
	e.String(stateMagic)
	e.Uvarint(stateVersion)
	c := f.cfg
	for _, v := range []int{c.Trees, c.SampleSize, c.TimeDecay, c.ShingleSize, c.Columns} {
		e.Uvarint(uint64(v))
	}
	e.Uvarint(c.Seed)
	e.Varint(f.seen)
	e.Varint(f.skipped)
	e.Uvarint(uint64(f.filled))
	e.Float64s(f.shingle)

	// Number the points in order of first use.
	ids := make([]int32, len(f.points.refs))
	for i := range ids {
		ids[i] = -1
	}
	var order []int32
	use := func(pid int32) {
		if ids[pid] < 0 {
			ids[pid] = int32(len(order))
			order = append(order, pid)
		}
	}
	for i := range f.trees {
		st := &f.trees[i]
		for _, pid := range st.sampler.points {
			use(pid)
		}
		if st.tree.mass > 0 {
			st.tree.walkLeaves(st.tree.root, func(l int32) { use(st.tree.leafPoint[l]) })
		}
	}
	e.Uvarint(uint64(len(order)))
	for _, pid := range order {
		for _, v := range f.points.point(pid) {
			e.Float64(v)
		}
	}
	for i := range f.trees {
		st := &f.trees[i]
		rng, _ := st.rng.MarshalBinary() // never fails
		e.Bytes(rng)
		e.Varint(st.sampler.nextAccept)
		e.Uvarint(uint64(len(st.sampler.keys)))
		for j, key := range st.sampler.keys {
			e.Uvarint(uint64(ids[st.sampler.points[j]]))
			e.Float64(key)
		}
		if st.tree.mass > 0 {
			st.tree.encode(e, st.tree.root, ids)
		}
	}
}

// UnmarshalBinary replaces the forest with a state from MarshalBinary. It
// checks everything a later Update relies on (ranges, the heap order of
// every sampler, that every cut separates its subtrees, that each sampler
// and its tree hold the same points), so damaged input gives an error
// wrapping ErrState and never a panic, now or later.
func (f *Forest) UnmarshalBinary(data []byte) error {
	d := snapshot.NewDecoder(data)
	g, err := decodeForest(d)
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrState, err)
	}
	*f = *g
	return nil
}

func decodeForest(d *snapshot.Decoder) (*Forest, error) {
	if m := d.String(); m != stateMagic {
		if d.Err() != nil {
			return nil, d.Err()
		}
		return nil, fmt.Errorf("not a forest state (starts %q)", m)
	}
	if v := d.Uvarint(); v != stateVersion {
		if d.Err() != nil {
			return nil, d.Err()
		}
		return nil, fmt.Errorf("state version %d, this build reads version %d", v, stateVersion)
	}
	var params [5]int
	for i := range params {
		v := d.Uvarint()
		if v > math.MaxInt32 {
			v = math.MaxInt32 // out of every range; Validate names it
		}
		params[i] = int(v)
	}
	cfg := Config{Trees: params[0], SampleSize: params[1], TimeDecay: params[2], ShingleSize: params[3], Columns: params[4], Seed: d.Uvarint()}
	if d.Err() != nil {
		return nil, d.Err()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := newForest(cfg)
	f.seen, f.skipped = d.Varint(), d.Varint()
	f.filled = int(min(d.Uvarint(), math.MaxInt32))
	shingle := d.Float64s()
	if d.Err() != nil {
		return nil, d.Err()
	}
	if f.seen < 0 || f.skipped < 0 || f.filled > cfg.ShingleSize || f.filled < cfg.ShingleSize && f.seen != 0 {
		return nil, fmt.Errorf("counters seen %d, skipped %d, filled %d do not fit shingle size %d", f.seen, f.skipped, f.filled, cfg.ShingleSize)
	}
	if len(shingle) != f.dims || !allUsable(shingle) {
		return nil, fmt.Errorf("shingle of %d values, want %d values within ±%g", len(shingle), f.dims, MaxValue)
	}
	copy(f.shingle, shingle)

	n := d.Count(8 * f.dims)
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%d points", n)
	}
	f.points.values = make([]float64, n*f.dims)
	f.points.refs = make([]int32, n)
	for i := range f.points.values {
		f.points.values[i] = d.Float64()
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	if !allUsable(f.points.values) {
		return nil, fmt.Errorf("a point has a value beyond ±%g", MaxValue)
	}
	for i := range f.trees {
		if err := f.decodeTree(d, &f.trees[i]); err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
	}
	for pid, r := range f.points.refs {
		if r == 0 {
			return nil, fmt.Errorf("point %d is in no sampler and no tree", pid)
		}
	}
	return f, nil
}

func (f *Forest) decodeTree(d *snapshot.Decoder, st *sampledTree) error {
	if err := st.rng.UnmarshalBinary(d.Bytes()); err != nil {
		if d.Err() != nil {
			return d.Err()
		}
		return fmt.Errorf("random generator: %w", err)
	}
	st.sampler.nextAccept = d.Varint()
	size := d.Count(9)
	if d.Err() != nil {
		return d.Err()
	}
	capacity := f.cfg.SampleSize
	if want := min(f.seen, int64(capacity)); int64(size) != want {
		return fmt.Errorf("sampler holds %d points, want %d after %d points", size, want, f.seen)
	}
	if size == capacity && st.sampler.nextAccept < f.seen {
		return fmt.Errorf("next acceptance %d is before the next point %d", st.sampler.nextAccept, f.seen)
	}
	s := &st.sampler
	s.keys, s.points = make([]float64, size), make([]int32, size)
	npoints := uint64(len(f.points.refs))
	for j := range size {
		id := d.Uvarint()
		s.keys[j] = d.Float64()
		if d.Err() != nil {
			return d.Err()
		}
		if id >= npoints {
			return fmt.Errorf("sampler refers to point %d of %d", id, npoints)
		}
		if math.IsNaN(s.keys[j]) || math.IsInf(s.keys[j], 0) {
			return fmt.Errorf("sampler key %v", s.keys[j])
		}
		if j > 0 && s.keys[(j-1)/2] < s.keys[j] {
			return fmt.Errorf("sampler keys out of heap order at %d", j)
		}
		s.points[j] = int32(id)
		f.points.refs[id]++
	}
	if size == 0 {
		return nil
	}
	t := &st.tree
	dec := treeDecoder{d: d, t: t, ps: &f.points, capacity: capacity}
	root, _, _, err := dec.child()
	if err != nil {
		return err
	}
	t.root, t.mass = root, int32(dec.mass)
	if dec.mass != size {
		return fmt.Errorf("tree holds %d points, its sampler %d", dec.mass, size)
	}
	// Every sampled point must lead to a leaf with its values, and each leaf
	// must hold as many points as the sampler has copies of it.
	count := make([]int32, len(t.leafMass))
	for _, pid := range s.points {
		p := f.points.point(pid)
		var leaf int32
		f.path, leaf = t.descend(p, f.path)
		if !equalPoints(f.points.point(t.leafPoint[leaf]), p) {
			return fmt.Errorf("sampled point %d is not in the tree", pid)
		}
		count[leaf]++
	}
	for l, m := range t.leafMass {
		if count[l] != m {
			return fmt.Errorf("leaf %d holds %d points, the sampler %d", l, m, count[l])
		}
	}
	return nil
}
