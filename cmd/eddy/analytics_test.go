package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// genEvent is one generated input event with the values the oracle needs.
type genEvent struct {
	line      string
	malformed bool
	k         string
	v         *int64
	price     *big.Rat // DECIMAL(12,2)
	d         float64
	ts        int64 // ms
}

// genEvents produces n JSON events whose event times never fall more than
// disorder behind the largest so far, plus malformed ones, and (lateEvery > 0)
// events far behind the watermark.
func genEvents(rng *rand.Rand, n int, disorder int64, malformedEvery, lateEvery int) []genEvent {
	base := int64(1_767_225_600_000)
	clock := base
	out := make([]genEvent, 0, n)
	for i := range n {
		if malformedEvery > 0 && i%malformedEvery == malformedEvery-1 {
			bad := []string{
				`{"k":"x","v":12,"price":1.00,"d":1,"ts":`, // truncated
				`{"k":"x","v":"twelve","price":1.00,"d":1,"ts":"2026-01-01T00:00:00Z"}`,
				`{"k":"x","v":12,"price":1.00,"d":1,"ts":"not a time"}`,
				`[1,2,3]`,
				`{"k":"x","v":1.5,"price":1.00,"d":1,"ts":"2026-01-01T00:00:00Z"}`,
			}
			out = append(out, genEvent{line: bad[rng.IntN(len(bad))], malformed: true})
			continue
		}
		clock += rng.Int64N(25)
		ts := clock - rng.Int64N(disorder)
		if lateEvery > 0 && i%lateEvery == lateEvery-1 {
			ts = clock - 30_000 - rng.Int64N(10_000)
		}
		e := genEvent{k: fmt.Sprintf("key-%02d", rng.IntN(40)), d: float64(rng.IntN(2_000_000)-1_000_000) / 8, ts: ts}
		fields := []string{fmt.Sprintf(`"k":%q`, e.k)}
		if rng.IntN(20) != 0 {
			v := rng.Int64N(2000) - 1000
			e.v = &v
			fields = append(fields, fmt.Sprintf(`"v":%d`, v))
		} else if rng.IntN(2) == 0 {
			fields = append(fields, `"v":null`)
		}
		cents := rng.Int64N(10_000_000) - 2_000_000
		e.price = big.NewRat(cents, 100)
		fields = append(fields, fmt.Sprintf(`"price":%s`, e.price.FloatString(2)),
			fmt.Sprintf(`"d":%v`, e.d))
		// Times as RFC 3339 strings and, now and then, as epoch milliseconds.
		if rng.IntN(3) == 0 {
			fields = append(fields, fmt.Sprintf(`"ts":%d`, ts))
		} else {
			fields = append(fields, fmt.Sprintf(`"ts":%q`, time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z")))
		}
		rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
		e.line = "{" + strings.Join(fields, ",") + "}"
		out = append(out, e)
	}
	return out
}

type windowRow struct {
	n, nv      int64
	sv         int64
	mind, maxd float64
	sumd       float64
	sp         *big.Rat
}

const diffApp = `-- Differential test application: every aggregate over a tumbling window.
CREATE STREAM events (
  k VARCHAR, v BIGINT, price DECIMAL(12,2), d DOUBLE, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH (connector = 'kinesis', stream = 'events', format = 'json');

CREATE SINK results WITH (connector = 'file', path = '%s', format = 'json');

INSERT INTO results
SELECT k, window_start, window_end, COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS sv,
       MIN(d) AS mind, MAX(d) AS maxd, AVG(d) AS avgd, SUM(price) AS sp
FROM events
WHERE v >= -900 OR v IS NULL
GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND);
`

// oracleWindows computes the expected rows by brute force over events in the
// order one shard holds them. With late=true it applies the watermark row by
// row (valid for one shard); otherwise no event may be late.
func oracleWindows(t *testing.T, events []genEvent, late bool) (map[string]*windowRow, int) {
	t.Helper()
	const size, delay = int64(10_000), int64(2_000)
	rows := map[string]*windowRow{}
	maxTS, wm := int64(math.MinInt64), int64(math.MinInt64)
	nLate := 0
	for _, e := range events {
		wmBefore := wm // lateness is judged by the watermark before the row
		if e.malformed {
			continue
		}
		maxTS = max(maxTS, e.ts)
		wm = max(wm, maxTS-delay)
		start := e.ts - ((e.ts%size)+size)%size
		if e.v != nil && *e.v < -900 {
			continue // WHERE drops it before lateness matters
		}
		if start+size <= wmBefore {
			if !late {
				t.Fatalf("generator made a late event (ts %d, watermark %d)", e.ts, wmBefore)
			}
			nLate++
			continue
		}
		key := fmt.Sprintf("%s|%d", e.k, start)
		r := rows[key]
		if r == nil {
			r = &windowRow{mind: math.Inf(1), maxd: math.Inf(-1), sp: new(big.Rat)}
			rows[key] = r
		}
		r.n++
		if e.v != nil {
			r.nv++
			r.sv += *e.v
		}
		r.mind = math.Min(r.mind, e.d)
		r.maxd = math.Max(r.maxd, e.d)
		r.sumd += e.d
		r.sp.Add(r.sp, e.price)
	}
	return rows, nLate
}

func runDifferential(t *testing.T, shards, n int, lateEvery int) {
	c := newCLI(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(shards), uint64(n)))
	events := genEvents(rng, n, 1_500, 997, lateEvery)
	var in bytes.Buffer
	malformed := 0
	for _, e := range events {
		in.WriteString(e.line + "\n")
		if e.malformed {
			malformed++
		}
	}
	inPath := filepath.Join(dir, "events.jsonl")
	os.WriteFile(inPath, in.Bytes(), 0o644)
	c.ok(nil, "streams", "create", "events", "--shards", fmt.Sprint(shards))
	// Random partition keys spread the events over the shards; each shard keeps
	// the file's order of its events.
	c.putFile(inPath, "events")
	outPath := filepath.Join(dir, "out.jsonl")
	appPath := filepath.Join(dir, "diff.sql")
	os.WriteFile(appPath, fmt.Appendf(nil, diffApp, outPath), 0o644)
	c.ok(nil, "run", appPath, "--bounded")

	want, wantLate := oracleWindows(t, events, lateEvery > 0)
	f, err := os.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	got := 0
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		var r struct {
			K, WindowStart, WindowEnd string
			N, NV                     int64
			MinD, MaxD, AvgD          float64
		}
		for name, dst := range map[string]any{"k": &r.K, "window_start": &r.WindowStart, "window_end": &r.WindowEnd,
			"n": &r.N, "nv": &r.NV, "mind": &r.MinD, "maxd": &r.MaxD, "avgd": &r.AvgD} {
			if err := json.Unmarshal(raw[name], dst); err != nil {
				t.Fatalf("output line %s: column %s: %v", sc.Text(), name, err)
			}
		}
		start, err := time.Parse(time.RFC3339Nano, r.WindowStart)
		if err != nil {
			t.Fatalf("window_start %q is not RFC 3339: %v", r.WindowStart, err)
		}
		end, _ := time.Parse(time.RFC3339Nano, r.WindowEnd)
		if end.Sub(start) != 10*time.Second {
			t.Fatalf("window %s..%s is not 10s", r.WindowStart, r.WindowEnd)
		}
		key := fmt.Sprintf("%s|%d", r.K, start.UnixMilli())
		w := want[key]
		if w == nil {
			t.Fatalf("output has window %s that the oracle does not (or twice): %s", key, sc.Text())
		}
		delete(want, key)
		got++
		wantSV := "null"
		if w.nv > 0 {
			wantSV = fmt.Sprint(w.sv)
		}
		gotSV := string(raw["sv"])
		if r.N != w.n || r.NV != w.nv || gotSV != wantSV || r.MinD != w.mind || r.MaxD != w.maxd {
			t.Fatalf("window %s: got n=%d nv=%d sv=%s min=%v max=%v; oracle n=%d nv=%d sv=%s min=%v max=%v",
				key, r.N, r.NV, gotSV, r.MinD, r.MaxD, w.n, w.nv, wantSV, w.mind, w.maxd)
		}
		if avg := w.sumd / float64(w.n); math.Abs(r.AvgD-avg) > 1e-9*math.Max(1, math.Abs(avg)) {
			t.Fatalf("window %s: avg %v, oracle %v", key, r.AvgD, avg)
		}
		if sp, ok := new(big.Rat).SetString(string(raw["sp"])); !ok || sp.Cmp(w.sp) != 0 {
			t.Fatalf("window %s: SUM(price) %s, oracle %s", key, raw["sp"], w.sp.FloatString(2))
		}
	}
	if len(want) > 0 {
		t.Fatalf("%d oracle windows missing from the output (got %d)", len(want), got)
	}
	// The error stream holds every malformed record and every late row.
	kinds := map[string]int{}
	for _, r := range c.get("diff-errors") {
		var e struct {
			Kind   string `json:"kind"`
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal([]byte(r.Data), &e); err != nil {
			t.Fatalf("error stream record %q: %v", r.Data, err)
		}
		kinds[e.Kind]++
	}
	if kinds["decode"] != malformed || kinds["late"] != wantLate {
		t.Fatalf("error stream: %v; want %d decode and %d late", kinds, malformed, wantLate)
	}
	// The error stream is queryable from SQL like any stream.
	errApp := filepath.Join(dir, "errors.sql")
	os.WriteFile(errApp, []byte(`CREATE STREAM errs (kind VARCHAR, reason VARCHAR, raw VARCHAR)
  WITH (connector = 'kinesis', stream = 'diff-errors');
SELECT kind, COUNT(*) AS n FROM errs GROUP BY kind, TUMBLE(ROWTIME, INTERVAL '1' DAY);`), 0o644)
	counted := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(c.ok(nil, "run", errApp, "--bounded", "--format", "json")), "\n") {
		var r struct {
			Kind string `json:"kind"`
			N    int    `json:"n"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("error-stream query printed %q: %v", line, err)
		}
		counted[r.Kind] += r.N
	}
	if counted["decode"] != malformed || counted["late"] != wantLate {
		t.Fatalf("SQL over the error stream counted %v; want %d decode and %d late", counted, malformed, wantLate)
	}
	t.Logf("%d events (%d malformed, %d late) -> %d windows, all equal to the oracle", n, malformed, wantLate, got)
}

// TestTumbleDifferentialManyShards: 200,000 events over 4 shards, bounded
// disorder below the watermark delay (so no event can be late however the shards
// interleave), malformed records; every window equals the brute-force oracle.
func TestTumbleDifferentialManyShards(t *testing.T) {
	runDifferential(t, 4, 200_000, 0)
}

// TestTumbleDifferentialLateRows: one shard, so the watermark sees the events in
// file order and lateness is exact; late rows go to the error stream.
func TestTumbleDifferentialLateRows(t *testing.T) {
	runDifferential(t, 1, 50_000, 211)
}

// TestInsertIntoStreamAndCSV reads CSV records, filters and projects them with
// expressions, and writes the rows as JSON records into another stream keyed
// by a column; a second application reads that stream back.
func TestInsertIntoStreamAndCSV(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	c.ok(nil, "streams", "create", "raw", "--shards", "2")
	c.ok(nil, "streams", "create", "enriched", "--shards", "3")
	var in strings.Builder
	for i := range 300 {
		fmt.Fprintf(&in, "%d,sensor-%d,%d.5,2026-03-01 10:%02d:%02d\n", i, i%7, i%50, (i/60)%60, i%60)
	}
	in.WriteString("oops,not,a,row,at all\n")
	c.ok([]byte(in.String()), "put", "raw")
	app := filepath.Join(dir, "enrich.sql")
	os.WriteFile(app, []byte(`
CREATE STREAM raw (id BIGINT, sensor VARCHAR, reading DOUBLE, ts TIMESTAMP(3))
  WITH (connector = 'kinesis', stream = 'raw', format = 'csv');
CREATE SINK enriched WITH (connector = 'kinesis', stream = 'enriched', partition_key = 'sensor');
INSERT INTO enriched
SELECT id, UPPER(sensor) AS sensor, reading * 2 AS doubled,
       CASE WHEN reading >= 25 THEN 'high' ELSE 'low' END AS level, FLOOR(ts TO MINUTE) AS minute
FROM raw WHERE MOD(id, 3) = 0;
`), 0o644)
	out := c.run(nil, "run", app, "--bounded")
	if out.code != 0 || !strings.Contains(out.stderr, "1 to the error stream") {
		t.Fatalf("run: exit %d, stderr %s", out.code, out.stderr)
	}
	recs := c.get("enriched")
	if len(recs) != 100 {
		t.Fatalf("enriched holds %d records, want 100 (ids divisible by 3)", len(recs))
	}
	for _, r := range recs {
		var row struct {
			ID      int64   `json:"id"`
			Sensor  string  `json:"sensor"`
			Doubled float64 `json:"doubled"`
			Level   string  `json:"level"`
			Minute  string  `json:"minute"`
		}
		if err := json.Unmarshal([]byte(r.Data), &row); err != nil {
			t.Fatalf("record %q: %v", r.Data, err)
		}
		reading := float64(row.ID%50) + 0.5
		level := "low"
		if reading >= 25 {
			level = "high"
		}
		wantMinute := fmt.Sprintf("2026-03-01T10:%02d:00.000Z", (row.ID/60)%60)
		if row.ID%3 != 0 || row.Sensor != fmt.Sprintf("SENSOR-%d", row.ID%7) || row.Doubled != 2*reading || row.Level != level || row.Minute != wantMinute {
			t.Fatalf("row %+v is wrong (reading %v, minute %s)", row, reading, wantMinute)
		}
		if r.PartitionKey != row.Sensor {
			t.Fatalf("record keyed %q, want the sensor column %q", r.PartitionKey, row.Sensor)
		}
	}
}

// TestProcessingTimeWindows groups by PROCTIME(): the rows' times are the clock
// when eddy reads them (here fixed by EDDY_NOW), not any column.
func TestProcessingTimeWindows(t *testing.T) {
	c := newCLI(t)
	c.env = []string{"EDDY_NOW=2026-05-05T10:20:30Z"}
	c.ok(nil, "streams", "create", "events", "--shards", "2")
	var in strings.Builder
	for i := range 500 {
		fmt.Fprintf(&in, `{"k":"k%d","ts":"1999-01-01T00:00:00Z"}`+"\n", i%3)
	}
	c.ok([]byte(in.String()), "put", "events")
	app := filepath.Join(t.TempDir(), "proc.sql")
	os.WriteFile(app, []byte(`CREATE STREAM events (k VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH (connector = 'kinesis', stream = 'events');
SELECT k, window_start, COUNT(*) AS n FROM events GROUP BY k, TUMBLE(PROCTIME(), INTERVAL '1' HOUR);`), 0o644)
	out := c.ok(nil, "run", app, "--bounded", "--format", "json")
	var total int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			K           string `json:"k"`
			WindowStart string `json:"window_start"`
			N           int    `json:"n"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output %q: %v", line, err)
		}
		if r.WindowStart != "2026-05-05T10:00:00.000Z" {
			t.Fatalf("processing-time window starts %s, want the hour of EDDY_NOW (the ts column says 1999)", r.WindowStart)
		}
		total += r.N
	}
	if total != 500 {
		t.Fatalf("counted %d rows, want 500", total)
	}
	bad := filepath.Join(t.TempDir(), "bad.sql")
	os.WriteFile(bad, []byte(`CREATE STREAM events (k VARCHAR) WITH (connector = 'kinesis', stream = 'events');
SELECT COUNT(*) AS n FROM events GROUP BY TUMBLE(PROCTIME(1), INTERVAL '1' HOUR);`), 0o644)
	if r := c.run(nil, "run", bad, "--bounded"); r.code != 1 || !strings.Contains(r.stderr, "PROCTIME() takes no arguments") {
		t.Fatalf("PROCTIME(1): exit %d, %s", r.code, r.stderr)
	}
}
