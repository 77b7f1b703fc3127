package format

import (
	"math"
	"math/bits"
	"strconv"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// u128 is an unsigned 128-bit magnitude, for exact decimal arithmetic.
type u128 struct{ hi, lo uint64 }

// Powers of ten at the edge of what a Decimal128 holds.
var (
	ten37 = u128{hi: 0x785ee10d5da46d9, lo: 0xf436a000000000}
	ten38 = u128{hi: 0x4b3b4ca85a86c47a, lo: 0x98a224000000000}
)

func (a u128) isZero() bool { return a.hi == 0 && a.lo == 0 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// mul10add returns a*10+d; the caller makes sure it does not overflow.
func (a u128) mul10add(d uint64) u128 {
	hi1, lo := bits.Mul64(a.lo, 10)
	hi := a.hi*10 + hi1
	lo, c := bits.Add64(lo, d, 0)
	return u128{hi: hi + c, lo: lo}
}

func (a u128) add1() u128 {
	lo, c := bits.Add64(a.lo, 1, 0)
	return u128{hi: a.hi + c, lo: lo}
}

// pow10u128 returns 10^n for 0 <= n <= 38.
func pow10u128(n int) u128 {
	v := u128{lo: 1}
	for range n {
		v = v.mul10add(0)
	}
	return v
}

// numLit is a decimal number literal taken apart: (-1)^neg × digits × 10^exp,
// where digits are intPart followed by frac.
type numLit struct {
	neg     bool
	intPart []byte
	frac    []byte
	exp     int
}

// maxExp bounds exponents: anything larger overflows every type, anything
// smaller rounds to zero.
const maxExp = 1 << 20

// parseNumLit reads [+-]? digits [. digits] ([eE] [+-]? digits)? with at least
// one digit before the exponent. It is more lenient than JSON (a leading + or
// zeros, a bare "5." or ".5"), which suits numbers written inside strings; the
// JSON scanner has already checked the grammar of JSON numbers.
func parseNumLit(b []byte) (numLit, bool) {
	var n numLit
	i := 0
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		n.neg = b[i] == '-'
		i++
	}
	s := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	n.intPart = b[s:i]
	if i < len(b) && b[i] == '.' {
		i++
		s = i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		n.frac = b[s:i]
	}
	if len(n.intPart)+len(n.frac) == 0 {
		return n, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			eneg = b[i] == '-'
			i++
		}
		if i == len(b) {
			return n, false
		}
		e := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if e < maxExp {
				e = e*10 + int(b[i]-'0')
			}
			i++
		}
		if eneg {
			e = -e
		}
		n.exp = e
	}
	return n, i == len(b)
}

// scaled returns the magnitude of n × 10^scale truncated to an integer, the
// first digit dropped by the truncation, whether any later dropped digit is
// non-zero, and whether the magnitude reached 10^38.
func (n numLit) scaled(scale int) (mag u128, first byte, sticky, overflow bool) {
	total := len(n.intPart) + len(n.frac)
	top := len(n.intPart) - 1 + n.exp + scale // position of the first digit
	for i := range total {
		var c byte
		if i < len(n.intPart) {
			c = n.intPart[i]
		} else {
			c = n.frac[i-len(n.intPart)]
		}
		d := c - '0'
		p := top - i
		switch {
		case p >= 0:
			if !mag.less(ten37) {
				return mag, 0, false, true
			}
			mag = mag.mul10add(uint64(d))
		case p == -1:
			first = d
		default:
			if d != 0 {
				sticky = true
			}
		}
	}
	if last := top - (total - 1); last > 0 && !mag.isZero() {
		if last > 38 {
			return mag, 0, false, true
		}
		for range last {
			if !mag.less(ten37) {
				return mag, 0, false, true
			}
			mag = mag.mul10add(0)
		}
	}
	return mag, first, sticky, false
}

// Reasons a number does not fit, used in decode errors.
const (
	reasonNotNumber  = "not a number"
	reasonFraction   = "has a fraction"
	reasonOutOfRange = "out of range"
)

// parseBigInt converts number text to an int64. Integral values written with a
// fraction or an exponent (5.0, 1e3) are accepted; 5.5 is not.
func parseBigInt(b []byte) (int64, string) {
	// Fast path: plain digits.
	if len(b) > 0 && len(b) <= 18 {
		i, neg := 0, false
		if b[0] == '-' {
			neg, i = true, 1
		}
		if i < len(b) {
			var v int64
			j := i
			for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
				v = v*10 + int64(b[j]-'0')
			}
			if j == len(b) {
				if neg {
					v = -v
				}
				return v, ""
			}
		}
	}
	n, ok := parseNumLit(b)
	if !ok {
		return 0, reasonNotNumber
	}
	mag, first, sticky, overflow := n.scaled(0)
	if overflow {
		return 0, reasonOutOfRange
	}
	if first != 0 || sticky {
		return 0, reasonFraction
	}
	if mag.hi != 0 || mag.lo > 1<<63 || mag.lo == 1<<63 && !n.neg {
		return 0, reasonOutOfRange
	}
	if n.neg {
		return -int64(mag.lo), ""
	}
	return int64(mag.lo), ""
}

// parseDouble converts number text to a float64. Strings may also hold NaN,
// Inf and Infinity (any case, with a sign).
func parseDouble(b []byte) (float64, string) {
	if len(b) == 0 {
		return 0, reasonNotNumber
	}
	f, err := strconv.ParseFloat(unsafeString(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, reasonOutOfRange
		}
		return 0, reasonNotNumber
	}
	return f, ""
}

// decimalSpec is a DECIMAL(p,s) column's limits.
type decimalSpec struct {
	scale int
	limit u128 // 10^precision
}

func newDecimalSpec(precision, scale int32) decimalSpec {
	return decimalSpec{scale: int(scale), limit: pow10u128(int(precision))}
}

// parseDecimal converts number text exactly to a Decimal128 at the column's
// scale, rounding half away from zero (half-up) when the text has more digits.
func parseDecimal(b []byte, spec decimalSpec) (decimal128.Num, string) {
	n, ok := parseNumLit(b)
	if !ok {
		return decimal128.Num{}, reasonNotNumber
	}
	mag, first, _, overflow := n.scaled(spec.scale)
	if overflow {
		return decimal128.Num{}, reasonOutOfRange
	}
	if first >= 5 {
		mag = mag.add1()
	}
	if !mag.less(spec.limit) {
		return decimal128.Num{}, reasonOutOfRange
	}
	v := decimal128.New(int64(mag.hi), mag.lo)
	if n.neg {
		v = v.Negate()
	}
	return v, ""
}

// The range of timestamps eddy reads and writes: years 0000 to 9999, so that
// every value has an RFC 3339 form.
const (
	minTimestampMs = -62167219200000 // 0000-01-01T00:00:00Z
	maxTimestampMs = 253402300799999 // 9999-12-31T23:59:59.999Z
)

// parseEpoch converts an epoch number in a unit to milliseconds, rounding
// toward the past. unitScale is the power of ten from the unit to ms (s: 3, ms:
// 0, us: -3, ns: -6).
func parseEpoch(b []byte, unitScale int) (int64, string) {
	n, ok := parseNumLit(b)
	if !ok {
		return 0, reasonNotNumber
	}
	mag, first, sticky, overflow := n.scaled(unitScale)
	if overflow || mag.hi != 0 || mag.lo > 1<<62 {
		return 0, reasonOutOfRange
	}
	v := int64(mag.lo)
	if n.neg {
		v = -v
		if first != 0 || sticky {
			v--
		}
	}
	if v < minTimestampMs || v > maxTimestampMs {
		return 0, reasonOutOfRange
	}
	return v, ""
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// digits reads n decimal digits at b[i:].
func digits(b []byte, i, n int) (int, bool) {
	if i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseISOTimestamp reads an RFC 3339 / ISO 8601 timestamp:
//
//	YYYY-MM-DD[(T|t|space)hh:mm[:ss[(.|,)fraction]]][Z|z|(+|-)hh[[:]mm]]
//
// A missing zone means UTC. Fractions beyond milliseconds are truncated.
func parseISOTimestamp(b []byte) (int64, bool) {
	y, ok1 := digits(b, 0, 4)
	mo, ok2 := digits(b, 5, 2)
	d, ok3 := digits(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || b[4] != '-' || b[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return 0, false
	}
	ms := daysFromCivil(y, mo, d) * 86400000
	i := 10
	if i == len(b) {
		return ms, true
	}
	if c := b[i]; c != 'T' && c != 't' && c != ' ' {
		return 0, false
	}
	hh, ok1 := digits(b, i+1, 2)
	mm, ok2 := digits(b, i+4, 2)
	if !ok1 || !ok2 || b[i+3] != ':' || hh > 23 || mm > 59 {
		return 0, false
	}
	ms += int64(hh)*3600000 + int64(mm)*60000
	i += 6
	if i < len(b) && b[i] == ':' {
		ss, ok := digits(b, i+1, 2)
		if !ok || ss > 59 {
			return 0, false
		}
		ms += int64(ss) * 1000
		i += 3
		if i < len(b) && (b[i] == '.' || b[i] == ',') {
			i++
			s := i
			frac := 0
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				if i-s < 3 {
					frac = frac*10 + int(b[i]-'0')
				}
				i++
			}
			n := i - s
			if n == 0 {
				return 0, false
			}
			for ; n < 3; n++ {
				frac *= 10
			}
			ms += int64(frac)
		}
	}
	if i == len(b) {
		return ms, true
	}
	switch b[i] {
	case 'Z', 'z':
		return ms, i+1 == len(b)
	case '+', '-':
		sign := int64(1)
		if b[i] == '-' {
			sign = -1
		}
		oh, ok := digits(b, i+1, 2)
		if !ok || oh > 23 {
			return 0, false
		}
		i += 3
		om := 0
		if i < len(b) {
			if b[i] == ':' {
				i++
			}
			var ok bool
			om, ok = digits(b, i, 2)
			if !ok || om > 59 {
				return 0, false
			}
			i += 2
		}
		if i != len(b) {
			return 0, false
		}
		return ms - sign*(int64(oh)*3600000+int64(om)*60000), true
	}
	return 0, false
}

// timeParser turns text and numbers into TIMESTAMP values per the options.
type timeParser struct {
	unitScale int    // epoch numbers: power of ten to milliseconds
	layout    string // Go layout for strings; "" for ISO 8601
}

// fromNumber converts an epoch number.
func (p *timeParser) fromNumber(b []byte) (int64, string) {
	return parseEpoch(b, p.unitScale)
}

// fromString converts a string: with a layout, by it; otherwise ISO 8601, or
// an epoch number when the string holds only a number.
func (p *timeParser) fromString(b []byte) (int64, string) {
	b = trimSpace(b)
	if p.layout != "" {
		t, err := time.Parse(p.layout, string(b))
		if err != nil {
			return 0, "does not match timestamp_format " + strconv.Quote(p.layout)
		}
		ms := t.UnixMilli()
		if t.Nanosecond()%1e6 != 0 && ms < 0 {
			ms-- // UnixMilli rounds toward zero; timestamps truncate toward the past
		}
		if ms < minTimestampMs || ms > maxTimestampMs {
			return 0, reasonOutOfRange
		}
		return ms, ""
	}
	if ms, ok := parseISOTimestamp(b); ok {
		if ms < minTimestampMs || ms > maxTimestampMs {
			return 0, reasonOutOfRange
		}
		return ms, ""
	}
	if len(b) > 0 && (b[0] >= '0' && b[0] <= '9' || b[0] == '-' && len(b) > 1 && b[1] >= '0' && b[1] <= '9') {
		if _, ok := parseNumLit(b); ok {
			return parseEpoch(b, p.unitScale)
		}
	}
	return 0, reasonNotNumber
}

// parseBool reads true or false in any case.
func parseBool(b []byte) (bool, bool) {
	b = trimSpace(b)
	switch len(b) {
	case 4:
		return true, (b[0]|0x20) == 't' && (b[1]|0x20) == 'r' && (b[2]|0x20) == 'u' && (b[3]|0x20) == 'e'
	case 5:
		return false, (b[0]|0x20) == 'f' && (b[1]|0x20) == 'a' && (b[2]|0x20) == 'l' && (b[3]|0x20) == 's' && (b[4]|0x20) == 'e'
	}
	return false, false
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// appendTimestamp appends ms as RFC 3339 in UTC with milliseconds,
// 2026-01-02T15:04:05.000Z. sep is the date-time separator ('T', or ' ' for
// the console).
func appendTimestamp(dst []byte, ms int64, sep byte, zone bool) []byte {
	days := ms / 86400000
	rem := ms % 86400000
	if rem < 0 {
		rem += 86400000
		days--
	}
	y, m, d := civilFromDays(days)
	if y < 0 || y > 9999 {
		// Outside what RFC 3339 can write; fall back to Go's form.
		return time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, sep)
	dst = append2(dst, int(rem/3600000))
	dst = append(dst, ':')
	dst = append2(dst, int(rem/60000%60))
	dst = append(dst, ':')
	dst = append2(dst, int(rem/1000%60))
	dst = append(dst, '.')
	f := int(rem % 1000)
	dst = append(dst, byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
	if zone {
		dst = append(dst, 'Z')
	}
	return dst
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func append4(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendDecimal appends v at scale as exact decimal text: -12.50.
func appendDecimal(dst []byte, v decimal128.Num, scale int32) []byte {
	neg := v.Sign() < 0
	if neg {
		v = v.Negate()
	}
	mag := u128{hi: uint64(v.HighBits()), lo: v.LowBits()}
	var buf [48]byte
	i := len(buf)
	for !mag.isZero() {
		var r uint64
		mag, r = mag.divmod10()
		i--
		buf[i] = byte('0' + r)
	}
	txt := buf[i:]
	if neg {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		if len(txt) == 0 {
			return append(dst, '0')
		}
		dst = append(dst, txt...)
		for range -scale {
			dst = append(dst, '0')
		}
		return dst
	}
	s := int(scale)
	if len(txt) <= s {
		dst = append(dst, '0', '.')
		for range s - len(txt) {
			dst = append(dst, '0')
		}
		return append(dst, txt...)
	}
	dst = append(dst, txt[:len(txt)-s]...)
	dst = append(dst, '.')
	return append(dst, txt[len(txt)-s:]...)
}

func (a u128) divmod10() (u128, uint64) {
	qhi := a.hi / 10
	r := a.hi % 10
	qlo, r2 := bits.Div64(r, a.lo, 10)
	return u128{hi: qhi, lo: qlo}, r2
}

// appendFloat appends f as encoding/json does: shortest text, exponent form
// only for very large or small magnitudes. NaN and infinities, which JSON
// lacks, are written as the strings "NaN", "Infinity" and "-Infinity" when
// quote is set (bare otherwise); the decoders read them back.
func appendFloat(dst []byte, f float64, quote bool) []byte {
	switch {
	case math.IsNaN(f), math.IsInf(f, 0):
		s := "NaN"
		if math.IsInf(f, 1) {
			s = "Infinity"
		} else if math.IsInf(f, -1) {
			s = "-Infinity"
		}
		if quote {
			return append(append(append(dst, '"'), s...), '"')
		}
		return append(dst, s...)
	}
	abs := math.Abs(f)
	fmtc := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmtc = 'e'
	}
	dst = strconv.AppendFloat(dst, f, fmtc, -1, 64)
	if fmtc == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
