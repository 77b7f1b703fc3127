package format

import (
	"fmt"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql/types"
)

// tsMs is a TIMESTAMP value in tests: milliseconds since the epoch.
type tsMs int64

// ms parses an RFC 3339 time for tests.
func ms(t testing.TB, s string) tsMs {
	t.Helper()
	v, ok := parseISOTimestamp([]byte(s))
	if !ok {
		t.Fatalf("bad test timestamp %q", s)
	}
	return tsMs(v)
}

// dec makes a decimal128 from an unscaled integer text.
func dec(t testing.TB, unscaled string) decimal128.Num {
	t.Helper()
	n, err := decimal128.FromString(unscaled, 38, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// valueAt reads row i of a as a Go value: nil, bool, int64, float64,
// decimal128.Num, string or tsMs.
func valueAt(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Timestamp:
		return tsMs(a.Value(i))
	}
	panic(fmt.Sprintf("valueAt: %T", a))
}

// rowsOf returns the rows of arrays as Go values.
func rowsOf(arrs []arrow.Array) [][]any {
	if len(arrs) == 0 {
		return nil
	}
	n := arrs[0].Len()
	out := make([][]any, n)
	for i := range n {
		row := make([]any, len(arrs))
		for k, a := range arrs {
			row[k] = valueAt(a, i)
		}
		out[i] = row
	}
	return out
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// buildRecord makes a record of schema from Go values (as valueAt returns them).
func buildRecord(t testing.TB, schema types.Schema, rows [][]any) arrow.RecordBatch {
	t.Helper()
	mem := memory.DefaultAllocator
	arrs := make([]arrow.Array, len(schema))
	for k, c := range schema {
		b := array.NewBuilder(mem, c.Type.Arrow())
		for _, row := range rows {
			v := row[k]
			if v == nil {
				b.AppendNull()
				continue
			}
			switch b := b.(type) {
			case *array.BooleanBuilder:
				b.Append(v.(bool))
			case *array.Int64Builder:
				b.Append(v.(int64))
			case *array.Float64Builder:
				b.Append(v.(float64))
			case *array.Decimal128Builder:
				b.Append(v.(decimal128.Num))
			case *array.StringBuilder:
				b.Append(v.(string))
			case *array.TimestampBuilder:
				b.Append(arrow.Timestamp(v.(tsMs)))
			default:
				t.Fatalf("buildRecord: builder %T", b)
			}
		}
		arrs[k] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(schema.Arrow(), arrs, int64(len(rows)))
	releaseAll(arrs)
	return rec
}

// sameValue compares two test values (NaN equals NaN).
func sameValue(a, b any) bool {
	if fa, ok := a.(float64); ok {
		if fb, ok := b.(float64); ok {
			return fa == fb && math.Signbit(fa) == math.Signbit(fb) || math.IsNaN(fa) && math.IsNaN(fb)
		}
	}
	return a == b
}

func sameRow(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

// decodeOne decodes records with a fresh decoder over every column and returns
// the rows decoded and the error of each record.
func decodeAll(t testing.TB, format string, schema types.Schema, paths []string, opts map[string]string, recs ...string) ([][]any, []error) {
	t.Helper()
	d, err := NewDecoder(format, schema, paths, opts)
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	rd, err := d.Project(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	errs := make([]error, len(recs))
	for i, r := range recs {
		_, errs[i] = rd.Append([]byte(r))
	}
	arrs := rd.NewArrays()
	defer releaseAll(arrs)
	return rowsOf(arrs), errs
}
