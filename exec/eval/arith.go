package eval

import (
	"errors"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Arithmetic: + - * / % on BIGINT, DOUBLE and DECIMAL, timestamp and
// interval arithmetic, unary minus.

type arithKind uint8

const (
	arithInt   arithKind = iota // BIGINT op BIGINT, INTERVAL op INTERVAL
	arithFloat                  // DOUBLE op DOUBLE
	arithDec                    // DECIMAL op DECIMAL -> DECIMAL(T)
	arithTsIv                   // TIMESTAMP +/- INTERVAL
	arithIvTs                   // INTERVAL + TIMESTAMP
	arithTsTs                   // TIMESTAMP - TIMESTAMP
)

type arithNode struct {
	op   byte
	kind arithKind
	l, r node
	t    types.Type
}

func (n *arithNode) typ() types.Type { return n.t }

func newArith(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, 2); err != nil {
		return nil, err
	}
	op := call.Fn[0]
	if call.Fn == "mod" {
		op = '%'
	}
	lt, rt := args[0].typ(), args[1].typ()
	n := &arithNode{op: op, l: args[0], r: args[1], t: call.T}
	mismatch := errors.New("the operands and the result must share one numeric type " +
		"(or be TIMESTAMP +/- INTERVAL, TIMESTAMP - TIMESTAMP)")
	switch {
	case lt.Kind == types.BigInt && rt.Kind == types.BigInt && call.T.Kind == types.BigInt:
		n.kind = arithInt
	case lt.Kind == types.Interval && rt.Kind == types.Interval && call.T.Kind == types.Interval && (op == '+' || op == '-'):
		n.kind = arithInt
	case lt.Kind == types.Double && rt.Kind == types.Double && call.T.Kind == types.Double:
		n.kind = arithFloat
	case lt.Kind == types.Decimal && rt.Kind == types.Decimal && call.T.Kind == types.Decimal:
		n.kind = arithDec
	case lt.Kind == types.Timestamp && rt.Kind == types.Interval && call.T.Kind == types.Timestamp && (op == '+' || op == '-'):
		n.kind = arithTsIv
	case lt.Kind == types.Interval && rt.Kind == types.Timestamp && call.T.Kind == types.Timestamp && op == '+':
		n.kind = arithIvTs
	case lt.Kind == types.Timestamp && rt.Kind == types.Timestamp && call.T.Kind == types.Interval && op == '-':
		n.kind = arithTsTs
	default:
		return nil, mismatch
	}
	return n, nil
}

func (n *arithNode) eval(c *evalCtx) (arrow.Array, error) {
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
	switch n.kind {
	case arithFloat:
		return floatArith(c, n.op, a, b), nil
	case arithDec:
		return n.decArith(c, a, b), nil
	case arithIvTs:
		return intArith(c, n.op, b, a, n.t, "timestamp"), nil
	case arithTsIv, arithTsTs:
		what := "timestamp"
		if n.kind == arithTsTs {
			what = "interval"
		}
		return intArith(c, n.op, a, b, n.t, what), nil
	}
	what := "BIGINT"
	if n.t.Kind == types.Interval {
		what = "interval"
	}
	return intArith(c, n.op, a, b, n.t, what), nil
}

// intArith computes a op b over int64 values with overflow and zero checks.
func intArith(c *evalCtx, op byte, a, b *vec, t types.Type, what string) arrow.Array {
	o := newFixed[int64](c.mem, c.n)
	o.validFrom(a, b)
	out := o.vals
	var bad int64 // sign bit set when some row overflowed or divided by zero
	switch op {
	case '+':
		switch {
		case !a.constant && !b.constant:
			x, y := a.i64[:len(out)], b.i64[:len(out)]
			for i := range out {
				s := x[i] + y[i]
				out[i] = s
				bad |= (x[i] ^ s) & (y[i] ^ s)
			}
		case !a.constant:
			bad = addConst(a.i64[:len(out)], b.i64[0], out)
		case !b.constant:
			bad = addConst(b.i64[:len(out)], a.i64[0], out)
		default:
			x, y := a.i64[0], b.i64[0]
			s := x + y
			bad = (x ^ s) & (y ^ s)
			for i := range out {
				out[i] = s
			}
		}
	case '-':
		switch {
		case !a.constant && !b.constant:
			x, y := a.i64[:len(out)], b.i64[:len(out)]
			for i := range out {
				s := x[i] - y[i]
				out[i] = s
				bad |= (x[i] ^ y[i]) & (x[i] ^ s)
			}
		default:
			for i := range out {
				x, y := a.int(i), b.int(i)
				s := x - y
				out[i] = s
				bad |= (x ^ y) & (x ^ s)
			}
		}
	case '*':
		for i := range out {
			x, y := a.int(i), b.int(i)
			p := x * y
			out[i] = p
			if x != 0 && (p/x != y || (x == -1 && y == math.MinInt64)) {
				bad = -1
			}
		}
	case '/', '%':
		for i := range out {
			x, y := a.int(i), b.int(i)
			if y == 0 || (y == -1 && x == math.MinInt64) {
				bad = -1
				out[i] = 0
				continue
			}
			if op == '/' {
				out[i] = x / y
			} else {
				out[i] = x % y
			}
		}
	}
	if bad < 0 {
		// Rare: find the failing rows again.
		for i := range out {
			if !o.isValid(i) {
				continue
			}
			x, y := a.int(i), b.int(i)
			if reason := intArithFailure(op, x, y, what); reason != "" {
				c.rowErr(i, "%s", reason)
				o.setNull(i)
			}
		}
	}
	return o.finish(t.Arrow())
}

func addConst(x []int64, k int64, out []int64) int64 {
	var bad int64
	for i := range out {
		s := x[i] + k
		out[i] = s
		bad |= (x[i] ^ s) & (k ^ s)
	}
	return bad
}

// intArithFailure explains why x op y fails, or returns "".
func intArithFailure(op byte, x, y int64, what string) string {
	switch op {
	case '+':
		s := x + y
		if (x^s)&(y^s) < 0 {
			return what + " overflow in " + itoa(x) + " + " + itoa(y)
		}
	case '-':
		s := x - y
		if (x^y)&(x^s) < 0 {
			return what + " overflow in " + itoa(x) + " - " + itoa(y)
		}
	case '*':
		p := x * y
		if x != 0 && (p/x != y || (x == -1 && y == math.MinInt64)) {
			return what + " overflow in " + itoa(x) + " * " + itoa(y)
		}
	case '/', '%':
		if y == 0 {
			return "division by zero"
		}
		if y == -1 && x == math.MinInt64 && op == '/' {
			return what + " overflow in " + itoa(x) + " / -1"
		}
	}
	return ""
}

// floatArith computes a op b over float64 values; / and % by zero are row
// errors, the rest is IEEE 754.
func floatArith(c *evalCtx, op byte, a, b *vec) arrow.Array {
	o := newFixed[float64](c.mem, c.n)
	o.validFrom(a, b)
	out := o.vals
	switch op {
	case '+':
		switch {
		case !a.constant && !b.constant:
			x, y := a.f64[:len(out)], b.f64[:len(out)]
			for i := range out {
				out[i] = x[i] + y[i]
			}
		case !a.constant:
			x, k := a.f64[:len(out)], b.f64[0]
			for i := range out {
				out[i] = x[i] + k
			}
		default:
			for i := range out {
				out[i] = a.float(i) + b.float(i)
			}
		}
	case '-':
		switch {
		case !a.constant && !b.constant:
			x, y := a.f64[:len(out)], b.f64[:len(out)]
			for i := range out {
				out[i] = x[i] - y[i]
			}
		default:
			for i := range out {
				out[i] = a.float(i) - b.float(i)
			}
		}
	case '*':
		switch {
		case !a.constant && !b.constant:
			x, y := a.f64[:len(out)], b.f64[:len(out)]
			for i := range out {
				out[i] = x[i] * y[i]
			}
		case !a.constant:
			x, k := a.f64[:len(out)], b.f64[0]
			for i := range out {
				out[i] = x[i] * k
			}
		default:
			for i := range out {
				out[i] = a.float(i) * b.float(i)
			}
		}
	case '/', '%':
		for i := range out {
			x, y := a.float(i), b.float(i)
			if y == 0 {
				out[i] = 0
				if o.isValid(i) {
					c.rowErr(i, "division by zero")
					o.setNull(i)
				}
				continue
			}
			if op == '/' {
				out[i] = x / y
			} else {
				out[i] = math.Mod(x, y)
			}
		}
	}
	return o.finish(arrow.PrimitiveTypes.Float64)
}

func (n *arithNode) decArith(c *evalCtx, a, b *vec) arrow.Array {
	sa, sb := n.l.typ().Scale, n.r.typ().Scale
	rs, rp := n.t.Scale, n.t.Precision
	o := newFixed[decimal128.Num](c.mem, c.n)
	o.validFrom(a, b)
	for i := range o.vals {
		if !o.isValid(i) {
			o.vals[i] = decimal128.Num{}
			continue
		}
		x, y := a.decimal(i), b.decimal(i)
		r, divZero, ok := decOp(n.op, x, sa, y, sb, rs, rp)
		o.vals[i] = r
		if !ok {
			if divZero {
				c.rowErr(i, "division by zero")
			} else {
				c.rowErr(i, "%s overflow in %s %c %s", n.t, decString(x, sa), n.op, decString(y, sb))
			}
			o.setNull(i)
		}
	}
	return o.finish(n.t.Arrow())
}

// negNode is unary minus.
type negNode struct {
	x node
	t types.Type
}

func (n *negNode) typ() types.Type { return n.t }

func newNeg(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	if err := wantKind("the operand", args[0], types.BigInt, types.Double, types.Decimal, types.Interval); err != nil {
		return nil, err
	}
	if !sameType(args[0].typ(), call.T) {
		return nil, errors.New("the result type must be the operand's")
	}
	return &negNode{x: args[0], t: call.T}, nil
}

func (n *negNode) eval(c *evalCtx) (arrow.Array, error) {
	a, err := c.operand(n.x)
	if err != nil {
		return nil, err
	}
	defer a.release()
	switch n.t.Kind {
	case types.Double:
		o := newFixed[float64](c.mem, c.n)
		o.validFrom(a)
		for i := range o.vals {
			o.vals[i] = -a.float(i)
		}
		return o.finish(n.t.Arrow()), nil
	case types.Decimal:
		o := newFixed[decimal128.Num](c.mem, c.n)
		o.validFrom(a)
		for i := range o.vals {
			o.vals[i] = a.decimal(i).Negate()
		}
		return o.finish(n.t.Arrow()), nil
	}
	o := newFixed[int64](c.mem, c.n)
	o.validFrom(a)
	for i := range o.vals {
		x := a.int(i)
		o.vals[i] = -x
		if x == math.MinInt64 && o.isValid(i) {
			c.rowErr(i, "%s overflow in -(%d)", n.t, x)
			o.setNull(i)
		}
	}
	return o.finish(n.t.Arrow()), nil
}
