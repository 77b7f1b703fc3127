package eval

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Math functions: ABS, ROUND, FLOOR, CEIL on any numeric type; POWER, SQRT,
// LN, LOG10 on DOUBLE.

func wantSameNumeric(call *expr.Call, x node) error {
	if err := wantKind("the operand", x, types.BigInt, types.Double, types.Decimal); err != nil {
		return err
	}
	if x.typ().Kind != call.T.Kind {
		return errors.New("the result must have the operand's type " + x.typ().String())
	}
	return nil
}

func newAbs(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	if err := wantSameNumeric(call, args[0]); err != nil {
		return nil, err
	}
	n := &rowNode{args: args, t: call.T}
	switch call.T.Kind {
	case types.BigInt:
		n.i64 = func(c *evalCtx, vs []*vec, i int) (int64, bool) {
			x := vs[0].int(i)
			if x == math.MinInt64 {
				c.rowErr(i, "BIGINT overflow in abs(%d)", x)
				return 0, false
			}
			if x < 0 {
				x = -x
			}
			return x, true
		}
	case types.Double:
		n.f64 = func(c *evalCtx, vs []*vec, i int) (float64, bool) { return math.Abs(vs[0].float(i)), true }
	case types.Decimal:
		s := args[0].typ().Scale
		n.dec = func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) {
			return c.decResult(i, vs[0].decimal(i).Abs(), s, call.T, "abs")
		}
	}
	return n, nil
}

// decResult rescales d from scale s to t's scale (rounding half away from
// zero) and checks t's precision, reporting a row error when it overflows.
func (c *evalCtx) decResult(i int, d decimal128.Num, s int32, t types.Type, fn string) (decimal128.Num, bool) {
	r, ok := rescaleDec(d, s, t.Scale)
	if !ok || !fitsPrecision(r, t.Precision) {
		c.rowErr(i, "%s: %s does not fit %s", fn, decString(d, s), t)
		return decimal128.Num{}, false
	}
	return r, true
}

func newRound(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 2); err != nil {
		return nil, err
	}
	if err := wantSameNumeric(call, args[0]); err != nil {
		return nil, err
	}
	if len(args) == 2 {
		if err := wantKind("the digits", args[1], types.BigInt); err != nil {
			return nil, err
		}
	}
	digits := func(vs []*vec, i int) int64 {
		if len(vs) > 1 {
			return vs[1].int(i)
		}
		return 0
	}
	n := &rowNode{args: args, t: call.T}
	switch call.T.Kind {
	case types.BigInt:
		n.i64 = func(c *evalCtx, vs []*vec, i int) (int64, bool) {
			x := vs[0].int(i)
			r, ok := roundInt(x, digits(vs, i))
			if !ok {
				c.rowErr(i, "BIGINT overflow in round(%d, %d)", x, digits(vs, i))
			}
			return r, ok
		}
	case types.Double:
		n.f64 = func(c *evalCtx, vs []*vec, i int) (float64, bool) {
			return roundFloat(vs[0].float(i), digits(vs, i)), true
		}
	case types.Decimal:
		s := args[0].typ().Scale
		n.dec = func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) {
			x := vs[0].decimal(i)
			d := digits(vs, i)
			if d < int64(s) {
				if d < -40 {
					x = decimal128.Num{}
				} else {
					k := s - int32(d)
					var ok bool
					if x, ok = mulPow10(divPow10Round(x, k), k); !ok {
						c.rowErr(i, "round: %s does not fit %s", decString(vs[0].decimal(i), s), call.T)
						return decimal128.Num{}, false
					}
				}
			}
			return c.decResult(i, x, s, call.T, "round")
		}
	}
	return n, nil
}

// roundInt rounds x to d decimal digits (d < 0 rounds to tens, hundreds...),
// half away from zero; ok is false on overflow.
func roundInt(x, d int64) (int64, bool) {
	if d >= 0 || x == 0 {
		return x, true
	}
	if d < -19 {
		return 0, true
	}
	if d == -19 {
		// 10^19 does not fit int64: |x| < 9.3e18 rounds to 0 or overflows.
		if x >= 5e18 || x <= -5e18 {
			return 0, false
		}
		return 0, true
	}
	p := int64(pow10u64[-d])
	q, r := x/p, x%p
	if r < 0 {
		r = -r
	}
	if r >= p-r { // 2r >= p
		if x < 0 {
			q--
		} else {
			q++
		}
	}
	v := q * p
	if v/p != q {
		return 0, false
	}
	return v, true
}

// roundFloat rounds x half away from zero at d decimal digits, judging ties on
// the shortest decimal text of x (so 2.675 rounds to 2.68 as printed).
func roundFloat(x float64, d int64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	switch {
	case d > 340:
		return x
	case d < -340:
		return math.Copysign(0, x)
	case d == 0:
		return math.Round(x)
	}
	// Fast path: scale to an integer-sized value and round there, unless the
	// scaled value is too close to a tie for binary rounding noise to be
	// ruled out.
	if d > 0 && d <= 22 {
		if r, ok := roundScaled(x, d); ok {
			return r / math.Pow10(int(d))
		}
	} else if d < 0 && d >= -22 {
		p := math.Pow10(int(-d))
		y := x / p
		if a := math.Abs(y); a < 1<<52 {
			frac := a - math.Floor(a)
			if math.Abs(frac-0.5) > a*1e-15+1e-9 {
				return math.Round(y) * p
			}
		}
	}
	return roundFloatText(x, d)
}

// roundScaled returns x * 10^d rounded half away from zero (0 <= d <= 22)
// when binary arithmetic decides it exactly as rounding the shortest decimal
// text of x would: the scaled value must be below 2^52 and not within
// rounding noise of a tie. ok is false otherwise.
func roundScaled(x float64, d int64) (float64, bool) {
	if d < 0 || d > 22 {
		return 0, false
	}
	y := x * math.Pow10(int(d))
	a := math.Abs(y)
	if !(a < 1<<52) {
		return 0, false
	}
	frac := a - math.Floor(a)
	if math.Abs(frac-0.5) <= a*1e-15+1e-9 {
		return 0, false
	}
	return math.Round(y), true
}

// roundFloatText rounds the shortest decimal text of x: with D its digits
// and point the digits before the decimal point, x*10^d = D * 10^(point+d-len(D)),
// so the integer part of x*10^d is the first point+d digits of D.
func roundFloatText(x float64, d int64) float64 {
	txt := strconv.FormatFloat(math.Abs(x), 'f', -1, 64)
	intPart, fracPart, _ := strings.Cut(txt, ".")
	digits := intPart + fracPart
	cut := int64(len(intPart)) + d
	if cut >= int64(len(digits)) {
		return x
	}
	var n []byte
	up := false
	switch {
	case cut < 0:
		n = []byte{'0'}
	case cut == 0:
		n = []byte{'0'}
		up = digits[0] >= '5'
	default:
		n = []byte(digits[:cut])
		up = digits[cut] >= '5'
	}
	if up {
		k := len(n) - 1
		for k >= 0 && n[k] == '9' {
			n[k] = '0'
			k--
		}
		if k < 0 {
			n = append([]byte{'1'}, n...)
		} else {
			n[k]++
		}
	}
	v, err := strconv.ParseFloat(string(n)+"e"+strconv.FormatInt(-d, 10), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return x
	}
	return math.Copysign(v, x)
}

func newFloorCeil(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	if err := wantSameNumeric(call, args[0]); err != nil {
		return nil, err
	}
	ceil := call.Fn == "ceil"
	n := &rowNode{args: args, t: call.T}
	switch call.T.Kind {
	case types.BigInt:
		n.i64 = func(c *evalCtx, vs []*vec, i int) (int64, bool) { return vs[0].int(i), true }
	case types.Double:
		n.f64 = func(c *evalCtx, vs []*vec, i int) (float64, bool) {
			if ceil {
				return math.Ceil(vs[0].float(i)), true
			}
			return math.Floor(vs[0].float(i)), true
		}
	case types.Decimal:
		s := args[0].typ().Scale
		n.dec = func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) {
			x := vs[0].decimal(i)
			q := divPow10Trunc(x, s)
			back, _ := mulPow10(q, s) // |back| <= |x|
			if back != x {
				if ceil && x.Sign() > 0 {
					q = q.Add(decimal128.FromI64(1))
				} else if !ceil && x.Sign() < 0 {
					q = q.Sub(decimal128.FromI64(1))
				}
			}
			r, ok := mulPow10(q, s)
			if !ok {
				c.rowErr(i, "%s: %s does not fit %s", call.Fn, decString(x, s), call.T)
				return decimal128.Num{}, false
			}
			return c.decResult(i, r, s, call.T, call.Fn)
		}
	}
	return n, nil
}

// newDoubleMath: POWER, SQRT, LN, LOG10 over DOUBLE.
func newDoubleMath(call *expr.Call, args []node) (node, error) {
	want := 1
	if call.Fn == "power" {
		want = 2
	}
	if err := wantArgs(args, want, want); err != nil {
		return nil, err
	}
	for i, a := range args {
		if err := wantKind(argName(i), a, types.Double); err != nil {
			return nil, err
		}
	}
	if err := wantResult(call, types.Double); err != nil {
		return nil, err
	}
	n := &rowNode{args: args, t: call.T}
	switch call.Fn {
	case "power":
		n.f64 = func(c *evalCtx, vs []*vec, i int) (float64, bool) {
			x, y := vs[0].float(i), vs[1].float(i)
			if x == 0 && y < 0 {
				c.rowErr(i, "power: zero raised to a negative power")
				return 0, false
			}
			r := math.Pow(x, y)
			if math.IsNaN(r) && !math.IsNaN(x) && !math.IsNaN(y) {
				c.rowErr(i, "power(%v, %v) is not a real number", x, y)
				return 0, false
			}
			return r, true
		}
	case "sqrt":
		n.f64 = func(c *evalCtx, vs []*vec, i int) (float64, bool) {
			x := vs[0].float(i)
			if x < 0 {
				c.rowErr(i, "sqrt of a negative number %v", x)
				return 0, false
			}
			return math.Sqrt(x), true
		}
	case "ln", "log10":
		log := math.Log
		if call.Fn == "log10" {
			log = math.Log10
		}
		n.f64 = func(c *evalCtx, vs []*vec, i int) (float64, bool) {
			x := vs[0].float(i)
			if x <= 0 {
				c.rowErr(i, "%s of %v: the argument must be positive", call.Fn, x)
				return 0, false
			}
			return log(x), true
		}
	}
	return n, nil
}
