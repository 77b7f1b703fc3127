package exec

import (
	"container/heap"
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql"
)

// Per-key windows: SESSION and STAGGER windows belong to one key and start
// where that key's rows put them, so they are kept per key rather than per
// aligned start.
//
// SESSION(t, gap): a row at t spans [t, t+gap); a session is the union of
// overlapping spans of one key, so a row that bridges two sessions merges them.
// STAGGER(t, size) (Kinesis Data Analytics): a key's window opens at its first
// row's time t and is [t, t+size); a row joins the latest window of its key
// that holds it, or opens a new one at its own time.
//
// Either closes when its end <= watermark. A row is late when it would only
// open a window that is already closed at the watermark after the row (it
// joins any open window of its key that holds it).

type dynWindow struct {
	start, end int64
	gid        int32
}

type dynKey struct {
	kid  int32 // index in the key stores
	hash uint64
	wins []dynWindow
}

// endHeap orders the keys by the end of a window they hold, so a watermark
// visits only the keys with a window to close. Entries go stale when a session
// is extended or merged; fire skips those.
type endEntry struct {
	end int64
	k   *dynKey
}

type endHeap []endEntry

func (h endHeap) Len() int           { return len(h) }
func (h endHeap) Less(i, j int) bool { return h[i].end < h[j].end }
func (h endHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)        { *h = append(*h, x.(endEntry)) }
func (h *endHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type dynAggregator struct {
	spec    *aggSpec
	session bool
	span    int64 // the session gap or the stagger size, ms

	keys      map[uint64][]*dynKey // by key hash; chained on collisions
	keyStores []keyStore
	keyCount  int32 // entries in keyStores (live or not)
	liveKeys  int

	aggs     []aggState
	groups   int32   // entries in aggs (live or not)
	redirect []int32 // merged session groups point at the group they joined
	live     int     // open windows

	ends endHeap

	pendingRows, pendingGids []int32
	late                     []int32 // rows of the current chunk that were late
	lateWM                   []int64
}

func newDynAggregator(spec *aggSpec) *dynAggregator {
	w := spec.stage.Window
	d := &dynAggregator{spec: spec, session: w.Kind == sql.Session, keys: map[uint64][]*dynKey{}}
	d.span = w.Size.Milliseconds()
	if d.session {
		d.span = w.Gap.Milliseconds()
	}
	d.reset()
	return d
}

// reset gives the aggregator empty stores.
func (d *dynAggregator) reset() {
	d.keyStores = d.keyStores[:0]
	for _, f := range d.spec.keyStores {
		d.keyStores = append(d.keyStores, f())
	}
	d.aggs = d.aggs[:0]
	for _, f := range d.spec.aggStates {
		d.aggs = append(d.aggs, f())
	}
	d.keyCount, d.groups, d.redirect = 0, 0, d.redirect[:0]
}

func (d *dynAggregator) newGroup() int32 {
	for _, a := range d.aggs {
		a.addGroup()
	}
	d.redirect = append(d.redirect, d.groups)
	d.groups++
	d.live++
	return d.groups - 1
}

func (d *dynAggregator) find(g int32) int32 {
	for d.redirect[g] != g {
		g = d.redirect[g]
	}
	return g
}

// key returns the row's key state, creating it when new.
func (d *dynAggregator) key(keyArrs []arrow.Array, row int, h uint64) *dynKey {
	for _, k := range d.keys[h] {
		eq := true
		for i, ks := range d.keyStores {
			if !ks.equal(keyArrs[i], row, k.kid) {
				eq = false
				break
			}
		}
		if eq {
			return k
		}
	}
	for i, ks := range d.keyStores {
		ks.add(keyArrs[i], row)
	}
	k := &dynKey{kid: d.keyCount, hash: h}
	d.keyCount++
	d.liveKeys++
	d.keys[h] = append(d.keys[h], k)
	return k
}

// add places the chunk's rows in their keys' windows. wmAt is the watermark
// after each row; rows that can only open a closed window are returned late.
func (d *dynAggregator) add(c *aggChunk) {
	d.pendingRows, d.pendingGids, d.late, d.lateWM = d.pendingRows[:0], d.pendingGids[:0], d.late[:0], d.lateWM[:0]
	for _, r := range c.rows {
		t, wm := c.times[r], c.wmAt[r]
		k := d.key(c.keys, int(r), c.hashes[r])
		var g int32
		var ok bool
		if d.session {
			g, ok = d.placeSession(k, t, wm)
		} else {
			g, ok = d.placeStagger(k, t, wm)
		}
		if !ok {
			d.late = append(d.late, r)
			d.lateWM = append(d.lateWM, wm)
			continue
		}
		d.pendingRows = append(d.pendingRows, r)
		d.pendingGids = append(d.pendingGids, g)
	}
	for i, g := range d.pendingGids {
		d.pendingGids[i] = d.find(g)
	}
	for i, a := range d.aggs {
		a.update(c.args[i], c.times, d.pendingRows, d.pendingGids)
	}
}

// placeSession merges the row's span [t, t+gap) with the open sessions it
// overlaps and returns the session's group.
func (d *dynAggregator) placeSession(k *dynKey, t, wm int64) (int32, bool) {
	start, end := t, t+d.span
	var merged []int // indexes into k.wins of open overlapping sessions
	for i, w := range k.wins {
		if w.end <= wm {
			continue // closed, waiting to be emitted
		}
		if w.start < end && start < w.end {
			merged = append(merged, i)
		}
	}
	if len(merged) == 0 {
		if end <= wm {
			return 0, false
		}
		g := d.newGroup()
		k.wins = append(k.wins, dynWindow{start: start, end: end, gid: g})
		sort.Slice(k.wins, func(i, j int) bool { return k.wins[i].start < k.wins[j].start })
		heap.Push(&d.ends, endEntry{end, k})
		return g, true
	}
	// Merge every overlapped session into the first; a merged group's pending
	// rows follow it through redirect.
	first := &k.wins[merged[0]]
	first.start, first.end = min(first.start, start), max(first.end, end)
	dst := d.find(first.gid)
	for _, i := range merged[1:] {
		w := k.wins[i]
		first.start, first.end = min(first.start, w.start), max(first.end, w.end)
		src := d.find(w.gid)
		for _, a := range d.aggs {
			a.(mergeableState).mergeFrom(dst, a, src)
		}
		d.redirect[src] = dst
		d.live--
	}
	if len(merged) > 1 {
		keep := k.wins[:0]
		drop := map[int]bool{}
		for _, i := range merged[1:] {
			drop[i] = true
		}
		for i, w := range k.wins {
			if !drop[i] {
				keep = append(keep, w)
			}
		}
		k.wins = keep
	}
	return dst, true
}

// placeStagger puts the row in the latest open window of its key that holds
// it, or opens [t, t+size).
func (d *dynAggregator) placeStagger(k *dynKey, t, wm int64) (int32, bool) {
	best := -1
	for i, w := range k.wins {
		if w.end > wm && w.start <= t && t < w.end && (best < 0 || w.start > k.wins[best].start) {
			best = i
		}
	}
	if best >= 0 {
		return k.wins[best].gid, true
	}
	if t+d.span <= wm {
		return 0, false
	}
	g := d.newGroup()
	k.wins = append(k.wins, dynWindow{start: t, end: t + d.span, gid: g})
	heap.Push(&d.ends, endEntry{t + d.span, k})
	return g, true
}

// fire emits every window with end <= watermark, in (start, key) order by
// the output stage, and frees their state.
func (d *dynAggregator) fire(watermark int64, mem memory.Allocator) ([]arrow.RecordBatch, []string) {
	type due struct {
		kid int32
		w   dynWindow
	}
	var out []due
	for len(d.ends) > 0 && d.ends[0].end <= watermark {
		k := heap.Pop(&d.ends).(endEntry).k
		if len(k.wins) == 0 {
			continue // already emitted through another entry
		}
		// Sessions grow after their entry was pushed: the key's earliest end
		// decides whether anything closes now; if not, requeue it there.
		earliest := k.wins[0].end
		for _, w := range k.wins[1:] {
			earliest = min(earliest, w.end)
		}
		if earliest-1 > watermark {
			heap.Push(&d.ends, endEntry{earliest, k})
			continue
		}
		open := k.wins[:0]
		for _, w := range k.wins {
			if w.end <= watermark {
				out = append(out, due{k.kid, w})
			} else {
				open = append(open, w)
			}
		}
		k.wins = open
		if len(k.wins) == 0 {
			d.dropKey(k)
		} else {
			next := k.wins[0].end
			for _, w := range k.wins[1:] {
				next = min(next, w.end)
			}
			heap.Push(&d.ends, endEntry{next, k})
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i].w.start < out[j].w.start })
	// Copy the due windows' keys and states into fresh stores and build them.
	keys := make([]keyStore, len(d.spec.keyStores))
	for i, f := range d.spec.keyStores {
		keys[i] = f()
	}
	aggs := make([]aggState, len(d.spec.aggStates))
	for i, f := range d.spec.aggStates {
		aggs[i] = f()
	}
	starts := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
	ends := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
	defer starts.Release()
	defer ends.Release()
	for n, o := range out {
		for i, k := range d.keyStores {
			k.copyTo(keys[i], o.kid)
		}
		for i, a := range aggs {
			a.addGroup()
			a.(mergeableState).mergeFrom(int32(n), d.aggs[i], d.find(o.w.gid))
		}
		starts.Append(arrow.Timestamp(o.w.start))
		ends.Append(arrow.Timestamp(o.w.end))
	}
	d.live -= len(out)
	cols := make([]arrow.Array, 0, len(keys)+2+len(aggs))
	for _, k := range keys {
		cols = append(cols, k.build(mem))
	}
	cols = append(cols, starts.NewArray(), ends.NewArray())
	var errs []string
	for _, a := range aggs {
		arr, e := a.build(mem)
		cols = append(cols, arr)
		errs = append(errs, e...)
	}
	rec := array.NewRecordBatch(d.spec.schema, cols, int64(len(out)))
	for _, c := range cols {
		c.Release()
	}
	d.compact()
	return []arrow.RecordBatch{rec}, errs
}

// dropKey forgets a key with no open window.
func (d *dynAggregator) dropKey(k *dynKey) {
	list := d.keys[k.hash]
	for i, c := range list {
		if c == k {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(d.keys, k.hash)
	} else {
		d.keys[k.hash] = list
	}
	d.liveKeys--
}

// compact rebuilds the stores with only live keys and windows once most of
// what they hold is dead, so memory follows open windows x keys.
func (d *dynAggregator) compact() {
	if int(d.keyCount) < 2*d.liveKeys+1024 && int(d.groups) < 2*d.live+1024 {
		return
	}
	oldKeys, oldAggs := d.keyStores, d.aggs
	oldFind := d.find
	d.keyStores, d.aggs = nil, nil
	redirect := d.redirect
	d.redirect = nil
	d.reset()
	d.live = 0
	find := func(g int32) int32 {
		for redirect[g] != g {
			g = redirect[g]
		}
		return g
	}
	_ = oldFind
	for _, list := range d.keys {
		for _, k := range list {
			for i, ks := range oldKeys {
				ks.copyTo(d.keyStores[i], k.kid)
			}
			k.kid = d.keyCount
			d.keyCount++
			for wi := range k.wins {
				g := d.newGroup()
				src := find(k.wins[wi].gid)
				for i, a := range d.aggs {
					a.(mergeableState).mergeFrom(g, oldAggs[i], src)
				}
				k.wins[wi].gid = g
			}
		}
	}
}

func (d *dynAggregator) String() string {
	return fmt.Sprintf("dynAggregator{keys %d/%d, windows %d/%d}", d.liveKeys, d.keyCount, d.live, d.groups)
}

// dynamic says whether the job's windows are per key (SESSION, STAGGER).
func (j *Job) dynamic() bool {
	k := j.plan.Agg.Window.Kind
	return k == sql.Session || k == sql.Stagger
}

// dynWorker is an aggregation worker for per-key windows: it decides
// lateness itself, since only it knows the key's open windows.
func (j *Job) dynWorker(ctx context.Context, in <-chan workerMsg, fired chan<- firedMsg) {
	agg := newDynAggregator(j.spec)
	for m := range in {
		if m.chunk == nil {
			recs, errs := agg.fire(m.watermark, j.mem)
			fired <- firedMsg{epoch: m.epoch, recs: recs, errs: errs}
			continue
		}
		c := m.chunk
		agg.add(c)
		if len(agg.late) > 0 {
			now := j.opts.Now()
			errs := make([]ErrorRecord, len(agg.late))
			for i, r := range agg.late {
				errs[i] = ErrorRecord{Kind: ErrorLate, Source: j.opts.SourceName, Split: c.split, Position: c.position,
					Raw: rowJSON(c.rec, int(r)), At: now,
					Reason: fmt.Sprintf("event time %s is late: a %s window opened by it would end by %s, at or before the watermark %s, and no open window of its key holds it",
						fmtMillis(c.times[r]), j.plan.Agg.Window.Kind, fmtMillis(c.times[r]+agg.span), fmtMillis(agg.lateWM[i]))}
			}
			j.stats.late.Add(int64(len(errs)))
			j.reportErrors(ctx, errs)
		}
		c.done()
	}
}
