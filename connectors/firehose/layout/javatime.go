package layout

import (
	"fmt"
	"strconv"
	"time"
)

// timePattern is a compiled Java DateTimeFormatter pattern: the value of a
// !{timestamp:...} expression. eddy supports the letters Firehose users put in
// object prefixes: y (year of era), M (month), d (day of month), H (hour of
// day), m (minute), s (second) and S (fraction of second), plus quoted literal
// text, two single quotes for a quote, optional sections [ ] and every other
// non-letter character as itself. Any other letter is an error, never
// silently literal.
type timePattern []timeField

type timeField struct {
	letter byte // 0 for literal text
	count  int
	text   string
}

const supportedTimeLetters = "y M d H m s S"

// compileTimePattern parses pattern the way Java's
// DateTimeFormatterBuilder.appendPattern does, for the supported letters.
func compileTimePattern(pattern string) (timePattern, error) {
	var out timePattern
	optionalDepth := 0
	for pos := 0; pos < len(pattern); {
		c := pattern[pos]
		switch {
		case isASCIILetter(c):
			start := pos
			for pos < len(pattern) && pattern[pos] == c {
				pos++
			}
			count := pos - start
			if err := checkTimeLetter(c, count); err != nil {
				return nil, err
			}
			out = append(out, timeField{letter: c, count: count})
		case c == '\'':
			// A quoted literal; '' inside it, or on its own, is one quote.
			start := pos
			pos++
			var lit []byte
			for {
				if pos >= len(pattern) {
					return nil, fmt.Errorf("the pattern ends inside the literal text that starts at offset %d: close it with a single quote (')", start)
				}
				if pattern[pos] == '\'' {
					if pos+1 < len(pattern) && pattern[pos+1] == '\'' {
						lit = append(lit, '\'')
						pos += 2
						continue
					}
					pos++
					break
				}
				lit = append(lit, pattern[pos])
				pos++
			}
			if pos-start == 2 {
				lit = []byte{'\''}
			}
			out = append(out, timeField{text: string(lit)})
		case c == '[':
			optionalDepth++
			pos++
		case c == ']':
			if optionalDepth == 0 {
				return nil, fmt.Errorf("the pattern has ] at offset %d without a previous [", pos)
			}
			optionalDepth--
			pos++
		case c == '{' || c == '}' || c == '#':
			return nil, fmt.Errorf("the pattern includes the reserved character %q at offset %d: quote it ('%c') to print it", c, pos, c)
		default:
			out = append(out, timeField{text: pattern[pos : pos+1]})
			pos++
		}
	}
	return out, nil
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func checkTimeLetter(c byte, count int) error {
	maxCount := 0
	switch c {
	case 'y':
		maxCount = 19
	case 'M':
		maxCount = 5
	case 'd', 'H', 'm', 's':
		maxCount = 2
	case 'S':
		maxCount = 9
	default:
		return fmt.Errorf("the pattern letter %q is not supported (eddy supports %s; put literal text in single quotes)", c, supportedTimeLetters)
	}
	if count > maxCount {
		return fmt.Errorf("too many pattern letters: %s (at most %d)", repeatByte(c, count), maxCount)
	}
	return nil
}

func repeatByte(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

var (
	monthNames      = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	monthShortNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// appendTo formats t (already in the wanted zone) as Java would in the
// English locale.
func (p timePattern) appendTo(dst []byte, t time.Time) []byte {
	for _, f := range p {
		switch f.letter {
		case 0:
			dst = append(dst, f.text...)
		case 'y':
			year := t.Year()
			if year <= 0 {
				year = 1 - year // year of era
			}
			switch {
			case f.count == 2:
				dst = appendPadded(dst, year%100, 2)
			case f.count >= 4 && len(strconv.Itoa(year)) > f.count:
				dst = append(dst, '+')
				dst = strconv.AppendInt(dst, int64(year), 10)
			default:
				dst = appendPadded(dst, year, f.count)
			}
		case 'M':
			m := int(t.Month())
			switch f.count {
			case 1, 2:
				dst = appendPadded(dst, m, f.count)
			case 3:
				dst = append(dst, monthShortNames[m-1]...)
			case 4:
				dst = append(dst, monthNames[m-1]...)
			default:
				dst = append(dst, monthNames[m-1][0])
			}
		case 'd':
			dst = appendPadded(dst, t.Day(), f.count)
		case 'H':
			dst = appendPadded(dst, t.Hour(), f.count)
		case 'm':
			dst = appendPadded(dst, t.Minute(), f.count)
		case 's':
			dst = appendPadded(dst, t.Second(), f.count)
		case 'S':
			digits := appendPadded(nil, t.Nanosecond(), 9)
			dst = append(dst, digits[:f.count]...)
		}
	}
	return dst
}

func appendPadded(dst []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}
