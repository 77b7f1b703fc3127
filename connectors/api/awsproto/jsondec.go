package awsproto

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeJSON parses a JSON request body straight into the normalized tree of
// its input shape (what normalize makes of encoding/json's generic values),
// without the generic tree in between: strings, int64, float64, bool, []byte
// (base64 decoded), time.Time, []any and map[string]any. Members the shape does
// not know are skipped (after checking they are well-formed JSON), nulls are
// dropped, and a value of the wrong type is a SerializationException, as in
// normalize. It is the hot path of PutRecords; FuzzJSONDecoder holds it to
// encoding/json plus normalize.
func decodeJSON(s *Shape, data []byte) (map[string]any, error) {
	d := &jsonDecoder{data: data}
	d.skipWS()
	if d.pos == len(d.data) {
		return map[string]any{}, nil
	}
	var out map[string]any
	if d.peek() == 'n' {
		if err := d.literal("null"); err != nil {
			return nil, err
		}
	} else if s == nil {
		if err := d.skipValue(0); err != nil {
			return nil, err
		}
	} else {
		if d.peek() != '{' {
			if err := d.skipValue(0); err != nil {
				return nil, err
			}
			return nil, serializationError("the body must be a structure, not %s", d.kindAt(0))
		}
		v, err := d.value(s, 0)
		if err != nil {
			return nil, err
		}
		out = v.(map[string]any)
	}
	d.skipWS()
	if d.pos != len(d.data) {
		return nil, serializationError("the body holds more than one JSON value")
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// maxJSONDepth bounds nesting, so a hostile body cannot exhaust the stack.
const maxJSONDepth = 10000

type jsonDecoder struct {
	data []byte
	pos  int
	path pathStack // where the value being read lies, for messages
	// blobs is where decoded base64 values are carved from: one allocation per
	// request instead of one per record (PutRecords carries up to 500). Blobs
	// are cut with full slice expressions, so appending to one never runs
	// into the next.
	blobs []byte
}

// blob returns n bytes of the arena, growing it by at least a quarter of the
// body (base64 decodes to three quarters of its length, so a body's blobs
// need at most one or two arenas).
func (d *jsonDecoder) blob(n int) []byte {
	if cap(d.blobs)-len(d.blobs) < n {
		d.blobs = make([]byte, 0, max(n, len(d.data)*3/4-d.pos*3/4, 4096))
	}
	start := len(d.blobs)
	d.blobs = d.blobs[:start+n]
	return d.blobs[start : start+n : start+n]
}

func (d *jsonDecoder) skipWS() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *jsonDecoder) syntax(what string) error {
	if d.pos >= len(d.data) {
		return serializationError("the body is not well-formed JSON: unexpected end of input")
	}
	return serializationError("the body is not well-formed JSON: %s at offset %d", what, d.pos)
}

// kindAt names the JSON value starting at offset start, as kindOf does.
func (d *jsonDecoder) kindAt(start int) string {
	if start >= len(d.data) {
		return "VALUE_NULL"
	}
	switch c := d.data[start]; {
	case c == '"':
		return "VALUE_STRING"
	case c == '{':
		return "START_OBJECT"
	case c == '[':
		return "START_ARRAY"
	case c == 't' || c == 'f':
		return "VALUE_BOOLEAN"
	case c == 'n':
		return "VALUE_NULL"
	}
	return "VALUE_NUMBER"
}

func (d *jsonDecoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.syntax("invalid literal")
	}
	d.pos += len(lit)
	return nil
}

// value reads one value of shape s at d.path. It returns nil for a null.
func (d *jsonDecoder) value(s *Shape, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, serializationError("the body nests deeper than %d levels", maxJSONDepth)
	}
	d.skipWS()
	c := d.peek()
	if c == 'n' {
		return nil, d.literal("null")
	}
	start := d.pos
	mismatch := func() (any, error) {
		if err := d.skipValue(depth); err != nil {
			return nil, err
		}
		return nil, serializationError("%s can not be converted to %s at '%s'", d.kindAt(start), s.Type, d.path)
	}
	switch s.Type {
	case TypeStructure:
		if c != '{' {
			return mismatch()
		}
		out := make(map[string]any, len(s.Members))
		err := d.object(depth, func(key []byte) error {
			var m *Member
			for i := range s.Members {
				if s.Members[i].Name == string(key) {
					m = &s.Members[i]
					break
				}
			}
			if m == nil {
				return d.skipValue(depth + 1)
			}
			d.path = append(d.path, pathSeg{name: m.pathName()})
			v, err := d.value(m.Shape, depth+1)
			if err != nil {
				return err
			}
			d.path = d.path[:len(d.path)-1]
			if v != nil {
				out[m.Name] = v
			} else {
				delete(out, m.Name)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	case TypeMap:
		if c != '{' {
			return mismatch()
		}
		out := map[string]any{}
		err := d.object(depth, func(kb []byte) error {
			key := validString(kb)
			d.path = append(d.path, pathSeg{name: key})
			v, err := d.value(s.Value, depth+1)
			if err != nil {
				return err
			}
			d.path = d.path[:len(d.path)-1]
			if v != nil {
				out[key] = v
			} else {
				delete(out, key)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	case TypeList:
		if c != '[' {
			return mismatch()
		}
		d.pos++
		out := []any{}
		d.skipWS()
		if d.peek() == ']' {
			d.pos++
			return out, nil
		}
		for i := 0; ; i++ {
			d.skipWS()
			if d.peek() == 'n' {
				if err := d.literal("null"); err != nil {
					return nil, err
				}
				// Finish reading the body: a syntax error after the null wins.
				if err := d.finishArray(depth); err != nil {
					return nil, err
				}
				d.path = append(d.path, pathSeg{index: i + 1})
				return nil, serializationError("null element at '%s'", d.path)
			}
			d.path = append(d.path, pathSeg{index: i + 1})
			v, err := d.value(s.Member, depth+1)
			if err != nil {
				return nil, err
			}
			d.path = d.path[:len(d.path)-1]
			out = append(out, v)
			d.skipWS()
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return out, nil
			default:
				return nil, d.syntax("expected , or ] in an array")
			}
		}
	case TypeString:
		if c != '"' {
			return mismatch()
		}
		return d.str()
	case TypeBlob:
		if c != '"' {
			return mismatch()
		}
		raw, err := d.strBytes()
		if err != nil {
			return nil, err
		}
		out := d.blob(base64.StdEncoding.DecodedLen(len(raw)))
		n, err := base64.StdEncoding.Decode(out, raw)
		if err != nil {
			if b, err2 := base64.RawStdEncoding.DecodeString(string(raw)); err2 == nil {
				return b, nil
			}
			return nil, serializationError("value at '%s' is not valid base64: %v", d.path, err)
		}
		return out[:n], nil
	case TypeBoolean:
		switch c {
		case 't':
			return true, d.literal("true")
		case 'f':
			return false, d.literal("false")
		}
		return mismatch()
	case TypeInteger, TypeLong:
		if c != '-' && (c < '0' || c > '9') {
			return mismatch()
		}
		num, err := d.number()
		if err != nil {
			return nil, err
		}
		lo, hi := intRange(s.Type)
		if i, err := strconv.ParseInt(num, 10, 64); err == nil {
			if float64(i) < lo || float64(i) >= hi {
				return nil, serializationError("number %s at '%s' is out of range for %s", num, d.path, s.Type)
			}
			return i, nil
		}
		f, _ := strconv.ParseFloat(num, 64) // a well-formed number; ±Inf when too large
		f = math.Trunc(f)
		if f < lo || f >= hi {
			return nil, serializationError("number %s at '%s' is out of range for %s", num, d.path, s.Type)
		}
		return int64(f), nil
	case TypeDouble:
		if c != '-' && (c < '0' || c > '9') {
			return mismatch()
		}
		num, err := d.number()
		if err != nil {
			return nil, err
		}
		f, _ := strconv.ParseFloat(num, 64)
		return f, nil
	case TypeTimestamp:
		var t time.Time
		var ok bool
		switch {
		case c == '"':
			str, err := d.str()
			if err != nil {
				return nil, err
			}
			t, ok = timestamp(str)
		case c == '-' || c >= '0' && c <= '9':
			num, err := d.number()
			if err != nil {
				return nil, err
			}
			f, err := strconv.ParseFloat(num, 64)
			t, ok = epochSeconds(f), err == nil
		default:
			return mismatch()
		}
		if !ok {
			return nil, serializationError("%s can not be converted to %s at '%s'", d.kindAt(start), s.Type, d.path)
		}
		return t, nil
	}
	return nil, serializationError("shape %s has an unknown type", s.Name)
}

// object reads an object, calling member for each key with the decoder at its value.
func (d *jsonDecoder) object(depth int, member func(key []byte) error) error {
	d.pos++ // {
	d.skipWS()
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		d.skipWS()
		if d.peek() != '"' {
			return d.syntax("expected a member name")
		}
		key, err := d.strBytes()
		if err != nil {
			return err
		}
		d.skipWS()
		if d.peek() != ':' {
			return d.syntax("expected :")
		}
		d.pos++
		if err := member(key); err != nil {
			return err
		}
		d.skipWS()
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.syntax("expected , or } in an object")
		}
	}
}

// finishArray skips the rest of an array after an element.
func (d *jsonDecoder) finishArray(depth int) error {
	for {
		d.skipWS()
		switch d.peek() {
		case ',':
			d.pos++
			if err := d.skipValue(depth + 1); err != nil {
				return err
			}
		case ']':
			d.pos++
			return nil
		default:
			return d.syntax("expected , or ] in an array")
		}
	}
}

// skipValue checks and skips one value of any type.
func (d *jsonDecoder) skipValue(depth int) error {
	if depth > maxJSONDepth {
		return serializationError("the body nests deeper than %d levels", maxJSONDepth)
	}
	d.skipWS()
	switch c := d.peek(); {
	case c == '{':
		return d.object(depth, func([]byte) error { return d.skipValue(depth + 1) })
	case c == '[':
		d.pos++
		d.skipWS()
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		if err := d.skipValue(depth + 1); err != nil {
			return err
		}
		return d.finishArray(depth)
	case c == '"':
		_, err := d.strBytes()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		_, err := d.number()
		return err
	}
	return d.syntax("expected a value")
}

// number reads a JSON number and returns its text.
func (d *jsonDecoder) number() (string, error) {
	start := d.pos
	if d.peek() == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	switch {
	case d.peek() == '0':
		d.pos++
	case digits() == 0:
		return "", d.syntax("invalid number")
	}
	if d.peek() == '.' {
		d.pos++
		if digits() == 0 {
			return "", d.syntax("invalid number")
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if digits() == 0 {
			return "", d.syntax("invalid number")
		}
	}
	return string(d.data[start:d.pos]), nil
}

// str reads a string; invalid UTF-8 bytes become U+FFFD, one per byte, as
// encoding/json has it.
func (d *jsonDecoder) str() (string, error) {
	b, err := d.strBytes()
	if err != nil {
		return "", err
	}
	return validString(b), nil
}

// validString returns b as a string with each invalid UTF-8 byte made U+FFFD.
func validString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

// strBytes reads a string and returns its unescaped bytes; they alias the body
// when the string has no escapes, so callers copy what they keep.
func (d *jsonDecoder) strBytes() ([]byte, error) {
	d.pos++ // "
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return d.data[start : d.pos-1], nil
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return nil, d.syntax("control character in a string")
		}
		d.pos++
	}
	return nil, d.syntax("unterminated string")
}

// escaped finishes reading a string that has escapes, from start.
func (d *jsonDecoder) escaped(start int) ([]byte, error) {
	out := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return out, nil
		case c < 0x20:
			return nil, d.syntax("control character in a string")
		case c != '\\':
			out = append(out, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			return nil, d.syntax("unterminated string")
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, d.syntax("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone surrogate is U+FFFD, as encoding/json has it.
				r2 := rune(-1)
				if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
					save := d.pos
					d.pos += 2
					if v, ok := d.hex4(); ok {
						r2 = v
					} else {
						return nil, d.syntax("invalid \\u escape")
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						continue
					}
					d.pos = save
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, d.syntax("invalid escape")
		}
	}
	return nil, d.syntax("unterminated string")
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	d.pos += 4
	return r, true
}

// DecodeJSONInput is the generic path of a JSON body to an operation's
// validated input tree (what handlers get bound from). Fast paths (see
// HandleFast) are tested against it.
func DecodeJSONInput(s *Shape, body []byte) (map[string]any, error) {
	in, err := decodeJSON(s, body)
	if err != nil {
		return nil, err
	}
	if s != nil {
		if err := Validate(s, in).Err(); err != nil {
			return nil, err
		}
	}
	return in, nil
}
