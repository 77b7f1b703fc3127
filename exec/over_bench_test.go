//go:build unix

package exec

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// seqSource hands out decoded batches once each, retained, from one split.
type seqSource struct {
	batches []arrow.RecordBatch
	i       int
}

func (s *seqSource) Next(context.Context) (SourceBatch, error) {
	if s.i == len(s.batches) {
		return SourceBatch{}, io.EOF
	}
	b := s.batches[s.i]
	s.i++
	b.Retain()
	return SourceBatch{Split: "s0", Record: b}, nil
}

func (s *seqSource) ActiveSplits() []string { return []string{"s0"} }
func (s *seqSource) Close() error           { return nil }

// BenchmarkOverRange: COUNT(*), SUM(v), AVG(v) and MAX(d) OVER (PARTITION BY
// k ORDER BY ts RANGE INTERVAL '1' MINUTE PRECEDING) over 1,000 keys, on
// decoded 8192-row batches: 64 batches (524,288 rows) with event time
// advancing 1 ms a row, so a frame holds about 60 rows of its key and the
// workers hold about 60,000 rows. in-order: a zero watermark delay; disorder:
// times up to 200 ms out of order under a 1 s delay. rows/s counts input
// rows per second of wall time, rows/cpu-s per second of the process's CPU
// time (the figure to quote on a shared machine); run with -cpu 1 for the
// per-core figure.
func BenchmarkOverRange(b *testing.B) {
	for _, bc := range []struct {
		name            string
		delay, disorder int64
	}{{"in-order", 0, 0}, {"disorder", 1000, 200}} {
		b.Run(bc.name, func(b *testing.B) {
			p := overPlan(b, bc.delay, `SELECT id, k, v,
  COUNT(*) OVER w AS n, SUM(v) OVER w AS s, AVG(v) OVER w AS a, MAX(d) OVER w AS m
FROM s WINDOW w AS (PARTITION BY k ORDER BY ts RANGE INTERVAL '1' MINUTE PRECEDING);`, runtime.GOMAXPROCS(0))
			rng := rand.New(rand.NewPCG(7, 7))
			const rows, nb = 8192, 64
			base := int64(1_767_225_600_000)
			var batches []arrow.RecordBatch
			for bi := range nb {
				evs := make([]overEvent, rows)
				for i := range evs {
					n := int64(bi*rows + i)
					evs[i] = overEvent{id: n, k: fmt.Sprintf("k%d", rng.IntN(1000)), v: rng.Int64N(1000),
						d: rng.Float64() * 200, ts: base + n - rng.Int64N(bc.disorder+1)}
				}
				batches = append(batches, overRecord(p, evs, memory.DefaultAllocator))
			}
			defer func() {
				for _, r := range batches {
					r.Release()
				}
			}()
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				sink := &countSink{}
				j, err := NewJob(p, &seqSource{batches: batches}, sink, nil, JobOptions{IdleTimeout: -1})
				if err != nil {
					b.Fatal(err)
				}
				if err := j.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				if sink.rows != rows*nb {
					b.Fatalf("%d rows out, want %d", sink.rows, rows*nb)
				}
			}
			b.ReportMetric(float64(b.N*rows*nb)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.N*rows*nb)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
