package format

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/sql/types"
)

// One JSON value into one column: the value read, or the exact error.
func TestJSONValues(t *testing.T) {
	type tc struct {
		typ  types.Type
		json string // the value of field "v"
		want any    // expected value; ignored when err is set
		err  string // expected error text
		opts map[string]string
	}
	sec := map[string]string{"timestamp_unit": "s"}
	us := map[string]string{"timestamp_unit": "us"}
	ns := map[string]string{"timestamp_unit": "ns"}
	layout := map[string]string{"timestamp_format": "02/01/2006 15:04"}
	d102 := types.DecimalType(10, 2)
	cases := []tc{
		// BOOLEAN
		{typ: types.BooleanType, json: `true`, want: true},
		{typ: types.BooleanType, json: `false`, want: false},
		{typ: types.BooleanType, json: `"TRUE"`, want: true},
		{typ: types.BooleanType, json: `" false "`, want: false},
		{typ: types.BooleanType, json: `1`, err: `column v: value 1 is not a BOOLEAN`},
		{typ: types.BooleanType, json: `"yes"`, err: `column v: value "yes" is not a BOOLEAN`},
		{typ: types.BooleanType, json: `null`, want: nil},
		// BIGINT
		{typ: types.BigIntType, json: `42`, want: int64(42)},
		{typ: types.BigIntType, json: `-42`, want: int64(-42)},
		{typ: types.BigIntType, json: `0`, want: int64(0)},
		{typ: types.BigIntType, json: `5.0`, want: int64(5)},
		{typ: types.BigIntType, json: `1e3`, want: int64(1000)},
		{typ: types.BigIntType, json: `12.5e1`, want: int64(125)},
		{typ: types.BigIntType, json: `9223372036854775807`, want: int64(math.MaxInt64)},
		{typ: types.BigIntType, json: `-9223372036854775808`, want: int64(math.MinInt64)},
		{typ: types.BigIntType, json: `"17"`, want: int64(17)},
		{typ: types.BigIntType, json: `" 17 "`, want: int64(17)},
		{typ: types.BigIntType, json: `9223372036854775808`, err: `column v: value 9223372036854775808 is not a BIGINT (out of range)`},
		{typ: types.BigIntType, json: `-9223372036854775809`, err: `column v: value -9223372036854775809 is not a BIGINT (out of range)`},
		{typ: types.BigIntType, json: `1e400`, err: `column v: value 1e400 is not a BIGINT (out of range)`},
		{typ: types.BigIntType, json: `1.5`, err: `column v: value 1.5 is not a BIGINT (it has a fraction)`},
		{typ: types.BigIntType, json: `1e-1`, err: `column v: value 1e-1 is not a BIGINT (it has a fraction)`},
		{typ: types.BigIntType, json: `"abc"`, err: `column v: value "abc" is not a BIGINT`},
		{typ: types.BigIntType, json: `true`, err: `column v: value true is not a BIGINT`},
		{typ: types.BigIntType, json: `{"a":1}`, err: `column v: value {"a":1} is an object, not a BIGINT`},
		{typ: types.BigIntType, json: `[1]`, err: `column v: value [1] is an array, not a BIGINT`},
		// DOUBLE
		{typ: types.DoubleType, json: `187.23`, want: 187.23},
		{typ: types.DoubleType, json: `-0.5e-3`, want: -0.0005},
		{typ: types.DoubleType, json: `7`, want: 7.0},
		{typ: types.DoubleType, json: `"12.5"`, want: 12.5},
		{typ: types.DoubleType, json: `"NaN"`, want: math.NaN()},
		{typ: types.DoubleType, json: `"-Infinity"`, want: math.Inf(-1)},
		{typ: types.DoubleType, json: `1e400`, err: `column v: value 1e400 is not a DOUBLE (out of range)`},
		{typ: types.DoubleType, json: `"abc"`, err: `column v: value "abc" is not a DOUBLE`},
		{typ: types.DoubleType, json: `""`, err: `column v: value "" is not a DOUBLE`},
		// DECIMAL
		{typ: d102, json: `12.5`, want: dec(t, "1250")},
		{typ: d102, json: `12.345`, want: dec(t, "1235")},
		{typ: d102, json: `12.344999`, want: dec(t, "1234")},
		{typ: d102, json: `-12.345`, want: dec(t, "-1235")},
		{typ: d102, json: `0.005`, want: dec(t, "1")},
		{typ: d102, json: `0.004`, want: dec(t, "0")},
		{typ: d102, json: `1.5e2`, want: dec(t, "15000")},
		{typ: d102, json: `"99999999.99"`, want: dec(t, "9999999999")},
		{typ: d102, json: `99999999.995`, err: `column v: value 99999999.995 is not a DECIMAL(10,2) (out of range)`},
		{typ: d102, json: `100000000`, err: `column v: value 100000000 is not a DECIMAL(10,2) (out of range)`},
		{typ: d102, json: `"x1"`, err: `column v: value "x1" is not a DECIMAL(10,2)`},
		{typ: types.DecimalType(38, 0), json: `99999999999999999999999999999999999999`, want: dec(t, "99999999999999999999999999999999999999")},
		{typ: types.DecimalType(38, 0), json: `100000000000000000000000000000000000000`, err: `column v: value 100000000000000000000000000000000000000 is not a DECIMAL(38,0) (out of range)`},
		{typ: types.DecimalType(38, 10), json: `-1234567890123456789012345678.0123456789`, want: dec(t, "-12345678901234567890123456780123456789")},
		{typ: types.DecimalType(5, 5), json: `0.000001`, want: dec(t, "0")},
		{typ: types.DecimalType(5, 5), json: `1e-100000000`, want: dec(t, "0")},
		// VARCHAR
		{typ: types.VarcharType, json: `"AAPL"`, want: "AAPL"},
		{typ: types.VarcharType, json: `""`, want: ""},
		{typ: types.VarcharType, json: `"a\"b\\c\/d\n\u00e9\ud83d\ude00"`, want: "a\"b\\c/d\né😀"},
		{typ: types.VarcharType, json: `"\ud800x"`, want: "\uFFFDx"},
		{typ: types.VarcharType, json: "\"caf\xc3\xa9\"", want: "café"},
		{typ: types.VarcharType, json: "\"bad\xff\"", want: "bad\uFFFD"},
		{typ: types.VarcharType, json: `12.50`, want: "12.50"},
		{typ: types.VarcharType, json: `true`, want: "true"},
		{typ: types.VarcharType, json: `{"a":1}`, err: `column v: value {"a":1} is an object, not a VARCHAR (declare the column JSON to keep its text)`},
		// JSON
		{typ: types.JSONType, json: `{"a": [1, 2]}`, want: `{"a": [1, 2]}`},
		{typ: types.JSONType, json: `"s"`, want: `"s"`},
		{typ: types.JSONType, json: `12`, want: `12`},
		{typ: types.JSONType, json: `null`, want: nil},
		// TIMESTAMP from strings
		{typ: types.TimestampType, json: `"2026-01-02T15:04:05.123Z"`, want: ms(t, "2026-01-02T15:04:05.123Z")},
		{typ: types.TimestampType, json: `"2026-01-02T15:04:05Z"`, want: ms(t, "2026-01-02T15:04:05.000Z")},
		{typ: types.TimestampType, json: `"2026-01-02 15:04:05"`, want: ms(t, "2026-01-02T15:04:05Z")},
		{typ: types.TimestampType, json: `"2026-01-02t15:04:05.9999z"`, want: ms(t, "2026-01-02T15:04:05.999Z")},
		{typ: types.TimestampType, json: `"2026-01-02T15:04:05.1"`, want: ms(t, "2026-01-02T15:04:05.100Z")},
		{typ: types.TimestampType, json: `"2026-01-02T15:04"`, want: ms(t, "2026-01-02T15:04:00Z")},
		{typ: types.TimestampType, json: `"2026-01-02"`, want: ms(t, "2026-01-02T00:00:00Z")},
		{typ: types.TimestampType, json: `"2026-01-02T15:04:05+02:00"`, want: ms(t, "2026-01-02T13:04:05Z")},
		{typ: types.TimestampType, json: `"2026-01-02T15:04:05-0130"`, want: ms(t, "2026-01-02T16:34:05Z")},
		{typ: types.TimestampType, json: `"2026-01-02T15:04:05+05"`, want: ms(t, "2026-01-02T10:04:05Z")},
		{typ: types.TimestampType, json: `"2024-02-29T00:00:00Z"`, want: ms(t, "2024-02-29T00:00:00Z")},
		{typ: types.TimestampType, json: `"1969-12-31T23:59:59.999Z"`, want: tsMs(-1)},
		{typ: types.TimestampType, json: `"2026-13-01"`, err: `column v: value "2026-13-01" is not a timestamp`},
		{typ: types.TimestampType, json: `"2025-02-29"`, err: `column v: value "2025-02-29" is not a timestamp`},
		{typ: types.TimestampType, json: `"2026-01-02T24:00:00Z"`, err: `column v: value "2026-01-02T24:00:00Z" is not a timestamp`},
		{typ: types.TimestampType, json: `"2026-01-02T15:04:05.Z"`, err: `column v: value "2026-01-02T15:04:05.Z" is not a timestamp`},
		{typ: types.TimestampType, json: `"yesterday"`, err: `column v: value "yesterday" is not a timestamp`},
		{typ: types.TimestampType, json: `true`, err: `column v: value true is not a TIMESTAMP(3)`},
		// TIMESTAMP from epoch numbers
		{typ: types.TimestampType, json: `1767366245123`, want: ms(t, "2026-01-02T15:04:05.123Z")},
		{typ: types.TimestampType, json: `"1767366245123"`, want: ms(t, "2026-01-02T15:04:05.123Z")},
		{typ: types.TimestampType, json: `1767366245`, want: ms(t, "2026-01-02T15:04:05Z"), opts: sec},
		{typ: types.TimestampType, json: `1767366245.1239`, want: ms(t, "2026-01-02T15:04:05.123Z"), opts: sec},
		{typ: types.TimestampType, json: `1767366245123456`, want: ms(t, "2026-01-02T15:04:05.123Z"), opts: us},
		{typ: types.TimestampType, json: `1767366245123456789`, want: ms(t, "2026-01-02T15:04:05.123Z"), opts: ns},
		{typ: types.TimestampType, json: `-1.5`, want: tsMs(-2)},
		{typ: types.TimestampType, json: `1e20`, err: `column v: value 1e20 is not a timestamp (out of range)`},
		{typ: types.TimestampType, json: `"02/01/2026 15:04"`, want: ms(t, "2026-01-02T15:04:00Z"), opts: layout},
		{typ: types.TimestampType, json: `"2026-01-02"`, err: `column v: value "2026-01-02" is not a timestamp (does not match timestamp_format "02/01/2006 15:04")`, opts: layout},
		{typ: types.TimestampType, json: `1767366245123`, want: ms(t, "2026-01-02T15:04:05.123Z"), opts: layout},
	}
	for _, c := range cases {
		name := c.typ.String() + " " + c.json
		schema := types.Schema{{Name: "v", Type: c.typ}}
		rows, errs := decodeAll(t, "json", schema, nil, c.opts, `{"v":`+c.json+`}`)
		if c.err != "" {
			if errs[0] == nil || errs[0].Error() != c.err {
				t.Errorf("%s: error %v, want %q", name, errs[0], c.err)
			}
			if len(rows) != 0 {
				t.Errorf("%s: a failed record left %d rows", name, len(rows))
			}
			continue
		}
		if errs[0] != nil {
			t.Errorf("%s: %v", name, errs[0])
			continue
		}
		if len(rows) != 1 || !sameValue(rows[0][0], c.want) {
			t.Errorf("%s: got %v, want %#v", name, rows, c.want)
		}
	}
}

func TestJSONRecordErrors(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.BigIntType}}
	cases := map[string]string{
		``:                     "not a JSON object: the record is empty",
		`   `:                  "not a JSON object: the record is empty",
		`[1,2]`:                "not a JSON object: it is an array",
		`"x"`:                  "not a JSON object: it is a string",
		`42`:                   "not a JSON object: it starts with '4'",
		`{"a":1`:               "invalid JSON at byte 6: unterminated object",
		`{"a":1}{}`:            "invalid JSON at byte 7: extra data after the JSON object",
		`{"a":1,}`:             "invalid JSON at byte 7: expected a field name in quotes",
		`{"a" 1}`:              "invalid JSON at byte 5: expected ':' after a field name",
		`{"a":01}`:             "invalid JSON at byte 6: expected ',' or '}' in an object",
		`{"a":1,"b":tru}`:      "invalid JSON at byte 11: invalid value",
		`{"a":1,"b":"x\q"}`:    `invalid JSON at byte 13: invalid escape "\\q"`,
		`{"a":1,"b":"x` + "\n": "invalid JSON at byte 13: control character '\\n' in a string",
		`{"a":1,"b":[1 2]}`:    "invalid JSON at byte 14: expected ',' or ']' in an array",
		`{"a":1,"b":-}`:        "invalid JSON at byte 11: invalid number",
		`{"a":1,"b":1.}`:       "invalid JSON at byte 11: a number needs digits after the decimal point",
		`{"a":1,"b":"\u12"}`:   `invalid JSON at byte 12: \u must be followed by four hex digits`,
		`{"a":1,"b":"abc`:      "invalid JSON at byte 11: unterminated string",
		`{"a":1,"b":}`:         "invalid JSON at byte 11: invalid character '}' looking for a value",
	}
	for in, want := range cases {
		_, errs := decodeAll(t, "json", schema, nil, nil, in)
		if errs[0] == nil || errs[0].Error() != want {
			t.Errorf("%q: error %v, want %q", in, errs[0], want)
		}
	}
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	if _, errs := decodeAll(t, "json", schema, nil, nil, `{"x":`+deep+`}`); errs[0] == nil || !strings.Contains(errs[0].Error(), "nested too deeply") {
		t.Errorf("deep nesting: %v", errs[0])
	}
	ok := strings.Repeat("[", 9990) + strings.Repeat("]", 9990)
	if _, errs := decodeAll(t, "json", schema, nil, nil, `{"x":`+ok+`}`); errs[0] != nil {
		t.Errorf("nesting within the limit: %v", errs[0])
	}
}

func TestJSONFieldMapping(t *testing.T) {
	schema := types.Schema{
		{Name: "ticker", Type: types.VarcharType},
		{Name: "price", Type: types.DoubleType},
		{Name: "sku", Type: types.VarcharType},
		{Name: "quote", Type: types.JSONType},
		{Name: "whole", Type: types.JSONType},
		{Name: "odd", Type: types.BigIntType},
	}
	paths := []string{"", "$.quote.price", "$.items[1].sku", "$.quote", "$", `$["a.b"]`}
	rec := `{"Ticker":"aapl","ticker":"AAPL","quote":{"price":12.5,"size":3},"items":[{"sku":"x"},{"sku":"y"}],"a.b":7}`
	rows, errs := decodeAll(t, "json", schema, paths, nil,
		rec,
		`{"TICKER":"msft","quote":{"size":3},"items":[{"sku":"x"}]}`,
		`{"quote":[1],"items":{"1":{"sku":"no"}}}`,
		`{"quote":null,"items":[null,{"sku":null}], "a.b": null}`,
	)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	want := [][]any{
		{"AAPL", 12.5, "y", `{"price":12.5,"size":3}`, rec, int64(7)},
		{"msft", nil, nil, `{"size":3}`, `{"TICKER":"msft","quote":{"size":3},"items":[{"sku":"x"}]}`, nil},
		{nil, nil, nil, `[1]`, `{"quote":[1],"items":{"1":{"sku":"no"}}}`, nil},
		{nil, nil, nil, nil, `{"quote":null,"items":[null,{"sku":null}], "a.b": null}`, nil},
	}
	for i := range want {
		if !sameRow(rows[i], want[i]) {
			t.Errorf("row %d:\n got %v\nwant %v", i, rows[i], want[i])
		}
	}

	// Case-sensitive matching ignores a field that differs in case; a
	// duplicate field's last value wins.
	rows, errs = decodeAll(t, "json", schema[:1], nil, map[string]string{"json.case_sensitive": "true"},
		`{"TICKER":"x"}`, `{"ticker":"a","ticker":"b"}`)
	if errs[0] != nil || errs[1] != nil || rows[0][0] != nil || rows[1][0] != "b" {
		t.Errorf("case sensitive: %v %v", rows, errs)
	}
	// An escaped field name matches.
	rows, _ = decodeAll(t, "json", schema[:1], nil, nil, `{"tick\u0065r":"e"}`)
	if rows[0][0] != "e" {
		t.Errorf("escaped key: %v", rows)
	}
}

// Many columns use the map lookup; several columns may share one path.
func TestJSONWideAndSharedPaths(t *testing.T) {
	var schema types.Schema
	var rec strings.Builder
	rec.WriteString("{")
	for i := range 40 {
		name := "c" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('0'+i/26))
		schema = append(schema, types.Column{Name: name, Type: types.BigIntType})
		if i > 0 {
			rec.WriteString(",")
		}
		rec.WriteString(`"` + name + `":` + string(rune('0'+i%10)))
	}
	rec.WriteString("}")
	rows, errs := decodeAll(t, "json", schema, nil, nil, rec.String())
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	for i := range 40 {
		if rows[0][i] != int64(i%10) {
			t.Fatalf("column %d = %v", i, rows[0][i])
		}
	}
	shared := types.Schema{{Name: "a", Type: types.BigIntType}, {Name: "b", Type: types.VarcharType}, {Name: "c", Type: types.JSONType}}
	rows, _ = decodeAll(t, "json", shared, []string{"$.x", "$.x", "$.x"}, nil, `{"x":5}`)
	if !sameRow(rows[0], []any{int64(5), "5", "5"}) {
		t.Errorf("shared path: %v", rows)
	}
}

// A record that fails on a later column leaves nothing of itself behind.
func TestJSONFailedRecordRollsBack(t *testing.T) {
	schema := types.Schema{
		{Name: "s", Type: types.VarcharType}, {Name: "b", Type: types.BooleanType}, {Name: "i", Type: types.BigIntType},
		{Name: "d", Type: types.DecimalType(5, 1)}, {Name: "j", Type: types.JSONType}, {Name: "t", Type: types.TimestampType},
		{Name: "x", Type: types.DoubleType},
	}
	good := `{"s":"a","b":true,"i":1,"d":1.5,"j":[1],"t":"2026-01-01","x":1}`
	recs := []string{good,
		`{"s":"zzzzzzzz","b":false,"i":2,"d":2.5,"j":{"k":"v"},"t":"2026-01-01","x":"bad"}`,
		`{"s":"yyyy","b":null,"i":3,"d":99999.5,"j":1,"t":"2026-01-01","x":1}`,
		good}
	rows, errs := decodeAll(t, "json", schema, nil, nil, recs...)
	if errs[0] != nil || errs[1] == nil || errs[2] == nil || errs[3] != nil {
		t.Fatalf("errors: %v", errs)
	}
	if len(rows) != 2 || !sameRow(rows[0], rows[1]) {
		t.Fatalf("rows after failures: %v", rows)
	}
}

func TestProjection(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.BigIntType}, {Name: "b", Type: types.VarcharType}, {Name: "c", Type: types.DoubleType}}
	d, err := NewDecoder("json", schema, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := d.Project([]int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	if got := rd.Schema(); len(got) != 2 || got[0].Name != "c" || got[1].Name != "a" {
		t.Fatalf("schema %v", got)
	}
	// b is not decoded, so a bad b is no error; bad JSON anywhere still is.
	if _, err := rd.Append([]byte(`{"a":1,"b":{"x":[]},"c":2.5}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Append([]byte(`{"a":1,"b":{"x":[}}`)); err == nil {
		t.Fatal("invalid JSON in an unprojected field was accepted")
	}
	arrs := rd.NewArrays()
	if rows := rowsOf(arrs); len(rows) != 1 || !sameRow(rows[0], []any{2.5, int64(1)}) {
		t.Fatalf("rows %v", rows)
	}
	releaseAll(arrs)

	// No columns: rows are still counted and records still checked.
	rd0, err := d.Project([]int{})
	if err != nil {
		t.Fatal(err)
	}
	rd0.Append([]byte(`{"a":1}`))
	rd0.Append([]byte(`{"a":1}`))
	if _, err := rd0.Append([]byte(`nope`)); err == nil {
		t.Fatal("no error for a bad record")
	}
	if rd0.Len() != 2 || len(rd0.NewArrays()) != 0 || rd0.Len() != 0 {
		t.Fatal("zero-column projection")
	}
	for _, bad := range [][]int{{3}, {-1}, {0, 0}} {
		if _, err := d.Project(bad); err == nil {
			t.Errorf("Project(%v) accepted", bad)
		}
	}
}

// Batches: NewArrays hands over the rows and the decoder goes on.
func TestBatches(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.BigIntType}, {Name: "s", Type: types.VarcharType}, {Name: "b", Type: types.BooleanType}}
	d, _ := NewDecoder("json", schema, nil, nil)
	rd, _ := d.Project(nil)
	defer rd.Release()
	for batch := range 3 {
		n := 5 + batch*7
		for i := range n {
			rec := `{"a":` + itoa(i) + `,"s":"v` + itoa(i) + `","b":` + map[bool]string{true: "true", false: "null"}[i%3 == 0] + `}`
			if _, err := rd.Append([]byte(rec)); err != nil {
				t.Fatal(err)
			}
		}
		if rd.Len() != n || rd.Size() == 0 {
			t.Fatalf("Len %d Size %d", rd.Len(), rd.Size())
		}
		arrs := rd.NewArrays()
		rows := rowsOf(arrs)
		for i, r := range rows {
			var b any
			if i%3 == 0 {
				b = true
			}
			if !sameRow(r, []any{int64(i), "v" + itoa(i), b}) {
				t.Fatalf("batch %d row %d: %v", batch, i, r)
			}
		}
		for _, a := range arrs {
			if a.Len() != n {
				t.Fatalf("array length %d, want %d", a.Len(), n)
			}
		}
		releaseAll(arrs)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestCSV(t *testing.T) {
	schema := types.Schema{
		{Name: "name", Type: types.VarcharType}, {Name: "qty", Type: types.BigIntType},
		{Name: "price", Type: types.DecimalType(8, 2)}, {Name: "ts", Type: types.TimestampType},
		{Name: "ok", Type: types.BooleanType}, {Name: "doc", Type: types.JSONType},
	}
	rows, errs := decodeAll(t, "csv", schema, nil, nil,
		`AAPL,10,1.5,2026-01-02T15:04:05Z,true,"{""a"":1}"`+"\n",
		`"a,b",,"",,,`+"\r\n",
		`"say ""hi""
twice",-3,2.345,1767366245123,FALSE,[1]`,
		`,1,1,2026-01-02,true,null`,
		"caf\xe9,1,1,2026-01-02,true,2",
	)
	want := [][]any{
		{"AAPL", int64(10), dec(t, "150"), ms(t, "2026-01-02T15:04:05Z"), true, `{"a":1}`},
		{"a,b", nil, nil, nil, nil, nil},
		{"say \"hi\"\ntwice", int64(-3), dec(t, "235"), ms(t, "2026-01-02T15:04:05.123Z"), false, `[1]`},
		{nil, int64(1), dec(t, "100"), ms(t, "2026-01-02T00:00:00Z"), true, `null`},
		{"caf\uFFFD", int64(1), dec(t, "100"), ms(t, "2026-01-02T00:00:00Z"), true, `2`},
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	for i := range want {
		if !sameRow(rows[i], want[i]) {
			t.Errorf("row %d:\n got %#v\nwant %#v", i, rows[i], want[i])
		}
	}
	bad := map[string]string{
		`a,1,1`:                           "the record has 3 fields; the stream has 6 columns",
		`a,1,1,2026-01-02,true,1,extra`:   "the record has 7 fields; the stream has 6 columns",
		`a,x,1,2026-01-02,true,1`:         `column qty: value "x" is not a BIGINT`,
		`a,1,1,2026-13-02,true,1`:         `column ts: value "2026-13-02" is not a timestamp`,
		`a,1,1,2026-01-02,yes,1`:          `column ok: value "yes" is not a BOOLEAN`,
		`a,1,1,2026-01-02,true,{`:         `column doc: value "{" is not JSON`,
		`a,1,1000000,2026-01-02,true,1`:   `column price: value "1000000" is not a DECIMAL(8,2) (out of range)`,
		`"a,1,1,2026-01-02,true,1`:        `field 1: quoted field starting at byte 0 has no closing quote`,
		`"a"x,1,1,2026-01-02,true,1`:      `field 1: unexpected 'x' after the closing quote at byte 3`,
		`a"b,1,1,2026-01-02,true,1`:       `field 1: a quote at byte 1 inside an unquoted field (quote the whole field and double the quote)`,
		`a,1.5,1,2026-01-02,true,1`:       `column qty: value "1.5" is not a BIGINT (it has a fraction)`,
		`a,1,1,"2026-01-02 10:00",true,1`: ``,
	}
	for in, want := range bad {
		_, errs := decodeAll(t, "csv", schema, nil, nil, in)
		got := ""
		if errs[0] != nil {
			got = errs[0].Error()
		}
		if got != want {
			t.Errorf("%q: error %q, want %q", in, got, want)
		}
	}
}

func TestCSVOptions(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.VarcharType}, {Name: "B", Type: types.BigIntType}}
	d, err := NewDecoder("csv", schema, nil, map[string]string{"csv.header": "true", "csv.delimiter": "tab"})
	if err != nil {
		t.Fatal(err)
	}
	rd, _ := d.Project(nil)
	defer rd.Release()
	for _, rec := range []string{"a\tb", "x\t1", "A\tB\n", "a,b\t2"} {
		ok, err := rd.Append([]byte(rec))
		if err != nil {
			t.Fatalf("%q: %v", rec, err)
		}
		header := strings.EqualFold(strings.TrimSpace(rec), "a\tb")
		if ok == header {
			t.Errorf("%q: appended %v", rec, ok)
		}
	}
	arrs := rd.NewArrays()
	defer releaseAll(arrs)
	if rows := rowsOf(arrs); len(rows) != 2 || rows[1][0] != "a,b" {
		t.Errorf("rows %v", rows)
	}
}

func TestDecoderOptionErrors(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.BigIntType}}
	cases := []struct {
		format string
		paths  []string
		opts   map[string]string
		want   string
	}{
		{"json", nil, map[string]string{"colour": "red"}, `format json: unknown option "colour"; valid options are json.case_sensitive, timestamp_format, timestamp_unit`},
		{"csv", nil, map[string]string{"json.case_sensitive": "true"}, `format csv: unknown option "json.case_sensitive"; valid options are csv.delimiter, csv.header, timestamp_format, timestamp_unit`},
		{"xml", nil, nil, `format "xml" is not supported; eddy reads json and csv`},
		{"json", nil, map[string]string{"timestamp_unit": "minutes"}, `option timestamp_unit = "minutes": must be one of s, ms, us, ns`},
		{"json", nil, map[string]string{"timestamp_format": " "}, `option timestamp_format is empty`},
		{"json", nil, map[string]string{"json.case_sensitive": "maybe"}, `format json: option json.case_sensitive = "maybe": must be 'true' or 'false'`},
		{"csv", nil, map[string]string{"csv.delimiter": ";;"}, `format csv: option csv.delimiter = ";;"`},
		{"csv", nil, map[string]string{"csv.header": "1"}, `format csv: option csv.header = "1"`},
		{"csv", []string{"$.a"}, nil, `format csv: column a has the path "$.a", but CSV fields are mapped by position`},
		{"json", []string{"a.b"}, nil, `format json: column a: JSON path "a.b" must start with $`},
		{"json", []string{"$.a[x]"}, nil, `format json: column a: JSON path "$.a[x]": "x" is not an array index`},
		{"json", []string{"$.a..b"}, nil, `empty field name`},
		{"json", []string{"$.a", "$.b"}, nil, `format json: 2 paths for 1 columns`},
	}
	for _, c := range cases {
		_, err := NewDecoder(c.format, schema, c.paths, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v %v: error %v, want %q", c.format, c.paths, c.opts, err, c.want)
		}
	}
	if _, err := NewDecoder("json", types.Schema{{Name: "i", Type: types.IntervalType}}, nil, nil); err == nil {
		t.Error("INTERVAL column accepted")
	}
	if _, err := NewDecoder("JSON", schema, nil, map[string]string{"Timestamp_Unit": "s"}); err != nil {
		t.Errorf("case of format and option names: %v", err)
	}
}

func TestJSONPaths(t *testing.T) {
	cases := map[string][]pathSeg{
		"$":             {},
		"$.a":           {{name: "a"}},
		"$.a.b":         {{name: "a"}, {name: "b"}},
		"$.items[0].sk": {{name: "items"}, {index: 0, isIndex: true}, {name: "sk"}},
		`$["a.b"][2]`:   {{name: "a.b"}, {index: 2, isIndex: true}},
		`$['x y'].z`:    {{name: "x y"}, {name: "z"}},
		"$[1][2]":       {{index: 1, isIndex: true}, {index: 2, isIndex: true}},
	}
	for p, want := range cases {
		got, err := parsePath(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %v", p, got)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", p, got, want)
			}
		}
	}
	for _, bad := range []string{"a", "$.", "$a", "$[", "$[-1]", `$["x]`, "$.a[1"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestConstants(t *testing.T) {
	if pow10u128(37) != ten37 || pow10u128(38) != ten38 {
		t.Fatal("powers of ten")
	}
	for _, s := range []string{"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"} {
		v, _ := parseISOTimestamp([]byte(s))
		if v != minTimestampMs && v != maxTimestampMs {
			t.Errorf("%s = %d", s, v)
		}
	}
	for days := int64(-800000); days < 3000000; days += 997 {
		y, m, d := civilFromDays(days)
		if daysFromCivil(y, m, d) != days {
			t.Fatalf("civil round trip of %d", days)
		}
	}
}

func TestCSVLineBreaks(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.VarcharType}, {Name: "b", Type: types.VarcharType}}
	_, errs := decodeAll(t, "csv", schema, nil, nil, "x,y\nz,w", "x,y\r", "x,\"y\r\nz\"\r\n")
	if errs[0] == nil || errs[0].Error() != "field 2: a line break at byte 3 inside an unquoted field; a record holds one CSV row, and a field with a line break must be quoted" {
		t.Errorf("two rows in a record: %v", errs[0])
	}
	if errs[1] == nil {
		t.Error("a lone CR at the end was accepted")
	}
	if errs[2] != nil {
		t.Errorf("quoted CR LF: %v", errs[2])
	}
}

// After Release a RowDecoder starts afresh and still knows its columns.
func TestReleaseThenReuse(t *testing.T) {
	schema := types.Schema{{Name: "d", Type: types.DecimalType(6, 2)}, {Name: "s", Type: types.VarcharType}}
	d, _ := NewDecoder("json", schema, nil, nil)
	rd, _ := d.Project(nil)
	rd.Append([]byte(`{"d":1.5,"s":"a"}`))
	rd.Release()
	if rd.Len() != 0 {
		t.Fatalf("Len %d after Release", rd.Len())
	}
	if _, err := rd.Append([]byte(`{"d":2.25,"s":"b"}`)); err != nil {
		t.Fatal(err)
	}
	arrs := rd.NewArrays()
	defer releaseAll(arrs)
	if rows := rowsOf(arrs); len(rows) != 1 || !sameRow(rows[0], []any{dec(t, "225"), "b"}) {
		t.Fatalf("rows %v", rows)
	}
	// An empty batch has valid, empty arrays.
	empty := rd.NewArrays()
	defer releaseAll(empty)
	checkArrays(t, empty, 0)
}
