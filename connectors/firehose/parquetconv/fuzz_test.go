package parquetconv

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzParseType(f *testing.F) {
	for _, s := range []string{"int", "array<struct<id:bigint,tags:map<string,string>>>", "decimal(10,2)",
		"struct<`a``b`:int>", "DOUBLE PRECISION", "map<int,array<date>>", "varchar(3)", "struct<a:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := ParseType(s)
		if err != nil {
			var te *TypeError
			if !errors.As(err, &te) || te.Offset < 0 || te.Offset > len(s) {
				t.Fatalf("ParseType(%q) error %v: want a *TypeError with an offset inside the input", s, err)
			}
			return
		}
		again, err := ParseType(typ.String())
		if err != nil || again.String() != typ.String() {
			t.Fatalf("ParseType(%q) = %s, which parses back as %v, %v", s, typ, again, err)
		}
	})
}

func FuzzParseSchemaFile(f *testing.F) {
	f.Add([]byte(`{"columns":[{"name":"id","type":"bigint"}]}`))
	f.Add([]byte(`[{"Name":"id","Type":"array<struct<a:int>>"}]`))
	f.Add([]byte(`[{"Name":"a","Type":"int"},{"Name":"A","Type":"int"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cols, err := ParseSchemaFile(data)
		if err != nil {
			return
		}
		// Whatever parses must make a writer (the schema is valid Parquet).
		if _, err := NewWriter(&bytes.Buffer{}, cols, Options{}); err != nil {
			t.Fatalf("schema %s parsed but NewWriter failed: %v", data, err)
		}
	})
}

// FuzzWrite writes arbitrary bytes as a record: it converts or returns a
// RecordError, never panics, and the object stays readable with the records
// around it intact.
func FuzzWrite(f *testing.F) {
	for _, s := range []string{
		`{"id": 1, "s": "x", "items": [{"id": 2, "tags": {"a": "b"}}], "st": {"a": 3}}`,
		`{"ts": "2020-01-01T00:00:00Z", "day": "2020-1-1", "price": "12.345", "counts": {"1": 2}}`,
		`{"x": 1e308, "ok": "TRUE", "n": "-5"}{"id": 2}`,
		`[1]`, `{"a":`, `"\ud800"`, `{"s": "\u00e9\ud83d\ude00"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, record []byte) {
		var buf bytes.Buffer
		w := mustWriter(t, &buf, errorSchema, Options{Parquet: ParquetSerDe{BlockSizeBytes: 1 << 10}})
		if err := w.Write([]byte(`{"id": -1}`)); err != nil {
			t.Fatal(err)
		}
		err := w.Write(record)
		var re *RecordError
		if err != nil && (!errors.As(err, &re) || re.Code != CodeMalformedData || re.Message == "") {
			t.Fatalf("Write(%q) = %v, want nil or a *RecordError", record, err)
		}
		rowsBefore := w.Rows()
		if err := w.Write([]byte(`{"id": -2}`)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rows, _ := readBack(t, buf.Bytes())
		if int64(len(rows)) != rowsBefore+1 {
			t.Fatalf("read %d rows, Writer counted %d", len(rows), rowsBefore+1)
		}
		if rows[0]["id"] != int64(-1) || rows[len(rows)-1]["id"] != int64(-2) {
			t.Fatalf("records around %q came back as %v and %v", record, rows[0], rows[len(rows)-1])
		}
	})
}
