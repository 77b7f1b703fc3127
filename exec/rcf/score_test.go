package rcf

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// cloneTree deep-copies a tree and its point store.
func cloneTree(t *tree, ps *pointStore) (tree, pointStore) {
	c := *t
	c.nodes, c.boxes = slices.Clone(t.nodes), slices.Clone(t.boxes)
	c.freeNodes, c.freeLeaves = slices.Clone(t.freeNodes), slices.Clone(t.freeLeaves)
	c.leafPoint, c.leafMass = slices.Clone(t.leafPoint), slices.Clone(t.leafMass)
	p := *ps
	p.values, p.refs, p.free = slices.Clone(ps.values), slices.Clone(ps.refs), slices.Clone(ps.free)
	return c, p
}

// TestScoreIsExpectedIsolation checks the score and its split against what
// they claim to be, by simulation: insert the point into copies of the tree
// with fresh random cuts, and average 1/(d+1), d the depth of the node where
// the insertion separated it, crediting it to the separating cut's dimension
// and side. The exact walk (score, explain) and the insertion code share no
// logic beyond the cut rule, so agreement checks both.
func TestScoreIsExpectedIsolation(t *testing.T) {
	cfg := Config{Trees: 3, SampleSize: 40, TimeDecay: 1000, ShingleSize: 1, Columns: 3, Seed: 4}
	f := mustNew(t, cfg)
	rng := rand.New(rand.NewPCG(6, 6))
	for range 60 {
		f.Update([]float64{rng.NormFloat64(), 2 * rng.NormFloat64(), rng.Float64()})
	}
	queries := [][]float64{{0.1, 0.2, 0.5}, {3, 0, 0.5}, {0, -7, 0.2}, {2, 2, 2}, {-1, 1, 0.9}}
	const trials = 4000
	mc := rand.NewPCG(1, 2)
	for ti := range f.trees {
		tr := &f.trees[ti].tree
		norm := normaliser(tr.mass)
		for _, q := range queries {
			_, exact := tr.score(q, &f.points, nil, norm)
			sum := newAttribution(3)
			var sc explainScratch = newExplainScratch(3)
			_, exact2 := tr.explain(q, &f.points, nil, norm, &sc, sum)
			if exact != exact2 {
				t.Fatalf("score %v, explain %v", exact, exact2)
			}
			var mean, sq float64
			high, low := make([]float64, 3), make([]float64, 3)
			for range trials {
				c, ps := cloneTree(tr, &f.points)
				pid := ps.add(q)
				c.insert(q, pid, &ps, mc)
				path, _ := c.descend(q, nil)
				v := 1 / float64(len(path)) // p's leaf is one below the separating node
				mean += v
				sq += v * v
				nd := c.nodes[path[len(path)-1]]
				if q[nd.dim] > nd.cut {
					high[nd.dim] += v
				} else {
					low[nd.dim] += v
				}
			}
			mean /= trials
			se := math.Sqrt((sq/trials - mean*mean) / trials)
			if got := exact / norm; math.Abs(got-mean) > 5*se+1e-12 {
				t.Errorf("tree %d, point %v: exact %.5f, simulated %.5f ± %.5f", ti, q, got, mean, se)
			}
			for d := range 3 {
				for _, pair := range [][2]float64{{sum.high[d] / norm, high[d] / trials}, {sum.low[d] / norm, low[d] / trials}} {
					if math.Abs(pair[0]-pair[1]) > 5*se+0.002 {
						t.Errorf("tree %d, point %v, dimension %d: attribution %.5f, simulated %.5f", ti, q, d, pair[0], pair[1])
					}
				}
			}
		}
	}
}

// TestExplanationJSONNames: any column name comes back from a JSON decoder
// unchanged (invalid UTF-8 as U+FFFD, as encoding/json does).
func TestExplanationJSONNames(t *testing.T) {
	names := []string{`a"b`, `back\slash`, "tab\there", "nl\n\x00\x1f", "ünï€𝄞", "bad\xffutf8", "</script>"}
	attrs := make([]Attribution, len(names))
	for i := range attrs {
		attrs[i] = Attribution{Score: float64(i) / 3, Direction: Direction(i % 2), Strength: 0.5}
	}
	var got map[string]map[string]string
	if err := json.Unmarshal(AppendExplanation(nil, names, attrs), &got); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		want, _ := json.Marshal(n)
		var canon string
		_ = json.Unmarshal(want, &canon)
		e, ok := got[canon]
		if !ok {
			t.Fatalf("name %q missing from %v", n, got)
		}
		if e["DIRECTION"] != attrs[i].Direction.String() || e["STRENGTH"] != "0.5000" {
			t.Fatalf("name %q: %v", n, e)
		}
	}
}
