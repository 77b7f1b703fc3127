package eval

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestConcurrentEval shares compiled evaluators between goroutines (run it
// with -race): an Evaluator is immutable after Compile.
func TestConcurrentEval(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := &gen{r: rand.New(rand.NewPCG(42, 42))}
	cols := g.batch(50, 0.2)
	rec := buildRecord(mem, genSchema, cols)
	defer rec.Release()
	var evals []*Evaluator
	for len(evals) < 20 {
		e := g.expr(g.anyType(), 3)
		ev, err := Compile(e, genSchema)
		if err != nil {
			t.Fatal(err)
		}
		evals = append(evals, ev)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 5; round++ {
				for _, ev := range evals {
					arr, errs, err := ev.Eval(rec, mem)
					if err != nil {
						t.Error(err)
						return
					}
					if msg := checkAgainstReference(ev.src, genSchema, cols, 0, 50, arr, errs); msg != "" {
						t.Error(msg)
					}
					arr.Release()
				}
			}
		}()
	}
	wg.Wait()
}
