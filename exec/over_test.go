package exec

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
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
	mem := &countingAllocator{Allocator: memory.NewGoAllocator()}
	defer func() {
		if n := mem.n.Load(); n != 0 {
			t.Errorf("%d bytes of Arrow memory not released", n)
		}
	}()
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

// countingAllocator counts the bytes allocated and not freed: a leak check
// as strict as memory.CheckedAllocator's total, without its cost of
// recording a stack per allocation.
type countingAllocator struct {
	memory.Allocator
	n atomic.Int64
}

func (a *countingAllocator) Allocate(size int) []byte {
	a.n.Add(int64(size))
	return a.Allocator.Allocate(size)
}

func (a *countingAllocator) Reallocate(size int, b []byte) []byte {
	a.n.Add(int64(size - len(b)))
	return a.Allocator.Reallocate(size, b)
}

func (a *countingAllocator) Free(b []byte) {
	a.n.Add(-int64(len(b)))
	a.Allocator.Free(b)
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

// overGen generates n events over splits, in arrival order (ids 0..n-1):
// each split's event times advance 0-19 ms a row with up to disorder ms of
// jitter, and every lateEvery-th row (if > 0) lies lateBy to lateBy+3s
// behind. Keys are k0..k(keys-1) and now and then NULL; v and d are NULL
// about one row in 20. ROWTIME advances 0-4 ms a row per split.
func overGen(rng *rand.Rand, n int, splits []string, keys int, disorder, lateBy int64, lateEvery int) []overEvent {
	base := int64(1_767_225_600_000)
	clock, arrival := map[string]int64{}, map[string]int64{}
	out := make([]overEvent, 0, n)
	for len(out) < n {
		sp := splits[rng.IntN(len(splits))]
		for range 1 + rng.IntN(200) {
			if len(out) == n {
				break
			}
			clock[sp] += rng.Int64N(20)
			arrival[sp] += rng.Int64N(5)
			e := overEvent{split: sp, id: int64(len(out)), k: fmt.Sprintf("k%d", rng.IntN(keys)), kNull: rng.IntN(97) == 0,
				v: rng.Int64N(2001) - 1000, vNull: rng.IntN(20) == 0, d: float64(rng.IntN(200001)-100000) / 4, dNull: rng.IntN(20) == 0,
				ts: base + clock[sp] - rng.Int64N(disorder+1), rowtime: base + arrival[sp]}
			if lateEvery > 0 && len(out)%lateEvery == lateEvery-1 {
				e.ts -= lateBy + rng.Int64N(3000)
			}
			out = append(out, e)
		}
	}
	return out
}

// ofn describes one window function for the oracle and renders it as SQL.
type ofn struct {
	fn       string // count_star, count, sum, avg, min, max, first_value, last_value, stddev_pop, var_samp, row_number, lag, lead
	col      string // v or d
	frame    string // "", "rows", "range"
	pre, fol int64  // rows or milliseconds
	k        int64  // lag, lead offset
	def      string // lag, lead default as SQL; "" for none
}

func (f ofn) sql(order string) string {
	arg := f.col
	switch f.fn {
	case "count_star":
		return f.over("COUNT(*)", order)
	case "row_number":
		return f.over("ROW_NUMBER()", order)
	case "lag", "lead":
		arg = fmt.Sprintf("%s, %d", f.col, f.k)
		if f.def != "" {
			arg += ", " + f.def
		}
	}
	return f.over(fmt.Sprintf("%s(%s)", strings.ToUpper(f.fn), arg), order)
}

func (f ofn) over(call, order string) string {
	spec := "PARTITION BY k ORDER BY " + order
	unit := func(n int64) string {
		if f.frame == "range" {
			return fmt.Sprintf("INTERVAL '%d' MILLISECOND", n)
		}
		return fmt.Sprint(n)
	}
	switch {
	case f.frame == "":
	case f.fol > 0:
		spec += fmt.Sprintf(" %s BETWEEN CURRENT ROW AND %s FOLLOWING", strings.ToUpper(f.frame), unit(f.fol))
	default:
		spec += fmt.Sprintf(" %s %s PRECEDING", strings.ToUpper(f.frame), unit(f.pre))
	}
	return call + " OVER (" + spec + ")"
}

// oval is an oracle value: NULL, an integer or a float.
type oval struct {
	null  bool
	i     int64
	f     float64
	float bool
}

func (e overEvent) val(col string) oval {
	if col == "v" {
		return oval{null: e.vNull, i: e.v}
	}
	return oval{null: e.dNull, f: e.d, float: true}
}

func (o oval) num() float64 {
	if o.float {
		return o.f
	}
	return float64(o.i)
}

// parseDefault reads a default as the oracle's value in the column's type.
func parseDefault(def, col string) oval {
	if def == "" {
		return oval{null: true}
	}
	if col == "d" {
		f, _ := strconv.ParseFloat(def, 64)
		return oval{f: f, float: true}
	}
	i, _ := strconv.ParseInt(def, 10, 64)
	return oval{i: i}
}

// overOracle computes every window function by brute force: rows are taken
// in arrival order, WHERE (id % 11 <> 3 when filter) first, then a row is
// late when its time is below the watermark after it (the minimum over splits
// of their largest time minus delay, once each has a row; never decreasing);
// the rest are ordered per key by (time, arrival) and every frame is scanned.
func overOracle(evs []overEvent, fns []ofn, delay int64, rowtime, filter bool) (map[int64][]oval, int) {
	timeOf := func(e overEvent) int64 {
		if rowtime {
			return e.rowtime
		}
		return e.ts
	}
	splits := map[string]bool{}
	for _, e := range evs {
		splits[e.split] = true
	}
	splitMax := map[string]int64{}
	wm := int64(math.MinInt64)
	late := 0
	parts := map[string][]overEvent{}
	var keys []string
	for _, e := range evs {
		t := timeOf(e)
		if m, ok := splitMax[e.split]; !ok || t > m {
			splitMax[e.split] = t
		}
		if len(splitMax) == len(splits) {
			lo := int64(math.MaxInt64)
			for _, m := range splitMax {
				lo = min(lo, m-delay)
			}
			wm = max(wm, lo)
		}
		if filter && e.id%11 == 3 {
			continue
		}
		if t < wm {
			late++
			continue
		}
		key := "\x00null"
		if !e.kNull {
			key = e.k
		}
		if _, ok := parts[key]; !ok {
			keys = append(keys, key)
		}
		parts[key] = append(parts[key], e)
	}
	out := map[int64][]oval{}
	for _, key := range keys {
		L := parts[key]
		slices.SortStableFunc(L, func(a, b overEvent) int { // stable: arrival order on ties
			return int(max(-1, min(1, timeOf(a)-timeOf(b))))
		})
		for i, e := range L {
			t := timeOf(e)
			row := make([]oval, len(fns))
			for fi, f := range fns {
				switch f.fn {
				case "row_number":
					row[fi] = oval{i: int64(i + 1)}
					continue
				case "lag", "lead":
					j := i - int(f.k)
					if f.fn == "lead" {
						j = i + int(f.k)
					}
					def := parseDefault(f.def, f.col)
					switch {
					case j < 0 || j >= len(L):
						row[fi] = def
					case f.frame == "range" && f.fn == "lag" && timeOf(L[j]) < t-f.pre:
						row[fi] = def
					case f.frame == "range" && f.fn == "lead" && timeOf(L[j]) > t+f.fol:
						row[fi] = def
					default:
						row[fi] = L[j].val(f.col)
					}
					continue
				}
				lo := 0
				if f.frame == "rows" {
					lo = max(0, i-int(f.pre))
				} else {
					lo = sort.Search(i, func(j int) bool { return timeOf(L[j]) >= t-f.pre })
				}
				var vals []oval
				n := 0
				for _, x := range L[lo : i+1] {
					n++
					if f.col != "" {
						if v := x.val(f.col); !v.null {
							vals = append(vals, v)
						}
					}
				}
				row[fi] = oracleAgg(f.fn, f.col, n, vals)
			}
			out[e.id] = row
		}
	}
	return out, late
}

func oracleAgg(fn, col string, n int, vals []oval) oval {
	float := col == "d"
	switch fn {
	case "count_star":
		return oval{i: int64(n)}
	case "count":
		return oval{i: int64(len(vals))}
	}
	if len(vals) == 0 {
		return oval{null: true}
	}
	switch fn {
	case "sum", "avg":
		var si int64
		var sf float64
		for _, v := range vals {
			si += v.i
			sf += v.f
		}
		switch {
		case fn == "avg" && float:
			return oval{f: sf / float64(len(vals)), float: true}
		case fn == "avg":
			return oval{f: float64(si) / float64(len(vals)), float: true}
		case float:
			return oval{f: sf, float: true}
		}
		return oval{i: si}
	case "min", "max":
		best := vals[0]
		for _, v := range vals[1:] {
			if (fn == "min") == (v.num() < best.num()) && v.num() != best.num() {
				best = v
			}
		}
		return best
	case "first_value":
		return vals[0]
	case "last_value":
		return vals[len(vals)-1]
	case "stddev_pop", "var_samp":
		mean := 0.0
		for _, v := range vals {
			mean += v.num()
		}
		mean /= float64(len(vals))
		m2 := 0.0
		for _, v := range vals {
			m2 += (v.num() - mean) * (v.num() - mean)
		}
		if fn == "stddev_pop" {
			return oval{f: math.Sqrt(m2 / float64(len(vals))), float: true}
		}
		if len(vals) < 2 {
			return oval{null: true}
		}
		return oval{f: m2 / float64(len(vals)-1), float: true}
	}
	panic("oracle: no " + fn)
}

// checkOver compares a job's rows (id, then one column per function) with
// the oracle. Averages and deviations may differ in the last bits (1e-9
// relative); everything else must be equal.
func checkOver(t *testing.T, rows [][]string, fns []ofn, want map[int64][]oval) {
	t.Helper()
	seen := map[int64]bool{}
	for _, r := range rows {
		id, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil {
			t.Fatalf("row %v: id: %v", r, err)
		}
		if seen[id] {
			t.Fatalf("row %d emitted twice", id)
		}
		seen[id] = true
		w, ok := want[id]
		if !ok {
			t.Fatalf("row %d emitted, but the oracle has it late or filtered: %v", id, r)
		}
		for fi, f := range fns {
			got, exp := r[1+fi], w[fi]
			if exp.null || got == "(null)" {
				if !(exp.null && got == "(null)") {
					t.Fatalf("row %d: %s = %s, oracle %+v", id, f.sql("ts"), got, exp)
				}
				continue
			}
			if !exp.float {
				if got != strconv.FormatInt(exp.i, 10) {
					t.Fatalf("row %d: %s = %s, oracle %d", id, f.sql("ts"), got, exp.i)
				}
				continue
			}
			g, err := strconv.ParseFloat(got, 64)
			if err != nil {
				t.Fatalf("row %d: %s = %q: %v", id, f.sql("ts"), got, err)
			}
			tol := 0.0
			switch f.fn {
			case "avg", "stddev_pop", "var_samp":
				tol = 1e-9 * math.Max(1, math.Abs(exp.f))
			}
			if math.Abs(g-exp.f) > tol {
				t.Fatalf("row %d: %s = %v, oracle %v", id, f.sql("ts"), g, exp.f)
			}
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("job emitted %d rows, oracle %d", len(seen), len(want))
	}
}

// TestOverMatchesOracle runs RANGE and ROWS aggregates, LAG, LEAD and
// ROW_NUMBER over 120,000 generated events per case (24,000 under -race):
// random keys, NULLs, disorder within the watermark delay, late rows beyond
// it, one or several shards, several workers. Every output row must equal a
// brute-force oracle's.
func TestOverMatchesOracle(t *testing.T) {
	rangeFns := []ofn{
		{fn: "count_star", frame: "range", pre: 2000}, {fn: "count", col: "v", frame: "range", pre: 2000},
		{fn: "sum", col: "v", frame: "range", pre: 2000}, {fn: "avg", col: "v", frame: "range", pre: 2000},
		{fn: "min", col: "d", frame: "range", pre: 2000}, {fn: "max", col: "d", frame: "range", pre: 2000},
		{fn: "sum", col: "d", frame: "range", pre: 2000}, {fn: "avg", col: "d", frame: "range", pre: 2000},
		{fn: "max", col: "v", frame: "range", pre: 300}, {fn: "sum", col: "v", frame: "range", pre: 0},
		{fn: "first_value", col: "d", frame: "range", pre: 2000}, {fn: "last_value", col: "v", frame: "range", pre: 2000},
		{fn: "stddev_pop", col: "d", frame: "range", pre: 2000}, {fn: "var_samp", col: "v", frame: "range", pre: 700},
	}
	rowsFns := []ofn{
		{fn: "count_star", frame: "rows", pre: 7}, {fn: "count", col: "d", frame: "rows", pre: 7},
		{fn: "sum", col: "v", frame: "rows", pre: 7}, {fn: "avg", col: "d", frame: "rows", pre: 7},
		{fn: "min", col: "v", frame: "rows", pre: 7}, {fn: "max", col: "d", frame: "rows", pre: 7},
		{fn: "sum", col: "d", frame: "rows", pre: 0}, {fn: "min", col: "d", frame: "rows", pre: 40},
		{fn: "first_value", col: "v", frame: "rows", pre: 3}, {fn: "stddev_pop", col: "v", frame: "rows", pre: 12},
	}
	navFns := []ofn{
		{fn: "row_number"}, {fn: "lag", col: "v", k: 1}, {fn: "lag", col: "d", k: 3, def: "-1.5"},
		{fn: "lag", col: "v", k: 2, def: "-9", frame: "range", pre: 1000}, {fn: "lag", col: "v", k: 0},
		{fn: "lead", col: "v", k: 1}, {fn: "lead", col: "d", k: 2, def: "0.25"},
		{fn: "lead", col: "v", k: 1, def: "-7", frame: "range", fol: 300},
		{fn: "lead", col: "v", k: 3, frame: "rows", fol: 3},
	}
	for _, tc := range []struct {
		name             string
		fns              []ofn
		splits           []string
		delay            int64
		lateEvery        int
		rowtime, filter  bool
		workers, batches int
	}{
		{"RANGE aggregates, one shard, late rows", rangeFns, []string{"s0"}, 500, 89, false, true, 3, 300},
		{"RANGE aggregates, three shards, late rows", rangeFns, []string{"a", "b", "c"}, 800, 131, false, false, 2, 200},
		{"ROWS aggregates, one shard, late rows", rowsFns, []string{"s0"}, 500, 97, false, false, 3, 300},
		{"ROWS aggregates, two shards", rowsFns, []string{"a", "b"}, 1000, 0, false, true, 1, 150},
		{"LAG LEAD ROW_NUMBER, one shard, late rows", navFns, []string{"s0"}, 500, 61, false, true, 3, 300},
		{"LAG LEAD ROW_NUMBER, three shards", navFns, []string{"a", "b", "c"}, 600, 0, false, false, 2, 100},
		{"ROWTIME, two shards", append(append([]ofn{}, rangeFns[:4]...), navFns[:6]...), []string{"a", "b"}, 0, 0, true, false, 2, 200},
		// Rows exactly at the watermark are on time: zero delay (equal times
		// follow each other), and disorder up to the whole delay.
		{"zero delay, equal times", append(append([]ofn{}, rangeFns[:4]...), navFns...), []string{"s0"}, 0, 73, false, false, 2, 50},
		{"disorder up to the delay, two shards", append(append([]ofn{}, rowsFns[:3]...), navFns...), []string{"a", "b"}, -300, 0, false, true, 3, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(len(tc.name)), uint64(tc.delay)))
			// A negative delay in the table means: that delay, with disorder up to all of it.
			disorder := max(0, tc.delay-1)
			if tc.delay < 0 {
				tc.delay = -tc.delay
				disorder = tc.delay
			}
			evs := overGen(rng, oracleEvents+oracleEvents/5, tc.splits, 40, disorder, tc.delay+1000, tc.lateEvery)
			stream, order := "s", "ts"
			if tc.rowtime {
				stream, order = "r", "ROWTIME"
			}
			cols := []string{"id"}
			for _, f := range tc.fns {
				cols = append(cols, f.sql(order))
			}
			for i := range cols[1:] {
				cols[1+i] += fmt.Sprintf(" AS c%d", i)
			}
			q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(cols, ",\n  "), stream)
			if tc.filter {
				q += " WHERE id % 11 <> 3"
			}
			p := overPlan(t, tc.delay, q+";", tc.workers)
			want, wantLate := overOracle(evs, tc.fns, tc.delay, tc.rowtime, tc.filter)
			if tc.lateEvery > 0 && wantLate == 0 {
				t.Fatal("the generator made no late rows")
			}
			sink, errs, st := overRun(t, p, evs, rng, tc.batches)
			if int(st.LateRows) != wantLate || len(errs.errs) != wantLate {
				t.Fatalf("late rows: job %d (%d error records), oracle %d", st.LateRows, len(errs.errs), wantLate)
			}
			for _, e := range errs.errs {
				if e.Kind != ErrorLate || e.Split == "" || len(e.Raw) == 0 {
					t.Fatalf("bad late error record %+v", e)
				}
			}
			checkOver(t, sink.rows, tc.fns, want)
			t.Logf("%d events, %d late, %d rows equal to the oracle", len(evs), wantLate, len(sink.rows))
		})
	}
}

// Every result type: DECIMAL sums and averages, VARCHAR, TIMESTAMP and
// BOOLEAN minimums and maximums, FIRST_VALUE of text, LAG of a timestamp and
// LEAD of a decimal with a default.
func TestOverTypes(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	evs := []overEvent{
		{id: 0, k: "a", v: 5, d: 1.5, ts: base},
		{id: 1, k: "a", vNull: true, d: 2.25, ts: base + 1000},
		{id: 2, k: "a", v: -3, dNull: true, ts: base + 2000},
		{id: 3, k: "a", v: 7, d: 0.5, ts: base + 3000},
		{id: 4, k: "b", v: 1, d: 4, ts: base + 3000},
	}
	for i := range evs {
		evs[i].split = "s0"
	}
	p := overPlan(t, 0, `SELECT id,
  SUM(CAST(v AS DECIMAL(10,2))) OVER w, AVG(CAST(v AS DECIMAL(10,2))) OVER w, MAX(CAST(id AS VARCHAR)) OVER w,
  MAX(ts) OVER w, MIN(v > 0) OVER w, FIRST_VALUE(CAST(v AS VARCHAR)) OVER w,
  LAG(ts) OVER p, LEAD(CAST(d AS DECIMAL(12,2)), 1, 0) OVER p
FROM s WINDOW p AS (PARTITION BY k ORDER BY ts), w AS (p RANGE INTERVAL '1' SECOND PRECEDING);`, 2)
	sink, _, _ := overRun(t, p, evs, rand.New(rand.NewPCG(1, 1)), 100)
	if p.Over.OverSchema[1].Type.String() != "DECIMAL(38,2)" || p.Over.OverSchema[2].Type.String() != "DECIMAL(38,6)" {
		t.Fatalf("decimal SUM and AVG types: %v", p.Over.OverSchema)
	}
	want := []string{ // (Arrow prints decimals without trailing zeros)
		"0 5 5 0 2026-01-01T00:00:00Z true 5 (null) 2.25",
		"1 5 5 1 2026-01-01T00:00:01Z true 5 2026-01-01T00:00:00Z (null)",
		"2 -3 -3 2 2026-01-01T00:00:02Z false -3 2026-01-01T00:00:01Z 0.5",
		"3 4 2 3 2026-01-01T00:00:03Z false -3 2026-01-01T00:00:02Z 0",
		"4 1 1 4 2026-01-01T00:00:03Z true 1 (null) 0",
	}
	var got []string
	for _, r := range sink.rows {
		got = append(got, strings.Join(r, " "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A frame whose BIGINT sum does not fit gives NULL and an error record; once
// the frame moves on the sum is exact again (it is kept in 128 bits).
func TestOverSumOverflow(t *testing.T) {
	big := int64(math.MaxInt64 - 10)
	var evs []overEvent
	for i, v := range []int64{big, big, -big, 3} {
		evs = append(evs, overEvent{split: "s0", id: int64(i), k: "a", v: v, ts: 1_767_225_600_000 + int64(i)})
	}
	p := overPlan(t, 0, `SELECT id, SUM(v) OVER (PARTITION BY k ROWS 1 PRECEDING), AVG(v) OVER (PARTITION BY k ROWS 2 PRECEDING) FROM s;`, 1)
	sink, errs, st := overRun(t, p, evs, rand.New(rand.NewPCG(1, 1)), 1)
	var got []string
	for _, r := range sink.rows {
		got = append(got, strings.Join(r, " "))
	}
	want := fmt.Sprintf("0 %d %v\n1 (null) (null)\n2 0 %v\n3 %d 1", big, fmtFloat(float64(big)), fmtFloat(float64(big)/3), 3-big)
	if strings.Join(got, "\n") != want {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	if st.EvalErrors != 2 || len(errs.errs) != 2 || !strings.Contains(errs.errs[0].Reason+errs.errs[1].Reason, "SUM: BIGINT overflow") {
		t.Fatalf("want the SUM and AVG overflows on the error stream, got %d: %+v", st.EvalErrors, errs.errs)
	}
}

// AVG of a wide DECIMAL(38,0) is computed at scale 6: a quotient beyond 38
// digits (here beyond 128 bits) is an overflow, NULL with an error record,
// as in windowed AVG, not a panic; a frame that fits again is exact.
func TestOverAvgWideDecimal(t *testing.T) {
	var evs []overEvent
	for i, v := range []int64{0, 1, -500, 7} {
		evs = append(evs, overEvent{split: "s0", id: int64(i), k: "a", v: v, ts: 1_767_225_600_000 + int64(i)})
	}
	p := overPlan(t, 0, `SELECT id, AVG(CASE WHEN id < 2 THEN CAST(v AS DECIMAL(38,0)) + CAST('99999999999999999999999999999999999000' AS DECIMAL(38,0))
  ELSE CAST(v AS DECIMAL(38,0)) END) OVER (PARTITION BY k ROWS 1 PRECEDING) FROM s;`, 1)
	if typ := p.Over.OverSchema[1].Type.String(); typ != "DECIMAL(38,6)" {
		t.Fatalf("AVG type %s", typ)
	}
	sink, errs, st := overRun(t, p, evs, rand.New(rand.NewPCG(1, 1)), 1)
	var got []string
	for _, r := range sink.rows {
		got = append(got, strings.Join(r, " "))
	}
	// Row 2's frame holds row 1 (~1e38) and -500; row 3's -500 and 7.
	want := "0 (null)\n1 (null)\n2 (null)\n3 -246.5"
	if strings.Join(got, "\n") != want {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	if st.EvalErrors != 3 || len(errs.errs) != 3 || !strings.Contains(errs.errs[0].Reason, "AVG: DECIMAL overflow") {
		t.Fatalf("want 3 AVG overflows on the error stream, got %d: %+v", st.EvalErrors, errs.errs)
	}
}

// Under ROWTIME (zero delay) a one-shard stream's rows are emitted as they
// arrive, without waiting for the end of the input; under event time the rows
// within the watermark delay of the newest wait.
func TestOverEmitsWithoutEndOfInput(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"SELECT id, COUNT(*) OVER (PARTITION BY k RANGE INTERVAL '1' MINUTE PRECEDING) FROM r;", 1000},
		// ts advances 10 ms a row: the last 5 s, 500 rows, wait for the watermark.
		{"SELECT id, COUNT(*) OVER (PARTITION BY k RANGE INTERVAL '1' MINUTE PRECEDING) FROM s;", 500},
	} {
		p := overPlan(t, 5000, tc.query, 2)
		var evs []overEvent
		for i := range 1000 {
			evs = append(evs, overEvent{split: "s0", id: int64(i), k: fmt.Sprint("k", i%7), ts: 1_767_225_600_000 + int64(i)*10,
				rowtime: 1_767_225_600_000 + int64(i)/3})
		}
		mem := &countingAllocator{Allocator: memory.NewGoAllocator()}
		src := newOverSource(p, evs, rand.New(rand.NewPCG(2, 2)), 64, mem)
		sink := &collectSink{}
		ctx, cancel := context.WithCancel(context.Background())
		j, err := NewJob(p, &unendingSource{src, cancel}, sink, nil, JobOptions{IdleTimeout: -1, Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Run(ctx); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if len(sink.rows) != tc.want {
			t.Errorf("%s: %d rows emitted before the input ended, want %d", tc.query, len(sink.rows), tc.want)
		}
		if n := mem.n.Load(); n != 0 {
			t.Errorf("%d bytes not released", n)
		}
	}
}

// unendingSource is an unbounded source: after its batches the run is
// stopped (as a live run is), so the input never ends.
type unendingSource struct {
	*overSource
	stop context.CancelFunc
}

func (s *unendingSource) Next(ctx context.Context) (SourceBatch, error) {
	b, err := s.overSource.Next(ctx)
	if err == io.EOF {
		s.stop()
		return b, ctx.Err()
	}
	return b, err
}

// LIMIT stops an OVER query early; nothing leaks (goleak checks the
// goroutines in TestMain).
func TestOverLimit(t *testing.T) {
	p := overPlan(t, 100, `SELECT id, LEAD(v) OVER (PARTITION BY k), SUM(v) OVER (PARTITION BY k ROWS 3 PRECEDING) FROM s LIMIT 25;`, 2)
	evs := overGen(rand.New(rand.NewPCG(3, 3)), 5000, []string{"a", "b"}, 10, 50, 0, 0)
	sink, _, st := overRun(t, p, evs, rand.New(rand.NewPCG(3, 4)), 100)
	if len(sink.rows) != 25 || st.RowsOut != 25 {
		t.Fatalf("LIMIT 25 gave %d rows", len(sink.rows))
	}
}

// A long run over ever-new keys with RANGE frames keeps the partitions of
// the last frame only: a partition whose rows have all aged out is dropped.
// With ROW_NUMBER every key keeps its count.
func TestOverStateIsBounded(t *testing.T) {
	for _, tc := range []struct {
		query     string
		keepsKeys bool
	}{
		{"SELECT id, SUM(v) OVER (PARTITION BY k RANGE INTERVAL '1' SECOND PRECEDING), LAG(v) OVER (PARTITION BY k RANGE INTERVAL '2' SECOND PRECEDING), " +
			"LEAD(v) OVER (PARTITION BY k RANGE BETWEEN CURRENT ROW AND INTERVAL '500' MILLISECOND FOLLOWING) FROM s;", false},
		{"SELECT id, SUM(v) OVER (PARTITION BY k RANGE INTERVAL '1' SECOND PRECEDING), ROW_NUMBER() OVER (PARTITION BY k) FROM s;", true},
	} {
		p := overPlan(t, 0, tc.query, 1)
		j, err := NewJob(p, nil, &collectSink{}, nil, JobOptions{IdleTimeout: -1})
		if err != nil {
			t.Fatal(err)
		}
		w := newOverWorker(j.over.spec, memory.DefaultAllocator)
		wm := newWatermarker(0, true, -1)
		var seq int64
		var wmAt []int64
		now := time.Now()
		base := int64(1_767_225_600_000)
		maxParts, emitted := 0, int64(0)
		const rounds, keys, perKey = 300, 50, 4
		for round := range rounds {
			// 50 keys never seen before, 4 rows each, within 100 ms.
			var evs []overEvent
			for i := range keys * perKey {
				evs = append(evs, overEvent{id: seq + int64(i), k: fmt.Sprintf("r%d-k%d", round, i%keys), v: 1,
					ts: base + int64(round)*1000 + int64(i)/2})
			}
			rec := overRecord(p, evs, memory.DefaultAllocator)
			c, rows, err := j.overRoute(context.Background(), SourceBatch{Split: "s0", Record: rec}, wm, now, &seq, 1, &wmAt)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			out := w.handle(overMsg{chunk: c, rows: rows[0], wm: wm.advance(now)})
			if out.rec != nil {
				emitted += out.rec.NumRows()
				out.rec.Release()
			}
			maxParts = max(maxParts, w.nparts)
		}
		out := w.handle(overMsg{wm: maxTime})
		if out.rec != nil {
			emitted += out.rec.NumRows()
			out.rec.Release()
		}
		if emitted != rounds*keys*perKey {
			t.Fatalf("%d rows emitted, want %d", emitted, rounds*keys*perKey)
		}
		if tc.keepsKeys {
			if w.nparts != rounds*keys {
				t.Fatalf("with ROW_NUMBER %d partitions remain, want every key's (%d)", w.nparts, rounds*keys)
			}
			continue
		}
		// Rows live 2 s (the LAG frame) after their time: at most three rounds of keys.
		if maxParts > 3*keys || w.nparts != 0 || len(w.timers) != 0 || len(w.refs) != 0 {
			t.Fatalf("partitions: at most %d held (want <= %d), %d left at the end, %d timers, %d chunks held",
				maxParts, 3*keys, w.nparts, len(w.timers), len(w.refs))
		}
	}
}
