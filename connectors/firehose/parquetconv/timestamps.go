package parquetconv

import (
	"fmt"
	"strings"
)

// Timestamps are microseconds since 1970-01-01T00:00:00Z; dates are days
// since then. Years 0000 to 9999 only.

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (Howard Hinnant's algorithm).
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

const (
	microsPerSecond = 1_000_000
	microsPerDay    = 86_400 * microsPerSecond
)

// digitsAt reads between min and max decimal digits at s[i:].
func digitsAt(s []byte, i, min, max int) (v, end int, ok bool) {
	end = i
	for end < len(s) && end-i < max && s[end] >= '0' && s[end] <= '9' {
		v = v*10 + int(s[end]-'0')
		end++
	}
	return v, end, end-i >= min
}

// civil holds the fields of a parsed date-time.
type civil struct {
	year, month, day     int
	hour, minute, second int
	micros               int // fraction of the second
	offsetSeconds        int // zone offset east of UTC
}

func (c *civil) valid() bool {
	return c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= daysIn(c.year, c.month) &&
		c.hour <= 23 && c.minute <= 59 && c.second <= 59
}

func (c *civil) epochMicros() int64 {
	days := daysFromCivil(c.year, c.month, c.day)
	secs := int64(c.hour)*3600 + int64(c.minute)*60 + int64(c.second) - int64(c.offsetSeconds)
	return days*microsPerDay + secs*microsPerSecond + int64(c.micros)
}

// parseDate reads yyyy-[M]M-[d]d (java.sql.Date.valueOf's form).
func parseDate(s []byte) (int32, bool) {
	var c civil
	end, ok := parseDatePart(s, &c)
	if !ok || end != len(s) || !c.valid() {
		return 0, false
	}
	return int32(daysFromCivil(c.year, c.month, c.day)), true
}

func parseDatePart(s []byte, c *civil) (int, bool) {
	var ok bool
	i := 0
	if c.year, i, ok = digitsAt(s, i, 4, 4); !ok || i >= len(s) || s[i] != '-' {
		return 0, false
	}
	if c.month, i, ok = digitsAt(s, i+1, 1, 2); !ok || i >= len(s) || s[i] != '-' {
		return 0, false
	}
	if c.day, i, ok = digitsAt(s, i+1, 1, 2); !ok {
		return 0, false
	}
	return i, true
}

// parseDateTime reads yyyy-[M]M-[d]d, a 'T' (if allowT) or a space,
// HH:mm:ss, an optional fraction of 1 to 9 digits (kept to microseconds,
// truncated) and, if allowZone, an optional Z, ±HH, ±HHmm or ±HH:mm.
func parseDateTime(s []byte, allowT, allowZone bool) (int64, bool) {
	var c civil
	i, ok := parseDatePart(s, &c)
	if !ok || i >= len(s) || !(s[i] == ' ' || allowT && s[i] == 'T') {
		return 0, false
	}
	if c.hour, i, ok = digitsAt(s, i+1, 1, 2); !ok || i >= len(s) || s[i] != ':' {
		return 0, false
	}
	if c.minute, i, ok = digitsAt(s, i+1, 2, 2); !ok || i >= len(s) || s[i] != ':' {
		return 0, false
	}
	if c.second, i, ok = digitsAt(s, i+1, 2, 2); !ok {
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		start := i + 1
		var frac int
		if frac, i, ok = digitsAt(s, start, 1, 9); !ok {
			return 0, false
		}
		c.micros = fractionMicros(frac, i-start)
	}
	if allowZone && i < len(s) {
		if i, ok = parseZone(s, i, &c); !ok {
			return 0, false
		}
	}
	if i != len(s) || !c.valid() {
		return 0, false
	}
	return c.epochMicros(), true
}

// fractionMicros turns n fraction digits with value v into microseconds,
// truncating digits beyond the sixth.
func fractionMicros(v, n int) int {
	for ; n < 6; n++ {
		v *= 10
	}
	for ; n > 6; n-- {
		v /= 10
	}
	return v
}

// parseZone reads Z, ±HH, ±HHmm or ±HH:mm at s[i].
func parseZone(s []byte, i int, c *civil) (int, bool) {
	if s[i] == 'Z' {
		return i + 1, true
	}
	if s[i] != '+' && s[i] != '-' {
		return 0, false
	}
	sign := 1
	if s[i] == '-' {
		sign = -1
	}
	h, j, ok := digitsAt(s, i+1, 2, 2)
	if !ok || h > 23 {
		return 0, false
	}
	m := 0
	if j < len(s) && s[j] == ':' {
		j++
	}
	if j < len(s) {
		if m, j, ok = digitsAt(s, j, 2, 2); !ok || m > 59 {
			return 0, false
		}
	}
	c.offsetSeconds = sign * (h*3600 + m*60)
	return j, true
}

// Epoch numbers (OpenX): an integer below 10^11 in magnitude is seconds
// (10^11 seconds is the year 5138), a larger one milliseconds; a number with
// a fraction is seconds.
const epochSecondsLimit = 100_000_000_000

// maxEpochMillis keeps milliseconds × 1000 inside int64.
const maxEpochMillis = 9_000_000_000_000_000

// parseEpoch reads an epoch number as OpenX does; millisOnly reads integers
// as milliseconds whatever their size (Hive's "millis" format).
func parseEpoch(s []byte, n *decimalNumber, millisOnly bool) (int64, bool) {
	if v, ok := fastInt(s); ok {
		switch {
		case millisOnly || v >= epochSecondsLimit || v <= -epochSecondsLimit:
			if v > maxEpochMillis || v < -maxEpochMillis {
				return 0, false
			}
			return v * 1000, true
		default:
			return v * microsPerSecond, true
		}
	}
	if millisOnly || !splitNumber(s, n) {
		return 0, false
	}
	// Seconds with a fraction (or an exponent): exact to the microsecond,
	// truncated toward zero.
	shift := n.exp + 6
	if len(n.digits)+shift > 18 {
		return 0, false
	}
	var v int64
	digits := n.digits
	if shift < 0 {
		if -shift >= len(digits) {
			digits = digits[:0]
		} else {
			digits = digits[:len(digits)+shift]
		}
		shift = 0
	}
	for _, c := range digits {
		v = v*10 + int64(c-'0')
	}
	for range shift {
		v *= 10
	}
	if n.neg {
		v = -v
	}
	return v, true
}

// tsFormat is one Hive TimestampFormats entry: "millis" or a Joda pattern.
type tsFormat struct {
	millis bool
	tokens []jodaToken
}

// jodaToken is one element of a Joda-Time pattern: a field letter repeated
// count times, or literal text.
type jodaToken struct {
	letter  byte
	count   int
	literal string
}

// parseTimestampFormat compiles "millis" or a Joda-Time DateTimeFormat
// pattern. Supported letters: y Y (year), M (month; MMM and longer for
// names), d, H, k, h, K, m, s, S (fraction), a (AM/PM), Z (zone offset or Z),
// E (day-of-week name, ignored); text in single quotes is literal, ” is a
// quote; other non-letters are literal. Zone-less input is UTC.
func parseTimestampFormat(f string) (tsFormat, error) {
	if f == "millis" {
		return tsFormat{millis: true}, nil
	}
	var out tsFormat
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for {
				if j >= len(f) {
					return tsFormat{}, fmt.Errorf("pattern %q: unterminated quote at offset %d", f, i)
				}
				if f[j] == '\'' {
					if j+1 < len(f) && f[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(f[j])
				j++
			}
			if j == i+1 {
				lit.WriteByte('\'') // '' outside a quoted run is a quote
			}
			out.tokens = append(out.tokens, jodaToken{literal: lit.String()})
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(f) && f[j] == c {
				j++
			}
			if !strings.ContainsRune("yYMdHkhKmsSaZE", rune(c)) {
				return tsFormat{}, fmt.Errorf("pattern %q: letter %q at offset %d is not supported (use y M d H h k K m s S a Z E and quoted text)", f, c, i)
			}
			out.tokens = append(out.tokens, jodaToken{letter: c, count: j - i})
			i = j
		default:
			out.tokens = append(out.tokens, jodaToken{literal: string(c)})
			i++
		}
	}
	return out, nil
}

func isNumericToken(t *jodaToken) bool {
	return t.literal == "" && strings.IndexByte("yYdHkhKmsS", t.letter) >= 0 || t.letter == 'M' && t.count < 3
}

var (
	monthNames = [...]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
)

// parse reads s with the Joda pattern.
func (f *tsFormat) parse(s []byte) (int64, bool) {
	c := civil{year: 1970, month: 1, day: 1}
	pm, hour12 := -1, false
	i := 0
	for k := range f.tokens {
		t := &f.tokens[k]
		if t.literal != "" {
			if !strings.HasPrefix(unsafeString(s[i:]), t.literal) {
				return 0, false
			}
			i += len(t.literal)
			continue
		}
		if isNumericToken(t) {
			// Fixed width when the next token is numeric too (yyyyMMdd), as
			// Joda does; otherwise up to the field's natural width.
			min, max := t.count, 9
			if k+1 < len(f.tokens) && isNumericToken(&f.tokens[k+1]) {
				max = t.count
			} else if t.letter != 'y' && t.letter != 'Y' && t.letter != 'S' {
				max = 2
				if t.count > 2 {
					max = t.count
				}
			}
			if t.letter != 'S' && min > 1 && max > min {
				min = 1 // Joda accepts fewer digits for non-adjacent fields
			}
			v, end, ok := digitsAt(s, i, min, max)
			if !ok {
				return 0, false
			}
			switch t.letter {
			case 'y', 'Y':
				c.year = v
				if t.count == 2 && end-i == 2 {
					c.year = 2000 + v // Joda's two-digit year pivot, simplified
				}
			case 'M':
				c.month = v
			case 'd':
				c.day = v
			case 'H':
				c.hour = v
			case 'k':
				c.hour = v % 24
			case 'h':
				c.hour, hour12 = v%12, true
			case 'K':
				c.hour, hour12 = v, true
			case 'm':
				c.minute = v
			case 's':
				c.second = v
			case 'S':
				c.micros = fractionMicros(v, end-i)
			}
			i = end
			continue
		}
		rest := strings.ToLower(unsafeString(s[i:]))
		switch t.letter {
		case 'M':
			found := false
			for m, name := range monthNames {
				if t.count >= 4 && strings.HasPrefix(rest, name) {
					c.month, i, found = m+1, i+len(name), true
					break
				}
				if t.count == 3 && strings.HasPrefix(rest, name[:3]) {
					c.month, i, found = m+1, i+3, true
					break
				}
			}
			if !found {
				return 0, false
			}
		case 'E':
			j := i
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			if j == i {
				return 0, false
			}
			i = j
		case 'a':
			switch {
			case strings.HasPrefix(rest, "am"):
				pm = 0
			case strings.HasPrefix(rest, "pm"):
				pm = 1
			default:
				return 0, false
			}
			i += 2
		case 'Z':
			if i >= len(s) {
				return 0, false
			}
			var ok bool
			if i, ok = parseZone(s, i, &c); !ok {
				return 0, false
			}
		}
	}
	if i != len(s) {
		return 0, false
	}
	if hour12 && pm == 1 {
		c.hour += 12
	}
	if c.year > 9999 || !c.valid() {
		return 0, false
	}
	return c.epochMicros(), true
}
