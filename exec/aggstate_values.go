package exec

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql/types"
)

// Helpers the aggregates share: reading a numeric argument as float64, typed
// value columns (FIRST_VALUE, LAST_VALUE), and an order-preserving binary key
// of any value (DISTINCT, APPROX_COUNT_DISTINCT, TOP_K).

// forEachFloat calls f(k, v) for every row rows[k] of arg (BIGINT, DOUBLE or
// DECIMAL at scale) that is not NULL, with its value as a float64.
func forEachFloat(arg arrow.Array, scale int32, rows []int32, f func(k int, v float64)) {
	noNulls := arg.NullN() == 0
	switch a := arg.(type) {
	case *array.Int64:
		vals := a.Int64Values()
		for k, r := range rows {
			if noNulls || a.IsValid(int(r)) {
				f(k, float64(vals[r]))
			}
		}
	case *array.Float64:
		vals := a.Float64Values()
		for k, r := range rows {
			if noNulls || a.IsValid(int(r)) {
				f(k, vals[r])
			}
		}
	case *array.Decimal128:
		vals := a.Values()
		for k, r := range rows {
			if noNulls || a.IsValid(int(r)) {
				f(k, vals[r].ToFloat64(scale))
			}
		}
	}
}

// valueColumn is how FIRST_VALUE and LAST_VALUE read and write values of one
// SQL type, held in Go as T.
type valueColumn[T any] struct {
	// reader returns the value of row i of a batch's column.
	reader func(arr arrow.Array) func(i int) T
	// own copies a value out of the batch's buffers (strings), which are released.
	own func(T) T
	// build makes the result column from values and validity.
	build func(mem memory.Allocator, v []T, valid []bool) arrow.Array
}

func identity[T any](v T) T { return v }

func int64Column() valueColumn[int64] {
	return valueColumn[int64]{
		reader: func(arr arrow.Array) func(int) int64 {
			v := arr.(*array.Int64).Int64Values()
			return func(i int) int64 { return v[i] }
		},
		own: identity[int64],
		build: func(mem memory.Allocator, v []int64, valid []bool) arrow.Array {
			b := array.NewInt64Builder(mem)
			defer b.Release()
			b.AppendValues(v, valid)
			return b.NewArray()
		},
	}
}

func timestampColumn() valueColumn[int64] {
	return valueColumn[int64]{
		reader: func(arr arrow.Array) func(int) int64 {
			v := arr.(*array.Timestamp).TimestampValues()
			return func(i int) int64 { return int64(v[i]) }
		},
		own: identity[int64],
		build: func(mem memory.Allocator, v []int64, valid []bool) arrow.Array {
			b := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
			defer b.Release()
			for i, x := range v {
				if valid[i] {
					b.Append(arrow.Timestamp(x))
				} else {
					b.AppendNull()
				}
			}
			return b.NewArray()
		},
	}
}

func float64Column() valueColumn[float64] {
	return valueColumn[float64]{
		reader: func(arr arrow.Array) func(int) float64 {
			v := arr.(*array.Float64).Float64Values()
			return func(i int) float64 { return v[i] }
		},
		own: identity[float64],
		build: func(mem memory.Allocator, v []float64, valid []bool) arrow.Array {
			b := array.NewFloat64Builder(mem)
			defer b.Release()
			b.AppendValues(v, valid)
			return b.NewArray()
		},
	}
}

func decimalColumn(t types.Type) valueColumn[decimal128.Num] {
	return valueColumn[decimal128.Num]{
		reader: func(arr arrow.Array) func(int) decimal128.Num {
			v := arr.(*array.Decimal128).Values()
			return func(i int) decimal128.Num { return v[i] }
		},
		own: identity[decimal128.Num],
		build: func(mem memory.Allocator, v []decimal128.Num, valid []bool) arrow.Array {
			b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: t.Precision, Scale: t.Scale})
			defer b.Release()
			b.AppendValues(v, valid)
			return b.NewArray()
		},
	}
}

func stringColumn() valueColumn[string] {
	return valueColumn[string]{
		reader: func(arr arrow.Array) func(int) string { a := arr.(*array.String); return a.Value },
		own:    strings.Clone,
		build: func(mem memory.Allocator, v []string, valid []bool) arrow.Array {
			b := array.NewStringBuilder(mem)
			defer b.Release()
			b.AppendValues(v, valid)
			return b.NewArray()
		},
	}
}

func boolColumn() valueColumn[bool] {
	return valueColumn[bool]{
		reader: func(arr arrow.Array) func(int) bool { a := arr.(*array.Boolean); return a.Value },
		own:    identity[bool],
		build: func(mem memory.Allocator, v []bool, valid []bool) arrow.Array {
			b := array.NewBooleanBuilder(mem)
			defer b.Release()
			b.AppendValues(v, valid)
			return b.NewArray()
		},
	}
}

// keyCodec encodes a value of one SQL type as bytes such that equal SQL values
// have equal bytes and bytes compare (as strings) in the values' order:
// integers and timestamps as big-endian with the sign bit flipped; doubles by
// the IEEE order-preserving transform, with -0 read as 0 and every NaN as one
// NaN that sorts above +Infinity; decimals (of one scale) as their 128-bit
// integer, sign flipped; booleans as one byte; strings as their bytes.
type keyCodec struct {
	t types.Type
}

func newKeyCodec(t types.Type) (keyCodec, error) {
	switch t.Kind {
	case types.Boolean, types.BigInt, types.Double, types.Decimal, types.Varchar, types.JSON, types.Timestamp:
		return keyCodec{t: t}, nil
	}
	return keyCodec{}, fmt.Errorf("values of type %s cannot be compared for equality", t)
}

const signBit = uint64(1) << 63

// canonicalNaN is the NaN every NaN is keyed as.
var canonicalNaN = math.Float64bits(math.NaN())

// reader returns a function that appends the key of row i of arr to dst.
func (c keyCodec) reader(arr arrow.Array) func(dst []byte, i int) []byte {
	switch a := arr.(type) {
	case *array.Int64:
		v := a.Int64Values()
		return func(dst []byte, i int) []byte { return binary.BigEndian.AppendUint64(dst, uint64(v[i])^signBit) }
	case *array.Timestamp:
		v := a.TimestampValues()
		return func(dst []byte, i int) []byte { return binary.BigEndian.AppendUint64(dst, uint64(v[i])^signBit) }
	case *array.Float64:
		v := a.Float64Values()
		return func(dst []byte, i int) []byte { return binary.BigEndian.AppendUint64(dst, floatKey(v[i])) }
	case *array.Decimal128:
		v := a.Values()
		return func(dst []byte, i int) []byte {
			dst = binary.BigEndian.AppendUint64(dst, uint64(v[i].HighBits())^signBit)
			return binary.BigEndian.AppendUint64(dst, v[i].LowBits())
		}
	case *array.Boolean:
		return func(dst []byte, i int) []byte {
			if a.Value(i) {
				return append(dst, 1)
			}
			return append(dst, 0)
		}
	case *array.String:
		return func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) }
	}
	panic(fmt.Sprintf("keyCodec: unexpected column type %s", arr.DataType()))
}

// keyOps reads keys of one keyCodec as K: uint64 for the 8-byte kinds
// (BIGINT, TIMESTAMP, DOUBLE), whose key bytes are a big-endian uint64, so
// maps and comparisons need no allocation; string (the key bytes) for the
// others.
type keyOps[K cmp.Ordered] struct {
	// reader returns the key of row i of a batch's column. A string key may
	// view the batch's or a scratch buffer's memory: own copies it to keep.
	reader func(arr arrow.Array) func(i int) K
	own    func(K) K
	// bytes returns the codec's bytes of a key (for appendJSON and appendTo).
	bytes func(K) string
}

// wordKeys says whether keys of c are one uint64.
func (c keyCodec) wordKeys() bool {
	return c.t.Kind == types.BigInt || c.t.Kind == types.Timestamp || c.t.Kind == types.Double
}

func wordKeyOps() keyOps[uint64] {
	return keyOps[uint64]{
		reader: func(arr arrow.Array) func(int) uint64 {
			switch a := arr.(type) {
			case *array.Int64:
				v := a.Int64Values()
				return func(i int) uint64 { return uint64(v[i]) ^ signBit }
			case *array.Timestamp:
				v := a.TimestampValues()
				return func(i int) uint64 { return uint64(v[i]) ^ signBit }
			case *array.Float64:
				v := a.Float64Values()
				return func(i int) uint64 { return floatKey(v[i]) }
			}
			panic(fmt.Sprintf("wordKeyOps: unexpected column type %s", arr.DataType()))
		},
		own:   identity[uint64],
		bytes: func(k uint64) string { return string(binary.BigEndian.AppendUint64(nil, k)) },
	}
}

func stringKeyOps(c keyCodec) keyOps[string] {
	return keyOps[string]{
		reader: func(arr arrow.Array) func(int) string {
			if a, ok := arr.(*array.String); ok {
				return a.Value // the key of a string is the string
			}
			read := c.reader(arr)
			var buf []byte
			return func(i int) string {
				buf = read(buf[:0], i)
				return unsafe.String(unsafe.SliceData(buf), len(buf))
			}
		},
		own:   strings.Clone,
		bytes: identity[string],
	}
}

func floatKey(f float64) uint64 {
	switch {
	case f == 0:
		f = 0 // -0 = 0
	case f != f:
		return canonicalNaN | signBit
	}
	b := math.Float64bits(f)
	if b&signBit != 0 {
		return ^b
	}
	return b | signBit
}

func floatFromKey(k uint64) float64 {
	if k&signBit != 0 {
		return math.Float64frombits(k &^ signBit)
	}
	return math.Float64frombits(^k)
}

// appendTo appends the value of key to b, a builder of the codec's type.
func (c keyCodec) appendTo(b array.Builder, key string) {
	u64 := func(s string) uint64 { return binary.BigEndian.Uint64([]byte(s)) }
	switch c.t.Kind {
	case types.BigInt:
		b.(*array.Int64Builder).Append(int64(u64(key) ^ signBit))
	case types.Timestamp:
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(int64(u64(key) ^ signBit)))
	case types.Double:
		b.(*array.Float64Builder).Append(floatFromKey(u64(key)))
	case types.Decimal:
		b.(*array.Decimal128Builder).Append(decimal128.New(int64(u64(key[:8])^signBit), u64(key[8:])))
	case types.Boolean:
		b.(*array.BooleanBuilder).Append(key[0] == 1)
	case types.Varchar, types.JSON:
		b.(*array.StringBuilder).Append(key)
	}
}

// appendJSON appends the value of key as a JSON value: numbers as numbers
// (non-finite doubles as the strings "NaN", "Infinity", "-Infinity"), strings
// and timestamps (RFC 3339, milliseconds) as strings, booleans as true/false, and
// JSON values as themselves when they are valid JSON (else as strings), as the
// JSON sinks write columns.
func (c keyCodec) appendJSON(dst []byte, key string) []byte {
	u64 := func(s string) uint64 { return binary.BigEndian.Uint64([]byte(s)) }
	switch c.t.Kind {
	case types.BigInt:
		return strconv.AppendInt(dst, int64(u64(key)^signBit), 10)
	case types.Timestamp:
		ms := int64(u64(key) ^ signBit)
		return appendJSONString(dst, time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	case types.Double:
		f := floatFromKey(u64(key))
		switch {
		case math.IsNaN(f):
			return append(dst, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(dst, `"Infinity"`...)
		case math.IsInf(f, -1):
			return append(dst, `"-Infinity"`...)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case types.Decimal:
		n := decimal128.New(int64(u64(key[:8])^signBit), u64(key[8:]))
		return append(dst, n.ToString(c.t.Scale)...)
	case types.Boolean:
		return strconv.AppendBool(dst, key[0] == 1)
	case types.JSON:
		if t := strings.TrimSpace(key); t != "" && json.Valid([]byte(t)) {
			return append(dst, t...)
		}
	}
	return appendJSONString(dst, key)
}

// appendJSONString appends s as a JSON string without HTML escaping; invalid
// UTF-8 becomes U+FFFD, and U+2028 and U+2029 are escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, "\ufffd"...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
