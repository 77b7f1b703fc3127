package parquetconv

import (
	"bytes"
	"errors"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go/format"
)

// convertOne writes records with one writer and returns the rows read back
// (nil entries for records that failed).
func convertOne(t *testing.T, schema string, opts Options, records ...string) ([]map[string]any, []error) {
	t.Helper()
	var buf bytes.Buffer
	w := mustWriter(t, &buf, schema, opts)
	var errs []error
	for _, r := range records {
		errs = append(errs, w.Write([]byte(r)))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := readBack(t, buf.Bytes())
	var rows []map[string]any
	k := 0
	for _, err := range errs {
		if err != nil {
			rows = append(rows, nil)
			continue
		}
		rows = append(rows, got[k])
		k++
	}
	return rows, errs
}

func TestOpenXKeyOptions(t *testing.T) {
	schema := `[{"Name":"id","Type":"bigint"},{"Name":"ts","Type":"bigint"},{"Name":"a_b","Type":"struct<c_d:int>"}]`
	record := `{"ID": 1, "timestamp": 2, "a.b": {"c.d": 3}, "ts": 99}`
	rows, _ := convertOne(t, schema, Options{}, record)
	if rows[0]["id"] != int64(1) || rows[0]["ts"] != int64(99) || rows[0]["a_b"] != nil {
		t.Errorf("defaults: %v", rows[0])
	}
	no := false
	rows, _ = convertOne(t, schema, Options{OpenX: &OpenXJSONSerDe{
		CaseInsensitive:                    &no,
		ColumnToJSONKeyMappings:            map[string]string{"ts": "timestamp"},
		ConvertDotsInJSONKeysToUnderscores: true,
	}}, record)
	want := map[string]any{"id": nil, "ts": int64(2), "a_b": map[string]any{"c_d": int64(3)}}
	for k, v := range want {
		if !equalValue(rows[0][k], v) {
			t.Errorf("case-sensitive, mapped, dots: %s = %#v, want %#v", k, rows[0][k], v)
		}
	}
}

func equalValue(a, b any) bool {
	if am, ok := a.(map[string]any); ok {
		bm, ok := b.(map[string]any)
		if !ok || len(am) != len(bm) {
			return false
		}
		for k := range am {
			if !equalValue(am[k], bm[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestOpenXTimestamps(t *testing.T) {
	const schema = `[{"Name":"ts","Type":"timestamp"}]`
	utc := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{`"2017-02-07T15:13:01.39256Z"`, utc("2017-02-07T15:13:01.39256Z")},
		{`"2017-02-07 15:13:01.14"`, utc("2017-02-07T15:13:01.14Z")},
		{`"2017-2-7 15:13:01"`, utc("2017-02-07T15:13:01Z")},
		{`"2017-02-07T15:13:01.123456789Z"`, utc("2017-02-07T15:13:01.123456Z")},
		{`"2017-02-07T15:13:01+02:00"`, utc("2017-02-07T13:13:01Z")},
		{`"2017-02-07T15:13:01-0530"`, utc("2017-02-07T20:43:01Z")},
		{`1518033528`, 1518033528 * 1e6},
		{`"1518033528"`, 1518033528 * 1e6},
		{`1518033528123`, 1518033528123 * 1e3},
		{`1518033528.123`, 1518033528123 * 1e3},
		{`99999999999`, 99999999999 * 1e6},
		{`100000000000`, 100000000000 * 1e3},
		{`-1.5`, -1500000},
		{`"1969-12-31T23:59:59.999999Z"`, -1},
	} {
		rows, errs := convertOne(t, schema, Options{}, `{"ts": `+tc.in+`}`)
		if errs[0] != nil {
			t.Errorf("%s: %v", tc.in, errs[0])
			continue
		}
		if rows[0]["ts"] != tc.want {
			t.Errorf("%s = %v, want %d", tc.in, rows[0]["ts"], tc.want)
		}
	}
	for _, bad := range []string{`"2017-02-07"`, `"2017-13-01 00:00:00"`, `"2017-02-07T25:00:00Z"`, `"15:13:01"`, `true`, `"2017-02-07 15:13:01 UTC"`} {
		_, errs := convertOne(t, schema, Options{}, `{"ts": `+bad+`}`)
		var re *RecordError
		if !errors.As(errs[0], &re) {
			t.Errorf("%s: err = %v, want a RecordError", bad, errs[0])
		}
	}
}

func TestHiveTimestampFormats(t *testing.T) {
	const schema = `[{"Name":"ts","Type":"timestamp"}]`
	opts := Options{Hive: &HiveJSONSerDe{TimestampFormats: []string{"yyyy/MM/dd HH:mm:ss.SSS", "millis", "dd-MMM-yyyy hh:mm a Z", "yyyyMMdd'T'HHmmss", "EEE, d MMMM yyyy HH:mm"}}}
	// The oracle: package time parsing the same inputs with Go layouts.
	for _, tc := range []struct{ in, layout, text string }{
		{`"2021/03/04 05:06:07.890"`, "2006/01/02 15:04:05.000", "2021/03/04 05:06:07.890"},
		{`"04-Mar-2021 05:06 PM +0100"`, "02-Jan-2006 03:04 PM -0700", "04-Mar-2021 05:06 PM +0100"},
		{`"04-mar-2021 12:06 am Z"`, "02-Jan-2006 03:04 PM Z07:00", "04-Mar-2021 12:06 AM Z"},
		{`"20210304T050607"`, "20060102T150405", "20210304T050607"},
		{`"Thu, 4 March 2021 05:06"`, "Mon, 2 January 2006 15:04", "Thu, 4 March 2021 05:06"},
		{`"2021-03-04 05:06:07.5"`, "2006-01-02 15:04:05.0", "2021-03-04 05:06:07.5"},
	} {
		want, err := time.Parse(tc.layout, tc.text)
		if err != nil {
			t.Fatal(err)
		}
		rows, errs := convertOne(t, schema, opts, `{"ts": `+tc.in+`}`)
		if errs[0] != nil {
			t.Errorf("%s: %v", tc.in, errs[0])
			continue
		}
		if rows[0]["ts"] != want.UnixMicro() {
			t.Errorf("%s = %v, want %d (%s)", tc.in, rows[0]["ts"], want.UnixMicro(), want)
		}
	}
	rows, errs := convertOne(t, schema, opts, `{"ts": 1614834367890}`, `{"ts": "1614834367890"}`)
	for i := range rows {
		if errs[i] != nil || rows[i]["ts"] != int64(1614834367890000) {
			t.Errorf("millis %d: %v %v", i, rows[i], errs[i])
		}
	}
	// Without "millis" numbers are not timestamps, and the OpenX-only ISO
	// form is not the Hive default.
	for _, bad := range []string{`1614834367`, `"2021-03-04T05:06:07Z"`} {
		_, errs := convertOne(t, schema, Options{Hive: &HiveJSONSerDe{}}, `{"ts": `+bad+`}`)
		var re *RecordError
		if !errors.As(errs[0], &re) || !strings.Contains(re.Message, "column ts") {
			t.Errorf("Hive default, %s: err = %v, want a RecordError for ts", bad, errs[0])
		}
	}
}

func TestOptionErrors(t *testing.T) {
	cols := []Column{{Name: "a", Type: Type{Kind: KindInt}}}
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{OpenX: &OpenXJSONSerDe{}, Hive: &HiveJSONSerDe{}}, "choose one"},
		{Options{Parquet: ParquetSerDe{Compression: "LZO"}}, "SNAPPY, GZIP, ZSTD or UNCOMPRESSED"},
		{Options{Parquet: ParquetSerDe{WriterVersion: "V3"}}, "V1 or V2"},
		{Options{Parquet: ParquetSerDe{BlockSizeBytes: -1}}, "BlockSizeBytes"},
		{Options{Parquet: ParquetSerDe{PageSizeBytes: -1}}, "PageSizeBytes"},
		{Options{Hive: &HiveJSONSerDe{TimestampFormats: []string{"yyyy-ww"}}}, `letter 'w'`},
		{Options{Hive: &HiveJSONSerDe{TimestampFormats: []string{"yyyy 'x"}}}, "unterminated quote"},
		{Options{OpenX: &OpenXJSONSerDe{ColumnToJSONKeyMappings: map[string]string{"b": "x"}}}, `names column "b", which is not in the schema`},
	} {
		_, err := NewWriter(&bytes.Buffer{}, cols, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewWriter(%+v) = %v, want an error mentioning %q", tc.opts, err, tc.want)
		}
	}
	two := []Column{{Name: "a", Type: Type{Kind: KindInt}}, {Name: "b", Type: Type{Kind: KindInt}}}
	if _, err := NewWriter(&bytes.Buffer{}, two, Options{OpenX: &OpenXJSONSerDe{ColumnToJSONKeyMappings: map[string]string{"a": "b"}}}); err == nil ||
		!strings.Contains(err.Error(), "both read JSON key") {
		t.Errorf("a mapping onto another column's key: %v", err)
	}
	for _, bad := range []Type{{Kind: KindArray}, {Kind: KindMap, Elem: &Type{Kind: KindInt}}, {Kind: KindStruct}, {Kind: KindDecimal, Precision: 40}, {Kind: 99}} {
		if _, err := NewWriter(&bytes.Buffer{}, []Column{{Name: "a", Type: bad}}, Options{}); err == nil || !strings.Contains(err.Error(), `column "a"`) {
			t.Errorf("NewWriter with column type %+v: %v, want an error naming the column", bad, err)
		}
	}
	if _, err := NewWriter(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("NewWriter with no columns succeeded")
	}
	if _, err := NewWriter(&bytes.Buffer{}, []Column{{Name: "a", Type: Type{Kind: KindInt}}, {Name: "A", Type: Type{Kind: KindInt}}}, Options{}); err == nil {
		t.Error("NewWriter with a duplicate column succeeded")
	}
}

func TestCompressionCodecInFooter(t *testing.T) {
	for name, want := range map[string]format.CompressionCodec{
		"": format.Snappy, "snappy": format.Snappy, "GZIP": format.Gzip, "ZSTD": format.Zstd, "UNCOMPRESSED": format.Uncompressed,
	} {
		var buf bytes.Buffer
		w := mustWriter(t, &buf, `[{"Name":"a","Type":"string"}]`, Options{Parquet: ParquetSerDe{Compression: name}})
		if err := w.Write([]byte(`{"a":"x"}`)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, f := readBack(t, buf.Bytes())
		if got := f.Metadata().RowGroups[0].Columns[0].MetaData.Codec; got != want {
			t.Errorf("Compression %q wrote codec %v, want %v", name, got, want)
		}
	}
}

// parseDecimal against big.Rat: round half away from zero at the scale.
func TestParseDecimalDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var n decimalNumber
	var out decimalValue
	for range 20000 {
		precision := 1 + r.IntN(38)
		scale := r.IntN(precision + 1)
		text := randomNumberText(r)
		problem := parseDecimal([]byte(text), precision, scale, &n, &out)
		rat, ok := new(big.Rat).SetString(text)
		if !ok {
			t.Fatalf("oracle cannot read %q", text)
		}
		want := roundRat(rat, scale)
		fits := new(big.Int).Abs(want).Cmp(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)) < 0
		if !fits {
			if problem == "" {
				t.Fatalf("parseDecimal(%q, %d, %d) accepted a value that does not fit", text, precision, scale)
			}
			continue
		}
		if problem != "" {
			t.Fatalf("parseDecimal(%q, %d, %d): %s; want %v", text, precision, scale, problem, want)
		}
		got := big.NewInt(out.small)
		if precision > 18 {
			got = out.big
		}
		if got.Cmp(want) != 0 {
			t.Fatalf("parseDecimal(%q, %d, %d) = %v, want %v", text, precision, scale, got, want)
		}
	}
}

func randomNumberText(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(2) == 0 {
		b.WriteByte('-')
	}
	digits := 1 + r.IntN(25)
	for i := range digits {
		if i == 0 && r.IntN(3) == 0 {
			b.WriteByte('0')
			continue
		}
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	if r.IntN(2) == 0 {
		b.WriteByte('.')
		for range 1 + r.IntN(12) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	if r.IntN(4) == 0 {
		b.WriteString("e")
		b.WriteString(strconv.Itoa(r.IntN(30) - 15))
	}
	return b.String()
}

// roundRat returns v × 10^scale rounded half away from zero.
func roundRat(v *big.Rat, scale int) *big.Int {
	x := new(big.Rat).Mul(v, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	neg := x.Sign() < 0
	x.Abs(x)
	x.Add(x, big.NewRat(1, 2))
	q := new(big.Int).Quo(x.Num(), x.Denom()) // floor of |x| + 1/2
	if neg {
		q.Neg(q)
	}
	return q
}

// parseInteger against big.Rat: integral and in range, or an error.
func TestParseIntegerDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var n decimalNumber
	lo, hi := big.NewInt(-1<<63), big.NewInt(1<<63-1)
	for range 20000 {
		text := randomNumberText(r)
		got, problem := parseInteger([]byte(text), &n, -1<<63, 1<<63-1)
		rat, _ := new(big.Rat).SetString(text)
		switch {
		case !rat.IsInt():
			if problem != problemNotIntegral {
				t.Fatalf("parseInteger(%q) = %d, %q; want %q", text, got, problem, problemNotIntegral)
			}
		case rat.Num().Cmp(lo) < 0 || rat.Num().Cmp(hi) > 0:
			if problem != problemOutOfRange {
				t.Fatalf("parseInteger(%q) = %d, %q; want %q", text, got, problem, problemOutOfRange)
			}
		default:
			if problem != "" || got != rat.Num().Int64() {
				t.Fatalf("parseInteger(%q) = %d, %q; want %d", text, got, problem, rat.Num().Int64())
			}
		}
	}
}
