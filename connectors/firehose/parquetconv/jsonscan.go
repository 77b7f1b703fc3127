package parquetconv

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A validating, allocation-free JSON scanner (RFC 8259, as encoding/json
// reads it). Records are scanned once to check the whole text and find the
// value of each column; conversion then reads those values in place.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
	// maxJSONDepth bounds nesting, as encoding/json does.
	maxJSONDepth = 10000
)

// jsonError is malformed JSON at a byte offset.
type jsonError struct {
	pos  int
	what string
}

func (e *jsonError) Error() string {
	return "not valid JSON at byte " + strconv.Itoa(e.pos) + ": " + e.what
}

func syntaxErr(pos int, what string) error { return &jsonError{pos: pos, what: what} }

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// String flags found while scanning.
const (
	strEscaped  = 1 << iota // holds a backslash escape
	strNonASCII             // holds bytes >= 0x80 (to check UTF-8)
)

// scanString checks the string at b[i] == '"' and returns the offset after
// its closing quote and its flags.
func scanString(b []byte, i int) (int, uint8, error) {
	start := i
	i++
	var flags uint8
	for {
		// Eight bytes at a time while none is a quote, a backslash, a
		// control character or non-ASCII.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			bs := x ^ (lsb * '\\')
			m := ((q-lsb)&^q | (bs-lsb)&^bs | (x-lsb*0x20)&^x | x) & msb
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) {
			c := b[i]
			if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				break
			}
			i++
		}
		if i >= len(b) {
			return 0, 0, syntaxErr(start, "unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags, nil
		case c == '\\':
			flags |= strEscaped
			if i+1 >= len(b) {
				return 0, 0, syntaxErr(start, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, 0, syntaxErr(i, `\u must be followed by four hex digits`)
				}
				i += 6
			default:
				return 0, 0, syntaxErr(i, "invalid escape "+strconv.Quote(string(b[i:i+2])))
			}
		case c < 0x20:
			return 0, 0, syntaxErr(i, "control character "+strconv.QuoteRune(rune(c))+" in a string")
		default:
			flags |= strNonASCII
			i++
		}
	}
}

// scanNumber checks the number at b[i] and returns the offset after it.
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, syntaxErr(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return 0, syntaxErr(start, "a number needs digits after the decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return 0, syntaxErr(start, "a number needs digits in its exponent")
		}
	}
	return i, nil
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return 0, syntaxErr(i, "invalid value")
}

// skipValue checks the value at b[i] and returns the offset after it.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, syntaxErr(i, "unexpected end of input")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '{':
		return skipObject(b, i, depth+1)
	case c == '[':
		return skipArray(b, i, depth+1)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(b, i)
	}
	return 0, syntaxErr(i, "invalid character "+strconv.QuoteRune(rune(b[i]))+" looking for a value")
}

// objectFields walks the object at b[i] == '{', calling field with the raw
// key (between its quotes), the key's flags and the offset of the value,
// which field must return the end of (skipping or converting it).
func objectFields(b []byte, i, depth int, field func(key []byte, flags uint8, val int) (int, error)) (int, error) {
	if depth > maxJSONDepth {
		return 0, syntaxErr(i, "nested too deeply")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, syntaxErr(i, "expected a field name in quotes")
		}
		end, flags, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, syntaxErr(i, "expected ':' after a field name")
		}
		i, err = field(key, flags, skipWS(b, i+1))
		if err != nil {
			return 0, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, syntaxErr(i, "unterminated object")
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		return 0, syntaxErr(i, "expected ',' or '}' in an object")
	}
}

func skipObject(b []byte, i, depth int) (int, error) {
	return objectFields(b, i, depth, func(_ []byte, _ uint8, v int) (int, error) {
		return skipValue(b, v, depth)
	})
}

// arrayElems walks the array at b[i] == '[', calling elem with the index and
// offset of each element, which elem must return the end of.
func arrayElems(b []byte, i, depth int, elem func(k, at int) (int, error)) (int, error) {
	if depth > maxJSONDepth {
		return 0, syntaxErr(i, "nested too deeply")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for k := 0; ; k++ {
		var err error
		i, err = elem(k, i)
		if err != nil {
			return 0, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, syntaxErr(i, "unterminated array")
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		return 0, syntaxErr(i, "expected ',' or ']' in an array")
	}
}

func skipArray(b []byte, i, depth int) (int, error) {
	return arrayElems(b, i, depth, func(_, at int) (int, error) {
		return skipValue(b, at, depth)
	})
}

// appendUnescaped appends the content of a checked JSON string (between its
// quotes) with escapes resolved; invalid UTF-8 and lone surrogates become
// U+FFFD, as encoding/json does.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = hex4(s[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // " \ /
				dst = append(dst, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
