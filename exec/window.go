package exec

import (
	"cmp"
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

// keyDict interns one worker's group keys: each distinct key gets a dense id
// that every window holding it shares, so a row's key is hashed and compared
// once however many windows (HOP) it lands in. Ids that no open window holds
// are reclaimed by compaction, so memory follows open windows x keys.
type keyDict struct {
	heads  map[uint64]int32
	next   []int32
	hashes []uint64
	stores []keyStore
	refs   []int32 // open windows holding each id
	n      int32
	live   int // ids with refs > 0
	// rank orders the ids by key; valid while rankN == n (no key added since).
	rank  []int32
	rankN int32
}

// ranks returns every id's position in key order, recomputing it only when
// keys were added since the last call: windows then order their groups by an
// integer instead of comparing keys.
func (d *keyDict) ranks() []int32 {
	if d.rankN == d.n && d.rank != nil {
		return d.rank
	}
	ids := make([]int32, d.n)
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortFunc(ids, d.compare)
	d.rank = slices.Grow(d.rank[:0], int(d.n))[:d.n]
	for pos, id := range ids {
		d.rank[id] = int32(pos)
	}
	d.rankN = d.n
	return d.rank
}

func newKeyDict(spec *aggSpec) *keyDict {
	d := &keyDict{heads: map[uint64]int32{}}
	for _, f := range spec.keyStores {
		d.stores = append(d.stores, f())
	}
	return d
}

// id returns the row's key id, creating it when new.
func (d *keyDict) id(keyArrs []arrow.Array, row int, h uint64) int32 {
	k, ok := d.heads[h]
	for ok && k >= 0 {
		if d.hashes[k] == h && d.equal(keyArrs, row, k) {
			return k
		}
		k = d.next[k]
	}
	k = d.n
	d.n++
	prev, had := d.heads[h]
	if !had {
		prev = -1
	}
	d.next = append(d.next, prev)
	d.heads[h] = k
	d.hashes = append(d.hashes, h)
	d.refs = append(d.refs, 0)
	for i, s := range d.stores {
		s.add(keyArrs[i], row)
	}
	return k
}

func (d *keyDict) equal(keyArrs []arrow.Array, row int, k int32) bool {
	for i, s := range d.stores {
		if !s.equal(keyArrs[i], row, k) {
			return false
		}
	}
	return true
}

func (d *keyDict) compare(a, b int32) int {
	for _, s := range d.stores {
		if c := s.compare(a, b); c != 0 {
			return c
		}
	}
	return 0
}

func (d *keyDict) ref(k int32) {
	if d.refs[k] == 0 {
		d.live++
	}
	d.refs[k]++
}

func (d *keyDict) unref(k int32) {
	d.refs[k]--
	if d.refs[k] == 0 {
		d.live--
	}
}

// compacted returns a dictionary of the live ids and the old -> new id map,
// or nil when the dictionary is still mostly live.
func (d *keyDict) compacted(spec *aggSpec) (*keyDict, []int32) {
	if int(d.n) < 2*d.live+1024 {
		return nil, nil
	}
	nd := newKeyDict(spec)
	remap := make([]int32, d.n)
	for k := range d.n {
		remap[k] = -1
		if d.refs[k] == 0 {
			continue
		}
		nk := nd.n
		nd.n++
		remap[k] = nk
		for i, s := range d.stores {
			s.copyTo(nd.stores[i], k)
		}
		h := d.hashes[k]
		prev, had := nd.heads[h]
		if !had {
			prev = -1
		}
		nd.next = append(nd.next, prev)
		nd.heads[h] = nk
		nd.hashes = append(nd.hashes, h)
		nd.refs = append(nd.refs, d.refs[k])
		nd.live++
	}
	return nd, remap
}

// windowTable is the state of one window instance: a group per key id present,
// with the aggregate states of the groups.
type windowTable struct {
	start, end int64
	gidOf      []int32 // by key id; -1 when the key has no group here
	keyIDs     []int32 // by group id
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
	t := &windowTable{start: start, end: end, dirty: map[int32]bool{}}
	for _, f := range s.aggStates {
		t.aggs = append(t.aggs, f())
	}
	return t
}

// group returns the id of key k's group, creating it when new.
func (t *windowTable) group(k int32, dict *keyDict) int32 {
	if int(k) < len(t.gidOf) {
		if g := t.gidOf[k]; g >= 0 {
			return g
		}
	} else {
		old := len(t.gidOf)
		size := max(int(k)+1, old+old/2, 64)
		t.gidOf = slices.Grow(t.gidOf, size-old)[:size]
		for i := old; i < size; i++ {
			t.gidOf[i] = -1
		}
	}
	g := t.n
	t.n++
	t.gidOf[k] = g
	t.keyIDs = append(t.keyIDs, k)
	dict.ref(k)
	for _, a := range t.aggs {
		a.addGroup()
	}
	return g
}

// release drops the table's references to its keys.
func (t *windowTable) release(dict *keyDict) {
	for _, k := range t.keyIDs {
		dict.unref(k)
	}
}

// remap moves the table to a compacted dictionary's ids.
func (t *windowTable) remap(remap []int32, n int32) {
	gidOf := make([]int32, n)
	for i := range gidOf {
		gidOf[i] = -1
	}
	for g, k := range t.keyIDs {
		nk := remap[k]
		t.keyIDs[g] = nk
		gidOf[nk] = int32(g)
	}
	t.gidOf = gidOf
}

// build returns the groups gids (all when nil) of the window as rows of
// AggSchema ordered by key, and the messages of aggregates that failed.
func (t *windowTable) build(s *aggSpec, dict *keyDict, gids []int32, mem memory.Allocator) (arrow.RecordBatch, []string) {
	aggs := t.aggs
	if gids != nil { // a subset: copy its states out
		aggs = make([]aggState, len(t.aggs))
		for i, f := range s.aggStates {
			a := f()
			for n, g := range gids {
				a.addGroup()
				a.(mergeableState).mergeFrom(int32(n), t.aggs[i], g)
			}
			aggs[i] = a
		}
	} else {
		gids = make([]int32, t.n)
		for i := range gids {
			gids[i] = int32(i)
		}
	}
	n := len(gids)
	// Order by key: positions into gids.
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	rank := dict.ranks()
	byKey := func(a, b int32) int { return cmp.Compare(rank[t.keyIDs[gids[a]]], rank[t.keyIDs[gids[b]]]) }
	sorted := slices.IsSortedFunc(order, byKey)
	if !sorted {
		slices.SortFunc(order, byKey)
	}
	cols := make([]arrow.Array, 0, len(dict.stores)+2+len(aggs))
	for i, f := range s.keyStores {
		ks := f()
		for _, o := range order {
			dict.stores[i].copyTo(ks, t.keyIDs[gids[o]])
		}
		cols = append(cols, ks.build(mem))
	}
	cols = append(cols, constTimestamp(t.start, n, mem), constTimestamp(t.end, n, mem))
	var errs []string
	for _, a := range aggs {
		arr, e := a.build(mem)
		errs = append(errs, e...)
		if !sorted {
			taken, err := eval.Take(arr, order, mem)
			if err != nil {
				panic(fmt.Sprintf("exec: order window rows: %v", err)) // only fails on bad indexes
			}
			arr.Release()
			arr = taken
		}
		cols = append(cols, arr)
	}
	rec := array.NewRecordBatch(s.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec, errs
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
// closes when start+size <= wm.
func (a assigner) firstOpen(wm int64) int64 {
	if wm == minTime {
		return minTime
	}
	return floorDiv(wm-a.size-a.offset, a.slide)*a.slide + a.offset + a.slide
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

// windowAggregator is one worker's aligned windows (TUMBLE, HOP).
type windowAggregator struct {
	spec   *aggSpec
	assign assigner
	dict   *keyDict
	tables map[int64]*windowTable
	// the table of the previous row, which is usually the next row's too
	last *windowTable
	// lateness is how long (ms) a window's state outlives its close for late rows.
	lateness int64
	// emitEvery (ms), when set, emits open windows' changed groups early;
	// period is the emit_every period of the last early firing.
	emitEvery, period int64
}

func newWindowAggregator(spec *aggSpec) *windowAggregator {
	return &windowAggregator{spec: spec, assign: newAssigner(spec.stage.Window), dict: newKeyDict(spec),
		tables: map[int64]*windowTable{}, lateness: spec.stage.AllowedLateness.Milliseconds(),
		emitEvery: spec.stage.EmitEvery.Milliseconds(), period: minTime}
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
		k := w.dict.id(c.keys, int(r), c.hashes[r])
		lastStart := w.assign.lastStart(c.times[r])
		for start := c.starts[r]; start <= lastStart; start += w.assign.slide {
			t := w.table(start, &touched)
			g := t.group(k, w.dict)
			if t.emitted || w.emitEvery > 0 {
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

// fire returns, in window order, the results of every window whose end is at
// or before the watermark and has not been emitted, and the updated groups of
// emitted windows that late rows changed; windows past their allowed lateness
// are dropped and their keys released.
func (w *windowAggregator) fire(watermark int64, mem memory.Allocator) ([]arrow.RecordBatch, []string) {
	var due, expired []*windowTable
	var early []*windowTable
	// Early firing: open windows' changed groups go out each time the
	// watermark enters a new emit_every period.
	newPeriod := w.emitEvery > 0 && watermark != minTime && floorDiv(watermark, w.emitEvery) > w.period
	if newPeriod {
		w.period = floorDiv(watermark, w.emitEvery)
	}
	for start, t := range w.tables {
		if t.end <= watermark && (!t.emitted || len(t.dirty) > 0) {
			due = append(due, t)
		}
		if newPeriod && t.end > watermark && len(t.dirty) > 0 {
			early = append(early, t)
		}
		if t.end+w.lateness <= watermark {
			expired = append(expired, t)
			delete(w.tables, start)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].start < due[j].start })
	sort.Slice(early, func(i, j int) bool { return early[i].start < early[j].start })
	w.last = nil
	var out []arrow.RecordBatch
	var errs []string
	for _, t := range early {
		gids := make([]int32, 0, len(t.dirty))
		for g := range t.dirty {
			gids = append(gids, g)
		}
		slices.Sort(gids)
		clear(t.dirty)
		rec, e := t.build(w.spec, w.dict, gids, mem)
		out = append(out, rec)
		errs = append(errs, e...)
	}
	for _, t := range due {
		var gids []int32 // nil: all
		if t.emitted || w.emitEvery > 0 {
			// Only changed groups: with emit_every every row marks its group
			// changed, so those not among them went out early as they are.
			gids = make([]int32, 0, len(t.dirty))
			for g := range t.dirty {
				gids = append(gids, g)
			}
			slices.Sort(gids)
		}
		t.emitted = true
		clear(t.dirty)
		if gids != nil && len(gids) == 0 {
			continue
		}
		rec, e := t.build(w.spec, w.dict, gids, mem)
		out = append(out, rec)
		errs = append(errs, e...)
	}
	for _, t := range expired {
		t.release(w.dict)
	}
	if len(expired) > 0 {
		if nd, remap := w.dict.compacted(w.spec); nd != nil {
			for _, t := range w.tables {
				t.remap(remap, nd.n)
			}
			w.dict = nd
		}
	}
	return out, errs
}

// heldKeys is the number of key ids the worker stores, for memory tests.
func (w *windowAggregator) heldKeys() int { return int(w.dict.n) }
