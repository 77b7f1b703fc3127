package oracle

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

var (
	eddyBin string // the eddy binary under test
	workDir string // temp dir: data dir, inputs, applications, outputs
)

// TestMain builds eddy from the repository (or takes $EDDY_BIN) once.
func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "eddy-duckdb-oracle-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		workDir = dir
		if eddyBin = os.Getenv("EDDY_BIN"); eddyBin == "" {
			eddyBin = filepath.Join(dir, "eddy")
			start := time.Now()
			build := exec.Command("go", "build", "-o", eddyBin, "./cmd/eddy")
			build.Dir = "../.." // the main module, which this one never imports
			build.Stdout, build.Stderr = os.Stderr, os.Stderr
			if err := build.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "oracle: build eddy:", err)
				return 1
			}
			if testing.Verbose() {
				fmt.Fprintf(os.Stderr, "oracle: built eddy in %.1fs\n", time.Since(start).Seconds())
			}
		}
		return m.Run()
	}())
}

// eddy runs the binary against the shared data dir; stdin is a file path or "".
func eddy(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, eddyBin, append(args, "--data-dir", filepath.Join(workDir, "data"))...)
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("eddy %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// dataset is one stream of generated events, stored in eddy and loaded into
// an in-memory DuckDB database as the table events.
type dataset struct {
	stream string
	shards int
	n      int
	base   int64 // epoch ms of the first event time
	seed   uint64

	once   sync.Once
	err    error
	events []event
	broken int // records no query can decode
	db     *sql.DB
	setup  time.Duration
}

// load generates the events, puts them into eddy and into DuckDB, once.
func (ds *dataset) load(t *testing.T) {
	t.Helper()
	ds.once.Do(func() {
		start := time.Now()
		ds.err = ds.build(t)
		ds.setup = time.Since(start)
		if ds.err == nil {
			t.Logf("dataset %s: %d records (%d undecodable), seed %d, put into eddy and DuckDB in %.1fs",
				ds.stream, len(ds.events), ds.broken, ds.seed, ds.setup.Seconds())
		}
	})
	if ds.err != nil {
		t.Fatalf("dataset %s: %v", ds.stream, ds.err)
	}
}

func (ds *dataset) build(t *testing.T) error {
	ds.events = genEvents(ds.seed, ds.n, ds.base)
	var in bytes.Buffer
	for _, e := range ds.events {
		in.WriteString(e.line)
		in.WriteByte('\n')
		if e.broken {
			ds.broken++
		}
	}
	inPath := filepath.Join(workDir, ds.stream+".jsonl")
	if err := os.WriteFile(inPath, in.Bytes(), 0o644); err != nil {
		return err
	}
	eddy(t, "", "streams", "create", ds.stream, "--shards", strconv.Itoa(ds.shards))
	// No partition key: records spread over the shards at random, each shard
	// keeping the file's order of its records.
	eddy(t, inPath, "put", ds.stream)

	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1) // one in-memory database, one connection
	ds.db = db
	if _, err := db.Exec(`CREATE TABLE raw (id BIGINT, k1 VARCHAR, k2 BIGINT, v BIGINT, d DOUBLE, price DECIMAL(12,2),
		ts_ms BIGINT, bad VARCHAR)`); err != nil {
		return err
	}
	if err := ds.append(); err != nil {
		return fmt.Errorf("append to DuckDB: %w", err)
	}
	// ts is the event time as a TIMESTAMP; hop_starts(slide, size) lists every
	// window start (a multiple of slide, in epoch ms) that can hold an event;
	// exact_avg2(x) is the exact average of a DECIMAL(p,2) as "p/q".
	for _, stmt := range []string{
		`CREATE TABLE events AS SELECT *, epoch_ms(ts_ms) AS ts FROM raw`,
		`CREATE MACRO hop_starts(slide, size) AS TABLE
		   SELECT unnest(range(lo, hi, slide)) AS ws
		   FROM (SELECT CAST(floor(min(ts_ms) / slide) - ceil(size / slide) AS BIGINT) * slide AS lo, max(ts_ms) + 1 AS hi FROM events)`,
		`CREATE MACRO exact_avg2(x) AS CAST(SUM(x) * 100 AS HUGEINT) || '/' || (COUNT(x) * 100)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM events`).Scan(&rows); err != nil {
		return err
	}
	if rows != len(ds.events)-ds.broken {
		return fmt.Errorf("DuckDB holds %d events, want %d", rows, len(ds.events)-ds.broken)
	}
	return nil
}

// append writes the decodable events into the table raw.
func (ds *dataset) append() error {
	conn, err := ds.db.Conn(context.Background())
	if err != nil {
		return err
	}
	defer conn.Close() // before the pool's only connection is needed again
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "raw")
		if err != nil {
			return err
		}
		for _, e := range ds.events {
			if e.broken {
				continue
			}
			var price, bad driver.Value
			if e.price != nil {
				price = duckdb.Decimal{Width: 12, Scale: 2, Value: big.NewInt(e.price.(int64))}
			}
			if e.bad != "" {
				bad = e.bad
			}
			if err := app.AppendRow(e.id, e.k1, e.k2, e.v, e.d, price, e.ts, bad); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
}

// query is one eddy query and the DuckDB query that must give the same rows.
type query struct {
	name string
	// eddy is the SELECT over the stream events.
	eddy string
	// reads lists the columns eddy's query reads besides ts: a record whose
	// value in one of them does not convert is a decode error for the query,
	// any other record is decoded (projection pushdown).
	reads []string
	// where is the query's WHERE condition in DuckDB SQL ("" for none): rows
	// with a NULL time that pass it go to the error stream.
	where string
	// duck is the expected result in DuckDB SQL over the relation ev: the
	// events the query decodes, without those with a NULL time.
	duck string
	// keys are the output columns that, with window_start, identify a row.
	keys []string
	// perRow: an OVER query, one output row per input row; keys identify
	// it without window_start.
	perRow bool
	// approx columns (DOUBLE) may differ by 1e-9 relative.
	approx []string
	// avg6 columns are DECIMAL averages with 6 decimals: DuckDB gives the
	// exact value as "p/q" and eddy's must be within half a unit of 1e-6.
	avg6 []string
}

// ev is the relation the DuckDB queries read.
func (q query) ev() string {
	quoted := make([]string, len(q.reads))
	for i, c := range q.reads {
		quoted[i] = "'" + c + "'"
	}
	notBad := "bad IS NULL"
	if len(quoted) > 0 {
		notBad = "(bad IS NULL OR bad NOT IN (" + strings.Join(quoted, ", ") + "))"
	}
	return notBad
}

func (q query) duckSQL() string {
	with := "WITH ev AS (SELECT * FROM events WHERE ts IS NOT NULL AND " + q.ev() + ")"
	if rest, ok := strings.CutPrefix(q.duck, "WITH "); ok { // more CTEs after ev
		return with + ",\n" + rest
	}
	return with + "\n" + q.duck
}

var appSeq int

// runApp runs the queries as one eddy application with a file sink each,
// bounded, and checks its error stream: every undecodable record and every
// NULL-time row that passed a WHERE is there, once per query, and nothing is
// late. It returns each query's output file.
func runApp(t *testing.T, ds *dataset, queries []query) map[string]string {
	t.Helper()
	ds.load(t)
	appSeq++
	name := fmt.Sprintf("%s-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), ds.stream, appSeq)
	dir := filepath.Join(workDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var app strings.Builder
	fmt.Fprintf(&app, `CREATE STREAM events (
  id BIGINT, k1 VARCHAR, k2 BIGINT, v BIGINT, d DOUBLE, price DECIMAL(12,2), ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '%d' MILLISECOND
) WITH (connector = 'kinesis', stream = '%s', format = 'json');
`, watermarkDelay, ds.stream)
	outs := map[string]string{}
	for _, q := range queries {
		outs[q.name] = filepath.Join(dir, q.name+".jsonl")
		fmt.Fprintf(&app, "\nCREATE SINK %s WITH (connector = 'file', path = '%s', format = 'json');\nINSERT INTO %s\n%s;\n",
			q.name, outs[q.name], q.name, strings.TrimSpace(q.eddy))
	}
	appPath := filepath.Join(dir, name+".sql")
	if err := os.WriteFile(appPath, []byte(app.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// A shard is never idle here: a shard reader starved of CPU on a busy
	// machine must not let the others move the watermark past its rows.
	eddy(t, "", "run", appPath, "--bounded", "--idle-timeout", "1h")
	t.Logf("eddy ran %d queries over %d records in %.1fs", len(queries), len(ds.events), time.Since(start).Seconds())

	// Expected error stream, from DuckDB.
	wantDecode, wantEval := 0, 0
	for _, q := range queries {
		var bad, nullTime int
		reads := "FALSE"
		if len(q.reads) > 0 {
			reads = "bad IN ('" + strings.Join(q.reads, "', '") + "')"
		}
		where := "TRUE"
		if q.where != "" {
			where = q.where
		}
		if err := ds.db.QueryRow(`SELECT count(*) FILTER (WHERE `+reads+`),
			count(*) FILTER (WHERE ts IS NULL AND `+q.ev()+` AND (`+where+`) IS TRUE) FROM events`).Scan(&bad, &nullTime); err != nil {
			t.Fatalf("query %s: counting errors in DuckDB: %v", q.name, err)
		}
		wantDecode += ds.broken + bad
		wantEval += nullTime
	}
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(eddy(t, "", "get", name+"-errors")), "\n") {
		if line == "" {
			continue
		}
		var rec struct{ Data string }
		var e struct{ Kind, Reason string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("eddy get printed %q: %v", line, err)
		}
		if err := json.Unmarshal([]byte(rec.Data), &e); err != nil {
			t.Fatalf("error record %q: %v", rec.Data, err)
		}
		kinds[e.Kind]++
		if e.Kind == "late" && kinds["late"] <= 3 {
			t.Errorf("late row (the generator keeps disorder below the watermark delay): %s", rec.Data)
		}
	}
	want := map[string]int{"decode": wantDecode, "eval": wantEval}
	for k := range want {
		if want[k] == 0 {
			delete(want, k)
		}
	}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("error stream %s-errors holds %v, want %v", name, kinds, want)
	} else {
		t.Logf("error stream %s-errors holds %v, as expected", name, kinds)
	}
	return outs
}

// check compares one query's output with DuckDB's rows and fails the test on
// any difference.
func check(t *testing.T, ds *dataset, q query, outPath string) {
	t.Helper()
	n, diffs, err := compare(ds, q, outPath)
	if err != nil {
		t.Fatalf("query %s: %v", q.name, err)
	}
	if len(diffs) > 0 {
		shown := diffs
		if len(shown) > 15 {
			shown = shown[:15]
		}
		t.Fatalf("query %s: %d differences between eddy and DuckDB; the first:\n  %s\neddy:\n%s\nDuckDB:\n%s",
			q.name, len(diffs), strings.Join(shown, "\n  "), q.eddy, q.duckSQL())
	}
	if n == 0 && !strings.Contains(q.name, "empty") {
		t.Fatalf("query %s: no rows at all: the comparison proves nothing", q.name)
	}
	t.Logf("query %s: %d rows, every one equal to DuckDB's", q.name, n)
}

// mustDiffer checks that the comparison notices a wrong expected query: the
// oracle is only worth something if the data reaches the edges it guards.
func mustDiffer(t *testing.T, ds *dataset, q query, outPath, why string) {
	t.Helper()
	_, diffs, err := compare(ds, q, outPath)
	if err != nil {
		t.Fatalf("mutant %s (%s): %v", q.name, why, err)
	}
	if len(diffs) == 0 {
		t.Fatalf("mutant %s (%s): DuckDB's wrong query matched eddy's output; the data misses this edge", q.name, why)
	}
	t.Logf("mutant %s (%s): caught, %d differences, e.g. %s", q.name, why, len(diffs), diffs[0])
}

// column is one output column of the DuckDB query.
type column struct {
	name, typ string
	approx    bool
	avg6      bool
}

// compare returns the number of rows DuckDB expects and every difference.
func compare(ds *dataset, q query, outPath string) (int, []string, error) {
	rows, err := ds.db.Query(q.duckSQL())
	if err != nil {
		return 0, nil, fmt.Errorf("DuckDB: %w", err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return 0, nil, err
	}
	cols := make([]column, len(types))
	byName := map[string]int{}
	for i, ct := range types {
		cols[i] = column{name: ct.Name(), typ: ct.DatabaseTypeName()}
		byName[ct.Name()] = i
	}
	for _, name := range q.approx {
		if i, ok := byName[name]; ok {
			cols[i].approx = true
		} else {
			return 0, nil, fmt.Errorf("approx column %s is not in DuckDB's result", name)
		}
	}
	for _, name := range q.avg6 {
		if i, ok := byName[name]; ok {
			cols[i].avg6 = true
		} else {
			return 0, nil, fmt.Errorf("avg6 column %s is not in DuckDB's result", name)
		}
	}
	keyCols := append([]string(nil), q.keys...)
	if !q.perRow {
		keyCols = append(keyCols, "window_start")
	}
	for _, k := range keyCols {
		if _, ok := byName[k]; !ok {
			return 0, nil, fmt.Errorf("key column %s is not in DuckDB's result", k)
		}
	}
	keyOf := func(vals []string) string {
		parts := make([]string, len(keyCols))
		for i, k := range keyCols {
			parts[i] = k + "=" + vals[byName[k]]
		}
		return strings.Join(parts, " ")
	}

	want := map[string][]string{}
	for rows.Next() {
		raw := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, nil, err
		}
		vals := make([]string, len(cols))
		for i, c := range cols {
			if vals[i], err = duckValue(c, raw[i]); err != nil {
				return 0, nil, fmt.Errorf("DuckDB column %s: %w", c.name, err)
			}
		}
		k := keyOf(vals)
		if _, dup := want[k]; dup {
			return 0, nil, fmt.Errorf("DuckDB gives two rows for %s: the keys are not a key", k)
		}
		want[k] = vals
	}
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	nWant := len(want)

	var diffs []string
	f, err := os.Open(outPath)
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.Open(os.DevNull) // a sink that got no rows may write no file
	}
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	seen := map[string]bool{}
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return 0, nil, fmt.Errorf("eddy wrote %q: %v", sc.Text(), err)
		}
		if len(obj) != len(cols) {
			names := make([]string, 0, len(obj))
			for n := range obj {
				names = append(names, n)
			}
			sort.Strings(names)
			return 0, nil, fmt.Errorf("eddy's row has columns %v, DuckDB's %d columns", names, len(cols))
		}
		vals := make([]string, len(cols))
		for i, c := range cols {
			v, ok := obj[c.name]
			if !ok {
				return 0, nil, fmt.Errorf("eddy's row %s has no column %s", sc.Text(), c.name)
			}
			if vals[i], err = eddyValue(c, v); err != nil {
				diffs = append(diffs, fmt.Sprintf("eddy row %s: column %s: %v", sc.Text(), c.name, err))
			}
		}
		k := keyOf(vals)
		if seen[k] {
			diffs = append(diffs, "eddy emitted "+k+" twice")
			continue
		}
		seen[k] = true
		exp, ok := want[k]
		if !ok {
			diffs = append(diffs, "eddy emitted a row DuckDB does not have: "+sc.Text())
			continue
		}
		delete(want, k)
		for i, c := range cols {
			if !sameValue(c, vals[i], exp[i]) {
				diffs = append(diffs, fmt.Sprintf("%s: %s is %s in eddy, %s in DuckDB", k, c.name, vals[i], exp[i]))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, nil, err
	}
	missing := make([]string, 0, len(want))
	for k := range want {
		missing = append(missing, k)
	}
	sort.Strings(missing)
	for _, k := range missing {
		diffs = append(diffs, "DuckDB has a row eddy did not emit: "+k)
	}
	return nWant, diffs, nil
}

// Values are compared as canonical text: "NULL", a quoted string, an exact
// rational (integers, decimals, timestamps as epoch ms), or a float64's
// shortest form.

func duckValue(c column, v any) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	if c.avg6 {
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("want a \"p/q\" string, got %T", v)
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return "", fmt.Errorf("%q is not a fraction", s)
		}
		return r.RatString(), nil
	}
	switch x := v.(type) {
	case string:
		return strconv.Quote(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case *big.Int:
		return x.String(), nil
	case duckdb.Decimal:
		return new(big.Rat).SetFrac(x.Value, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil)).RatString(), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case time.Time:
		if x.Nanosecond()%1e6 != 0 {
			return "", fmt.Errorf("timestamp %v is not whole milliseconds", x)
		}
		return strconv.FormatInt(x.UnixMilli(), 10), nil
	}
	return "", fmt.Errorf("unexpected %T (%s)", v, c.typ)
}

func eddyValue(c column, v any) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	switch {
	case c.typ == "VARCHAR" && !c.avg6:
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("want a string, got %v", v)
		}
		return strconv.Quote(s), nil
	case c.typ == "TIMESTAMP":
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("want an RFC 3339 string, got %v", v)
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(ts.UnixMilli(), 10), nil
	}
	num, ok := v.(json.Number)
	if !ok {
		return "", fmt.Errorf("want a number, got %v", v)
	}
	switch {
	case c.typ == "DOUBLE" || c.typ == "FLOAT":
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return "", err
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case strings.HasPrefix(c.typ, "DECIMAL") || c.avg6:
		r, ok := new(big.Rat).SetString(string(num))
		if !ok {
			return "", fmt.Errorf("%s is not a decimal", num)
		}
		return r.RatString(), nil
	default: // integers
		i, ok := new(big.Int).SetString(string(num), 10)
		if !ok {
			return "", fmt.Errorf("%s is not an integer", num)
		}
		return i.String(), nil
	}
}

var halfMicro = big.NewRat(1, 2_000_000)

func sameValue(c column, got, want string) bool {
	if got == want {
		return true
	}
	if got == "NULL" || want == "NULL" {
		return false
	}
	switch {
	case c.approx:
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		return err1 == nil && err2 == nil && math.Abs(g-w) <= 1e-9*math.Max(math.Abs(g), math.Abs(w))
	case c.avg6:
		g, ok1 := new(big.Rat).SetString(got)
		w, ok2 := new(big.Rat).SetString(want)
		if !ok1 || !ok2 {
			return false
		}
		return new(big.Rat).Abs(g.Sub(g, w)).Cmp(halfMicro) <= 0
	}
	return false
}
