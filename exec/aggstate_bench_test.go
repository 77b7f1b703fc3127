package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// BenchmarkAggregates: one aggregate at a time per key over 1-second tumbling
// windows of decoded 8192-row batches (event time advancing ~1 ms per row), as
// BenchmarkFilterAggregate but without the filter; COUNT(*) is the baseline
// of the runtime's own cost. rows/s is of input rows; run with -cpu 1 for the
// per-core figure:
//
//	go test ./exec -run '^$' -bench BenchmarkAggregates -cpu 1
func BenchmarkAggregates(b *testing.B) {
	col := func(i int) *expr.Column {
		return &expr.Column{Index: i, Name: scanSchema[i].Name, T: scanSchema[i].Type}
	}
	cases := []struct {
		name string
		agg  planner.Aggregate
	}{
		{"count_star", planner.Aggregate{Fn: "count_star", T: types.BigIntType}},
		{"sum", planner.Aggregate{Fn: "sum", Arg: col(1), T: types.BigIntType}},
		{"stddev_samp", planner.Aggregate{Fn: "stddev_samp", Arg: col(2), T: types.DoubleType}},
		{"var_pop_bigint", planner.Aggregate{Fn: "var_pop", Arg: col(1), T: types.DoubleType}},
		{"first_value", planner.Aggregate{Fn: "first_value", Arg: col(2), T: types.DoubleType}},
		{"last_value_varchar", planner.Aggregate{Fn: "last_value", Arg: col(0), T: types.VarcharType}},
		{"approx_count_distinct", planner.Aggregate{Fn: "approx_count_distinct", Arg: col(1), T: types.BigIntType}},
		{"approx_percentile", planner.Aggregate{Fn: "approx_percentile", Arg: col(2), Param: 0.99, T: types.DoubleType}},
		{"top_k", planner.Aggregate{Fn: "top_k", Arg: col(1), Param: 10, T: types.JSONType}},
		{"top_k_varchar", planner.Aggregate{Fn: "top_k", Arg: col(0), Param: 10, T: types.JSONType}},
		{"sum_distinct", planner.Aggregate{Fn: "sum", Arg: col(1), Distinct: true, T: types.BigIntType}},
	}
	for _, keys := range []int{13, 10_000} {
		batches := benchBatches(keys)
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/keys=%d", c.name, keys), func(b *testing.B) {
				p := oneAggPlan(c.agg, 1)
				const perOp = 32
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
				b.ReportMetric(float64(b.N*perOp*8192)/b.Elapsed().Seconds(), "rows/s")
			})
		}
		for _, r := range batches {
			r.Release()
		}
	}
}

// benchBatches makes 32 batches of 8192 rows over keys keys; v has 1,000
// distinct values, d is uniform.
func benchBatches(keys int) []arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(8, 8))
	var out []arrow.RecordBatch
	clock := int64(1_767_225_600_000)
	for range 32 {
		evs := make([]event, 8192)
		for i := range evs {
			clock += rng.Int64N(3)
			evs[i] = event{key: fmt.Sprintf("k%d", rng.IntN(keys)), v: rng.Int64N(1000), d: rng.Float64() * 200, ts: clock}
		}
		out = append(out, buildRecord(evs, memory.DefaultAllocator))
	}
	return out
}

// oneAggPlan groups by k over 1-second tumbling windows computing a.
func oneAggPlan(a planner.Aggregate, workers int) *planner.Physical {
	w := sql.Window{Kind: sql.Tumble, Size: time.Second}
	q := &sql.Query{Input: scanSchema, Window: &w, GroupBy: []expr.Expr{&expr.Column{Index: 0, Name: "k", T: types.VarcharType}},
		GroupNames: []string{"k"}, Aggregates: []sql.Aggregate{{Fn: a.Fn, Arg: a.Arg, Distinct: a.Distinct, Param: a.Param, T: a.T}}}
	schema := q.AggSchema()
	var sel []expr.Expr
	for i, c := range schema {
		sel = append(sel, &expr.Column{Index: i, Name: c.Name, T: c.Type})
	}
	return &planner.Physical{Source: "s", ScanSchema: scanSchema, Output: schema, Select: sel, Limit: -1,
		Agg: &planner.AggregateStage{Window: w, TimeColumn: 3, EventTime: true, KeyExprs: q.GroupBy, KeyNames: q.GroupNames,
			Aggs: []planner.Aggregate{a}, Workers: workers, AggSchema: schema}}
}
