package eval

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

func recordValues(rec arrow.RecordBatch) [][]any {
	out := make([][]any, rec.NumCols())
	for i := range out {
		out[i] = goValues(rec.Column(i))
	}
	return out
}

func TestFilterBasics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := types.Schema{{Name: "x", Type: tInt}, {Name: "s", Type: tStr}, {Name: "b", Type: tBool}}
	rec := buildRecord(mem, schema, [][]any{
		{int64(1), int64(0), nil, int64(5), int64(-2)},
		{"a", "b", "c", nil, "e"},
		{true, false, nil, true, true},
	})
	defer rec.Release()
	x := col(0, "x", tInt)
	cases := []struct {
		pred     *Evaluator
		keep     []int
		errRows  []int
		sameRec  bool
		describe string
	}{
		{describe: "x > 0", pred: mustCompile(t, call(">", tBool, x, i64(0)), schema), keep: []int{0, 3}},
		{describe: "10 / x > 1", pred: mustCompile(t, call(">", tBool, call("/", tInt, i64(10), x), i64(1)), schema), keep: []int{0, 3}, errRows: []int{1}},
		{describe: "b", pred: mustCompile(t, col(2, "b", tBool), schema), keep: []int{0, 3, 4}},
		{describe: "TRUE", pred: mustCompile(t, boolean(true), schema), keep: []int{0, 1, 2, 3, 4}, sameRec: true},
		{describe: "x > 100", pred: mustCompile(t, call(">", tBool, x, i64(100)), schema), keep: nil},
		{describe: "NULL", pred: mustCompile(t, null(tBool), schema), keep: nil},
	}
	in := recordValues(rec)
	for _, c := range cases {
		out, errs, err := Filter(rec, c.pred, mem)
		if err != nil {
			t.Fatalf("%s: %v", c.describe, err)
		}
		if c.sameRec && out != rec {
			t.Errorf("%s: want the input record back", c.describe)
		}
		if int(out.NumRows()) != len(c.keep) || !out.Schema().Equal(rec.Schema()) {
			t.Errorf("%s: %d rows (schema %s), want %d", c.describe, out.NumRows(), out.Schema(), len(c.keep))
		}
		got := recordValues(out)
		for ci := range got {
			for k, r := range c.keep {
				if k < len(got[ci]) && got[ci][k] != in[ci][r] {
					t.Errorf("%s: column %d row %d = %v, want %v", c.describe, ci, k, got[ci][k], in[ci][r])
				}
			}
		}
		var rows []int
		for _, e := range errs {
			rows = append(rows, e.Row)
		}
		if len(rows) != len(c.errRows) || (len(rows) > 0 && rows[0] != c.errRows[0]) {
			t.Errorf("%s: error rows %v, want %v", c.describe, rows, c.errRows)
		}
		out.Release()
	}
	// A predicate that is not BOOLEAN is refused.
	if _, _, err := Filter(rec, mustCompile(t, x, schema), mem); err == nil {
		t.Error("Filter with a BIGINT predicate: want an error")
	}
}

func mustCompile(t testing.TB, e expr.Expr, schema types.Schema) *Evaluator {
	t.Helper()
	ev, err := Compile(e, schema)
	if err != nil {
		t.Fatalf("Compile(%s): %v", e, err)
	}
	return ev
}

// sameInput compares two input values (NaN equals NaN).
func sameInput(a, b any) bool {
	if fa, ok := a.(float64); ok {
		if fb, ok := b.(float64); ok && fa != fa && fb != fb {
			return true
		}
	}
	return a == b
}

// TestFilterDifferential filters random batches (and slices of them) with
// random predicates and checks the kept rows against the reference.
func TestFilterDifferential(t *testing.T) {
	n := 40
	if testing.Short() {
		n = 10
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		g := &gen{r: rand.New(rand.NewPCG(seed, 77))}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rows := 70
		cols := g.batch(rows, 0.2)
		rec := buildRecord(mem, genSchema, cols)
		for k := 0; k < 10; k++ {
			e := g.expr(tBool, 1+g.pick(3))
			ev, err := Compile(e, genSchema)
			if err != nil {
				t.Fatalf("Compile(%s): %v", e, err)
			}
			for _, lo := range []int{0, 5} {
				part := rec.NewSlice(int64(lo), int64(rows-1))
				out, errs, err := Filter(part, ev, mem)
				if err != nil {
					t.Fatalf("Filter(%s): %v", e, err)
				}
				var keep, errRows []int
				for r := lo; r < rows-1; r++ {
					row := make([]any, len(genSchema))
					for c := range genSchema {
						row[c] = cols[c][r]
					}
					v, rerr := refEval(e, row, genSchema)
					if rerr != nil {
						errRows = append(errRows, r-lo)
					}
					if rerr == nil && v == true {
						keep = append(keep, r)
					}
				}
				if int(out.NumRows()) != len(keep) || len(errs) != len(errRows) {
					t.Fatalf("seed %d Filter(%s) at %d: %d rows, %d errors; want %d, %d", seed, e, lo, out.NumRows(), len(errs), len(keep), len(errRows))
				}
				got := recordValues(out)
				for c, sc := range genSchema {
					for k, r := range keep {
						if !sameInput(got[c][k], cols[c][r]) {
							t.Fatalf("seed %d Filter(%s): column %s row %d = %v, want %v", seed, e, sc.Name, k, got[c][k], cols[c][r])
						}
					}
				}
				out.Release()
				part.Release()
			}
		}
		rec.Release()
		mem.AssertSize(t, 0)
	}
}

func TestProject(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := types.Schema{{Name: "x", Type: tInt}, {Name: "s", Type: tStr}}
	rec := buildRecord(mem, schema, [][]any{{int64(4), int64(0), nil}, {"a", "12", "zz"}})
	defer rec.Release()
	x, s := col(0, "x", tInt), col(1, "s", tStr)
	evals := []*Evaluator{
		mustCompile(t, call("/", tInt, i64(8), x), schema),
		mustCompile(t, castTo(s, tInt), schema),
		mustCompile(t, call("upper", tStr, s), schema),
		mustCompile(t, x, schema),
	}
	out := types.Schema{{Name: "q", Type: tInt}, {Name: "n", Type: tInt}, {Name: "u", Type: tStr}, {Name: "x", Type: tInt}}.Arrow()
	res, errs, err := Project(rec, evals, out, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	got := recordValues(res)
	want := [][]any{{int64(2), nil, nil}, {nil, int64(12), nil}, {"A", "12", "ZZ"}, {int64(4), int64(0), nil}}
	for c := range want {
		for r := range want[c] {
			if got[c][r] != want[c][r] {
				t.Errorf("column %d row %d = %v, want %v", c, r, got[c][r], want[c][r])
			}
		}
	}
	// Row 0: the cast of 'a' fails; row 1: 8/0 fails first (then 'zz' on row 2).
	if len(errs) != 3 || errs[0].Row != 0 || errs[1].Row != 1 || !strings.Contains(errs[1].Reason, "division by zero") || errs[2].Row != 2 {
		t.Errorf("errors %v", errs)
	}
	bad := types.Schema{{Name: "q", Type: tStr}, {Name: "n", Type: tInt}, {Name: "u", Type: tStr}, {Name: "x", Type: tInt}}.Arrow()
	if _, _, err := Project(rec, evals, bad, mem); err == nil {
		t.Error("Project with a mismatched schema: want an error")
	}
}

// TestEvalBatchMismatch: a batch that does not match the compiled schema is
// an error, never a panic.
func TestEvalBatchMismatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := types.Schema{{Name: "x", Type: tInt}, {Name: "y", Type: tInt}}
	ev := mustCompile(t, call("+", tInt, col(0, "x", tInt), col(1, "y", tInt)), schema)
	for _, other := range []types.Schema{
		{{Name: "x", Type: tInt}},
		{{Name: "x", Type: tInt}, {Name: "y", Type: tStr}},
	} {
		cols := make([][]any, len(other))
		for i := range cols {
			cols[i] = []any{nil}
		}
		rec := buildRecord(mem, other, cols)
		if arr, _, err := ev.Eval(rec, mem); err == nil {
			arr.Release()
			t.Errorf("Eval over %v: want an error", other)
		}
		rec.Release()
	}
}

func TestTakeGeneric(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewInt16Builder(mem)
	b.AppendValues([]int16{1, 2, 3, 4, 5}, []bool{true, false, true, true, true})
	arr := b.NewArray()
	b.Release()
	defer arr.Release()
	out, err := Take(arr, []int32{0, 1, 3, 4}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if out.String() != "[1 (null) 4 5]" {
		t.Errorf("take: %s", out)
	}
}

// TestEmptyBatch evaluates over batches with no rows, built from empty
// builders (whose buffers may be missing).
func TestEmptyBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cols := make([][]any, len(genSchema))
	rec := buildRecord(mem, genSchema, cols)
	defer rec.Release()
	g := &gen{r: rand.New(rand.NewPCG(9, 9))}
	for k := 0; k < 300; k++ {
		e := g.expr(g.anyType(), 1+g.pick(4))
		ev, err := Compile(e, genSchema)
		if err != nil {
			t.Fatal(err)
		}
		arr, errs, err := ev.Eval(rec, mem)
		if err != nil || arr.Len() != 0 || len(errs) != 0 {
			t.Fatalf("%s over no rows: %v %v", e, err, errs)
		}
		arr.Release()
		if e.Type().Kind == types.Boolean {
			out, _, err := Filter(rec, ev, mem)
			if err != nil || out.NumRows() != 0 {
				t.Fatalf("Filter(%s) over no rows: %v", e, err)
			}
			out.Release()
		}
	}
}

// TestTimestampWithoutZone: a millisecond timestamp column without the UTC
// zone is read as TIMESTAMP(3); other units are refused.
func TestTimestampWithoutZone(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := types.Schema{{Name: "ts", Type: tTs}}
	ev := mustCompile(t, call("floor_time", tTs, col(0, "ts", tTs), str("DAY")), schema)
	for _, unit := range []arrow.TimeUnit{arrow.Millisecond, arrow.Microsecond} {
		b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: unit})
		b.Append(arrow.Timestamp(86400000 + 5))
		arr := b.NewArray()
		b.Release()
		rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "ts", Type: arr.DataType()}}, nil), []arrow.Array{arr}, 1)
		arr.Release()
		out, _, err := ev.Eval(rec, mem)
		if unit == arrow.Millisecond {
			if err != nil || !arrow.TypeEqual(out.DataType(), tTs.Arrow()) || valueAt(out, 0) != int64(86400000) {
				t.Errorf("ms without zone: %v %v", out, err)
			}
		} else if err == nil {
			t.Errorf("µs timestamps: want an error")
		}
		if out != nil {
			out.Release()
		}
		rec.Release()
	}
}
