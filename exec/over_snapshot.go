package exec

import (
	"cmp"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/eddy-streams/eddy/exec/snapshot"
)

// An OVER worker's state in checkpoints, taken between two messages (no row
// is being processed, every finished row went out):
//
//   - the rows received and not yet processed (the watermark has not reached
//     them), with the values the functions and SELECT will read;
//   - the rows processed and waiting for a LEAD value, with the values they
//     have and the carried columns;
//   - every partition: its key, row count and each function's state (the
//     frame's rows and partial aggregates, exactly as held, so that
//     floating-point results do not depend on where a checkpoint fell).
//
// A restored worker holds the rows of both kinds in one chunk built from the
// snapshot; partition timers are recomputed from the states.

const overStateVersion = 1

// snapshot encodes the worker's state.
func (w *overWorker) snapshot() []byte {
	var e snapshot.Encoder
	e.Uvarint(overStateVersion)
	spec := w.spec
	nf := len(spec.makers)
	e.Uvarint(uint64(nf))
	e.Uvarint(uint64(len(spec.stage.Carry)))

	parts := make([]*overPart, 0, w.nparts)
	for _, p := range w.parts {
		for ; p != nil; p = p.next {
			parts = append(parts, p)
		}
	}
	slices.SortFunc(parts, func(a, b *overPart) int { return cmp.Compare(a.key, b.key) })
	partID := make(map[*overPart]int, len(parts))
	for i, p := range parts {
		partID[p] = i
	}

	// Rows waiting for a LEAD, numbered in the order the LEAD states hold them.
	var waiting []*overRow
	rowID := map[*overRow]int{}
	for _, p := range parts {
		for _, st := range p.states {
			if ls, ok := st.(*leadState); ok {
				for _, lw := range ls.waiting[ls.head:] {
					if _, seen := rowID[lw.r]; !seen {
						rowID[lw.r] = len(waiting)
						waiting = append(waiting, lw.r)
					}
				}
			}
		}
	}
	e.Uvarint(uint64(len(waiting)))
	for _, r := range waiting {
		e.Varint(r.t)
		e.Varint(r.seq)
		e.Int(int(r.missing))
		for _, c := range r.cells {
			saveCell(&e, c)
		}
	}

	e.Uvarint(uint64(len(parts)))
	for _, p := range parts {
		e.Uvarint(p.hash)
		e.String(p.key)
		e.Varint(p.n)
		for _, st := range p.states {
			if st != nil {
				st.save(&e, rowID)
			}
		}
	}

	// Received rows in (time, arrival) order: the order the runs release them.
	var pend []*pendRow
	for _, rn := range w.runs {
		for i := rn.head; i < len(rn.rows); i++ {
			pend = append(pend, &rn.rows[i])
		}
	}
	slices.SortFunc(pend, func(a, b *pendRow) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	e.Uvarint(uint64(len(pend)))
	for _, pr := range pend {
		e.Varint(pr.t)
		e.Varint(pr.seq)
		e.Int(partID[pr.p])
	}
	// Their columns, then the waiting rows' carried columns.
	for f, fn := range spec.stage.Funcs {
		if fn.Arg != nil {
			for _, pr := range pend {
				saveCell(&e, readCell(pr.ref.c.args[f], int(pr.row)))
			}
		}
		if fn.Default != nil {
			for _, pr := range pend {
				saveCell(&e, readCell(pr.ref.c.defs[f], int(pr.row)))
			}
		}
		for a := range fn.Args {
			for _, pr := range pend {
				saveCell(&e, readCell(pr.ref.c.extra[f][a], int(pr.row)))
			}
		}
	}
	for k := range spec.stage.Carry {
		for _, pr := range pend {
			saveCell(&e, readCell(pr.ref.c.carry[k], int(pr.row)))
		}
		for _, r := range waiting {
			saveCell(&e, readCell(r.ref.c.carry[k], int(r.row)))
		}
	}
	return e.Data()
}

// restore replaces a fresh worker's state with a snapshot's.
func (w *overWorker) restore(b []byte) error {
	d := snapshot.NewDecoder(b)
	if v := d.Uvarint(); v != overStateVersion {
		d.Fail("OVER state version %d, want %d", v, overStateVersion)
		return d.Err()
	}
	spec := w.spec
	nf := len(spec.makers)
	if n, nc := d.Uvarint(), d.Uvarint(); d.Err() == nil && (n != uint64(nf) || nc != uint64(len(spec.stage.Carry))) {
		d.Fail("OVER state of %d functions and %d columns, want %d and %d", n, nc, nf, len(spec.stage.Carry))
	}
	// The chunk that will hold the restored rows' columns.
	c := &overChunk{args: make([]arrow.Array, nf), defs: make([]arrow.Array, nf), extra: make([][]arrow.Array, nf)}
	ref := &chunkRef{c: c}

	nw := d.Count(3 + nf)
	waiting := make([]*overRow, nw)
	cells := make([]cell, nw*nf)
	for i := range waiting {
		// row is the waiting row's number until the chunk is laid out.
		r := &overRow{t: d.Varint(), seq: d.Varint(), missing: int32(d.Int()), ref: ref, row: int32(i), cells: cells[i*nf : (i+1)*nf : (i+1)*nf]}
		for f := range r.cells {
			r.cells[f] = loadCell(d)
		}
		if d.Err() == nil && (r.missing < 1 || int(r.missing) > nf) {
			d.Fail("a row waiting for %d LEAD values", r.missing)
		}
		waiting[i] = r
	}
	if d.Err() != nil {
		return d.Err()
	}

	np := d.Count(3)
	parts := make([]*overPart, np)
	held := make([]int32, nw) // LEAD queues holding each waiting row
	for i := range parts {
		p := &overPart{hash: d.Uvarint(), key: d.String(), n: d.Varint(), heapIdx: -1, timer: maxTime,
			states: make([]fnState, nf)}
		for f, mk := range spec.makers {
			if mk == nil {
				continue
			}
			p.states[f] = mk()
			p.states[f].load(d, waiting)
			if ls, ok := p.states[f].(*leadState); ok && d.Err() == nil {
				for _, lw := range ls.waiting {
					held[lw.r.row]++
				}
			}
		}
		if i > 0 && d.Err() == nil && p.key <= parts[i-1].key {
			d.Fail("OVER partitions out of order")
		}
		if d.Err() != nil {
			return d.Err()
		}
		parts[i] = p
	}
	for i, r := range waiting {
		if held[i] != r.missing {
			d.Fail("a row waiting for %d LEAD values is held by %d", r.missing, held[i])
			return d.Err()
		}
	}

	npend := d.Count(3)
	pend := make([]pendRow, npend)
	for i := range pend {
		pr := &pend[i]
		pr.t, pr.seq, pr.ref, pr.row = d.Varint(), d.Varint(), ref, int32(i)
		k := d.Int()
		if d.Err() == nil && (k < 0 || k >= np) {
			d.Fail("partition %d of %d", k, np)
		}
		if d.Err() != nil {
			return d.Err()
		}
		pr.p = parts[k]
		pr.p.pending++
		if i > 0 && !pendLess(&pend[i-1], pr) {
			d.Fail("received rows out of order")
			return d.Err()
		}
	}
	// The chunk: received rows first, then the waiting rows (args and
	// defaults only matter for the former: the latter are NULL there).
	total := npend + nw
	var cols []arrow.Array
	for f, fn := range spec.stage.Funcs {
		if fn.Arg != nil {
			c.args[f] = loadColumn(d, fn.Arg.Type().Arrow(), npend, nw, w.mem)
			cols = append(cols, c.args[f])
		}
		if fn.Default != nil {
			c.defs[f] = loadColumn(d, fn.Default.Type().Arrow(), npend, nw, w.mem)
			cols = append(cols, c.defs[f])
		}
		for _, a := range fn.Args {
			arr := loadColumn(d, a.Type().Arrow(), npend, nw, w.mem)
			c.extra[f] = append(c.extra[f], arr)
			cols = append(cols, arr)
		}
	}
	for k := range spec.stage.Carry {
		a := loadColumn(d, spec.schema.Field(k).Type, total, 0, w.mem)
		cols = append(cols, a)
		c.carry = append(c.carry, a)
	}
	if err := d.End(); err != nil {
		for _, a := range cols {
			a.Release()
		}
		return err
	}
	c.cols = cols
	for i, r := range waiting {
		r.row = int32(npend + i)
	}

	w.parts, w.nparts = map[uint64]*overPart{}, 0
	for _, p := range parts {
		p.next = w.parts[p.hash]
		w.parts[p.hash] = p
		w.nparts++
		w.setTimer(p, p.nextTimer())
	}
	if npend > 0 {
		w.tail = &pendRun{rows: pend}
		w.runs = []*pendRun{w.tail}
	}
	if total > 0 {
		ref.left = total
		c.refs.Store(1)
		w.refs = []*chunkRef{ref}
	}
	w.relinkForests(parts)
	return nil
}

// Function states. Frame rows are written from the oldest held; a restored
// state holds them from index 0, with the same partial aggregates.

// saveTimes writes times that never decrease (a partition's, in order) as
// differences, which are small.
func saveTimes(e *snapshot.Encoder, ts []int64) {
	e.Uvarint(uint64(len(ts)))
	prev := int64(0)
	for _, t := range ts {
		e.Varint(t - prev)
		prev = t
	}
}

func loadTimes(d *snapshot.Decoder) []int64 {
	ts := make([]int64, d.Count(1))
	prev := int64(0)
	for i := range ts {
		prev += d.Varint()
		ts[i] = prev
	}
	if d.Err() != nil {
		return nil
	}
	return ts
}

func (s *swag[V]) save(e *snapshot.Encoder, _ map[*overRow]int) {
	saveTimes(e, s.times[s.head:])
	for _, v := range s.vals[s.head:] {
		saveSwagValue(e, v)
	}
	sfx := s.sfx[s.head:max(s.head, s.split)]
	e.Uvarint(uint64(len(sfx)))
	for _, v := range sfx {
		saveSwagValue(e, v)
	}
	saveSwagValue(e, s.back)
}

func (s *swag[V]) load(d *snapshot.Decoder, _ []*overRow) {
	s.times = loadTimes(d)
	s.vals = make([]V, len(s.times))
	for i := range s.vals {
		s.vals[i] = loadSwagValue[V](d)
	}
	n := d.Count(1)
	if d.Err() == nil && n > len(s.vals) {
		d.Fail("%d partial aggregates for %d rows", n, len(s.vals))
		return
	}
	s.sfx = make([]V, n, len(s.vals))
	for i := range s.sfx {
		s.sfx[i] = loadSwagValue[V](d)
	}
	s.back = loadSwagValue[V](d)
	s.head, s.split = 0, n
}

// saveSwagValue writes one of the lifted values of the sliding aggregates.
func saveSwagValue[V any](e *snapshot.Encoder, v V) {
	switch x := any(v).(type) {
	case cell:
		saveCell(e, x)
	case sumFloat:
		e.Float64(x.s)
		e.Varint(x.n)
	case sumDec:
		e.Varint(x.s.HighBits())
		e.Uvarint(x.s.LowBits())
		e.Varint(x.n)
		e.Bool(x.ovf)
	case moments:
		e.Varint(x.n)
		e.Float64(x.mean)
		e.Float64(x.m2)
	default:
		panic("exec: OVER state of an unknown aggregate value") // a new swag value type needs a case here
	}
}

func loadSwagValue[V any](d *snapshot.Decoder) V {
	var v V
	switch x := any(&v).(type) {
	case *cell:
		*x = loadCell(d)
	case *sumFloat:
		*x = sumFloat{s: d.Float64(), n: d.Varint()}
	case *sumDec:
		hi := d.Varint()
		*x = sumDec{s: decimal128.New(hi, d.Uvarint()), n: d.Varint(), ovf: d.Bool()}
	case *moments:
		*x = moments{n: d.Varint(), mean: d.Float64(), m2: d.Float64()}
	default:
		d.Fail("OVER state of an unknown aggregate value %T", v)
	}
	return v
}

func (s *ringSum) save(e *snapshot.Encoder, _ map[*overRow]int) {
	saveTimes(e, s.times[s.head:])
	for i := s.head; i < len(s.vals); i++ {
		e.Varint(s.vals[i])
		e.Bool(s.valid[i])
	}
	e.Uvarint(s.sum.lo)
	e.Varint(s.sum.hi)
	e.Varint(s.sum.n)
}

func (s *ringSum) load(d *snapshot.Decoder, _ []*overRow) {
	s.times = loadTimes(d)
	s.vals, s.valid = make([]int64, len(s.times)), make([]bool, len(s.times))
	for i := range s.vals {
		s.vals[i], s.valid[i] = d.Varint(), d.Bool()
	}
	s.sum = sumInt{lo: d.Uvarint(), hi: d.Varint(), n: d.Varint()}
	s.head = 0
}

func (s *lagState) save(e *snapshot.Encoder, _ map[*overRow]int) {
	ts := make([]int64, s.n)
	for i := range s.n {
		ts[i] = s.times[(s.head+i)%s.k]
	}
	saveTimes(e, ts)
	for i := range s.n {
		saveCell(e, s.vals[(s.head+i)%s.k])
	}
}

func (s *lagState) load(d *snapshot.Decoder, _ []*overRow) {
	ts := loadTimes(d)
	s.head, s.n, s.vals, s.times = 0, len(ts), nil, nil
	if d.Err() == nil && s.n > s.k {
		d.Fail("LAG(%d) holding %d values", s.k, s.n)
		return
	}
	if s.n == 0 {
		return
	}
	s.vals, s.times = make([]cell, s.k), make([]int64, s.k)
	copy(s.times, ts)
	for i := range s.n {
		s.vals[i] = loadCell(d)
	}
}

func (s *leadState) save(e *snapshot.Encoder, ids map[*overRow]int) {
	e.Uvarint(uint64(len(s.waiting) - s.head))
	for _, lw := range s.waiting[s.head:] {
		e.Int(ids[lw.r])
		saveCell(e, lw.def)
	}
}

// load takes the rows waiting from rows, by number.
func (s *leadState) load(d *snapshot.Decoder, rows []*overRow) {
	n := d.Count(2)
	if d.Err() == nil && n > s.k {
		d.Fail("LEAD(%d) holding %d rows", s.k, n)
		return
	}
	s.waiting, s.head = nil, 0
	for range n {
		id, def := d.Int(), loadCell(d)
		if d.Err() != nil {
			return
		}
		if id < 0 || id >= len(rows) {
			d.Fail("waiting row %d of %d", id, len(rows))
			return
		}
		s.waiting = append(s.waiting, leadWait{r: rows[id], def: def})
	}
}
