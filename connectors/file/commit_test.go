package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/connectors/internal/killtest"
)

var ctx = context.Background()

// rows writes rows n = from..to-1 (ticker T<n%5>, NULL every 7th).
func rows(t *testing.T, s *Sink, from, to int) {
	t.Helper()
	var tickers []string
	var ns []int64
	for i := from; i < to; i++ {
		tk := fmt.Sprintf("T%d", i%5)
		if i%7 == 6 {
			tk = ""
		}
		tickers = append(tickers, tk)
		ns = append(ns, int64(i))
	}
	if len(ns) > 0 {
		rec := record(t, tickers, ns)
		defer rec.Release()
		if err := s.Write(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonRows is what the output holds for rows from..to-1.
func jsonRows(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		tk := fmt.Sprintf("%q", fmt.Sprintf("T%d", i%5))
		if i%7 == 6 {
			tk = "null"
		}
		end := time.UnixMilli(1767366245123 + int64(i)).UTC().Format("2006-01-02T15:04:05.000Z")
		fmt.Fprintf(&b, `{"ticker":%s,"n":%d,"window_end":"%s"}`+"\n", tk, i, end)
	}
	return b.String()
}

func openAt(t *testing.T, path string, with map[string]string) *Sink {
	t.Helper()
	opts := map[string]string{"path": path}
	for k, v := range with {
		opts[k] = v
	}
	cfg, err := ConfigFromOptions("out", schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// must returns v, and panics (failing the test) on an error.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantOutput(t *testing.T, path, want string) {
	t.Helper()
	if got := read(t, path); got != want {
		t.Fatalf("output (%d bytes):\n%s\nwant (%d bytes):\n%s", len(got), got, len(want), want)
	}
}

// wantOnly checks that the directory holds just the named files.
func wantOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	var got []string
	for _, e := range must(os.ReadDir(dir)) {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Fatalf("directory holds %v, want %v", got, names)
	}
}

func TestJSONRowsHelper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	s := openAt(t, path, nil)
	rows(t, s, 0, 70)
	check(t, s.Close())
	wantOutput(t, path, jsonRows(0, 70))
}

func TestCommitCycles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	check(t, os.WriteFile(path, []byte("from an earlier run\n"), 0o644))
	s := openAt(t, path, nil)
	check(t, s.Recover(ctx, 0, nil))
	wantOutput(t, path, "") // a fresh start truncates, as a sink without checkpoints does

	rows(t, s, 0, 10)
	check(t, s.Flush(ctx))
	wantOutput(t, path, "")
	st1 := must(s.Prepare(ctx, 1))
	wantOutput(t, path, "")
	check(t, s.Commit(ctx, 1, st1))
	wantOutput(t, path, jsonRows(0, 10))
	check(t, s.Commit(ctx, 1, st1)) // again: harmless
	wantOutput(t, path, jsonRows(0, 10))

	st2 := must(s.Prepare(ctx, 2)) // no rows
	check(t, s.Commit(ctx, 2, st2))
	wantOutput(t, path, jsonRows(0, 10))

	// Two checkpoints prepared before the first commits.
	rows(t, s, 10, 25)
	st3 := must(s.Prepare(ctx, 3))
	rows(t, s, 25, 26)
	st4 := must(s.Prepare(ctx, 4))
	rows(t, s, 26, 30)
	wantOnly(t, dir, "out.jsonl", ".out.jsonl.inprogress",
		fmt.Sprintf(".out.jsonl.pending.3.%d", len(jsonRows(0, 10))),
		fmt.Sprintf(".out.jsonl.pending.4.%d", len(jsonRows(0, 25))))
	check(t, s.Commit(ctx, 3, st3))
	wantOutput(t, path, jsonRows(0, 25))
	check(t, s.Commit(ctx, 4, st4))
	wantOutput(t, path, jsonRows(0, 26))

	// Commit(6) commits 5 too.
	st5 := must(s.Prepare(ctx, 5))
	rows(t, s, 30, 40)
	st6 := must(s.Prepare(ctx, 6))
	check(t, s.Commit(ctx, 6, st6))
	wantOutput(t, path, jsonRows(0, 40))
	check(t, s.Commit(ctx, 5, st5))
	wantOutput(t, path, jsonRows(0, 40))

	if _, err := s.Prepare(ctx, 6); err == nil {
		t.Error("Prepare of an old checkpoint accepted")
	}
	if err := s.Commit(ctx, 9, st6); err == nil {
		t.Error("Commit of a checkpoint never prepared accepted")
	}
	if err := s.Commit(ctx, 6, st5); err == nil {
		t.Error("Commit with another checkpoint's state accepted")
	}
	if err := s.Recover(ctx, 0, nil); err == nil {
		t.Error("a second Recover accepted")
	}
	rows(t, s, 40, 45) // covered by no checkpoint
	check(t, s.Close())
	wantOutput(t, path, jsonRows(0, 40))
	wantOnly(t, dir, "out.jsonl")

	// A restart from checkpoint 6 keeps the output (append = false truncates
	// only a fresh start).
	s = openAt(t, path, nil)
	check(t, s.Recover(ctx, 6, st6))
	rows(t, s, 40, 41)
	check(t, s.Commit(ctx, 7, must(s.Prepare(ctx, 7))))
	check(t, s.Close())
	wantOutput(t, path, jsonRows(0, 41))

	// A sink that was never recovered refuses the protocol, and one that was
	// written directly cannot be recovered.
	s = openAt(t, filepath.Join(dir, "other.jsonl"), nil)
	if _, err := s.Prepare(ctx, 1); err == nil {
		t.Error("Prepare without Recover accepted")
	}
	rows(t, s, 0, 1)
	if err := s.Recover(ctx, 0, nil); err == nil {
		t.Error("Recover after Write accepted")
	}
	check(t, s.Close())
}

func TestCommitCSVHeader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	const header = "ticker,n,window_end\n"
	s := openAt(t, path, map[string]string{"format": "csv"})
	check(t, s.Recover(ctx, 0, nil))
	st1 := must(s.Prepare(ctx, 1)) // the header alone
	wantOutput(t, path, "")
	check(t, s.Commit(ctx, 1, st1))
	wantOutput(t, path, header)
	write(t, s, []string{"A"}, []int64{1})
	// A crash before checkpoint 2: the header is not written again.
	s = openAt(t, path, map[string]string{"format": "csv"})
	check(t, s.Recover(ctx, 1, st1))
	write(t, s, []string{"B"}, []int64{2})
	check(t, s.Commit(ctx, 2, must(s.Prepare(ctx, 2))))
	check(t, s.Close())
	wantOutput(t, path, header+"B,2,2026-01-02T15:04:05.125Z\n")

	// A fresh start with append keeps the output and adds no header.
	s = openAt(t, path, map[string]string{"format": "csv", "append": "true"})
	check(t, s.Recover(ctx, 0, nil))
	write(t, s, []string{"C"}, []int64{3})
	check(t, s.Commit(ctx, 1, must(s.Prepare(ctx, 1))))
	check(t, s.Close())
	wantOutput(t, path, header+"B,2,2026-01-02T15:04:05.125Z\nC,3,2026-01-02T15:04:05.126Z\n")
}

// pendingOf returns the pending file a state names.
func pendingOf(t *testing.T, dir string, st []byte) string {
	t.Helper()
	var s state
	check(t, json.Unmarshal(st, &s))
	if s.File == "" {
		t.Fatalf("state %s names no pending file", st)
	}
	return filepath.Join(dir, s.File)
}

// appendPart appends the first n bytes of a pending file to the output, as a
// commit that died in its append leaves it (n < 0: all of it).
func appendPart(t *testing.T, path, pending string, n int) {
	t.Helper()
	b := must(os.ReadFile(pending))
	if n < 0 {
		n = len(b)
	}
	f := must(os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0))
	defer f.Close()
	must(f.Write(b[:n]))
}

// TestCommitCrash abandons a sink at each step of the protocol, as a crash
// does (nothing closed, buffers lost), and recovers a new one from the
// checkpoint the engine would restore.
func TestCommitCrash(t *testing.T) {
	type restore struct {
		id int64
		st []byte
	}
	cases := []struct {
		name   string
		append bool
		// crash runs after checkpoint 1 (rows 0..10) is committed and rows
		// 10..20 are written; it returns the checkpoint to restore.
		crash func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore
		want  string // the output once recovered
	}{
		{"after Write", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			check(t, s.Flush(ctx))
			return restore{1, st1}
		}, jsonRows(0, 10)},
		{"after Prepare, checkpoint incomplete", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			must(s.Prepare(ctx, 2))
			return restore{1, st1}
		}, jsonRows(0, 10)},
		{"after Prepare, checkpoint complete", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			return restore{2, must(s.Prepare(ctx, 2))}
		}, jsonRows(0, 20)},
		{"in the append", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			st2 := must(s.Prepare(ctx, 2))
			appendPart(t, path, pendingOf(t, dir, st2), 100)
			return restore{2, st2}
		}, jsonRows(0, 20)},
		{"in the append, older checkpoint restored", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			st2 := must(s.Prepare(ctx, 2))
			appendPart(t, path, pendingOf(t, dir, st2), 100)
			return restore{1, st1}
		}, jsonRows(0, 10)},
		{"after the append, before the pending file went", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			st2 := must(s.Prepare(ctx, 2))
			appendPart(t, path, pendingOf(t, dir, st2), -1)
			return restore{2, st2}
		}, jsonRows(0, 20)},
		{"after Commit", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			st2 := must(s.Prepare(ctx, 2))
			check(t, s.Commit(ctx, 2, st2))
			rows(t, s, 20, 25)
			must(s.Prepare(ctx, 3))
			rows(t, s, 25, 30)
			return restore{2, st2}
		}, jsonRows(0, 20)},
		{"two prepared, the newer restored", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			must(s.Prepare(ctx, 2))
			rows(t, s, 20, 30)
			return restore{3, must(s.Prepare(ctx, 3))}
		}, jsonRows(0, 30)},
		{"two prepared, the older restored", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			st2 := must(s.Prepare(ctx, 2))
			rows(t, s, 20, 30)
			must(s.Prepare(ctx, 3))
			return restore{2, st2}
		}, jsonRows(0, 20)},
		{"two prepared, in the older's append", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			st2 := must(s.Prepare(ctx, 2))
			rows(t, s, 20, 30)
			st3 := must(s.Prepare(ctx, 3))
			appendPart(t, path, pendingOf(t, dir, st2), 77)
			return restore{3, st3}
		}, jsonRows(0, 30)},
		{"two prepared, in the newer's append", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			st2 := must(s.Prepare(ctx, 2))
			rows(t, s, 20, 30)
			st3 := must(s.Prepare(ctx, 3))
			check(t, s.Commit(ctx, 2, st2))
			appendPart(t, path, pendingOf(t, dir, st3), 500)
			return restore{3, st3}
		}, jsonRows(0, 30)},
		{"fresh start", false, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			must(s.Prepare(ctx, 2))
			rows(t, s, 20, 30)
			return restore{0, nil}
		}, ""},
		{"fresh start with append", true, func(t *testing.T, s *Sink, dir, path string, st1 []byte) restore {
			must(s.Prepare(ctx, 2))
			rows(t, s, 20, 30)
			check(t, s.Flush(ctx))
			return restore{0, nil}
		}, jsonRows(0, 10)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.jsonl")
			with := map[string]string{"append": strconv.FormatBool(c.append)}
			s := openAt(t, path, with)
			check(t, s.Recover(ctx, 0, nil))
			rows(t, s, 0, 10)
			st1 := must(s.Prepare(ctx, 1))
			check(t, s.Commit(ctx, 1, st1))
			rows(t, s, 10, 20)
			r := c.crash(t, s, dir, path, st1) // s is abandoned

			s = openAt(t, path, with)
			check(t, s.Recover(ctx, r.id, r.st))
			wantOutput(t, path, c.want)
			wantOnly(t, dir, "out.jsonl", ".out.jsonl.inprogress")
			// The run goes on from the restored checkpoint.
			rows(t, s, 100, 105)
			check(t, s.Commit(ctx, r.id+1, must(s.Prepare(ctx, r.id+1))))
			check(t, s.Close())
			wantOutput(t, path, c.want+jsonRows(100, 105))
			wantOnly(t, dir, "out.jsonl")
		})
	}
}

func TestRecoverRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	s := openAt(t, path, nil)
	check(t, s.Recover(ctx, 0, nil))
	rows(t, s, 0, 10)
	st1 := must(s.Prepare(ctx, 1))
	check(t, s.Commit(ctx, 1, st1))
	rows(t, s, 10, 20)
	st2 := must(s.Prepare(ctx, 2))

	// A damaged pending file.
	pending := pendingOf(t, dir, st2)
	b := must(os.ReadFile(pending))
	b[3] ^= 1
	check(t, os.WriteFile(pending, b, 0o644))
	s = openAt(t, path, nil)
	if err := s.Recover(ctx, 2, st2); err == nil || !strings.Contains(err.Error(), "is damaged") {
		t.Errorf("damaged pending file: %v", err)
	}
	s.Close()

	// An output shorter than a checkpoint committed.
	check(t, os.WriteFile(path, []byte("x\n"), 0o644))
	s = openAt(t, path, nil)
	if err := s.Recover(ctx, 1, st1); err == nil || !strings.Contains(err.Error(), "was it changed or replaced?") {
		t.Errorf("short output: %v", err)
	}
	s.Close()

	// Bad states.
	for _, st := range []string{"", "{", `{"v":1,"id":3,"offset":0,"bytes":0}`, `{"v":2,"id":1}`} {
		s = openAt(t, path, nil)
		if err := s.Recover(ctx, 1, []byte(st)); err == nil {
			t.Errorf("state %q accepted", st)
		}
		s.Close()
	}
}

// The kill test: a child process writes, prepares, records checkpoints (an
// atomically renamed file standing for the engine's manifest) and commits in a
// loop; the parent kills it with SIGKILL at random moments and starts it again,
// and each start recovers from the checkpoint last recorded.

const (
	killDirEnv  = "EDDY_FILE_SINK_KILL_DIR"
	killRowsEnv = "EDDY_FILE_SINK_KILL_ROWS"
)

// checkpointRecord is the child's stand-in for a checkpoint manifest.
type checkpointRecord struct {
	ID    int64  `json:"id"`
	State []byte `json:"state"`
	Rows  int    `json:"rows"` // rows covered: the next run starts at this row
}

func writeAtomic(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	f := must(os.Create(tmp))
	must(f.Write(b))
	check(t, f.Sync())
	check(t, f.Close())
	check(t, os.Rename(tmp, path))
	check(t, syncDir(filepath.Dir(path)))
}

func TestFileSinkKillChild(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("the child process of TestFileSinkKill")
	}
	total := must(strconv.Atoi(os.Getenv(killRowsEnv)))
	recPath := filepath.Join(dir, "checkpoint.json")
	var rec checkpointRecord
	b, err := os.ReadFile(recPath)
	if err == nil {
		check(t, json.Unmarshal(b, &rec))
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	s := openAt(t, filepath.Join(dir, "out", "out.jsonl"), nil)
	check(t, s.Recover(ctx, rec.ID, rec.State))
	fmt.Println("RECOVERED checkpoint", rec.ID, "row", rec.Rows)
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	id, done := rec.ID, rec.Rows
	var outstanding []checkpointRecord
	for done < total {
		k := min(1+rng.IntN(400), total-done)
		for from := done; from < done+k; {
			to := min(from+1+rng.IntN(100), done+k)
			rows(t, s, from, to)
			from = to
		}
		id++
		done += k
		r := checkpointRecord{ID: id, State: must(s.Prepare(ctx, id)), Rows: done}
		writeAtomic(t, recPath, must(json.Marshal(r)))
		outstanding = append(outstanding, r)
		if len(outstanding) == 2 || rng.IntN(2) == 0 {
			for _, o := range outstanding {
				check(t, s.Commit(ctx, o.ID, o.State))
			}
			outstanding = nil
		}
	}
	for _, o := range outstanding {
		check(t, s.Commit(ctx, o.ID, o.State))
	}
	check(t, s.Close())
}

func TestFileSinkKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	total := 100000
	want := jsonRows(0, total)
	out := filepath.Join(dir, "out", "out.jsonl")
	run := func(kill time.Duration) (killed bool) {
		t.Helper()
		killed, recovered := killtest.Run(t, "TestFileSinkKillChild", []string{killDirEnv + "=" + dir, killRowsEnv + "=" + strconv.Itoa(total)}, kill)
		if killed {
			t.Logf("%s; killed %v later", recovered, kill)
		}
		return killed
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 0
	for range 10 {
		if run(time.Duration(rng.IntN(50_000)) * time.Microsecond) {
			kills++
		}
		// The output is always whole committed checkpoints, and at worst the
		// start of one more being appended, never beyond the checkpoint last
		// recorded.
		var rec checkpointRecord
		if b, err := os.ReadFile(filepath.Join(dir, "checkpoint.json")); err == nil {
			check(t, json.Unmarshal(b, &rec))
		}
		if got, err := os.ReadFile(out); err == nil && !strings.HasPrefix(jsonRows(0, rec.Rows), string(got)) {
			t.Fatalf("after a kill the output (%d bytes) is not a prefix of the %d rows of checkpoint %d", len(got), rec.Rows, rec.ID)
		}
	}
	run(-1)
	if kills < 5 {
		t.Errorf("only %d of 10 children were killed before they finished; the test proves little", kills)
	}
	if got := read(t, out); got != want {
		t.Fatalf("output: %d bytes, want %d; %d lines, want %d", len(got), len(want), strings.Count(got, "\n"), total)
	}
	wantOnly(t, filepath.Join(dir, "out"), "out.jsonl")
}
