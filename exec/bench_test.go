package exec

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// replaySource hands out the same decoded batches again and again (retained),
// so a benchmark measures the operators, not decoding.
type replaySource struct {
	batches []arrow.RecordBatch
	left    int
	i       int
}

func (s *replaySource) Next(ctx context.Context) (SourceBatch, error) {
	if s.left == 0 {
		return SourceBatch{}, io.EOF
	}
	s.left--
	b := s.batches[s.i%len(s.batches)]
	s.i++
	b.Retain()
	return SourceBatch{Split: "s0", Record: b}, nil
}

func (s *replaySource) ActiveSplits() []string { return []string{"s0"} }
func (s *replaySource) Close() error           { return nil }

type countSink struct{ rows int64 }

func (c *countSink) Write(_ context.Context, rec arrow.RecordBatch) error {
	c.rows += rec.NumRows()
	return nil
}
func (c *countSink) Flush(context.Context) error { return nil }
func (c *countSink) Close() error                { return nil }

// BenchmarkFilterAggregate: WHERE d > 100 over decoded 8192-row batches, then
// COUNT(*), SUM(v), MIN(d), MAX(d), AVG(v) per key over 1-second tumbling
// windows (13 keys, event time advancing ~1 ms per row). rows/s is of input
// rows; run with -cpu 1 for the per-core figure.
func BenchmarkFilterAggregate(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	const rows = 8192
	var batches []arrow.RecordBatch
	clock := int64(1_767_225_600_000)
	for range 64 {
		evs := make([]event, rows)
		for i := range evs {
			clock += rng.Int64N(3)
			evs[i] = event{key: fmt.Sprintf("k%d", rng.IntN(13)), v: rng.Int64N(1000), d: rng.Float64() * 200, ts: clock}
		}
		batches = append(batches, buildRecord(evs, memory.DefaultAllocator))
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	p := aggPlan(time.Second, 0, runtime.GOMAXPROCS(0))
	p.Filter = &expr.Call{Fn: ">", T: types.BooleanType, Args: []expr.Expr{
		&expr.Column{Index: 2, Name: "d", T: types.DoubleType}, &expr.Literal{Value: 100.0, T: types.DoubleType}}}
	const perOp = 64
	b.ResetTimer()
	for b.Loop() {
		src := &replaySource{batches: batches, left: perOp}
		j, err := NewJob(p, src, &countSink{}, nil, JobOptions{IdleTimeout: -1})
		if err != nil {
			b.Fatal(err)
		}
		if err := j.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*perOp*rows)/b.Elapsed().Seconds(), "rows/s")
}

// benchWindows runs count(*), sum, min, max, avg per key over decoded batches
// of `keys` distinct keys in the given window, with event time advancing 1 ms
// every 100 rows (a stream of 100,000 events/s, as Nexmark-style benchmarks
// run), and reports input rows/s. Run with -cpu 1 for a per-core figure.
func benchWindows(b *testing.B, keys int, window func(p *planner.Physical)) {
	rng := rand.New(rand.NewPCG(9, 9))
	const rows = 8192
	var batches []arrow.RecordBatch
	clock := int64(1_767_225_600_000)
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprintf("key-%d", i)
	}
	for range 64 {
		evs := make([]event, rows)
		for i := range evs {
			if rng.IntN(100) == 0 {
				clock++
			}
			evs[i] = event{key: names[rng.IntN(keys)], v: rng.Int64N(1000), d: rng.Float64() * 200, ts: clock}
		}
		batches = append(batches, buildRecord(evs, memory.DefaultAllocator))
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	p := aggPlan(time.Second, 0, runtime.GOMAXPROCS(0))
	window(p)
	const perOp = 64
	b.ResetTimer()
	for b.Loop() {
		src := &replaySource{batches: batches, left: perOp}
		j, err := NewJob(p, src, &countSink{}, nil, JobOptions{IdleTimeout: -1})
		if err != nil {
			b.Fatal(err)
		}
		if err := j.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*perOp*rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkHop: HOP(2 s, 10 s) with 10,000 keys: each row updates 5 windows.
func BenchmarkHop(b *testing.B) {
	benchWindows(b, 10_000, func(p *planner.Physical) {
		p.Agg.Window = sql.Window{Kind: sql.Hop, Slide: 2 * time.Second, Size: 10 * time.Second}
	})
}

// BenchmarkSession: SESSION(gap 30 s) with 100,000 keys.
func BenchmarkSession(b *testing.B) {
	benchWindows(b, 100_000, func(p *planner.Physical) {
		p.Agg.Window = sql.Window{Kind: sql.Session, Gap: 30 * time.Second}
	})
}
