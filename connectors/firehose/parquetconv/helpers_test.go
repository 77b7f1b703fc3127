package parquetconv

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// readBack opens a Parquet object and returns its rows as parquet-go
// reconstructs them into maps (parquet-go's own reader: independent of this
// package's level computation), normalized by norm.
func readBack(t testing.TB, data []byte) ([]map[string]any, *parquet.File) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open Parquet object: %v", err)
	}
	r := parquet.NewGenericReader[map[string]any](bytes.NewReader(data), f.Schema())
	defer r.Close()
	var out []map[string]any
	for {
		batch := make([]map[string]any, 16)
		for i := range batch {
			batch[i] = map[string]any{}
		}
		n, err := r.Read(batch)
		for _, row := range batch[:n] {
			out = append(out, norm(row).(map[string]any))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read rows: %v", err)
		}
		if n == 0 {
			break
		}
	}
	if int64(len(out)) != f.NumRows() {
		t.Fatalf("read %d rows, footer says %d", len(out), f.NumRows())
	}
	return out, f
}

// readRawColumn returns the leaf values of top-level primitive column col, one per
// row (nil for null), read as flat Parquet values.
func readRawColumn(t testing.TB, f *parquet.File, col int) []any {
	t.Helper()
	var out []any
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 32)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				var got any
				for _, v := range row {
					if v.Column() != col {
						continue
					}
					switch {
					case v.IsNull():
					case v.Kind() == parquet.Int32:
						got = big.NewInt(int64(v.Int32()))
					case v.Kind() == parquet.Int64:
						got = big.NewInt(v.Int64())
					case v.Kind() == parquet.FixedLenByteArray:
						got = fromTwosComplement(v.ByteArray())
					}
				}
				out = append(out, got)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read raw rows: %v", err)
			}
		}
		rows.Close()
	}
	return out
}

func fromTwosComplement(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v
}

// norm makes reconstructed values comparable: pointers dereferenced, integers
// as int64, floats as float64, byte slices as strings.
func norm(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case *int32:
		if x == nil {
			return nil
		}
		return int64(*x)
	case *int64:
		if x == nil {
			return nil
		}
		return *x
	case *float32:
		if x == nil {
			return nil
		}
		return float64(*x)
	case *float64:
		if x == nil {
			return nil
		}
		return *x
	case *bool:
		if x == nil {
			return nil
		}
		return *x
	case *[]byte:
		if x == nil {
			return nil
		}
		return string(*x)
	case *string:
		if x == nil {
			return nil
		}
		return *x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case float32:
		return float64(x)
	case []byte:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = norm(e)
		}
		return out
	}
	return v
}

func mustWriter(t testing.TB, w io.Writer, schema string, opts Options) *Writer {
	t.Helper()
	cols, err := ParseSchemaFile([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	pw, err := NewWriter(w, cols, opts)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}
