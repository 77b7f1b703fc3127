package exec

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/eddy-streams/eddy/exec/snapshot"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/types"
)

// The per-partition state of OVER window functions. Every function of a
// partition sees the partition's rows one at a time in (time, arrival) order
// (push) and the watermark (expire): no row with a time below it will be
// pushed any more.

// cell is one value of any eddy type: n holds BIGINT, TIMESTAMP and BOOLEAN
// (1 for true), a DOUBLE's bits and a DECIMAL's low 64 bits (hi its high
// bits), s a VARCHAR or JSON text. ok is false for NULL.
type cell struct {
	n, hi int64
	s     string
	ok    bool
}

func floatCell(f float64) cell { return cell{n: int64(math.Float64bits(f)), ok: true} }

func (c cell) fl() float64 { return math.Float64frombits(uint64(c.n)) }

// readCell reads row i of arr. Strings are copied: cells outlive batches.
func readCell(arr arrow.Array, i int) cell {
	if arr.IsNull(i) {
		return cell{}
	}
	switch a := arr.(type) {
	case *array.Int64:
		return cell{n: a.Value(i), ok: true}
	case *array.Timestamp:
		return cell{n: int64(a.Value(i)), ok: true}
	case *array.Float64:
		return floatCell(a.Value(i))
	case *array.Decimal128:
		v := a.Value(i)
		return cell{n: int64(v.LowBits()), hi: v.HighBits(), ok: true}
	case *array.String:
		return cell{s: string([]byte(a.Value(i))), ok: true}
	case *array.Boolean:
		c := cell{ok: true}
		if a.Value(i) {
			c.n = 1
		}
		return c
	}
	panic(fmt.Sprintf("exec: OVER cannot read %s", arr.DataType()))
}

func (c cell) dec() decimal128.Num { return decimal128.New(c.hi, uint64(c.n)) }

func decCell(v decimal128.Num) cell {
	return cell{n: int64(v.LowBits()), hi: v.HighBits(), ok: true}
}

// appendCell appends c to a builder of its type.
func appendCell(b array.Builder, c cell) {
	if !c.ok {
		b.AppendNull()
		return
	}
	switch x := b.(type) {
	case *array.Int64Builder:
		x.Append(c.n)
	case *array.TimestampBuilder:
		x.Append(arrow.Timestamp(c.n))
	case *array.Float64Builder:
		x.Append(c.fl())
	case *array.Decimal128Builder:
		x.Append(c.dec())
	case *array.StringBuilder:
		x.Append(c.s)
	case *array.BooleanBuilder:
		x.Append(c.n != 0)
	default:
		panic(fmt.Sprintf("exec: OVER cannot write %T", b))
	}
}

// fnState is one window function's state in one partition.
type fnState interface {
	// push processes the partition's next row r (argument arg, default def,
	// both at row r.row; nil when the function has none) and sets
	// r.cells[f], or, for LEAD, arranges for it to be set later.
	push(w *overWorker, r *overRow, f int, arg, def arrow.Array)
	// expire drops what rows at or after time wm cannot need, and settles
	// what they cannot change (LEAD's rows whose frame has ended).
	expire(w *overWorker, wm int64)
	// next is the smallest watermark at which expire would do something
	// (maxTime: never).
	next() int64
	// empty says whether the state holds nothing.
	empty() bool
	// save writes the state for a checkpoint (over_snapshot.go); rows
	// numbers the partition's rows waiting for a LEAD.
	save(e *snapshot.Encoder, rows map[*overRow]int)
	// load replaces a fresh state's with a saved one; rows are the rows
	// waiting for a LEAD, by number.
	load(d *snapshot.Decoder, rows []*overRow)
}

// newFnState returns a maker of the per-partition state of f, the query's
// function number idx (nil for ROW_NUMBER, which needs only the partition's
// row count).
func newFnState(f planner.OverFunc, idx int) (func() fnState, error) {
	argT := types.NullType
	if f.Arg != nil {
		argT = f.Arg.Type()
	}
	switch f.Fn {
	case "row_number":
		return nil, nil // the partition's row count
	case "lag":
		return func() fnState { return &lagState{k: int(f.Offset), frame: f.Frame} }, nil
	case "lead":
		return func() fnState { return &leadState{k: int(f.Offset), frame: f.Frame, f: idx} }, nil
	}
	if f.Frame.Kind == sql.FrameNone || f.Frame.Following != 0 {
		return nil, fmt.Errorf("%s OVER needs a frame ending at the current row", f.Fn)
	}
	fr := f.Frame
	switch f.Fn {
	case "count_star", "count":
		return func() fnState { return &ringSum{fn: f.Fn, frame: fr} }, nil
	case "sum", "avg":
		avg := f.Fn == "avg"
		switch argT.Kind {
		case types.BigInt:
			return func() fnState { return &ringSum{fn: f.Fn, frame: fr} }, nil
		case types.Double:
			return swagMaker(fr, &swagOps[sumFloat]{lift: liftSumFloat, op: addSumFloat, lower: func(v sumFloat) (cell, string) {
				if v.n == 0 {
					return cell{}, ""
				}
				if avg {
					return floatCell(v.s / float64(v.n)), ""
				}
				return floatCell(v.s), ""
			}}), nil
		case types.Decimal:
			scale, res := argT.Scale, f.T
			return swagMaker(fr, &swagOps[sumDec]{lift: liftSumDec, op: addSumDec, lower: func(v sumDec) (cell, string) { return v.lower(avg, scale, res) }}), nil
		}
	case "min", "max":
		isMax := f.Fn == "max"
		switch argT.Kind {
		case types.BigInt, types.Timestamp:
			less := func(a, b cell) bool { return a.n < b.n }
			return swagMaker(fr, &swagOps[cell]{lift: readCell, op: minMaxOp(less, isMax), lower: plainCell}), nil
		case types.Boolean:
			less := func(a, b cell) bool { return a.n < b.n }
			return swagMaker(fr, &swagOps[cell]{lift: readCell, op: minMaxOp(less, isMax), lower: plainCell}), nil
		case types.Double:
			less := func(a, b cell) bool { return floatLess(a.fl(), b.fl()) }
			return swagMaker(fr, &swagOps[cell]{lift: readCell, op: minMaxOp(less, isMax), lower: plainCell}), nil
		case types.Decimal:
			less := func(a, b cell) bool { return a.dec().Less(b.dec()) }
			return swagMaker(fr, &swagOps[cell]{lift: readCell, op: minMaxOp(less, isMax), lower: plainCell}), nil
		case types.Varchar, types.JSON:
			less := func(a, b cell) bool { return a.s < b.s }
			return swagMaker(fr, &swagOps[cell]{lift: readCell, op: minMaxOp(less, isMax), lower: plainCell}), nil
		}
	case "first_value":
		return swagMaker(fr, &swagOps[cell]{lift: readCell, op: func(a, b cell) cell {
			if a.ok {
				return a
			}
			return b
		}, lower: plainCell}), nil
	case "last_value":
		return swagMaker(fr, &swagOps[cell]{lift: readCell, op: func(a, b cell) cell {
			if b.ok {
				return b
			}
			return a
		}, lower: plainCell}), nil
	case "var_pop", "var_samp", "stddev_pop", "stddev_samp":
		if !argT.IsNumeric() {
			break
		}
		samp := f.Fn == "var_samp" || f.Fn == "stddev_samp"
		sqrt := f.Fn == "stddev_pop" || f.Fn == "stddev_samp"
		scale := argT.Scale
		return swagMaker(fr, &swagOps[moments]{lift: func(a arrow.Array, i int) moments { return liftMoments(a, i, scale) },
			op: addMoments, lower: func(v moments) (cell, string) { return v.lower(samp, sqrt) }}), nil
	}
	return nil, fmt.Errorf("%s(%s) OVER is not supported", f.Fn, argT)
}

// swagOps is an aggregate as an associative operation over lifted row values:
// lift reads a row's value (the identity, the zero V, for a NULL argument
// where the aggregate skips NULLs), op combines two in frame order, lower
// gives the result and an error message for the error stream, if any.
type swagOps[V any] struct {
	lift  func(arr arrow.Array, i int) V
	op    func(a, b V) V
	lower func(v V) (cell, string)
}

func swagMaker[V any](fr sql.Frame, ops *swagOps[V]) func() fnState {
	return func() fnState { return &swag[V]{ops: ops, frame: fr} }
}

// swag aggregates a sliding frame with the two-stacks algorithm: the rows
// [head, split) have suffix aggregates sfx[i] = vals[i] op ... op
// vals[split-1], the rows [split, len) are folded into back. Pushing folds
// into back; popping the oldest row moves head, first turning every row into
// the front part (recomputing sfx) when it is empty. Each row is combined a
// constant number of times, and nothing is ever subtracted, so MIN, MAX and
// floating-point sums are exact against a fresh scan of the frame (up to the
// order of floating-point additions).
type swag[V any] struct {
	ops         *swagOps[V]
	frame       sql.Frame
	times       []int64
	vals, sfx   []V // sfx is sized when rows become the front part
	head, split int
	back        V
}

func (s *swag[V]) push(w *overWorker, r *overRow, f int, arg, _ arrow.Array) {
	v := s.ops.lift(arg, int(r.row))
	s.times = append(s.times, r.t)
	s.vals = append(s.vals, v)
	s.back = s.ops.op(s.back, v)
	if s.frame.Kind == sql.FrameRange {
		for lo := r.t - s.frame.Preceding; s.times[s.head] < lo; {
			s.pop()
		}
	} else {
		for len(s.vals)-s.head > int(s.frame.Preceding)+1 {
			s.pop()
		}
	}
	agg := s.back
	if s.head < s.split {
		agg = s.ops.op(s.sfx[s.head], s.back)
	}
	c, msg := s.ops.lower(agg)
	r.cells[f] = c
	if msg != "" {
		w.errs = append(w.errs, msg)
	}
	if s.frame.Kind == sql.FrameRows && len(s.vals)-s.head > int(s.frame.Preceding) {
		s.pop() // the next row's frame holds the Preceding rows before it
	}
}

func (s *swag[V]) pop() {
	var zero V
	if s.head == s.split {
		n := len(s.vals)
		if cap(s.sfx) < n {
			s.sfx = make([]V, n, cap(s.vals))
		}
		s.sfx = s.sfx[:n]
		acc := zero
		for i := n - 1; i >= s.head; i-- {
			acc = s.ops.op(s.vals[i], acc)
			s.sfx[i] = acc
		}
		s.split, s.back = n, zero
	}
	s.vals[s.head], s.sfx[s.head] = zero, zero // drop references (strings)
	s.head++
	if s.head >= 32 && 2*s.head >= len(s.vals) {
		n := copy(s.vals, s.vals[s.head:])
		m := copy(s.sfx, s.sfx[s.head:])
		copy(s.times, s.times[s.head:])
		clear(s.vals[n:])
		clear(s.sfx[m:])
		s.vals, s.sfx, s.times = s.vals[:n], s.sfx[:m], s.times[:n]
		s.split -= s.head
		s.head = 0
	}
}

func (s *swag[V]) expire(_ *overWorker, wm int64) {
	if s.frame.Kind != sql.FrameRange || wm == minTime {
		return
	}
	lo := wm - s.frame.Preceding
	if wm == maxTime {
		lo = maxTime
	}
	for s.head < len(s.vals) && s.times[s.head] < lo {
		s.pop()
	}
	if s.head == len(s.vals) {
		s.vals, s.sfx, s.times, s.head, s.split = s.vals[:0], s.sfx[:0], s.times[:0], 0, 0
		var zero V
		s.back = zero
	}
}

func (s *swag[V]) next() int64 {
	if s.frame.Kind != sql.FrameRange || s.head == len(s.vals) {
		return maxTime
	}
	return s.times[s.head] + s.frame.Preceding + 1
}

func (s *swag[V]) empty() bool { return s.head == len(s.vals) }

// ringSum is COUNT(*), COUNT(x), or SUM(x) or AVG(x) of BIGINT over a
// frame: running totals over a ring of the frame's rows, exact because
// integer subtraction is (the sum has 128 bits).
type ringSum struct {
	fn    string
	frame sql.Frame
	times []int64
	vals  []int64
	valid []bool
	head  int
	sum   sumInt // of the valid values in the frame
}

func (s *ringSum) push(w *overWorker, r *overRow, f int, arg, _ arrow.Array) {
	var v int64
	ok := arg != nil && arg.IsValid(int(r.row))
	if ok && s.fn != "count" {
		v = arg.(*array.Int64).Value(int(r.row))
	}
	s.times, s.vals, s.valid = append(s.times, r.t), append(s.vals, v), append(s.valid, ok)
	if ok {
		s.sum.add(v)
	}
	if s.frame.Kind == sql.FrameRange {
		for lo := r.t - s.frame.Preceding; s.times[s.head] < lo; {
			s.pop()
		}
	} else {
		for len(s.vals)-s.head > int(s.frame.Preceding)+1 {
			s.pop()
		}
	}
	switch s.fn {
	case "count_star":
		r.cells[f] = cell{n: int64(len(s.vals) - s.head), ok: true}
	case "count":
		r.cells[f] = cell{n: s.sum.n, ok: true}
	default:
		c, msg := s.sum.lower(s.fn == "avg")
		r.cells[f] = c
		if msg != "" {
			w.errs = append(w.errs, msg)
		}
	}
	if s.frame.Kind == sql.FrameRows && len(s.vals)-s.head > int(s.frame.Preceding) {
		s.pop()
	}
}

func (s *ringSum) pop() {
	if s.valid[s.head] {
		s.sum.sub(s.vals[s.head])
	}
	s.head++
	if s.head >= 32 && 2*s.head >= len(s.vals) {
		n := copy(s.vals, s.vals[s.head:])
		copy(s.times, s.times[s.head:])
		copy(s.valid, s.valid[s.head:])
		s.vals, s.times, s.valid = s.vals[:n], s.times[:n], s.valid[:n]
		s.head = 0
	}
}

func (s *ringSum) expire(_ *overWorker, wm int64) {
	if s.frame.Kind != sql.FrameRange || wm == minTime {
		return
	}
	lo := wm - s.frame.Preceding
	if wm == maxTime {
		lo = maxTime
	}
	for s.head < len(s.vals) && s.times[s.head] < lo {
		s.pop()
	}
	if s.head == len(s.vals) {
		s.vals, s.times, s.valid, s.head, s.sum = s.vals[:0], s.times[:0], s.valid[:0], 0, sumInt{}
	}
}

func (s *ringSum) next() int64 {
	if s.frame.Kind != sql.FrameRange || s.head == len(s.vals) {
		return maxTime
	}
	return s.times[s.head] + s.frame.Preceding + 1
}

func (s *ringSum) empty() bool { return s.head == len(s.vals) }

// Lifted values of the aggregates. The zero value of each is its identity.

func plainCell(c cell) (cell, string) { return c, "" }

// minMaxOp keeps the smaller (or larger) non-NULL cell; on ties the earlier.
func minMaxOp(less func(a, b cell) bool, isMax bool) func(a, b cell) cell {
	return func(a, b cell) cell {
		switch {
		case !b.ok:
			return a
		case !a.ok:
			return b
		case isMax && less(a, b), !isMax && less(b, a):
			return b
		}
		return a
	}
}

// sumInt is an exact 128-bit sum of BIGINTs and their count.
type sumInt struct {
	lo uint64
	hi int64
	n  int64
}

func (v *sumInt) add(x int64) {
	lo, carry := bits.Add64(v.lo, uint64(x), 0)
	v.lo, v.hi = lo, v.hi+x>>63+int64(carry)
	v.n++
}

func (v *sumInt) sub(x int64) {
	lo, borrow := bits.Sub64(v.lo, uint64(x), 0)
	v.lo, v.hi = lo, v.hi-x>>63-int64(borrow)
	v.n--
}

func (v sumInt) lower(avg bool) (cell, string) {
	if v.n == 0 {
		return cell{}, ""
	}
	if v.hi != int64(v.lo)>>63 { // does not fit in 64 bits
		if avg {
			return cell{}, "AVG: the sum of the BIGINT values overflowed"
		}
		return cell{}, "SUM: BIGINT overflow"
	}
	if avg {
		return floatCell(float64(int64(v.lo)) / float64(v.n)), ""
	}
	return cell{n: int64(v.lo), ok: true}, ""
}

type sumFloat struct {
	s float64
	n int64
}

func liftSumFloat(a arrow.Array, i int) sumFloat {
	if a.IsNull(i) {
		return sumFloat{}
	}
	return sumFloat{s: a.(*array.Float64).Value(i), n: 1}
}

func addSumFloat(a, b sumFloat) sumFloat { return sumFloat{s: a.s + b.s, n: a.n + b.n} }

// sumDec is a sum of DECIMALs; ovf records a carry out of 128 bits.
type sumDec struct {
	s   decimal128.Num
	n   int64
	ovf bool
}

func liftSumDec(a arrow.Array, i int) sumDec {
	if a.IsNull(i) {
		return sumDec{}
	}
	return sumDec{s: a.(*array.Decimal128).Value(i), n: 1}
}

func addSumDec(a, b sumDec) sumDec {
	s := a.s.Add(b.s)
	ovf := a.ovf || b.ovf || (a.s.Sign() == b.s.Sign() && a.s.Sign() != 0 && s.Sign() != a.s.Sign())
	return sumDec{s: s, n: a.n + b.n, ovf: ovf}
}

func (v sumDec) lower(avg bool, scale int32, res types.Type) (cell, string) {
	what := "SUM"
	if avg {
		what = "AVG"
	}
	switch {
	case v.n == 0:
		return cell{}, ""
	case v.ovf || !v.s.FitsInPrecision(types.MaxDecimalPrecision):
		return cell{}, what + ": DECIMAL overflow"
	case res.Kind == types.Double:
		return floatCell(v.s.ToFloat64(scale) / float64(v.n)), ""
	case avg:
		// At the result's larger scale a 38-digit sum's quotient may not fit
		// 38 digits (or even 128 bits): an overflow, as windowed AVG reports.
		q := divRoundBig(v.s, scale, v.n, res.Scale)
		if q.CmpAbs(maxDecimal) > 0 {
			return cell{}, what + ": DECIMAL overflow"
		}
		return decCell(decimal128.FromBigInt(q)), ""
	}
	r, err := v.s.Rescale(scale, res.Scale)
	if err != nil {
		return cell{}, what + ": DECIMAL overflow"
	}
	return decCell(r), ""
}

// moments are the count, mean and sum of squared deviations of a set of
// numbers, combined with Chan et al.'s parallel update.
type moments struct {
	n        int64
	mean, m2 float64
}

func liftMoments(a arrow.Array, i int, scale int32) moments {
	if a.IsNull(i) {
		return moments{}
	}
	var x float64
	switch v := a.(type) {
	case *array.Float64:
		x = v.Value(i)
	case *array.Int64:
		x = float64(v.Value(i))
	case *array.Decimal128:
		x = v.Value(i).ToFloat64(scale)
	}
	return moments{n: 1, mean: x}
}

func addMoments(a, b moments) moments {
	switch {
	case a.n == 0:
		return b
	case b.n == 0:
		return a
	}
	n := a.n + b.n
	d := b.mean - a.mean
	fb := float64(b.n) / float64(n)
	return moments{n: n, mean: a.mean + d*fb, m2: a.m2 + b.m2 + d*d*float64(a.n)*fb}
}

func (v moments) lower(samp, sqrt bool) (cell, string) {
	den := float64(v.n)
	if samp {
		den--
	}
	if v.n == 0 || den == 0 {
		return cell{}, ""
	}
	r := math.Max(v.m2, 0) / den
	if math.IsNaN(v.m2) || math.IsInf(v.mean, 0) {
		r = math.NaN()
	}
	if sqrt {
		r = math.Sqrt(r)
	}
	return floatCell(r), ""
}

// lagState keeps the last k values (and times) of its argument.
type lagState struct {
	k     int
	frame sql.Frame
	times []int64
	vals  []cell // ring of the last k values, oldest at head
	head  int
	n     int
}

func (s *lagState) push(_ *overWorker, r *overRow, f int, arg, def arrow.Array) {
	row := int(r.row)
	x := readCell(arg, row)
	if s.k == 0 {
		r.cells[f] = x
		return
	}
	if s.vals == nil {
		s.vals, s.times = make([]cell, s.k), make([]int64, s.k)
	}
	// The k-th row back is the oldest of the ring once it is full.
	if s.n == s.k && (s.frame.Kind != sql.FrameRange || s.times[s.head] >= r.t-s.frame.Preceding) {
		r.cells[f] = s.vals[s.head]
	} else if def != nil {
		r.cells[f] = readCell(def, row)
	}
	if s.n == s.k {
		s.vals[s.head], s.times[s.head] = x, r.t
		s.head = (s.head + 1) % s.k
	} else {
		i := (s.head + s.n) % s.k
		s.vals[i], s.times[i] = x, r.t
		s.n++
	}
}

func (s *lagState) expire(_ *overWorker, wm int64) {
	if s.frame.Kind != sql.FrameRange || wm == minTime {
		return
	}
	lo := wm - s.frame.Preceding
	if wm == maxTime {
		lo = maxTime
	}
	for s.n > 0 && s.times[s.head] < lo {
		s.vals[s.head] = cell{}
		s.head = (s.head + 1) % s.k
		s.n--
	}
	if s.n == 0 {
		s.vals, s.times, s.head = nil, nil, 0
	}
}

func (s *lagState) next() int64 {
	if s.frame.Kind != sql.FrameRange || s.n == 0 {
		return maxTime
	}
	return s.times[s.head] + s.frame.Preceding + 1
}

func (s *lagState) empty() bool { return s.n == 0 }

// leadState holds the rows whose k-th following row has not been pushed yet.
type leadState struct {
	f       int // the function's index in the row's cells
	k       int
	frame   sql.Frame
	waiting []leadWait // in push order
	head    int
}

type leadWait struct {
	r   *overRow
	def cell
}

func (s *leadState) push(w *overWorker, r *overRow, _ int, arg, def arrow.Array) {
	row := int(r.row)
	x := readCell(arg, row)
	if s.k == 0 {
		r.cells[s.f] = x
		return
	}
	// The row k back, if any, is waiting for this one: at most k wait.
	if len(s.waiting)-s.head == s.k {
		e := s.waiting[s.head]
		v := x
		if s.frame.Kind == sql.FrameRange && r.t > e.r.t+s.frame.Following {
			v = e.def
		}
		s.settle(w, e, v)
	}
	var d cell
	if def != nil {
		d = readCell(def, row)
	}
	r.missing++
	s.waiting = append(s.waiting, leadWait{r: r, def: d})
}

// settle gives a waiting row its value and drops it from the queue head.
func (s *leadState) settle(w *overWorker, e leadWait, v cell) {
	e.r.cells[s.f] = v
	s.waiting[s.head] = leadWait{}
	s.head++
	if s.head == len(s.waiting) {
		s.waiting, s.head = s.waiting[:0], 0
	} else if s.head >= 32 && 2*s.head >= len(s.waiting) {
		n := copy(s.waiting, s.waiting[s.head:])
		clear(s.waiting[n:])
		s.waiting, s.head = s.waiting[:n], 0
	}
	w.settled(e.r)
}

func (s *leadState) expire(w *overWorker, wm int64) {
	for s.head < len(s.waiting) {
		e := s.waiting[s.head]
		// No row at or after wm can fall in the frame [t, t+Following]; at
		// the end of the input no row comes at all.
		if wm != maxTime && (s.frame.Kind != sql.FrameRange || e.r.t+s.frame.Following >= wm) {
			return
		}
		s.settle(w, e, e.def)
	}
}

func (s *leadState) next() int64 {
	if s.head == len(s.waiting) {
		return maxTime
	}
	if s.frame.Kind != sql.FrameRange {
		return maxTime - 1 // only the end of the input settles these
	}
	return s.waiting[s.head].r.t + s.frame.Following + 1
}

func (s *leadState) empty() bool { return s.head == len(s.waiting) }
