package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql"
)

type oracleWin struct {
	key        string
	start, end int64
	g          oracleGroup
	emitted    bool
}

// keyWindowOracle runs the per-key window rules row by row: SESSION merges the
// spans [t, t+gap) of a key that overlap, STAGGER opens [t, t+size) at a key's
// row not held by a kept window. A window is kept while end + lateness > the
// watermark before the current row; a row that only opens a window that is not
// is late. bridges counts the rows that merged a closed session with another.
func keyWindowOracle(order []event, session bool, span, delay, lateness int64) (wins []*oracleWin, late, bridges int) {
	clock := newOracleClock(order, delay)
	byKey := map[string][]*oracleWin{} // the same windows, per key (the rules never look across keys)
	add := func(w *oracleWin, e event) {
		w.g.n++
		if !e.vNull {
			w.g.sum += e.v
			w.g.sumN++
		}
		w.g.min = math.Min(w.g.min, e.d)
		w.g.max = math.Max(w.g.max, e.d)
	}
	for _, e := range order {
		wmBefore := clock.observe(e) // lateness is judged by the watermark before the row
		open := func(w *oracleWin) bool { return w.key == e.key && w.end+lateness > wmBefore && !w.emitted }
		if session {
			var hit []*oracleWin
			for _, w := range byKey[e.key] {
				if open(w) && w.start < e.ts+span && e.ts < w.end {
					hit = append(hit, w)
				}
			}
			if len(hit) == 0 {
				if e.ts+span+lateness <= wmBefore {
					late++
					continue
				}
				w := &oracleWin{key: e.key, start: e.ts, end: e.ts + span, g: oracleGroup{min: math.Inf(1), max: math.Inf(-1)}}
				add(w, e)
				wins = append(wins, w)
				byKey[e.key] = append(byKey[e.key], w)
				continue
			}
			if len(hit) > 1 && slices.ContainsFunc(hit, func(w *oracleWin) bool { return w.end <= wmBefore }) {
				bridges++
			}
			first := hit[0]
			first.start, first.end = min(first.start, e.ts), max(first.end, e.ts+span)
			for _, w := range hit[1:] {
				first.start, first.end = min(first.start, w.start), max(first.end, w.end)
				first.g.n += w.g.n
				first.g.sum += w.g.sum
				first.g.sumN += w.g.sumN
				first.g.min = math.Min(first.g.min, w.g.min)
				first.g.max = math.Max(first.g.max, w.g.max)
				w.emitted = true // merged away
			}
			add(first, e)
			continue
		}
		var best *oracleWin
		for _, w := range byKey[e.key] {
			if open(w) && w.start <= e.ts && e.ts < w.end && (best == nil || w.start > best.start) {
				best = w
			}
		}
		if best == nil {
			if e.ts+span+lateness <= wmBefore {
				late++
				continue
			}
			best = &oracleWin{key: e.key, start: e.ts, end: e.ts + span, g: oracleGroup{min: math.Inf(1), max: math.Inf(-1)}}
			wins = append(wins, best)
			byKey[e.key] = append(byKey[e.key], best)
		}
		add(best, e)
	}
	var out []*oracleWin
	for _, w := range wins {
		if !w.emitted {
			out = append(out, w)
		}
	}
	return out, late, bridges
}

func TestKeyWindowsMatchOracle(t *testing.T) {
	for _, tc := range []struct {
		name      string
		kind      sql.WindowKind
		span      int64
		splits    []string
		late      int
		workers   int
		lateness  int64 // ms
		emitEvery time.Duration
	}{
		{"session with late rows", sql.Session, 150, []string{"s0"}, 53, 2, 0, 0},
		{"session several splits", sql.Session, 400, []string{"a", "b"}, 0, 3, 0, 0},
		{"stagger with late rows", sql.Stagger, 700, []string{"s0"}, 47, 2, 0, 0},
		{"stagger several splits", sql.Stagger, 1500, []string{"a", "b", "c"}, 0, 1, 0, 0},
		{"session with allowed lateness", sql.Session, 150, []string{"s0"}, 29, 2, 7_000, 0},
		{"session with lateness and emit_every", sql.Session, 300, []string{"a", "b"}, 31, 3, 6_000, 500 * time.Millisecond},
		{"session with emit_every", sql.Session, 2_000, []string{"s0"}, 0, 2, 0, 300 * time.Millisecond},
		{"stagger with allowed lateness", sql.Stagger, 700, []string{"s0"}, 23, 2, 7_000, 0},
		{"stagger with emit_every", sql.Stagger, 3_000, []string{"s0"}, 37, 1, 0, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(uint64(tc.span), 9))
			events := genEvents(rng, oracleEvents, tc.splits, 300, tc.late)
			// Sparser keys make sessions end and restart.
			for i := range events {
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
			want, wantLate, bridges := keyWindowOracle(order, tc.kind == sql.Session, tc.span, delay, tc.lateness)
			p := aggPlan(time.Second, delay*time.Millisecond, tc.workers)
			p.Agg.Window = sql.Window{Kind: tc.kind, Gap: time.Duration(tc.span) * time.Millisecond, Size: time.Duration(tc.span) * time.Millisecond}
			p.Agg.AllowedLateness = time.Duration(tc.lateness) * time.Millisecond
			p.Agg.EmitEvery = tc.emitEvery
			if p.Agg.Updating() {
				updating(p)
			}
			sink, errs, st := runJob(t, p, src)
			if int(st.LateRows) != wantLate || len(errs.errs) != wantLate {
				t.Fatalf("late rows: job %d (%d records), oracle %d", st.LateRows, len(errs.errs), wantLate)
			}
			if tc.late > 0 && wantLate == 0 {
				t.Fatal("the generator made no late rows")
			}
			rows := sink.rows
			if p.Agg.Updating() {
				_, lateWithout, _ := keyWindowOracle(order, tc.kind == sql.Session, tc.span, delay, 0)
				if tc.lateness > 0 && (wantLate == 0 || lateWithout <= wantLate) {
					t.Fatalf("test data: %d rows late with lateness, %d without: want some saved and some still late", wantLate, lateWithout)
				}
				if tc.kind == sql.Session && tc.lateness > 0 && bridges == 0 {
					t.Fatal("test data: no late row bridged a closed session with another")
				}
				var retracted int
				rows, retracted = applyChanges(t, sink.rows)
				if retracted == 0 {
					t.Fatalf("no row was updated or withdrawn in %d changes", len(sink.rows))
				}
				t.Logf("%d changes, %d retractions, %d windows, %d late (%d without lateness), %d bridging rows",
					len(sink.rows), retracted, len(rows), wantLate, lateWithout, bridges)
			}
			got := map[string]string{}
			for _, r := range rows {
				got[fmt.Sprintf("%s|%d|%d", r[0], parseTS(t, r[1]), parseTS(t, r[2]))] = fmt.Sprintf("%s %s %s %s", r[3], r[4], r[5], r[6])
			}
			if len(sink.rows) > 0 && testing.Verbose() {
				t.Logf("first job row %v", sink.rows[0])
			}
			if len(got) != len(rows) {
				t.Fatalf("duplicate windows in the output")
			}
			sort.Slice(want, func(i, j int) bool { return want[i].start < want[j].start })
			for _, w := range want {
				k := fmt.Sprintf("%s|%d|%d", w.key, w.start, w.end)
				sum := "(null)"
				if w.g.sumN > 0 {
					sum = fmt.Sprint(w.g.sum)
				}
				exp := fmt.Sprintf("%d %s %s %s", w.g.n, sum, fmtFloat(w.g.min), fmtFloat(w.g.max))
				if got[k] != exp {
					t.Fatalf("window %s: job %q, oracle %q", k, got[k], exp)
				}
				delete(got, k)
			}
			if len(got) > 0 {
				for k := range got {
					t.Fatalf("job emitted %d windows the oracle lacks, e.g. %s", len(got), k)
				}
			}
		})
	}
}

// parseTS reads a timestamp as the array's ValueStr renders it.
func parseTS(t *testing.T, s string) int64 {
	t.Helper()
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999Z", time.RFC3339Nano} {
		if ts, err := time.Parse(layout, s); err == nil {
			return ts.UnixMilli()
		}
	}
	t.Fatalf("cannot parse timestamp %q", s)
	return 0
}
