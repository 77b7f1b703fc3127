package exec

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type event struct {
	split string
	key   string
	v     int64
	vNull bool
	d     float64
	ts    int64
}

var scanSchema = types.Schema{
	{Name: "k", Type: types.VarcharType},
	{Name: "v", Type: types.BigIntType},
	{Name: "d", Type: types.DoubleType},
	{Name: "ts", Type: types.TimestampType},
}

// memSource replays events split by split in random-sized batches, interleaving splits.
type memSource struct {
	batches []SourceBatch
	splits  []string
	i       int
}

func newMemSource(t *testing.T, events []event, rng *rand.Rand, mem memory.Allocator) *memSource {
	bySplit := map[string][]event{}
	var splits []string
	for _, e := range events {
		if _, ok := bySplit[e.split]; !ok {
			splits = append(splits, e.split)
		}
		bySplit[e.split] = append(bySplit[e.split], e)
	}
	s := &memSource{splits: splits}
	pos := map[string]int{}
	for {
		var live []string
		for _, sp := range splits {
			if pos[sp] < len(bySplit[sp]) {
				live = append(live, sp)
			}
		}
		if len(live) == 0 {
			break
		}
		sp := live[rng.IntN(len(live))]
		n := min(1+rng.IntN(300), len(bySplit[sp])-pos[sp])
		s.batches = append(s.batches, SourceBatch{Split: sp, Record: buildRecord(bySplit[sp][pos[sp]:pos[sp]+n], mem)})
		pos[sp] += n
	}
	return s
}

func buildRecord(evs []event, mem memory.Allocator) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, scanSchema.Arrow())
	defer b.Release()
	for _, e := range evs {
		b.Field(0).(*array.StringBuilder).Append(e.key)
		if e.vNull {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(e.v)
		}
		b.Field(2).(*array.Float64Builder).Append(e.d)
		b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(e.ts))
	}
	return b.NewRecordBatch()
}

func (s *memSource) Next(ctx context.Context) (SourceBatch, error) {
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

func (s *memSource) ActiveSplits() []string { return s.splits }

func (s *memSource) Close() error {
	for _, b := range s.batches[s.i:] {
		b.Record.Release()
	}
	return nil
}

// collectSink keeps every row as a string tuple.
type collectSink struct {
	mu   sync.Mutex
	rows [][]string
}

func (c *collectSink) Write(_ context.Context, rec arrow.RecordBatch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < int(rec.NumRows()); i++ {
		row := make([]string, rec.NumCols())
		for j := range row {
			row[j] = rec.Column(j).ValueStr(i)
		}
		c.rows = append(c.rows, row)
	}
	return nil
}

// applyChanges plays the changelog of an updating query (last column _op) the
// way a consumer would: "+I"/"+U" add a row, "-U"/"-D" remove one, which must
// be present exactly as written. It returns the rows left and how many
// changes retracted something.
func applyChanges(t *testing.T, rows [][]string) ([][]string, int) {
	t.Helper()
	live := map[string][]string{}
	count := map[string]int{}
	retracted := 0
	for i, r := range rows {
		op, vals := r[len(r)-1], r[:len(r)-1]
		id := strings.Join(vals, "\x00")
		switch op {
		case planner.OpInsert, planner.OpUpdateAfter:
			count[id]++
			live[id] = vals
		case planner.OpUpdateBefore, planner.OpDelete:
			if count[id] == 0 {
				t.Fatalf("change %d (%s %v) retracts a row that is not there", i, op, vals)
			}
			if op == planner.OpUpdateBefore && (i+1 >= len(rows) || rows[i+1][len(r)-1] != planner.OpUpdateAfter) {
				// HAVING may drop the new row, but then the change is a -D.
				t.Fatalf("change %d: -U not followed by +U", i)
			}
			retracted++
			count[id]--
		default:
			t.Fatalf("change %d: _op %q", i, op)
		}
	}
	var out [][]string
	for id, n := range count {
		for range n {
			out = append(out, live[id])
		}
	}
	return out, retracted
}

// byKeyAndStart indexes rows (k, window_start, ...) by key and window start,
// each of which must appear once.
func byKeyAndStart(t *testing.T, rows [][]string) map[string][]string {
	t.Helper()
	final := map[string][]string{}
	for _, r := range rows {
		k := fmt.Sprintf("%s|%d", r[0], parseTS(t, r[1]))
		if final[k] != nil {
			t.Fatalf("window %s twice after the changes", k)
		}
		final[k] = r
	}
	return final
}

// updating appends the _op column an updating query's plan carries.
func updating(p *planner.Physical) *planner.Physical {
	p.Output = append(p.Output, types.Column{Name: planner.OpColumn, Type: types.VarcharType})
	return p
}

func (c *collectSink) Flush(context.Context) error { return nil }
func (c *collectSink) Close() error                { return nil }

type collectErrors struct {
	mu   sync.Mutex
	errs []ErrorRecord
}

func (c *collectErrors) WriteErrors(_ context.Context, errs []ErrorRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, errs...)
	return nil
}

// aggPlan builds: SELECT k, window_start, window_end, COUNT(*), SUM(v), MIN(d), MAX(d), AVG(v)
// FROM s GROUP BY k, TUMBLE(ts, size) with a watermark delay.
func aggPlan(size, delay time.Duration, workers int) *planner.Physical {
	col := func(i int) *expr.Column {
		return &expr.Column{Index: i, Name: scanSchema[i].Name, T: scanSchema[i].Type}
	}
	q := &sql.Query{
		Input:      scanSchema,
		Window:     &sql.Window{Kind: sql.Tumble, Size: size},
		GroupBy:    []expr.Expr{col(0)},
		GroupNames: []string{"k"},
		Aggregates: []sql.Aggregate{
			{Fn: "count_star", T: types.BigIntType},
			{Fn: "sum", Arg: col(1), T: types.BigIntType},
			{Fn: "min", Arg: col(2), T: types.DoubleType},
			{Fn: "max", Arg: col(2), T: types.DoubleType},
			{Fn: "avg", Arg: col(1), T: types.DoubleType},
		},
	}
	agg := q.AggSchema()
	for i, c := range agg {
		q.Select = append(q.Select, &expr.Column{Index: i, Name: c.Name, T: c.Type})
		q.Output = append(q.Output, c)
	}
	return &planner.Physical{
		Source: "s", ScanSchema: scanSchema, Output: q.Output, Select: q.Select, Limit: -1,
		Agg: &planner.AggregateStage{Window: *q.Window, TimeColumn: 3, WatermarkDelay: delay, EventTime: true,
			KeyExprs: q.GroupBy, KeyNames: q.GroupNames, Aggs: []planner.Aggregate{
				{Fn: "count_star", T: types.BigIntType},
				{Fn: "sum", Arg: col(1), T: types.BigIntType},
				{Fn: "min", Arg: col(2), T: types.DoubleType},
				{Fn: "max", Arg: col(2), T: types.DoubleType},
				{Fn: "avg", Arg: col(1), T: types.DoubleType},
			}, Workers: workers, AggSchema: agg},
	}
}

type oracleGroup struct {
	n, sumN  int64
	sum      int64
	min, max float64
}

// oracle computes the windows by brute force: each split's events in order, a
// row late when its window end <= the watermark before it (the minimum over
// splits of their running max minus delay, once every split has data).
func oracle(events []event, order []event, size, delay int64) (map[string]oracleGroup, int) {
	_ = events
	clock := newOracleClock(order, delay)
	groups := map[string]oracleGroup{}
	late := 0
	for _, e := range order {
		wmBefore := clock.observe(e) // lateness is judged by the watermark before the row
		start := floorDiv(e.ts, size) * size
		if start+size <= wmBefore {
			late++
			continue
		}
		k := fmt.Sprintf("%s|%d", e.key, start)
		g, ok := groups[k]
		if !ok {
			g = oracleGroup{min: math.Inf(1), max: math.Inf(-1)}
		}
		g.n++
		if !e.vNull {
			g.sum += e.v
			g.sumN++
		}
		g.min = math.Min(g.min, e.d)
		g.max = math.Max(g.max, e.d)
		groups[k] = g
	}
	return groups, late
}

func runJob(t *testing.T, p *planner.Physical, src Source) (*collectSink, *collectErrors, Stats) {
	t.Helper()
	sink, errs := &collectSink{}, &collectErrors{}
	j, err := NewJob(p, src, sink, errs, JobOptions{SourceName: "s", IdleTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sink, errs, j.Stats()
}

func genEvents(rng *rand.Rand, n int, splits []string, disorder int64, lateEvery int) []event {
	clock := map[string]int64{}
	out := make([]event, 0, n)
	for i := range n {
		sp := splits[rng.IntN(len(splits))]
		clock[sp] += rng.Int64N(20)
		ts := 1_767_225_600_000 + clock[sp] - rng.Int64N(disorder+1)
		if lateEvery > 0 && i%lateEvery == lateEvery-1 {
			ts -= 5_000 + rng.Int64N(5_000)
		}
		out = append(out, event{split: sp, key: fmt.Sprintf("k%d", rng.IntN(13)), v: rng.Int64N(1000) - 300,
			vNull: rng.IntN(17) == 0, d: float64(rng.IntN(100000)) / 4, ts: ts})
	}
	return out
}

// TestWindowAggregateMatchesOracle runs one split with late rows (so lateness is
// decided the same way however batches are cut) against a brute-force oracle.
func TestWindowAggregateMatchesOracle(t *testing.T) {
	for _, tc := range []struct {
		name    string
		splits  []string
		late    int
		workers int
	}{
		{"one split with late rows", []string{"s0"}, 97, 2},
		{"four splits in order", []string{"s0", "s1", "s2", "s3"}, 0, 3},
		{"one worker", []string{"s0"}, 53, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			events := genEvents(rng, oracleEvents, tc.splits, 400, tc.late)
			src := newMemSource(t, events, rng, mem)
			// The order the job sees: batches as the source interleaves them.
			var order []event
			idx := map[string]int{}
			bySplit := map[string][]event{}
			for _, e := range events {
				bySplit[e.split] = append(bySplit[e.split], e)
			}
			for _, b := range src.batches {
				n := int(b.Record.NumRows())
				order = append(order, bySplit[b.Split][idx[b.Split]:idx[b.Split]+n]...)
				idx[b.Split] += n
			}
			size, delay := int64(1000), int64(500)
			want, wantLate := oracle(events, order, size, delay)
			p := aggPlan(time.Second, 500*time.Millisecond, tc.workers)
			sink, errs, st := runJob(t, p, src)
			if tc.late == 0 && wantLate != 0 {
				t.Fatalf("generator produced %d late rows in an in-order case", wantLate)
			}
			if int(st.LateRows) != wantLate || len(errs.errs) != wantLate {
				t.Fatalf("late rows: job %d (%d error records), oracle %d", st.LateRows, len(errs.errs), wantLate)
			}
			for _, e := range errs.errs {
				if e.Kind != ErrorLate || e.Split == "" || len(e.Raw) == 0 {
					t.Fatalf("bad late error record %+v", e)
				}
			}
			if len(sink.rows) != len(want) {
				t.Fatalf("job emitted %d groups, oracle %d", len(sink.rows), len(want))
			}
			prevStart := ""
			for _, r := range sink.rows {
				start, err := time.Parse("2006-01-02 15:04:05.999Z", r[1])
				if err != nil {
					start, err = time.Parse(time.RFC3339Nano, r[1])
				}
				if err != nil {
					t.Fatalf("window_start %q: %v", r[1], err)
				}
				if r[1] < prevStart {
					t.Fatalf("windows out of order: %s after %s", r[1], prevStart)
				}
				prevStart = r[1]
				k := fmt.Sprintf("%s|%d", r[0], start.UnixMilli())
				g, ok := want[k]
				if !ok {
					t.Fatalf("job emitted group %s that the oracle does not have", k)
				}
				delete(want, k)
				got := fmt.Sprintf("%s %s %s %s", r[3], r[4], r[5], r[6])
				sum := "(null)"
				if g.sumN > 0 {
					sum = fmt.Sprint(g.sum)
				}
				exp := fmt.Sprintf("%d %s %s %s", g.n, sum, fmtFloat(g.min), fmtFloat(g.max))
				if got != exp {
					t.Fatalf("group %s: got %s, oracle %s", k, got, exp)
				}
				if g.sumN > 0 {
					var avg float64
					fmt.Sscan(r[7], &avg)
					if wantAvg := float64(g.sum) / float64(g.sumN); math.Abs(avg-wantAvg) > 1e-9*math.Max(1, math.Abs(wantAvg)) {
						t.Fatalf("group %s: avg %v, oracle %v", k, avg, wantAvg)
					}
				}
			}
			if len(want) != 0 {
				t.Fatalf("%d oracle groups never emitted", len(want))
			}
		})
	}
}

func fmtFloat(f float64) string {
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(f)
	a := b.NewFloat64Array()
	defer a.Release()
	return a.ValueStr(0)
}

// TestWatermarkWaitsForListedSplits checks that a split read after another
// does not find its windows closed.
func TestWatermarkWaitsForListedSplits(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	base := int64(1_767_225_600_000)
	var a, b []event
	for i := range 100 {
		a = append(a, event{split: "a", key: "x", v: 1, d: 1, ts: base + int64(i)*100})
		b = append(b, event{split: "b", key: "x", v: 1, d: 1, ts: base + int64(i)*100})
	}
	src := &memSource{splits: []string{"a", "b"}, batches: []SourceBatch{
		{Split: "a", Record: buildRecord(a, mem)}, {Split: "b", Record: buildRecord(b, mem)},
	}}
	_, errs, st := runJob(t, aggPlan(time.Second, 0, 2), src)
	if st.LateRows != 0 {
		t.Fatalf("%d rows of split b were late because split a ran ahead: %v", st.LateRows, errs.errs[0].Reason)
	}
	if st.RowsOut != 10 {
		t.Fatalf("emitted %d windows, want 10", st.RowsOut)
	}
}

func TestSortedOutputAndLimit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	events := genEvents(rng, 5000, []string{"s0"}, 0, 0)
	src := newMemSource(t, events, rng, mem)
	p := aggPlan(time.Second, 0, 2)
	p.Limit = 7
	sink, _, _ := runJob(t, p, src)
	src.Close()
	if len(sink.rows) != 7 {
		t.Fatalf("LIMIT 7 gave %d rows", len(sink.rows))
	}
	keys := make([]string, len(sink.rows))
	for i, r := range sink.rows {
		keys[i] = r[1] + "|" + r[0]
	}
	if !sort.StringsAreSorted(keys) {
		t.Fatalf("rows not in (window_start, key) order: %v", keys)
	}
}

// scriptSource returns scripted batches, advancing a fake clock before each.
type scriptSource struct {
	steps  []scriptStep
	i      int
	clock  *time.Time
	splits []string
}

type scriptStep struct {
	advance time.Duration
	batch   SourceBatch
}

func (s *scriptSource) Next(ctx context.Context) (SourceBatch, error) {
	if s.i == len(s.steps) {
		return SourceBatch{}, context.Canceled // an unbounded source: the job ends here without closing windows
	}
	st := s.steps[s.i]
	s.i++
	*s.clock = s.clock.Add(st.advance)
	return st.batch, nil
}
func (s *scriptSource) ActiveSplits() []string { return s.splits }
func (s *scriptSource) Close() error           { return nil }

// An event-time split that only sends heartbeats stops holding the watermark
// after the idle timeout, so the busy split's windows close while unbounded.
func TestIdleSplitReleasesWatermark(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	base := int64(1_767_225_600_000)
	now := time.UnixMilli(base)
	busy := func(from int64) SourceBatch {
		var evs []event
		for i := range 10 {
			evs = append(evs, event{split: "busy", key: "x", v: 1, d: 1, ts: from + int64(i)*100})
		}
		return SourceBatch{Split: "busy", Record: buildRecord(evs, mem)}
	}
	idle := SourceBatch{Split: "idle"}
	src := &scriptSource{clock: &now, splits: []string{"busy", "idle"}, steps: []scriptStep{
		{0, busy(base)},     // window [0s,1s)
		{time.Second, idle}, // idle split only heartbeats
		{time.Second, busy(base + 1000)},
		{2 * time.Second, idle}, // 4s without data from "idle": past the 3s timeout
		{0, busy(base + 2000)},  // now the watermark follows "busy" alone
	}}
	sink, errs := &collectSink{}, &collectErrors{}
	j, err := NewJob(aggPlan(time.Second, 0, 1), src, sink, errs, JobOptions{SourceName: "s", IdleTimeout: 3 * time.Second,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j.Run(ctx)
	if len(sink.rows) < 2 {
		t.Fatalf("with the idle split ignored, windows [0s,1s) and [1s,2s) must close; emitted %d rows", len(sink.rows))
	}
	if j.Stats().LateRows != 0 {
		t.Fatalf("%d late rows", j.Stats().LateRows)
	}
}

// Without the idle timeout the silent split holds every window open.
func TestSilentSplitHoldsWatermarkWithoutTimeout(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	base := int64(1_767_225_600_000)
	now := time.UnixMilli(base)
	var evs []event
	for i := range 50 {
		evs = append(evs, event{split: "busy", key: "x", v: 1, d: 1, ts: base + int64(i)*100})
	}
	src := &scriptSource{clock: &now, splits: []string{"busy", "idle"}, steps: []scriptStep{
		{0, SourceBatch{Split: "busy", Record: buildRecord(evs, mem)}},
		{time.Minute, SourceBatch{Split: "idle"}},
	}}
	sink := &collectSink{}
	j, err := NewJob(aggPlan(time.Second, 0, 1), src, sink, nil, JobOptions{IdleTimeout: -1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	j.Run(context.Background())
	if len(sink.rows) != 0 {
		t.Fatalf("a listed split that never reported must hold the watermark; %d windows closed", len(sink.rows))
	}
}

// hopOracle adds each event to every window [s, s+size) holding it (s aligned
// to slide) that is still open at the watermark after the event; an event with
// no open window is late.
func hopOracle(order []event, size, slide, delay int64) (map[string]oracleGroup, int) {
	return hopOracleLateness(order, size, slide, delay, 0)
}

// hopOracleOffset is hopOracle with window starts aligned to offset + k*slide.
func hopOracleOffset(order []event, size, slide, offset, delay int64) (map[string]oracleGroup, int) {
	shifted := make([]event, len(order))
	for i, e := range order {
		e.ts -= offset
		shifted[i] = e
	}
	groups, late := hopOracleLateness(shifted, size, slide, delay, 0)
	out := make(map[string]oracleGroup, len(groups))
	for k, g := range groups {
		var key string
		var start int64
		fmt.Sscanf(strings.Replace(k, "|", " ", 1), "%s %d", &key, &start)
		out[fmt.Sprintf("%s|%d", key, start+offset)] = g
	}
	return out, late
}

// hopOracleLateness keeps windows open for late rows until end+lateness <= watermark.
func hopOracleLateness(order []event, size, slide, delay, lateness int64) (map[string]oracleGroup, int) {
	clock := newOracleClock(order, delay)
	groups := map[string]oracleGroup{}
	late := 0
	for _, e := range order {
		wmBefore := clock.observe(e) // lateness is judged by the watermark before the row
		added := false
		for s := floorDiv(e.ts, slide) * slide; s > e.ts-size; s -= slide {
			if s+size+lateness <= wmBefore {
				continue
			}
			added = true
			k := fmt.Sprintf("%s|%d", e.key, s)
			g, ok := groups[k]
			if !ok {
				g = oracleGroup{min: math.Inf(1), max: math.Inf(-1)}
			}
			g.n++
			if !e.vNull {
				g.sum += e.v
				g.sumN++
			}
			g.min = math.Min(g.min, e.d)
			g.max = math.Max(g.max, e.d)
			groups[k] = g
		}
		if !added {
			late++
		}
	}
	return groups, late
}

func TestHopWindowsMatchOracle(t *testing.T) {
	for _, tc := range []struct {
		name        string
		size, slide int64
		splits      []string
		late        int
		offset      int64
	}{
		{"size a multiple of slide, late rows", 2000, 500, []string{"s0"}, 89, 0},
		{"size not a multiple of slide", 1000, 300, []string{"s0"}, 61, 0},
		{"several splits", 3000, 1000, []string{"a", "b", "c"}, 0, 0},
		{"with an offset", 2000, 500, []string{"s0"}, 89, 173},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(uint64(tc.size), uint64(tc.slide)))
			events := genEvents(rng, oracleEvents, tc.splits, 300, tc.late)
			src := newMemSource(t, events, rng, mem)
			var order []event
			idx := map[string]int{}
			bySplit := map[string][]event{}
			for _, e := range events {
				bySplit[e.split] = append(bySplit[e.split], e)
			}
			for _, b := range src.batches {
				n := int(b.Record.NumRows())
				order = append(order, bySplit[b.Split][idx[b.Split]:idx[b.Split]+n]...)
				idx[b.Split] += n
			}
			want, wantLate := hopOracleOffset(order, tc.size, tc.slide, tc.offset, 400)
			p := aggPlan(time.Duration(tc.size)*time.Millisecond, 400*time.Millisecond, 2)
			p.Agg.Window = sql.Window{Kind: sql.Hop, Size: time.Duration(tc.size) * time.Millisecond, Slide: time.Duration(tc.slide) * time.Millisecond,
				Offset: time.Duration(tc.offset) * time.Millisecond}
			sink, _, st := runJob(t, p, src)
			if int(st.LateRows) != wantLate {
				t.Fatalf("late rows: job %d, oracle %d", st.LateRows, wantLate)
			}
			if len(sink.rows) != len(want) {
				t.Fatalf("job emitted %d groups, oracle %d", len(sink.rows), len(want))
			}
			for _, r := range sink.rows {
				start, err := time.Parse("2006-01-02 15:04:05.999Z", r[1])
				if err != nil {
					start, _ = time.Parse(time.RFC3339Nano, r[1])
				}
				k := fmt.Sprintf("%s|%d", r[0], start.UnixMilli())
				g, ok := want[k]
				if !ok {
					t.Fatalf("job emitted group %s the oracle lacks", k)
				}
				sum := "(null)"
				if g.sumN > 0 {
					sum = fmt.Sprint(g.sum)
				}
				if got, exp := fmt.Sprintf("%s %s %s %s", r[3], r[4], r[5], r[6]), fmt.Sprintf("%d %s %s %s", g.n, sum, fmtFloat(g.min), fmtFloat(g.max)); got != exp {
					t.Fatalf("group %s: got %s, oracle %s", k, got, exp)
				}
			}
		})
	}
}

// With allowed lateness a closed window keeps its state: rows within the
// lateness update it and the (window, key) result is emitted again; the last
// version of each equals the oracle that counts those rows in.
func TestAllowedLatenessUpdatesWindows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(11, 12))
	events := genEvents(rng, oracleEvents, []string{"s0"}, 300, 71)
	// Some rows late by a little (within lateness), some by a lot.
	for i := range events {
		if i%53 == 52 {
			events[i].ts -= 1_500
		}
	}
	src := newMemSource(t, events, rng, mem)
	var order []event
	n := 0
	for _, b := range src.batches {
		k := int(b.Record.NumRows())
		order = append(order, events[n:n+k]...)
		n += k
	}
	const size, delay, lateness = 1000, 200, 2000
	want, wantLate := hopOracleLateness(order, size, size, delay, lateness)
	_, lateWithout := hopOracleLateness(order, size, size, delay, 0)
	if lateWithout <= wantLate {
		t.Fatalf("test data: lateness saves no rows (%d late without, %d with)", lateWithout, wantLate)
	}
	p := aggPlan(size*time.Millisecond, delay*time.Millisecond, 2)
	p.Agg.AllowedLateness = lateness * time.Millisecond
	sink, _, st := runJob(t, updating(p), src)
	if int(st.LateRows) != wantLate {
		t.Fatalf("late rows: job %d, oracle %d", st.LateRows, wantLate)
	}
	rows, retracted := applyChanges(t, sink.rows)
	final := byKeyAndStart(t, rows)
	if retracted == 0 {
		t.Fatalf("no window was updated: %d changes for %d windows", len(sink.rows), len(final))
	}
	if len(final) != len(want) {
		t.Fatalf("%d windows, oracle %d", len(final), len(want))
	}
	for k, g := range want {
		r := final[k]
		if r == nil {
			t.Fatalf("window %s missing", k)
		}
		sum := "(null)"
		if g.sumN > 0 {
			sum = fmt.Sprint(g.sum)
		}
		if got, exp := fmt.Sprintf("%s %s %s %s", r[3], r[4], r[5], r[6]), fmt.Sprintf("%d %s %s %s", g.n, sum, fmtFloat(g.min), fmtFloat(g.max)); got != exp {
			t.Fatalf("window %s: last version %s, oracle %s", k, got, exp)
		}
	}
}

// emit_every sends open windows' changed rows early; the last version of each
// window and key still equals the oracle, and early rows did go out.
func TestEmitEveryEarlyResults(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(21, 22))
	events := genEvents(rng, 20_000, []string{"s0"}, 200, 0)
	src := newMemSource(t, events, rng, mem)
	const size, delay = 10_000, 300
	want, _ := hopOracle(events, size, size, delay)
	p := aggPlan(size*time.Millisecond, delay*time.Millisecond, 2)
	p.Agg.EmitEvery = time.Second
	sink, _, _ := runJob(t, updating(p), src)
	rows, _ := applyChanges(t, sink.rows)
	final := byKeyAndStart(t, rows)
	if len(sink.rows) < 2*len(final) {
		t.Fatalf("%d rows for %d windows: windows of 10s with emit_every 1s should emit early rows", len(sink.rows), len(final))
	}
	if len(final) != len(want) {
		t.Fatalf("%d windows, oracle %d", len(final), len(want))
	}
	for k, g := range want {
		r := final[k]
		if r == nil || r[3] != fmt.Sprint(g.n) {
			t.Fatalf("window %s: last version %v, oracle count %d", k, r, g.n)
		}
	}
}

// A row cannot make itself late: with no watermark delay, rows in the last
// millisecond of their window (the newest time seen) still count.
func TestRowInLastMillisecondIsNotLate(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	base := int64(1_767_225_600_000)
	evs := []event{{split: "s0", key: "x", v: 1, d: 1, ts: base + 999}, {split: "s0", key: "x", v: 1, d: 1, ts: base + 999},
		{split: "s0", key: "x", v: 1, d: 1, ts: base + 1500}}
	src := &memSource{splits: []string{"s0"}, batches: []SourceBatch{{Split: "s0", Record: buildRecord(evs, mem)}}}
	sink, errs, st := runJob(t, aggPlan(time.Second, 0, 1), src)
	if st.LateRows != 0 {
		t.Fatalf("%d late rows: %v", st.LateRows, errs.errs)
	}
	if len(sink.rows) != 2 || sink.rows[0][3] != "2" {
		t.Fatalf("windows %v, want [0s,1s) with 2 rows and [1s,2s) with 1", sink.rows)
	}
}

// oracleClock is the watermark as the oracles model it, written apart from
// the runtime's: per split the largest event time; once every split has
// reported, the minimum over splits minus the delay, never going back.
type oracleClock struct {
	splitMax map[string]int64
	splits   int
	delay    int64
	wm       int64
}

func newOracleClock(order []event, delay int64) *oracleClock {
	all := map[string]bool{}
	for _, e := range order {
		all[e.split] = true
	}
	return &oracleClock{splitMax: map[string]int64{}, splits: len(all), delay: delay, wm: math.MinInt64}
}

// observe returns the watermark before e, then folds e in.
func (c *oracleClock) observe(e event) int64 {
	before := c.wm
	if m, ok := c.splitMax[e.split]; !ok || e.ts > m {
		c.splitMax[e.split] = e.ts
	}
	if len(c.splitMax) == c.splits {
		lo := int64(math.MaxInt64)
		for _, m := range c.splitMax {
			lo = min(lo, m-c.delay)
		}
		c.wm = max(c.wm, lo)
	}
	return before
}
