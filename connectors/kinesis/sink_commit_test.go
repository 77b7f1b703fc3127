package kinesis

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

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/connectors/internal/killtest"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/sql/types"
)

var bg = context.Background()

// mustOK returns v, and panics (failing the test) on an error.
func mustOK[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rowRecord makes rows n = from..to-1 with ticker T<n%9> (NULL every 7th:
// a random partition key).
func rowRecord(from, to int) arrow.RecordBatch {
	mem := memory.DefaultAllocator
	tb := array.NewStringBuilder(mem)
	nb := array.NewInt64Builder(mem)
	wb := array.NewTimestampBuilder(mem, types.TimestampType.Arrow().(*arrow.TimestampType))
	for i := from; i < to; i++ {
		if i%7 == 6 {
			tb.AppendNull()
		} else {
			tb.Append(fmt.Sprintf("T%d", i%9))
		}
		nb.Append(int64(i))
		wb.Append(arrow.Timestamp(1767366245123 + int64(i)))
	}
	cols := []arrow.Array{tb.NewArray(), nb.NewArray(), wb.NewArray()}
	rec := array.NewRecordBatch(outCols.Arrow(), cols, int64(to-from))
	for _, c := range cols {
		c.Release()
	}
	tb.Release()
	nb.Release()
	wb.Release()
	return rec
}

func writeRows(t *testing.T, s *EmbeddedSink, from, to int) {
	t.Helper()
	for from < to { // in several records
		end := min(from+97, to)
		rec := rowRecord(from, end)
		err := s.Write(bg, rec)
		rec.Release()
		ok(t, err)
		from = end
	}
}

func span(from, to int) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, int64(i))
	}
	return out
}

// streamRows returns the n of every record of the stream, and checks that
// each partition key's rows keep their order within a shard.
func streamRows(t *testing.T, s *streamstore.Store, stream string) []int64 {
	t.Helper()
	var all []int64
	for shard, recs := range readStream(t, s, stream) {
		last := map[string]int64{}
		for _, r := range recs {
			var row struct{ N int64 }
			ok(t, json.Unmarshal(r.Data, &row))
			if prev, seen := last[r.PartitionKey]; seen && row.N <= prev {
				t.Fatalf("shard %s, key %s: row %d after %d", shard, r.PartitionKey, row.N, prev)
			}
			last[r.PartitionKey] = row.N
			all = append(all, row.N)
		}
	}
	slices.Sort(all)
	return all
}

// wantRows checks that the stream holds exactly the rows want, each once.
func wantRows(t *testing.T, s *streamstore.Store, stream string, want []int64) {
	t.Helper()
	got := streamRows(t, s, stream)
	if !slices.Equal(got, want) {
		dups := 0
		for i := 1; i < len(got); i++ {
			if got[i] == got[i-1] {
				dups++
			}
		}
		t.Fatalf("stream holds %d rows (%d repeated), want %d: got %v", len(got), dups, len(want), abbreviate(got))
	}
}

func abbreviate(v []int64) string {
	if len(v) > 40 {
		return fmt.Sprintf("%v ... %v", v[:20], v[len(v)-20:])
	}
	return fmt.Sprint(v)
}

// sinkFiles lists the sink's directory.
func sinkFiles(t *testing.T, s *streamstore.Store, stream string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir(), "sinks", stream+".sink"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	ok(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func wantFiles(t *testing.T, s *streamstore.Store, stream string, want ...string) {
	t.Helper()
	if got := sinkFiles(t, s, stream); !slices.Equal(got, want) {
		t.Fatalf("sink directory holds %v, want %v", got, want)
	}
}

func openCommitStore(t *testing.T, dir string) *streamstore.Store {
	t.Helper()
	s, err := streamstore.Open(dir, streamstore.DefaultOptions())
	ok(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// newCommitSink returns a sink of stream "out", owned as the application
// owns it, and recovered.
func newCommitSink(t *testing.T, st *streamstore.Store, id int64, state []byte) *EmbeddedSink {
	t.Helper()
	ok(t, st.Own("out"))
	s, err := NewEmbeddedSink(st, SinkConfig{Name: "k", Stream: "out", Schema: outCols, PartitionKey: "ticker"})
	ok(t, err)
	ok(t, s.Recover(bg, id, state))
	return s
}

// crash abandons a sink and its store as a killed process leaves them: the
// sink's buffers are lost and its descriptors (and so its lock) released;
// it returns the store opened again.
func crash(t *testing.T, s *EmbeddedSink, st *streamstore.Store) *streamstore.Store {
	t.Helper()
	if c := s.c; c != nil {
		if c.inprog != nil {
			c.inprog.Close()
		}
		c.lock.Close()
	}
	ok(t, st.Close())
	return openCommitStore(t, st.Dir())
}

func TestCommittingSinkCycles(t *testing.T) {
	st := openCommitStore(t, t.TempDir())
	ok(t, st.CreateStream("out", 3))
	s := newCommitSink(t, st, 0, nil)
	wantFiles(t, st, "out", "LOCK", "inprogress")

	writeRows(t, s, 0, 700)
	ok(t, s.Flush(bg))
	wantRows(t, st, "out", nil)
	st1 := mustOK(s.Prepare(bg, 1))
	wantRows(t, st, "out", nil)
	ok(t, s.Commit(bg, 1, st1))
	wantRows(t, st, "out", span(0, 700))
	ok(t, s.Commit(bg, 1, st1)) // again: harmless
	wantRows(t, st, "out", span(0, 700))

	st2 := mustOK(s.Prepare(bg, 2)) // no rows
	ok(t, s.Commit(bg, 2, st2))

	// Two checkpoints prepared before the first commits; Commit(4) commits both.
	writeRows(t, s, 700, 1000)
	st3 := mustOK(s.Prepare(bg, 3))
	writeRows(t, s, 1000, 1100)
	st4 := mustOK(s.Prepare(bg, 4))
	writeRows(t, s, 1100, 1200)
	wantFiles(t, st, "out", "00000000000000000003.pending", "00000000000000000004.pending", "LOCK", "inprogress")
	ok(t, s.Commit(bg, 4, st4))
	wantRows(t, st, "out", span(0, 1100))
	ok(t, s.Commit(bg, 3, st3))
	wantRows(t, st, "out", span(0, 1100))

	if _, err := s.Prepare(bg, 4); err == nil {
		t.Error("Prepare of an old checkpoint accepted")
	}
	if err := s.Commit(bg, 9, st4); err == nil {
		t.Error("Commit of a checkpoint never prepared accepted")
	}
	if err := s.Commit(bg, 4, st3); err == nil {
		t.Error("Commit with another checkpoint's state accepted")
	}
	if err := s.Recover(bg, 0, nil); err == nil {
		t.Error("a second Recover accepted")
	}
	// One committing sink per stream.
	other := mustOK(NewEmbeddedSink(st, SinkConfig{Name: "k2", Stream: "out", Schema: outCols}))
	if err := other.Recover(bg, 0, nil); err == nil || !strings.Contains(err.Error(), "another sink writes stream \"out\" with checkpoints") {
		t.Errorf("a second committing sink: %v", err)
	}
	ok(t, s.Close())
	wantFiles(t, st, "out", "LOCK")
	wantRows(t, st, "out", span(0, 1100))
	if err := s.Write(bg, rowRecord(0, 1)); err == nil {
		t.Error("Write after Close accepted")
	}

	// A new run from checkpoint 4.
	s = newCommitSink(t, st, 4, st4)
	writeRows(t, s, 1100, 1150)
	ok(t, s.Commit(bg, 5, mustOK(s.Prepare(bg, 5))))
	ok(t, s.Close())
	wantRows(t, st, "out", span(0, 1150))

	// A sink that was never recovered refuses the protocol; one that put rows
	// cannot be recovered.
	s = mustOK(NewEmbeddedSink(st, SinkConfig{Name: "k", Stream: "out", Schema: outCols}))
	if _, err := s.Prepare(bg, 1); err == nil {
		t.Error("Prepare without Recover accepted")
	}
	writeRows(t, s, 5000, 5001)
	if err := s.Recover(bg, 0, nil); err == nil {
		t.Error("Recover after Write accepted")
	}
	wantRows(t, st, "out", append(span(0, 1150), 5000))
}

// shardOf routes partition keys by the stream's open shards now.
func shardOf(t *testing.T, st *streamstore.Store) func(key string) int {
	d := mustOK(st.DescribeStream("out"))
	var open []streamstore.ShardDescription
	for _, sd := range d.Shards {
		if sd.Open {
			open = append(open, sd)
		}
	}
	return func(key string) int {
		k := streamstore.HashPartitionKey(key)
		for i, sd := range open {
			if sd.HashKeyRange.Contains(k) {
				return i
			}
		}
		t.Fatalf("no shard for key %q", key)
		return -1
	}
}

var errCrash = errors.New("simulated crash")

// crashPut returns a put hook that puts the first full batches whole, then of
// the next batch the records of shard 0, the first half of those of shard 1
// and none of the others, as a process killed during a PutRecords may leave
// them (each shard's records a prefix), and fails.
func crashPut(t *testing.T, st *streamstore.Store, full int) func(context.Context, []streamstore.PutEntry) error {
	calls := 0
	route := shardOf(t, st)
	return func(ctx context.Context, entries []streamstore.PutEntry) error {
		calls++
		if calls <= full {
			_, err := st.PutRecords(ctx, "out", entries)
			return err
		}
		var part []streamstore.PutEntry
		perShard := map[int]int{}
		for _, e := range entries {
			perShard[route(e.PartitionKey)]++
		}
		seen := map[int]int{}
		for _, e := range entries {
			sh := route(e.PartitionKey)
			seen[sh]++
			if sh == 0 || sh == 1 && seen[sh] <= perShard[sh]/2 {
				part = append(part, e)
			}
		}
		if len(part) > 0 {
			if _, err := st.PutRecords(ctx, "out", part); err != nil {
				return err
			}
		}
		return errCrash
	}
}

// putThenCrash returns a put hook that puts every batch, and fails after the
// last: a crash after the records are in but before the pending file went.
func putThenCrash(st *streamstore.Store, batches int) func(context.Context, []streamstore.PutEntry) error {
	calls := 0
	return func(ctx context.Context, entries []streamstore.PutEntry) error {
		calls++
		if _, err := st.PutRecords(ctx, "out", entries); err != nil {
			return err
		}
		if calls == batches {
			return errCrash
		}
		return nil
	}
}

func wantCrash(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, errCrash) {
		t.Fatalf("commit: %v, want the simulated crash", err)
	}
}

// TestCommittingSinkCrash abandons a sink (and its store) at each step of the
// protocol, as a crash does, and recovers a new one from the checkpoint the
// engine would restore.
func TestCommittingSinkCrash(t *testing.T) {
	type restore struct {
		id int64
		st []byte
	}
	// Each case runs after checkpoint 1 (rows 0..100) is committed and rows
	// 100..1300 (three PutRecords batches) are written; it returns the
	// checkpoint to restore. It may replace the store (after its own crash).
	cases := []struct {
		name  string
		crash func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore
		want  []int64 // the stream once recovered
	}{
		{"after Write", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			ok(t, s.Flush(bg))
			return restore{1, st1}
		}, span(0, 100)},
		{"after Prepare, checkpoint incomplete", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			mustOK(s.Prepare(bg, 2))
			return restore{1, st1}
		}, span(0, 100)},
		{"after Prepare, checkpoint complete", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			return restore{2, mustOK(s.Prepare(bg, 2))}
		}, span(0, 1300)},
		{"in Commit, between batches", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			st2 := mustOK(s.Prepare(bg, 2))
			s.putHook = putThenCrash(*st, 1)
			wantCrash(t, s.Commit(bg, 2, st2))
			return restore{2, st2}
		}, span(0, 1300)},
		{"in Commit, in a batch", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			st2 := mustOK(s.Prepare(bg, 2))
			s.putHook = crashPut(t, *st, 1)
			wantCrash(t, s.Commit(bg, 2, st2))
			return restore{2, st2}
		}, span(0, 1300)},
		{"in Commit, in the first batch", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			st2 := mustOK(s.Prepare(bg, 2))
			s.putHook = crashPut(t, *st, 0)
			wantCrash(t, s.Commit(bg, 2, st2))
			return restore{2, st2}
		}, span(0, 1300)},
		{"in Commit, after the last put", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			st2 := mustOK(s.Prepare(bg, 2))
			s.putHook = putThenCrash(*st, 3)
			wantCrash(t, s.Commit(bg, 2, st2))
			return restore{2, st2}
		}, span(0, 1300)},
		{"after Commit", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			st2 := mustOK(s.Prepare(bg, 2))
			ok(t, s.Commit(bg, 2, st2))
			writeRows(t, s, 1300, 1400)
			mustOK(s.Prepare(bg, 3))
			return restore{2, st2}
		}, span(0, 1300)},
		{"two prepared, the newer restored", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			mustOK(s.Prepare(bg, 2))
			writeRows(t, s, 1300, 1400)
			return restore{3, mustOK(s.Prepare(bg, 3))}
		}, span(0, 1400)},
		{"two prepared, the older restored", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			st2 := mustOK(s.Prepare(bg, 2))
			writeRows(t, s, 1300, 1400)
			mustOK(s.Prepare(bg, 3))
			return restore{2, st2}
		}, span(0, 1300)},
		{"two prepared, in the older's commit", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			mustOK(s.Prepare(bg, 2))
			writeRows(t, s, 1300, 1400)
			st3 := mustOK(s.Prepare(bg, 3))
			s.putHook = crashPut(t, *st, 2)
			wantCrash(t, s.Commit(bg, 3, st3))
			return restore{3, st3}
		}, span(0, 1400)},
		{"two prepared, in the newer's commit", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			mustOK(s.Prepare(bg, 2))
			writeRows(t, s, 1300, 1400)
			st3 := mustOK(s.Prepare(bg, 3))
			s.putHook = crashPut(t, *st, 3)
			wantCrash(t, s.Commit(bg, 3, st3))
			return restore{3, st3}
		}, span(0, 1400)},
		{"fresh start", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			mustOK(s.Prepare(bg, 2))
			writeRows(t, s, 1300, 1400)
			return restore{0, nil}
		}, span(0, 100)}, // a stream cannot take back what checkpoint 1 committed
		{"in Commit, then resharded", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			st2 := mustOK(s.Prepare(bg, 2))
			s.putHook = crashPut(t, *st, 1)
			wantCrash(t, s.Commit(bg, 2, st2))
			*st = crash(t, s, *st)
			ok(t, (*st).UpdateShardCount("out", 5))
			return restore{2, st2}
		}, span(0, 1300)},
		{"in Commit, then the stream made again", func(t *testing.T, s *EmbeddedSink, st **streamstore.Store, st1 []byte) restore {
			st2 := mustOK(s.Prepare(bg, 2))
			s.putHook = crashPut(t, *st, 1)
			wantCrash(t, s.Commit(bg, 2, st2))
			*st = crash(t, s, *st)
			ok(t, (*st).DeleteStream("out"))
			ok(t, (*st).CreateStream("out", 2))
			return restore{2, st2}
		}, span(100, 1300)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := openCommitStore(t, t.TempDir())
			ok(t, st.CreateStream("out", 3))
			s := newCommitSink(t, st, 0, nil)
			writeRows(t, s, 0, 100)
			st1 := mustOK(s.Prepare(bg, 1))
			ok(t, s.Commit(bg, 1, st1))
			writeRows(t, s, 100, 1300)
			before := st
			r := c.crash(t, s, &st, st1)
			if st == before {
				st = crash(t, s, st)
			}

			s = newCommitSink(t, st, r.id, r.st)
			wantRows(t, st, "out", c.want)
			wantFiles(t, st, "out", "LOCK", "inprogress")
			// The run goes on from the restored checkpoint.
			writeRows(t, s, 5000, 5100)
			ok(t, s.Commit(bg, r.id+1, mustOK(s.Prepare(bg, r.id+1))))
			ok(t, s.Close())
			wantRows(t, st, "out", append(slices.Clone(c.want), span(5000, 5100)...))
			wantFiles(t, st, "out", "LOCK")
		})
	}
}

func TestCommittingSinkRefuses(t *testing.T) {
	setup := func(t *testing.T) (*streamstore.Store, []byte) {
		st := openCommitStore(t, t.TempDir())
		ok(t, st.CreateStream("out", 3))
		s := newCommitSink(t, st, 0, nil)
		writeRows(t, s, 0, 1200)
		st1 := mustOK(s.Prepare(bg, 1))
		s.putHook = crashPut(t, st, 1)
		wantCrash(t, s.Commit(bg, 1, st1))
		return crash(t, s, st), st1
	}
	recoverErr := func(st *streamstore.Store, state []byte) error {
		s := mustOK(NewEmbeddedSink(st, SinkConfig{Name: "k", Stream: "out", Schema: outCols, PartitionKey: "ticker"}))
		err := s.Recover(bg, 1, state)
		s.Close()
		return err
	}

	t.Run("another writer", func(t *testing.T) {
		st, st1 := setup(t)
		// A record into shard 2, which the interrupted commit had not reached.
		route := shardOf(t, st)
		key := ""
		for i := 0; key == ""; i++ {
			if k := fmt.Sprintf("x%d", i); route(k) == 2 {
				key = k
			}
		}
		mustOK(st.PutRecord(bg, "out", streamstore.PutEntry{PartitionKey: key, Data: []byte(`{"n":-1}`)}))
		if err := recoverErr(st, st1); err == nil || !strings.Contains(err.Error(), "another writer?") {
			t.Errorf("foreign record: %v", err)
		}
	})
	t.Run("damaged pending file", func(t *testing.T) {
		st, st1 := setup(t)
		path := filepath.Join(st.Dir(), "sinks", "out.sink", "00000000000000000001.pending")
		b := mustOK(os.ReadFile(path))
		b[len(b)-2] ^= 1
		ok(t, os.WriteFile(path, b, 0o644))
		if err := recoverErr(st, st1); err == nil || !strings.Contains(err.Error(), "is damaged") {
			t.Errorf("damaged: %v", err)
		}
	})
	t.Run("bad states", func(t *testing.T) {
		st, _ := setup(t)
		for _, state := range []string{"", "{", `{"v":1,"id":2,"stream":"out"}`, `{"v":1,"id":1,"stream":"other"}`, `{"v":2,"id":1,"stream":"out"}`} {
			if err := recoverErr(st, []byte(state)); err == nil {
				t.Errorf("state %q accepted", state)
			}
		}
	})
}

// The kill test: a child process writes, prepares, records checkpoints (an
// atomically renamed file standing for the engine's manifest) and commits in a
// loop; the parent kills it with SIGKILL at random moments, checks that the
// stream never holds a row twice, and starts it again from the checkpoint last
// recorded.

const (
	killDirEnv  = "EDDY_KINESIS_SINK_KILL_DIR"
	killRowsEnv = "EDDY_KINESIS_SINK_KILL_ROWS"
)

type checkpointRecord struct {
	ID    int64  `json:"id"`
	State []byte `json:"state"`
	Rows  int    `json:"rows"` // rows covered: the next run starts at this row
}

func TestEmbeddedSinkKillChild(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("the child process of TestEmbeddedSinkKill")
	}
	total := mustOK(strconv.Atoi(os.Getenv(killRowsEnv)))
	recPath := filepath.Join(dir, "checkpoint.json")
	var rec checkpointRecord
	b, err := os.ReadFile(recPath)
	if err == nil {
		ok(t, json.Unmarshal(b, &rec))
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	st := openCommitStore(t, filepath.Join(dir, "data"))
	s := newCommitSink(t, st, rec.ID, rec.State)
	fmt.Println("RECOVERED checkpoint", rec.ID, "row", rec.Rows)
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	id, done := rec.ID, rec.Rows
	var outstanding []checkpointRecord
	for done < total {
		k := min(1+rng.IntN(1200), total-done)
		writeRows(t, s, done, done+k)
		id++
		done += k
		r := checkpointRecord{ID: id, State: mustOK(s.Prepare(bg, id)), Rows: done}
		ok(t, sinkWriteFileAtomic(recPath, mustOK(json.Marshal(r))))
		outstanding = append(outstanding, r)
		if len(outstanding) == 2 || rng.IntN(2) == 0 {
			for _, o := range outstanding {
				ok(t, s.Commit(bg, o.ID, o.State))
			}
			outstanding = nil
		}
	}
	for _, o := range outstanding {
		ok(t, s.Commit(bg, o.ID, o.State))
	}
	ok(t, s.Close())
}

func TestEmbeddedSinkKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	total := 60000
	st := mustOK(streamstore.Open(filepath.Join(dir, "data"), streamstore.DefaultOptions()))
	ok(t, st.CreateStream("out", 3))
	ok(t, st.Close())
	// seen checks what the stream holds now: no row twice, and none that the
	// checkpoint last recorded does not cover.
	seen := func() []int64 {
		t.Helper()
		var rec checkpointRecord
		if b, err := os.ReadFile(filepath.Join(dir, "checkpoint.json")); err == nil {
			ok(t, json.Unmarshal(b, &rec))
		}
		st := mustOK(streamstore.Open(filepath.Join(dir, "data"), streamstore.Options{ReadOnly: true}))
		defer st.Close()
		got := streamRows(t, st, "out")
		for i, n := range got {
			if n < 0 || n >= int64(rec.Rows) || i > 0 && got[i-1] == n {
				t.Fatalf("the stream holds row %d twice, or beyond the %d rows of checkpoint %d", n, rec.Rows, rec.ID)
			}
		}
		return got
	}
	run := func(kill time.Duration) (killed bool) {
		t.Helper()
		killed, recovered := killtest.Run(t, "TestEmbeddedSinkKillChild", []string{killDirEnv + "=" + dir, killRowsEnv + "=" + strconv.Itoa(total)}, kill)
		if killed {
			t.Logf("%s; killed %v later; the stream holds %d rows", recovered, kill, len(seen()))
		}
		return killed
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	kills := 0
	for range 10 {
		if run(time.Duration(rng.IntN(50_000)) * time.Microsecond) {
			kills++
		}
	}
	run(-1)
	if kills < 5 {
		t.Errorf("only %d of 10 children were killed before they finished; the test proves little", kills)
	}
	if got := seen(); !slices.Equal(got, span(0, total)) {
		t.Fatalf("the stream holds %d rows, want %d", len(got), total)
	}
}
