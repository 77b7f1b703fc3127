package exec

import (
	"fmt"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/eval"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// aggSpec is what an aggregation worker needs to build window tables.
type aggSpec struct {
	stage     *planner.AggregateStage
	keyStores []func() keyStore
	aggStates []func() aggState
	schema    *arrow.Schema // AggSchema in Arrow
}

func newAggSpec(stage *planner.AggregateStage) (*aggSpec, error) {
	s := &aggSpec{stage: stage, schema: stage.AggSchema.Arrow()}
	for i, k := range stage.KeyExprs {
		f, err := newKeyStore(k.Type())
		if err != nil {
			return nil, fmt.Errorf("GROUP BY %s: %w", stage.KeyNames[i], err)
		}
		s.keyStores = append(s.keyStores, f)
	}
	for _, a := range stage.Aggs {
		f, err := newAggState(a)
		if err != nil {
			return nil, err
		}
		s.aggStates = append(s.aggStates, f)
	}
	return s, nil
}

// windowTable is the state of one window instance: its groups, their keys and
// aggregate states. Group lookup chains groups of equal hash.
type windowTable struct {
	start, end int64
	heads      map[uint64]int32
	next       []int32
	hashes     []uint64
	keys       []keyStore
	aggs       []aggState
	n          int32
	// emitted is set once the window's result went out; later rows (within
	// the allowed lateness) mark their groups dirty for an updated result.
	emitted bool
	dirty   map[int32]bool
	// scratch for one chunk
	rows, gids []int32
}

func (s *aggSpec) newTable(start, end int64) *windowTable {
	t := &windowTable{start: start, end: end, heads: map[uint64]int32{}}
	for _, f := range s.keyStores {
		t.keys = append(t.keys, f())
	}
	for _, f := range s.aggStates {
		t.aggs = append(t.aggs, f())
	}
	return t
}

// group returns the id of the row's group, creating it when new.
func (t *windowTable) group(keyArrs []arrow.Array, row int, h uint64) int32 {
	g, ok := t.heads[h]
	for ok && g >= 0 {
		if t.hashes[g] == h && t.keysEqual(keyArrs, row, g) {
			return g
		}
		g = t.next[g]
	}
	g = t.n
	t.n++
	prev, had := t.heads[h]
	if !had {
		prev = -1
	}
	t.next = append(t.next, prev)
	t.heads[h] = g
	t.hashes = append(t.hashes, h)
	for i, k := range t.keys {
		k.add(keyArrs[i], row)
	}
	for _, a := range t.aggs {
		a.addGroup()
	}
	return g
}

func (t *windowTable) keysEqual(keyArrs []arrow.Array, row int, g int32) bool {
	for i, k := range t.keys {
		if !k.equal(keyArrs[i], row, g) {
			return false
		}
	}
	return true
}

// build returns the window's rows in AggSchema, ordered by key, and the messages
// of aggregates that failed (overflow).
func (t *windowTable) build(s *aggSpec, mem memory.Allocator) (arrow.RecordBatch, []string) {
	cols := make([]arrow.Array, 0, len(t.keys)+2+len(t.aggs))
	for _, k := range t.keys {
		cols = append(cols, k.build(mem))
	}
	cols = append(cols, constTimestamp(t.start, int(t.n), mem), constTimestamp(t.end, int(t.n), mem))
	var errs []string
	for _, a := range t.aggs {
		arr, e := a.build(mem)
		cols = append(cols, arr)
		errs = append(errs, e...)
	}
	if order := keyOrder(t.keys, t.n); order != nil {
		for i, c := range cols {
			taken, err := eval.Take(c, order, mem)
			if err != nil {
				panic(fmt.Sprintf("exec: order window rows: %v", err)) // only fails on bad indexes
			}
			c.Release()
			cols[i] = taken
		}
	}
	rec := array.NewRecordBatch(s.schema, cols, int64(t.n))
	for _, c := range cols {
		c.Release()
	}
	return rec, errs
}

// keyOrder returns the group ids 0..n-1 ordered by key, or nil when they
// already are (or there is nothing to order).
func keyOrder(keys []keyStore, n int32) []int32 {
	if len(keys) == 0 || n < 2 {
		return nil
	}
	cmpGroups := func(a, b int32) int {
		for _, k := range keys {
			if c := k.compare(a, b); c != 0 {
				return c
			}
		}
		return 0
	}
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	if slices.IsSortedFunc(order, cmpGroups) {
		return nil
	}
	slices.SortFunc(order, cmpGroups)
	return order
}

func constTimestamp(v int64, n int, mem memory.Allocator) arrow.Array {
	b := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
	defer b.Release()
	b.Reserve(n)
	for range n {
		b.UnsafeAppend(arrow.Timestamp(v))
	}
	return b.NewArray()
}

// assigner places event times in windows: TUMBLE is HOP with slide = size.
// Window starts are aligned to offset + k*slide; a window is [start, start+size).
type assigner struct {
	size, slide, offset int64
}

func newAssigner(w sql.Window) assigner {
	a := assigner{size: w.Size.Milliseconds(), slide: w.Slide.Milliseconds(), offset: w.Offset.Milliseconds()}
	if w.Kind == sql.Tumble || a.slide <= 0 {
		a.slide = a.size
	}
	return a
}

// lastStart is the start of the latest window holding t.
func (a assigner) lastStart(t int64) int64 {
	return floorDiv(t-a.offset, a.slide)*a.slide + a.offset
}

// firstStart is the start of the earliest window holding t (windows of a HOP
// whose size is not a multiple of the slide may hold t in fewer positions).
func (a assigner) firstStart(t int64) int64 {
	return floorDiv(t-a.size-a.offset, a.slide)*a.slide + a.offset + a.slide
}

// firstOpen is the earliest window start still open at watermark wm: a window
// closes when start+size-1 <= wm.
func (a assigner) firstOpen(wm int64) int64 {
	if wm == minTime {
		return minTime
	}
	return floorDiv(wm-a.size+1-a.offset, a.slide)*a.slide + a.offset + a.slide
}

// aggChunk is one batch's contribution to a worker: the evaluated key, time and
// argument columns of the whole batch (shared by every worker, read-only) and
// the rows this worker owns.
type aggChunk struct {
	keys   []arrow.Array
	args   []arrow.Array // nil entries for COUNT(*)
	starts []int64       // first window start of each row that is still open
	times  []int64       // event time of each row: its last window start follows
	hashes []uint64      // key hash of each row of the batch
	// For per-key windows: the watermark after each row, and the filtered
	// batch with where it came from, to report late rows.
	wmAt            []int64
	rec             arrow.RecordBatch
	split, position string
	rows            []int32 // rows of this worker, in batch order
	done            func()  // releases the shared columns once every worker is done
}

// windowAggregator is one worker's windows.
type windowAggregator struct {
	spec   *aggSpec
	assign assigner
	tables map[int64]*windowTable
	// the table of the previous row, which is usually the next row's too
	last *windowTable
	// lateness is how long (ms) a window's state outlives its close for late rows.
	lateness int64
}

func newWindowAggregator(spec *aggSpec) *windowAggregator {
	return &windowAggregator{spec: spec, assign: newAssigner(spec.stage.Window), tables: map[int64]*windowTable{},
		lateness: spec.stage.AllowedLateness.Milliseconds()}
}

func (w *windowAggregator) table(start int64, touched *[]*windowTable) *windowTable {
	t := w.last
	if t == nil || t.start != start {
		t = w.tables[start]
		if t == nil {
			t = w.spec.newTable(start, start+w.assign.size)
			w.tables[start] = t
		}
		w.last = t
	}
	if len(t.rows) == 0 {
		*touched = append(*touched, t)
	}
	return t
}

func (w *windowAggregator) add(c *aggChunk) {
	var touched []*windowTable
	w.last = nil
	for _, r := range c.rows {
		lastStart := w.assign.lastStart(c.times[r])
		for start := c.starts[r]; start <= lastStart; start += w.assign.slide {
			t := w.table(start, &touched)
			g := t.group(c.keys, int(r), c.hashes[r])
			if t.emitted {
				t.dirty[g] = true
			}
			t.rows = append(t.rows, r)
			t.gids = append(t.gids, g)
		}
	}
	for _, t := range touched {
		for i, a := range t.aggs {
			a.update(c.args[i], c.times, t.rows, t.gids)
		}
		t.rows, t.gids = t.rows[:0], t.gids[:0]
	}
}

// fire removes and returns, in window order, every window whose end is at or
// before the watermark: watermark w means no row with time < w can still come...
// precisely, a window [start, end) fires when end-1 <= w.
func (w *windowAggregator) fire(watermark int64, mem memory.Allocator) ([]arrow.RecordBatch, []string) {
	var due []*windowTable
	for start, t := range w.tables {
		closed := t.end-1 <= watermark
		if closed && (!t.emitted || len(t.dirty) > 0) {
			due = append(due, t)
		}
		// State is kept for the allowed lateness after the window closes.
		if t.end-1+w.lateness <= watermark {
			delete(w.tables, start)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].start < due[j].start })
	w.last = nil
	var out []arrow.RecordBatch
	var errs []string
	for _, t := range due {
		var rec arrow.RecordBatch
		var e []string
		if !t.emitted {
			rec, e = t.build(w.spec, mem)
			t.emitted, t.dirty = true, map[int32]bool{}
		} else {
			rec, e = t.buildDirty(w.spec, mem)
			clear(t.dirty)
		}
		out = append(out, rec)
		errs = append(errs, e...)
	}
	return out, errs
}

// buildDirty returns the updated results of the groups that changed since the
// window was emitted, in AggSchema: an upsert of (window, key).
func (t *windowTable) buildDirty(s *aggSpec, mem memory.Allocator) (arrow.RecordBatch, []string) {
	gids := make([]int32, 0, len(t.dirty))
	for g := range t.dirty {
		gids = append(gids, g)
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	sub := &windowTable{start: t.start, end: t.end, n: int32(len(gids))}
	for i, f := range s.keyStores {
		k := f()
		for _, g := range gids {
			t.keys[i].copyTo(k, g)
		}
		sub.keys = append(sub.keys, k)
	}
	for i, f := range s.aggStates {
		a := f()
		for n, g := range gids {
			a.addGroup()
			a.(mergeableState).mergeFrom(int32(n), t.aggs[i], g)
		}
		sub.aggs = append(sub.aggs, a)
	}
	return sub.build(s, mem)
}
