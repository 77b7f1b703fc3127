package exec

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/checkpoint"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// resumableSource serves a fixed sequence of batches of each split's events
// (positions are event indexes) and resumes after given positions: a
// restored run sees the same batches as an uninterrupted one from there on,
// as a re-read of a stream would. Every few batches it asks the coordinator
// for a checkpoint; after stopAfter batches it cancels the run (a crash).
type resumableSource struct {
	seq       []batchSpec
	record    func(split string, from, to int) arrow.RecordBatch
	cursor    int
	next      map[string]int // first event of each split not read
	coord     *Coordinator
	every     int // batches between checkpoint requests
	stopAfter int // cancel after this many batches; 0 never
	cancel    context.CancelFunc
	served    int
}

type batchSpec struct {
	split    string
	from, to int
}

// batchSequence cuts each split's events (counts) into batches of 1 to 200,
// interleaving the splits at random.
func batchSequence(counts map[string]int, splits []string, rng *rand.Rand) []batchSpec {
	next := map[string]int{}
	var seq []batchSpec
	for {
		var live []string
		for _, sp := range splits {
			if next[sp] < counts[sp] {
				live = append(live, sp)
			}
		}
		if len(live) == 0 {
			return seq
		}
		sp := live[rng.IntN(len(live))]
		n := min(1+rng.IntN(200), counts[sp]-next[sp])
		seq = append(seq, batchSpec{sp, next[sp], next[sp] + n})
		next[sp] += n
	}
}

func (s *resumableSource) Next(ctx context.Context) (SourceBatch, error) {
	if err := ctx.Err(); err != nil {
		return SourceBatch{}, err
	}
	for s.cursor < len(s.seq) && s.seq[s.cursor].from < s.next[s.seq[s.cursor].split] {
		s.cursor++ // read before the checkpoint resumed from
	}
	if s.cursor == len(s.seq) {
		return SourceBatch{}, io.EOF
	}
	s.served++
	if s.stopAfter > 0 && s.served > s.stopAfter {
		s.cancel()
		return SourceBatch{}, ctx.Err()
	}
	if s.every > 0 && s.served%s.every == 0 {
		s.coord.trigger()
	}
	b := s.seq[s.cursor]
	s.cursor++
	s.next[b.split] = b.to
	return SourceBatch{Split: b.split, Record: s.record(b.split, b.from, b.to), Position: strconv.Itoa(b.to - 1)}, nil
}

func (s *resumableSource) Close() error { return nil }

// txSink keeps rows as a committing sink would: written rows are pending,
// prepared rows belong to a checkpoint, committed rows are the output. The
// object outlives a "crash", as files would.
type txSink struct {
	mu        sync.Mutex
	open      [][]string
	prepared  map[int64][][]string
	committed [][]string
}

func (s *txSink) Write(_ context.Context, rec arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range int(rec.NumRows()) {
		row := make([]string, rec.NumCols())
		for c := range row {
			row[c] = rec.Column(c).ValueStr(i)
		}
		s.open = append(s.open, row)
	}
	return nil
}
func (s *txSink) Flush(context.Context) error { return nil }
func (s *txSink) Close() error                { return nil }
func (s *txSink) Prepare(_ context.Context, id int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prepared == nil {
		s.prepared = map[int64][][]string{}
	}
	s.prepared[id] = s.open
	s.open = nil
	return []byte(fmt.Sprint(id)), nil
}
func (s *txSink) Commit(_ context.Context, id int64, state []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(state) != fmt.Sprint(id) {
		return fmt.Errorf("commit %d with state %q", id, state)
	}
	s.committed = append(s.committed, s.prepared[id]...)
	delete(s.prepared, id)
	return nil
}
func (s *txSink) Recover(_ context.Context, id int64, state []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Commit what checkpoints up to id prepared and nobody committed; drop
	// the rest.
	for _, p := range slices.Sorted(maps.Keys(s.prepared)) {
		if p <= id {
			s.committed = append(s.committed, s.prepared[p]...)
		}
	}
	s.open, s.prepared = nil, nil
	return nil
}

// crashJob is a job for crashAndRestore: its plan (made afresh for each
// run) and its input, as events per split and a maker of their batches.
type crashJob struct {
	plan   func() *planner.Physical
	splits []string
	counts map[string]int
	record func(split string, from, to int, mem memory.Allocator) arrow.RecordBatch
}

// crashAndRestore runs a job once uninterrupted, then again from the start
// crashing it at least 8 times at random batches, each restart resuming from
// the newest checkpoint, until it reaches the end of its input. It returns
// the rows each committed, in commit order, and the number of crashes.
func crashAndRestore(t *testing.T, rng *rand.Rand, job crashJob) (want, got [][]string, crashes int) {
	t.Helper()
	mem := &countingAllocator{Allocator: memory.NewGoAllocator()} // (a CheckedAllocator's stacks would dominate)
	defer func() {
		if n := mem.n.Load(); n != 0 {
			t.Errorf("%d bytes of Arrow memory not released", n)
		}
	}()
	seq := batchSequence(job.counts, job.splits, rng)
	run := func(store checkpoint.Store, sink *txSink, stopAfter int) (crashed bool) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		restore, warnings, err := checkpoint.Latest(ctx, store, "app")
		if err != nil || len(warnings) > 0 {
			t.Fatal(err, warnings)
		}
		coord, err := NewCoordinator(ctx, CoordinatorConfig{Store: store, App: "app", Restore: restore})
		if err != nil {
			t.Fatal(err)
		}
		src := &resumableSource{seq: seq, next: map[string]int{}, coord: coord, every: 7, stopAfter: stopAfter, cancel: cancel,
			record: func(split string, from, to int) arrow.RecordBatch { return job.record(split, from, to, mem) }}
		if restore != nil {
			pos := restore.Sources["q0"]
			for sp, after := range pos.After {
				n, _ := strconv.Atoi(after)
				src.next[sp] = n + 1
			}
			for _, sp := range pos.Done {
				src.next[sp] = job.counts[sp]
			}
		}
		j, err := NewJob(job.plan(), src, sink, nil, JobOptions{SourceName: "s", IdleTimeout: -1,
			Checkpointing: &Checkpointing{Coordinator: coord, Name: "q0"}, Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		err = j.Run(ctx)
		coord.Wait() // a killed process writes nothing more; here the goroutine must end first
		if err != nil {
			t.Fatal(err)
		}
		return ctx.Err() != nil
	}
	// The uninterrupted run, with checkpoints.
	w := &txSink{}
	if run(checkpoint.NewDirStore(t.TempDir()), w, 0) {
		t.Fatal("uninterrupted run was cancelled")
	}
	if len(w.committed) == 0 || len(w.open) != 0 || len(w.prepared) != 0 {
		t.Fatalf("uninterrupted run: %d committed, %d open, %d prepared", len(w.committed), len(w.open), len(w.prepared))
	}
	store := checkpoint.NewDirStore(t.TempDir())
	g := &txSink{}
	for attempt := range 40 {
		stop := 0
		if attempt < 8 {
			// Anywhere in the input: a run resumes from its last checkpoint.
			stop = 3 + rng.IntN(len(seq)/6+1)
		}
		if !run(store, g, stop) {
			break
		}
		crashes++
	}
	if crashes < 8 {
		t.Fatalf("only %d crashes", crashes)
	}
	ms, _, _ := checkpoint.List(context.Background(), store, "app")
	if len(ms) == 0 || len(ms) > 3 {
		t.Fatalf("%d checkpoints kept, want 1 to 3", len(ms))
	}
	t.Logf("%d batches, %d crashes, last checkpoint %d", len(seq), crashes, ms[0].ID)
	return w.committed, g.committed, crashes
}

// sameRows fails unless got and want hold the same rows, as multisets.
func sameRows(t *testing.T, what string, want, got [][]string) {
	t.Helper()
	keys := func(rows [][]string) []string {
		ks := make([]string, len(rows))
		for i, r := range rows {
			ks[i] = strings.Join(r, "|")
		}
		slices.Sort(ks)
		return ks
	}
	a, b := keys(want), keys(got)
	if len(a) != len(b) {
		t.Fatalf("%s: %d rows, uninterrupted %d", what, len(b), len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s: row %d is %s, uninterrupted %s", what, i, b[i], a[i])
		}
	}
}

// eventsJob is the input of the window tests: genEvents over three splits.
func eventsJob(events []event, plan func() *planner.Physical) crashJob {
	job := crashJob{plan: plan, splits: []string{"s0", "s1", "s2"}, counts: map[string]int{}}
	bySplit := map[string][]event{}
	for _, e := range events {
		bySplit[e.split] = append(bySplit[e.split], e)
		job.counts[e.split]++
	}
	job.record = func(split string, from, to int, mem memory.Allocator) arrow.RecordBatch {
		return buildRecord(bySplit[split][from:to], mem)
	}
	return job
}

// checkpointEvents is the input size of the crash tests (at least 20,000).
const checkpointEvents = min(25_000, oracleEvents)

// TestCheckpointRestoreIsExact crashes a windowed job several times at
// random batches; each restart resumes from the newest checkpoint. The
// committed output equals an uninterrupted run's, row for row (as multisets:
// the order of rows of one epoch is not the sink's concern).
func TestCheckpointRestoreIsExact(t *testing.T) {
	for _, kind := range []sql.WindowKind{sql.Tumble, sql.Session} {
		t.Run(string(kind), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(len(kind))))
			events := genEvents(rng, checkpointEvents, []string{"s0", "s1", "s2"}, 300, 97)
			want, got, crashes := crashAndRestore(t, rng, eventsJob(events, func() *planner.Physical {
				p := aggPlan(time.Second, 400*time.Millisecond, 3)
				if kind == sql.Session {
					p.Agg.Window = sql.Window{Kind: sql.Session, Gap: 40 * time.Millisecond}
				}
				return p
			}))
			sameRows(t, fmt.Sprintf("after %d crashes", crashes), want, got)
			t.Logf("%d rows", len(want))
		})
	}
}

func TestCheckpointedWorkers(t *testing.T) {
	j, err := NewJob(aggPlan(time.Second, 0, 3), nil, nil, nil, JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := &checkpoint.Checkpoint{Manifest: checkpoint.Manifest{Operators: []checkpoint.Operator{
		{Name: "q0", Fingerprint: j.fingerprint()},
		{Name: "q1", Fingerprint: "stateless"},
	}}}
	if n, ok := CheckpointedWorkers(c, "q0"); !ok || n != 3 {
		t.Errorf("q0: %d, %v; want 3 workers", n, ok)
	}
	for _, name := range []string{"q1", "q2"} {
		if n, ok := CheckpointedWorkers(c, name); ok {
			t.Errorf("%s: %d workers, want none", name, n)
		}
	}
	if _, ok := CheckpointedWorkers(nil, "q0"); ok {
		t.Error("nil checkpoint has workers")
	}
}

// overCheckpointQuery has OVER functions of every kind of state: running
// sums over a ring (ROWS and RANGE), sliding aggregates of every lifted value
// (DOUBLE sums, DECIMAL sums, moments, MIN/MAX of numbers and of text),
// LAG and LEAD (rows waiting for later ones, several LEADs at once),
// ROW_NUMBER; partitioned by k, over three shards with late rows.
func overCheckpointQuery() string {
	fns := []ofn{
		{fn: "count_star", frame: "range", pre: 2000}, {fn: "sum", col: "v", frame: "range", pre: 700},
		{fn: "avg", col: "d", frame: "range", pre: 2000}, {fn: "min", col: "d", frame: "range", pre: 300},
		{fn: "stddev_pop", col: "d", frame: "range", pre: 2000}, {fn: "last_value", col: "v", frame: "range", pre: 2000},
		{fn: "count", col: "d", frame: "rows", pre: 7}, {fn: "sum", col: "d", frame: "rows", pre: 7},
		{fn: "max", col: "v", frame: "rows", pre: 40}, {fn: "var_samp", col: "v", frame: "rows", pre: 12},
		{fn: "row_number"}, {fn: "lag", col: "v", k: 1}, {fn: "lag", col: "d", k: 3, def: "-1.5"},
		{fn: "lag", col: "v", k: 2, def: "-9", frame: "range", pre: 1000},
		{fn: "lead", col: "v", k: 1}, {fn: "lead", col: "d", k: 2, def: "0.25"},
		{fn: "lead", col: "v", k: 1, def: "-7", frame: "range", fol: 300},
		{fn: "lead", col: "v", k: 3, frame: "rows", fol: 3},
	}
	cols := []string{"id", "k", "d"}
	for _, f := range fns {
		cols = append(cols, f.sql("ts"))
	}
	cols = append(cols,
		"SUM(CAST(v AS DECIMAL(10,2))) OVER (PARTITION BY k ORDER BY ts RANGE INTERVAL '900' MILLISECOND PRECEDING)",
		"AVG(CAST(v AS DECIMAL(10,2))) OVER (PARTITION BY k ORDER BY ts ROWS 5 PRECEDING)",
		"MAX(CAST(id AS VARCHAR)) OVER (PARTITION BY k ORDER BY ts ROWS 9 PRECEDING)",
		"LEAD(CAST(d AS DECIMAL(12,2)), 2, 0) OVER (PARTITION BY k ORDER BY ts)")
	for i := range cols[3:] {
		cols[3+i] += fmt.Sprintf(" AS c%d", i)
	}
	return fmt.Sprintf("SELECT %s FROM s WHERE id %% 11 <> 3;", strings.Join(cols, ",\n  "))
}

// overJob is the input of the OVER crash tests.
func overJob(t *testing.T, rng *rand.Rand, plan func() *planner.Physical) crashJob {
	splits := []string{"a", "b", "c"}
	evs := overGen(rng, checkpointEvents, splits, 40, 799, 1800, 131)
	job := crashJob{plan: plan, splits: splits, counts: map[string]int{}}
	bySplit := map[string][]overEvent{}
	for _, e := range evs {
		bySplit[e.split] = append(bySplit[e.split], e)
		job.counts[e.split]++
	}
	p := plan()
	job.record = func(split string, from, to int, mem memory.Allocator) arrow.RecordBatch {
		return overRecord(p, bySplit[split][from:to], mem)
	}
	return job
}

// TestCheckpointRestoreOver crashes an OVER query (ROWS and RANGE frames,
// LAG, LEAD, ROW_NUMBER, partitioned, several workers) at random batches:
// rows waiting for the watermark or for a LEAD, frames and partial
// aggregates are restored, and the committed output equals an
// uninterrupted run's, row for row.
func TestCheckpointRestoreOver(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	q := overCheckpointQuery()
	plan := func() *planner.Physical { return overPlan(t, 800, q, 3) }
	want, got, crashes := crashAndRestore(t, rng, overJob(t, rng, plan))
	sameRows(t, fmt.Sprintf("after %d crashes", crashes), want, got)
	t.Logf("%d rows", len(want))
}

// TestCheckpointRestoreUpdating crashes updating queries, whose output stage
// remembers the rows it wrote (the changelog), at random batches. Each
// committed changelog, played as a consumer would, must retract only rows
// present exactly as written, and end with the uninterrupted run's result;
// the changes themselves equal the uninterrupted run's too.
func TestCheckpointRestoreUpdating(t *testing.T) {
	for _, tc := range []struct {
		name     string
		window   sql.Window
		lateness time.Duration
		every    time.Duration
	}{
		{"SESSION allowed_lateness emit_every", sql.Window{Kind: sql.Session, Gap: 40 * time.Millisecond}, 3 * time.Second, 300 * time.Millisecond},
		{"TUMBLE emit_every", sql.Window{Kind: sql.Tumble, Size: time.Second}, 0, 250 * time.Millisecond},
		{"TUMBLE allowed_lateness", sql.Window{Kind: sql.Tumble, Size: time.Second}, 4 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, uint64(len(tc.name))))
			events := genEvents(rng, checkpointEvents, []string{"s0", "s1", "s2"}, 300, 97)
			want, got, crashes := crashAndRestore(t, rng, eventsJob(events, func() *planner.Physical {
				p := aggPlan(time.Second, 400*time.Millisecond, 3)
				p.Agg.Window, p.Agg.AllowedLateness, p.Agg.EmitEvery = tc.window, tc.lateness, tc.every
				return updating(p)
			}))
			wantFinal, wantRetracted := applyChanges(t, want)
			gotFinal, gotRetracted := applyChanges(t, got)
			if wantRetracted == 0 {
				t.Fatal("the uninterrupted run retracted nothing")
			}
			sameRows(t, fmt.Sprintf("after %d crashes, the result", crashes), wantFinal, gotFinal)
			sameRows(t, fmt.Sprintf("after %d crashes, the changes", crashes), want, got)
			t.Logf("%d changes, %d retractions, %d rows in the result", len(want), wantRetracted, len(wantFinal))
			if gotRetracted != wantRetracted {
				t.Fatalf("%d retractions, uninterrupted %d", gotRetracted, wantRetracted)
			}
		})
	}
}

// A checkpoint of an OVER query cannot be restored into a query whose state
// means something else (another frame, function, partitioning or number of
// workers): NewJob refuses it, naming the query. The same query restores,
// and CheckpointedWorkers reads its worker count.
func TestCheckpointOverChangedQuery(t *testing.T) {
	const q = `SELECT id, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS 5 PRECEDING) AS s,
  LEAD(v) OVER (PARTITION BY k ORDER BY ts) AS nxt FROM s;`
	rng := rand.New(rand.NewPCG(3, 4))
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	p := overPlan(t, 500, q, 2)
	evs := overGen(rng, 2000, []string{"s0"}, 10, 400, 0, 0)
	src := newOverSource(p, evs, rng, 100, mem)
	defer src.Close()
	store := checkpoint.NewDirStore(t.TempDir())
	ctx := context.Background()
	coord, err := NewCoordinator(ctx, CoordinatorConfig{Store: store, App: "app"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := NewJob(p, src, &txSink{}, nil, JobOptions{IdleTimeout: -1, Mem: mem, Checkpointing: &Checkpointing{Coordinator: coord, Name: "q0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	coord.Wait()
	restore, _, err := checkpoint.Latest(ctx, store, "app")
	if err != nil || restore == nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	if n, ok := CheckpointedWorkers(restore, "q0"); !ok || n != 2 {
		t.Fatalf("CheckpointedWorkers: %d, %v; want 2", n, ok)
	}
	newJob := func(query string, workers int) error {
		coord, err := NewCoordinator(ctx, CoordinatorConfig{Store: store, App: "app", Restore: restore})
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewJob(overPlan(t, 500, query, workers), nil, &txSink{}, nil, JobOptions{Mem: mem,
			Checkpointing: &Checkpointing{Coordinator: coord, Name: "q0"}})
		return err
	}
	if err := newJob(q, 2); err != nil {
		t.Fatalf("the same query: %v", err)
	}
	for _, tc := range []struct{ what, query string }{
		{"another frame", strings.Replace(q, "ROWS 5", "ROWS 6", 1)},
		{"a RANGE frame", strings.Replace(q, "ROWS 5 PRECEDING", "RANGE INTERVAL '5' SECOND PRECEDING", 1)},
		{"another function", strings.Replace(q, "SUM(v)", "MAX(v)", 1)},
		{"another argument type", strings.Replace(q, "SUM(v)", "SUM(d)", 1)},
		{"another partitioning", strings.ReplaceAll(q, "PARTITION BY k ", "PARTITION BY k, v ")},
		{"no partitioning", strings.ReplaceAll(q, "PARTITION BY k ", "")},
		{"another LEAD offset", strings.Replace(q, "LEAD(v)", "LEAD(v, 2)", 1)},
		{"a function more", strings.Replace(q, " FROM s", ", ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS rn FROM s", 1)},
		{"other columns carried", strings.Replace(q, "SELECT id,", "SELECT id, d,", 1)},
		{"no OVER", "SELECT id, v FROM s;"},
	} {
		err := newJob(tc.query, 2)
		if err == nil || !strings.Contains(err.Error(), "query q0") || !strings.Contains(err.Error(), "different plan") {
			t.Errorf("%s: %v, want a refusal naming query q0", tc.what, err)
		}
	}
	if err := newJob(q, 3); err == nil || !strings.Contains(err.Error(), "query q0") {
		t.Errorf("3 workers instead of 2: %v, want a refusal naming query q0", err)
	}
}
