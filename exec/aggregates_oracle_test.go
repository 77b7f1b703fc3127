package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// The statistical, time-ordered and sketch aggregates through the whole job
// (scan, exchange, windows over workers, output), against a brute-force
// oracle over generated events with NULLs, disorder, ties in time and late
// rows: VAR/STDDEV within 1e-9 relative of an exact rational computation,
// FIRST/LAST_VALUE, TOP_K and the DISTINCT aggregates exact, the sketches
// within their documented error (exact while groups are small).

// newAggs are the aggregates under test, over scanSchema (k, v, d, ts).
func newAggs() []planner.Aggregate {
	col := func(i int) *expr.Column {
		return &expr.Column{Index: i, Name: scanSchema[i].Name, T: scanSchema[i].Type}
	}
	return []planner.Aggregate{
		{Fn: "stddev_pop", Arg: col(1), T: types.DoubleType},
		{Fn: "stddev_samp", Arg: col(2), T: types.DoubleType},
		{Fn: "var_pop", Arg: col(2), T: types.DoubleType},
		{Fn: "var_samp", Arg: col(1), T: types.DoubleType},
		{Fn: "first_value", Arg: col(1), T: types.BigIntType},
		{Fn: "last_value", Arg: col(2), T: types.DoubleType},
		{Fn: "approx_count_distinct", Arg: col(1), T: types.BigIntType},
		{Fn: "approx_percentile", Arg: col(2), Param: 0.9, T: types.DoubleType},
		{Fn: "top_k", Arg: col(1), Param: 3, T: types.JSONType},
		{Fn: "sum", Arg: col(1), Distinct: true, T: types.BigIntType},
		{Fn: "avg", Arg: col(1), Distinct: true, T: types.DoubleType},
		{Fn: "last_value", Arg: col(3), T: types.TimestampType},
	}
}

// newAggsPlan groups by k (or nothing) and w, selecting every AggSchema column.
func newAggsPlan(w sql.Window, keyed bool, delay time.Duration, workers int) *planner.Physical {
	q := &sql.Query{Input: scanSchema, Window: &w}
	if keyed {
		q.GroupBy = []expr.Expr{&expr.Column{Index: 0, Name: "k", T: types.VarcharType}}
		q.GroupNames = []string{"k"}
	}
	aggs := newAggs()
	for _, a := range aggs {
		q.Aggregates = append(q.Aggregates, sql.Aggregate{Fn: a.Fn, Arg: a.Arg, Distinct: a.Distinct, Param: a.Param, T: a.T})
	}
	schema := q.AggSchema()
	var sel []expr.Expr
	for i, c := range schema {
		sel = append(sel, &expr.Column{Index: i, Name: c.Name, T: c.Type})
	}
	return &planner.Physical{
		Source: "s", ScanSchema: scanSchema, Output: schema, Select: sel, Limit: -1,
		Agg: &planner.AggregateStage{Window: w, TimeColumn: 3, WatermarkDelay: delay, EventTime: true,
			KeyExprs: q.GroupBy, KeyNames: q.GroupNames, Aggs: aggs, Workers: workers, AggSchema: schema},
	}
}

// orow is an event as one window saw it, with its arrival number.
type orow struct {
	event
	seq int
}

// windowRowsOracle places each event (in the order the job reads them) in
// every window [s, s+size) holding it (s aligned to slide) that is still open
// at the watermark after the event, keyed by "key|start" ("|start" unkeyed).
func windowRowsOracle(order []event, size, slide, delay int64, keyed bool) (map[string][]orow, int) {
	clock := newOracleClock(order, delay)
	groups := map[string][]orow{}
	late := 0
	for i, e := range order {
		wmBefore := clock.observe(e) // lateness is judged by the watermark before the row
		added := false
		for s := floorDiv(e.ts, slide) * slide; s > e.ts-size; s -= slide {
			if s+size <= wmBefore {
				continue
			}
			added = true
			k := fmt.Sprintf("|%d", s)
			if keyed {
				k = e.key + k
			}
			groups[k] = append(groups[k], orow{e, i})
		}
		if !added {
			late++
		}
	}
	return groups, late
}

// expectAggs computes, by brute force, what newAggs give for one group's rows
// (in arrival order): each as the job's text, or a float64 to compare within
// a tolerance, or a check function for a sketch.
func expectAggs(rows []orow) []any {
	var vs, ds []float64
	for _, r := range rows {
		if !r.vNull {
			vs = append(vs, float64(r.v))
		}
		ds = append(ds, r.d)
	}
	variance := func(xs []float64, samp, sqrt bool) any {
		if len(xs) == 0 || (samp && len(xs) == 1) {
			return "(null)"
		}
		v := exactVariance(xs, samp)
		if sqrt {
			v = math.Sqrt(v)
		}
		return v
	}
	// FIRST_VALUE(v): smallest time, first arrival; LAST_VALUE(d), LAST_VALUE(ts):
	// largest time, last arrival.
	first, last := -1, -1
	for i, r := range rows {
		if !r.vNull && (first < 0 || r.ts < rows[first].ts) {
			first = i
		}
		if last < 0 || r.ts >= rows[last].ts {
			last = i
		}
	}
	firstV := "(null)"
	if first >= 0 {
		firstV = fmt.Sprint(rows[first].v)
	}
	counts := map[int64]int64{}
	for _, r := range rows {
		if !r.vNull {
			counts[r.v]++
		}
	}
	distinct := make([]int64, 0, len(counts))
	for v := range counts {
		distinct = append(distinct, v)
	}
	// TOP_K(v, 3): by count descending, then value ascending.
	slices.SortFunc(distinct, func(a, b int64) int {
		if counts[a] != counts[b] {
			return int(counts[b] - counts[a])
		}
		return int(a - b)
	})
	topK := "(null)"
	if len(distinct) > 0 {
		var parts []string
		for _, v := range distinct[:min(3, len(distinct))] {
			parts = append(parts, fmt.Sprintf(`{"value":%d,"count":%d}`, v, counts[v]))
		}
		topK = "[" + strings.Join(parts, ",") + "]"
	}
	sumD, avgD := any("(null)"), any("(null)")
	if len(distinct) > 0 {
		s := int64(0)
		for _, v := range distinct {
			s += v
		}
		sumD, avgD = fmt.Sprint(s), float64(s)/float64(len(distinct))
	}
	nDistinct := float64(len(distinct))
	sortedD := slices.Clone(ds)
	slices.Sort(sortedD)
	p90 := exactPercentile(sortedD, 0.9)
	return []any{
		variance(vs, false, true),
		variance(ds, true, true),
		variance(ds, false, false),
		variance(vs, true, false),
		firstV,
		rows[last].d,
		func(got float64) bool { return math.Abs(got-nDistinct) <= math.Ceil(0.02*nDistinct) },
		func(got float64) bool {
			if len(ds) <= percentileExact {
				return got == p90
			}
			r := float64(sort.SearchFloat64s(sortedD, got)) / float64(len(sortedD))
			return math.Abs(r-0.9) <= 0.001
		},
		topK,
		sumD,
		avgD,
		time.UnixMilli(rows[last].ts).UTC().Format("2006-01-02T15:04:05.000Z"),
	}
}

func TestNewAggregatesMatchOracle(t *testing.T) {
	for _, tc := range []struct {
		name        string
		kind        sql.WindowKind
		size, slide int64
		keyed       bool
		splits      []string
		n, late     int
		workers     int
	}{
		{"tumble, keyed, late rows", sql.Tumble, 1000, 1000, true, []string{"s0"}, 30_000, 97, 2},
		{"tumble, keyed, four splits", sql.Tumble, 1000, 1000, true, []string{"s0", "s1", "s2", "s3"}, 30_000, 0, 3},
		{"hop, keyed, late rows", sql.Hop, 2000, 500, true, []string{"s0"}, 20_000, 61, 2},
		{"hop, size not a multiple of slide", sql.Hop, 1000, 300, true, []string{"a", "b"}, 20_000, 0, 2},
		{"tumble, one large group per window (sketches past their exact range)", sql.Tumble, 60_000, 60_000, false, []string{"s0", "s1", "s2", "s3"}, 60_000, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(uint64(tc.size), uint64(tc.n)))
			events := genEvents(rng, tc.n, tc.splits, 400, tc.late)
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
			const delay = 500
			want, wantLate := windowRowsOracle(order, tc.size, tc.slide, delay, tc.keyed)
			w := sql.Window{Kind: tc.kind, Size: time.Duration(tc.size) * time.Millisecond}
			if tc.kind == sql.Hop {
				w.Slide = time.Duration(tc.slide) * time.Millisecond
			}
			sink, _, st := runJob(t, newAggsPlan(w, tc.keyed, delay*time.Millisecond, tc.workers), src)
			if int(st.LateRows) != wantLate {
				t.Fatalf("late rows: job %d, oracle %d", st.LateRows, wantLate)
			}
			if len(sink.rows) != len(want) {
				t.Fatalf("job emitted %d groups, oracle %d", len(sink.rows), len(want))
			}
			largest := checkNewAggs(t, sink.rows, want, tc.keyed)
			t.Logf("%d windows x groups, %d late rows, largest group %d rows: all match", len(sink.rows), wantLate, largest)
		})
	}
}

// checkNewAggs compares the job's rows (k?, window_start, window_end, the
// newAggs) with the oracle's rows per "key|start" and returns the size of the
// largest group.
func checkNewAggs(t *testing.T, rows [][]string, want map[string][]orow, keyed bool) int {
	t.Helper()
	largest := 0
	for _, r := range rows {
		key := ""
		if keyed {
			key, r = r[0], r[1:]
		}
		k := fmt.Sprintf("%s|%d", key, parseTS(t, r[0]))
		group, ok := want[k]
		if !ok {
			t.Fatalf("job emitted group %s the oracle lacks", k)
		}
		largest = max(largest, len(group))
		for i, exp := range expectAggs(group) {
			got := r[2+i]
			name := newAggs()[i].Fn
			switch e := exp.(type) {
			case string:
				if name == "last_value" && strings.HasSuffix(e, "Z") { // a timestamp
					got = time.UnixMilli(parseTS(t, got)).UTC().Format("2006-01-02T15:04:05.000Z")
				}
				if got != e {
					t.Fatalf("group %s (%d rows): %s = %s, oracle %s", k, len(group), name, got, e)
				}
			case float64:
				g, err := strconv.ParseFloat(got, 64)
				if err != nil || !closeRel(g, e, 1e-9) {
					t.Fatalf("group %s (%d rows): %s = %s, oracle %v", k, len(group), name, got, e)
				}
			case func(float64) bool:
				g, err := strconv.ParseFloat(got, 64)
				if err != nil || !e(g) {
					t.Fatalf("group %s (%d rows): %s = %s is beyond its documented error", k, len(group), name, got)
				}
			}
		}
	}
	return largest
}

// keyWindowRowsOracle is keyWindowOracle (dynwindow_test.go) keeping each
// window's rows, in arrival order, keyed "key|start": SESSION merges the
// spans [t, t+gap) of a key that overlap (a bridging row merges sessions and
// their rows), STAGGER opens [t, t+size) at a key's row no open window holds.
func keyWindowRowsOracle(order []event, session bool, span, delay int64) (map[string][]orow, int) {
	type win struct {
		key        string
		start, end int64
		rows       []orow
		gone       bool
	}
	clock := newOracleClock(order, delay)
	var wins []*win
	late := 0
	for i, e := range order {
		wmBefore := clock.observe(e) // lateness is judged by the watermark before the row
		open := func(w *win) bool { return w.key == e.key && w.end > wmBefore && !w.gone }
		var hit []*win
		for _, w := range wins {
			switch {
			case !open(w):
			case session && w.start < e.ts+span && e.ts < w.end:
				hit = append(hit, w)
			case !session && w.start <= e.ts && e.ts < w.end && (len(hit) == 0 || w.start > hit[0].start):
				hit = []*win{w}
			}
		}
		if len(hit) == 0 {
			if e.ts+span <= wmBefore {
				late++
				continue
			}
			wins = append(wins, &win{key: e.key, start: e.ts, end: e.ts + span, rows: []orow{{e, i}}})
			continue
		}
		first := hit[0]
		if session {
			first.start, first.end = min(first.start, e.ts), max(first.end, e.ts+span)
		}
		for _, w := range hit[1:] {
			first.start, first.end = min(first.start, w.start), max(first.end, w.end)
			first.rows = append(first.rows, w.rows...)
			w.gone = true
		}
		first.rows = append(first.rows, orow{e, i})
		slices.SortFunc(first.rows, func(a, b orow) int { return a.seq - b.seq })
	}
	out := map[string][]orow{}
	for _, w := range wins {
		if !w.gone {
			out[fmt.Sprintf("%s|%d", w.key, w.start)] = w.rows
		}
	}
	return out, late
}

// The same aggregates over SESSION (whose merges fold states together with
// mergeFrom) and STAGGER windows.
func TestNewAggregatesPerKeyWindowsMatchOracle(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    sql.WindowKind
		span    int64
		splits  []string
		late    int
		workers int
	}{
		{"session with late rows", sql.Session, 150, []string{"s0"}, 53, 2},
		{"session several splits", sql.Session, 400, []string{"a", "b"}, 0, 3},
		{"stagger with late rows", sql.Stagger, 700, []string{"s0"}, 47, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(uint64(tc.span), 10))
			events := genEvents(rng, 20_000, tc.splits, 300, tc.late)
			for i := range events { // sparser keys make sessions end and restart
				events[i].ts += int64(i%5) * 37
			}
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
			const delay = 400
			want, wantLate := keyWindowRowsOracle(order, tc.kind == sql.Session, tc.span, delay)
			d := time.Duration(tc.span) * time.Millisecond
			sink, _, st := runJob(t, newAggsPlan(sql.Window{Kind: tc.kind, Gap: d, Size: d}, true, delay*time.Millisecond, tc.workers), src)
			if int(st.LateRows) != wantLate {
				t.Fatalf("late rows: job %d, oracle %d", st.LateRows, wantLate)
			}
			if len(sink.rows) != len(want) {
				t.Fatalf("job emitted %d windows, oracle %d", len(sink.rows), len(want))
			}
			largest := checkNewAggs(t, sink.rows, want, true)
			t.Logf("%d windows, %d late rows, largest %d rows: all match", len(sink.rows), wantLate, largest)
		})
	}
}
