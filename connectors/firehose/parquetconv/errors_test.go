package parquetconv

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const errorSchema = `[
 {"Name":"id","Type":"bigint"},
 {"Name":"n","Type":"int"},
 {"Name":"x","Type":"double"},
 {"Name":"ok","Type":"boolean"},
 {"Name":"ts","Type":"timestamp"},
 {"Name":"day","Type":"date"},
 {"Name":"price","Type":"decimal(5,2)"},
 {"Name":"s","Type":"string"},
 {"Name":"items","Type":"array<struct<id:bigint,tags:map<string,string>>>"},
 {"Name":"counts","Type":"map<int,int>"},
 {"Name":"st","Type":"struct<a:int>"}
]`

// Every class of record that cannot be converted: its code and the words its
// message must hold (the column path and the problem).
var invalidRecords = []struct {
	name   string
	record string
	want   []string
}{
	{"not JSON", `{"id": 1,`, []string{"invalid JSON", "byte"}},
	{"bad literal", `{"id": tru}`, []string{"invalid JSON"}},
	{"bad escape", `{"s": "\q"}`, []string{"invalid JSON", "escape"}},
	{"control character", "{\"s\": \"a\x01\"}", []string{"control character"}},
	{"trailing garbage", `{"id": 1} x`, []string{"invalid JSON at byte 10"}},
	{"array record", `[{"id": 1}]`, []string{"JSON array", "expected JSON objects"}},
	{"number record", `42`, []string{"holds a number at byte 0", "expected a JSON object"}},
	{"null record", ` null`, []string{"holds null at byte 1", "expected a JSON object"}},
	{"string record", `"x"`, []string{"holds a string at byte 0"}},
	{"comma between objects", `{"id": 1}, {"id": 2}`, []string{"invalid JSON at byte 9"}},
	{"empty record", ``, []string{"empty"}},
	{"blank record", " \n ", []string{"empty or blank"}},
	{"string for bigint", `{"id": "abc"}`, []string{"column id", `"abc"`, "not a number"}},
	{"fraction for bigint", `{"id": 1.5}`, []string{"column id", "fractional"}},
	{"bigint overflow", `{"id": 9223372036854775808}`, []string{"column id", "out of range"}},
	{"int overflow", `{"n": 2147483648}`, []string{"column n", "out of range"}},
	{"bool for int", `{"n": true}`, []string{"column n", "found true"}},
	{"object for double", `{"x": {}}`, []string{"column x", "found an object"}},
	{"double overflow", `{"x": 1e999}`, []string{"column x", "out of range"}},
	{"string for double", `{"x": "1,5"}`, []string{"column x", "not a number"}},
	{"yes for boolean", `{"ok": "yes"}`, []string{"column ok", `"yes"`, `"true" or "false"`}},
	{"number for boolean", `{"ok": 1}`, []string{"column ok", "found a number"}},
	{"bad timestamp", `{"ts": "yesterday"}`, []string{"column ts", "not a timestamp"}},
	{"timestamp bad day", `{"ts": "2021-02-30 00:00:00"}`, []string{"column ts", "not a timestamp"}},
	{"array for timestamp", `{"ts": []}`, []string{"column ts", "found an array"}},
	{"bad date", `{"day": "2021/01/01"}`, []string{"column day", "not a date"}},
	{"number for date", `{"day": 20210101}`, []string{"column day", "found a number"}},
	{"decimal too wide", `{"price": 1234.5}`, []string{"column price", "does not fit decimal(5,2)"}},
	{"decimal rounds too wide", `{"price": "999.995"}`, []string{"column price", "does not fit decimal(5,2)"}},
	{"decimal not a number", `{"price": "1.2.3"}`, []string{"column price", "not a number"}},
	{"object for string", `{"items": "x"}`, []string{"column items", "expected an array", "found a string"}},
	{"nested element", `{"items": [{"id": 1}, {"id": "two"}]}`, []string{"column items[1].id", `"two"`}},
	{"nested map value", `{"counts": {"1": 2, "3": "x"}}`, []string{"column counts[3]", `"x"`, "not a number"}},
	{"map key type", `{"counts": {"7": 1, "seven": 2}}`, []string{"counts", "key seven", `"seven"`}},
	{"struct expected", `{"st": [1]}`, []string{"column st", "expected an object", "found an array"}},
	{"struct field", `{"st": {"A": 1e10}}`, []string{"column st.a", "out of range"}},
	{"second object bad", `{"id": 1}{"id": "x"}`, []string{"column id", `"x"`}},
}

func TestInvalidRecords(t *testing.T) {
	for _, tc := range invalidRecords {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := mustWriter(t, &buf, errorSchema, Options{})
			if err := w.Write([]byte(`{"id": 1, "s": "before", "items": [{"id": 5, "tags": {"k": "v"}}]}`)); err != nil {
				t.Fatal(err)
			}
			err := w.Write([]byte(tc.record))
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Write(%q) = %v, want a *RecordError", tc.record, err)
			}
			if re.Code != CodeMalformedData {
				t.Errorf("Code = %q, want %q", re.Code, CodeMalformedData)
			}
			for _, w := range tc.want {
				if !strings.Contains(re.Message, w) {
					t.Errorf("Message %q does not mention %q", re.Message, w)
				}
			}
			if w.Rows() != 1 {
				t.Errorf("Rows() = %d after a failed record, want 1", w.Rows())
			}
			if err := w.Write([]byte(`{"id": 2, "s": "after", "counts": {"3": 4}}`)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rows, _ := readBack(t, buf.Bytes())
			if len(rows) != 2 {
				t.Fatalf("read %d rows, want 2 (the records around the bad one)", len(rows))
			}
			if rows[0]["s"] != "before" || rows[1]["s"] != "after" || rows[0]["id"] != int64(1) || rows[1]["id"] != int64(2) {
				t.Errorf("rows around the bad record: %v", rows)
			}
			wantItems := []any{map[string]any{"id": int64(5), "tags": map[string]any{"k": "v"}}}
			if !reflect.DeepEqual(rows[0]["items"], wantItems) {
				t.Errorf("first row's items = %#v, want %#v (a failed record must not leave values behind)", rows[0]["items"], wantItems)
			}
			if rows[1]["items"] != nil {
				t.Errorf("second row's items = %#v, want null", rows[1]["items"])
			}
		})
	}
}

// A record of several objects is several rows, all or none.
func TestConcatenatedObjects(t *testing.T) {
	var buf bytes.Buffer
	w := mustWriter(t, &buf, errorSchema, Options{})
	for _, rec := range []string{`{"id":1}{"id":2} {"id":3}`, "{\"id\":4}\n"} {
		if err := w.Write([]byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	if w.Rows() != 4 {
		t.Fatalf("Rows() = %d, want 4", w.Rows())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, _ := readBack(t, buf.Bytes())
	for i, r := range rows {
		if r["id"] != int64(i+1) {
			t.Errorf("row %d id = %v, want %d", i, r["id"], i+1)
		}
	}
}

func TestWriteAfterClose(t *testing.T) {
	var buf bytes.Buffer
	w := mustWriter(t, &buf, errorSchema, Options{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte(`{"id":1}`)); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	rows, _ := readBack(t, buf.Bytes())
	if len(rows) != 0 {
		t.Fatalf("an empty object has %d rows", len(rows))
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestOutputFailureIsNotARecordError(t *testing.T) {
	w := mustWriter(t, &failingWriter{n: 10}, errorSchema, Options{Parquet: ParquetSerDe{BlockSizeBytes: 1, PageSizeBytes: 64}})
	var err error
	for i := 0; i < 10*batchRows && err == nil; i++ {
		err = w.Write([]byte(`{"id": 1, "s": "some text to fill a page"}`))
	}
	if err == nil {
		err = w.Close()
	}
	var re *RecordError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("output failure surfaced as %v, want a plain error wrapping it", err)
	}
}

// OpenX keeps a nested value in a string column as its JSON text; the Hive
// SerDe rejects it.
func TestNestedValueInStringColumn(t *testing.T) {
	const schema = `[{"Name":"s","Type":"string"}]`
	record := []byte(`{"s": {"a": [1, "x"]}}`)
	var buf bytes.Buffer
	w := mustWriter(t, &buf, schema, Options{})
	if err := w.Write(record); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, _ := readBack(t, buf.Bytes())
	if len(rows) != 1 || rows[0]["s"] != `{"a": [1, "x"]}` {
		t.Fatalf("OpenX string column = %#v, want the object's JSON text", rows)
	}
	hive := mustWriter(t, &bytes.Buffer{}, schema, Options{Hive: &HiveJSONSerDe{}})
	var re *RecordError
	if err := hive.Write(record); !errors.As(err, &re) || !strings.Contains(re.Message, "column s") {
		t.Fatalf("Hive SerDe: Write = %v, want a RecordError for column s", err)
	}
}
