package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Encoding is the body format of a request, and so of its response.
type Encoding int

// The body formats of AWS JSON 1.1 services.
const (
	EncodingJSON Encoding = iota
	EncodingCBOR
)

// Content types of the two encodings.
const (
	ContentTypeJSON = "application/x-amz-json-1.1"
	ContentTypeCBOR = "application/x-amz-cbor-1.1"
)

// ContentType is the Content-Type of a body in this encoding.
func (e Encoding) ContentType() string {
	if e == EncodingCBOR {
		return ContentTypeCBOR
	}
	return ContentTypeJSON
}

func (e Encoding) String() string {
	if e == EncodingCBOR {
		return "cbor"
	}
	return "json"
}

// EncodingOf returns the encoding a Content-Type asks for: CBOR for
// application/x-amz-cbor-1.1, JSON for anything else (AWS JSON services accept
// application/x-amz-json-1.0, -1.1 and application/json alike).
func EncodingOf(contentType string) Encoding {
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && strings.EqualFold(mt, ContentTypeCBOR) {
		return EncodingCBOR
	}
	return EncodingJSON
}

// codec holds the CBOR modes of a Server; they are immutable once made.
type codec struct {
	cborDec cbor.DecMode
	cborEnc cbor.EncMode
}

func newCodec() (codec, error) {
	dec, err := cbor.DecOptions{
		DefaultMapType:   reflect.TypeOf(map[string]any{}),
		MaxNestedLevels:  32,
		MaxArrayElements: 1 << 16,
		MaxMapPairs:      1 << 16,
		IndefLength:      cbor.IndefLengthAllowed, // Jackson's CBOR generator writes indefinite-length maps
	}.DecMode()
	if err != nil {
		return codec{}, fmt.Errorf("cbor decoder: %w", err)
	}
	enc, err := cbor.EncOptions{}.EncMode()
	if err != nil {
		return codec{}, fmt.Errorf("cbor encoder: %w", err)
	}
	return codec{cborDec: dec, cborEnc: enc}, nil
}

func serializationError(format string, args ...any) *Error {
	return Errorf(ErrSerialization, format, args...)
}

// decodeInput parses a request body into the normalized tree of the input
// shape s (see normalize); nil s takes any well-formed body and gives an empty
// input.
func (c codec) decodeInput(enc Encoding, s *Shape, body []byte) (map[string]any, error) {
	if enc == EncodingJSON {
		return decodeJSON(s, body)
	}
	raw, err := c.decodeBody(enc, body)
	if err != nil || s == nil {
		return map[string]any{}, err
	}
	n, err := normalize(s, raw, "")
	if err != nil {
		return nil, err
	}
	return n.(map[string]any), nil
}

// decodeBody parses a request body into a generic tree: a map of member names to
// JSON or CBOR values. An empty body is an empty structure.
func (c codec) decodeBody(enc Encoding, body []byte) (map[string]any, error) {
	if len(body) == 0 || enc == EncodingJSON && len(bytes.Trim(body, " \t\r\n")) == 0 {
		return map[string]any{}, nil
	}
	var v any
	if enc == EncodingCBOR {
		if err := c.cborDec.Unmarshal(body, &v); err != nil {
			return nil, serializationError("the body is not well-formed CBOR: %v", err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, serializationError("the body is not well-formed JSON: %v", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, serializationError("the body holds more than one JSON value")
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return map[string]any{}, nil
		}
		return nil, serializationError("the body must be a structure, not %s", kindOf(v))
	}
	return m, nil
}

// kindOf names a generic value's type as Jackson (and so AWS's messages) does.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "VALUE_NULL"
	case string:
		return "VALUE_STRING"
	case bool:
		return "VALUE_BOOLEAN"
	case json.Number, int64, uint64, float64, float32:
		return "VALUE_NUMBER"
	case []any:
		return "START_ARRAY"
	case map[string]any, map[any]any:
		return "START_OBJECT"
	case []byte:
		return "VALUE_EMBEDDED_OBJECT"
	case time.Time:
		return "VALUE_TIMESTAMP"
	}
	return fmt.Sprintf("%T", v)
}

// normalize checks a generic value against its shape and converts it to the
// value the shape's type calls for: string, int64, float64, bool, []byte,
// time.Time, []any, or map[string]any (structures and maps). Null members are
// dropped, as AWS treats them as absent; members the shape does not know are
// ignored, as AWS ignores them. A value of the wrong type is a
// SerializationException.
func normalize(s *Shape, v any, path string) (any, error) {
	mismatch := func() error {
		return serializationError("%s can not be converted to %s at '%s'", kindOf(v), s.Type, path)
	}
	switch s.Type {
	case TypeStructure:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch()
		}
		out := make(map[string]any, len(s.Members))
		for _, mem := range s.Members {
			raw, ok := m[mem.Name]
			if !ok || raw == nil {
				continue
			}
			nv, err := normalize(mem.Shape, raw, joinPath(path, mem.Name))
			if err != nil {
				return nil, err
			}
			out[mem.Name] = nv
		}
		return out, nil
	case TypeList:
		l, ok := v.([]any)
		if !ok {
			return nil, mismatch()
		}
		out := make([]any, 0, len(l))
		for i, e := range l {
			if e == nil {
				return nil, serializationError("null element at '%s'", listPath(path, i))
			}
			ne, err := normalize(s.Member, e, listPath(path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, ne)
		}
		return out, nil
	case TypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch()
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if e == nil {
				continue
			}
			ne, err := normalize(s.Value, e, path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = ne
		}
		return out, nil
	case TypeString:
		str, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		return str, nil
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch()
		}
		return b, nil
	case TypeInteger, TypeLong:
		f, ok := number(v)
		if !ok {
			return nil, mismatch()
		}
		// AWS truncates a fractional number given for an integer.
		f = math.Trunc(f)
		lo, hi := intRange(s.Type)
		if math.IsNaN(f) || f < lo || f >= hi {
			return nil, serializationError("number %v at '%s' is out of range for %s", v, path, s.Type)
		}
		if n, ok := v.(json.Number); ok {
			if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
				return i, nil // exact, beyond float64's 53 bits
			}
		}
		if u, ok := v.(uint64); ok {
			return int64(u), nil // within range, checked above
		}
		if i, ok := v.(int64); ok {
			return i, nil
		}
		return int64(f), nil
	case TypeDouble:
		f, ok := number(v)
		if !ok {
			return nil, mismatch()
		}
		return f, nil
	case TypeBlob:
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			d, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				if d, err2 := base64.RawStdEncoding.DecodeString(b); err2 == nil {
					return d, nil
				}
				return nil, serializationError("value at '%s' is not valid base64: %v", path, err)
			}
			return d, nil
		}
		return nil, mismatch()
	case TypeTimestamp:
		t, ok := timestamp(v)
		if !ok {
			return nil, mismatch()
		}
		return t, nil
	}
	return nil, fmt.Errorf("shape %s: unknown type %v", s.Name, s.Type)
}

// intRange is the range of an integer type as floats: [lo, hi).
func intRange(t ShapeType) (lo, hi float64) {
	if t == TypeInteger {
		return math.MinInt32, math.MaxInt32 + 1
	}
	return math.MinInt64, -math.MinInt64 // -2^63 and 2^63, both exact
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}

// millisThreshold tells epoch milliseconds from epoch seconds in CBOR: the Java
// SDK writes timestamps as tag 1 holding milliseconds (not RFC 8949's seconds),
// and 1e11 seconds is the year 5138 while 1e11 milliseconds is 1973.
const millisThreshold = 1e11

// timestamp reads a timestamp: epoch seconds as a number (JSON), a CBOR tag 1
// (milliseconds, as the Java SDK writes it, or seconds), or a string holding
// epoch seconds or an ISO 8601 date-time (the CLI accepts both forms).
func timestamp(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time: // CBOR tag 0 or 1, decoded as seconds
		if s := t.Unix(); s >= millisThreshold || s <= -millisThreshold {
			return time.UnixMilli(s).UTC(), true
		}
		return t.UTC(), true
	case string:
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return epochSeconds(f), true
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-07:00", "2006-01-02T15:04:05Z0700", "2006-01-02"} {
			if tt, err := time.Parse(layout, t); err == nil {
				return tt.UTC(), true
			}
		}
		return time.Time{}, false
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return time.Time{}, false
		}
		return epochSeconds(f), true
	case int64, uint64, float64, float32:
		f, _ := number(t)
		if f >= millisThreshold || f <= -millisThreshold {
			return time.UnixMilli(int64(f)).UTC(), true
		}
		return epochSeconds(f), true
	}
	return time.Time{}, false
}

func epochSeconds(f float64) time.Time {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}
	}
	ms := math.Round(f * 1000)
	return time.UnixMilli(int64(ms)).UTC()
}

func joinPath(path, member string) string {
	m := lowerFirst(member)
	if path == "" {
		return m
	}
	return path + "." + m
}

func listPath(path string, i int) string {
	return path + "." + strconv.Itoa(i+1) + ".member"
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+('a'-'A')) + s[1:]
}

// Timestamp is a time in an operation's output: JSON writes it as epoch seconds
// with milliseconds (1459799926.48), as AWS JSON 1.1 does; CBOR as tag 1 holding
// epoch milliseconds, as AWS answers the Java SDK.
type Timestamp time.Time

// NewTimestamp returns t as a *Timestamp, for an optional output member.
func NewTimestamp(t time.Time) *Timestamp {
	ts := Timestamp(t)
	return &ts
}

// Time returns the time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// MarshalJSON writes epoch seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds (or an ISO 8601 string), for clients and tests.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	tt, ok := timestamp(v)
	if !ok {
		return fmt.Errorf("timestamp %s is neither epoch seconds nor a date-time", b)
	}
	*t = Timestamp(tt)
	return nil
}

// MarshalCBOR writes tag 1 holding epoch milliseconds.
func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return cbor.Marshal(cbor.Tag{Number: 1, Content: time.Time(t).UnixMilli()})
}

// UnmarshalCBOR reads tag 1 (milliseconds or seconds) or a bare number.
func (t *Timestamp) UnmarshalCBOR(b []byte) error {
	var v any
	if err := cbor.Unmarshal(b, &v); err != nil {
		return err
	}
	if tag, ok := v.(cbor.Tag); ok {
		v = tag.Content
	}
	tt, ok := timestamp(v)
	if !ok {
		return fmt.Errorf("CBOR timestamp %x is not a number", b)
	}
	*t = Timestamp(tt)
	return nil
}

// encode writes an operation's output (nil: an empty structure).
func (c codec) encode(enc Encoding, v any) ([]byte, error) {
	if v == nil {
		v = struct{}{}
	}
	if enc == EncodingCBOR {
		b, err := c.cborEnc.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode CBOR response: %w", err)
		}
		return b, nil
	}
	if a, ok := v.(JSONAppender); ok {
		return a.AppendJSON(nil), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode JSON response: %w", err)
	}
	return b, nil
}
