// Package expr owns eddy's checked expressions: typed trees that the binder in
// package sql produces from SQL text, the planner rearranges, and exec compiles
// into vectorized evaluators over Arrow batches. Expressions are plain data with
// no behaviour beyond describing themselves, so every layer can depend on them.
package expr

import (
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/sql/types"
)

// Expr is a checked expression over the columns of one input schema.
type Expr interface {
	// Type is the expression's result type (never types.Null after binding:
	// a bare NULL literal is coerced to the type its context needs).
	Type() types.Type
	// String renders the expression as SQL-like text, for plans and errors.
	String() string
}

// Column reads column Index of the input batch.
type Column struct {
	Index int
	Name  string
	T     types.Type
}

// Literal is a constant. Value holds, by T.Kind:
//
//	Null: nil (any type's NULL is a Literal with Value nil and that T)
//	Boolean: bool      BigInt: int64      Double: float64
//	Decimal: decimal128.Num (arrow-go), unscaled, at T's scale
//	Varchar, JSON: string
//	Timestamp: int64 milliseconds since the Unix epoch (UTC)
//	Interval: int64 milliseconds
type Literal struct {
	Value any
	T     types.Type
}

// Call applies a scalar function or operator to its arguments. Fn is one of the
// names listed in Functions; the binder has already checked arity and types and
// inserted the casts the arguments need (both sides of a comparison or arithmetic
// have one common type, except timestamp +/- interval and timestamp - timestamp).
type Call struct {
	Fn   string
	Args []Expr
	T    types.Type
}

// Cast converts X to T. Failures (a string that is not a number, an overflow)
// give NULL and count as a row error for the error stream, never a panic.
type Cast struct {
	X Expr
	T types.Type
}

func (c *Column) Type() types.Type  { return c.T }
func (l *Literal) Type() types.Type { return l.T }
func (c *Call) Type() types.Type    { return c.T }
func (c *Cast) Type() types.Type    { return c.T }

func (c *Column) String() string { return fmt.Sprintf("%s#%d", c.Name, c.Index) }

func (l *Literal) String() string {
	switch v := l.Value.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case interface{ ToString(int32) string }: // decimal128.Num, unscaled at T's scale
		return v.ToString(l.T.Scale)
	default:
		if l.T.Kind == types.Timestamp {
			return fmt.Sprintf("TIMESTAMP_MS(%v)", v)
		}
		if l.T.Kind == types.Interval {
			return fmt.Sprintf("INTERVAL_MS(%v)", v)
		}
		return fmt.Sprint(v)
	}
}

func (c *Call) String() string {
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = a.String()
	}
	if info, ok := Functions[c.Fn]; ok && info.Infix && len(args) == 2 {
		return "(" + args[0] + " " + c.Fn + " " + args[1] + ")"
	}
	return c.Fn + "(" + strings.Join(args, ", ") + ")"
}

func (c *Cast) String() string { return fmt.Sprintf("CAST(%s AS %s)", c.X, c.T) }

// FuncInfo describes a scalar function or operator of the IR.
type FuncInfo struct {
	Infix bool // printed between its two arguments
	Doc   string
}

// Functions lists every Fn a Call may carry, with the argument shapes the binder
// guarantees. "num" is BIGINT, DOUBLE or DECIMAL; "str" is VARCHAR or JSON; "T"
// is any one type shared by the marked arguments.
//
// All functions return NULL when any argument is NULL, except: and, or (three-
// valued logic), is_null, is_not_null, coalesce, case, in (SQL semantics: NULL
// when no match and a NULL is among the candidates), concat (NULL if any arg NULL).
var Functions = map[string]FuncInfo{
	// Arithmetic: (num, num) -> num of the common type; Timestamp +/- Interval -> Timestamp;
	// Timestamp - Timestamp -> Interval. "/" on BIGINT is integer division; by zero gives NULL
	// and a row error.
	"+": {Infix: true}, "-": {Infix: true}, "*": {Infix: true}, "/": {Infix: true}, "%": {Infix: true},
	"neg": {Doc: "unary minus (num) -> num"},
	// Comparison: (T, T) -> BOOLEAN, T any comparable type.
	"=": {Infix: true}, "<>": {Infix: true}, "<": {Infix: true}, "<=": {Infix: true}, ">": {Infix: true}, ">=": {Infix: true},
	// Logic: BOOLEAN args -> BOOLEAN, three-valued.
	"and": {Infix: true}, "or": {Infix: true}, "not": {Doc: "(BOOLEAN) -> BOOLEAN"},
	"is_null": {Doc: "(any) -> BOOLEAN, never NULL"}, "is_not_null": {Doc: "(any) -> BOOLEAN, never NULL"},
	"is_true": {Doc: "(BOOLEAN) -> BOOLEAN, never NULL"}, "is_false": {Doc: "(BOOLEAN) -> BOOLEAN, never NULL"},
	"in": {Doc: "(x T, v1 T, v2 T, ...) -> BOOLEAN; NOT IN is not(in(...))"},
	// BETWEEN is bound as and(>=, <=).
	"like":   {Doc: "(str, pattern str[, escape str]) -> BOOLEAN; % and _ wildcards; NOT LIKE is not(like)"},
	"regexp": {Doc: "(str, pattern str) -> BOOLEAN; RE2 syntax, matches anywhere (REGEXP / RLIKE)"},
	"case": {Doc: "(cond1 BOOLEAN, val1 T, cond2, val2, ..., else T) -> T; the binder turns simple CASE x WHEN v " +
		"into searched form and always supplies an else (NULL literal when absent), so len(args) is odd"},
	"coalesce": {Doc: "(T, T, ...) -> T, the first non-NULL"},
	// Strings.
	"lower": {Doc: "(str) -> VARCHAR"}, "upper": {Doc: "(str) -> VARCHAR"},
	"substring":      {Doc: "(str, start BIGINT[, length BIGINT]) -> VARCHAR; 1-based, in characters"},
	"concat":         {Doc: "(str, str, ...) -> VARCHAR; the binder casts non-string args to VARCHAR; || is concat"},
	"trim":           {Doc: "(str, chars str, mode str 'BOTH'|'LEADING'|'TRAILING') -> VARCHAR; chars default ' '"},
	"char_length":    {Doc: "(str) -> BIGINT, in characters (CHARACTER_LENGTH, LENGTH in characters)"},
	"replace":        {Doc: "(str, from str, to str) -> VARCHAR"},
	"regexp_replace": {Doc: "(str, pattern str, replacement str) -> VARCHAR; RE2, $1 references"},
	// Math.
	"abs": {Doc: "(num) -> same"}, "round": {Doc: "(num[, digits BIGINT]) -> same type; half away from zero"},
	"floor": {Doc: "(num) -> same type (DECIMAL keeps scale)"}, "ceil": {Doc: "(num) -> same type"},
	"power": {Doc: "(DOUBLE, DOUBLE) -> DOUBLE"}, "sqrt": {Doc: "(DOUBLE) -> DOUBLE; negative -> NULL + row error"},
	"ln": {Doc: "(DOUBLE) -> DOUBLE; <= 0 -> NULL + row error"}, "log10": {Doc: "(DOUBLE) -> DOUBLE; <= 0 -> NULL + row error"},
	"mod": {Doc: "(num, num) -> num; same as %"},
	// Time. Timestamps are ms since epoch, UTC.
	"floor_time":     {Doc: "(TIMESTAMP, unit VARCHAR literal: SECOND|MINUTE|HOUR|DAY|WEEK|MONTH|YEAR) -> TIMESTAMP; FLOOR(ts TO unit)"},
	"unix_timestamp": {Doc: "(TIMESTAMP) -> BIGINT seconds; UNIX_TIMESTAMP() without args is bound to the row's ROWTIME"},
	"from_unixtime":  {Doc: "(num seconds) -> TIMESTAMP"},
	"extract": {Doc: "(unit VARCHAR literal: YEAR|QUARTER|MONTH|WEEK|DAY|DAYOFWEEK|DAYOFYEAR|HOUR|MINUTE|SECOND|MILLISECOND|EPOCH, " +
		"TIMESTAMP) -> BIGINT; YEAR(ts), MONTH(ts), ... are bound to extract"},
	// JSON.
	"json_extract": {Doc: "(str, path VARCHAR literal) -> JSON; $.a.b[0] paths; missing -> NULL"},
	"json_value":   {Doc: "(str, path VARCHAR literal) -> VARCHAR, the scalar unquoted (->> and JSON_UNQUOTE(JSON_EXTRACT))"},
}
