package eval

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// sameValue compares an evaluator result with a reference result of type t.
func sameValue(t types.Type, got, want any) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	switch t.Kind {
	case types.Double:
		a, b := got.(float64), want.(float64)
		if math.IsNaN(a) || math.IsNaN(b) {
			return math.IsNaN(a) && math.IsNaN(b)
		}
		if a == b {
			return true
		}
		if math.IsInf(a, 0) || math.IsInf(b, 0) {
			return false
		}
		return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
	case types.Decimal:
		return numToRat(got.(decimal128.Num), t.Scale).Cmp(want.(*big.Rat)) == 0
	}
	return got == want
}

func showValue(t types.Type, v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case decimal128.Num:
		return decString(x, t.Scale)
	case *big.Rat:
		return x.FloatString(int(t.Scale))
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

func showRow(schema types.Schema, row []any) string {
	var b strings.Builder
	for i, c := range schema {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name + "=" + showValue(c.Type, row[i]))
	}
	return b.String()
}

// checkAgainstReference compares arr/errs (for rows lo..hi of cols) with the
// reference interpreter; it returns a description of the first mismatch.
func checkAgainstReference(e expr.Expr, schema types.Schema, cols [][]any, lo, hi int, arr arrow.Array, errs []RowError) string {
	errRows := map[int]string{}
	for k, re := range errs {
		if k > 0 && errs[k-1].Row >= re.Row {
			return fmt.Sprintf("row errors out of order or repeated: %v", errs)
		}
		errRows[re.Row] = re.Reason
	}
	t := e.Type()
	for r := lo; r < hi; r++ {
		row := make([]any, len(schema))
		for c := range schema {
			row[c] = cols[c][r]
		}
		want, werr := refEval(e, row, schema)
		got := valueAt(arr, r-lo)
		reason, gotErr := errRows[r-lo]
		if (werr == nil && !gotErr && sameValue(t, got, want)) || (errors.Is(werr, errRow) && gotErr && got == nil) {
			continue // the common case: agree
		}
		where := fmt.Sprintf("expression %s\nrow %d: %s", e, r, showRow(schema, row))
		switch {
		case werr != nil && !errors.Is(werr, errRow):
			return where + "\nreference failed: " + werr.Error()
		case werr != nil && !gotErr:
			return fmt.Sprintf("%s\nwant a row error (%v), got %s", where, werr, showValue(t, got))
		case werr == nil && gotErr:
			return fmt.Sprintf("%s\nwant %s, got row error %q", where, showValue(t, want), reason)
		case gotErr && got != nil:
			return fmt.Sprintf("%s\nrow error %q but value %s", where, reason, showValue(t, got))
		case werr == nil && !sameValue(t, got, want):
			return fmt.Sprintf("%s\nwant %s, got %s", where, showValue(t, want), showValue(t, got))
		}
	}
	return ""
}

// runDifferential generates exprs random expressions over a random batch
// from seed and compares the evaluator with the reference on the whole batch
// and on a slice of it (non-zero offsets).
func runDifferential(t testing.TB, seed uint64, exprs, rows int) {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x5eed))}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cols := g.batch(rows, 0.15)
	rec := buildRecord(mem, genSchema, cols)
	defer rec.Release()
	lo, hi := 3, rows-2
	slice := rec.NewSlice(int64(lo), int64(hi))
	defer slice.Release()
	empty := rec.NewSlice(int64(lo), int64(lo))
	defer empty.Release()
	for k := 0; k < exprs; k++ {
		e := g.expr(g.anyType(), 1+g.pick(4))
		ev, err := Compile(e, genSchema)
		if err != nil {
			t.Fatalf("seed %d: Compile(%s): %v", seed, e, err)
		}
		for _, part := range []struct {
			rec    arrow.RecordBatch
			lo, hi int
		}{{rec, 0, rows}, {slice, lo, hi}, {empty, lo, lo}} {
			arr, errs, err := ev.Eval(part.rec, mem)
			if err != nil {
				t.Fatalf("seed %d: Eval(%s): %v", seed, e, err)
			}
			if arr.Len() != part.hi-part.lo || !arrow.TypeEqual(arr.DataType(), ev.DataType()) {
				t.Fatalf("seed %d: %s: got %d rows of %s", seed, e, arr.Len(), arr.DataType())
			}
			msg := checkAgainstReference(e, genSchema, cols, part.lo, part.hi, arr, errs)
			arr.Release()
			if msg != "" {
				t.Fatalf("seed %d (offset %d): %s", seed, part.lo, msg)
			}
		}
	}
}

// TestDifferential runs 150 random batches of 40 expressions each; set
// EVAL_DIFF_SEEDS to run more (EVAL_DIFF_SEEDS=5000 takes under a minute).
func TestDifferential(t *testing.T) {
	n := 150
	if testing.Short() {
		n = 30
	}
	if v, err := strconv.Atoi(os.Getenv("EVAL_DIFF_SEEDS")); err == nil && v > 0 {
		n = v
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		runDifferential(t, seed, 40, 40+int(seed%24))
	}
}
