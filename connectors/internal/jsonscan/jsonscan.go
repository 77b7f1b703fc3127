// Package jsonscan owns the validating, allocation-free JSON scanner the
// record decoders share (connectors/format's JSON rows, Firehose's
// JSON-to-Parquet conversion): it checks a whole text against RFC 8259, as
// encoding/json reads it, and hands back the offsets of values so callers
// convert only what they need, in place.
package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// SWAR constants: a one and a high bit in every byte.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// MaxDepth bounds nesting, as encoding/json does.
const MaxDepth = 10000

// String flags ScanString reports.
const (
	Escaped  = 1 << iota // has a backslash escape
	NonASCII             // has bytes >= 0x80 (to check for valid UTF-8)
)

// SyntaxError is malformed JSON at a byte offset.
type SyntaxError struct {
	Pos  int
	What string
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Pos) + ": " + e.What
}

func syntaxError(pos int, what string) error { return &SyntaxError{Pos: pos, What: what} }

// SkipWS returns the offset of the first non-space byte at or after i.
func SkipWS(b []byte, i int) int {
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

// IsHex says whether c is a hexadecimal digit.
func IsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// ScanString checks the string starting at b[i] == '"' and returns the offset
// after its closing quote.
func ScanString(b []byte, i int) (int, uint8, error) {
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
			flags |= Escaped
			if i+1 >= len(b) {
				return 0, 0, syntaxError(start, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !IsHex(b[i+2]) || !IsHex(b[i+3]) || !IsHex(b[i+4]) || !IsHex(b[i+5]) {
					return 0, 0, syntaxError(i, `\u must be followed by four hex digits`)
				}
				i += 6
			default:
				return 0, 0, syntaxError(i, "invalid escape "+strconv.Quote(string(b[i:i+2])))
			}
		case c < 0x20:
			return 0, 0, syntaxError(i, "control character "+strconv.QuoteRune(rune(c))+" in a string")
		default:
			flags |= NonASCII
			i++
		}
	}
}

// ScanNumber checks the number starting at b[i] and returns the offset after it.
func ScanNumber(b []byte, i int) (int, error) {
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

// ScanLiteral checks that lit (true, false, null) is at b[i] and returns the offset after it.
func ScanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return 0, syntaxError(i, "invalid value")
}

// SkipValue checks the value starting at b[i] and returns the offset after it.
func SkipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, syntaxError(i, "unexpected end of input")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := ScanString(b, i)
		return end, err
	case c == '{':
		return SkipObject(b, i, depth+1)
	case c == '[':
		return SkipArray(b, i, depth+1)
	case c == 't':
		return ScanLiteral(b, i, "true")
	case c == 'f':
		return ScanLiteral(b, i, "false")
	case c == 'n':
		return ScanLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return ScanNumber(b, i)
	}
	return 0, syntaxError(i, "invalid character "+strconv.QuoteRune(rune(b[i]))+" looking for a value")
}

// SkipObject checks the object at b[i] == '{' and returns the offset after it.
func SkipObject(b []byte, i, depth int) (int, error) {
	if depth > MaxDepth {
		return 0, syntaxError(i, "nested too deeply")
	}
	i = SkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, syntaxError(i, "expected a field name in quotes")
		}
		end, _, err := ScanString(b, i)
		if err != nil {
			return 0, err
		}
		i = SkipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, syntaxError(i, "expected ':' after a field name")
		}
		i, err = SkipValue(b, SkipWS(b, i+1), depth)
		if err != nil {
			return 0, err
		}
		i = SkipWS(b, i)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated object")
		}
		if b[i] == ',' {
			i = SkipWS(b, i+1)
			continue
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		return 0, syntaxError(i, "expected ',' or '}' in an object")
	}
}

// SkipArray checks the array at b[i] == '[' and returns the offset after it.
func SkipArray(b []byte, i, depth int) (int, error) {
	if depth > MaxDepth {
		return 0, syntaxError(i, "nested too deeply")
	}
	i = SkipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		i, err = SkipValue(b, i, depth)
		if err != nil {
			return 0, err
		}
		i = SkipWS(b, i)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated array")
		}
		if b[i] == ',' {
			i = SkipWS(b, i+1)
			continue
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		return 0, syntaxError(i, "expected ',' or ']' in an array")
	}
}

// Valid says whether b is one JSON value (with surrounding whitespace).
func Valid(b []byte) bool {
	i := SkipWS(b, 0)
	end, err := SkipValue(b, i, 0)
	return err == nil && SkipWS(b, end) == len(b)
}

// AppendUnescaped appends the content of a JSON string (between its quotes,
// already checked by ScanString) with escapes resolved. Invalid UTF-8 and lone
// surrogates become U+FFFD, as encoding/json does.
func AppendUnescaped(dst, s []byte) []byte {
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
				r := Hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = Hex4(s[i+2:])
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

// Hex4 reads four hexadecimal digits (already checked).
func Hex4(b []byte) rune {
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

// ObjectFields walks the object at b[i] == '{', calling field with the raw
// key (between its quotes), the key's flags and the offset of the value,
// which field must return the end of (skipping or converting it).
func ObjectFields(b []byte, i, depth int, field func(key []byte, flags uint8, val int) (int, error)) (int, error) {
	if depth > MaxDepth {
		return 0, syntaxError(i, "nested too deeply")
	}
	i = SkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, syntaxError(i, "expected a field name in quotes")
		}
		end, flags, err := ScanString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		i = SkipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, syntaxError(i, "expected ':' after a field name")
		}
		i, err = field(key, flags, SkipWS(b, i+1))
		if err != nil {
			return 0, err
		}
		i = SkipWS(b, i)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated object")
		}
		if b[i] == ',' {
			i = SkipWS(b, i+1)
			continue
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		return 0, syntaxError(i, "expected ',' or '}' in an object")
	}
}

// ArrayElems walks the array at b[i] == '[', calling elem with the index and
// offset of each element, which elem must return the end of.
func ArrayElems(b []byte, i, depth int, elem func(k, at int) (int, error)) (int, error) {
	if depth > MaxDepth {
		return 0, syntaxError(i, "nested too deeply")
	}
	i = SkipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for k := 0; ; k++ {
		var err error
		i, err = elem(k, i)
		if err != nil {
			return 0, err
		}
		i = SkipWS(b, i)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated array")
		}
		if b[i] == ',' {
			i = SkipWS(b, i+1)
			continue
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		return 0, syntaxError(i, "expected ',' or ']' in an array")
	}
}
