package parquetconv

import (
	"math"
	"math/big"
	"strconv"
	"unsafe"
)

// decimalNumber is a number split as digits × 10^exp, digits without leading
// or trailing zeros (empty for zero).
type decimalNumber struct {
	neg    bool
	digits []byte
	exp    int
}

// maxExponent clamps exponents so that arithmetic on them cannot overflow;
// anything this far out is out of range for every column type anyway.
const maxExponent = 1 << 20

// splitNumber parses [+-]digits[.digits][(e|E)[+-]digits], at least one
// mantissa digit, into n. The leading '+' is allowed because Java's parsers
// accept it in strings.
func splitNumber(s []byte, n *decimalNumber) bool {
	i := 0
	n.neg = false
	n.digits = n.digits[:0]
	n.exp = 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		n.neg = s[i] == '-'
		i++
	}
	mantissa := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		mantissa++
		if s[i] != '0' || len(n.digits) > 0 {
			n.digits = append(n.digits, s[i])
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			mantissa++
			n.exp--
			if s[i] != '0' || len(n.digits) > 0 {
				n.digits = append(n.digits, s[i])
			}
		}
	}
	if mantissa == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-'
			i++
		}
		start := i
		e := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if e < maxExponent {
				e = e*10 + int(s[i]-'0')
			}
		}
		if i == start {
			return false
		}
		if eneg {
			e = -e
		}
		n.exp += e
	}
	if i != len(s) {
		return false
	}
	for len(n.digits) > 0 && n.digits[len(n.digits)-1] == '0' {
		n.digits = n.digits[:len(n.digits)-1]
		n.exp++
	}
	if len(n.digits) == 0 {
		n.exp = 0
	}
	return true
}

// fastInt parses an optional '-' and 1 to 18 digits, the common case.
func fastInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// intProblem explains why a number is not an integer in [lo, hi].
const (
	problemNotNumber   = "is not a number"
	problemNotIntegral = "has a fractional part"
	problemOutOfRange  = "is out of range"
)

// parseInteger reads an integral number in [lo, hi] from s (JSON number text
// or a string holding one): 42, -7, 5.0 and 1e3 are integers, 5.5 is not.
func parseInteger(s []byte, scratch *decimalNumber, lo, hi int64) (int64, string) {
	if v, ok := fastInt(s); ok {
		if v < lo || v > hi {
			return 0, problemOutOfRange
		}
		return v, ""
	}
	if !splitNumber(s, scratch) {
		return 0, problemNotNumber
	}
	n := scratch
	if n.exp < 0 {
		return 0, problemNotIntegral
	}
	if len(n.digits)+n.exp > 19 {
		return 0, problemOutOfRange
	}
	var u uint64
	for _, c := range n.digits {
		u = u*10 + uint64(c-'0')
	}
	for range n.exp {
		u *= 10
	}
	// 19 digits fit in a uint64; compare against the bounds in that domain.
	if n.neg {
		if u > uint64(-lo) {
			return 0, problemOutOfRange
		}
		return -int64(u), ""
	}
	if u > uint64(hi) {
		return 0, problemOutOfRange
	}
	return int64(u), ""
}

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseFloatText reads a float from JSON number text, or from a string
// holding a number or NaN, Infinity, +Infinity, -Infinity (Java's spellings).
// Numbers beyond the type's range are errors, not infinities.
func parseFloatText(s []byte, bitSize int, isString bool, scratch *decimalNumber) (float64, string) {
	if isString {
		switch unsafeString(s) {
		case "NaN":
			return math.NaN(), ""
		case "Infinity", "+Infinity":
			return math.Inf(1), ""
		case "-Infinity":
			return math.Inf(-1), ""
		}
		if !splitNumber(s, scratch) {
			return 0, problemNotNumber
		}
	}
	f, err := strconv.ParseFloat(unsafeString(s), bitSize)
	if err != nil {
		return 0, problemOutOfRange
	}
	return f, ""
}

// decimalValue is a decimal's unscaled value: in small when the precision is
// at most 18, else in big.
type decimalValue struct {
	small int64
	big   *big.Int
}

// parseDecimal reads s as an exact decimal, rounds it half away from zero
// (Java's HALF_UP) to scale and checks it has at most precision digits.
func parseDecimal(s []byte, precision, scale int, n *decimalNumber, out *decimalValue) string {
	if !splitNumber(s, n) {
		return problemNotNumber
	}
	digits := n.digits
	shift := n.exp + scale
	roundUp := false
	switch {
	case len(digits) == 0:
		out.small = 0
		if out.big != nil {
			out.big.SetInt64(0)
		}
		return ""
	case shift >= 0:
		if len(digits)+shift > precision {
			return "does not fit decimal(" + strconv.Itoa(precision) + "," + strconv.Itoa(scale) + ")"
		}
	default:
		drop := -shift
		if drop > len(digits) {
			digits = digits[:0]
		} else {
			roundUp = digits[len(digits)-drop] >= '5'
			digits = digits[:len(digits)-drop]
		}
		shift = 0
		if len(digits) > precision {
			return "does not fit decimal(" + strconv.Itoa(precision) + "," + strconv.Itoa(scale) + ")"
		}
	}
	// Accumulate digits × 10^shift (+1 when rounding up); count the result's
	// digits against the precision.
	if precision <= 18 {
		var v int64
		for _, c := range digits {
			v = v*10 + int64(c-'0')
		}
		for range shift {
			v *= 10
		}
		if roundUp {
			v++
		}
		if v >= pow10[precision] {
			return "does not fit decimal(" + strconv.Itoa(precision) + "," + strconv.Itoa(scale) + ")"
		}
		if n.neg {
			v = -v
		}
		out.small = v
		return ""
	}
	if out.big == nil {
		out.big = new(big.Int)
	}
	v := out.big
	v.SetInt64(0)
	if len(digits) > 0 {
		v.SetString(unsafeString(digits), 10)
	}
	if shift > 0 {
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	}
	if roundUp {
		v.Add(v, big.NewInt(1))
	}
	if v.Cmp(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)) >= 0 {
		return "does not fit decimal(" + strconv.Itoa(precision) + "," + strconv.Itoa(scale) + ")"
	}
	if n.neg {
		v.Neg(v)
	}
	return ""
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// appendTwosComplement appends v as a big-endian two's complement integer of
// exactly width bytes (v is known to fit).
func appendTwosComplement(dst []byte, v *big.Int, width int) []byte {
	start := len(dst)
	for range width {
		dst = append(dst, 0)
	}
	out := dst[start:]
	if v.Sign() >= 0 {
		v.FillBytes(out)
		return dst
	}
	// -v - 1 in bytes, then invert: the two's complement of v.
	m := new(big.Int).Neg(v)
	m.Sub(m, big.NewInt(1))
	m.FillBytes(out)
	for i := range out {
		out[i] = ^out[i]
	}
	return dst
}
