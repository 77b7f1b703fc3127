package oracle

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// The Firehose oracle: JSON records of every type Parquet conversion knows
// go through `eddy firehose put` and `eddy firehose deliver`; DuckDB reads
// every delivered object, and each row and each aggregate must equal what
// this file computes from the generated values (never from eddy's output).

// fhType is a column type: a tree of kinds.
type fhType struct {
	kind   string // string int bigint float double boolean timestamp date decimal array map struct
	p, s   int    // decimal precision and scale
	elem   *fhType
	fields []fhField
}

type fhField struct {
	name string
	t    *fhType
}

// hive is the type's Hive spelling, as the schema file takes it.
func (t *fhType) hive() string {
	switch t.kind {
	case "decimal":
		return fmt.Sprintf("decimal(%d,%d)", t.p, t.s)
	case "array":
		return "array<" + t.elem.hive() + ">"
	case "map":
		return "map<string," + t.elem.hive() + ">"
	case "struct":
		var parts []string
		for _, f := range t.fields {
			parts = append(parts, f.name+":"+f.t.hive())
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	return t.kind
}

func prim(kind string) *fhType { return &fhType{kind: kind} }

// fhColumns is the schema: every type the conversion supports, nested too.
var fhColumns = []fhField{
	{"id", prim("bigint")},
	{"s", prim("string")},
	{"i", prim("int")},
	{"b", prim("bigint")},
	{"f", prim("float")},
	{"d", prim("double")},
	{"ok", prim("boolean")},
	{"ts", prim("timestamp")},
	{"day", prim("date")},
	{"dsmall", &fhType{kind: "decimal", p: 7, s: 2}},
	{"dec", &fhType{kind: "decimal", p: 15, s: 3}},
	{"dbig", &fhType{kind: "decimal", p: 30, s: 4}},
	{"tags", &fhType{kind: "array", elem: prim("string")}},
	{"nums", &fhType{kind: "array", elem: prim("int")}},
	{"attrs", &fhType{kind: "map", elem: prim("bigint")}},
	{"st", &fhType{kind: "struct", fields: []fhField{
		{"name", prim("string")},
		{"score", prim("double")},
		{"at", prim("timestamp")},
		{"sub", &fhType{kind: "struct", fields: []fhField{
			{"x", prim("int")},
			{"flags", &fhType{kind: "array", elem: prim("boolean")}},
			{"amounts", &fhType{kind: "map", elem: &fhType{kind: "decimal", p: 9, s: 2}}},
		}}},
	}}},
	{"events", &fhType{kind: "array", elem: &fhType{kind: "struct", fields: []fhField{
		{"k", prim("string")},
		{"n", prim("bigint")},
		{"when", prim("date")},
	}}}},
}

// Expected values use the Go types DuckDB's driver returns, so one
// canonical form serves both sides: int32, int64, float32, float64, bool,
// string, time.Time (timestamps and dates), duckdb.Decimal, []any,
// duckdb.OrderedMap and map[string]any (structs); nil is NULL.

// fhGen generates JSON text and the value it must convert to.
type fhGen struct {
	rng *rand.Rand
}

var fhStrings = []string{"", "  leading spaces", "\t", "plain", "with \"quotes\"", "tab\tnew\nline", "café", "日本語", "emoji 🚀", `back\slash`, "<html>&amp;", "\u0001ctl", "NULL", "null"}

func (g *fhGen) intIn(lo, hi int64) int64 { return lo + g.rng.Int64N(hi-lo+1) }

// value returns the JSON text of a value of type t and what it converts to.
func (g *fhGen) value(t *fhType) (string, any) {
	r := g.rng
	switch t.kind {
	case "string":
		if r.IntN(15) == 0 {
			n := g.intIn(-1e6, 1e6) // a number in a string column is its text
			return strconv.FormatInt(n, 10), strconv.FormatInt(n, 10)
		}
		s := fhStrings[r.IntN(len(fhStrings))] + strconv.Itoa(r.IntN(100))
		b, _ := json.Marshal(s)
		return string(b), s
	case "int", "bigint":
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if t.kind == "bigint" {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		var n int64
		switch r.IntN(10) {
		case 0:
			n = lo
		case 1:
			n = hi
		case 2, 3, 4:
			n = g.intIn(-1000, 1000)
		default:
			if t.kind == "int" {
				n = int64(int32(r.Uint32()))
			} else {
				n = int64(r.Uint64())
			}
		}
		text := strconv.FormatInt(n, 10)
		switch r.IntN(8) {
		case 0:
			text = `"` + text + `"` // a numeric string
		case 1:
			text += ".0" // integral with a fraction
		}
		if t.kind == "int" {
			return text, int32(n)
		}
		return text, n
	case "float":
		x := float32((r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(20)-8)))
		return strconv.FormatFloat(float64(x), 'g', -1, 32), x
	case "double":
		x := (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(40)-15))
		if r.IntN(20) == 0 {
			x = float64(g.intIn(-1000, 1000)) // integral text
		}
		text := strconv.FormatFloat(x, 'g', -1, 64)
		if r.IntN(10) == 0 {
			text = `"` + text + `"`
		}
		return text, x
	case "boolean":
		v := r.IntN(2) == 0
		if r.IntN(8) == 0 {
			if v {
				return `"TRUE"`, v
			}
			return `"False"`, v
		}
		return strconv.FormatBool(v), v
	case "timestamp":
		// From 1975: epoch milliseconds of earlier times are below 10^11,
		// which reads as epoch seconds.
		t := time.Date(1975+r.IntN(55), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e6)*1000, time.UTC)
		switch r.IntN(5) {
		case 0:
			return `"` + t.Format("2006-01-02 15:04:05.000000") + `"`, t
		case 1:
			z := time.FixedZone("", (r.IntN(27)-12)*3600+r.IntN(2)*1800)
			return `"` + t.In(z).Format("2006-01-02T15:04:05.999999-07:00") + `"`, t
		case 2:
			t = t.Truncate(time.Second)
			return `"` + t.Format("2006-01-02T15:04:05Z") + `"`, t
		case 3:
			t = t.Truncate(time.Millisecond)
			return strconv.FormatInt(t.UnixMilli(), 10), t // epoch milliseconds
		default:
			t = t.Truncate(time.Second)
			return strconv.FormatInt(t.Unix(), 10), t // epoch seconds
		}
	case "date":
		d := time.Date(1900+r.IntN(200), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		if r.IntN(4) == 0 {
			return fmt.Sprintf(`"%d-%d-%d"`, d.Year(), d.Month(), d.Day()), d // one-digit month and day
		}
		return `"` + d.Format("2006-01-02") + `"`, d
	case "decimal":
		return g.decimal(t)
	case "array":
		n := r.IntN(5)
		var parts []string
		out := []any{}
		for range n {
			if r.IntN(8) == 0 {
				parts = append(parts, "null")
				out = append(out, nil)
				continue
			}
			text, v := g.value(t.elem)
			parts = append(parts, text)
			out = append(out, v)
		}
		return "[" + strings.Join(parts, ", ") + "]", out
	case "map":
		n := r.IntN(4)
		var parts []string
		out := duckdb.OrderedMap{}
		for j := range n {
			k := fmt.Sprintf("k%d_%d", j, r.IntN(50))
			kt, _ := json.Marshal(k)
			if r.IntN(8) == 0 {
				parts = append(parts, string(kt)+":null")
				out.Set(k, nil)
				continue
			}
			text, v := g.value(t.elem)
			parts = append(parts, string(kt)+":"+text)
			out.Set(k, v)
		}
		return "{" + strings.Join(parts, ",") + "}", out
	case "struct":
		return g.object(t.fields, false)
	}
	panic("unknown kind " + t.kind)
}

// object returns a JSON object of fields (each present, null or missing, in
// random order, with an unknown key now and then) and its expected struct.
func (g *fhGen) object(fields []fhField, top bool) (string, any) {
	r := g.rng
	out := map[string]any{}
	var parts []string
	for i, f := range fields {
		out[f.name] = nil
		if top && i == 0 {
			continue // the caller writes the id
		}
		switch p := r.IntN(20); {
		case p < 3:
			// missing
		case p < 5:
			parts = append(parts, fmt.Sprintf("%q: null", f.name))
		default:
			text, v := g.value(f.t)
			parts = append(parts, fmt.Sprintf("%q:%s", f.name, text))
			out[f.name] = v
		}
	}
	if r.IntN(10) == 0 {
		parts = append(parts, `"unknown_key":{"a":[1,2,{"b":null}]}`)
	}
	r.Shuffle(len(parts), func(a, b int) { parts[a], parts[b] = parts[b], parts[a] })
	return "{" + strings.Join(parts, ",") + "}", out
}

// decimal writes a decimal(p,s) with up to two digits more than the scale,
// which round half away from zero, as a number or a string.
func (g *fhGen) decimal(t *fhType) (string, any) {
	r := g.rng
	intDigits := r.IntN(t.p - t.s + 1) // integer digits, leaving room for rounding up
	if intDigits == t.p-t.s && intDigits > 0 {
		intDigits-- // rounding could carry into one digit too many
	}
	extra := r.IntN(3)
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	ip, fp := strings.TrimLeft(digits(intDigits), "0"), digits(t.s+extra)
	if ip == "" {
		ip = "0" // JSON numbers have no leading zeros
	}
	neg := r.IntN(2) == 0
	text := ip
	if fp != "" {
		text += "." + fp
	}
	if neg {
		text = "-" + text
	}
	// Expected: the unscaled value rounded to s places, half away from zero.
	full, _ := new(big.Int).SetString(ip+fp, 10)
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(extra)), nil)
	q, rem := new(big.Int).QuoRem(full, pow, new(big.Int))
	if extra > 0 && new(big.Int).Mul(rem, big.NewInt(2)).Cmp(pow) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	if r.IntN(3) == 0 {
		text = `"` + text + `"`
	}
	return text, duckdb.Decimal{Width: uint8(t.p), Scale: uint8(t.s), Value: q}
}

// canon is the canonical text of a value of type t, from either side.
func canon(t *fhType, v any) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	switch t.kind {
	case "string":
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("string column holds %T", v)
		}
		return strconv.Quote(s), nil
	case "int", "bigint":
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return strconv.FormatInt(rv.Int(), 10), nil
		}
		return "", fmt.Errorf("%s column holds %T", t.kind, v)
	case "float":
		x, ok := v.(float32)
		if !ok {
			return "", fmt.Errorf("float column holds %T", v)
		}
		return strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case "double":
		x, ok := v.(float64)
		if !ok {
			return "", fmt.Errorf("double column holds %T", v)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("boolean column holds %T", v)
		}
		return strconv.FormatBool(b), nil
	case "timestamp":
		tm, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("timestamp column holds %T", v)
		}
		return "ts:" + strconv.FormatInt(tm.UnixMicro(), 10), nil
	case "date":
		tm, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("date column holds %T", v)
		}
		y, m, d := tm.Date()
		return fmt.Sprintf("date:%04d-%02d-%02d", y, m, d), nil
	case "decimal":
		d, ok := v.(duckdb.Decimal)
		if !ok {
			return "", fmt.Errorf("decimal column holds %T", v)
		}
		if int(d.Scale) != t.s {
			return "", fmt.Errorf("decimal(%d,%d) column holds scale %d", t.p, t.s, d.Scale)
		}
		return d.Value.String() + "e-" + strconv.Itoa(t.s), nil
	case "array":
		l, ok := v.([]any)
		if !ok {
			return "", fmt.Errorf("array column holds %T", v)
		}
		parts := make([]string, len(l))
		for i, e := range l {
			c, err := canon(t.elem, e)
			if err != nil {
				return "", fmt.Errorf("[%d]: %w", i, err)
			}
			parts[i] = c
		}
		return "[" + strings.Join(parts, ",") + "]", nil
	case "map":
		m, ok := v.(duckdb.OrderedMap)
		if !ok {
			return "", fmt.Errorf("map column holds %T", v)
		}
		keys, values := m.Keys(), m.Values()
		parts := make([]string, 0, len(keys))
		for j, k := range keys {
			e := values[j]
			ks, ok := k.(string)
			if !ok {
				return "", fmt.Errorf("map key %T", k)
			}
			c, err := canon(t.elem, e)
			if err != nil {
				return "", fmt.Errorf("[%q]: %w", ks, err)
			}
			parts = append(parts, strconv.Quote(ks)+":"+c)
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ",") + "}", nil
	case "struct":
		m, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("struct column holds %T", v)
		}
		if len(m) != len(t.fields) {
			return "", fmt.Errorf("struct with %d fields, want %d", len(m), len(t.fields))
		}
		parts := make([]string, len(t.fields))
		for i, f := range t.fields {
			e, ok := m[f.name]
			if !ok {
				return "", fmt.Errorf("struct without field %s", f.name)
			}
			c, err := canon(f.t, e)
			if err != nil {
				return "", fmt.Errorf(".%s: %w", f.name, err)
			}
			parts[i] = f.name + "=" + c
		}
		return "(" + strings.Join(parts, ",") + ")", nil
	}
	return "", fmt.Errorf("unknown kind %s", t.kind)
}

// fhRecord is one generated record: its JSON text and, unless it is one that
// must fail conversion, its expected row.
type fhRecord struct {
	line string
	row  map[string]any // nil: invalid
}

func genFirehose(seed uint64, n int) []fhRecord {
	g := &fhGen{rng: rand.New(rand.NewPCG(seed, 0xf1e))}
	out := make([]fhRecord, n)
	ids := g.rng.Perm(n) // ids in no particular order
	for i := range out {
		id := int64(ids[i])*3 - int64(n)
		if g.rng.IntN(500) == 0 {
			bad := []string{
				fmt.Sprintf(`{"id": %d, "i": 2147483648}`, id),
				fmt.Sprintf(`{"id": %d, "st": {"sub": {"x": "seven"}}}`, id),
				fmt.Sprintf(`{"id": %d, "dsmall": 123456.7}`, id),
				fmt.Sprintf(`{"id": %d, "tags": "not an array"}`, id),
				fmt.Sprintf(`{"id": %d, "day": "2024-02-30x"}`, id),
				fmt.Sprintf(`{"id": %d, "s": "unterminated}`, id),
			}[g.rng.IntN(6)]
			out[i] = fhRecord{line: bad}
			continue
		}
		text, v := g.object(fhColumns, true)
		row := v.(map[string]any)
		row["id"] = id
		idText := fmt.Sprintf(`"id":%d`, id)
		if text == "{}" {
			text = "{" + idText + "}"
		} else {
			text = "{" + idText + "," + text[1:]
		}
		out[i] = fhRecord{line: text, row: row}
	}
	return out
}

// TestFirehoseParquetDuckDB puts 100,000 records with every converted type
// through `eddy firehose put` and `eddy firehose deliver`, reads every
// delivered Parquet object with DuckDB, and requires each valid record
// exactly once, equal field by field to the generated values, the aggregates
// of every numeric column to match, and every invalid record in the error
// output.
func TestFirehoseParquetDuckDB(t *testing.T) {
	n := envInt("EDDY_ORACLE_FIREHOSE_RECORDS", 100_000)
	start := time.Now()
	records := genFirehose(envSeed()+7, n)
	var schema struct {
		Columns []map[string]string `json:"columns"`
	}
	for _, c := range fhColumns {
		schema.Columns = append(schema.Columns, map[string]string{"name": c.name, "type": c.t.hive()})
	}
	schemaJSON, _ := json.Marshal(schema)
	schemaPath := filepath.Join(workDir, "firehose-schema.json")
	if err := os.WriteFile(schemaPath, schemaJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	want := map[int64]map[string]any{}
	invalid := map[string]bool{}
	for _, r := range records {
		in.WriteString(r.line)
		in.WriteByte('\n')
		if r.row == nil {
			invalid[r.line] = true
		} else {
			want[r.row["id"].(int64)] = r.row
		}
	}
	inPath := filepath.Join(workDir, "firehose.jsonl")
	if err := os.WriteFile(inPath, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	const name, bucket = "fh-oracle", "fh-lake"
	eddy(t, "", "firehose", "create", name, "--bucket", bucket, "--parquet", "--schema", schemaPath, "--prefix", "data/",
		"--error-prefix", "errors/", "--buffer-size", "1", "--buffer-interval", "900")
	out := eddy(t, inPath, "firehose", "put", name)
	if !strings.Contains(out, fmt.Sprintf("%d records put", n)) {
		t.Fatalf("eddy firehose put: %s", out)
	}
	eddy(t, "", "firehose", "deliver", name)
	delivered := time.Now()

	root := filepath.Join(workDir, "data", "buckets", bucket)
	var objects, errorObjects []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case strings.HasPrefix(rel, "data/") && strings.HasSuffix(rel, ".parquet"):
			objects = append(objects, p)
		case strings.HasPrefix(rel, "errors/format-conversion-failed/"):
			errorObjects = append(errorObjects, p)
		default:
			t.Errorf("unexpected object %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(objects) < 2 {
		t.Fatalf("%d Parquet objects, want several with a 1 MB buffer", len(objects))
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	glob := strings.ReplaceAll(filepath.Join(root, "data"), "'", "''") + "/**/*.parquet"
	if _, err := db.Exec(`CREATE VIEW fh AS SELECT * FROM read_parquet('` + glob + `')`); err != nil {
		t.Fatal(err)
	}

	// Row by row, field by field, in id order.
	got, diffs, err := compareFirehoseRows(db, want, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range diffs {
		if i == 10 {
			break
		}
		t.Error(d)
	}
	if len(diffs) > 0 {
		t.Fatalf("%d differing fields", len(diffs))
	}
	if got != len(want) {
		t.Fatalf("DuckDB read %d rows, want %d (one per valid record)", got, len(want))
	}
	// Mutants: plausible conversion bugs, applied on DuckDB's side to every
	// 20th row, must be caught, so the data reaches what they break.
	for _, m := range []struct{ column, expr string }{
		{"ts", `ts + INTERVAL 1 HOUR`}, // a time zone applied
		{"st", `struct_pack(name := st.name, score := st.score, at := st.at, sub := st.sub)`}, // a null struct read as a struct of nulls
		{"day", `day - 1`},                                          // dates off by one
		{"tags", `coalesce(tags, [])`},                              // a null list read as empty
		{"nums", `list_filter(nums, x -> x IS NOT NULL)`},           // null elements dropped
		{"d", `CAST(CAST(d AS FLOAT) AS DOUBLE)`},                   // doubles through float
		{"f", `CAST(CAST(f AS DOUBLE) * (1 + 1e-7) AS FLOAT)`},      // floats a few ulps off
		{"dsmall", `CAST(round(dsmall, 1) AS DECIMAL(7,2))`},        // the last decimal digit lost
		{"dbig", `CAST(trunc(dbig) AS DECIMAL(30,4))`},              // fractions of wide decimals lost
		{"i", `CAST(i AS INTEGER) // 2 * 2`},                        // low bits lost
		{"b", `coalesce(try_cast(CAST(b AS DOUBLE) AS BIGINT), b)`}, // bigints through double
		{"s", `trim(s)`},              // whitespace lost
		{"ok", `coalesce(ok, false)`}, // null booleans as false
		{"attrs", `map_from_entries(list_filter(map_entries(attrs), e -> e.value IS NOT NULL))`},         // null map values dropped
		{"events", `list_transform(events, e -> struct_pack(k := e.k, n := e.n, "when" := NULL::DATE))`}, // nested dates lost
	} {
		_, diffs, err := compareFirehoseRows(db, want, map[string]string{m.column: m.expr}, "id % 20 = 0")
		if err != nil {
			t.Fatalf("mutant %s: %v", m.expr, err)
		}
		if len(diffs) == 0 {
			t.Errorf("mutant %s AS %s: no differences found", m.expr, m.column)
		}
	}

	checkFirehoseAggregates(t, db, want)
	checkFirehoseErrors(t, errorObjects, invalid)
	t.Logf("%d records (%d invalid), seed %d: %d Parquet objects, put and delivered in %.1fs, checked in %.1fs",
		n, len(invalid), envSeed()+7, len(objects), delivered.Sub(start).Seconds(), time.Since(delivered).Seconds())
}

// compareFirehoseRows reads the delivered rows (where, when given, selects
// some; exprs replaces columns by expressions) in id order and compares each
// field with the generated records. It returns how many rows it read and a
// description of each difference.
func compareFirehoseRows(db *sql.DB, want map[int64]map[string]any, exprs map[string]string, where string) (int, []string, error) {
	names := make([]string, len(fhColumns))
	for i, c := range fhColumns {
		names[i] = `"` + c.name + `"`
		if e, ok := exprs[c.name]; ok {
			names[i] = e + ` AS "` + c.name + `"`
		}
	}
	q := `SELECT ` + strings.Join(names, ", ") + ` FROM fh`
	if where != "" {
		q += ` WHERE ` + where
	}
	rows, err := db.Query(q + ` ORDER BY id`)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	ids := make([]int64, 0, len(want))
	for id := range want {
		if where == "" || id%20 == 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	vals := make([]any, len(fhColumns))
	ptrs := make([]any, len(fhColumns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	got := 0
	var diffs []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return got, diffs, err
		}
		if got >= len(ids) {
			return got, diffs, fmt.Errorf("more rows than the %d valid records; row %d has id %v", len(ids), got, vals[0])
		}
		w := want[ids[got]]
		for i, c := range fhColumns {
			gc, err := canon(c.t, vals[i])
			if err != nil {
				return got, diffs, fmt.Errorf("row %d (id %v), column %s: DuckDB value %#v: %w", got, vals[0], c.name, vals[i], err)
			}
			wc, err := canon(c.t, w[c.name])
			if err != nil {
				return got, diffs, fmt.Errorf("expected value of id %d, column %s: %w", ids[got], c.name, err)
			}
			if gc != wc {
				diffs = append(diffs, fmt.Sprintf("id %d, column %s:\n got %s\nwant %s", ids[got], c.name, gc, wc))
			}
		}
		got++
	}
	return got, diffs, rows.Err()
}

// checkFirehoseAggregates compares COUNT, COUNT DISTINCT id, and SUM, MIN and
// MAX of every numeric column with the generated values.
func checkFirehoseAggregates(t *testing.T, db *sql.DB, want map[int64]map[string]any) {
	t.Helper()
	type agg struct {
		sql  string
		want string
	}
	var aggs []agg
	count := func(col string) int {
		k := 0
		for _, r := range want {
			if r[col] != nil {
				k++
			}
		}
		return k
	}
	aggs = append(aggs, agg{"COUNT(*)", strconv.Itoa(len(want))}, agg{"COUNT(DISTINCT id)", strconv.Itoa(len(want))})
	for _, c := range fhColumns {
		switch c.t.kind {
		case "int", "bigint", "decimal", "float", "double", "timestamp", "date":
		default:
			continue
		}
		var sum big.Int
		var fsum, fabs float64 // the sum and the sum of magnitudes
		var lo, hi any
		less := func(a, b any) bool {
			switch a := a.(type) {
			case int32:
				return a < b.(int32)
			case int64:
				return a < b.(int64)
			case float32:
				return a < b.(float32)
			case float64:
				return a < b.(float64)
			case time.Time:
				return a.Before(b.(time.Time))
			case duckdb.Decimal:
				return a.Value.Cmp(b.(duckdb.Decimal).Value) < 0
			}
			panic(fmt.Sprintf("%T", a))
		}
		for _, r := range want {
			v := r[c.name]
			if v == nil {
				continue
			}
			if lo == nil || less(v, lo) {
				lo = v
			}
			if hi == nil || less(hi, v) {
				hi = v
			}
			switch x := v.(type) {
			case int32:
				sum.Add(&sum, big.NewInt(int64(x)))
			case int64:
				sum.Add(&sum, big.NewInt(x))
			case duckdb.Decimal:
				sum.Add(&sum, x.Value)
			case float32:
				fsum += float64(x)
				fabs += math.Abs(float64(x))
			case float64:
				fsum += x
				fabs += math.Abs(x)
			}
		}
		cv := func(v any) string {
			s, err := canon(c.t, v)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		col := `"` + c.name + `"`
		aggs = append(aggs, agg{"COUNT(" + col + ")", strconv.Itoa(count(c.name))},
			agg{"MIN(" + col + ")", c.name + ":" + cv(lo)}, agg{"MAX(" + col + ")", c.name + ":" + cv(hi)})
		switch c.t.kind {
		case "int", "bigint":
			aggs = append(aggs, agg{"CAST(SUM(" + col + ") AS VARCHAR)", sum.String()})
		case "decimal":
			// SUM of a DECIMAL(p,s) is a DECIMAL(38,s): its unscaled value.
			aggs = append(aggs, agg{"CAST(SUM(" + col + ") * " + "1" + strings.Repeat("0", c.t.s) + " AS HUGEINT)::VARCHAR", sum.String()})
		case "float", "double":
			// Summed in another order: equal within n·ε of the magnitudes.
			aggs = append(aggs, agg{"SUM(" + col + ")", "~" + strconv.FormatFloat(fsum, 'g', -1, 64) + "~" + strconv.FormatFloat(fabs, 'g', -1, 64)})
		}
	}
	exprs := make([]string, len(aggs))
	for i, a := range aggs {
		exprs[i] = a.sql
	}
	vals := make([]any, len(aggs))
	ptrs := make([]any, len(aggs))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := db.QueryRow(`SELECT ` + strings.Join(exprs, ", ") + ` FROM fh`).Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	for i, a := range aggs {
		var got string
		switch {
		case strings.HasPrefix(a.want, "~"):
			g, ok := vals[i].(float64)
			ws, as, _ := strings.Cut(a.want[1:], "~")
			w, _ := strconv.ParseFloat(ws, 64)
			abs, _ := strconv.ParseFloat(as, 64)
			if !ok || math.Abs(g-w) > 1e-10*abs {
				t.Errorf("%s = %v, want about %v", a.sql, vals[i], w)
			}
			continue
		case strings.HasPrefix(a.sql, "MIN(") || strings.HasPrefix(a.sql, "MAX("):
			colName := strings.Trim(a.sql[4:len(a.sql)-1], `"`)
			for _, c := range fhColumns {
				if c.name == colName {
					s, err := canon(c.t, vals[i])
					if err != nil {
						t.Fatalf("%s: %v", a.sql, err)
					}
					got = colName + ":" + s
				}
			}
		default:
			got = fmt.Sprint(vals[i])
		}
		if got != a.want {
			t.Errorf("%s = %s, want %s", a.sql, got, a.want)
		}
	}
}

// checkFirehoseErrors requires every invalid record, once, in the error
// output, with Firehose's error code and a message.
func checkFirehoseErrors(t *testing.T, paths []string, invalid map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			var doc struct {
				Code    string `json:"lastErrorCode"`
				Message string `json:"lastErrorMessage"`
				Raw     string `json:"rawData"`
			}
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				t.Fatalf("%s: %q: %v", p, line, err)
			}
			raw, err := base64.StdEncoding.DecodeString(doc.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if !invalid[string(raw)] {
				t.Errorf("error output holds %q, which is not an invalid record (%s)", raw, doc.Message)
			}
			if doc.Code != "DataFormatConversion.MalformedData" || doc.Message == "" {
				t.Errorf("error record for %q: code %q, message %q", raw, doc.Code, doc.Message)
			}
			seen[string(raw)]++
		}
	}
	for line := range invalid {
		if seen[line] != 1 {
			t.Errorf("invalid record %q is in the error output %d times", line, seen[line])
		}
	}
}
