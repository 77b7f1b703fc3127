package exec

import (
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
// Either closes when its end <= watermark, and its state is kept for the
// allowed lateness L after that: a row joins (or merges) the windows of its key
// whose end + L is after the watermark before the row, and is late when it
// would only open a window whose end + L is not.
//
// Updating queries (L > 0 or emit_every): a window's row goes out when it
// closes, again whenever a late row changed it, and early while open; a
// session that merged or grew withdraws the rows it went out with before
// (firedMsg.withdrawn), which the changelog turns into "-D".

type span struct{ start, end int64 }

type dynWindow struct {
	start, end int64
	gid        int32
	dirty      bool   // changed since its row last went out
	prior      []span // bounds of the rows out that its next row supersedes (updating only)
}

type dynKey struct {
	kid     int32 // index in the key stores
	hash    uint64
	wins    []dynWindow
	next    int64 // the time of the key's live entry in the end heap; maxTime for none
	dropped bool  // no window left: the key is gone from the map
	inEarly bool  // listed in earlyKeys
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

	// ends orders the keys by their next event (a window to close, or to
	// forget after its lateness), so a watermark visits only the keys with
	// something to do. A key has one live entry (at dynKey.next); older
	// entries are stale and skipped. A key's event only moves earlier by a
	// new entry; when a session grows, its entry comes early and is requeued.
	ends timeHeap[*dynKey]

	// Updating queries: lateness (ms) keeps closed windows; emitEvery (ms)
	// emits the changed windows of earlyKeys when the watermark enters a new
	// period (period is the last one).
	updating                    bool
	lateness, emitEvery, period int64
	earlyKeys                   []*dynKey

	pendingRows, pendingGids []int32
	late                     []int32 // rows of the current chunk that were late
	lateWM                   []int64
}

func newDynAggregator(spec *aggSpec) *dynAggregator {
	w := spec.stage.Window
	d := &dynAggregator{spec: spec, session: w.Kind == sql.Session, keys: map[uint64][]*dynKey{},
		updating: spec.stage.Updating(), lateness: spec.stage.AllowedLateness.Milliseconds(),
		emitEvery: spec.stage.EmitEvery.Milliseconds(), period: minTime}
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
	k := &dynKey{kid: d.keyCount, hash: h, next: maxTime}
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

// schedule makes sure the key is visited by the first fire at or after t.
func (d *dynAggregator) schedule(k *dynKey, t int64) {
	if t < k.next {
		k.next = t
		d.ends.push(t, k)
	}
}

// touch marks a window of k changed by a row.
func (d *dynAggregator) touch(k *dynKey, w *dynWindow) {
	w.dirty = true
	d.schedule(k, w.end)
	if d.emitEvery > 0 && !k.inEarly {
		k.inEarly = true
		d.earlyKeys = append(d.earlyKeys, k)
	}
}

// placeSession merges the row's span [t, t+gap) with the sessions it
// overlaps that are still kept and returns the session's group.
func (d *dynAggregator) placeSession(k *dynKey, t, wm int64) (int32, bool) {
	start, end := t, t+d.span
	var merged []int // indexes into k.wins of kept overlapping sessions
	for i, w := range k.wins {
		if w.end+d.lateness <= wm {
			continue // past its lateness, to be forgotten by the next fire
		}
		if w.start < end && start < w.end {
			merged = append(merged, i)
		}
	}
	if len(merged) == 0 {
		if end+d.lateness <= wm {
			return 0, false
		}
		g := d.newGroup()
		k.wins = append(k.wins, dynWindow{start: start, end: end, gid: g})
		sort.Slice(k.wins, func(i, j int) bool { return k.wins[i].start < k.wins[j].start })
		for i := range k.wins {
			if k.wins[i].gid == g {
				d.touch(k, &k.wins[i])
			}
		}
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
		first.prior = append(first.prior, w.prior...)
		src := d.find(w.gid)
		for _, a := range d.aggs {
			a.(mergeableState).mergeFrom(dst, a, src)
		}
		d.redirect[src] = dst
		d.live--
	}
	d.touch(k, first)
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

// placeStagger puts the row in the latest kept window of its key that holds
// it, or opens [t, t+size).
func (d *dynAggregator) placeStagger(k *dynKey, t, wm int64) (int32, bool) {
	best := -1
	for i, w := range k.wins {
		if w.end+d.lateness > wm && w.start <= t && t < w.end && (best < 0 || w.start > k.wins[best].start) {
			best = i
		}
	}
	if best >= 0 {
		d.touch(k, &k.wins[best])
		return k.wins[best].gid, true
	}
	if t+d.span+d.lateness <= wm {
		return 0, false
	}
	g := d.newGroup()
	k.wins = append(k.wins, dynWindow{start: t, end: t + d.span, gid: g})
	d.touch(k, &k.wins[len(k.wins)-1])
	return g, true
}

// fire emits every changed window with end <= watermark (and, when the
// watermark enters a new emit_every period, every changed open window), in
// (start, key) order by the output stage, and forgets windows whose end +
// allowed lateness is at or before the watermark. The second record, for
// updating queries, holds the identities withdrawn (keys, bounds).
func (d *dynAggregator) fire(watermark int64, mem memory.Allocator) (out []arrow.RecordBatch, withdrawn arrow.RecordBatch, errs []string) {
	var fired []keyWindow
	var gone []keyWindow // withdrawn rows: w holds their bounds
	emit := func(k *dynKey, early bool) {
		for i := range k.wins {
			w := &k.wins[i]
			if !w.dirty || (w.end > watermark && !early) {
				continue
			}
			fired = append(fired, keyWindow{k.kid, *w})
			w.dirty = false
			if !d.updating {
				continue
			}
			now := span{w.start, w.end}
			for _, p := range w.prior {
				if p != now {
					gone = append(gone, keyWindow{k.kid, dynWindow{start: p.start, end: p.end}})
				}
			}
			w.prior = append(w.prior[:0], now)
		}
	}
	for d.ends.due(watermark) {
		at, k := d.ends.pop()
		if k.dropped || at != k.next {
			continue // stale
		}
		k.next = maxTime
		emit(k, false)
		// Forget the windows past their lateness (emit left them clean).
		kept := k.wins[:0]
		next := int64(maxTime)
		for _, w := range k.wins {
			switch {
			case w.end+d.lateness <= watermark:
				d.live--
			case w.dirty:
				kept = append(kept, w)
				next = min(next, w.end)
			default:
				kept = append(kept, w)
				next = min(next, w.end+d.lateness)
			}
		}
		clear(k.wins[len(kept):])
		k.wins = kept
		if len(k.wins) == 0 {
			d.dropKey(k)
			continue
		}
		d.schedule(k, next)
	}
	if d.emitEvery > 0 && watermark != minTime && floorDiv(watermark, d.emitEvery) > d.period {
		d.period = floorDiv(watermark, d.emitEvery)
		for _, k := range d.earlyKeys {
			k.inEarly = false
			if !k.dropped {
				emit(k, true)
			}
		}
		clear(d.earlyKeys)
		d.earlyKeys = d.earlyKeys[:0]
	}
	if len(gone) > 0 {
		withdrawn = d.buildBounds(gone, mem)
	}
	if len(fired) == 0 {
		return nil, withdrawn, nil
	}
	sort.Slice(fired, func(i, j int) bool { return fired[i].w.start < fired[j].w.start })
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
	for n, o := range fired {
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
	cols := make([]arrow.Array, 0, len(keys)+2+len(aggs))
	for _, k := range keys {
		cols = append(cols, k.build(mem))
	}
	cols = append(cols, starts.NewArray(), ends.NewArray())
	for _, a := range aggs {
		arr, e := a.build(mem)
		cols = append(cols, arr)
		errs = append(errs, e...)
	}
	rec := array.NewRecordBatch(d.spec.schema, cols, int64(len(fired)))
	for _, c := range cols {
		c.Release()
	}
	d.compact()
	return []arrow.RecordBatch{rec}, withdrawn, errs
}

// keyWindow is a window of the key at kid in the key stores.
type keyWindow struct {
	kid int32
	w   dynWindow
}

// buildBounds returns the keys and window bounds of ws, as the first columns
// of the aggregate schema.
func (d *dynAggregator) buildBounds(ws []keyWindow, mem memory.Allocator) arrow.RecordBatch {
	n := len(d.spec.keyStores)
	cols := make([]arrow.Array, 0, n+2)
	for i, f := range d.spec.keyStores {
		ks := f()
		for _, kw := range ws {
			d.keyStores[i].copyTo(ks, kw.kid)
		}
		cols = append(cols, ks.build(mem))
	}
	starts := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
	ends := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
	defer starts.Release()
	defer ends.Release()
	for _, kw := range ws {
		starts.Append(arrow.Timestamp(kw.w.start))
		ends.Append(arrow.Timestamp(kw.w.end))
	}
	cols = append(cols, starts.NewArray(), ends.NewArray())
	sch := arrow.NewSchema(d.spec.schema.Fields()[:n+2], nil)
	rec := array.NewRecordBatch(sch, cols, int64(len(ws)))
	for _, c := range cols {
		c.Release()
	}
	return rec
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
	k.dropped = true
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
func (j *Job) dynWorker(ctx context.Context, agg *dynAggregator, w int, in <-chan workerMsg, fired chan<- firedMsg) {
	for m := range in {
		if m.barrier != 0 {
			fired <- firedMsg{epoch: m.epoch, barrier: m.barrier, worker: w, state: agg.snapshot()}
			continue
		}
		if m.chunk == nil {
			recs, withdrawn, errs := agg.fire(m.watermark, j.mem)
			msg := firedMsg{epoch: m.epoch, watermark: m.watermark, recs: recs, errs: errs}
			if withdrawn != nil {
				msg.withdrawn = []arrow.RecordBatch{withdrawn}
			}
			fired <- msg
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
