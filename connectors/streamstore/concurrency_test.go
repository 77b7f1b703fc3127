package streamstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentPutsReadsAndReshards runs producers, readers and a resharder at
// once. Afterwards every acknowledged record must be in the stream exactly once,
// and each producer's records of each partition key must read back, in lineage
// order, in the order the producer put them.
func TestConcurrentPutsReadsAndReshards(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.SegmentBytes = 16 << 10
	s := openStore(t, dir, opts)
	if err := s.CreateStream("cc", 2); err != nil {
		t.Fatal(err)
	}
	const producers, batches = 6, 40
	var wg sync.WaitGroup
	acked := make([][]put, producers)
	var ackedCount atomic.Int64
	errs := make(chan error, 64)
	for p := range producers {
		wg.Go(func() {
			n := 0
			for b := range batches {
				var batch []PutEntry
				for range 1 + (b*7+p)%20 {
					batch = append(batch, entry(fmt.Sprintf("p%d-k%d", p, n%5), payload(p, n)))
					n++
				}
				res, err := s.PutRecords(context.Background(), "cc", batch)
				if err != nil {
					errs <- fmt.Errorf("producer %d: %w", p, err)
					return
				}
				for i, e := range batch {
					acked[p] = append(acked[p], put{key: e.PartitionKey, data: string(e.Data), shard: res[i].ShardID, seq: res[i].SequenceNumber})
				}
				ackedCount.Add(int64(len(batch)))
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Every record read must be well formed, and per shard in ordinal order.
				sr, err := s.NewStreamReader("cc", ReadOptions{BatchSize: 50 + r*50})
				if err != nil {
					errs <- err
					return
				}
				last := map[string]uint64{}
				err = sr.Read(context.Background(), func(id string, rec Record) error {
					if prev, ok := last[id]; ok && rec.SequenceNumber.Ordinal <= prev {
						return fmt.Errorf("shard %s: ordinal %d after %d", id, rec.SequenceNumber.Ordinal, prev)
					}
					last[id] = rec.SequenceNumber.Ordinal
					if !strings.HasPrefix(string(rec.Data), strings.Split(rec.PartitionKey, "-")[0]+"-") {
						return fmt.Errorf("record %q under key %q", rec.Data, rec.PartitionKey)
					}
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				if _, err := s.DescribeStream("cc"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Reshard while the producers run.
	waitFor := func(n int64) {
		for ackedCount.Load() < n && len(errs) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	total := int64(0)
	for p := range producers {
		for b := range batches {
			total += int64(1 + (b*7+p)%20)
		}
	}
	steps := []func() error{
		func() error { return s.SplitShard("cc", ShardID(0), "85070591730234615865843651857942052864") }, // 2^126
		func() error { return s.MergeShards("cc", ShardID(2), ShardID(3)) },
		func() error { return s.UpdateShardCount("cc", 3) },
		func() error { return s.UpdateShardCount("cc", 5) },
		func() error { return s.UpdateShardCount("cc", 1) },
		func() error { return s.UpdateShardCount("cc", 2) },
	}
	for i, step := range steps {
		waitFor(total * int64(i+1) / int64(len(steps)+1))
		if err := step(); err != nil {
			t.Errorf("reshard step %d: %v", i, err)
		}
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	var all []put
	for p := range producers {
		all = append(all, acked[p]...)
	}
	if int64(len(all)) != total {
		t.Fatalf("%d records acknowledged, %d put", len(all), total)
	}
	if d := describe(t, s, "cc"); d.OpenShards != 2 {
		t.Fatalf("%d open shards at the end", d.OpenShards)
	}
	// Per shard, acknowledged sequence numbers are unique.
	seen := map[string]bool{}
	for _, p := range all {
		if seen[p.seq.String()] {
			t.Fatalf("sequence number %s acknowledged twice", p.seq)
		}
		seen[p.seq.String()] = true
	}
	got := readLineage(t, s, "cc", ReadOptions{BatchSize: 333})
	checkLineage(t, s, "cc", got, all)
	s.Close()
	s2 := openStore(t, dir, opts)
	checkLineage(t, s2, "cc", readLineage(t, s2, "cc", ReadOptions{}), all)
}

// TestCloseDuringPuts closes the store under producers: each put either is
// acknowledged, and then survives a reopen, or fails with ErrClosed.
func TestCloseDuringPuts(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.SegmentBytes = 8 << 10
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStream("cl", 3); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var m model
	var count atomic.Int64
	for p := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				batch := []PutEntry{entry(fmt.Sprint(p, "-", i%3), payload(p, i)), entry(fmt.Sprint(p, "-x"), payload(p, i)+"b")}
				res, err := s.PutRecords(context.Background(), "cl", batch)
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("producer %d: %v, want ErrClosed", p, err)
					}
					return
				}
				mu.Lock()
				m.add(batch, res, time.Time{})
				mu.Unlock()
				count.Add(1)
			}
		})
	}
	for count.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s2 := openStore(t, dir, opts)
	if err := s2.Own("cl"); err != nil {
		t.Fatal(err)
	}
	if r := s2.Repairs(); len(r) != 0 {
		t.Fatalf("repairs after a clean Close: %v", r)
	}
	// Everything acknowledged is there; nothing unacknowledged is, since a failed
	// put appended nothing durable.
	checkAll(t, s2, "cl", &m)
	if n := totalRecords(t, s2, "cl"); n != uint64(len(m.puts)) {
		t.Fatalf("store holds %d records, %d were acknowledged", n, len(m.puts))
	}
}

// TestGroupCommitManyWriters puts single records from many goroutines into one
// shard: every put is acknowledged with a distinct ordinal and all read back.
func TestGroupCommitManyWriters(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("g", 1); err != nil {
		t.Fatal(err)
	}
	const writers, each = 32, 25
	var wg sync.WaitGroup
	ords := make([][]uint64, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r, err := s.PutRecord(context.Background(), "g", entry("k", payload(w, i)))
				if err != nil {
					t.Error(err)
					return
				}
				ords[w] = append(ords[w], r.SequenceNumber.Ordinal)
			}
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for w := range writers {
		for i, o := range ords[w] {
			if seen[o] || o >= writers*each || (i > 0 && o <= ords[w][i-1]) {
				t.Fatalf("writer %d got ordinal %d (dup %v, previous %v)", w, o, seen[o], ords[w][:i])
			}
			seen[o] = true
		}
	}
	got := readShard(t, s, "g", ShardID(0), StartingPosition{Type: TrimHorizon}, MaxGetRecords)
	if len(got) != writers*each {
		t.Fatalf("read %d of %d", len(got), writers*each)
	}
	for i, r := range got {
		if r.SequenceNumber.Ordinal != uint64(i) {
			t.Fatalf("record %d has ordinal %d", i, r.SequenceNumber.Ordinal)
		}
	}
}

// TestReadsDuringReshards resolves positions and reads in a tight loop while the
// stream is resharded back and forth, so that -race sees reads overlap metadata
// changes.
func TestReadsDuringReshards(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("rr", 2); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 100 {
		mustPut(t, s, "rr", &m, time.Time{}, entry(fmt.Sprint(i), "v"))
	}
	want := len(m.shard(ShardID(0)))
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
				c, err := s.Position("rr", ShardID(0), StartingPosition{Type: AtSequenceNumber, SequenceNumber: m.shard(ShardID(0))[0].seq.String()})
				if err != nil {
					t.Error(err)
					return
				}
				out, err := s.GetRecords(context.Background(), c, MaxGetRecords)
				if err != nil || len(out.Records) != want {
					t.Errorf("read %d of %d records: %v", len(out.Records), want, err)
					return
				}
			}
		})
	}
	for i := range 40 {
		if err := s.UpdateShardCount("rr", 3+i%2); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}
