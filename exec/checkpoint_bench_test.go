package exec

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/checkpoint"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// openKeysSource hands out its batches, then empty batches until the run is
// cancelled: the job stays up with its windows open, and its scan stage
// keeps passing barriers.
type openKeysSource struct {
	batches []arrow.RecordBatch
	i       int
}

func (s *openKeysSource) Next(ctx context.Context) (SourceBatch, error) {
	if s.i < len(s.batches) {
		b := s.batches[s.i]
		s.i++
		b.Retain()
		return SourceBatch{Split: "s0", Record: b}, nil
	}
	select {
	case <-ctx.Done():
		return SourceBatch{}, ctx.Err()
	case <-time.After(100 * time.Microsecond):
		return SourceBatch{Split: "s0"}, nil
	}
}

func (s *openKeysSource) ActiveSplits() []string { return []string{"s0"} }
func (s *openKeysSource) Close() error           { return nil }

// BenchmarkCheckpointOpenKeys takes checkpoints of a running TUMBLE job
// (COUNT(*), SUM(v), AVG(v) GROUP BY k over 1-hour windows, one worker per
// core) holding 1,000,000 open keys in one window: each op is one whole
// checkpoint, from the barrier's injection to the manifest's write into a
// folder (DirStore, fsync included), as Coordinator.Savepoint waits for it.
// It reports the checkpoint's size (bytes/checkpoint) and per key (B/key).
//
//	go test ./exec/ -run '^$' -bench CheckpointOpenKeys -benchtime 10x
func BenchmarkCheckpointOpenKeys(b *testing.B) {
	const keys = 1_000_000
	const rows = 8192
	var batches []arrow.RecordBatch
	clock := int64(1_767_225_600_000)
	for k := 0; k < keys; k += rows {
		evs := make([]event, min(rows, keys-k))
		for i := range evs {
			evs[i] = event{key: fmt.Sprintf("key-%07d", k+i), v: int64((k + i) % 1000), ts: clock + int64(i%1000)}
		}
		batches = append(batches, buildRecord(evs, memory.DefaultAllocator))
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	p := openKeysPlan(runtime.GOMAXPROCS(0))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := checkpoint.NewDirStore(b.TempDir())
	coord, err := NewCoordinator(ctx, CoordinatorConfig{Store: store, App: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	j, err := NewJob(p, &openKeysSource{batches: batches}, &countSink{}, nil, JobOptions{IdleTimeout: -1,
		Checkpointing: &Checkpointing{Coordinator: coord, Name: "q0"}})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	// Once every row is read, a first checkpoint's barrier follows them all
	// through the workers: the keys are in.
	for j.Stats().RowsIn < keys {
		time.Sleep(time.Millisecond)
	}
	if _, err := coord.Savepoint(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := coord.Savepoint(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	ms, _, err := checkpoint.List(ctx, store, "bench")
	if err != nil || len(ms) == 0 {
		b.Fatalf("no checkpoint listed: %v", err)
	}
	size := float64(ms[0].Metrics.Bytes)
	b.ReportMetric(size, "bytes/checkpoint")
	b.ReportMetric(size/keys, "B/key")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	coord.Wait()
}

// openKeysPlan is COUNT(*), SUM(v), AVG(v) GROUP BY k over 1-hour tumbling
// windows.
func openKeysPlan(workers int) *planner.Physical {
	w := sql.Window{Kind: sql.Tumble, Size: time.Hour}
	v := &expr.Column{Index: 1, Name: "v", T: types.BigIntType}
	aggs := []planner.Aggregate{{Fn: "count_star", T: types.BigIntType}, {Fn: "sum", Arg: v, T: types.BigIntType},
		{Fn: "avg", Arg: v, T: types.DoubleType}}
	q := &sql.Query{Input: scanSchema, Window: &w, GroupBy: []expr.Expr{&expr.Column{Index: 0, Name: "k", T: types.VarcharType}},
		GroupNames: []string{"k"}}
	for _, a := range aggs {
		q.Aggregates = append(q.Aggregates, sql.Aggregate{Fn: a.Fn, Arg: a.Arg, T: a.T})
	}
	schema := q.AggSchema()
	var sel []expr.Expr
	for i, c := range schema {
		sel = append(sel, &expr.Column{Index: i, Name: c.Name, T: c.Type})
	}
	return &planner.Physical{Source: "s", ScanSchema: scanSchema, Output: schema, Select: sel, Limit: -1,
		Agg: &planner.AggregateStage{Window: w, TimeColumn: 3, WatermarkDelay: time.Minute, EventTime: true, KeyExprs: q.GroupBy,
			KeyNames: q.GroupNames, Aggs: aggs, Workers: workers, AggSchema: schema}}
}
