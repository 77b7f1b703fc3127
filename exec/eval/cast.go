package eval

import (
	"errors"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/types"
)

// CAST. The conversions, from (rows) to (columns):
//
//	           BOOLEAN  BIGINT   DOUBLE   DECIMAL  VARCHAR  JSON     TIMESTAMP INTERVAL
//	BOOLEAN    =        1/0      1/0      1/0      text     text     -         -
//	BIGINT     <>0      =        nearest  exact    text     text     ms        ms
//	DOUBLE     <>0      trunc    =        round    text     text     ms round  -
//	DECIMAL    <>0      trunc    nearest  round    text     text     ms round  -
//	VARCHAR    parse    parse    parse    parse    =        validate parse     -
//	JSON       value    value    value    value    =        =        value     -
//	TIMESTAMP  -        ms       ms       ms       RFC3339  "RFC3339" =        -
//	INTERVAL   -        ms       -        -        D HH:MM  "D HH:MM" -        =
//
// "-" is a Compile error. Failures (text that does not parse, NaN or
// infinity to a number type, a value out of the target's range or precision)
// are row errors. "value" means the JSON scalar is taken as JSON_VALUE does
// (a JSON null gives NULL) and its text parsed. Text to BOOLEAN accepts
// true/false, t/f, yes/no, y/n, on/off, 1/0 in any case.

// newCast builds the conversion of x to t.
func newCast(x node, to types.Type) (node, error) {
	from := x.typ()
	if from == to {
		return x, nil
	}
	args := []node{x}
	n := &rowNode{args: args, t: to}
	fk, tk := from.Kind, to.Kind
	unsupported := errors.New("cannot cast " + from.String() + " to " + to.String())
	if fk == types.Null {
		return newConst(to, nil), nil
	}
	switch tk {
	case types.Boolean:
		n.b = castToBool(from)
	case types.BigInt:
		n.i64 = castToInt(from, to)
	case types.Interval:
		if fk == types.BigInt {
			return &retypeNode{x: x, t: to}, nil
		}
	case types.Double:
		n.f64 = castToDouble(from)
	case types.Decimal:
		n.dec = castToDecimal(from, to)
	case types.Varchar, types.JSON:
		if from.IsString() && !(fk == types.Varchar && tk == types.JSON) {
			return &retypeNode{x: x, t: to}, nil
		}
		n.str = castToText(from, to)
		if fk == types.Timestamp {
			n.width = 26
		}
	case types.Timestamp:
		if fk == types.BigInt {
			return &retypeNode{x: x, t: to}, nil
		}
		n.i64 = castToInt(from, to)
	}
	if n.b == nil && n.i64 == nil && n.f64 == nil && n.dec == nil && n.str == nil {
		return nil, unsupported
	}
	return n, nil
}

// retypeNode changes only the logical type of an operand held alike.
type retypeNode struct {
	x node
	t types.Type
}

func (n *retypeNode) typ() types.Type { return n.t }

func (n *retypeNode) eval(c *evalCtx) (arrow.Array, error) {
	arr, err := n.x.eval(c)
	if err != nil || arrow.TypeEqual(arr.DataType(), n.t.Arrow()) {
		return arr, err
	}
	// INTERVAL and BIGINT are both Int64; BIGINT -> TIMESTAMP changes the
	// Arrow type: share the buffers under the new type.
	data := arr.Data()
	nd := newDataLike(data, n.t.Arrow())
	arr.Release()
	return nd, nil
}

// castFailed records a failed conversion of the value text.
func castFailed(c *evalCtx, i int, val string, to types.Type, err error) {
	c.rowErr(i, "cast %s to %s: %v", quoteForError(val), to, err)
}

// jsonTextAt reads the JSON scalar of row i for a cast; ok is false when the
// row is NULL (a JSON null) or failed.
func jsonTextAt(c *evalCtx, v *vec, i int, to types.Type) (string, bool) {
	doc := v.str(i)
	if !validJSON(doc) {
		castFailed(c, i, doc, to, errors.New("invalid JSON text"))
		return "", false
	}
	s := skipWS(doc, 0)
	text, isNull := jsonScalarText(doc[s:skipValue(doc, s)])
	if isNull {
		return "", false
	}
	if doc[s] == '{' || doc[s] == '[' {
		castFailed(c, i, doc, to, errors.New("not a JSON scalar"))
		return "", false
	}
	return text, true
}

// textAt returns the text of a VARCHAR or JSON operand at row i for parsing.
func textAt(c *evalCtx, from types.Type, v *vec, i int, to types.Type) (string, bool) {
	if from.Kind == types.JSON {
		return jsonTextAt(c, v, i, to)
	}
	return v.str(i), true
}

func castToBool(from types.Type) func(c *evalCtx, vs []*vec, i int) (bool, bool) {
	to := types.BooleanType
	switch from.Kind {
	case types.BigInt:
		return func(c *evalCtx, vs []*vec, i int) (bool, bool) { return vs[0].int(i) != 0, true }
	case types.Double:
		return func(c *evalCtx, vs []*vec, i int) (bool, bool) {
			x := vs[0].float(i)
			if math.IsNaN(x) {
				castFailed(c, i, "NaN", to, errors.New("NaN is neither true nor false"))
				return false, false
			}
			return x != 0, true
		}
	case types.Decimal:
		return func(c *evalCtx, vs []*vec, i int) (bool, bool) { return vs[0].decimal(i).Sign() != 0, true }
	case types.Varchar, types.JSON:
		return func(c *evalCtx, vs []*vec, i int) (bool, bool) {
			s, ok := textAt(c, from, vs[0], i, to)
			if !ok {
				return false, false
			}
			b, err := parseBool(s)
			if err != nil {
				castFailed(c, i, s, to, err)
				return false, false
			}
			return b, true
		}
	}
	return nil
}

// castToInt converts to BIGINT or TIMESTAMP (milliseconds).
func castToInt(from, to types.Type) func(c *evalCtx, vs []*vec, i int) (int64, bool) {
	switch from.Kind {
	case types.Boolean:
		if to.Kind != types.BigInt {
			return nil
		}
		return func(c *evalCtx, vs []*vec, i int) (int64, bool) { return int64(b2u(vs[0].bool(i))), true }
	case types.BigInt, types.Timestamp, types.Interval:
		if to.Kind == types.BigInt || from.Kind == types.BigInt {
			return func(c *evalCtx, vs []*vec, i int) (int64, bool) { return vs[0].int(i), true }
		}
	case types.Double:
		return func(c *evalCtx, vs []*vec, i int) (int64, bool) {
			x := vs[0].float(i)
			var v int64
			var ok bool
			if to.Kind == types.Timestamp {
				v, ok = floatToInt(x)
			} else {
				v, ok = truncToInt(x)
			}
			if !ok {
				castFailed(c, i, formatDouble(x), to, errRange)
			}
			return v, ok
		}
	case types.Decimal:
		s := from.Scale
		return func(c *evalCtx, vs []*vec, i int) (int64, bool) {
			d := vs[0].decimal(i)
			var q decimal128.Num
			if to.Kind == types.Timestamp {
				q = divPow10Round(d, s)
			} else {
				q = divPow10Trunc(d, s)
			}
			v, ok := decToInt64(q)
			if !ok {
				castFailed(c, i, decString(d, s), to, errRange)
			}
			return v, ok
		}
	case types.Varchar, types.JSON:
		return func(c *evalCtx, vs []*vec, i int) (int64, bool) {
			s, ok := textAt(c, from, vs[0], i, to)
			if !ok {
				return 0, false
			}
			var v int64
			var err error
			if to.Kind == types.Timestamp {
				v, err = parseTimestamp(s)
			} else {
				v, err = parseBigInt(s)
			}
			if err != nil {
				castFailed(c, i, s, to, err)
				return 0, false
			}
			return v, true
		}
	}
	return nil
}

// truncToInt truncates x toward zero; ok is false for NaN, infinities and
// values out of the BIGINT range.
func truncToInt(x float64) (int64, bool) {
	t := math.Trunc(x)
	if math.IsNaN(t) || t < -9223372036854775808.0 || t >= 9223372036854775808.0 {
		return 0, false
	}
	return int64(t), true
}

func castToDouble(from types.Type) func(c *evalCtx, vs []*vec, i int) (float64, bool) {
	to := types.DoubleType
	switch from.Kind {
	case types.Boolean:
		return func(c *evalCtx, vs []*vec, i int) (float64, bool) { return float64(b2u(vs[0].bool(i))), true }
	case types.BigInt, types.Timestamp:
		return func(c *evalCtx, vs []*vec, i int) (float64, bool) { return float64(vs[0].int(i)), true }
	case types.Decimal:
		s := from.Scale
		return func(c *evalCtx, vs []*vec, i int) (float64, bool) { return decToFloat(vs[0].decimal(i), s), true }
	case types.Varchar, types.JSON:
		return func(c *evalCtx, vs []*vec, i int) (float64, bool) {
			s, ok := textAt(c, from, vs[0], i, to)
			if !ok {
				return 0, false
			}
			v, err := parseDouble(s)
			if err != nil {
				castFailed(c, i, s, to, err)
				return 0, false
			}
			return v, true
		}
	}
	return nil
}

// decToFloat returns the double nearest to d at scale s.
func decToFloat(d decimal128.Num, s int32) float64 {
	if v, ok := decToInt64(d); ok && v < 1<<53 && v > -(1<<53) && s <= 22 {
		// Both exact: one correctly rounded division.
		return float64(v) / math.Pow10(int(s))
	}
	f, _ := strconv.ParseFloat(decString(d, s), 64)
	return f
}

func castToDecimal(from, to types.Type) func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) {
	p, s := to.Precision, to.Scale
	fromInt := func(c *evalCtx, i int, v int64) (decimal128.Num, bool) {
		d, ok := mulPow10(decimal128.FromI64(v), s)
		if !ok || !fitsPrecision(d, p) {
			castFailed(c, i, itoa(v), to, errRange)
			return decimal128.Num{}, false
		}
		return d, true
	}
	switch from.Kind {
	case types.Boolean:
		return func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) {
			return fromInt(c, i, int64(b2u(vs[0].bool(i))))
		}
	case types.BigInt, types.Timestamp:
		return func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) { return fromInt(c, i, vs[0].int(i)) }
	case types.Double:
		return func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) {
			x := vs[0].float(i)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				castFailed(c, i, formatDouble(x), to, errRange)
				return decimal128.Num{}, false
			}
			if r, ok := roundScaled(x, int64(s)); ok {
				d := decimal128.FromI64(int64(r))
				if !fitsPrecision(d, p) {
					castFailed(c, i, formatDouble(x), to, errRange)
					return decimal128.Num{}, false
				}
				return d, true
			}
			d, err := parseDecimal(strconv.FormatFloat(x, 'e', -1, 64), p, s)
			if err != nil {
				castFailed(c, i, formatDouble(x), to, err)
				return decimal128.Num{}, false
			}
			return d, true
		}
	case types.Decimal:
		fs := from.Scale
		return func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) {
			x := vs[0].decimal(i)
			d, ok := rescaleDec(x, fs, s)
			if !ok || !fitsPrecision(d, p) {
				castFailed(c, i, decString(x, fs), to, errRange)
				return decimal128.Num{}, false
			}
			return d, true
		}
	case types.Varchar, types.JSON:
		return func(c *evalCtx, vs []*vec, i int) (decimal128.Num, bool) {
			str, ok := textAt(c, from, vs[0], i, to)
			if !ok {
				return decimal128.Num{}, false
			}
			d, err := parseDecimal(str, p, s)
			if err != nil {
				castFailed(c, i, str, to, err)
				return decimal128.Num{}, false
			}
			return d, true
		}
	}
	return nil
}

func castToText(from, to types.Type) func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
	toJSON := to.Kind == types.JSON
	switch from.Kind {
	case types.Boolean:
		return func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
			return strconv.AppendBool(dst, vs[0].bool(i)), true
		}
	case types.BigInt:
		return func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
			return strconv.AppendInt(dst, vs[0].int(i), 10), true
		}
	case types.Double:
		return func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
			x := vs[0].float(i)
			if toJSON && (math.IsNaN(x) || math.IsInf(x, 0)) {
				castFailed(c, i, formatDouble(x), to, errors.New("JSON has no NaN or infinity"))
				return dst, false
			}
			return appendDouble(dst, x), true
		}
	case types.Decimal:
		s := from.Scale
		return func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
			return append(dst, decString(vs[0].decimal(i), s)...), true
		}
	case types.Timestamp:
		return func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
			ms := vs[0].int(i)
			if toJSON {
				dst = append(dst, '"')
			}
			out, ok := appendTimestamp(dst, ms)
			if !ok {
				castFailed(c, i, itoa(ms)+" ms", to, errors.New("the year is outside 0000-9999"))
				return dst, false
			}
			if toJSON {
				out = append(out, '"')
			}
			return out, true
		}
	case types.Interval:
		return func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
			if toJSON {
				dst = append(dst, '"')
			}
			dst = appendInterval(dst, vs[0].int(i))
			if toJSON {
				dst = append(dst, '"')
			}
			return dst, true
		}
	case types.Varchar: // to JSON: the text must be JSON
		return func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
			s := vs[0].str(i)
			if !validJSON(s) {
				castFailed(c, i, s, to, errors.New("invalid JSON text"))
				return dst, false
			}
			return append(dst, s...), true
		}
	}
	return nil
}

// newDataLike returns an array of type dt over the buffers of data.
func newDataLike(data arrow.ArrayData, dt arrow.DataType) arrow.Array {
	nd := array.NewData(dt, data.Len(), data.Buffers(), nil, data.NullN(), data.Offset())
	arr := array.MakeFromData(nd)
	nd.Release()
	return arr
}
