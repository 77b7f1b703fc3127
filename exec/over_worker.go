package exec

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// An OVER worker owns the partitions whose key hashes to it. Rows arrive in
// chunks, wait in sorted runs until the watermark reaches their time, and are
// then processed in (time, arrival) order: each function's state for the
// row's partition gives the row its value (LEAD's later), and the finished
// rows leave as one record per watermark, in (time, arrival) order.

// overChunk is one batch's contribution to the OVER workers: the evaluated
// columns of the whole batch, shared read-only by every worker that got rows
// of it, and released when the last of those has emitted its rows.
type overChunk struct {
	keys   []arrow.Array
	args   []arrow.Array   // per function; nil where it has no argument
	defs   []arrow.Array   // per function: LAG/LEAD defaults; nil for none
	extra  [][]arrow.Array // per function: a forest's columns; nil for others
	carry  []arrow.Array   // the columns SELECT reads, passed through
	times  []int64
	hashes []uint64
	seq0   int64 // the arrival number of the batch's row 0
	refs   atomic.Int32
	cols   []arrow.Array // every array above, for release
}

func (c *overChunk) release() {
	if c.refs.Add(-1) == 0 {
		for _, a := range c.cols {
			a.Release()
		}
		c.cols = nil
	}
}

// chunkRef is one worker's share of a chunk: left counts its rows not yet emitted.
type chunkRef struct {
	c    *overChunk
	left int
}

// overRow is a processed row waiting to be emitted: its values so far, and
// how many LEAD values are still missing.
type overRow struct {
	t, seq  int64
	ref     *chunkRef
	row     int32
	missing int32
	cells   []cell
}

// pendRow is a received row that the watermark has not reached.
type pendRow struct {
	t, seq int64
	p      *overPart
	ref    *chunkRef
	row    int32
}

func pendLess(a, b *pendRow) bool { return a.t < b.t || (a.t == b.t && a.seq < b.seq) }

// pendRun is a run of received rows sorted by (time, arrival).
type pendRun struct {
	rows []pendRow
	head int
}

// overPart is one partition: its key, row count and function states.
type overPart struct {
	hash    uint64
	key     string
	next    *overPart // the next partition of the same hash
	n       int64     // rows processed: ROW_NUMBER
	states  []fnState // per function; nil for ROW_NUMBER
	pending int       // rows received, not processed
	batch   []int32   // rows being released (overWorker.release)
	timer   int64     // smallest watermark at which a state expires something
	heapIdx int       // in overWorker.timers; -1 when not there
	dirty   bool
	dropped bool
}

type overWorker struct {
	spec    *overSpec
	mem     memory.Allocator
	parts   map[uint64]*overPart
	nparts  int
	keyBuf  []byte
	runs    []*pendRun // a heap by head row
	tail    *pendRun   // the run last added, which a sorted chunk may extend
	timers  []*overPart
	dirty   []*overPart
	done    []*overRow
	errs    []string
	refs    []*chunkRef // live shares, in arrival order
	rel     []pendRow   // rows being released
	rowBuf  []overRow   // reused for the released rows when no row waits for LEAD
	cellBuf []cell
	// RANDOM_CUT_FOREST: each function's forests by last use, a use counter,
	// and the job's eviction count.
	forests         map[int]*forestLRU
	forestTick      uint64
	forestEvictions *atomic.Int64
}

func newOverWorker(spec *overSpec, mem memory.Allocator) *overWorker {
	return &overWorker{spec: spec, mem: mem, parts: map[uint64]*overPart{}}
}

// overMsg is what the scan stage sends a worker: the rows of a chunk that are
// its (none: chunk nil), and the watermark after the batch; or a checkpoint
// barrier.
type overMsg struct {
	chunk   *overChunk
	rows    []int32
	wm      int64
	epoch   int64
	barrier int64
}

// overOut is a worker's answer to a message: the rows it finished, in
// (time, arrival) order, with their times and arrival numbers; at a barrier,
// its index and state.
type overOut struct {
	epoch int64
	rec   arrow.RecordBatch // nil for none
	times []int64
	seqs  []int64
	errs  []string
	barrierPart
}

func (w *overWorker) handle(m overMsg) overOut {
	if m.chunk != nil {
		w.intake(m.chunk, m.rows)
	}
	w.release(m.wm)
	w.updateTimers()
	w.expire(m.wm)
	out := overOut{epoch: m.epoch, errs: w.errs}
	w.errs = nil
	out.rec, out.times, out.seqs = w.build()
	return out
}

// close releases the chunks of rows never emitted (a cancelled run).
func (w *overWorker) close() {
	for _, r := range w.refs {
		if r.left > 0 {
			r.left = 0
			r.c.release()
		}
	}
	w.refs = nil
}

func (w *overWorker) intake(c *overChunk, rows []int32) {
	ref := &chunkRef{c: c, left: len(rows)}
	w.refs = append(w.refs, ref)
	run := make([]pendRow, len(rows))
	sorted := true
	for k, r := range rows {
		p := w.partition(c, int(r))
		p.pending++
		run[k] = pendRow{t: c.times[r], seq: c.seq0 + int64(r), p: p, ref: ref, row: r}
		if k > 0 && run[k].t < run[k-1].t {
			sorted = false
		}
	}
	if !sorted {
		slices.SortFunc(run, func(a, b pendRow) int {
			if c := cmp.Compare(a.t, b.t); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
	}
	if t := w.tail; t != nil && !pendLess(&run[0], &t.rows[len(t.rows)-1]) {
		t.rows = append(t.rows, run...) // its head, and so the heap, is unchanged
		return
	}
	w.tail = &pendRun{rows: run}
	w.runs = append(w.runs, w.tail)
	w.runUp(len(w.runs) - 1)
}

// partition finds or creates the partition of row i of chunk c.
func (w *overWorker) partition(c *overChunk, i int) *overPart {
	h := c.hashes[i]
	key := w.encodeKey(c.keys, i)
	for p := w.parts[h]; p != nil; p = p.next {
		if p.key == string(key) {
			return p
		}
	}
	p := &overPart{hash: h, key: string(key), next: w.parts[h], heapIdx: -1, timer: maxTime}
	p.states = make([]fnState, len(w.spec.makers))
	for f, mk := range w.spec.makers {
		if mk != nil {
			p.states[f] = mk()
		}
	}
	w.parts[h] = p
	w.nparts++
	return p
}

// encodeKey renders row i's partition key as bytes that are equal exactly
// when the keys are (NULL apart from every value, -0 = +0, one NaN).
func (w *overWorker) encodeKey(keys []arrow.Array, i int) []byte {
	b := w.keyBuf[:0]
	for _, k := range keys {
		if k.IsNull(i) {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		switch a := k.(type) {
		case *array.Int64:
			b = binary.LittleEndian.AppendUint64(b, uint64(a.Value(i)))
		case *array.Timestamp:
			b = binary.LittleEndian.AppendUint64(b, uint64(a.Value(i)))
		case *array.Float64:
			v := a.Value(i)
			switch {
			case v == 0:
				v = 0
			case math.IsNaN(v):
				v = math.NaN()
			}
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case *array.Decimal128:
			v := a.Value(i)
			b = binary.LittleEndian.AppendUint64(b, v.LowBits())
			b = binary.LittleEndian.AppendUint64(b, uint64(v.HighBits()))
		case *array.String:
			s := a.Value(i)
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		case *array.Boolean:
			if a.Value(i) {
				b = append(b, 1)
			} else {
				b = append(b, 2)
			}
		}
	}
	w.keyBuf = b
	return b
}

// release processes, in (time, arrival) order, every received row whose
// time the watermark has reached.
//
// The rows are taken from the runs in that order, then processed partition
// by partition (each partition's in order), which keeps a partition's state
// in the cache while it takes its rows; the finished rows keep their places
// in the order.
func (w *overWorker) release(wm int64) {
	rel := w.rel[:0]
	for len(w.runs) > 0 {
		rn := w.runs[0]
		pr := &rn.rows[rn.head]
		if pr.t > wm {
			break
		}
		rel = append(rel, *pr)
		*pr = pendRow{}
		rn.head++
		if rn.head == len(rn.rows) {
			if rn == w.tail {
				w.tail = nil
			}
			last := len(w.runs) - 1
			w.runs[0] = w.runs[last]
			w.runs[last] = nil
			w.runs = w.runs[:last]
		} else if rn.head >= 1024 && 2*rn.head >= len(rn.rows) {
			n := copy(rn.rows, rn.rows[rn.head:])
			clear(rn.rows[n:])
			rn.rows, rn.head = rn.rows[:n], 0
		}
		if len(w.runs) > 1 {
			w.runDown(0)
		}
	}
	if len(rel) == 0 {
		return
	}
	var touched []*overPart
	for k := range rel {
		p := rel[k].p
		if len(p.batch) == 0 {
			touched = append(touched, p)
		}
		p.batch = append(p.batch, int32(k))
	}
	// The rows' values, in release order so that build reads them in order.
	// Without LEAD no row outlives this watermark, so the buffers are reused.
	nf := len(w.spec.makers)
	var rows []overRow
	var cells []cell
	if w.spec.hasLead {
		rows, cells = make([]overRow, len(rel)), make([]cell, len(rel)*nf)
	} else {
		if cap(w.rowBuf) < len(rel) {
			w.rowBuf, w.cellBuf = make([]overRow, len(rel)), make([]cell, len(rel)*nf)
		}
		rows, cells = w.rowBuf[:len(rel)], w.cellBuf[:len(rel)*nf]
		clear(cells)
	}
	base := len(w.done)
	w.done = slices.Grow(w.done, len(rel))[:base+len(rel)]
	for _, p := range touched {
		for _, k := range p.batch {
			r := &rows[k]
			pr := &rel[k]
			*r = overRow{t: pr.t, seq: pr.seq, ref: pr.ref, row: pr.row, cells: cells[int(k)*nf : int(k+1)*nf : int(k+1)*nf]}
			w.process(pr, r, base+int(k))
		}
		p.batch = p.batch[:0]
	}
	// Drop the places of rows still waiting for a LEAD.
	n := base
	for _, r := range w.done[base:] {
		if r != nil {
			w.done[n] = r
			n++
		}
	}
	clear(w.done[n:])
	w.done = w.done[:n]
	clear(rel)
	w.rel = rel[:0]
}

func (w *overWorker) runLess(i, j int) bool {
	a, b := w.runs[i], w.runs[j]
	return pendLess(&a.rows[a.head], &b.rows[b.head])
}

func (w *overWorker) runUp(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !w.runLess(i, parent) {
			return
		}
		w.runs[i], w.runs[parent] = w.runs[parent], w.runs[i]
		i = parent
	}
}

func (w *overWorker) runDown(i int) {
	n := len(w.runs)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && w.runLess(r, l) {
			m = r
		}
		if !w.runLess(m, i) {
			return
		}
		w.runs[i], w.runs[m] = w.runs[m], w.runs[i]
		i = m
	}
}

// process gives a released row the values of its partition's functions; a
// finished row goes to w.done[slot].
func (w *overWorker) process(pr *pendRow, r *overRow, slot int) {
	p := pr.p
	p.pending--
	p.n++
	c := pr.ref.c
	for f, st := range p.states {
		if st == nil {
			r.cells[f] = cell{n: p.n, ok: true}
			continue
		}
		if fs, ok := st.(forestArgs); ok {
			fs.pushArgs(w, r, f, c.extra[f])
			continue
		}
		st.push(w, r, f, c.args[f], c.defs[f])
	}
	if r.missing == 0 {
		w.done[slot] = r
	}
	if !p.dirty {
		p.dirty = true
		w.dirty = append(w.dirty, p)
	}
}

// settled is called by LEAD when it gives a waiting row its value.
func (w *overWorker) settled(r *overRow) {
	r.missing--
	if r.missing == 0 {
		w.done = append(w.done, r)
	}
}

func (p *overPart) nextTimer() int64 {
	t := int64(maxTime)
	for _, st := range p.states {
		if st != nil {
			t = min(t, st.next())
		}
	}
	return t
}

func (w *overWorker) droppable(p *overPart) bool {
	if w.spec.keepParts || p.pending > 0 {
		return false
	}
	for _, st := range p.states {
		if st != nil && !st.empty() {
			return false
		}
	}
	return true
}

// updateTimers files the partitions that processed rows under their new
// timers, and drops those left with nothing.
func (w *overWorker) updateTimers() {
	for i, p := range w.dirty {
		w.dirty[i] = nil
		p.dirty = false
		if p.dropped {
			continue
		}
		if w.droppable(p) {
			w.drop(p)
			continue
		}
		w.setTimer(p, p.nextTimer())
	}
	w.dirty = w.dirty[:0]
}

// expire lets every partition whose timer the watermark has reached drop
// what no later row can need; partitions left empty are dropped.
func (w *overWorker) expire(wm int64) {
	for len(w.timers) > 0 && w.timers[0].timer <= wm {
		p := w.timers[0]
		for _, st := range p.states {
			if st != nil {
				st.expire(w, wm)
			}
		}
		if w.droppable(p) {
			w.drop(p)
			continue
		}
		w.setTimer(p, p.nextTimer())
	}
}

func (w *overWorker) drop(p *overPart) {
	p.dropped = true
	if p.heapIdx >= 0 {
		w.timerRemove(p.heapIdx)
	}
	head := w.parts[p.hash]
	if head == p {
		if p.next == nil {
			delete(w.parts, p.hash)
		} else {
			w.parts[p.hash] = p.next
		}
	} else {
		for q := head; q != nil; q = q.next {
			if q.next == p {
				q.next = p.next
				break
			}
		}
	}
	w.nparts--
}

func (w *overWorker) setTimer(p *overPart, t int64) {
	switch {
	case t == maxTime:
		if p.heapIdx >= 0 {
			w.timerRemove(p.heapIdx)
		}
		p.timer = t
	case p.heapIdx >= 0:
		old := p.timer
		p.timer = t
		if t < old {
			w.timerUp(p.heapIdx)
		} else if t > old {
			w.timerDown(p.heapIdx)
		}
	default:
		p.timer = t
		p.heapIdx = len(w.timers)
		w.timers = append(w.timers, p)
		w.timerUp(p.heapIdx)
	}
}

func (w *overWorker) timerSwap(i, j int) {
	w.timers[i], w.timers[j] = w.timers[j], w.timers[i]
	w.timers[i].heapIdx, w.timers[j].heapIdx = i, j
}

func (w *overWorker) timerUp(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if w.timers[parent].timer <= w.timers[i].timer {
			return
		}
		w.timerSwap(i, parent)
		i = parent
	}
}

func (w *overWorker) timerDown(i int) {
	n := len(w.timers)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && w.timers[r].timer < w.timers[l].timer {
			m = r
		}
		if w.timers[m].timer >= w.timers[i].timer {
			return
		}
		w.timerSwap(i, m)
		i = m
	}
}

func (w *overWorker) timerRemove(i int) {
	p := w.timers[i]
	last := len(w.timers) - 1
	if i != last {
		w.timerSwap(i, last)
	}
	w.timers[last] = nil
	w.timers = w.timers[:last]
	p.heapIdx = -1
	if i < last {
		w.timerDown(i)
		w.timerUp(i)
	}
}

// build turns the finished rows into a record of OverSchema, in (time,
// arrival) order, and lets go of the chunks they came from.
func (w *overWorker) build() (arrow.RecordBatch, []int64, []int64) {
	done := w.done
	if len(done) == 0 {
		return nil, nil, nil
	}
	less := func(a, b *overRow) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	}
	if !slices.IsSortedFunc(done, less) {
		slices.SortStableFunc(done, less)
	}
	s := w.spec
	cols := make([]arrow.Array, 0, s.schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for k := range s.stage.Carry {
		b := array.NewBuilder(w.mem, s.schema.Field(k).Type)
		b.Reserve(len(done))
		for _, r := range done {
			appendFrom(b, r.ref.c.carry[k], int(r.row))
		}
		cols = append(cols, b.NewArray())
		b.Release()
	}
	nc := len(s.stage.Carry)
	for f := range s.makers {
		b := array.NewBuilder(w.mem, s.schema.Field(nc+f).Type)
		b.Reserve(len(done))
		for _, r := range done {
			appendCell(b, r.cells[f])
		}
		cols = append(cols, b.NewArray())
		b.Release()
	}
	rec := array.NewRecordBatch(s.schema, cols, int64(len(done)))
	times, seqs := make([]int64, len(done)), make([]int64, len(done))
	for i, r := range done {
		times[i], seqs[i] = r.t, r.seq
		r.ref.left--
		if r.ref.left == 0 {
			r.ref.c.release()
		}
		done[i] = nil
	}
	w.done = done[:0]
	k := 0
	for k < len(w.refs) && w.refs[k].left == 0 {
		w.refs[k] = nil
		k++
	}
	if k > 0 {
		w.refs = append(w.refs[:0], w.refs[k:]...)
	}
	return rec, times, seqs
}

// appendFrom appends row i of arr to b, a builder of arr's type.
func appendFrom(b array.Builder, arr arrow.Array, i int) {
	if arr.IsNull(i) {
		b.AppendNull()
		return
	}
	switch x := b.(type) {
	case *array.Int64Builder:
		x.Append(arr.(*array.Int64).Value(i))
	case *array.TimestampBuilder:
		x.Append(arr.(*array.Timestamp).Value(i))
	case *array.Float64Builder:
		x.Append(arr.(*array.Float64).Value(i))
	case *array.Decimal128Builder:
		x.Append(arr.(*array.Decimal128).Value(i))
	case *array.StringBuilder:
		x.Append(arr.(*array.String).Value(i))
	case *array.BooleanBuilder:
		x.Append(arr.(*array.Boolean).Value(i))
	default:
		appendCell(b, readCell(arr, i))
	}
}
