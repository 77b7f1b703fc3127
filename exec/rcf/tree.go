package rcf

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// node is an internal node of a random cut tree: points with
// point[dim] <= cut go left, the others right. A child reference c >= 0 is an
// internal node; c < 0 is the leaf ^c.
//
// Node and leaf counts are below the sample size (at most 1000) and dimensions
// at most 900, so 16 bits each keep a node at 16 bytes: four to a cache line,
// which is what the descent that dominates scoring reads.
type node struct {
	cut   float64
	left  int16
	right int16
	dim   uint16
	mass  uint16 // points (with multiplicity) below
}

func (n *node) child(p []float64) int32 {
	if p[n.dim] <= n.cut {
		return int32(n.left)
	}
	return int32(n.right)
}

// tree is one random cut tree over the points of its sampler. Storage is flat
// slices addressed by index, so a tree is a handful of allocations however
// large, and its state is a walk over arrays.
type tree struct {
	dims  int
	nodes []node
	// boxes holds each internal node's bounding box: dims minima then dims
	// maxima, at boxes[n*2*dims:]. A leaf's box is its point.
	boxes     []float64
	freeNodes []int32

	leafPoint  []int32 // point store slot of the leaf (the leaf holds a reference)
	leafMass   []int32 // how many sampled points equal the leaf's point
	freeLeaves []int32

	root int32
	mass int32 // points in the tree; 0 means empty and root is meaningless
}

// newTree returns an empty tree. Its slices grow as points arrive, so a
// forest costs memory for the points it has, and restoring a state allocates
// no more than the state describes.
func newTree(dims int) tree { return tree{dims: dims} }

func (t *tree) box(n int32) (lo, hi []float64) {
	off := int(n) * 2 * t.dims
	return t.boxes[off : off+t.dims : off+t.dims], t.boxes[off+t.dims : off+2*t.dims : off+2*t.dims]
}

// childBox is the box of a child reference: a leaf's box is its point.
func (t *tree) childBox(c int32, ps *pointStore) (lo, hi []float64) {
	if c < 0 {
		p := ps.point(t.leafPoint[^c])
		return p, p
	}
	return t.box(c)
}

func (t *tree) childMass(c int32) int32 {
	if c < 0 {
		return t.leafMass[^c]
	}
	return int32(t.nodes[c].mass)
}

func (t *tree) newLeaf(pid int32, ps *pointStore) int32 {
	ps.retain(pid)
	if n := len(t.freeLeaves); n > 0 {
		l := t.freeLeaves[n-1]
		t.freeLeaves = t.freeLeaves[:n-1]
		t.leafPoint[l], t.leafMass[l] = pid, 1
		return l
	}
	t.leafPoint = append(t.leafPoint, pid)
	t.leafMass = append(t.leafMass, 1)
	return int32(len(t.leafPoint) - 1)
}

func (t *tree) newNode(nd node) int32 {
	if n := len(t.freeNodes); n > 0 {
		i := t.freeNodes[n-1]
		t.freeNodes = t.freeNodes[:n-1]
		t.nodes[i] = nd
		return i
	}
	t.nodes = append(t.nodes, nd)
	for range 2 * t.dims {
		t.boxes = append(t.boxes, 0)
	}
	return int32(len(t.nodes) - 1)
}

// setChild points the parent's slot (or the root, for parent -1) at c.
func (t *tree) setChild(parent int32, left bool, c int32) {
	switch {
	case parent < 0:
		t.root = c
	case left:
		t.nodes[parent].left = int16(c)
	default:
		t.nodes[parent].right = int16(c)
	}
}

// insert adds the point in slot pid, whose values are p. It follows the
// paper's insertion: at each node draw a cut uniformly over the box that
// also holds p (a dimension chosen in proportion to its range); if the cut
// separates p from the node's box, p becomes a new leaf beside that node
// under a new parent; otherwise descend. A cut cannot separate p from a box
// that holds it, so no number is drawn there. O(depth * dims).
func (t *tree) insert(p []float64, pid int32, ps *pointStore, rng *rand.PCG) {
	if t.mass == 0 {
		t.root = ^t.newLeaf(pid, ps)
		t.mass = 1
		return
	}
	t.mass++
	parent, left := int32(-1), false
	cur := t.root
	for {
		lo, hi := t.childBox(cur, ps)
		if cur < 0 && equalPoints(lo, p) {
			t.leafMass[^cur]++
			return
		}
		if outside(p, lo, hi) {
			dim, cut := drawCut(p, lo, hi, rng)
			pLeft := p[dim] <= cut
			if pLeft && lo[dim] > cut || !pLeft && hi[dim] <= cut {
				leaf := ^t.newLeaf(pid, ps)
				nd := node{cut: cut, dim: uint16(dim), mass: uint16(t.childMass(cur) + 1), left: int16(cur), right: int16(leaf)}
				if pLeft {
					nd.left, nd.right = int16(leaf), int16(cur)
				}
				// lo and hi may alias boxes that newNode's append moves; read them
				// before and write the new box after.
				n := t.newNode(nd)
				lo, hi = t.childBox(cur, ps)
				nlo, nhi := t.box(n)
				for i := range p {
					nlo[i], nhi[i] = min(lo[i], p[i]), max(hi[i], p[i])
				}
				t.setChild(parent, left, n)
				return
			}
			if cur >= 0 {
				for i := range p {
					lo[i], hi[i] = min(lo[i], p[i]), max(hi[i], p[i])
				}
			}
		}
		// p is inside the box now, so cur is internal: a leaf's box is one point
		// and a point outside it always gets separated.
		nd := &t.nodes[cur]
		nd.mass++
		parent = cur
		left = p[nd.dim] <= nd.cut
		cur = nd.child(p)
	}
}

// remove deletes one copy of the point with values p, which must be in the
// tree. It descends by the cuts to p's leaf; a leaf holding several copies
// only loses mass, otherwise the leaf and its parent go and the sibling takes
// the parent's place. Boxes above shrink until one does not change.
func (t *tree) remove(p []float64, ps *pointStore, path []int32) ([]int32, error) {
	if t.mass == 0 {
		return path, fmt.Errorf("rcf: removing a point from an empty tree")
	}
	path = path[:0]
	cur := t.root
	for cur >= 0 {
		path = append(path, cur)
		cur = t.nodes[cur].child(p)
	}
	leaf := ^cur
	if !equalPoints(ps.point(t.leafPoint[leaf]), p) {
		return path, fmt.Errorf("rcf: the point to remove is not in the tree")
	}
	t.mass--
	for _, n := range path {
		t.nodes[n].mass--
	}
	if t.leafMass[leaf] > 1 {
		t.leafMass[leaf]--
		return path, nil
	}
	ps.release(t.leafPoint[leaf])
	t.leafMass[leaf] = 0
	t.freeLeaves = append(t.freeLeaves, leaf)
	if len(path) == 0 {
		return path, nil // the tree is empty now
	}
	parent := path[len(path)-1]
	sibling := int32(t.nodes[parent].left)
	if sibling == cur {
		sibling = int32(t.nodes[parent].right)
	}
	t.freeNodes = append(t.freeNodes, parent)
	path = path[:len(path)-1]
	if len(path) == 0 {
		t.root = sibling
		return path, nil
	}
	grand := path[len(path)-1]
	t.setChild(grand, int32(t.nodes[grand].left) == parent, sibling)
	for i := len(path) - 1; i >= 0; i-- {
		if !t.refit(path[i], ps) {
			break
		}
	}
	return path, nil
}

// refit recomputes a node's box from its children and reports a change.
func (t *tree) refit(n int32, ps *pointStore) bool {
	nd := &t.nodes[n]
	llo, lhi := t.childBox(int32(nd.left), ps)
	rlo, rhi := t.childBox(int32(nd.right), ps)
	lo, hi := t.box(n)
	changed := false
	for i := range lo {
		a, b := min(llo[i], rlo[i]), max(lhi[i], rhi[i])
		if a != lo[i] || b != hi[i] {
			lo[i], hi[i], changed = a, b, true
		}
	}
	return changed
}

func equalPoints(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func outside(p, lo, hi []float64) bool {
	for i := range p {
		if p[i] < lo[i] || p[i] > hi[i] {
			return true
		}
	}
	return false
}

// drawCut picks a cut uniformly over the box lo..hi extended to hold p: the
// dimension with probability proportional to its range, the value uniform in
// [min, max) so that the minimum goes left and the maximum right.
func drawCut(p, lo, hi []float64, rng *rand.PCG) (int, float64) {
	var total float64
	for i := range p {
		total += max(hi[i], p[i]) - min(lo[i], p[i])
	}
	r := uniform(rng) * total
	last := -1
	for i := range p {
		a, b := min(lo[i], p[i]), max(hi[i], p[i])
		g := b - a
		if g <= 0 {
			continue
		}
		last = i
		if r < g {
			v := a + r
			if v >= b {
				v = math.Nextafter(b, math.Inf(-1))
			}
			return i, v
		}
		r -= g
	}
	// Rounding left r past the last range: cut just below its maximum.
	b := max(hi[last], p[last])
	return last, math.Nextafter(b, math.Inf(-1))
}

// uniform is a float64 in [0, 1) from the top 53 bits.
func uniform(rng *rand.PCG) float64 { return float64(rng.Uint64()>>11) * 0x1p-53 }

// uniformOpen is a float64 in (0, 1), safe to take the logarithm of.
func uniformOpen(rng *rand.PCG) float64 { return (float64(rng.Uint64()>>11) + 0.5) * 0x1p-53 }

func (t *tree) bytes() int {
	return cap(t.nodes)*16 + cap(t.boxes)*8 + cap(t.freeNodes)*4 +
		cap(t.leafPoint)*4 + cap(t.leafMass)*4 + cap(t.freeLeaves)*4
}
