package eval

import (
	"math/big"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Test helpers: building expressions, batches of Go values, and reading
// arrays back as Go values. Go values follow expr.Literal's conventions:
// nil, bool, int64, float64, decimal128.Num, string.

func col(i int, name string, t types.Type) *expr.Column {
	return &expr.Column{Index: i, Name: name, T: t}
}

func lit(v any, t types.Type) *expr.Literal { return &expr.Literal{Value: v, T: t} }

func call(fn string, t types.Type, args ...expr.Expr) *expr.Call {
	return &expr.Call{Fn: fn, Args: args, T: t}
}

func castTo(x expr.Expr, t types.Type) *expr.Cast { return &expr.Cast{X: x, T: t} }

var (
	tBool = types.BooleanType
	tInt  = types.BigIntType
	tDbl  = types.DoubleType
	tStr  = types.VarcharType
	tJSON = types.JSONType
	tTs   = types.TimestampType
	tIv   = types.IntervalType
)

func tDec(p, s int32) types.Type { return types.DecimalType(p, s) }

// dec parses a decimal literal at scale s ("12.5" at scale 2 is 1250).
func dec(s string, scale int32) decimal128.Num {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad decimal " + s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		panic("decimal " + s + " has more digits than scale")
	}
	return decimal128.FromBigInt(r.Num())
}

// buildArray makes an array of logical type t from Go values.
func buildArray(mem memory.Allocator, t types.Type, vals []any) arrow.Array {
	b := array.NewBuilder(mem, t.Arrow())
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch bb := b.(type) {
		case *array.BooleanBuilder:
			bb.Append(v.(bool))
		case *array.Int64Builder:
			bb.Append(v.(int64))
		case *array.Float64Builder:
			bb.Append(v.(float64))
		case *array.Decimal128Builder:
			bb.Append(v.(decimal128.Num))
		case *array.StringBuilder:
			bb.Append(v.(string))
		case *array.TimestampBuilder:
			bb.Append(arrow.Timestamp(v.(int64)))
		}
	}
	return b.NewArray()
}

// buildRecord makes a batch from columns of Go values.
func buildRecord(mem memory.Allocator, schema types.Schema, cols [][]any) arrow.RecordBatch {
	arrs := make([]arrow.Array, len(schema))
	n := 0
	for i, c := range schema {
		arrs[i] = buildArray(mem, c.Type, cols[i])
		n = len(cols[i])
	}
	rec := array.NewRecordBatch(schema.Arrow(), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// goValues reads an array back as Go values.
func goValues(arr arrow.Array) []any {
	out := make([]any, arr.Len())
	for i := range out {
		out[i] = valueAt(arr, i)
	}
	return out
}

// evalExpr compiles and evaluates e over the batch, checking memory.
func evalExpr(t testing.TB, e expr.Expr, schema types.Schema, cols [][]any) ([]any, []RowError) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ev, err := Compile(e, schema)
	if err != nil {
		t.Fatalf("Compile(%s): %v", e, err)
	}
	rec := buildRecord(mem, schema, cols)
	defer rec.Release()
	arr, errs, err := ev.Eval(rec, mem)
	if err != nil {
		t.Fatalf("Eval(%s): %v", e, err)
	}
	defer arr.Release()
	if arr.Len() != int(rec.NumRows()) {
		t.Fatalf("Eval(%s): %d rows, want %d", e, arr.Len(), rec.NumRows())
	}
	if !arrow.TypeEqual(arr.DataType(), ev.DataType()) {
		t.Fatalf("Eval(%s): type %s, want %s", e, arr.DataType(), ev.DataType())
	}
	return goValues(arr), errs
}

// eval1 evaluates a constant expression over a one-row batch with no columns.
func eval1(t testing.TB, e expr.Expr) (any, []RowError) {
	t.Helper()
	vals, errs := evalExpr(t, e, types.Schema{{Name: "dummy", Type: tInt}}, [][]any{{int64(0)}})
	return vals[0], errs
}
