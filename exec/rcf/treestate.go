package rcf

import (
	"fmt"
	"math"

	"github.com/eddy-streams/eddy/exec/snapshot"
)

// A tree's state is its cuts in preorder (see Forest.MarshalBinary); boxes
// and masses are recomputed when it is read.

func (t *tree) walkLeaves(c int32, fn func(leaf int32)) {
	if c < 0 {
		fn(^c)
		return
	}
	t.walkLeaves(int32(t.nodes[c].left), fn)
	t.walkLeaves(int32(t.nodes[c].right), fn)
}

func (t *tree) encode(e *snapshot.Encoder, c int32, ids []int32) {
	if c < 0 {
		e.Uvarint(1)
		e.Uvarint(uint64(ids[t.leafPoint[^c]]))
		e.Uvarint(uint64(t.leafMass[^c]))
		return
	}
	nd := &t.nodes[c]
	e.Uvarint(0)
	e.Uvarint(uint64(nd.dim))
	e.Float64(nd.cut)
	t.encode(e, int32(nd.left), ids)
	t.encode(e, int32(nd.right), ids)
}

// treeDecoder rebuilds a tree from its preorder cuts, recomputing boxes and
// masses bottom up and checking that every cut separates its subtrees.
type treeDecoder struct {
	d        *snapshot.Decoder
	t        *tree
	ps       *pointStore
	capacity int
	mass     int // points in the leaves so far
}

// child decodes a subtree and returns its reference, box and mass.
func (dec *treeDecoder) child() (int32, []float64, []float64, error) {
	d, t := dec.d, dec.t
	switch tag := d.Uvarint(); {
	case d.Err() != nil:
		return 0, nil, nil, d.Err()
	case tag == 1:
		id, mass := d.Uvarint(), d.Uvarint()
		if d.Err() != nil {
			return 0, nil, nil, d.Err()
		}
		if id >= uint64(len(dec.ps.refs)) || mass < 1 || mass > uint64(dec.capacity-dec.mass) || len(t.leafPoint) >= dec.capacity {
			return 0, nil, nil, fmt.Errorf("leaf (point %d, mass %d) out of range", id, mass)
		}
		dec.mass += int(mass)
		t.leafPoint = append(t.leafPoint, int32(id))
		t.leafMass = append(t.leafMass, int32(mass))
		dec.ps.refs[id]++
		p := dec.ps.point(int32(id))
		return ^int32(len(t.leafPoint) - 1), p, p, nil
	case tag == 0:
		dim, cut := d.Uvarint(), d.Float64()
		if d.Err() != nil {
			return 0, nil, nil, d.Err()
		}
		if dim >= uint64(t.dims) || !(math.Abs(cut) <= MaxValue) || len(t.nodes) >= dec.capacity-1 {
			return 0, nil, nil, fmt.Errorf("node (dimension %d, cut %v) out of range", dim, cut)
		}
		n := t.newNode(node{cut: cut, dim: uint16(dim)})
		left, llo, lhi, err := dec.child()
		if err != nil {
			return 0, nil, nil, err
		}
		right, rlo, rhi, err := dec.child()
		if err != nil {
			return 0, nil, nil, err
		}
		if lhi[dim] > cut || rlo[dim] <= cut {
			return 0, nil, nil, fmt.Errorf("cut %v on dimension %d does not separate its subtrees", cut, dim)
		}
		nd := &t.nodes[n]
		nd.left, nd.right = int16(left), int16(right)
		nd.mass = uint16(t.childMass(left) + t.childMass(right))
		lo, hi := t.box(n)
		for i := range lo {
			lo[i], hi[i] = min(llo[i], rlo[i]), max(lhi[i], rhi[i])
		}
		return n, lo, hi, nil
	default:
		return 0, nil, nil, fmt.Errorf("unknown tree entry %d", tag)
	}
}
