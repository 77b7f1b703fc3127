package rcf

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// checkTree recomputes every box and mass of t from its leaves and compares
// them with what the tree stores; it also checks that every cut separates
// its subtrees, that the leaves hold exactly want (point values -> copies),
// and that every node and leaf slot is either reachable once or free.
func checkTree(t *tree, ps *pointStore, want map[string]int) error {
	got := map[string]int{}
	if t.mass == 0 {
		if len(want) != 0 {
			return fmt.Errorf("tree is empty, want %d distinct points", len(want))
		}
		return nil
	}
	seenNodes := map[int32]bool{}
	seenLeaves := map[int32]bool{}
	var walk func(c int32) (lo, hi []float64, mass int32, err error)
	walk = func(c int32) ([]float64, []float64, int32, error) {
		if c < 0 {
			l := ^c
			if seenLeaves[l] {
				return nil, nil, 0, fmt.Errorf("leaf %d reached twice", l)
			}
			seenLeaves[l] = true
			p := ps.point(t.leafPoint[l])
			got[fmt.Sprint(p)] += int(t.leafMass[l])
			if t.leafMass[l] < 1 {
				return nil, nil, 0, fmt.Errorf("leaf %d has mass %d", l, t.leafMass[l])
			}
			return append([]float64(nil), p...), append([]float64(nil), p...), t.leafMass[l], nil
		}
		if seenNodes[c] {
			return nil, nil, 0, fmt.Errorf("node %d reached twice", c)
		}
		seenNodes[c] = true
		nd := t.nodes[c]
		llo, lhi, lm, err := walk(int32(nd.left))
		if err != nil {
			return nil, nil, 0, err
		}
		rlo, rhi, rm, err := walk(int32(nd.right))
		if err != nil {
			return nil, nil, 0, err
		}
		if lhi[nd.dim] > nd.cut || rlo[nd.dim] <= nd.cut {
			return nil, nil, 0, fmt.Errorf("node %d: cut %v on dim %d does not separate left max %v from right min %v",
				c, nd.cut, nd.dim, lhi[nd.dim], rlo[nd.dim])
		}
		lo, hi := make([]float64, t.dims), make([]float64, t.dims)
		for i := range lo {
			lo[i], hi[i] = min(llo[i], rlo[i]), max(lhi[i], rhi[i])
		}
		slo, shi := t.box(c)
		for i := range lo {
			if slo[i] != lo[i] || shi[i] != hi[i] {
				return nil, nil, 0, fmt.Errorf("node %d: box dim %d is [%v, %v], recomputed [%v, %v]", c, i, slo[i], shi[i], lo[i], hi[i])
			}
		}
		if int32(nd.mass) != lm+rm {
			return nil, nil, 0, fmt.Errorf("node %d: mass %d, recomputed %d", c, nd.mass, lm+rm)
		}
		return lo, hi, lm + rm, nil
	}
	_, _, mass, err := walk(t.root)
	if err != nil {
		return err
	}
	if mass != t.mass {
		return fmt.Errorf("tree mass %d, recomputed %d", t.mass, mass)
	}
	if len(got) != len(want) {
		return fmt.Errorf("tree holds %d distinct points, want %d", len(got), len(want))
	}
	for k, n := range want {
		if got[k] != n {
			return fmt.Errorf("point %s: %d copies, want %d", k, got[k], n)
		}
	}
	if len(seenNodes)+len(t.freeNodes) != len(t.nodes) {
		return fmt.Errorf("%d nodes reachable + %d free != %d allocated", len(seenNodes), len(t.freeNodes), len(t.nodes))
	}
	if len(seenLeaves)+len(t.freeLeaves) != len(t.leafPoint) {
		return fmt.Errorf("%d leaves reachable + %d free != %d allocated", len(seenLeaves), len(t.freeLeaves), len(t.leafPoint))
	}
	return nil
}

// TestTreeInsertRemoveConsistent runs random inserts and removes, with many
// duplicates, and checks the whole tree against a recomputation after each.
func TestTreeInsertRemoveConsistent(t *testing.T) {
	for _, dims := range []int{1, 3} {
		t.Run(fmt.Sprintf("dims=%d", dims), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(dims)))
			treeRNG := rand.NewPCG(1, 2)
			ps := newPointStore(dims)
			tr := newTree(dims)
			want := map[string]int{}
			var held []int32 // slots in the tree, as a sampler would hold them
			var path []int32
			for step := range 3000 {
				if len(held) > 0 && (len(held) >= 64 || rng.IntN(2) == 0) {
					k := rng.IntN(len(held))
					pid := held[k]
					held[k] = held[len(held)-1]
					held = held[:len(held)-1]
					p := ps.point(pid)
					key := fmt.Sprint(p)
					var err error
					if path, err = tr.remove(p, &ps, path); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
					if want[key]--; want[key] == 0 {
						delete(want, key)
					}
					ps.release(pid)
				} else {
					p := make([]float64, dims)
					for i := range p {
						if rng.IntN(3) == 0 {
							p[i] = float64(rng.IntN(4)) // coarse values: duplicates and ties
						} else {
							p[i] = rng.NormFloat64() * float64(i+1)
						}
					}
					pid := ps.add(p)
					ps.retain(pid)
					tr.insert(p, pid, &ps, treeRNG)
					held = append(held, pid)
					want[fmt.Sprint(p)]++
				}
				if err := checkTree(&tr, &ps, want); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
			// Every reference is a holder's or a leaf's.
			refs := map[int32]int32{}
			for _, pid := range held {
				refs[pid]++
			}
			for l, pid := range tr.leafPoint {
				if tr.leafMass[l] > 0 {
					refs[pid]++
				}
			}
			for pid, n := range refs {
				if ps.refs[pid] != n {
					t.Fatalf("slot %d: %d references counted, %d expected", pid, ps.refs[pid], n)
				}
			}
			if ps.live() != len(refs) {
				t.Fatalf("%d live slots, %d referenced", ps.live(), len(refs))
			}
		})
	}
}

func TestRemoveMissingPointFails(t *testing.T) {
	ps := newPointStore(1)
	tr := newTree(1)
	rng := rand.NewPCG(1, 1)
	for _, v := range []float64{1, 2, 3} {
		pid := ps.add([]float64{v})
		tr.insert([]float64{v}, pid, &ps, rng)
	}
	if _, err := tr.remove([]float64{2.5}, &ps, nil); err == nil {
		t.Fatal("removing a point that is not in the tree succeeded")
	}
}
