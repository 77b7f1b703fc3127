package eval

import (
	"errors"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Comparisons = <> < <= > >= between two operands of one type, producing
// BOOLEAN, NULL when either side is NULL. Results are packed eight rows per
// byte straight into the output bitmap.

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpOps = map[string]cmpOp{"=": opEq, "<>": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}

// mirror returns the operator with its operands swapped: a op b == b op' a.
func (op cmpOp) mirror() cmpOp {
	switch op {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return op
}

// holds says whether op holds for a three-way comparison result.
func (op cmpOp) holds(c int) bool {
	switch op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

type cmpNode struct {
	op   cmpOp
	l, r node
}

func (n *cmpNode) typ() types.Type { return types.BooleanType }

func newCompare(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, 2); err != nil {
		return nil, err
	}
	if call.T.Kind != types.Boolean {
		return nil, errors.New("a comparison returns BOOLEAN")
	}
	lt, rt := args[0].typ(), args[1].typ()
	if !comparable(lt, rt) {
		return nil, errors.New("both sides must have one type")
	}
	return &cmpNode{op: cmpOps[call.Fn], l: args[0], r: args[1]}, nil
}

// comparable says whether values of a and b compare with each other.
func comparable(a, b types.Type) bool {
	switch {
	case a.IsString() && b.IsString():
		return true
	case a.Kind == types.Decimal && b.Kind == types.Decimal:
		return true
	}
	return a.Kind == b.Kind && a.Kind != types.Null
}

func (n *cmpNode) eval(c *evalCtx) (arrow.Array, error) {
	a, err := c.operand(n.l)
	if err != nil {
		return nil, err
	}
	defer a.release()
	b, err := c.operand(n.r)
	if err != nil {
		return nil, err
	}
	defer b.release()
	o := newBoolOut(c.mem, c.n)
	o.validFrom(a, b)
	compareInto(n.op, n.l.typ(), n.r.typ(), a, b, c.n, o.vals)
	return o.finish(), nil
}

// compareInto writes a op b for n rows into the bitmap out (values of NULL
// rows are unspecified).
func compareInto(op cmpOp, lt, rt types.Type, a, b *vec, n int, out []byte) {
	if a.null || b.null { // a constant NULL: every row is NULL
		return
	}
	switch {
	case lt.IsString():
		compareStrings(op, a, b, n, out)
	case lt.Kind == types.Double:
		compareOrdered(op, a.f64, a.constant, b.f64, b.constant, n, out)
	case lt.Kind == types.BigInt, lt.Kind == types.Timestamp, lt.Kind == types.Interval:
		compareOrdered(op, a.i64, a.constant, b.i64, b.constant, n, out)
	case lt.Kind == types.Decimal:
		sa, sb := lt.Scale, rt.Scale
		for i := 0; i < n; i++ {
			if op.holds(cmpDec(a.decimal(i), sa, b.decimal(i), sb)) {
				setBit(out, i)
			}
		}
	case lt.Kind == types.Boolean:
		compareBools(op, a, b, n, out)
	}
}

type ordered interface{ ~int64 | ~float64 }

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func compareOrdered[T ordered](op cmpOp, x []T, xc bool, y []T, yc bool, n int, out []byte) {
	switch {
	case xc && yc:
		if op.holdsOrdered(x[0], y[0]) {
			for i := range out {
				out[i] = 0xff
			}
		}
		return
	case xc:
		x, y = y, x
		op = op.mirror()
		fallthrough
	case yc:
		k := y[0]
		x = x[:n]
		switch op {
		case opEq, opNe:
			eqScalar(x, k, out)
		case opLt:
			ltScalar(x, k, out)
		case opLe:
			leScalar(x, k, out)
		case opGt:
			gtScalar(x, k, out)
		case opGe:
			geScalar(x, k, out)
		}
	default:
		x, y = x[:n], y[:n]
		switch op {
		case opEq, opNe:
			eqVec(x, y, out)
		case opLt:
			ltVec(x, y, out)
		case opLe:
			leVec(x, y, out)
		case opGt:
			ltVec(y, x, out)
		case opGe:
			leVec(y, x, out)
		}
	}
	if op == opNe {
		for i := range out {
			out[i] = ^out[i]
		}
	}
}

func (op cmpOp) holdsOrderedAny(lt, eq bool) bool {
	switch op {
	case opEq:
		return eq
	case opNe:
		return !eq
	case opLt:
		return lt
	case opLe:
		return lt || eq
	case opGt:
		return !lt && !eq
	}
	return !lt
}

func (op cmpOp) holdsOrdered(x, y any) bool {
	switch a := x.(type) {
	case int64:
		b := y.(int64)
		return op.holdsOrderedAny(a < b, a == b)
	case float64:
		b := y.(float64)
		switch op { // IEEE: NaN compares false except with <>
		case opEq:
			return a == b
		case opNe:
			return a != b
		case opLt:
			return a < b
		case opLe:
			return a <= b
		case opGt:
			return a > b
		}
		return a >= b
	}
	return false
}

// The kernels below pack eight comparisons per output byte. They are written
// out per operator so that each inner loop is branch-free.

func eqScalar[T ordered](x []T, k T, out []byte) {
	full := len(x) &^ 7
	for i := 0; i < full; i += 8 {
		s := x[i : i+8 : i+8]
		out[i>>3] = b2u(s[0] == k) | b2u(s[1] == k)<<1 | b2u(s[2] == k)<<2 | b2u(s[3] == k)<<3 |
			b2u(s[4] == k)<<4 | b2u(s[5] == k)<<5 | b2u(s[6] == k)<<6 | b2u(s[7] == k)<<7
	}
	if full < len(x) {
		var b byte
		for j := full; j < len(x); j++ {
			b |= b2u(x[j] == k) << (j & 7)
		}
		out[full>>3] = b
	}
}

func ltScalar[T ordered](x []T, k T, out []byte) {
	full := len(x) &^ 7
	for i := 0; i < full; i += 8 {
		s := x[i : i+8 : i+8]
		out[i>>3] = b2u(s[0] < k) | b2u(s[1] < k)<<1 | b2u(s[2] < k)<<2 | b2u(s[3] < k)<<3 |
			b2u(s[4] < k)<<4 | b2u(s[5] < k)<<5 | b2u(s[6] < k)<<6 | b2u(s[7] < k)<<7
	}
	if full < len(x) {
		var b byte
		for j := full; j < len(x); j++ {
			b |= b2u(x[j] < k) << (j & 7)
		}
		out[full>>3] = b
	}
}

func leScalar[T ordered](x []T, k T, out []byte) {
	full := len(x) &^ 7
	for i := 0; i < full; i += 8 {
		s := x[i : i+8 : i+8]
		out[i>>3] = b2u(s[0] <= k) | b2u(s[1] <= k)<<1 | b2u(s[2] <= k)<<2 | b2u(s[3] <= k)<<3 |
			b2u(s[4] <= k)<<4 | b2u(s[5] <= k)<<5 | b2u(s[6] <= k)<<6 | b2u(s[7] <= k)<<7
	}
	if full < len(x) {
		var b byte
		for j := full; j < len(x); j++ {
			b |= b2u(x[j] <= k) << (j & 7)
		}
		out[full>>3] = b
	}
}

func gtScalar[T ordered](x []T, k T, out []byte) {
	full := len(x) &^ 7
	for i := 0; i < full; i += 8 {
		s := x[i : i+8 : i+8]
		out[i>>3] = b2u(s[0] > k) | b2u(s[1] > k)<<1 | b2u(s[2] > k)<<2 | b2u(s[3] > k)<<3 |
			b2u(s[4] > k)<<4 | b2u(s[5] > k)<<5 | b2u(s[6] > k)<<6 | b2u(s[7] > k)<<7
	}
	if full < len(x) {
		var b byte
		for j := full; j < len(x); j++ {
			b |= b2u(x[j] > k) << (j & 7)
		}
		out[full>>3] = b
	}
}

func geScalar[T ordered](x []T, k T, out []byte) {
	full := len(x) &^ 7
	for i := 0; i < full; i += 8 {
		s := x[i : i+8 : i+8]
		out[i>>3] = b2u(s[0] >= k) | b2u(s[1] >= k)<<1 | b2u(s[2] >= k)<<2 | b2u(s[3] >= k)<<3 |
			b2u(s[4] >= k)<<4 | b2u(s[5] >= k)<<5 | b2u(s[6] >= k)<<6 | b2u(s[7] >= k)<<7
	}
	if full < len(x) {
		var b byte
		for j := full; j < len(x); j++ {
			b |= b2u(x[j] >= k) << (j & 7)
		}
		out[full>>3] = b
	}
}

func eqVec[T ordered](x, y []T, out []byte) {
	full := len(x) &^ 7
	y = y[:len(x)]
	for i := 0; i < full; i += 8 {
		s, t := x[i:i+8:i+8], y[i:i+8:i+8]
		out[i>>3] = b2u(s[0] == t[0]) | b2u(s[1] == t[1])<<1 | b2u(s[2] == t[2])<<2 | b2u(s[3] == t[3])<<3 |
			b2u(s[4] == t[4])<<4 | b2u(s[5] == t[5])<<5 | b2u(s[6] == t[6])<<6 | b2u(s[7] == t[7])<<7
	}
	if full < len(x) {
		var b byte
		for j := full; j < len(x); j++ {
			b |= b2u(x[j] == y[j]) << (j & 7)
		}
		out[full>>3] = b
	}
}

func ltVec[T ordered](x, y []T, out []byte) {
	full := len(x) &^ 7
	y = y[:len(x)]
	for i := 0; i < full; i += 8 {
		s, t := x[i:i+8:i+8], y[i:i+8:i+8]
		out[i>>3] = b2u(s[0] < t[0]) | b2u(s[1] < t[1])<<1 | b2u(s[2] < t[2])<<2 | b2u(s[3] < t[3])<<3 |
			b2u(s[4] < t[4])<<4 | b2u(s[5] < t[5])<<5 | b2u(s[6] < t[6])<<6 | b2u(s[7] < t[7])<<7
	}
	if full < len(x) {
		var b byte
		for j := full; j < len(x); j++ {
			b |= b2u(x[j] < y[j]) << (j & 7)
		}
		out[full>>3] = b
	}
}

func leVec[T ordered](x, y []T, out []byte) {
	full := len(x) &^ 7
	y = y[:len(x)]
	for i := 0; i < full; i += 8 {
		s, t := x[i:i+8:i+8], y[i:i+8:i+8]
		out[i>>3] = b2u(s[0] <= t[0]) | b2u(s[1] <= t[1])<<1 | b2u(s[2] <= t[2])<<2 | b2u(s[3] <= t[3])<<3 |
			b2u(s[4] <= t[4])<<4 | b2u(s[5] <= t[5])<<5 | b2u(s[6] <= t[6])<<6 | b2u(s[7] <= t[7])<<7
	}
	if full < len(x) {
		var b byte
		for j := full; j < len(x); j++ {
			b |= b2u(x[j] <= y[j]) << (j & 7)
		}
		out[full>>3] = b
	}
}

// compareStrings compares VARCHAR/JSON values bytewise.
func compareStrings(op cmpOp, a, b *vec, n int, out []byte) {
	if a.constant && !b.constant {
		a, b = b, a
		op = op.mirror()
	}
	if b.constant && !a.constant && (op == opEq || op == opNe) {
		// The common WHERE shape: column = 'literal'. Compare lengths first.
		k := b.cs
		kl := int32(len(k))
		offs, data := a.offs[:n+1], a.data
		want := op == opEq
		if len(k) <= 8 {
			// Short literals: one masked 64-bit load per row.
			kw := load8(k, 0, len(k))
			for i := 0; i < n; i++ {
				s, e := offs[i], offs[i+1]
				eq := e-s == kl && load8(data, int(s), len(k)) == kw
				if eq == want {
					out[i>>3] |= 1 << (i & 7)
				}
			}
			return
		}
		for i := 0; i < n; i++ {
			s, e := offs[i], offs[i+1]
			eq := e-s == kl && data[s:e] == k
			if eq == want {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		return
	}
	for i := 0; i < n; i++ {
		if op.holds(strings.Compare(a.str(i), b.str(i))) {
			setBit(out, i)
		}
	}
}

// load8 returns the l <= 8 bytes of data at s as a little-endian integer.
func load8(data string, s, l int) uint64 {
	if s+8 <= len(data) {
		w := uint64(data[s]) | uint64(data[s+1])<<8 | uint64(data[s+2])<<16 | uint64(data[s+3])<<24 |
			uint64(data[s+4])<<32 | uint64(data[s+5])<<40 | uint64(data[s+6])<<48 | uint64(data[s+7])<<56
		return w & (1<<(8*uint(l)) - 1) // l == 8: the shift gives 0, the mask all ones
	}
	var w uint64
	for k := 0; k < l; k++ {
		w |= uint64(data[s+k]) << (8 * k)
	}
	return w
}

// compareBools compares BOOLEAN values (FALSE < TRUE) a byte at a time.
func compareBools(op cmpOp, a, b *vec, n int, out []byte) {
	x := boolBits(a, n)
	y := boolBits(b, n)
	for i := range out {
		p, q := x[i], y[i]
		var r byte
		switch op {
		case opEq:
			r = ^(p ^ q)
		case opNe:
			r = p ^ q
		case opLt:
			r = ^p & q
		case opLe:
			r = ^p | q
		case opGt:
			r = p &^ q
		case opGe:
			r = p | ^q
		}
		out[i] = r
	}
}

// boolBits returns the values of a BOOLEAN operand as an aligned bitmap.
func boolBits(v *vec, n int) []byte {
	if v.constant {
		out := make([]byte, bitmapBytes(n))
		if v.cb {
			for i := range out {
				out[i] = 0xff
			}
		}
		return out
	}
	return alignedBits(v.bits, v.boff, n)
}
