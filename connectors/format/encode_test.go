package format

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

var encSchema = types.Schema{
	{Name: "b", Type: types.BooleanType}, {Name: "i", Type: types.BigIntType}, {Name: "f", Type: types.DoubleType},
	{Name: "d", Type: types.DecimalType(10, 2)}, {Name: "s", Type: types.VarcharType}, {Name: "ts", Type: types.TimestampType},
	{Name: "j", Type: types.JSONType}, {Name: `we"ird`, Type: types.BigIntType},
}

func encodeAll(t *testing.T, format string, schema types.Schema, opts map[string]string, rows [][]any) []string {
	t.Helper()
	e, err := NewEncoder(format, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := buildRecord(t, schema, rows)
	defer rec.Release()
	var out []string
	if h := e.Header(); h != nil {
		out = append(out, string(h))
	}
	err = e.EachRow(rec, func(i int, text []byte) error {
		out = append(out, string(text))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEncodeJSON(t *testing.T) {
	rows := [][]any{
		{true, int64(-7), 1.5, dec(t, "-1250"), "a\"b\\c\n\t\x01é\u2028", ms(t, "2026-01-02T15:04:05.123Z"), ` {"k": [1, 2]} `, int64(1)},
		{nil, nil, nil, nil, nil, nil, nil, nil},
		{false, int64(math.MaxInt64), math.NaN(), dec(t, "5"), "", tsMs(-1), "not json", int64(0)},
		{false, int64(0), math.Inf(1), dec(t, "0"), "x", tsMs(0), `"str"`, int64(0)},
		{false, int64(0), 1e21, dec(t, "100"), "x", tsMs(0), `null`, int64(0)},
		{false, int64(0), 1e-7, dec(t, "1"), "x", tsMs(0), `[]`, int64(0)},
		{false, int64(0), 100000000.0, dec(t, "-1"), "x", tsMs(0), `{}`, int64(0)},
	}
	got := encodeAll(t, "json", encSchema, nil, rows)
	want := []string{
		`{"b":true,"i":-7,"f":1.5,"d":-12.50,"s":"a\"b\\c\n\t\u0001é\u2028","ts":"2026-01-02T15:04:05.123Z","j":{"k": [1, 2]},"we\"ird":1}`,
		`{"b":null,"i":null,"f":null,"d":null,"s":null,"ts":null,"j":null,"we\"ird":null}`,
		`{"b":false,"i":9223372036854775807,"f":"NaN","d":0.05,"s":"","ts":"1969-12-31T23:59:59.999Z","j":"not json","we\"ird":0}`,
		`{"b":false,"i":0,"f":"Infinity","d":0.00,"s":"x","ts":"1970-01-01T00:00:00.000Z","j":"str","we\"ird":0}`,
		`{"b":false,"i":0,"f":1e+21,"d":1.00,"s":"x","ts":"1970-01-01T00:00:00.000Z","j":null,"we\"ird":0}`,
		`{"b":false,"i":0,"f":1e-7,"d":0.01,"s":"x","ts":"1970-01-01T00:00:00.000Z","j":[],"we\"ird":0}`,
		`{"b":false,"i":0,"f":100000000,"d":-0.01,"s":"x","ts":"1970-01-01T00:00:00.000Z","j":{},"we\"ird":0}`,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, got[i], want[i])
		}
		if !json.Valid([]byte(got[i])) {
			t.Errorf("row %d is not valid JSON: %s", i, got[i])
		}
	}
	// Our floats match encoding/json's text.
	for _, f := range []float64{0, math.Copysign(0, -1), 1, 0.1, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, -3.5e-10, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f, true); string(got) != string(want) {
			t.Errorf("float %v: %s, encoding/json %s", f, got, want)
		}
	}
	// Strings match encoding/json without HTML escaping.
	for _, s := range []string{"plain", "<&>", "\x00\x1f\x7f", "\b\f", "\xff\xfe", "\u2029", "日本語"} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got := appendJSONString(nil, []byte(s)); string(got) != strings.TrimSuffix(buf.String(), "\n") {
			t.Errorf("string %q: %s, encoding/json %s", s, got, buf.String())
		}
	}
}

func TestEncodeCSV(t *testing.T) {
	schema := encSchema[:7]
	rows := [][]any{
		{true, int64(-7), 1.5, dec(t, "-1250"), "a,\"b\"\nc", ms(t, "2026-01-02T15:04:05.123Z"), `{"k":1}`},
		{nil, nil, nil, nil, nil, nil, nil},
		{false, int64(1), math.Inf(-1), dec(t, "5"), "", tsMs(0), `1`},
	}
	got := encodeAll(t, "csv", schema, map[string]string{"csv.header": "true"}, rows)
	want := []string{
		`b,i,f,d,s,ts,j`,
		"true,-7,1.5,-12.50,\"a,\"\"b\"\"\nc\",2026-01-02T15:04:05.123Z,\"{\"\"k\"\":1}\"",
		`,,,,,,`,
		`false,1,-Infinity,0.05,"",1970-01-01T00:00:00.000Z,1`,
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = encodeAll(t, "csv", schema[:2], map[string]string{"csv.delimiter": ";"}, [][]any{{true, int64(1)}})
	if len(got) != 1 || got[0] != "true;1" {
		t.Errorf("delimiter: %v", got)
	}
}

func TestEncoderErrors(t *testing.T) {
	if _, err := NewEncoder("parquet", encSchema, nil); err == nil || !strings.Contains(err.Error(), `format "parquet" is not supported for output; eddy writes json and csv`) {
		t.Errorf("format: %v", err)
	}
	if _, err := NewEncoder("json", encSchema, map[string]string{"csv.header": "true"}); err == nil || !strings.Contains(err.Error(), `unknown option "csv.header"; valid options are none`) {
		t.Errorf("json option: %v", err)
	}
	if _, err := NewEncoder("csv", encSchema, map[string]string{"csv.header": "yes"}); err == nil {
		t.Error("bad csv.header accepted")
	}
	e, _ := NewEncoder("json", encSchema[:2], nil)
	rec := buildRecord(t, encSchema[1:3], [][]any{{int64(1), 2.0}})
	defer rec.Release()
	if err := e.EachRow(rec, func(int, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "column b is int64 in the record, not the BOOLEAN of the output") {
		t.Errorf("type mismatch: %v", err)
	}
	rec3 := buildRecord(t, encSchema[:3], [][]any{{true, int64(1), 2.0}})
	defer rec3.Release()
	if err := e.EachRow(rec3, func(int, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "the record has 3 columns; the output has 2 (b, i)") {
		t.Errorf("width mismatch: %v", err)
	}
}

func TestTable(t *testing.T) {
	schema := types.Schema{
		{Name: "ticker", Type: types.VarcharType}, {Name: "price", Type: types.DoubleType},
		{Name: "n", Type: types.BigIntType}, {Name: "ts", Type: types.TimestampType}, {Name: "ok", Type: types.BooleanType},
		{Name: "amount", Type: types.DecimalType(6, 2)},
	}
	var buf bytes.Buffer
	tb := NewTable(&buf, schema)
	rec := buildRecord(t, schema, [][]any{
		{"AAPL", 187.23, int64(10), ms(t, "2026-03-01T12:00:00.123Z"), true, dec(t, "1234")},
		{"MSFT\nx", nil, int64(5), nil, nil, nil},
	})
	defer rec.Release()
	if err := tb.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec2 := buildRecord(t, schema, [][]any{{strings.Repeat("long", 20), 1.0, int64(123456789), tsMs(0), false, dec(t, "-5")}})
	defer rec2.Release()
	if err := tb.Write(rec2); err != nil {
		t.Fatal(err)
	}
	want := ` ticker  |  price |    n | ts                      | ok    |   amount
---------+--------+------+-------------------------+-------+----------
 AAPL    | 187.23 |   10 | 2026-03-01 12:00:00.123 | true  |    12.34
 MSFT\nx |   NULL |    5 | NULL                    | NULL  |     NULL
 longlo… |      1 | 123456789 | 1970-01-01 00:00:00.000 | false |    -0.05
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	if tb.Rows() != 3 {
		t.Errorf("Rows %d", tb.Rows())
	}
	buf.Reset()
	tb = NewTable(&buf, schema[:2])
	tb.Header()
	if buf.String() != " ticker | price\n--------+-------\n" {
		t.Errorf("header only:\n%q", buf.String())
	}
}

func TestAppendErrorRecord(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)
	got := string(AppendErrorRecord(nil, exec.ErrorRecord{Kind: exec.ErrorDecode, Source: "trades", Split: "shardId-000000000001",
		Position: "49", Raw: []byte(`{"price":"abc"}`), Reason: `column price: value "abc" is not a DOUBLE`, At: at, Rowtime: at.Add(-time.Second)}))
	want := `{"kind":"decode","source":"trades","shard":"shardId-000000000001","sequenceNumber":"49","reason":"column price: value \"abc\" is not a DOUBLE","rowtime":"2026-01-02T15:04:04.123Z","at":"2026-01-02T15:04:05.123Z","raw":"{\"price\":\"abc\"}"}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got = string(AppendErrorRecord(nil, exec.ErrorRecord{Kind: exec.ErrorLate, Raw: []byte{0xff, 0}}))
	want = `{"kind":"late","source":"","shard":"","sequenceNumber":"","reason":"","rowtime":null,"at":null,"raw":"/wA=","rawEncoding":"base64"}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAppendText(t *testing.T) {
	rec := buildRecord(t, encSchema[:7], [][]any{
		{true, int64(-7), 0.25, dec(t, "-1250"), "AAPL", ms(t, "2026-01-02T15:04:05.123Z"), `{"a":1}`},
		{nil, nil, nil, nil, nil, nil, nil},
	})
	defer rec.Release()
	want := []string{"true", "-7", "0.25", "-12.50", "AAPL", "2026-01-02T15:04:05.123Z", `{"a":1}`}
	for k, w := range want {
		if got := string(AppendText(nil, rec.Column(k), 0)); got != w {
			t.Errorf("column %d: %q, want %q", k, got, w)
		}
		if got := AppendText([]byte("x"), rec.Column(k), 1); string(got) != "x" {
			t.Errorf("column %d NULL: %q", k, got)
		}
	}
}

func TestLongValuesInErrors(t *testing.T) {
	long := strings.Repeat("é", 100)
	_, errs := decodeAll(t, "json", types.Schema{{Name: "n", Type: types.BigIntType}}, nil, nil, `{"n":"`+long+`"}`)
	want := `column n: value "` + strings.Repeat("é", 32) + `"… is not a BIGINT`
	if errs[0] == nil || errs[0].Error() != want {
		t.Errorf("error %v, want %s", errs[0], want)
	}
}
