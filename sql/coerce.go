package sql

import (
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// bigintDigits is the number of decimal digits a BIGINT may need.
const bigintDigits = 19

// asDecimal gives the precision and scale a numeric type has when it meets a
// DECIMAL: BIGINT is DECIMAL(19,0).
func asDecimal(t types.Type) (p, s int32) {
	if t.Kind == types.Decimal {
		return t.Precision, t.Scale
	}
	return bigintDigits, 0
}

// commonType is the type two operands of a comparison, IN, CASE or COALESCE
// are converted to: NULL takes the other type; BIGINT with DOUBLE, and
// DECIMAL with DOUBLE, is DOUBLE; BIGINT with DECIMAL, and two DECIMALs, is
// the DECIMAL holding both exactly (at most 38 digits); VARCHAR with JSON is
// VARCHAR. Any other pair of different types has none.
func commonType(a, b types.Type) (types.Type, bool) {
	switch {
	case a == b:
		return a, true
	case a.Kind == types.Null:
		return b, true
	case b.Kind == types.Null:
		return a, true
	case a.IsNumeric() && b.IsNumeric():
		if a.Kind == types.Double || b.Kind == types.Double {
			return types.DoubleType, true
		}
		if a.Kind == types.BigInt && b.Kind == types.BigInt {
			return types.BigIntType, true
		}
		p1, s1 := asDecimal(a)
		p2, s2 := asDecimal(b)
		s := max(s1, s2)
		return types.DecimalType(min(types.MaxDecimalPrecision, max(p1-s1, p2-s2)+s), s), true
	case a.IsString() && b.IsString():
		return types.VarcharType, true
	}
	return types.Type{}, false
}

// arithType is the common type of the operands (and the result) of an
// arithmetic operator on numbers. DECIMAL arithmetic is done at precision 38:
// + - % at the larger scale, * at the sum of the scales, / at the larger scale
// but at least 6. "/" on two BIGINTs is integer division.
func arithType(op string, a, b types.Type) types.Type {
	t, _ := commonType(a, b)
	if t.Kind != types.Decimal {
		return t
	}
	_, s1 := asDecimal(a)
	_, s2 := asDecimal(b)
	s := max(s1, s2)
	switch op {
	case "*":
		s = min(s1+s2, types.MaxDecimalPrecision)
	case "/":
		s = max(s, 6)
	}
	return types.DecimalType(types.MaxDecimalPrecision, s)
}

// castTo converts e to t: e itself when it already has type t, a literal of
// type t when e is a literal that converts exactly, else a Cast.
func castTo(e expr.Expr, t types.Type) expr.Expr {
	if e.Type() == t {
		return e
	}
	if lit, ok := e.(*expr.Literal); ok {
		if v, ok := convertLiteral(lit, t); ok {
			return &expr.Literal{Value: v, T: t}
		}
	}
	return &expr.Cast{X: e, T: t}
}

// convertLiteral converts a literal's value to type t when that is exact.
func convertLiteral(l *expr.Literal, t types.Type) (any, bool) {
	if l.Value == nil {
		return nil, true
	}
	switch v := l.Value.(type) {
	case int64:
		switch t.Kind {
		case types.Double:
			if float64(int64(float64(v))) == float64(v) {
				return float64(v), true
			}
		case types.Decimal:
			n := decimal128.FromI64(v)
			if t.Scale > 0 {
				n = n.IncreaseScaleBy(t.Scale)
			}
			if n.FitsInPrecision(t.Precision) {
				return n, true
			}
		}
	case decimal128.Num:
		switch t.Kind {
		case types.Double:
			return v.ToFloat64(l.T.Scale), true
		case types.Decimal:
			if t.Scale >= l.T.Scale {
				n := v
				if t.Scale > l.T.Scale {
					n = v.IncreaseScaleBy(t.Scale - l.T.Scale)
				}
				if n.FitsInPrecision(t.Precision) {
					return n, true
				}
			}
		}
	}
	return nil, false
}
