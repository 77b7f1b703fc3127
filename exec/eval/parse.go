package eval

import (
	"errors"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Parsing of text into values, for CAST from VARCHAR and JSON. Leading and
// trailing white space is ignored.

var (
	errSyntax = errors.New("invalid syntax")
	errRange  = errors.New("out of range")
)

func parseBigInt(s string) (int64, error) {
	t := strings.TrimSpace(s)
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errRange
		}
		return 0, errSyntax
	}
	return v, nil
}

// parseDouble accepts decimal notation with an optional exponent, and
// Infinity / Inf / NaN (any case, optional sign).
func parseDouble(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if !validFloatText(t) {
		return 0, errSyntax
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errRange
		}
		return 0, errSyntax
	}
	return v, nil
}

func validFloatText(t string) bool {
	u := t
	if u != "" && (u[0] == '+' || u[0] == '-') {
		u = u[1:]
	}
	switch strings.ToLower(u) {
	case "inf", "infinity", "nan":
		return true
	}
	_, _, _, ok := splitNumber(t)
	return ok
}

// splitNumber splits [+-]digits[.digits][(e|E)[+-]digits] (at least one
// digit in the mantissa) into its sign, mantissa digits without the point,
// and the exponent adjusted for the fraction digits.
func splitNumber(t string) (neg bool, digits string, exp int64, ok bool) {
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		neg = t[i] == '-'
		i++
	}
	var b strings.Builder
	start := i
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	intDigits := t[start:i]
	fracDigits := ""
	if i < len(t) && t[i] == '.' {
		i++
		fs := i
		for i < len(t) && isDigit(t[i]) {
			i++
		}
		fracDigits = t[fs:i]
	}
	if intDigits == "" && fracDigits == "" {
		return false, "", 0, false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		es := i
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		ds := i
		for i < len(t) && isDigit(t[i]) {
			i++
		}
		if ds == i {
			return false, "", 0, false
		}
		e, err := strconv.ParseInt(t[es:i], 10, 64)
		if err != nil {
			// Absurd exponents: clamp, the caller's range checks decide.
			e = 100000
			if t[es] == '-' {
				e = -100000
			}
		}
		exp = max(min(e, 100000), -100000)
	}
	if i != len(t) {
		return false, "", 0, false
	}
	b.WriteString(intDigits)
	b.WriteString(fracDigits)
	return neg, b.String(), exp - int64(len(fracDigits)), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseDecimal reads a number as an unscaled value at scale s, rounding half
// away from zero, and checks precision p.
func parseDecimal(str string, p, s int32) (decimal128.Num, error) {
	neg, digits, exp, ok := splitNumber(strings.TrimSpace(str))
	if !ok {
		return decimal128.Num{}, errSyntax
	}
	digits = strings.TrimLeft(digits, "0")
	// value = digits * 10^exp; unscaled = digits * 10^(exp+s).
	shift := exp + int64(s)
	if digits == "" {
		return decimal128.Num{}, nil
	}
	kept, up := digits, false
	if shift < 0 {
		drop := -shift
		if drop > int64(len(digits)) {
			return decimal128.Num{}, nil
		}
		kept = digits[:int64(len(digits))-drop]
		up = digits[int64(len(digits))-drop] >= '5'
		shift = 0
	}
	if int64(len(kept))+shift > int64(p) {
		return decimal128.Num{}, errRange
	}
	var m u128
	for k := 0; k < len(kept); k++ {
		m, _ = mulU128By64(m, 10)
		m, _ = addU128(m, u128{0, uint64(kept[k] - '0')})
	}
	if up {
		m, _ = addU128(m, u128{0, 1})
	}
	d, _ := signed(m, neg)
	d, ok = mulPow10(d, int32(shift))
	if !ok || !fitsPrecision(d, p) {
		return decimal128.Num{}, errRange
	}
	return d, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "yes", "y", "on", "1":
		return true, nil
	case "false", "f", "no", "n", "off", "0":
		return false, nil
	}
	return false, errSyntax
}

// parseTimestamp reads 'YYYY-MM-DD', optionally followed by 'T' or a space
// and HH:MM[:SS[.fraction]], optionally followed by a zone: Z, +HH, +HH:MM or
// +HHMM. Without a zone the time is UTC. Fraction digits beyond milliseconds
// are truncated.
func parseTimestamp(str string) (int64, error) {
	t := strings.TrimSpace(str)
	num := func(s string) (int, bool) {
		v := 0
		for k := 0; k < len(s); k++ {
			if !isDigit(s[k]) {
				return 0, false
			}
			v = v*10 + int(s[k]-'0')
		}
		return v, len(s) > 0
	}
	if len(t) < 10 || t[4] != '-' || t[7] != '-' {
		return 0, errSyntax
	}
	y, ok1 := num(t[0:4])
	mo, ok2 := num(t[5:7])
	d, ok3 := num(t[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, errSyntax
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(int64(y), mo) {
		return 0, errRange
	}
	ms := daysFromCivil(int64(y), mo, 1)*msDay + int64(d-1)*msDay
	rest := t[10:]
	if rest == "" {
		return ms, nil
	}
	if rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ' {
		return 0, errSyntax
	}
	rest = rest[1:]
	if len(rest) < 5 || rest[2] != ':' {
		return 0, errSyntax
	}
	h, ok1 := num(rest[0:2])
	mi, ok2 := num(rest[3:5])
	if !ok1 || !ok2 {
		return 0, errSyntax
	}
	if h > 23 || mi > 59 {
		return 0, errRange
	}
	ms += int64(h)*msHour + int64(mi)*msMinute
	rest = rest[5:]
	if len(rest) >= 3 && rest[0] == ':' {
		sec, ok := num(rest[1:3])
		if !ok {
			return 0, errSyntax
		}
		if sec > 59 {
			return 0, errRange
		}
		ms += int64(sec) * msSecond
		rest = rest[3:]
		if len(rest) > 0 && rest[0] == '.' {
			k := 1
			frac := int64(0)
			for ; k < len(rest) && isDigit(rest[k]); k++ {
				if k <= 3 {
					frac = frac*10 + int64(rest[k]-'0')
				}
			}
			if k == 1 {
				return 0, errSyntax
			}
			for j := k; j <= 3; j++ {
				frac *= 10
			}
			ms += frac
			rest = rest[k:]
		}
	}
	if rest == "" {
		return ms, nil
	}
	// Zone.
	if rest == "Z" || rest == "z" {
		return ms, nil
	}
	if rest[0] != '+' && rest[0] != '-' {
		return 0, errSyntax
	}
	sign := int64(1)
	if rest[0] == '-' {
		sign = -1
	}
	z := rest[1:]
	var zh, zm int
	var ok bool
	switch {
	case len(z) == 2:
		zh, ok = num(z)
	case len(z) == 5 && z[2] == ':':
		var okm bool
		zh, ok = num(z[0:2])
		zm, okm = num(z[3:5])
		ok = ok && okm
	case len(z) == 4:
		var okm bool
		zh, ok = num(z[0:2])
		zm, okm = num(z[2:4])
		ok = ok && okm
	}
	if !ok {
		return 0, errSyntax
	}
	if zh > 23 || zm > 59 {
		return 0, errRange
	}
	return ms - sign*(int64(zh)*msHour+int64(zm)*msMinute), nil
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
