package format

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON scanner: a validating, allocation-free walk over one JSON text. It
// checks the whole document (RFC 8259 grammar, as encoding/json does, including
// fields the query does not use) and hands the byte ranges of the values the
// projected columns need to the decoder, which converts only those.

// SWAR constants: a one and a high bit in every byte.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// String flags found while scanning.
const (
	strEscaped  = 1 << iota // has a backslash escape
	strNonASCII             // has bytes >= 0x80 (to check for valid UTF-8)
)

// syntaxError reports malformed JSON at a byte offset.
func syntaxError(pos int, what string) error {
	return &DecodeError{Reason: "invalid JSON at byte " + strconv.Itoa(pos) + ": " + what}
}

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

// scanString checks the string starting at b[i] == '"' and returns the offset
// after its closing quote.
func scanString(b []byte, i int) (int, uint8, error) {
	start := i
	i++
	var flags uint8
	for {
		// The common run of plain ASCII characters, 8 bytes at a time: m flags
		// the bytes that are a quote, a backslash, a control character or
		// non-ASCII; the lowest flagged byte is exact.
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
			return 0, 0, syntaxError(start, "unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags, nil
		case c == '\\':
			flags |= strEscaped
			if i+1 >= len(b) {
				return 0, 0, syntaxError(start, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, 0, syntaxError(i, `\u must be followed by four hex digits`)
				}
				i += 6
			default:
				return 0, 0, syntaxError(i, "invalid escape "+strconv.Quote(string(b[i:i+2])))
			}
		case c < 0x20:
			return 0, 0, syntaxError(i, "control character "+strconv.QuoteRune(rune(c))+" in a string")
		default:
			flags |= strNonASCII
			i++
		}
	}
}

// scanNumber checks the number starting at b[i] and returns the offset after it.
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
		return 0, syntaxError(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return 0, syntaxError(start, "a number needs digits after the decimal point")
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
			return 0, syntaxError(start, "a number needs digits in its exponent")
		}
	}
	return i, nil
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return 0, syntaxError(i, "invalid value")
}

// skipValue checks the value starting at b[i] and returns the offset after it.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, syntaxError(i, "unexpected end of input")
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
	return 0, syntaxError(i, "invalid character "+strconv.QuoteRune(rune(b[i]))+" looking for a value")
}

func skipObject(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, syntaxError(i, "nested too deeply")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, syntaxError(i, "expected a field name in quotes")
		}
		end, _, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, syntaxError(i, "expected ':' after a field name")
		}
		i, err = skipValue(b, skipWS(b, i+1), depth)
		if err != nil {
			return 0, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated object")
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		return 0, syntaxError(i, "expected ',' or '}' in an object")
	}
}

func skipArray(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, syntaxError(i, "nested too deeply")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		i, err = skipValue(b, i, depth)
		if err != nil {
			return 0, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated array")
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		return 0, syntaxError(i, "expected ',' or ']' in an array")
	}
}

// validJSON says whether b is one JSON value (with surrounding whitespace).
func validJSON(b []byte) bool {
	i := skipWS(b, 0)
	end, err := skipValue(b, i, 0)
	return err == nil && skipWS(b, end) == len(b)
}

// appendUnescaped appends the content of a JSON string (between its quotes,
// already checked by scanString) with escapes resolved. Invalid UTF-8 and lone
// surrogates become U+FFFD, as encoding/json does.
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
