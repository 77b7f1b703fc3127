package exec

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// overEvent is one input row of the OVER tests: stream columns id, k, v, d,
// ts (and ROWTIME, the arrival time).
type overEvent struct {
	split   string
	id      int64
	k       string
	kNull   bool
	v       int64
	vNull   bool
	d       float64
	dNull   bool
	ts      int64
	rowtime int64
}

const overDDL = `CREATE STREAM s (id BIGINT, k VARCHAR, v BIGINT, d DOUBLE, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '%d' MILLISECOND) WITH (connector = 'kinesis');
CREATE STREAM r (id BIGINT, k VARCHAR, v BIGINT, d DOUBLE, ts TIMESTAMP(3)) WITH (connector = 'kinesis');
`

// overPlan compiles one SELECT over stream s (event time, the given delay)
// or r (ROWTIME) and plans it.
func overPlan(t testing.TB, delay int64, query string, workers int) *planner.Physical {
	t.Helper()
	cat := sql.NewCatalog()
	stmts, err := sql.Compile("t.sql", fmt.Sprintf(overDDL, delay)+query, cat)
	if err != nil {
		t.Fatal(err)
	}
	q := stmts[len(stmts)-1].(*sql.Select).Query
	def, _ := cat.Stream(q.Source)
	p, err := planner.Plan(q, def, planner.Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// overRecord builds the scan batch of p for events.
func overRecord(p *planner.Physical, evs []overEvent, mem memory.Allocator) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, p.ScanSchema.Arrow())
	defer b.Release()
	for _, e := range evs {
		for f, c := range p.ScanColumns {
			fb := b.Field(f)
			switch c {
			case 0:
				fb.(*array.Int64Builder).Append(e.id)
			case 1:
				if e.kNull {
					fb.AppendNull()
				} else {
					fb.(*array.StringBuilder).Append(e.k)
				}
			case 2:
				if e.vNull {
					fb.AppendNull()
				} else {
					fb.(*array.Int64Builder).Append(e.v)
				}
			case 3:
				if e.dNull {
					fb.AppendNull()
				} else {
					fb.(*array.Float64Builder).Append(e.d)
				}
			case 4:
				fb.(*array.TimestampBuilder).Append(arrow.Timestamp(e.ts))
			case 5:
				fb.(*array.TimestampBuilder).Append(arrow.Timestamp(e.rowtime))
			}
		}
	}
	return b.NewRecordBatch()
}

// overSource replays events in the order given, cut into batches of random
// size that never mix splits. order returns the events as the job sees them.
type overSource struct {
	batches []SourceBatch
	splits  []string
	i       int
}

func newOverSource(p *planner.Physical, evs []overEvent, rng *rand.Rand, maxBatch int, mem memory.Allocator) *overSource {
	s := &overSource{}
	seen := map[string]bool{}
	for _, e := range evs {
		if !seen[e.split] {
			seen[e.split] = true
			s.splits = append(s.splits, e.split)
		}
	}
	for i := 0; i < len(evs); {
		n := 1
		for n < 1+rng.IntN(maxBatch) && i+n < len(evs) && evs[i+n].split == evs[i].split {
			n++
		}
		s.batches = append(s.batches, SourceBatch{Split: evs[i].split, Record: overRecord(p, evs[i:i+n], mem)})
		i += n
	}
	return s
}

func (s *overSource) Next(ctx context.Context) (SourceBatch, error) {
	if err := ctx.Err(); err != nil {
		return SourceBatch{}, err
	}
	if s.i == len(s.batches) {
		return SourceBatch{}, io.EOF
	}
	b := s.batches[s.i]
	s.i++
	return b, nil
}

func (s *overSource) ActiveSplits() []string { return s.splits }

func (s *overSource) Close() error {
	for _, b := range s.batches[s.i:] {
		if b.Record != nil {
			b.Record.Release()
		}
	}
	s.batches = nil
	return nil
}

// overRun runs p over evs and returns the output rows as strings.
func overRun(t testing.TB, p *planner.Physical, evs []overEvent, rng *rand.Rand, maxBatch int) (*collectSink, *collectErrors, Stats) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	src := newOverSource(p, evs, rng, maxBatch, mem)
	defer src.Close()
	sink, errs := &collectSink{}, &collectErrors{}
	j, err := NewJob(p, src, sink, errs, JobOptions{SourceName: "s", IdleTimeout: -1, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sink, errs, j.Stats()
}

// TestOverWorkedExample is the example of sql/DIALECT.md ("OVER windows"):
// its input and output rows, exactly.
func TestOverWorkedExample(t *testing.T) {
	base := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	at := func(s string) int64 {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return base + d.Milliseconds()
	}
	// Arrival order, one shard; the watermark trails the largest ts by 5 s.
	evs := []overEvent{
		{id: 1, k: "a", v: 10, ts: at("0s")},
		{id: 2, k: "b", v: 5, ts: at("1s")},
		{id: 3, k: "a", v: 20, ts: at("30s")},
		{id: 4, k: "a", v: 30, ts: at("28s")}, // 2 s out of order: within the delay
		{id: 5, k: "a", v: 40, ts: at("75s")},
		{id: 6, k: "b", v: 7, ts: at("62s")}, // 13 s behind 01:15: late
		{id: 7, k: "b", vNull: true, ts: at("80s")},
	}
	for i := range evs {
		evs[i].split = "shard-0"
	}
	q := `SELECT id, k, v,
  SUM(v) OVER last_minute AS sum_1m,
  COUNT(*) OVER last_minute AS n_1m,
  SUM(v) OVER (PARTITION BY k ROWS 1 PRECEDING) AS sum_2rows,
  LAG(v) OVER by_k AS prev_v,
  LEAD(v, 1, -1) OVER by_k AS next_v,
  ROW_NUMBER() OVER by_k AS rn
FROM s
WINDOW by_k AS (PARTITION BY k ORDER BY ts),
       last_minute AS (by_k RANGE INTERVAL '1' MINUTE PRECEDING);`
	p := overPlan(t, 5000, q, 2)
	sink, errs, st := overRun(t, p, evs, rand.New(rand.NewPCG(1, 2)), 1)
	want := []string{
		"1 a 10 10 1 10 (null) 30 1",
		"4 a 30 40 2 40 10 20 2",
		"3 a 20 60 3 50 30 40 3",
		"2 b 5 5 1 5 (null) (null) 1",
		"5 a 40 90 3 60 20 -1 4",
		"7 b (null) (null) 1 5 5 -1 2",
	}
	var got []string
	for _, r := range sink.rows {
		got = append(got, strings.Join(r, " "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.LateRows != 1 || len(errs.errs) != 1 || errs.errs[0].Kind != ErrorLate || !strings.Contains(string(errs.errs[0].Raw), `"id":6`) {
		t.Fatalf("want row 6 late on the error stream, got %d late: %+v", st.LateRows, errs.errs)
	}
}
