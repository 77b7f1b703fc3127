package eval

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzEval builds a random expression shape and batch from the fuzzer's
// seed, puts the fuzzer's bytes in the text columns (casts, LIKE and regexp
// patterns, JSON documents), and checks that evaluation never panics, never
// leaks, and returns well-formed results.
func FuzzEval(f *testing.F) {
	f.Add(uint64(1), uint8(3), "42")
	f.Add(uint64(2), uint8(4), `{"a": [1, {"b": "c"}]}`)
	f.Add(uint64(3), uint8(2), "2024-01-02 03:04:05.678+01:00")
	f.Add(uint64(4), uint8(4), "a!%_\\")
	f.Add(uint64(5), uint8(1), "\xff\xfe(")
	f.Add(uint64(6), uint8(3), "-1e-400")
	f.Fuzz(func(t *testing.T, seed uint64, depth uint8, text string) {
		g := &gen{r: rand.New(rand.NewPCG(seed, uint64(depth)))}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		rows := 1 + g.pick(20)
		cols := g.batch(rows, 0.2)
		for c, sc := range genSchema {
			if !sc.Type.IsString() {
				continue
			}
			for r := range cols[c] {
				if g.chance(0.5) {
					cols[c][r] = text
				}
			}
		}
		rec := buildRecord(mem, genSchema, cols)
		defer rec.Release()
		for k := 0; k < 4; k++ {
			e := g.expr(g.anyType(), 1+int(depth%6))
			ev, err := Compile(e, genSchema)
			if err != nil {
				t.Fatalf("Compile(%s): %v", e, err)
			}
			arr, errs, err := ev.Eval(rec, mem)
			if err != nil {
				t.Fatalf("Eval(%s): %v", e, err)
			}
			if arr.Len() != rows || !arrow.TypeEqual(arr.DataType(), ev.DataType()) {
				t.Fatalf("Eval(%s): %d rows of %s", e, arr.Len(), arr.DataType())
			}
			for i, re := range errs {
				if re.Row < 0 || re.Row >= rows || (i > 0 && errs[i-1].Row >= re.Row) || arr.IsValid(re.Row) {
					t.Fatalf("Eval(%s): bad row errors %v", e, errs)
				}
			}
			arr.Release()
		}
	})
}
