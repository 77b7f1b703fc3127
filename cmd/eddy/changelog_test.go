package main_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestUpdatingQueryChangelog runs a SESSION query with allowed lateness over
// out-of-order events, small batches making windows go out and change many
// times, into a file sink, a stream sink and the console. Every sink carries
// _op; played back, each changelog must leave exactly the sessions that the
// same query without lateness finds over the same events in time order.
func TestUpdatingQueryChangelog(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 70))
	type ev struct {
		k  string
		v  int64
		ts int64
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var evs []ev
	clock := base
	for range 3000 {
		clock += rng.Int64N(400)
		evs = append(evs, ev{k: fmt.Sprintf("k%d", rng.IntN(12)), v: rng.Int64N(100), ts: clock})
	}
	sorted := slices.Clone(evs)
	// Disorder of up to 20 s: far beyond the 1 s watermark delay, within the
	// lateness, so many rows arrive after their sessions went out.
	for i := range evs {
		j := min(len(evs)-1, i+rng.IntN(50))
		evs[i], evs[j] = evs[j], evs[i]
	}
	lines := func(es []ev) []byte {
		var b strings.Builder
		for _, e := range es {
			fmt.Fprintf(&b, `{"k":%q,"v":%d,"ts":%q}`+"\n", e.k, e.v, time.UnixMilli(e.ts).UTC().Format("2006-01-02T15:04:05.000Z"))
		}
		return []byte(b.String())
	}
	c := newCLI(t)
	dir := t.TempDir()
	for _, s := range []string{"events", "ordered", "changes"} {
		c.ok(nil, "streams", "create", s, "--shards", "1")
	}
	c.ok(lines(evs), "put", "events", "--partition-key", "k")
	c.ok(lines(sorted), "put", "ordered", "--partition-key", "k")

	query := `SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS total, MAX(v) AS top
FROM %s GROUP BY k, SESSION(ts, INTERVAL '2' SECOND) HAVING COUNT(*) >= 2`
	stream := `CREATE STREAM %s (k VARCHAR, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH (connector = 'kinesis', stream = '%[1]s'%s);
`
	filePath := filepath.Join(dir, "changes.jsonl")
	app := fmt.Sprintf(stream, "events", ", allowed_lateness = '1 hour', max_batch_rows = '16'") +
		fmt.Sprintf("CREATE SINK f WITH (connector = 'file', path = '%s', format = 'json');\n", filePath) +
		"CREATE SINK s WITH (connector = 'kinesis', stream = 'changes');\n" +
		"INSERT INTO f " + fmt.Sprintf(query, "events") + ";\n" +
		"INSERT INTO s " + fmt.Sprintf(query, "events") + ";\n" +
		fmt.Sprintf(query, "events") + ";\n"
	appPath := filepath.Join(dir, "app.sql")
	os.WriteFile(appPath, []byte(app), 0o644)
	console := c.ok(nil, "run", appPath, "--bounded", "--format", "json")

	refPath := filepath.Join(dir, "ref.sql")
	os.WriteFile(refPath, []byte(fmt.Sprintf(stream, "ordered", "")+fmt.Sprintf(query, "ordered")+";\n"), 0o644)
	want := c.ok(nil, "run", refPath, "--bounded", "--format", "json")
	wantRows := strings.Split(strings.TrimSpace(want), "\n")
	slices.Sort(wantRows)
	if len(wantRows) < 100 {
		t.Fatalf("reference run: only %d sessions", len(wantRows))
	}

	fileOut, err := os.ReadFile(filePath)
	if err != nil {
		t.Fatal(err)
	}
	var streamOut strings.Builder
	for _, r := range c.get("changes") {
		streamOut.WriteString(r.Data + "\n")
	}
	for _, sink := range []struct{ name, out string }{{"console", console}, {"file", string(fileOut)}, {"stream", streamOut.String()}} {
		got, retractions := playChanges(t, sink.name, sink.out)
		if retractions == 0 {
			t.Fatalf("%s: no row was updated or withdrawn", sink.name)
		}
		if !slices.Equal(got, wantRows) {
			t.Fatalf("%s: the changelog leaves %d rows, the ordered run %d\nfirst left: %v\nfirst wanted: %v",
				sink.name, len(got), len(wantRows), got[:min(3, len(got))], wantRows[:3])
		}
		t.Logf("%s: %d changes, %d retractions, %d sessions", sink.name, strings.Count(sink.out, "\n"), retractions, len(got))
	}
}

// playChanges applies a JSON-lines changelog: rows with _op "+I"/"+U" are
// added, "-U"/"-D" remove a row that must be present as written. It returns
// the rows left (JSON without _op, sorted) and the number of retractions.
func playChanges(t *testing.T, sink, out string) ([]string, int) {
	t.Helper()
	live := map[string]int{}
	retractions := 0
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		// The row without its last field: _op is last, as the schema says.
		cut := strings.LastIndex(line, `,"_op":`)
		if cut < 0 {
			t.Fatalf("%s line %d has no _op last: %s", sink, i+1, line)
		}
		var op string
		if err := json.Unmarshal([]byte(line[cut+len(`,"_op":`):len(line)-1]), &op); err != nil {
			t.Fatalf("%s line %d: %v", sink, i+1, err)
		}
		row := line[:cut] + "}"
		switch op {
		case "+I", "+U":
			live[row]++
		case "-U", "-D":
			if live[row] == 0 {
				t.Fatalf("%s line %d retracts a row not there: %s", sink, i+1, line)
			}
			live[row]--
			retractions++
		default:
			t.Fatalf("%s line %d: _op %q", sink, i+1, op)
		}
	}
	var rows []string
	for r, n := range live {
		for range n {
			rows = append(rows, r)
		}
	}
	slices.Sort(rows)
	return rows, retractions
}
