package exec

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/eval"
)

// rowJSON renders row i of rec as a JSON object, for error records.
func rowJSON(rec arrow.RecordBatch, i int) []byte {
	if rec == nil || i < 0 || int64(i) >= rec.NumRows() {
		return nil
	}
	var b strings.Builder
	b.WriteByte('{')
	for c := 0; c < int(rec.NumCols()); c++ {
		if c > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(rec.ColumnName(c))
		b.Write(name)
		b.WriteByte(':')
		col := rec.Column(c)
		var v any
		if col.IsValid(i) {
			switch a := col.(type) {
			case *array.Timestamp:
				v = fmtMillis(int64(a.Value(i)))
			default:
				v = col.GetOneForMarshal(i)
			}
		}
		enc, err := json.Marshal(v)
		if err != nil {
			enc, _ = json.Marshal(col.ValueStr(i))
		}
		b.Write(enc)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// sortedConcat concatenates records of one schema and orders the rows by the
// window start (column nKeys), then the keys (columns 0..nKeys-1), NULLs first.
func sortedConcat(recs []arrow.RecordBatch, nKeys int, mem memory.Allocator) (arrow.RecordBatch, error) {
	schema := recs[0].Schema()
	cols, err := concatColumns(recs, mem)
	if err != nil {
		return nil, fmt.Errorf("concatenate windows: %w", err)
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	n := int(cols[0].Len())
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	cmps := []func(i, j int) int{comparator(cols[nKeys])}
	for k := range nKeys {
		cmps = append(cmps, comparator(cols[k]))
	}
	sorted := slices.IsSortedFunc(order, func(a, b int) int { return compareBy(cmps, a, b) })
	if !sorted {
		// (window start, key) is unique per window, so an unstable sort is exact.
		slices.SortFunc(order, func(a, b int) int { return compareBy(cmps, a, b) })
	}
	if sorted {
		return array.NewRecordBatch(schema, cols, int64(n)), nil
	}
	ib := array.NewInt64Builder(mem)
	for _, o := range order {
		ib.Append(int64(o))
	}
	idx := ib.NewArray()
	ib.Release()
	defer idx.Release()
	out := make([]arrow.Array, len(cols))
	for c, col := range cols {
		taken, err := compute.TakeArray(context.Background(), col, idx)
		if err != nil {
			for _, t := range out[:c] {
				t.Release()
			}
			return nil, fmt.Errorf("order windows: %w", err)
		}
		out[c] = taken
	}
	rec := array.NewRecordBatch(schema, out, int64(n))
	for _, t := range out {
		t.Release()
	}
	return rec, nil
}

func compareBy(cmps []func(i, j int) int, a, b int) int {
	for _, c := range cmps {
		if r := c(a, b); r != 0 {
			return r
		}
	}
	return 0
}

// comparator orders the rows of arr, NULL first.
func comparator(arr arrow.Array) func(i, j int) int {
	nulls := func(i, j int) (int, bool) {
		ni, nj := arr.IsNull(i), arr.IsNull(j)
		switch {
		case ni && nj:
			return 0, true
		case ni:
			return -1, true
		case nj:
			return 1, true
		}
		return 0, false
	}
	var values func(i, j int) int
	switch a := arr.(type) {
	case *array.Int64:
		values = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.Timestamp:
		values = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.Float64:
		values = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.String:
		values = func(i, j int) int { return strings.Compare(a.Value(i), a.Value(j)) }
	case *array.Decimal128:
		values = func(i, j int) int { return a.Value(i).Cmp(a.Value(j)) }
	case *array.Boolean:
		values = func(i, j int) int {
			x, y := a.Value(i), a.Value(j)
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	default:
		values = func(i, j int) int { return strings.Compare(arr.ValueStr(i), arr.ValueStr(j)) }
	}
	return func(i, j int) int {
		if r, ok := nulls(i, j); ok {
			return r
		}
		return values(i, j)
	}
}

// mergeWindows orders one epoch's closed windows by (window_start, key). Each
// record that holds a single window is already in key order (windowTable.build
// sorts it), and every key lives in one worker, so the runs of one start only
// need a merge. Records with several starts fall back to a full sort.
func mergeWindows(recs []arrow.RecordBatch, nKeys int, mem memory.Allocator) (arrow.RecordBatch, error) {
	startOf := func(r arrow.RecordBatch, i int) int64 {
		return int64(r.Column(nKeys).(*array.Timestamp).Value(i))
	}
	for _, r := range recs {
		if startOf(r, 0) != startOf(r, int(r.NumRows())-1) {
			return sortedConcat(recs, nKeys, mem)
		}
	}
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b arrow.RecordBatch) int { return cmp.Compare(startOf(a, 0), startOf(b, 0)) })
	schema := recs[0].Schema()
	cols, err := concatColumns(recs, mem)
	if err != nil {
		return nil, fmt.Errorf("concatenate windows: %w", err)
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	cmps := make([]func(i, j int) int, nKeys)
	for k := range nKeys {
		cmps[k] = comparator(cols[k])
	}
	n := int(cols[0].Len())
	order := make([]int32, 0, n)
	identity := true
	off := 0
	for i := 0; i < len(recs); {
		// The runs [i, j) share a start; merge them by key.
		j := i + 1
		for j < len(recs) && startOf(recs[j], 0) == startOf(recs[i], 0) {
			j++
		}
		type run struct{ pos, end int }
		var runs []run
		for _, r := range recs[i:j] {
			runs = append(runs, run{off, off + int(r.NumRows())})
			off += int(r.NumRows())
		}
		for {
			best := -1
			for ri, r := range runs {
				if r.pos < r.end && (best < 0 || compareBy(cmps, r.pos, runs[best].pos) < 0) {
					best = ri
				}
			}
			if best < 0 {
				break
			}
			if runs[best].pos != len(order) {
				identity = false
			}
			order = append(order, int32(runs[best].pos))
			runs[best].pos++
		}
		i = j
	}
	if !identity {
		for c, col := range cols {
			taken, err := eval.Take(col, order, mem)
			if err != nil {
				return nil, fmt.Errorf("order windows: %w", err)
			}
			col.Release()
			cols[c] = taken
		}
	}
	rec := array.NewRecordBatch(schema, cols, int64(n))
	return rec, nil
}

// concatColumns concatenates, column by column, records of one schema. The
// caller releases the arrays.
func concatColumns(recs []arrow.RecordBatch, mem memory.Allocator) ([]arrow.Array, error) {
	cols := make([]arrow.Array, recs[0].Schema().NumFields())
	parts := make([]arrow.Array, len(recs))
	for c := range cols {
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		arr, err := array.Concatenate(parts, mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, err
		}
		cols[c] = arr
	}
	return cols, nil
}
