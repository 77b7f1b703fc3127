package streamstore

import (
	"bufio"
	"context"
	"errors"
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

// The tests in this file run several Stores on one data directory. A flock
// belongs to an open file description, so two Stores in one process exclude each
// other as two processes do; TestFlockIsPerOpenFile checks that premise.

func TestFlockIsPerOpenFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	f1, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f1.Close()
	f2, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if err := flock(f1, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if err := flock(f2, syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("a second open of the file in the same process locked it too: %v", err)
	}
	f1.Close()
	if err := flock(f2, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("lock after the holder closed: %v", err)
	}
}

// TestTwoWritersOnOneDir runs two writable stores on one directory: each writes
// its own stream while the other's runs, neither can write the other's stream,
// each sees the other's records after Refresh, and once one closes the other
// takes its stream over and continues its sequence numbers.
func TestTwoWritersOnOneDir(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 1024)
	a := openStore(t, dir, opts)
	b := openStore(t, dir, opts)
	if err := a.CreateStream("x", 2); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateStream("y", 2); err != nil {
		t.Fatal(err)
	}
	var mx, my model
	var wg sync.WaitGroup
	for _, w := range []struct {
		s      *Store
		stream string
		m      *model
	}{{a, "x", &mx}, {b, "y", &my}} {
		wg.Go(func() {
			for i := range 100 {
				e := entry(fmt.Sprint("k", i%7), fmt.Sprintf("%s-%03d %s", w.stream, i, strings.Repeat("d", i%40)))
				res, err := w.s.PutRecords(context.Background(), w.stream, []PutEntry{e})
				if err != nil {
					t.Errorf("put to %s: %v", w.stream, err)
					return
				}
				w.m.add([]PutEntry{e}, res, clk.Now())
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// b may not write x: ErrLocked, and nothing changes.
	before := snapshotFiles(t, filepath.Join(dir, "streams", "x.stream"))
	_, err := b.PutRecord(context.Background(), "x", entry("k", "intruder"))
	wantKind(t, err, ErrLocked, "b's put to a's stream")
	if !strings.Contains(err.Error(), "stream x ") || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("lock error %q does not name the stream and the pid", err)
	}
	if after := snapshotFiles(t, filepath.Join(dir, "streams", "x.stream")); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a refused put changed x's files")
	}

	// Each sees the other's records once it refreshes; its own are current.
	for _, s := range []*Store{a, b} {
		if err := s.Refresh(); err != nil {
			t.Fatal(err)
		}
		checkAll(t, s, "x", &mx)
		checkAll(t, s, "y", &my)
	}

	// A stream a creates after b opened: b reads it after Refresh, and may
	// write it once a closes without refreshing first.
	if err := a.CreateStream("z", 1); err != nil {
		t.Fatal(err)
	}
	var mz model
	mustPut(t, a, "z", &mz, clk.Now(), entry("k", "z1"))
	if _, err := b.DescribeStream("z"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("b knows z before Refresh: %v", err)
	}
	_, err = b.PutRecord(context.Background(), "z", entry("k", "z?"))
	wantKind(t, err, ErrLocked, "b's put to z, which a writes")

	// After a closes, b takes x and z over: the reload picks up a's records and
	// sequence numbers continue strictly increasing in every shard.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	last := map[string]put{}
	for _, p := range mx.puts {
		if p.seq.Ordinal >= last[p.shard].seq.Ordinal {
			last[p.shard] = p
		}
	}
	var more model
	for i := range 40 {
		mustPut(t, b, "x", &more, clk.Now(), entry(fmt.Sprint("k", i%7), fmt.Sprintf("b-%03d", i)))
	}
	if !b.Owns("x") || b.Owns("z") {
		t.Fatalf("b owns x %v, z %v; want x only", b.Owns("x"), b.Owns("z"))
	}
	for _, p := range more.puts {
		prev, ok := last[p.shard]
		if ok && (p.seq.Ordinal != prev.seq.Ordinal+1 || p.seq.String() <= prev.seq.String()) {
			t.Fatalf("shard %s: b's put got %s (ordinal %d) after a's %s (ordinal %d)", p.shard, p.seq, p.seq.Ordinal, prev.seq, prev.seq.Ordinal)
		}
		last[p.shard] = p
	}
	mx.puts = append(mx.puts, more.puts...)
	checkAll(t, b, "x", &mx)
	mustPut(t, b, "z", &mz, clk.Now(), entry("k", "z2"))
	checkAll(t, b, "z", &mz)
	if r := b.Repairs(); len(r) != 0 {
		t.Fatalf("taking over cleanly closed streams repaired %v", r)
	}
}

// TestTakeoverDuringReads reads a stream from a store that does not write it
// while the writer closes and that store takes the stream over: the reload swaps
// the shards' state under the readers, which must neither fail nor skip a record.
func TestTakeoverDuringReads(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.SegmentBytes = 4096
	a := openStore(t, dir, opts)
	if err := a.CreateStream("t", 2); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 300 {
		mustPut(t, a, "t", &m, time.Time{}, entry(fmt.Sprint(i), fmt.Sprintf("%04d %s", i, strings.Repeat("r", 50))))
	}
	b := openStore(t, dir, opts)
	want := map[string]int{ShardID(0): len(m.shard(ShardID(0))), ShardID(1): len(m.shard(ShardID(1)))}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				id := ShardID(uint32(r))
				c, err := b.Position("t", id, StartingPosition{Type: TrimHorizon})
				if err != nil {
					t.Error(err)
					return
				}
				n := 0
				for {
					out, err := b.GetRecords(context.Background(), c, 7)
					if err != nil {
						t.Errorf("read during takeover: %v", err)
						return
					}
					for _, rec := range out.Records {
						if rec.SequenceNumber.Ordinal != uint64(n) {
							t.Errorf("shard %s: read ordinal %d at %d", id, rec.SequenceNumber.Ordinal, n)
							return
						}
						n++
					}
					if len(out.Records) == 0 {
						break
					}
					c = out.Next
				}
				if n < want[id] {
					t.Errorf("shard %s: read %d records, want at least %d", id, n, want[id])
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		mustPut(t, b, "t", &m, time.Time{}, entry(fmt.Sprint(i), "after takeover"))
	}
	time.Sleep(20 * time.Millisecond)
	close(done)
	wg.Wait()
	checkAll(t, b, "t", &m)
}

// TestTornTailRepairedByNextOwner leaves half a frame at the end of a segment, as
// a writer killed mid-write would: a store that reads the stream beside the
// writer skips it, and the next writer truncates it, reports it and continues.
func TestTornTailRepairedByNextOwner(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	a := openStore(t, dir, opts)
	if err := a.CreateStream("torn", 1); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 20 {
		mustPut(t, a, "torn", &m, time.Time{}, entry("k", fmt.Sprint("rec ", i)))
	}
	b := openStore(t, dir, opts)
	seg := segmentFiles(t, shardDir(a, "torn", ShardID(0)))[0]
	size := int64(len(mustReadFile(t, seg)))
	frame := appendFrame(nil, 20, time.Now().UnixNano(), "k", []byte("never acknowledged"))
	appendBytes(t, seg, frame[:len(frame)/2])
	if err := b.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, b, "torn", &m)
	_, err := b.PutRecord(context.Background(), "torn", entry("k", "v"))
	wantKind(t, err, ErrLocked, "put while the writer lives")

	// The writer dies: the kernel drops its flock. Closing its lock file is what
	// dying does to it; the store itself is closed at cleanup.
	a.diskMu.Lock()
	a.streams["torn"].releaseLock()
	a.diskMu.Unlock()

	res := mustPut(t, b, "torn", &m, time.Time{}, entry("k", "after"))
	reps := b.Repairs()
	if len(reps) != 1 || reps[0].Stream != "torn" || reps[0].Segment != filepath.Base(seg) ||
		reps[0].Offset != size || reps[0].DroppedBytes != int64(len(frame)/2) {
		t.Fatalf("Repairs() = %+v, want the half frame at offset %d of %s", reps, size, filepath.Base(seg))
	}
	if res[0].SequenceNumber.Ordinal != 20 {
		t.Fatalf("put after the repair got ordinal %d, want 20", res[0].SequenceNumber.Ordinal)
	}
	checkAll(t, b, "torn", &m)
}

// TestKilledWriterProcess runs the writer in another process and kills it with
// SIGKILL after it left half a frame on disk: this process gets ErrLocked naming
// the writer's pid while it lives, writes another stream beside it, and takes
// the stream over, repaired, once it is dead.
func TestKilledWriterProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriterProcess$")
	cmd.Env = append(os.Environ(), "STREAMSTORE_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
	}
	if sc.Err() != nil || sc.Text() != "ready" {
		t.Fatalf("the writer process did not get ready: %v %s", sc.Err(), stderr.String())
	}

	s := openStore(t, dir, DefaultOptions())
	_, err = s.PutRecord(context.Background(), "w", entry("k", "v"))
	wantKind(t, err, ErrLocked, "put to the other process's stream")
	if want := fmt.Sprintf("stream w is being written by another eddy process (pid %d)", cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Fatalf("lock error %q does not say %q", err, want)
	}
	if err := s.CreateStream("mine", 1); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "mine", nil, time.Time{}, entry("k", "beside"))
	if n := totalRecords(t, s, "w"); n != 50 {
		t.Fatalf("read %d of the writer's 50 records", n)
	}

	cmd.Process.Kill()
	cmd.Wait()
	killed = true
	res := mustPut(t, s, "w", nil, time.Time{}, entry("k", "after the kill"))
	if reps := s.Repairs(); len(reps) != 1 || reps[0].Stream != "w" || reps[0].DroppedBytes == 0 {
		t.Fatalf("Repairs() = %v, want the torn frame the killed writer left", reps)
	}
	recs := readShard(t, s, "w", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000)
	if len(recs) != 51 || recs[50].SequenceNumber != res[0].SequenceNumber || res[0].SequenceNumber.Ordinal != 50 {
		t.Fatalf("after the takeover read %d records, last put %s", len(recs), res[0].SequenceNumber)
	}
	for i, r := range recs[:50] {
		if string(r.Data) != fmt.Sprint("rec ", i) || r.SequenceNumber.Ordinal != uint64(i) {
			t.Fatalf("record %d is %q at ordinal %d", i, r.Data, r.SequenceNumber.Ordinal)
		}
	}
}

// TestHelperWriterProcess is the writer of TestKilledWriterProcess: it puts 50
// records, appends half a frame as a write cut short would, says ready and waits
// to be killed.
func TestHelperWriterProcess(t *testing.T) {
	dir := os.Getenv("STREAMSTORE_HELPER_DIR")
	if dir == "" {
		t.Skip("the writer process of TestKilledWriterProcess")
	}
	s, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStream("w", 1); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		mustPut(t, s, "w", nil, time.Time{}, entry("k", fmt.Sprint("rec ", i)))
	}
	seg := segmentFiles(t, shardDir(s, "w", ShardID(0)))[0]
	frame := appendFrame(nil, 50, time.Now().UnixNano(), "k", []byte("cut short"))
	appendBytes(t, seg, frame[:len(frame)-4])
	fmt.Println("ready")
	for {
		time.Sleep(time.Hour)
	}
}

// TestCreateRace creates one name from several stores at once: exactly one wins
// and writes it; the others get ErrInUse and cannot write it.
func TestCreateRace(t *testing.T) {
	dir := t.TempDir()
	stores := make([]*Store, 4)
	for i := range stores {
		stores[i] = openStore(t, dir, DefaultOptions())
	}
	for round := range 10 {
		name := fmt.Sprint("race-", round)
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.CreateStream(name, 1+i) })
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: stores %d and %d both created %s", round, winner, i, name)
			case err == nil:
				winner = i
			case !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "already exists"):
				t.Fatalf("round %d: store %d: %v, want ErrInUse", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody created %s: %v", round, name, errs)
		}
		for i, s := range stores {
			if i == winner {
				mustPut(t, s, name, nil, time.Time{}, entry("k", "v"))
				continue
			}
			_, err := s.PutRecord(context.Background(), name, entry("k", "v"))
			wantKind(t, err, ErrLocked, fmt.Sprintf("round %d: a losing store's put", round))
			if err := s.Refresh(); err != nil {
				t.Fatal(err)
			}
			if d := describe(t, s, name); d.OpenShards != 1+winner {
				t.Fatalf("round %d: store %d sees %d shards, the winner made %d", round, i, d.OpenShards, 1+winner)
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "streams", ".tmp-*")); len(left) != 0 {
		t.Fatalf("losing creates left %v", left)
	}
}

// TestDeleteWhileAnotherStoreReads deletes a stream that other stores read: on
// Refresh it vanishes from them, and their cursors into it fail with ErrNotFound.
func TestDeleteWhileAnotherStoreReads(t *testing.T) {
	dir := t.TempDir()
	a := openStore(t, dir, DefaultOptions())
	if err := a.CreateStream("d", 2); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 30 {
		mustPut(t, a, "d", &m, time.Time{}, entry(fmt.Sprint(i), "v"))
	}
	b := openStore(t, dir, DefaultOptions())
	ro := DefaultOptions()
	ro.ReadOnly = true
	r := openStore(t, dir, ro)
	cursors := map[*Store]Cursor{}
	for _, s := range []*Store{b, r} {
		checkAll(t, s, "d", &m)
		c, err := s.Position("d", ShardID(0), StartingPosition{Type: TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		cursors[s] = c
	}
	if err := b.DeleteStream("d"); !errors.Is(err, ErrLocked) {
		t.Fatalf("b deleted a's stream: %v", err)
	}
	if err := a.DeleteStream("d"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{b, r} {
		if err := s.Refresh(); err != nil {
			t.Fatal(err)
		}
		if got := s.ListStreams(); len(got) != 0 {
			t.Fatalf("after the delete a reader lists %v", got)
		}
		_, err := s.GetRecords(context.Background(), cursors[s], 10)
		wantKind(t, err, ErrNotFound, "GetRecords of a deleted stream")
		_, err = s.DescribeStream("d")
		wantKind(t, err, ErrNotFound, "DescribeStream of a deleted stream")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "streams", ".*")); len(left) != 0 {
		t.Fatalf("the delete left %v", left)
	}
	// The name is free: b creates it again, and a, which deleted it, cannot
	// write b's new stream.
	if err := b.CreateStream("d", 1); err != nil {
		t.Fatal(err)
	}
	_, err := a.PutRecord(context.Background(), "d", entry("k", "v"))
	wantKind(t, err, ErrLocked, "a's put to b's new stream")
	// A store deletes a stream created after it opened, without a Refresh.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteStream("d"); err != nil {
		t.Fatalf("delete of a stream created by another store: %v", err)
	}
	if err := r.Refresh(); err != nil || len(r.ListStreams()) != 0 {
		t.Fatalf("after the second delete: %v, %v", r.ListStreams(), err)
	}
}

// TestEnforceRetentionOnlyOwned checks that a store enforces retention only in
// the streams it writes, and that taking a stream over enforces it there.
func TestEnforceRetentionOnlyOwned(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 256)
	a := openStore(t, dir, opts)
	b := openStore(t, dir, opts)
	if err := a.CreateStream("ax", 1); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateStream("by", 1); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		mustPut(t, a, "ax", nil, clk.Now(), entry("k", fmt.Sprintf("%03d %s", i, strings.Repeat("a", 60))))
		mustPut(t, b, "by", nil, clk.Now(), entry("k", fmt.Sprintf("%03d %s", i, strings.Repeat("b", 60))))
		clk.Advance(time.Minute)
	}
	clk.Advance(48 * time.Hour)
	ax := segmentFiles(t, shardDir(a, "ax", ShardID(0)))
	if len(ax) < 5 {
		t.Fatalf("fixture: %d segments", len(ax))
	}
	rep, err := b.EnforceRetention()
	if err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, shardDir(b, "by", ShardID(0))); len(got) != 1 || rep.SegmentsRemoved == 0 {
		t.Fatalf("b's retention left %d segments of its own stream (report %+v)", len(got), rep)
	}
	if got := segmentFiles(t, shardDir(a, "ax", ShardID(0))); !slices.Equal(got, ax) {
		t.Fatalf("b's retention removed segments of a's stream: %d of %d left", len(got), len(ax))
	}
	a.Close()
	if err := b.Own("ax"); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, shardDir(b, "ax", ShardID(0))); len(got) != 1 {
		t.Fatalf("taking ax over left %d expired segments", len(got))
	}
}

// TestRefreshSeesEveryChange checks the cheap checks of Refresh: a new segment
// that appears while the last one did not grow, retention removing the oldest
// segment, and stream.json rewritten at the same size.
func TestRefreshSeesEveryChange(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 64) // every record gets a segment of its own
	w := openStore(t, dir, opts)
	if err := w.CreateStream("c", 1); err != nil {
		t.Fatal(err)
	}
	r := openStore(t, dir, opts)
	var m model
	for i := range 5 {
		mustPut(t, w, "c", &m, clk.Now(), entry("k", fmt.Sprint("v", i)))
		clk.Advance(time.Hour)
		if err := r.Refresh(); err != nil {
			t.Fatal(err)
		}
		checkAll(t, r, "c", &m)
		if err := r.Refresh(); err != nil { // nothing changed
			t.Fatal(err)
		}
		checkAll(t, r, "c", &m)
	}
	if n := len(segmentFiles(t, shardDir(w, "c", ShardID(0)))); n != 5 {
		t.Fatalf("fixture: %d segments", n)
	}
	clk.Advance(22 * time.Hour) // the first two records are past 24h
	if _, err := w.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(describe(t, r, "c")), fmt.Sprint(describe(t, w, "c")); got != want {
		t.Fatalf("after retention the reader describes\n%s\nthe writer\n%s", got, want)
	}
	for _, h := range []int{48, 72, 96} { // stream.json keeps its size
		if err := w.SetRetention("c", h); err != nil {
			t.Fatal(err)
		}
		if err := r.Refresh(); err != nil {
			t.Fatal(err)
		}
		if d := describe(t, r, "c"); d.RetentionHours != h {
			t.Fatalf("the reader sees retention %dh, the writer set %dh", d.RetentionHours, h)
		}
	}
}

// TestOwnershipErrorsAndClose covers the edges: a missing stream, an invalid
// name, a closed store, and a write after Close.
func TestOwnershipErrorsAndClose(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, DefaultOptions())
	wantKind(t, s.Own("nope"), ErrNotFound, "Own of a missing stream")
	wantKind(t, s.Own("bad/name"), ErrInvalidArgument, "Own of an invalid name")
	if exists(filepath.Join(dir, "streams", "nope.stream")) {
		t.Fatal("Own of a missing stream made its directory")
	}
	if err := s.CreateStream("o", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Owns("o") {
		t.Fatal("a closed store owns a stream")
	}
	wantKind(t, s.Own("o"), ErrClosed, "Own after Close")
	wantKind(t, s.Refresh(), ErrClosed, "Refresh after Close")
	wantKind(t, s.CreateStream("p", 1), ErrClosed, "CreateStream after Close")
	s2 := openStore(t, dir, DefaultOptions())
	if err := s2.Own("o"); err != nil {
		t.Fatalf("Own after the owner closed: %v", err)
	}
}
