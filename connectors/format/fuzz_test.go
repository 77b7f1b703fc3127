package format

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/eddy-streams/eddy/sql/types"
)

var fuzzSchema = types.Schema{
	{Name: "b", Type: types.BooleanType}, {Name: "i", Type: types.BigIntType}, {Name: "f", Type: types.DoubleType},
	{Name: "d", Type: types.DecimalType(9, 3)}, {Name: "s", Type: types.VarcharType}, {Name: "ts", Type: types.TimestampType},
	{Name: "j", Type: types.JSONType}, {Name: "deep", Type: types.VarcharType}, {Name: "idx", Type: types.BigIntType},
}

var fuzzPaths = []string{"", "", "", "", "", "", "", "$.o.p", "$.a[1]"}

// checkArrays validates the arrays a decoder produced: Arrow's own full check,
// the right length, and valid UTF-8 in every string.
func checkArrays(t *testing.T, arrs []arrow.Array, n int) {
	t.Helper()
	for _, a := range arrs {
		if a.Len() != n {
			t.Fatalf("array of %d rows, want %d", a.Len(), n)
		}
		if err := array.ValidateFull(a); err != nil {
			t.Fatalf("invalid array: %v", err)
		}
		if s, ok := a.(*array.String); ok {
			for i := range n {
				if !utf8.ValidString(s.Value(i)) {
					t.Fatalf("invalid UTF-8 in %q", s.Value(i))
				}
			}
		}
	}
}

// FuzzDecodeJSON: never panic; a record appends a whole row or nothing; the
// decoder's idea of valid JSON is encoding/json's.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"b":true,"i":1,"f":1.5,"d":"1.2345","s":"x\u00e9","ts":"2026-01-02T03:04:05Z","j":[1,{}],"o":{"p":"q"},"a":[0,7]}`,
		`{"I":"12","ts":1700000000000,"s":12,"o":{"p":null},"a":[]}`,
		`{}`, `[]`, `{"s":"\ud800"}`, `{"d":1e40}`, ` {"j" : null } `, `{"a":[0,"x"]}`, "{\"s\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	d, err := NewDecoder("json", fuzzSchema, fuzzPaths, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		rd, err := d.Project(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Release()
		rd.Append([]byte(`{"i":1}`))
		ok, err := rd.Append(rec)
		if ok != (err == nil) {
			t.Fatalf("appended %v with error %v", ok, err)
		}
		var de *DecodeError
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("error %T %v is not a *DecodeError", err, err)
		}
		wantRows := 1
		if ok {
			wantRows = 2
		}
		if rd.Len() != wantRows {
			t.Fatalf("Len %d after ok=%v", rd.Len(), ok)
		}
		// Grammar agrees with encoding/json: a syntax error (no column) exactly
		// when encoding/json rejects the text or it is not an object.
		trimmed := strings.TrimSpace(string(rec))
		isObject := json.Valid(rec) && strings.HasPrefix(trimmed, "{")
		if isObject == (err != nil && de.Column == "") {
			t.Fatalf("encoding/json valid object: %v; decoder error: %v", isObject, err)
		}
		rd.Append([]byte(`{"s":"after"}`))
		arrs := rd.NewArrays()
		defer releaseAll(arrs)
		checkArrays(t, arrs, wantRows+1)
		if got := valueAt(arrs[4], wantRows); got != "after" {
			t.Fatalf("the row after holds %v", got)
		}
	})
}

// FuzzDecodeCSV: never panic; a record appends a whole row or nothing; a
// one-row record of three fields splits as encoding/csv splits it.
func FuzzDecodeCSV(f *testing.F) {
	for _, s := range []string{`a,b,c`, `"a,b",c,"d""e"`, `,,`, "\"x\ny\",,\r\n", `a,"b`, `a"b,c,d`, `1,2`} {
		f.Add([]byte(s))
	}
	strs := types.Schema{{Name: "x", Type: types.VarcharType}, {Name: "y", Type: types.VarcharType}, {Name: "z", Type: types.VarcharType}}
	ds, err := NewDecoder("csv", strs, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	dt, err := NewDecoder("csv", fuzzSchema[:7], nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		for _, d := range []Decoder{ds, dt} {
			rd, _ := d.Project(nil)
			ok, err := rd.Append(rec)
			if ok != (err == nil) || rd.Len() != map[bool]int{true: 1, false: 0}[ok] {
				t.Fatalf("appended %v, error %v, Len %d", ok, err, rd.Len())
			}
			n := rd.Len()
			arrs := rd.NewArrays()
			checkArrays(t, arrs, n)
			if d == ds && !strings.ContainsRune(string(rec), '\r') {
				r := csv.NewReader(strings.NewReader(string(rec)))
				r.FieldsPerRecord = -1
				recs, cerr := r.ReadAll()
				if cerr == nil && len(recs) == 1 && len(recs[0]) == 3 && !strings.HasPrefix(string(rec), "\n") && !strings.HasSuffix(string(rec), "\n\n") {
					if !ok {
						t.Fatalf("encoding/csv reads %q, decoder: %v", recs[0], err)
					}
					for k, want := range recs[0] {
						got, _ := valueAt(arrs[k], 0).(string)
						if got != string([]rune(want)) {
							t.Fatalf("field %d: %q, encoding/csv %q", k, got, want)
						}
					}
				}
			}
			releaseAll(arrs)
			rd.Release()
		}
	})
}
