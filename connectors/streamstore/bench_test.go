package streamstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	benchRecordBytes = 200
	benchBatch       = 500
)

// benchBatchFor makes a batch of 500 records of 200 bytes whose partition keys
// spread over every shard.
func benchBatchFor(producer int) []PutEntry {
	batch := make([]PutEntry, benchBatch)
	for i := range batch {
		data := make([]byte, benchRecordBytes)
		for j := range data {
			data[j] = byte('a' + (i+j)%26)
		}
		batch[i] = PutEntry{PartitionKey: fmt.Sprintf("producer-%d-key-%d", producer, i), Data: data}
	}
	return batch
}

// BenchmarkPutBatch500 measures PutRecords of 500 x 200-byte records into a
// 4-shard stream with real fsyncs, from 1 and 8 concurrent producers. One op is
// one batch; concurrent producers share fsyncs through group commit.
func BenchmarkPutBatch500(b *testing.B) {
	for _, producers := range []int{1, 8} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			s := openStore(b, b.TempDir(), DefaultOptions())
			if err := s.CreateStream("bench", 4); err != nil {
				b.Fatal(err)
			}
			batches := make([][]PutEntry, producers)
			for p := range batches {
				batches[p] = benchBatchFor(p)
			}
			b.SetBytes(benchBatch * benchRecordBytes)
			b.ReportAllocs()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for p := range producers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := s.PutRecords(context.Background(), "bench", batches[p]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N*benchBatch)/elapsed.Seconds(), "records/s")
		})
	}
}

// BenchmarkSequentialRead measures GetRecords of 10,000 records at a time over
// a pre-filled shard of 200-byte records. One op is one GetRecords call.
func BenchmarkSequentialRead(b *testing.B) {
	s := openStore(b, b.TempDir(), DefaultOptions())
	if err := s.CreateStream("bench", 1); err != nil {
		b.Fatal(err)
	}
	const total = 200_000
	batch := benchBatchFor(0)
	for range total / benchBatch {
		if _, err := s.PutRecords(context.Background(), "bench", batch); err != nil {
			b.Fatal(err)
		}
	}
	first, err := s.Position("bench", ShardID(0), StartingPosition{Type: TrimHorizon})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(MaxGetRecords * benchRecordBytes)
	b.ReportAllocs()
	b.ResetTimer()
	c := first
	records := 0
	for range b.N {
		out, err := s.GetRecords(context.Background(), c, MaxGetRecords)
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Records) != MaxGetRecords {
			b.Fatalf("read %d records", len(out.Records))
		}
		records += len(out.Records)
		c = out.Next
		if c.Ordinal >= total {
			c = first
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRefreshIdle measures Refresh when nothing changed, as a follower calls
// it every 200ms: 8 streams of 4 shards, each shard with several segments, all
// written by another store.
func BenchmarkRefreshIdle(b *testing.B) {
	dir := b.TempDir()
	opts := DefaultOptions()
	opts.SegmentBytes = 4096
	w := openStore(b, dir, opts)
	for i := range 8 {
		name := fmt.Sprint("idle-", i)
		if err := w.CreateStream(name, 4); err != nil {
			b.Fatal(err)
		}
		for range 20 {
			mustPut(b, w, name, nil, time.Time{}, benchBatchFor(i)[:50]...)
		}
	}
	ro := opts
	ro.ReadOnly = true
	r := openStore(b, dir, ro)
	for b.Loop() {
		if err := r.Refresh(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAttributeChange measures one attribute change (a tag added and
// removed in turn): one fsynced rewrite of stream.json under the stream's
// write lock. With producers > 0 that many goroutines put batches meanwhile;
// the records/s they reach is reported, to show what the changes cost puts.
func BenchmarkAttributeChange(b *testing.B) {
	for _, producers := range []int{0, 4} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			s := openStore(b, b.TempDir(), DefaultOptions())
			if err := s.CreateStream("bench", 4); err != nil {
				b.Fatal(err)
			}
			// 49 tags and 19 consumers: the largest stream.json the limits allow, but for one.
			if err := s.AddTags("bench", tagN(49)); err != nil {
				b.Fatal(err)
			}
			for i := range MaxConsumersPerStream - 1 {
				if _, err := s.RegisterConsumer("bench", fmt.Sprint("consumer-", i)); err != nil {
					b.Fatal(err)
				}
			}
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var records atomic.Int64
			for p := range producers {
				batch := benchBatchFor(p)
				wg.Go(func() {
					for ctx.Err() == nil {
						if _, err := s.PutRecords(context.Background(), "bench", batch); err != nil {
							b.Error(err)
							return
						}
						records.Add(int64(len(batch)))
					}
				})
			}
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				var err error
				if i%2 == 0 {
					err = s.AddTags("bench", map[string]string{"flip": "x"})
				} else {
					err = s.RemoveTags("bench", []string{"flip"})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			stop()
			wg.Wait()
			if producers > 0 {
				b.ReportMetric(float64(records.Load())/elapsed.Seconds(), "records/s")
			}
		})
	}
}
