package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestOverDocExample runs the OVER worked example of sql/DIALECT.md: its
// input lines go into a one-shard stream, the application runs bounded with
// JSON output, and the output must equal the documented block; the late row
// is on the error stream.
func TestOverDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../sql/DIALECT.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- over-example -->\\s*```sql\\n(.*?)```\\s*```json\\n(.*?)```\\s*```output\\n(.*?)```")
	ex := re.FindStringSubmatch(string(doc))
	if ex == nil {
		t.Fatal("sql/DIALECT.md has no <!-- over-example --> block")
	}
	app, input, want := ex[1], ex[2], ex[3]
	c := newCLI(t)
	c.ok(nil, "streams", "create", "events", "--shards", "1")
	c.ok([]byte(input), "put", "events", "--partition-key", "k")
	path := filepath.Join(t.TempDir(), "overdoc.sql")
	os.WriteFile(path, []byte(app), 0o644)
	got := c.ok(nil, "run", path, "--bounded", "--format", "json")
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Fatalf("the example printed:\n%s\nsql/DIALECT.md says:\n%s", got, want)
	}
	errs := c.get("overdoc-errors")
	if len(errs) != 1 || !strings.Contains(errs[0].Data, `"kind":"late"`) || !strings.Contains(errs[0].Data, `\"id\":6`) {
		t.Fatalf("want row 6 on the error stream as late, got %+v", errs)
	}
}

// overCLIEvent is one generated event of the end-to-end OVER test.
type overCLIEvent struct {
	id int64
	k  string
	v  *int64
	ts int64
}

// TestOverEndToEnd puts 100,000 JSON events into a four-shard stream (random
// partition keys, so a key's rows come from every shard) and runs RANGE and
// ROWS aggregates, LAG and ROW_NUMBER through eddy run --bounded into a file
// sink. Event times are distinct and out of order by less than the watermark
// delay, so no row is late and the order of every partition is fixed however
// the shards interleave; every output row must equal a brute-force oracle's.
func TestOverEndToEnd(t *testing.T) {
	const n, delay = 100_000, 2_000
	rng := rand.New(rand.NewPCG(4, 4))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var in strings.Builder
	evs := make([]overCLIEvent, n)
	for i := range evs {
		evs[i] = overCLIEvent{id: int64(i), k: fmt.Sprintf("key-%02d", rng.IntN(30)), ts: base + int64(i)*16}
		if rng.IntN(3) == 0 {
			evs[i].ts -= rng.Int64N(1400) // out of order, within the 2 s delay
		}
	}
	// Make times distinct (ties across shards would be decided by read order).
	seen := map[int64]bool{}
	for i := range evs {
		for seen[evs[i].ts] {
			evs[i].ts++
		}
		seen[evs[i].ts] = true
	}
	for i := range evs {
		e := &evs[i]
		v := "null"
		if rng.IntN(15) != 0 {
			x := rng.Int64N(2001) - 1000
			e.v = &x
			v = fmt.Sprint(x)
		}
		fmt.Fprintf(&in, `{"id":%d,"k":%q,"v":%s,"ts":%q}`+"\n", e.id, e.k, v, time.UnixMilli(e.ts).UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	maxTS := int64(math.MinInt64)
	for _, e := range evs {
		if maxTS != math.MinInt64 && e.ts < maxTS-delay {
			t.Fatalf("generator: event %d is %d ms behind the largest time", e.id, maxTS-e.ts)
		}
		maxTS = max(maxTS, e.ts)
	}
	c := newCLI(t)
	dir := t.TempDir()
	inPath := filepath.Join(dir, "events.jsonl")
	os.WriteFile(inPath, []byte(in.String()), 0o644)
	c.ok(nil, "streams", "create", "events", "--shards", "4")
	c.putFile(inPath, "events")
	outPath := filepath.Join(dir, "out.jsonl")
	appPath := filepath.Join(dir, "over.sql")
	os.WriteFile(appPath, fmt.Appendf(nil, `
CREATE STREAM events (id BIGINT, k VARCHAR, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'kinesis', stream = 'events', format = 'json');
CREATE SINK results WITH (connector = 'file', path = '%s', format = 'json');
INSERT INTO results
SELECT id, COUNT(*) OVER w AS n, SUM(v) OVER w AS s, MAX(v) OVER w AS mx,
  SUM(v) OVER (PARTITION BY k ROWS 5 PRECEDING) AS s6, LAG(v, 2, 0) OVER p AS lag2, ROW_NUMBER() OVER p AS rn
FROM events
WINDOW p AS (PARTITION BY k ORDER BY ts), w AS (p RANGE INTERVAL '3' SECOND PRECEDING);
`, outPath), 0o644)
	c.ok(nil, "run", appPath, "--bounded")

	// The oracle: each key's rows in time order, every frame scanned.
	type row struct{ n, s, mx, s6, lag2, rn *int64 }
	ip := func(x int64) *int64 { return &x }
	byKey := map[string][]overCLIEvent{}
	for _, e := range evs {
		byKey[e.k] = append(byKey[e.k], e)
	}
	want := map[int64]row{}
	for _, L := range byKey {
		slices.SortFunc(L, func(a, b overCLIEvent) int { return int(a.ts - b.ts) })
		for i, e := range L {
			r := row{n: ip(0), rn: ip(int64(i + 1)), lag2: ip(0)}
			var sum, sum6, nv, nv6 int64
			var mx *int64
			for j := i; j >= 0 && L[j].ts >= e.ts-3000; j-- {
				*r.n++
				if v := L[j].v; v != nil {
					sum += *v
					nv++
					if mx == nil || *v > *mx {
						mx = ip(*v)
					}
				}
			}
			for j := max(0, i-5); j <= i; j++ {
				if v := L[j].v; v != nil {
					sum6 += *v
					nv6++
				}
			}
			if nv > 0 {
				r.s, r.mx = ip(sum), mx
			}
			if nv6 > 0 {
				r.s6 = ip(sum6)
			}
			if i >= 2 {
				r.lag2 = L[i-2].v
			}
			want[e.id] = r
		}
	}
	f, err := os.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	got := 0
	str := func(p *int64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	for sc.Scan() {
		var r struct {
			ID                     int64
			N, S, Mx, S6, Lag2, Rn *int64
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		w, ok := want[r.ID]
		if !ok {
			t.Fatalf("row %d emitted twice or unknown: %s", r.ID, sc.Text())
		}
		delete(want, r.ID)
		got++
		g := []string{str(r.N), str(r.S), str(r.Mx), str(r.S6), str(r.Lag2), str(r.Rn)}
		x := []string{str(w.n), str(w.s), str(w.mx), str(w.s6), str(w.lag2), str(w.rn)}
		if !slices.Equal(g, x) {
			t.Fatalf("row %d: n, s, mx, s6, lag2, rn = %v; oracle %v", r.ID, g, x)
		}
	}
	if len(want) > 0 || got != n {
		t.Fatalf("%d rows out, %d oracle rows missing", got, len(want))
	}
	if errs := c.get("over-errors"); len(errs) != 0 {
		t.Fatalf("%d records on the error stream, want none: %s", len(errs), errs[0].Data)
	}
}
