package eval

import (
	"math/big"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Exact DECIMAL arithmetic on unscaled 128-bit integers. Fast paths work on
// 128-bit magnitudes with overflow checks; when an intermediate value does not
// fit 128 bits (the final one may still fit after rounding), the operation is
// redone with math/big.

// u128 is an unsigned 128-bit magnitude.
type u128 struct{ hi, lo uint64 }

func magnitude(d decimal128.Num) (u128, bool) {
	neg := d.Sign() < 0
	if neg {
		d = d.Negate()
	}
	return u128{uint64(d.HighBits()), d.LowBits()}, neg
}

// signed turns a magnitude back into a Num; ok is false when it exceeds the
// signed 128-bit range.
func signed(m u128, neg bool) (decimal128.Num, bool) {
	if m.hi>>63 != 0 {
		return decimal128.Num{}, false
	}
	d := decimal128.New(int64(m.hi), m.lo)
	if neg {
		d = d.Negate()
	}
	return d, true
}

// pow10u64 holds 10^0 .. 10^19.
var pow10u64 = [20]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

func mulU128By64(a u128, m uint64) (u128, bool) {
	hh, hl := bits.Mul64(a.hi, m)
	if hh != 0 {
		return u128{}, false
	}
	lh, ll := bits.Mul64(a.lo, m)
	hi, carry := bits.Add64(hl, lh, 0)
	if carry != 0 {
		return u128{}, false
	}
	return u128{hi, ll}, true
}

func mulU128(a, b u128) (u128, bool) {
	if a.hi != 0 && b.hi != 0 {
		return u128{}, false
	}
	if a.hi != 0 {
		a, b = b, a
	}
	// a fits 64 bits.
	return mulU128By64(b, a.lo)
}

// divU128By64 returns a / d and a % d for d != 0.
func divU128By64(a u128, d uint64) (u128, uint64) {
	qh := a.hi / d
	r := a.hi % d
	ql, r := bits.Div64(r, a.lo, d)
	return u128{qh, ql}, r
}

func (a u128) isZero() bool { return a.hi == 0 && a.lo == 0 }

func addU128(a, b u128) (u128, bool) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, c2 := bits.Add64(a.hi, b.hi, c)
	return u128{hi, lo}, c2 == 0
}

func cmpU128(a, b u128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// mulPow10 multiplies by 10^k (k >= 0) with an overflow check.
func mulPow10(d decimal128.Num, k int32) (decimal128.Num, bool) {
	m, neg := magnitude(d)
	for k > 0 {
		step := min(k, 19)
		var ok bool
		if m, ok = mulU128By64(m, pow10u64[step]); !ok {
			return decimal128.Num{}, false
		}
		k -= step
	}
	return signed(m, neg)
}

// divPow10Round divides by 10^k (k >= 0), rounding half away from zero.
func divPow10Round(d decimal128.Num, k int32) decimal128.Num {
	if k == 0 {
		return d
	}
	m, neg := magnitude(d)
	if k > 39 {
		return decimal128.Num{}
	}
	// q = floor(m / 10^(k-1)); its last digit decides the rounding.
	j := k - 1
	for j > 0 {
		step := min(j, 19)
		m, _ = divU128By64(m, pow10u64[step])
		j -= step
	}
	q, last := divU128By64(m, 10)
	if last >= 5 {
		q, _ = addU128(q, u128{0, 1})
	}
	out, _ := signed(q, neg)
	return out
}

// rescaleDec changes the scale of d from `from` to `to`, rounding half away
// from zero when the scale shrinks; ok is false on overflow.
func rescaleDec(d decimal128.Num, from, to int32) (decimal128.Num, bool) {
	switch {
	case to > from:
		return mulPow10(d, to-from)
	case to < from:
		return divPow10Round(d, from-to), true
	}
	return d, true
}

// fitsPrecision says whether |d| < 10^p.
func fitsPrecision(d decimal128.Num, p int32) bool {
	if p >= 38 {
		p = 38
	}
	m, _ := magnitude(d)
	lim := decimal128.GetScaleMultiplier(int(p))
	return cmpU128(m, u128{uint64(lim.HighBits()), lim.LowBits()}) < 0
}

func addDec128(a, b decimal128.Num) (decimal128.Num, bool) {
	s := a.Add(b)
	// Overflow when both operands have the same sign and the sum another.
	if (a.Sign() < 0) == (b.Sign() < 0) && a.Sign() != 0 && (s.Sign() < 0) != (a.Sign() < 0) {
		return decimal128.Num{}, false
	}
	return s, true
}

// decOp computes a (scale sa) op b (scale sb) exactly and rounds the result
// half away from zero to scale rs. op is one of + - * / %. ok is false on
// division by zero (divZero) or when the result does not fit precision rp.
func decOp(op byte, a decimal128.Num, sa int32, b decimal128.Num, sb int32, rs, rp int32) (res decimal128.Num, divZero, ok bool) {
	if (op == '/' || op == '%') && b.Sign() == 0 {
		return decimal128.Num{}, true, false
	}
	r, fast := decOpFast(op, a, sa, b, sb, rs)
	if !fast {
		var fits bool
		r, fits = decOpBig(op, a, sa, b, sb, rs)
		if !fits {
			return decimal128.Num{}, false, false
		}
	}
	if !fitsPrecision(r, rp) {
		return decimal128.Num{}, false, false
	}
	return r, false, true
}

// decOpFast is decOp on 128-bit integers; fast is false when an
// intermediate value overflows.
func decOpFast(op byte, a decimal128.Num, sa int32, b decimal128.Num, sb int32, rs int32) (decimal128.Num, bool) {
	switch op {
	case '+', '-', '%':
		s := max(sa, sb)
		a2, ok1 := mulPow10(a, s-sa)
		b2, ok2 := mulPow10(b, s-sb)
		if !ok1 || !ok2 {
			return decimal128.Num{}, false
		}
		var r decimal128.Num
		switch op {
		case '+':
			var ok bool
			if r, ok = addDec128(a2, b2); !ok {
				return decimal128.Num{}, false
			}
		case '-':
			var ok bool
			if r, ok = addDec128(a2, b2.Negate()); !ok {
				return decimal128.Num{}, false
			}
		case '%':
			ma, na := magnitude(a2)
			mb, _ := magnitude(b2)
			var rem u128
			if mb.hi == 0 {
				_, rl := divU128By64(ma, mb.lo)
				rem = u128{0, rl}
			} else {
				return decimal128.Num{}, false
			}
			r, _ = signed(rem, na)
		}
		return rescaleDec(r, s, rs)
	case '*':
		ma, na := magnitude(a)
		mb, nb := magnitude(b)
		m, ok := mulU128(ma, mb)
		if !ok {
			return decimal128.Num{}, false
		}
		r, ok := signed(m, na != nb)
		if !ok {
			return decimal128.Num{}, false
		}
		return rescaleDec(r, sa+sb, rs)
	case '/':
		// q = round(a * 10^e / b) with e = rs - sa + sb.
		e := rs - sa + sb
		if e < 0 {
			return decimal128.Num{}, false
		}
		num, ok := mulPow10(a, e)
		if !ok {
			return decimal128.Num{}, false
		}
		mn, nn := magnitude(num)
		mb, nb := magnitude(b)
		if mb.hi != 0 {
			return decimal128.Num{}, false
		}
		q, rem := divU128By64(mn, mb.lo)
		// Round half away from zero: 2*rem >= divisor.
		if rem >= mb.lo-rem {
			q, _ = addU128(q, u128{0, 1})
		}
		return signed(q, nn != nb)
	}
	return decimal128.Num{}, false
}

func pow10Big(k int32) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)
}

// quoRound returns num/den rounded half away from zero.
func quoRound(num, den *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(new(big.Int).Abs(den)) >= 0 {
		if (num.Sign() < 0) != (den.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// rescaleBig rounds x at scale from to scale to.
func rescaleBig(x *big.Int, from, to int32) *big.Int {
	switch {
	case to > from:
		return new(big.Int).Mul(x, pow10Big(to-from))
	case to < from:
		return quoRound(x, pow10Big(from-to))
	}
	return x
}

var maxDec128 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))

func decOpBig(op byte, a decimal128.Num, sa int32, b decimal128.Num, sb int32, rs int32) (decimal128.Num, bool) {
	x, y := a.BigInt(), b.BigInt()
	var r *big.Int
	switch op {
	case '+', '-', '%':
		s := max(sa, sb)
		x = rescaleBig(x, sa, s)
		y = rescaleBig(y, sb, s)
		switch op {
		case '+':
			r = new(big.Int).Add(x, y)
		case '-':
			r = new(big.Int).Sub(x, y)
		default:
			r = new(big.Int).Rem(x, y)
		}
		r = rescaleBig(r, s, rs)
	case '*':
		r = rescaleBig(new(big.Int).Mul(x, y), sa+sb, rs)
	case '/':
		e := rs - sa + sb
		if e >= 0 {
			r = quoRound(new(big.Int).Mul(x, pow10Big(e)), y)
		} else {
			r = quoRound(x, new(big.Int).Mul(y, pow10Big(-e)))
		}
	}
	if new(big.Int).Abs(r).Cmp(maxDec128) > 0 {
		return decimal128.Num{}, false
	}
	return decimal128.FromBigInt(r), true
}

// cmpDec compares a (scale sa) with b (scale sb).
func cmpDec(a decimal128.Num, sa int32, b decimal128.Num, sb int32) int {
	if sa == sb {
		return a.Cmp(b)
	}
	s := max(sa, sb)
	a2, ok1 := mulPow10(a, s-sa)
	b2, ok2 := mulPow10(b, s-sb)
	if ok1 && ok2 {
		return a2.Cmp(b2)
	}
	return rescaleBig(a.BigInt(), sa, s).Cmp(rescaleBig(b.BigInt(), sb, s))
}

// decString renders an unscaled value at scale s as plain decimal text.
func decString(d decimal128.Num, s int32) string {
	m, neg := magnitude(d)
	var buf [48]byte
	i := len(buf)
	digits := 0
	for !m.isZero() || digits <= int(s) {
		var r uint64
		m, r = divU128By64(m, 10)
		i--
		buf[i] = byte('0' + r)
		digits++
		if digits == int(s) && s > 0 {
			i--
			buf[i] = '.'
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
