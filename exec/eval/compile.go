package eval

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Compile turns a checked expression over input into an Evaluator. It fails
// only for trees the evaluator cannot run: an unknown function, a wrong
// number or type of arguments, a column that is not in input or whose type
// differs, a unit or JSON path that is not a valid literal, a literal LIKE or
// regular expression pattern that does not compile, a CAST between types SQL
// does not convert. Literal-only subtrees are evaluated once, here.
func Compile(e expr.Expr, input types.Schema) (*Evaluator, error) {
	if e == nil {
		return nil, errors.New("eval: nil expression")
	}
	root, err := compileExpr(e, input)
	if err != nil {
		return nil, err
	}
	t := root.typ()
	if err := checkValueType(t); err != nil {
		return nil, fmt.Errorf("eval: %s: %v", e, err)
	}
	return &Evaluator{src: e, root: root, t: t, dt: t.Arrow(), input: input}, nil
}

// checkValueType rejects types no array can hold.
func checkValueType(t types.Type) error {
	switch t.Kind {
	case types.Boolean, types.BigInt, types.Double, types.Varchar, types.JSON, types.Timestamp, types.Interval:
		return nil
	case types.Decimal:
		if t.Precision < 1 || t.Precision > types.MaxDecimalPrecision || t.Scale < 0 || t.Scale > t.Precision {
			return fmt.Errorf("invalid type %s", t)
		}
		return nil
	case types.Null:
		return errors.New("type NULL: the binder must give every NULL a type")
	}
	return fmt.Errorf("unknown type %s", t)
}

func compileExpr(e expr.Expr, input types.Schema) (node, error) {
	switch x := e.(type) {
	case *expr.Column:
		return compileColumn(x, input)
	case *expr.Literal:
		return compileLiteral(x)
	case *expr.Cast:
		if x.X == nil {
			return nil, fmt.Errorf("eval: %s: missing operand", x)
		}
		arg, err := compileExpr(x.X, input)
		if err != nil {
			return nil, err
		}
		if err := checkValueType(x.T); err != nil {
			return nil, fmt.Errorf("eval: %s: %v", x, err)
		}
		n, err := newCast(arg, x.T)
		if err != nil {
			return nil, fmt.Errorf("eval: %s: %v", x, err)
		}
		return fold(n, []node{arg}), nil
	case *expr.Call:
		build, ok := builders[x.Fn]
		if !ok {
			return nil, fmt.Errorf("eval: %s: unknown function %q", x, x.Fn)
		}
		args := make([]node, len(x.Args))
		for i, a := range x.Args {
			if a == nil {
				return nil, fmt.Errorf("eval: %s: argument %d is missing", x, i+1)
			}
			n, err := compileExpr(a, input)
			if err != nil {
				return nil, err
			}
			args[i] = n
		}
		if err := checkValueType(x.T); err != nil {
			return nil, fmt.Errorf("eval: %s: %v", x, err)
		}
		n, err := build(x, args)
		if err != nil {
			return nil, fmt.Errorf("eval: %s: %v", x, err)
		}
		return fold(n, args), nil
	case nil:
		return nil, errors.New("eval: nil expression")
	}
	return nil, fmt.Errorf("eval: unsupported expression node %T", e)
}

func compileColumn(x *expr.Column, input types.Schema) (node, error) {
	if x.Index < 0 || x.Index >= len(input) {
		return nil, fmt.Errorf("eval: column %s: index %d is outside the input's %d columns", x, x.Index, len(input))
	}
	have := input[x.Index].Type
	if !sameType(have, x.T) {
		return nil, fmt.Errorf("eval: column %s: typed %s but the input column %q is %s", x, x.T, input[x.Index].Name, have)
	}
	if err := checkValueType(x.T); err != nil {
		return nil, fmt.Errorf("eval: column %s: %v", x, err)
	}
	return &colNode{idx: x.Index, name: x.Name, t: x.T}, nil
}

// sameType says whether two types are held alike (VARCHAR and JSON share
// their representation).
func sameType(a, b types.Type) bool {
	if a.IsString() && b.IsString() {
		return true
	}
	return a == b
}

// compileLiteral checks and normalises a literal's Go value.
func compileLiteral(x *expr.Literal) (node, error) {
	if err := checkValueType(x.T); err != nil {
		return nil, fmt.Errorf("eval: literal %s: %v", x, err)
	}
	if x.Value == nil {
		return newConst(x.T, nil), nil
	}
	bad := func() (node, error) {
		return nil, fmt.Errorf("eval: literal %s of type %s holds a Go %T", x, x.T, x.Value)
	}
	switch x.T.Kind {
	case types.Boolean:
		if b, ok := x.Value.(bool); ok {
			return newConst(x.T, b), nil
		}
	case types.BigInt, types.Timestamp, types.Interval:
		switch v := x.Value.(type) {
		case int64:
			return newConst(x.T, v), nil
		case int:
			return newConst(x.T, int64(v)), nil
		case int32:
			return newConst(x.T, int64(v)), nil
		}
	case types.Double:
		switch v := x.Value.(type) {
		case float64:
			return newConst(x.T, v), nil
		case float32:
			return newConst(x.T, float64(v)), nil
		}
	case types.Decimal:
		if d, ok := x.Value.(decimal128.Num); ok {
			if !fitsPrecision(d, x.T.Precision) {
				return nil, fmt.Errorf("eval: literal %s does not fit %s", x, x.T)
			}
			return newConst(x.T, d), nil
		}
	case types.Varchar, types.JSON:
		if s, ok := x.Value.(string); ok {
			return newConst(x.T, s), nil
		}
	}
	return bad()
}

// fold evaluates a node whose operands are all constants once, and returns
// it as a constant. A node that fails (a row error, such as 1/0) is kept, so
// that every row reports the failure.
func fold(n node, args []node) node {
	if _, ok := n.(*constNode); ok {
		return n
	}
	for _, a := range args {
		if _, ok := a.(*constNode); !ok {
			return n
		}
	}
	mem := memory.DefaultAllocator
	c := &evalCtx{mem: mem, n: 1}
	arr, err := n.eval(c)
	if err != nil {
		return n
	}
	defer arr.Release()
	if len(c.errs) > 0 {
		return n
	}
	return newConst(n.typ(), valueAt(arr, 0))
}

// valueAt returns row i of arr as a Go value (nil for NULL) in the
// conventions of expr.Literal.
func valueAt(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Timestamp:
		return int64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i)
	case *array.String:
		return strings.Clone(a.Value(i))
	}
	return nil
}

// builder makes the node of a Call from its compiled arguments; the Call
// supplies the Fn and the result type.
type builder func(call *expr.Call, args []node) (node, error)

// builders maps every Fn of expr.Functions to its builder.
var builders = map[string]builder{
	"+": newArith, "-": newArith, "*": newArith, "/": newArith, "%": newArith, "mod": newArith,
	"neg": newNeg,
	"=":   newCompare, "<>": newCompare, "<": newCompare, "<=": newCompare, ">": newCompare, ">=": newCompare,
	"and": newAndOr, "or": newAndOr, "not": newNot,
	"is_null": newIs, "is_not_null": newIs, "is_true": newIs, "is_false": newIs,
	"in":   newIn,
	"like": newLike, "regexp": newRegexp,
	"case": newCase, "coalesce": newCoalesce,
	"lower": newCaseMap, "upper": newCaseMap,
	"substring": newSubstring, "concat": newConcat, "trim": newTrim, "char_length": newCharLength,
	"replace": newReplace, "regexp_replace": newRegexpReplace,
	"abs": newAbs, "round": newRound, "floor": newFloorCeil, "ceil": newFloorCeil,
	"power": newDoubleMath, "sqrt": newDoubleMath, "ln": newDoubleMath, "log10": newDoubleMath,
	"floor_time": newFloorTime, "unix_timestamp": newUnixTimestamp, "from_unixtime": newFromUnixtime,
	"extract":      newExtract,
	"json_extract": newJSON, "json_value": newJSON,
}

// Argument checks shared by the builders.

func wantArgs(args []node, min, max int) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		switch {
		case min == max:
			return fmt.Errorf("takes %d arguments, got %d", min, len(args))
		case max < 0:
			return fmt.Errorf("takes at least %d arguments, got %d", min, len(args))
		default:
			return fmt.Errorf("takes %d to %d arguments, got %d", min, max, len(args))
		}
	}
	return nil
}

func wantKind(what string, n node, kinds ...types.Kind) error {
	k := n.typ().Kind
	for _, w := range kinds {
		if k == w {
			return nil
		}
	}
	names := make([]string, len(kinds))
	for i, w := range kinds {
		names[i] = types.Type{Kind: w}.String()
		if w == types.Decimal {
			names[i] = "DECIMAL"
		}
	}
	return fmt.Errorf("%s must be %s, got %s", what, strings.Join(names, " or "), n.typ())
}

func wantResult(call *expr.Call, kinds ...types.Kind) error {
	for _, w := range kinds {
		if call.T.Kind == w {
			return nil
		}
	}
	return fmt.Errorf("result type %s is not one this function returns", call.T)
}

// constString returns the value of a non-NULL VARCHAR constant.
func constString(n node) (string, bool) {
	k, ok := n.(*constNode)
	if !ok {
		return "", false
	}
	s, ok := k.val.(string)
	return s, ok
}

func isConst(n node) bool {
	_, ok := n.(*constNode)
	return ok
}
