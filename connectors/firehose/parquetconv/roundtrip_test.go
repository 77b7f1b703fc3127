package parquetconv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The round trip: generated records (every type, nesting, nulls, missing
// fields, any-case keys, numbers in strings, several timestamp forms) are
// written, read back with parquet-go's reader and compared field by field
// with values the generator computed itself from the same random choices.

const roundTripSchema = `{"columns":[
 {"name":"s","type":"string"},
 {"name":"i","type":"int"},
 {"name":"b","type":"bigint"},
 {"name":"f","type":"float"},
 {"name":"d","type":"double"},
 {"name":"ok","type":"boolean"},
 {"name":"ts","type":"timestamp"},
 {"name":"dt","type":"date"},
 {"name":"dec9","type":"decimal(9,2)"},
 {"name":"dec18","type":"decimal(18,4)"},
 {"name":"dec30","type":"decimal(30,5)"},
 {"name":"arr","type":"array<bigint>"},
 {"name":"items","type":"array<struct<id:bigint,tags:map<string,string>>>"},
 {"name":"m","type":"map<string,double>"},
 {"name":"st","type":"struct<a:int,inner:struct<x:string,y:array<double>>>"},
 {"name":"nested","type":"array<array<int>>"}
]}`

type recordGen struct {
	r *rand.Rand
}

// jsonValue renders v as JSON text.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (g *recordGen) word() string {
	words := []string{"alpha", "Beta", "héllo ✓", `quote"d`, "back\\slash", "tab\there", "<tag>&", "", "x", "日本語"}
	return words[g.r.IntN(len(words))]
}

// anyCase changes the case of some letters of a key.
func (g *recordGen) anyCase(k string) string {
	b := []byte(k)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && g.r.IntN(3) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// value returns JSON text for a value of type t and the value expected back
// (nil for null). Decimal columns are checked separately (want is *big.Int).
func (g *recordGen) value(t *Type) (string, any) {
	if g.r.IntN(8) == 0 {
		return "null", nil
	}
	quote := g.r.IntN(4) == 0 // numbers in strings, as OpenX accepts
	switch t.Kind {
	case KindString:
		switch g.r.IntN(6) {
		case 0:
			return "12.50", "12.50" // a number's text
		case 1:
			return "true", "true"
		}
		w := g.word()
		return jsonText(w), w
	case KindInt:
		v := int64(int32(g.r.Uint32()))
		switch {
		case g.r.IntN(6) == 0:
			return strconv.FormatInt(v, 10) + ".0", v
		case quote:
			return `"` + strconv.FormatInt(v, 10) + `"`, v
		}
		return strconv.FormatInt(v, 10), v
	case KindBigint:
		v := int64(g.r.Uint64())
		switch g.r.IntN(10) {
		case 0:
			v = math.MinInt64
		case 1:
			v = math.MaxInt64
		case 2:
			return "1e3", int64(1000)
		}
		if quote {
			return `"` + strconv.FormatInt(v, 10) + `"`, v
		}
		return strconv.FormatInt(v, 10), v
	case KindFloat:
		v := float32(g.r.NormFloat64() * 1e3)
		return strconv.FormatFloat(float64(v), 'g', -1, 32), float64(v)
	case KindDouble:
		v := g.r.NormFloat64() * 1e6
		if quote {
			return `"` + strconv.FormatFloat(v, 'g', -1, 64) + `"`, v
		}
		return strconv.FormatFloat(v, 'g', -1, 64), v
	case KindBoolean:
		v := g.r.IntN(2) == 0
		if quote {
			return `"` + g.anyCase(strconv.FormatBool(v)) + `"`, v
		}
		return strconv.FormatBool(v), v
	case KindTimestamp:
		return g.timestamp()
	case KindDate:
		days := g.r.Int64N(200*365) - 70*365
		d := time.Unix(days*86400, 0).UTC()
		layout := "2006-01-02"
		if g.r.IntN(3) == 0 {
			layout = "2006-1-2"
		}
		return `"` + d.Format(layout) + `"`, days
	case KindDecimal:
		return g.decimal(t.Precision, t.Scale, quote)
	case KindArray:
		n := g.r.IntN(4)
		parts := make([]string, n)
		want := make([]any, n)
		for i := range n {
			parts[i], want[i] = g.value(t.Elem)
		}
		return "[" + strings.Join(parts, ",") + "]", want
	case KindMap:
		n := g.r.IntN(4)
		want := map[string]any{}
		var parts []string
		for i := range n {
			k := fmt.Sprintf("k%d-%s", i, g.word())
			js, v := g.value(t.Elem)
			parts = append(parts, jsonText(k)+":"+js)
			want[k] = v
		}
		return "{" + strings.Join(parts, ",") + "}", want
	case KindStruct:
		return g.object(t.Fields)
	}
	panic("unhandled kind")
}

// object renders fields in random order with any-case keys, some missing,
// plus unknown fields.
func (g *recordGen) object(fields []Column) (string, any) {
	want := map[string]any{}
	var parts []string
	for _, f := range fields {
		want[f.Name] = nil
		if g.r.IntN(8) == 0 {
			continue // missing: null
		}
		js, v := g.value(&f.Type)
		want[f.Name] = v
		parts = append(parts, jsonText(g.anyCase(f.Name))+":"+js)
	}
	if g.r.IntN(3) == 0 {
		parts = append(parts, `"unknown_field":{"deep":[1,{"x":null}],"s":"\u00e9"}`)
	}
	g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return "{" + strings.Join(parts, ", ") + "}", want
}

// timestamp picks an instant and renders it in one of the OpenX forms; want is
// what each form keeps of it, computed with package time.
func (g *recordGen) timestamp() (string, any) {
	t := time.Unix(g.r.Int64N(200*365*86400)-70*365*86400, g.r.Int64N(1e9)).UTC()
	switch g.r.IntN(7) {
	case 0:
		return `"` + t.Format("2006-01-02T15:04:05Z") + `"`, t.Truncate(time.Second).UnixMicro()
	case 1:
		return `"` + t.Format("2006-01-02T15:04:05.000Z") + `"`, t.Truncate(time.Millisecond).UnixMicro()
	case 2:
		return `"` + t.Format("2006-01-02T15:04:05.000000000Z") + `"`, t.Truncate(time.Microsecond).UnixMicro()
	case 3:
		return `"` + t.Format("2006-01-02 15:04:05.000000") + `"`, t.Truncate(time.Microsecond).UnixMicro()
	case 4:
		zone := time.FixedZone("", (5*60+30)*60)
		return `"` + t.In(zone).Format("2006-01-02T15:04:05-07:00") + `"`, t.Truncate(time.Second).UnixMicro()
	case 5:
		ms := t.UnixMilli()
		if ms > -1e11 && ms < 1e11 {
			// too small to read as milliseconds: the seconds form
			return strconv.FormatInt(t.Unix(), 10), t.Truncate(time.Second).UnixMicro()
		}
		return strconv.FormatInt(ms, 10), ms * 1000
	default:
		if t.Unix() < 0 {
			return strconv.FormatInt(t.Unix(), 10), t.Truncate(time.Second).UnixMicro()
		}
		return fmt.Sprintf("%d.%03d", t.Unix(), t.Nanosecond()/1e6), t.Truncate(time.Millisecond).UnixMicro()
	}
}

// decimal renders a random value of at most precision digits; sometimes with
// two extra fraction digits that must round half away from zero.
func (g *recordGen) decimal(precision, scale int, quote bool) (string, any) {
	n := 1 + g.r.IntN(precision-1) // leave room for a carry when rounding
	digits := make([]byte, n)
	for i := range digits {
		digits[i] = byte('0' + g.r.IntN(10))
	}
	unscaled, _ := new(big.Int).SetString(string(digits), 10)
	if g.r.IntN(2) == 0 {
		unscaled.Neg(unscaled)
	}
	extra := 0
	if g.r.IntN(3) == 0 {
		extra = 2
	}
	text := formatScaled(unscaled, scale+extra)
	want := unscaled
	if extra > 0 {
		want = roundHalfAway(unscaled, 100)
	}
	if quote {
		return `"` + text + `"`, want
	}
	return text, want
}

// formatScaled writes unscaled / 10^scale in plain decimal notation.
func formatScaled(unscaled *big.Int, scale int) string {
	s := new(big.Int).Abs(unscaled).String()
	for len(s) <= scale {
		s = "0" + s
	}
	if scale > 0 {
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// roundHalfAway divides by d rounding half away from zero.
func roundHalfAway(v *big.Int, d int64) *big.Int {
	q, r := new(big.Int).QuoRem(v, big.NewInt(d), new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(big.NewInt(d)) >= 0 {
		q.Add(q, big.NewInt(int64(v.Sign())))
	}
	return q
}

func TestRoundTrip(t *testing.T) {
	cols, err := ParseSchemaFile([]byte(roundTripSchema))
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []struct {
		name string
		o    Options
	}{
		{"snappy-v1", Options{}},
		{"zstd-v2-dict-small-groups", Options{Parquet: ParquetSerDe{Compression: "zstd", WriterVersion: "V2", EnableDictionaryCompression: true, BlockSizeBytes: 4 << 10, PageSizeBytes: 1 << 10}}},
		{"gzip", Options{Parquet: ParquetSerDe{Compression: "GZIP"}}},
		{"uncompressed", Options{Parquet: ParquetSerDe{Compression: "UNCOMPRESSED"}}},
	} {
		t.Run(opts.name, func(t *testing.T) {
			g := &recordGen{r: rand.New(rand.NewPCG(1, uint64(len(opts.name))))}
			var buf bytes.Buffer
			w, err := NewWriter(&buf, cols, opts.o)
			if err != nil {
				t.Fatal(err)
			}
			const n = 300
			var records []string
			var wants []map[string]any
			for range n {
				js, want := g.object(cols)
				if err := w.Write([]byte(js)); err != nil {
					t.Fatalf("record %s: %v", js, err)
				}
				records = append(records, js)
				wants = append(wants, want.(map[string]any))
			}
			if w.Rows() != n {
				t.Fatalf("Rows() = %d, want %d", w.Rows(), n)
			}
			if w.BufferedBytes() <= 0 {
				t.Fatalf("BufferedBytes() = %d after %d rows", w.BufferedBytes(), n)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, f := readBack(t, buf.Bytes())
			if len(got) != n {
				t.Fatalf("read %d rows, want %d", len(got), n)
			}
			if opts.o.Parquet.BlockSizeBytes != 0 && len(f.RowGroups()) < 2 {
				t.Errorf("BlockSizeBytes %d gave %d row group(s), want several", opts.o.Parquet.BlockSizeBytes, len(f.RowGroups()))
			}
			decCols := map[string]int{}
			for i, c := range cols {
				if c.Type.Kind == KindDecimal {
					decCols[c.Name] = i
				}
			}
			for name, col := range decCols {
				raw := readRawColumn(t, f, leafIndex(cols, col))
				for i := range n {
					want, _ := wants[i][name].(*big.Int)
					gotv, _ := raw[i].(*big.Int)
					if (want == nil) != (gotv == nil) || want != nil && want.Cmp(gotv) != 0 {
						t.Errorf("row %d column %s: got %v, want %v\nrecord: %s", i, name, gotv, want, records[i])
					}
				}
			}
			for i := range n {
				for name := range decCols {
					delete(wants[i], name)
					delete(got[i], name)
				}
				for k, want := range wants[i] {
					if !reflect.DeepEqual(got[i][k], want) {
						t.Errorf("row %d column %s: got %#v, want %#v\nrecord: %s", i, k, got[i][k], want, records[i])
					}
				}
			}
		})
	}
}

// leafIndex is the first leaf column of top-level column col.
func leafIndex(cols []Column, col int) int {
	n := 0
	for i := range col {
		n += countLeaves(&cols[i].Type)
	}
	return n
}

func countLeaves(t *Type) int {
	switch t.Kind {
	case KindArray:
		return countLeaves(t.Elem)
	case KindMap:
		return 1 + countLeaves(t.Elem)
	case KindStruct:
		n := 0
		for i := range t.Fields {
			n += countLeaves(&t.Fields[i].Type)
		}
		return n
	}
	return 1
}
