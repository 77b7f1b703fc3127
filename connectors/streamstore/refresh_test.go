package streamstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRefreshFollowsWriter checks that a read-only store beside a writer sees,
// after Refresh, exactly what the writer stored: new streams, records in new
// segments, reshards, deletes and retention.
func TestRefreshFollowsWriter(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 2048)
	w := openStore(t, dir, opts)
	ro := opts
	ro.ReadOnly = true
	r := openStore(t, dir, ro)
	if err := w.Refresh(); err != nil {
		t.Fatalf("Refresh of a writable store: %v", err)
	}
	if err := r.Refresh(); err != nil || len(r.ListStreams()) != 0 {
		t.Fatalf("empty dir: %v, %v", r.ListStreams(), err)
	}

	if err := w.CreateStream("a", 2); err != nil {
		t.Fatal(err)
	}
	var m model
	putSome := func(n int, tag string) {
		for i := range n {
			mustPut(t, w, "a", &m, clk.Now(), entry(fmt.Sprint("k", i%13), fmt.Sprintf("%s-%d-%s", tag, i, strings.Repeat("x", i%50))))
			clk.Advance(time.Second)
		}
	}
	putSome(120, "one")
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, r, "a", &m)

	// A cursor taken before more records arrive continues after Refresh.
	c, err := r.Position("a", ShardID(0), StartingPosition{Type: Latest})
	if err != nil {
		t.Fatal(err)
	}
	putSome(80, "two")
	if err := w.SplitShard("a", ShardID(0), "1000"); err != nil {
		t.Fatal(err)
	}
	putSome(40, "three")
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, r, "a", &m)
	out, err := r.GetRecords(context.Background(), c, MaxGetRecords)
	if err != nil {
		t.Fatal(err)
	}
	var two []put
	for _, p := range m.shard(ShardID(0)) {
		if strings.HasPrefix(p.data, "two-") {
			two = append(two, p)
		}
	}
	checkRecords(t, "after refresh from LATEST", out.Records, two)
	if !out.ShardEnd || len(out.ChildShards) != 2 {
		t.Fatalf("the split parent read from the follower: ShardEnd %v, children %v", out.ShardEnd, out.ChildShards)
	}
	if fmt.Sprint(describe(t, r, "a")) != fmt.Sprint(describe(t, w, "a")) {
		t.Fatalf("follower describes\n%+v\nwriter describes\n%+v", describe(t, r, "a"), describe(t, w, "a"))
	}
	checkLineage(t, r, "a", readLineage(t, r, "a", ReadOptions{}), m.puts)

	// Retention on the writer: the follower drops the removed segments and shard.
	clk.Advance(25 * time.Hour)
	var fresh model
	mustPut(t, w, "a", &fresh, clk.Now(), entry("k1", "fresh"))
	if _, err := w.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(describe(t, r, "a")) != fmt.Sprint(describe(t, w, "a")) {
		t.Fatalf("after retention follower describes\n%+v\nwriter describes\n%+v", describe(t, r, "a"), describe(t, w, "a"))
	}
	checkAll(t, r, "a", &fresh)

	// Delete and create again: the follower sees the new stream, and cursors
	// into the old one fail.
	old, err := r.Position("a", fresh.puts[0].shard, StartingPosition{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteStream("a"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := w.CreateStream("a", 1); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateStream("b", 1); err != nil {
		t.Fatal(err)
	}
	var again model
	mustPut(t, w, "a", &again, clk.Now(), entry("k", "again"))
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	if got := r.ListStreams(); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("follower lists %v", got)
	}
	_, err = r.GetRecords(context.Background(), old, 10)
	wantKind(t, err, ErrNotFound, "cursor into the deleted stream")
	checkAll(t, r, "a", &again)
	if err := w.DeleteStream("b"); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	if got := r.ListStreams(); fmt.Sprint(got) != "[a]" {
		t.Fatalf("follower lists %v after delete", got)
	}
}

// TestRefreshDuringReads refreshes a follower while it serves reads and the
// writer writes, for -race.
func TestRefreshDuringReads(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.SegmentBytes = 4096
	w := openStore(t, dir, opts)
	if err := w.CreateStream("f", 2); err != nil {
		t.Fatal(err)
	}
	mustPut(t, w, "f", nil, time.Time{}, entry("a", "seed"), entry("b", "seed"))
	ro := opts
	ro.ReadOnly = true
	r := openStore(t, dir, ro)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, id := range []string{ShardID(0), ShardID(1)} {
				c, err := r.Position("f", id, StartingPosition{Type: TrimHorizon})
				if err != nil {
					t.Error(err)
					return
				}
				out, err := r.GetRecords(context.Background(), c, MaxGetRecords)
				if err != nil {
					t.Error(err)
					return
				}
				for i, rec := range out.Records {
					if rec.SequenceNumber.Ordinal != uint64(i) {
						t.Errorf("follower read ordinal %d at %d", rec.SequenceNumber.Ordinal, i)
						return
					}
				}
			}
		}
	})
	var m model
	for i := range 200 {
		mustPut(t, w, "f", &m, time.Time{}, entry(fmt.Sprint(i), strings.Repeat("r", 100)))
		if i%10 == 0 {
			if err := r.Refresh(); err != nil {
				t.Error(err)
				break
			}
		}
	}
	close(done)
	wg.Wait()
}
