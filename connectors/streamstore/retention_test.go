package streamstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// expectedSegmentRemovals says, from the segment files on disk and the model's
// arrival times, which segments retention must remove at cutoff: every one but
// the newest whose newest record arrived before the cutoff.
func expectedSegmentRemovals(t *testing.T, dir string, recs []put, cutoff time.Time) (removed, kept []string) {
	t.Helper()
	segs := segmentFiles(t, dir)
	for i, p := range segs {
		base, _ := parseSegmentName(filepath.Base(p))
		end := uint64(len(recs))
		if i+1 < len(segs) {
			end, _ = parseSegmentName(filepath.Base(segs[i+1]))
		}
		if i < len(segs)-1 && recs[end-1].at.Before(cutoff) && recs[base].at.Before(cutoff) {
			removed = append(removed, p)
		} else {
			kept = append(kept, p)
		}
	}
	return removed, kept
}

func firstAtOrAfter(recs []put, cutoff time.Time) int {
	for i, p := range recs {
		if !p.at.Before(cutoff) {
			return i
		}
	}
	return len(recs)
}

func TestRetention(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 512)
	s := openStore(t, dir, opts)
	if err := s.CreateStream("r", 1); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 96 { // one record every 30 minutes for 48 hours
		mustPut(t, s, "r", &m, clk.Now(), entry("k", fmt.Sprintf("%03d %s", i, strings.Repeat(".", 40+i%30))))
		clk.Advance(30 * time.Minute)
	}
	recs := m.shard(ShardID(0))
	sdir := shardDir(s, "r", ShardID(0))
	// Move the clock so that the cutoff falls on the second record of a sealed
	// segment: that segment straddles the cutoff and must stay.
	segs := segmentFiles(t, sdir)
	for i := 1; i < len(segs)-1; i++ {
		base, _ := parseSegmentName(filepath.Base(segs[i]))
		end, _ := parseSegmentName(filepath.Base(segs[i+1]))
		if end-base >= 2 && !recs[base].at.Before(clk.Now().Add(-24*time.Hour)) {
			clk.Advance(recs[base+1].at.Sub(clk.Now().Add(-24 * time.Hour)))
			break
		}
	}
	cutoff := clk.Now().Add(-24 * time.Hour)
	first := firstAtOrAfter(recs, cutoff)
	if first == 0 || first == len(recs) {
		t.Fatalf("fixture: first retained record %d of %d", first, len(recs))
	}

	// Reads drop expired records before any file is removed.
	th := readShard(t, s, "r", ShardID(0), StartingPosition{Type: TrimHorizon}, 10)
	checkRecords(t, "TRIM_HORIZON before enforcement", th, recs[first:])
	at := readShard(t, s, "r", ShardID(0), StartingPosition{Type: AtSequenceNumber, SequenceNumber: recs[3].seq.String()}, 10)
	checkRecords(t, "AT_SEQUENCE_NUMBER of an expired record", at, recs[first:])
	ts := readShard(t, s, "r", ShardID(0), StartingPosition{Type: AtTimestamp, Timestamp: recs[0].at}, 10)
	checkRecords(t, "AT_TIMESTAMP before the cutoff", ts, recs[first:])

	wantRemoved, wantKept := expectedSegmentRemovals(t, sdir, recs, cutoff)
	if len(wantRemoved) < 3 || len(wantKept) < 3 {
		t.Fatalf("fixture: %d segments to remove, %d to keep", len(wantRemoved), len(wantKept))
	}
	rep, err := s.EnforceRetention()
	if err != nil {
		t.Fatal(err)
	}
	if rep.SegmentsRemoved != len(wantRemoved) || len(rep.ShardsRemoved) != 0 {
		t.Fatalf("EnforceRetention = %+v, want %d segments removed", rep, len(wantRemoved))
	}
	if got := segmentFiles(t, sdir); !slices.Equal(got, wantKept) {
		t.Fatalf("segments left %v, want %v", got, wantKept)
	}
	for _, p := range wantRemoved {
		if _, err := os.Stat(indexPath(p)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("index of removed segment %s survives", p)
		}
	}
	keptBase, _ := parseSegmentName(filepath.Base(wantKept[0]))
	// Only whole segments go: the fixture has one straddling the cutoff, and it stays.
	if !recs[keptBase].at.Before(cutoff) {
		t.Fatalf("fixture: no segment straddles the cutoff")
	}
	if got := totalRecords(t, s, "r"); got != uint64(len(recs))-keptBase {
		t.Fatalf("describe counts %d records, want %d", got, uint64(len(recs))-keptBase)
	}
	checkRecords(t, "TRIM_HORIZON after enforcement", readShard(t, s, "r", ShardID(0), StartingPosition{Type: TrimHorizon}, 7), recs[first:])
	if rep, err := s.EnforceRetention(); err != nil || rep.SegmentsRemoved != 0 {
		t.Fatalf("second EnforceRetention = %+v, %v", rep, err)
	}

	// An hour later two more records have expired.
	clk.Advance(time.Hour)
	first2 := firstAtOrAfter(recs, clk.Now().Add(-24*time.Hour))
	if first2 != first+2 {
		t.Fatalf("fixture: %d then %d", first, first2)
	}
	checkRecords(t, "an hour later", readShard(t, s, "r", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000), recs[first2:])

	// Longer retention makes records on disk readable again, but not removed ones.
	if err := s.SetRetention("r", 48); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "retention 48h", readShard(t, s, "r", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000), recs[keptBase:])
	if d := describe(t, s, "r"); d.RetentionHours != 48 {
		t.Fatalf("RetentionHours = %d", d.RetentionHours)
	}

	for _, h := range []int{0, 23, 8761, -24} {
		wantKind(t, s.SetRetention("r", h), ErrInvalidArgument, fmt.Sprintf("SetRetention(%d)", h))
	}
	wantKind(t, s.SetRetention("nope", 48), ErrNotFound, "SetRetention of a missing stream")
	for _, h := range []int{MaxRetentionHours, MinRetentionHours} {
		if err := s.SetRetention("r", h); err != nil {
			t.Fatalf("SetRetention(%d): %v", h, err)
		}
	}

	// The next writer enforces retention with the injected clock when it takes
	// the stream over (Open alone deletes nothing): ten days later only the
	// newest segment is left, nothing in it is readable, and puts continue.
	s.Close()
	clk.Advance(10 * 24 * time.Hour)
	s2 := openStore(t, dir, opts)
	if d := describe(t, s2, "r"); d.RetentionHours != MinRetentionHours {
		t.Fatalf("retention after reopen %d", d.RetentionHours)
	}
	if got := segmentFiles(t, sdir); !slices.Equal(got, wantKept) {
		t.Fatalf("Open deleted segments: %v left of %v", got, wantKept)
	}
	if got := readShard(t, s2, "r", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000); len(got) != 0 {
		t.Fatalf("read %d expired records before enforcement", len(got))
	}
	if err := s2.Own("r"); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, sdir); len(got) != 1 || got[0] != wantKept[len(wantKept)-1] {
		t.Fatalf("after ten days segments %v", got)
	}
	if got := readShard(t, s2, "r", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000); len(got) != 0 {
		t.Fatalf("read %d expired records", len(got))
	}
	res := mustPut(t, s2, "r", nil, time.Time{}, entry("k", "fresh"))
	if res[0].SequenceNumber.Ordinal != uint64(len(recs)) {
		t.Fatalf("put after retention got ordinal %d, want %d", res[0].SequenceNumber.Ordinal, len(recs))
	}
	got := readShard(t, s2, "r", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000)
	if len(got) != 1 || string(got[0].Data) != "fresh" {
		t.Fatalf("after retention and a new put read %v", got)
	}
}

func TestClosedShardsExpire(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 0)
	s := openStore(t, dir, opts)
	if err := s.CreateStream("c", 2); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 40 {
		mustPut(t, s, "c", &m, clk.Now(), entry(fmt.Sprint(i), "before"))
	}
	if err := s.MergeShards("c", ShardID(0), ShardID(1)); err != nil {
		t.Fatal(err)
	}
	var after model
	for i := range 10 {
		mustPut(t, s, "c", &after, clk.Now(), entry(fmt.Sprint(i), "after"))
	}
	clk.Advance(23 * time.Hour)
	if rep, err := s.EnforceRetention(); err != nil || len(rep.ShardsRemoved) != 0 {
		t.Fatalf("23h after closing: %+v, %v", rep, err)
	}
	if len(describe(t, s, "c").Shards) != 3 {
		t.Fatal("shards removed too early")
	}
	// Keep the child's records fresh so that only the closed parents expire.
	var fresh model
	mustPut(t, s, "c", &fresh, clk.Now(), entry("x", "fresh"))
	clk.Advance(2 * time.Hour)
	rep, err := s.EnforceRetention()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rep.ShardsRemoved)
	if !slices.Equal(rep.ShardsRemoved, []string{ShardID(0), ShardID(1)}) {
		t.Fatalf("ShardsRemoved = %v", rep.ShardsRemoved)
	}
	d := describe(t, s, "c")
	if len(d.Shards) != 1 || d.Shards[0].ShardID != ShardID(2) || d.Shards[0].ParentShardID != ShardID(0) {
		t.Fatalf("after expiry: %+v", d.Shards)
	}
	for _, id := range []string{ShardID(0), ShardID(1)} {
		if _, err := os.Stat(shardDir(s, "c", id)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("directory of expired shard %s survives: %v", id, err)
		}
		_, err := s.Position("c", id, StartingPosition{Type: TrimHorizon})
		wantKind(t, err, ErrNotFound, "position in an expired shard")
	}
	// The child still reads, alone and through a StreamReader whose parents are gone.
	got := readShard(t, s, "c", ShardID(2), StartingPosition{Type: TrimHorizon}, 100)
	checkRecords(t, "child", got, fresh.puts)
	lin := readLineage(t, s, "c", ReadOptions{})
	if len(lin) != 1 || string(lin[0].rec.Data) != "fresh" {
		t.Fatalf("stream reader after expiry read %d records", len(lin))
	}
	s.Close()
	s2 := openStore(t, dir, opts)
	if err := s2.Own("c"); err != nil {
		t.Fatal(err)
	}
	if r := s2.Repairs(); len(r) != 0 {
		t.Fatalf("repairs after expiry: %v", r)
	}
	if d := describe(t, s2, "c"); len(d.Shards) != 1 {
		t.Fatalf("after reopen %d shards", len(d.Shards))
	}
	checkRecords(t, "child after reopen", readShard(t, s2, "c", ShardID(2), StartingPosition{Type: TrimHorizon}, 100), fresh.puts)
}

// TestReadsDuringRetention reads from TRIM_HORIZON while retention removes the
// oldest segments under the readers: a read must never fail because the segment
// it was about to read was removed; it starts at the oldest retained record.
func TestReadsDuringRetention(t *testing.T) {
	clk := newFakeClock()
	s := openStore(t, t.TempDir(), testOptions(clk, 256))
	if err := s.CreateStream("rd", 1); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 300 {
		mustPut(t, s, "rd", &m, clk.Now(), entry("k", fmt.Sprintf("%04d %s", i, strings.Repeat("-", 60))))
		clk.Advance(10 * time.Second)
	}
	clk.Advance(24*time.Hour - 300*10*time.Second)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				// The retention cut a read applies is the one at its start; the
				// clock moves on while it runs.
				cut := clk.Now().Add(-24 * time.Hour)
				c, err := s.Position("rd", ShardID(0), StartingPosition{Type: TrimHorizon})
				if err != nil {
					t.Error(err)
					return
				}
				out, err := s.GetRecords(context.Background(), c, 3)
				if err != nil {
					t.Errorf("read during retention: %v", err)
					return
				}
				if len(out.Records) > 0 {
					if out.Records[0].ArrivalTime.Before(cut) {
						t.Errorf("read a record of %v, retention cut at %v", out.Records[0].ArrivalTime, cut)
						return
					}
				}
			}
		})
	}
	for range 290 {
		clk.Advance(10 * time.Second)
		if _, err := s.EnforceRetention(); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}
