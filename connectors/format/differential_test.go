package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/eddy-streams/eddy/sql/types"
)

// refDecode is a slow, obviously-correct JSON decoder built on encoding/json
// and math/big that follows the rules in doc.go. The fast decoder must agree
// with it on every record: the same values, or both an error.
func refDecode(rec []byte, cols types.Schema) ([]any, error) {
	d := json.NewDecoder(bytes.NewReader(rec))
	d.UseNumber()
	var fields map[string]json.RawMessage
	if err := d.Decode(&fields); err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, errors.New("not an object")
	}
	var extra json.RawMessage
	if err := d.Decode(&extra); err != io.EOF {
		return nil, errors.New("extra data")
	}
	out := make([]any, len(cols))
	for k, c := range cols {
		raw, ok := fields[c.Name]
		if !ok {
			for name, v := range fields {
				if strings.EqualFold(name, c.Name) {
					raw, ok = v, true
				}
			}
		}
		if !ok {
			continue
		}
		v, err := refConvert(raw, c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		out[k] = v
	}
	return out, nil
}

func refConvert(raw json.RawMessage, t types.Type) (any, error) {
	if t.Kind == types.JSON {
		if string(raw) == "null" {
			return nil, nil
		}
		return string(raw), nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	var num string // the number's text, from a number or a string
	switch v := v.(type) {
	case json.Number:
		num = string(v)
	case string:
		num = strings.TrimSpace(v)
	}
	switch t.Kind {
	case types.Boolean:
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil && len(strings.TrimSpace(v)) > 1 {
				return b, nil
			}
		}
		return nil, errors.New("not a boolean")
	case types.Varchar:
		switch v := v.(type) {
		case string:
			return v, nil
		case json.Number:
			return string(v), nil
		case bool:
			return strconv.FormatBool(v), nil
		}
		return nil, errors.New("not a string")
	case types.BigInt:
		r, ok := new(big.Rat).SetString(num)
		if !ok || num == "" || !r.IsInt() || !r.Num().IsInt64() {
			return nil, errors.New("not a bigint")
		}
		return r.Num().Int64(), nil
	case types.Double:
		if num == "" {
			return nil, errors.New("not a double")
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, err
		}
		return f, nil
	case types.Decimal:
		r, ok := new(big.Rat).SetString(num)
		if !ok || num == "" {
			return nil, errors.New("not a decimal")
		}
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil)))
		q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(r.Denom()) >= 0 { // half away from zero
			q.Add(q, big.NewInt(int64(r.Sign())))
		}
		if new(big.Int).Abs(q).Cmp(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Precision)), nil)) >= 0 {
			return nil, errors.New("decimal overflow")
		}
		return decimal128.FromBigInt(q), nil
	case types.Timestamp:
		if s, ok := v.(string); ok {
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
				if tm, err := time.Parse(layout, s); err == nil {
					ms := tm.UnixMilli()
					if tm.UnixNano()%1e6 < 0 {
						ms--
					}
					return tsMs(ms), nil
				}
			}
			if _, err := strconv.ParseFloat(num, 64); err != nil {
				return nil, errors.New("not a timestamp")
			}
		}
		r, ok := new(big.Rat).SetString(num)
		if !ok {
			return nil, errors.New("not a timestamp")
		}
		q := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: floor for positive denominators
		if !q.IsInt64() || q.Int64() < minTimestampMs || q.Int64() > maxTimestampMs {
			return nil, errors.New("timestamp out of range")
		}
		return tsMs(q.Int64()), nil
	}
	return nil, errors.New("unsupported type")
}

// randomValue writes a JSON value for a column of type t: usually a valid one
// in one of its accepted forms, sometimes one of another type.
func randomValue(r *rand.Rand, t types.Type) string {
	if r.IntN(12) == 0 {
		return []string{`null`, `true`, `"x"`, `{"a":[1,{}]}`, `[]`, `-0.5`, `""`, `1e999`}[r.IntN(8)]
	}
	switch t.Kind {
	case types.Boolean:
		return []string{`true`, `false`, `"True"`, `"FALSE"`}[r.IntN(4)]
	case types.BigInt:
		switch r.IntN(5) {
		case 0:
			return strconv.FormatInt(r.Int64()-r.Int64(), 10)
		case 1:
			return fmt.Sprintf(`"%d"`, r.IntN(1000)-500)
		case 2:
			return fmt.Sprintf(`%d.%de%d`, r.IntN(100), r.IntN(100), r.IntN(4))
		case 3:
			return `9223372036854775808`
		}
		return strconv.Itoa(r.IntN(100000))
	case types.Double:
		switch r.IntN(4) {
		case 0:
			return strconv.FormatFloat(r.NormFloat64()*1e6, 'g', -1, 64)
		case 1:
			return fmt.Sprintf(`"%g"`, r.Float64())
		case 2:
			return fmt.Sprintf(`%de%d`, r.IntN(10), r.IntN(40)-20)
		}
		return strconv.Itoa(r.IntN(1000))
	case types.Decimal:
		digits := func(n int) string {
			var b strings.Builder
			for range n {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
			return b.String()
		}
		s := digits(1 + r.IntN(int(t.Precision-t.Scale)+1))
		if r.IntN(3) > 0 {
			s += "." + digits(1+r.IntN(int(t.Scale)+3))
		}
		if r.IntN(3) == 0 {
			s = "-" + s
		}
		if s[0] == '0' || s[0] == '-' && s[1] == '0' { // JSON forbids leading zeros
			s = strings.Replace(s, "0", "1", 1)
		}
		if r.IntN(4) == 0 {
			s = `"` + s + `"`
		}
		return s
	case types.Varchar:
		switch r.IntN(4) {
		case 0:
			return `"` + []string{`plain`, `with \"quotes\"`, `\u00e9\ud83d\ude00`, `tab\there`, `é日本`, ``}[r.IntN(6)] + `"`
		case 1:
			return strconv.Itoa(r.IntN(100))
		}
		return fmt.Sprintf(`"v%d"`, r.IntN(1000))
	case types.JSON:
		return []string{`{"a":1}`, `[1,"x",null]`, `"s"`, `12.5`, `true`, `{}`}[r.IntN(6)]
	case types.Timestamp:
		ms := r.Int64N(4102444800000) - 1000000000000
		tm := time.UnixMilli(ms).UTC()
		switch r.IntN(6) {
		case 0:
			return strconv.FormatInt(ms, 10)
		case 1:
			return `"` + tm.Format("2006-01-02T15:04:05.000Z07:00") + `"`
		case 2:
			return `"` + tm.In(time.FixedZone("", (r.IntN(48)-24)*1800)).Format("2006-01-02T15:04:05.999999Z07:00") + `"`
		case 3:
			return `"` + tm.Format("2006-01-02 15:04:05") + `"`
		case 4:
			return fmt.Sprintf(`"%d"`, ms)
		}
		return `"` + tm.Format("2006-01-02") + `"`
	}
	return `null`
}

var allTypes = []types.Type{types.BooleanType, types.BigIntType, types.DoubleType, types.DecimalType(12, 3),
	types.DecimalType(38, 10), types.DecimalType(4, 0), types.VarcharType, types.JSONType, types.TimestampType}

// TestDifferentialJSON decodes random records with the fast decoder and the
// encoding/json reference and compares.
func TestDifferentialJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	decoded, failed := 0, 0
	defer func() {
		t.Logf("%d records decoded, %d failed in both", decoded, failed)
		if decoded < 1000 || failed < 1000 {
			t.Errorf("the generator made %d good and %d bad records; it should make many of both", decoded, failed)
		}
	}()
	for round := range 200 {
		n := 1 + r.IntN(7)
		schema := make(types.Schema, n)
		for i := range schema {
			schema[i] = types.Column{Name: fmt.Sprintf("col%d", i), Type: allTypes[r.IntN(len(allTypes))]}
		}
		d, err := NewDecoder("json", schema, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		rd, _ := d.Project(nil)
		var want [][]any
		for range 50 {
			var b strings.Builder
			b.WriteString("{")
			first := true
			for i, c := range schema {
				if r.IntN(8) == 0 {
					continue // missing
				}
				if !first {
					b.WriteString([]string{",", " , ", ",\n"}[r.IntN(3)])
				}
				first = false
				name := c.Name
				if r.IntN(6) == 0 {
					name = strings.ToUpper(name)
				}
				fmt.Fprintf(&b, `"%s":%s`, name, randomValue(r, schema[i].Type))
				if r.IntN(5) == 0 {
					b.WriteString(`,"extra":{"x":[1,2,{"y":"z"}]}`)
				}
			}
			b.WriteString("}")
			rec := b.String()
			ref, refErr := refDecode([]byte(rec), schema)
			ok, err := rd.Append([]byte(rec))
			if (refErr == nil) != (err == nil) || ok != (err == nil) {
				t.Fatalf("round %d, %s: reference error %v, decoder error %v", round, rec, refErr, err)
			}
			if err == nil {
				want = append(want, ref)
				decoded++
			} else {
				failed++
			}
		}
		arrs := rd.NewArrays()
		got := rowsOf(arrs)
		for i := range want {
			if !sameRow(got[i], want[i]) {
				t.Fatalf("round %d row %d:\n got %v\nwant %v", round, i, got[i], want[i])
			}
		}
		releaseAll(arrs)
		rd.Release()
	}
}

// randomRow makes a row of Go values for schema (the values valueAt returns).
func randomRow(r *rand.Rand, schema types.Schema) []any {
	row := make([]any, len(schema))
	for k, c := range schema {
		if r.IntN(8) == 0 {
			continue
		}
		switch c.Type.Kind {
		case types.Boolean:
			row[k] = r.IntN(2) == 0
		case types.BigInt:
			row[k] = []int64{r.Int64(), -r.Int64(), int64(r.IntN(100)), math.MinInt64, math.MaxInt64}[r.IntN(5)]
		case types.Double:
			row[k] = []float64{r.NormFloat64() * 1e9, r.Float64(), math.Float64frombits(r.Uint64()), math.Inf(1), math.NaN(), 0, 1e300}[r.IntN(7)]
		case types.Decimal:
			var digits strings.Builder
			digits.WriteByte('0')
			for range r.IntN(int(c.Type.Precision)) + 1 {
				digits.WriteByte(byte('0' + r.IntN(10)))
			}
			v, _ := new(big.Int).SetString(digits.String(), 10)
			if r.IntN(2) == 0 {
				v.Neg(v)
			}
			row[k] = decimal128.FromBigInt(v)
		case types.Varchar:
			runes := []rune{'a', 'Z', ' ', ',', '"', '\\', '\n', '\r', '\t', 0, 'é', '日', '😀', '\u2028', '/', '<'}
			var b strings.Builder
			for range r.IntN(12) {
				b.WriteRune(runes[r.IntN(len(runes))])
			}
			row[k] = b.String()
		case types.JSON:
			row[k] = []string{`{"a":[1,2]}`, `"x,y"`, `12.5`, `[]`, `{"q":"\"","n":null}`, `true`}[r.IntN(6)]
		case types.Timestamp:
			row[k] = tsMs(r.Int64N(maxTimestampMs-minTimestampMs) + minTimestampMs)
		}
	}
	return row
}

// TestRoundTrip encodes random rows as JSON and CSV and decodes them back.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 100 {
		n := 1 + r.IntN(8)
		schema := make(types.Schema, n)
		for i := range schema {
			schema[i] = types.Column{Name: fmt.Sprintf("c%d", i), Type: allTypes[r.IntN(len(allTypes))]}
		}
		rows := make([][]any, 20)
		for i := range rows {
			rows[i] = randomRow(r, schema)
		}
		for _, format := range []string{"json", "csv"} {
			if format == "csv" && len(schema) == 1 && schema[0].Type.Kind == types.JSON {
				// One nullable JSON column: NULL and an empty line are the same CSV record.
				continue
			}
			rec := buildRecord(t, schema, rows)
			enc, err := NewEncoder(format, schema, nil)
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewDecoder(format, schema, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			rd, _ := d.Project(nil)
			err = enc.EachRow(rec, func(i int, text []byte) error {
				if _, err := rd.Append(text); err != nil {
					return fmt.Errorf("row %d %s: %w", i, text, err)
				}
				return nil
			})
			rec.Release()
			if err != nil {
				t.Fatalf("round %d %s: %v", round, format, err)
			}
			arrs := rd.NewArrays()
			got := rowsOf(arrs)
			for i := range rows {
				if !sameRow(got[i], rows[i]) {
					t.Fatalf("round %d %s row %d:\n got %#v\nwant %#v", round, format, i, got[i], rows[i])
				}
			}
			releaseAll(arrs)
			rd.Release()
		}
	}
}
