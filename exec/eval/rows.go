package eval

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/types"
)

// rowNode runs a strict scalar function row by row: NULL when an operand is
// NULL, otherwise the function's value, or NULL when the function reports
// failure (it records the row error itself). Exactly one of the typed
// function fields is set, matching t.
type rowNode struct {
	args []node
	t    types.Type
	str  func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) // appends the value to dst
	i64  func(c *evalCtx, vs []*vec, i int) (int64, bool)
	f64  func(c *evalCtx, vs []*vec, i int) (float64, bool)
	dec  func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool)
	b    func(c *evalCtx, vs []*vec, i int) (bool, bool)
	// width is the expected bytes per row of a string result (0: 16).
	width int
}

func (n *rowNode) typ() types.Type { return n.t }

// validRows returns the AND of the operands' validity as an aligned bitmap,
// or nil when no operand has a NULL.
func validRows(c *evalCtx, vs []*vec) []byte {
	var out []byte
	for _, v := range vs {
		src := validityOf(v, c.n)
		if src == nil {
			continue
		}
		if out == nil {
			out = make([]byte, len(src))
			copy(out, src)
			continue
		}
		for i := range out {
			out[i] &= src[i]
		}
	}
	return out
}

// strSizeHint guesses the bytes of a string result: the size of the largest
// string operand, or width (default 16) bytes a row.
func strSizeHint(vs []*vec, n, width int) int {
	if width == 0 {
		width = 16
	}
	hint := width * n
	for _, v := range vs {
		if !v.constant && v.offs != nil {
			hint = max(hint, int(v.offs[n]-v.offs[0])+n)
		}
	}
	return hint
}

func (n *rowNode) eval(c *evalCtx) (arrow.Array, error) {
	vs, err := c.operands(n.args)
	if err != nil {
		return nil, err
	}
	defer releaseAll(vs)
	return n.run(c, vs), nil
}

// run computes the function over evaluated operands.
func (n *rowNode) run(c *evalCtx, vs []*vec) arrow.Array {
	valid := validRows(c, vs)
	dt := n.t.Arrow()
	switch {
	case n.str != nil:
		o := newStrOut(c.mem, c.n, strSizeHint(vs, c.n, n.width))
		for i := 0; i < c.n; i++ {
			if valid != nil && !bitSet(valid, i) {
				continue
			}
			o.fill(i)
			if d, ok := n.str(c, vs, i, o.data); ok {
				o.commit(i, d)
			}
		}
		return o.finish(dt)
	case n.i64 != nil:
		o := newFixed[int64](c.mem, c.n)
		o.allNull()
		for i := 0; i < c.n; i++ {
			if valid == nil || bitSet(valid, i) {
				if v, ok := n.i64(c, vs, i); ok {
					o.set(i, v)
				}
			}
		}
		return o.finish(dt)
	case n.f64 != nil:
		o := newFixed[float64](c.mem, c.n)
		o.allNull()
		for i := 0; i < c.n; i++ {
			if valid == nil || bitSet(valid, i) {
				if v, ok := n.f64(c, vs, i); ok {
					o.set(i, v)
				}
			}
		}
		return o.finish(dt)
	case n.dec != nil:
		o := newFixed[decimal128.Num](c.mem, c.n)
		o.allNull()
		for i := 0; i < c.n; i++ {
			if valid == nil || bitSet(valid, i) {
				if v, ok := n.dec(c, vs, i); ok {
					o.set(i, v)
				}
			}
		}
		return o.finish(dt)
	}
	o := newBoolOut(c.mem, c.n)
	o.allNull()
	for i := 0; i < c.n; i++ {
		if valid == nil || bitSet(valid, i) {
			if v, ok := n.b(c, vs, i); ok {
				o.set(i, v)
			}
		}
	}
	return o.finish()
}

// commit ends row i whose value was appended to data (from o.data).
func (o *strOut) commit(i int, data []byte) {
	o.data = data
	o.offs[i+1] = int32(len(data))
	setBit(o.valid, i)
	o.next = i + 1
}
