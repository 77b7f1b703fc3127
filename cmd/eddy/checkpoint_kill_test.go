package main_test

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/connectors/objectstore/s3test"
)

// killApp is the application of the checkpoint kill tests: TUMBLE into a file
// sink, SESSION into a stream sink, OVER into a file sink, all over the same
// event-time stream. %[1]s prefixes every output (file and stream names).
const killApp = `CREATE STREAM events (k VARCHAR, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'kinesis', stream = 'events', max_batch_rows = '%[3]d');
CREATE SINK tumbles WITH (connector = 'file', path = '%[2]s/%[1]stumbles.jsonl', format = 'json');
CREATE SINK sessions WITH (connector = 'kinesis', stream = '%[1]ssessions');
CREATE SINK overs WITH (connector = 'file', path = '%[2]s/%[1]sovers.jsonl', format = 'json');
CREATE SINK forests WITH (connector = 'file', path = '%[2]s/%[1]sforests.jsonl', format = 'json');
INSERT INTO tumbles
  SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS total, MAX(v) AS top
  FROM events GROUP BY k, TUMBLE(ts, INTERVAL '1' SECOND);
INSERT INTO sessions
  SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS total
  FROM events GROUP BY k, SESSION(ts, INTERVAL '1' SECOND);
INSERT INTO overs
  SELECT k, ts, v, SUM(v) OVER w AS sum5s, COUNT(*) OVER w AS n5s
  FROM events WINDOW w AS (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '5' SECOND PRECEDING AND CURRENT ROW);
INSERT INTO forests
  SELECT k, ts, v, RANDOM_CUT_FOREST(v, 'trees=10, sample_size=64, time_decay=2000, seed=7') OVER (PARTITION BY k) AS score
  FROM events;
`

// killEvents generates the input in chunks: event time moves forward from
// chunk to chunk, and within a chunk rows are out of order by at most 30
// positions (well under the 2 s watermark delay), so no row is ever late
// however the batches fall: every run, interrupted or not, must give the
// same rows.
func killEvents(rng *rand.Rand, chunks, perChunk, keys int) [][]byte {
	clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	out := make([][]byte, chunks)
	for c := range chunks {
		type ev struct {
			k  int
			v  int64
			ts int64
		}
		evs := make([]ev, perChunk)
		for i := range evs {
			clock += rng.Int64N(6)
			evs[i] = ev{k: rng.IntN(keys), v: rng.Int64N(1000) - 100, ts: clock}
		}
		for i := range evs {
			j := min(len(evs)-1, i+rng.IntN(30))
			evs[i], evs[j] = evs[j], evs[i]
		}
		var b bytes.Buffer
		for _, e := range evs {
			fmt.Fprintf(&b, `{"k":"k%d","v":%d,"ts":%q}`+"\n", e.k, e.v, time.UnixMilli(e.ts).UTC().Format("2006-01-02T15:04:05.000Z"))
		}
		out[c] = b.Bytes()
	}
	return out
}

// killConfig varies the kill test.
type killConfig struct {
	checkpoints string   // --checkpoints, "" for the data dir
	env         []string // extra environment of every eddy process
	// reshard splits a shard before chunk reshard and merges two after it.
	reshard int
}

var resumedFrom = regexp.MustCompile(`resumes from checkpoint (\d+)`)

// killAndRestore runs the application while chunks of input arrive,
// SIGKILLing `eddy run` at a random moment after each chunk and restarting it,
// then finishes with --bounded; the committed output of every sink must equal,
// row for row, one uninterrupted run over the same input.
func killAndRestore(t *testing.T, cfg killConfig) {
	rng := rand.New(rand.NewPCG(11, 23))
	chunks, perChunk := 12, 17_000
	if testing.Short() {
		chunks, perChunk = 10, 2_000
	}
	input := killEvents(rng, chunks, perChunk, 150)
	c := newCLI(t)
	c.env = cfg.env
	outDir := t.TempDir()
	c.ok(nil, "streams", "create", "events", "--shards", "4")
	for _, s := range []string{"app_sessions", "ref_sessions"} {
		c.ok(nil, "streams", "create", s, "--shards", "2")
	}
	appPath := filepath.Join(outDir, "app.sql")
	refPath := filepath.Join(outDir, "ref.sql")
	os.WriteFile(appPath, []byte(fmt.Sprintf(killApp, "app_", outDir, 500)), 0o644)
	os.WriteFile(refPath, []byte(fmt.Sprintf(killApp, "ref_", outDir, 10_000)), 0o644)
	runArgs := []string{"run", appPath, "--checkpoint-interval", "150ms", "--idle-timeout", "1h"}
	if cfg.checkpoints != "" {
		runArgs = append(runArgs, "--checkpoints", cfg.checkpoints)
	}

	kills, resumed, lastResumed := 0, 0, 0
	for i, chunk := range input {
		if cfg.reshard > 0 && i == cfg.reshard {
			// Split shard 1 in the middle of its range, then merge shards 2 and 3.
			d := c.describe("events")
			start, end := d.Shards[1].HashKeyRange.StartingHashKey, d.Shards[1].HashKeyRange.EndingHashKey
			c.ok(nil, "streams", "split", "events", d.Shards[1].ShardID, midHashKey(t, start, end))
		}
		if cfg.reshard > 0 && i == cfg.reshard+2 {
			c.ok(nil, "streams", "merge", "events", shardName(2), shardName(3))
		}
		// Keys spread over the shards (each key in one), so every shard moves
		// the watermark and rows are processed, and their state checkpointed,
		// between kills.
		c.ok(chunk, "put", "events", "--partition-key-field", "k")
		cmd := exec.Command(eddyBin, append(runArgs, "--data-dir", c.dataDir)...)
		cmd.Env = append(os.Environ(), c.env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random moment: while starting, restoring, processing the
		// chunk or idling after it.
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			t.Fatalf("run %d ended before it was killed: %v\nstderr: %s", i, err, stderr.String())
		case <-time.After(time.Duration(50+rng.IntN(1200)) * time.Millisecond):
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		kills++
		if m := resumedFrom.FindStringSubmatch(stderr.String()); m != nil {
			id, _ := strconv.Atoi(m[1])
			if id < lastResumed {
				t.Fatalf("run %d resumed from checkpoint %d, older than %d", i, id, lastResumed)
			}
			resumed++
			lastResumed = id
		}
		if strings.Contains(stderr.String(), "level=ERROR") {
			t.Fatalf("run %d logged an error:\n%s", i, stderr.String())
		}
	}
	final := c.run(nil, append(runArgs, "--bounded")...)
	if final.code != 0 {
		t.Fatalf("final bounded run: exit %d\n%s", final.code, final.stderr)
	}
	if !resumedFrom.MatchString(final.stderr) {
		t.Fatalf("the final run did not resume from a checkpoint:\n%s", final.stderr)
	}
	if resumed < kills/2 {
		t.Fatalf("only %d of %d killed runs resumed from a checkpoint", resumed, kills)
	}
	if cfg.checkpoints != "" {
		if _, err := os.Stat(filepath.Join(c.dataDir, "checkpoints")); !os.IsNotExist(err) {
			t.Fatalf("checkpoints went to the data dir, not %s (%v)", cfg.checkpoints, err)
		}
		// The last three are kept, all taken since the last resume.
		out := c.ok(nil, "checkpoints", "list", "app", "--checkpoints", cfg.checkpoints)
		kept := regexp.MustCompile(`(?m)^(\d+) `).FindAllStringSubmatch(out, -1)
		if len(kept) != 3 || must(strconv.Atoi(kept[2][1])) < lastResumed {
			t.Fatalf("eddy checkpoints list in %s: want the 3 newest, from %d on:\n%s", cfg.checkpoints, lastResumed, out)
		}
	}
	ref := c.run(nil, "run", refPath, "--bounded", "--no-checkpoints")
	if ref.code != 0 {
		t.Fatalf("reference run: exit %d\n%s", ref.code, ref.stderr)
	}

	sortedLines := func(s string) []string {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		slices.Sort(lines)
		return lines
	}
	readFile := func(name string) string {
		b, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	readStream := func(name string) string {
		var b strings.Builder
		for _, r := range c.get(name) {
			b.WriteString(r.Data + "\n")
		}
		return b.String()
	}
	for _, out := range []struct {
		sink      string
		got, want string
		minRows   int
	}{
		{"tumbles (file)", readFile("app_tumbles.jsonl"), readFile("ref_tumbles.jsonl"), chunks * perChunk / 100},
		{"sessions (stream)", readStream("app_sessions"), readStream("ref_sessions"), chunks * perChunk / 100},
		{"overs (file)", readFile("app_overs.jsonl"), readFile("ref_overs.jsonl"), chunks * perChunk},
		// Anomaly scores depend on every row a forest has seen, in order: a
		// restored forest must score exactly as the uninterrupted one.
		{"forests (file)", readFile("app_forests.jsonl"), readFile("ref_forests.jsonl"), chunks * perChunk},
	} {
		got, want := sortedLines(out.got), sortedLines(out.want)
		if len(want) < out.minRows {
			t.Fatalf("%s: the reference run wrote only %d rows", out.sink, len(want))
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d rows committed after %d kills, %d in one uninterrupted run", out.sink, len(got), kills, len(want))
			continue
		}
		diff := -1
		for i := range got {
			if got[i] != want[i] {
				diff = i
				break
			}
		}
		if i := diff; i >= 0 {
			t.Errorf("%s: row %d is %s, uninterrupted %s", out.sink, i, got[i], want[i])
			continue
		}
		if strings.HasPrefix(out.sink, "forests") {
			scored := 0
			for _, l := range want {
				if !strings.Contains(l, `"score":0}`) {
					scored++
				}
			}
			// Keys have ~1,360 rows each and their forests warm up after 64.
			if scored < len(want)*3/4 {
				t.Errorf("forests: only %d of %d rows have a score", scored, len(want))
			}
		}
		t.Logf("%s: %d rows exact", out.sink, len(got))
	}
	t.Logf("%d events, %d kills, %d runs resumed (last from checkpoint %d)", chunks*perChunk, kills, resumed, lastResumed)
}

// midHashKey is the middle of a shard's hash key range, where a split goes.
func midHashKey(t *testing.T, start, end string) string {
	t.Helper()
	s, ok1 := new(big.Int).SetString(start, 10)
	e, ok2 := new(big.Int).SetString(end, 10)
	if !ok1 || !ok2 {
		t.Fatalf("bad hash key range %s..%s", start, end)
	}
	return s.Add(s, e).Rsh(s, 1).String()
}

// TestCheckpointKillRestoreIsExact is the kill test of issue 5: TUMBLE,
// SESSION and OVER over 204,000 events into file and stream sinks, SIGKILLed
// 12 times at random moments, then run to the end.
func TestCheckpointKillRestoreIsExact(t *testing.T) {
	killAndRestore(t, killConfig{})
}

// TestCheckpointKillAcrossResharding splits a shard and merges two others
// while the application is being killed and restarted.
func TestCheckpointKillAcrossResharding(t *testing.T) {
	killAndRestore(t, killConfig{reshard: 4})
}

// TestCheckpointKillRestoreInS3 is the kill test with the checkpoints in an
// S3 API bucket (versitygw, started by the test).
func TestCheckpointKillRestoreInS3(t *testing.T) {
	srv := s3test.Start(t)
	killAndRestore(t, killConfig{checkpoints: "s3://" + srv.Bucket + "/eddy/checkpoints", env: srv.Env()})
}
