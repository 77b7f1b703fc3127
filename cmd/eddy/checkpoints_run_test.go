package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// resumeApp counts events per key in TUMBLE windows of SIZE seconds into a
// file sink. %[1]s is the output folder, %[2]d the window size, %[3]s extra
// statements.
const resumeApp = `%[3]s
CREATE STREAM events (k VARCHAR, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH (connector = 'kinesis', stream = 'events');
CREATE SINK counts WITH (connector = 'file', path = '%[1]s/counts.jsonl', format = 'json');
INSERT INTO counts SELECT k, window_start, COUNT(*) AS n, SUM(v) AS total FROM events GROUP BY k, TUMBLE(ts, INTERVAL '%[2]d' SECOND);
`

// resumeEvents are n events from event time second `from`, 10 per second.
func resumeEvents(from, n int) []byte {
	var b bytes.Buffer
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ts := base.Add(time.Duration(from*1000+i*100) * time.Millisecond)
		fmt.Fprintf(&b, `{"k":"k%d","v":%d,"ts":%q}`+"\n", i%7, i, ts.Format("2006-01-02T15:04:05.000Z"))
	}
	return b.Bytes()
}

func sortedFileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(lines)
	return lines
}

// TestCheckpointRestoreChoices drives the restore options of eddy run
// through the binary: resuming, picking a checkpoint, a changed query, a
// removed query, --allow-state-reset, SET statements, and a damaged newest
// checkpoint.
func TestCheckpointRestoreChoices(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	c.ok(nil, "streams", "create", "events", "--shards", "2")
	app := filepath.Join(dir, "app.sql")
	write := func(size int, extra string) {
		os.WriteFile(app, []byte(fmt.Sprintf(resumeApp, dir, size, extra)), 0o644)
	}
	write(1, "")
	c.ok(resumeEvents(0, 300), "put", "events", "--partition-key-field", "k")
	// --no-drain: each run ends with its windows open, for the next to go on.
	first := c.run(nil, "run", app, "--bounded", "--no-drain")
	if first.code != 0 || strings.Contains(first.stderr, "resumes") {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	c.ok(resumeEvents(30, 300), "put", "events", "--partition-key-field", "k")
	second := c.run(nil, "run", app, "--bounded", "--no-drain")
	// The first run ended its open shards at its bound; resumed, they read on
	// and hold event time back as before: no row is late.
	if second.code != 0 || !strings.Contains(second.stderr, "app resumes from checkpoint 1") ||
		!strings.Contains(second.stderr, "300 rows in") || strings.Contains(second.stderr, "error stream") {
		t.Fatalf("second run did not resume from checkpoint 1 and read the 300 new events: exit %d\n%s", second.code, second.stderr)
	}

	// An explicit checkpoint: 1 again reads the second 300 events again; the
	// file sink is cut back to what checkpoint 1 committed, so no row repeats.
	want := sortedFileLines(t, filepath.Join(dir, "counts.jsonl"))
	again := c.run(nil, "run", app, "--bounded", "--no-drain", "--from-checkpoint", "1")
	if again.code != 0 || !strings.Contains(again.stderr, "resumes from checkpoint 1") || !strings.Contains(again.stderr, "300 rows in") {
		t.Fatalf("--from-checkpoint 1: exit %d\n%s", again.code, again.stderr)
	}
	if got := sortedFileLines(t, filepath.Join(dir, "counts.jsonl")); !slices.Equal(got, want) {
		t.Fatalf("after replaying from checkpoint 1 the file holds %d rows, before %d", len(got), len(want))
	}
	if r := c.run(nil, "run", app, "--no-drain"); r.code == 0 || !strings.Contains(r.stderr, "use it with --bounded") {
		t.Fatalf("--no-drain without --bounded: exit %d\n%s", r.code, r.stderr)
	}
	if r := c.run(nil, "run", app, "--bounded", "--from-checkpoint", "99"); r.code == 0 || !strings.Contains(r.stderr, "--from-checkpoint 99") {
		t.Fatalf("--from-checkpoint 99: exit %d\n%s", r.code, r.stderr)
	}
	if r := c.run(nil, "run", app, "--bounded", "--from-checkpoint", "yesterday"); r.code == 0 || !strings.Contains(r.stderr, "latest or none") {
		t.Fatalf("--from-checkpoint yesterday: exit %d\n%s", r.code, r.stderr)
	}

	// A changed window: the state no longer fits.
	write(2, "")
	changed := c.run(nil, "run", app, "--bounded")
	for _, want := range []string{"query counts", "TUMBLE", "--allow-state-reset"} {
		if changed.code == 0 || !strings.Contains(changed.stderr, want) {
			t.Fatalf("changed window: exit %d, stderr lacks %q:\n%s", changed.code, want, changed.stderr)
		}
	}
	reset := c.run(nil, "run", app, "--bounded", "--allow-state-reset")
	if reset.code != 0 || !strings.Contains(reset.stderr, "starting fresh") || !strings.Contains(reset.stderr, "600 rows in") {
		t.Fatalf("--allow-state-reset: exit %d\n%s", reset.code, reset.stderr)
	}
	lines := sortedFileLines(t, filepath.Join(dir, "counts.jsonl"))
	if len(lines) != 7*30 { // 60 s of events in 2 s windows, 7 keys
		t.Fatalf("after the reset the file holds %d rows, want %d (one run afresh)", len(lines), 7*30)
	}

	// A query removed: its state would be dropped silently.
	write(2, "CREATE SINK extra WITH (connector = 'file', path = '"+dir+"/extra.jsonl', format = 'json');")
	os.WriteFile(app, append(must(os.ReadFile(app)), []byte("INSERT INTO extra SELECT k, v FROM events;\n")...), 0o644)
	c.ok(nil, "run", app, "--bounded")
	write(2, "")
	removed := c.run(nil, "run", app, "--bounded")
	if removed.code == 0 || !strings.Contains(removed.stderr, "holds the state of extra, which the application no longer has") {
		t.Fatalf("removed query: exit %d\n%s", removed.code, removed.stderr)
	}

	// SET names the application and its checkpoint interval.
	write(1, "SET application_name = 'renamed';\nSET checkpoint_interval = '1 minute';")
	named := c.run(nil, "run", app, "--bounded")
	if named.code != 0 || strings.Contains(named.stderr, "resumes") {
		t.Fatalf("renamed application: exit %d\n%s", named.code, named.stderr)
	}
	if out := c.ok(nil, "checkpoints", "list", "renamed"); !strings.Contains(out, "\n1 ") {
		t.Fatalf("no checkpoint 1 of renamed:\n%s", out)
	}
	write(1, "SET checkpoint_interval = 'often';")
	if r := c.run(nil, "run", app, "--bounded"); r.code == 0 || !strings.Contains(r.stderr, "app.sql:1:") || !strings.Contains(r.stderr, "checkpoint_interval") {
		t.Fatalf("bad SET: exit %d\n%s", r.code, r.stderr)
	}
	write(1, "SET checkpoint_intervall = '1s';")
	if r := c.run(nil, "run", app, "--bounded"); r.code == 0 || !strings.Contains(r.stderr, "unknown setting checkpoint_intervall") {
		t.Fatalf("unknown SET: exit %d\n%s", r.code, r.stderr)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDamagedCheckpointFallsBack truncates a state file of the newest
// checkpoint: the next run warns, naming the file, resumes from the one
// before, and the file sink still holds each row once.
func TestDamagedCheckpointFallsBack(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	c.ok(nil, "streams", "create", "events", "--shards", "2")
	app := filepath.Join(dir, "app.sql")
	os.WriteFile(app, []byte(fmt.Sprintf(resumeApp, dir, 1, "")), 0o644)
	for i := range 3 {
		c.ok(resumeEvents(i*30, 300), "put", "events", "--partition-key-field", "k")
		c.ok(nil, "run", app, "--bounded", "--no-drain")
	}
	// Checkpoint 3 is the newest; damage its largest state file.
	chk := filepath.Join(c.dataDir, "checkpoints", "app", "chk-0000000003")
	entries, err := os.ReadDir(chk)
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	var size int64
	for _, e := range entries {
		info, _ := e.Info()
		if e.Name() != "MANIFEST.json" && info.Size() > size {
			victim, size = e.Name(), info.Size()
		}
	}
	if err := os.Truncate(filepath.Join(chk, victim), size/2); err != nil {
		t.Fatal(err)
	}
	c.ok(resumeEvents(90, 300), "put", "events", "--partition-key-field", "k")
	r := c.run(nil, "run", app, "--bounded")
	if r.code != 0 || !strings.Contains(r.stderr, victim) || !strings.Contains(r.stderr, "resumes from checkpoint 2") ||
		!strings.Contains(r.stderr, "600 rows in") {
		t.Fatalf("damaged checkpoint 3: want a warning naming %s and a resume from 2 over 600 events: exit %d\n%s", victim, r.code, r.stderr)
	}
	// One run afresh over the same events is the reference.
	ref := filepath.Join(t.TempDir(), "ref")
	os.MkdirAll(ref, 0o755)
	refApp := filepath.Join(ref, "ref.sql")
	os.WriteFile(refApp, []byte(fmt.Sprintf(resumeApp, ref, 1, "")), 0o644)
	c.ok(nil, "run", refApp, "--bounded", "--no-checkpoints")
	got, want := sortedFileLines(t, filepath.Join(dir, "counts.jsonl")), sortedFileLines(t, filepath.Join(ref, "counts.jsonl"))
	if !slices.Equal(got, want) || len(want) != 7*120 {
		t.Fatalf("file sink after the fallback: %d rows, reference %d (want %d)", len(got), len(want), 7*120)
	}
}

// TestSigtermTakesSavepoint stops a running application with SIGTERM: it
// exits 0 after a savepoint, and the next run resumes from it and ends with
// the same output as one run over everything.
func TestSigtermTakesSavepoint(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	c.ok(nil, "streams", "create", "events", "--shards", "2")
	app := filepath.Join(dir, "app.sql")
	os.WriteFile(app, []byte(fmt.Sprintf(resumeApp, dir, 1, "")+"SELECT k, v FROM events;\n"), 0o644)
	c.ok(resumeEvents(0, 500), "put", "events", "--partition-key-field", "k")

	cmd := exec.Command(eddyBin, "run", app, "--checkpoint-interval", "0", "--format", "json", "--log-level", "info", "--data-dir", c.dataDir)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The console query prints every event as it is read: once all 500 are
	// there, everything has been processed.
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(stdout.String(), "\n") < 500 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the run printed %d of 500 events\n%s", strings.Count(stdout.String(), "\n"), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The counting query is a job of its own, reading the same events: give
	// it a moment to catch up too.
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "level=INFO msg=\"savepoint on stop\"") {
		t.Fatalf("no savepoint logged on SIGTERM:\n%s", stderr.String())
	}
	if out := c.ok(nil, "checkpoints", "list", "app"); !strings.Contains(out, "\n1 ") {
		t.Fatalf("no checkpoint after SIGTERM:\n%s", out)
	}
	// The savepoint's output is committed before the process exits: the
	// windows closed by then (event time 0 to 48 s, 7 keys) are in the file,
	// nothing is left pending.
	if got := sortedFileLines(t, filepath.Join(dir, "counts.jsonl")); len(got) != 48*7 {
		t.Fatalf("after SIGTERM the file holds %d rows, want the %d windows closed before the stop", len(got), 48*7)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".counts*")); len(left) > 0 {
		t.Fatalf("after SIGTERM uncommitted output is left: %v", left)
	}
	c.ok(resumeEvents(50, 500), "put", "events", "--partition-key-field", "k")
	r := c.run(nil, "run", app, "--bounded", "--format", "json")
	if r.code != 0 || !strings.Contains(r.stderr, "resumes from checkpoint 1") || !strings.Contains(r.stderr, "500 rows in") {
		t.Fatalf("run after SIGTERM: exit %d\n%s", r.code, r.stderr)
	}
	ref := filepath.Join(t.TempDir(), "ref")
	os.MkdirAll(ref, 0o755)
	refApp := filepath.Join(ref, "ref.sql")
	os.WriteFile(refApp, []byte(fmt.Sprintf(resumeApp, ref, 1, "")), 0o644)
	c.ok(nil, "run", refApp, "--bounded", "--no-checkpoints")
	got, want := sortedFileLines(t, filepath.Join(dir, "counts.jsonl")), sortedFileLines(t, filepath.Join(ref, "counts.jsonl"))
	if !slices.Equal(got, want) || len(want) != 7*100 {
		t.Fatalf("file sink after stop and resume: %d rows, reference %d (want %d)", len(got), len(want), 7*100)
	}
}

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
