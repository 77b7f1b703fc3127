package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// callSite is one function call being bound.
type callSite struct {
	b    *binder
	name string // as the user wrote it, upper case
	off  int    // rewritten offset of the call
	cl   clause
	raw  []ast.ExprNode
}

// bindFunc binds a scalar function call; it returns nil after an error.
type bindFunc func(cs *callSite) expr.Expr

// scalarFunc returns the binder of the function named name (lower case). It
// is a switch rather than a map because the binders call back into expression
// binding, which a package-level map could not refer to without a cycle.
func scalarFunc(name string) bindFunc {
	switch name {
	case "lower", "lcase":
		return strFunc("lower")
	case "upper", "ucase":
		return strFunc("upper")
	case "char_length", "character_length", "length":
		return lengthFunc
	case "substring", "substr":
		return substringFunc
	case "concat":
		return concatFunc
	case "trim":
		return trimFunc
	case "ltrim":
		return trimSide("LEADING")
	case "rtrim":
		return trimSide("TRAILING")
	case "replace", "regexp_replace":
		return replaceFunc(name)
	case "abs", "floor", "ceil":
		return numFunc(name)
	case "ceiling":
		return numFunc("ceil")
	case "round":
		return roundFunc
	case "mod":
		return modFunc
	case "sqrt", "ln", "log10":
		return doubleFunc(name, 1)
	case "power", "pow":
		return doubleFunc("power", 2)
	case "coalesce", "ifnull", "nvl":
		return coalesceFunc
	case "nullif":
		return nullifFunc
	case "if":
		return ifFunc
	case "unix_timestamp":
		return unixTimestampFunc
	case "from_unixtime":
		return fromUnixtimeFunc
	case "extract":
		return extractFunc
	case "year", "quarter", "month", "week", "day", "dayofweek", "dayofyear", "hour", "minute", "second":
		return partFunc(strings.ToUpper(name))
	case "dayofmonth":
		return partFunc("DAY")
	case "json_extract":
		return jsonFunc(name, types.JSONType)
	case "json_value":
		return jsonFunc(name, types.VarcharType)
	case "json_unquote":
		return jsonUnquoteFunc
	case fnInterval:
		return intervalFunc
	case fnCast:
		return castFunc
	case fnFloorTo:
		return floorToFunc
	case fnStep:
		return stepFunc
	case ast.TimestampLiteral:
		return timestampLiteralFunc
	}
	return nil
}

// displayNames are the names errors use for rewritten forms.
var displayNames = map[string]string{
	fnInterval: "INTERVAL", fnSession: "SESSION", fnCast: "CAST", fnFloorTo: "FLOOR(... TO unit)", fnStep: "STEP(... BY interval)",
	ast.TimestampLiteral: "TIMESTAMP",
}

// call binds a function call.
func (b *binder) call(x *ast.FuncCallExpr, off int, cl clause) expr.Expr {
	name := x.FnName.L
	display := strings.ToUpper(x.FnName.O)
	if d, ok := displayNames[name]; ok {
		display = d
	}
	if isWindowFn(name) {
		b.errorNode(off, "%s(...) is a window: it belongs in GROUP BY; select window_start and window_end for its bounds", display)
		return nil
	}
	if _, ok := aggregateCalls[name]; ok {
		return b.bindAggregate(name, x.Args, false, off, cl)
	}
	if name == FnForest || name == FnForestExplanation {
		return b.forestCall(x, off, cl, strings.ToUpper(name))
	}
	if name == fnPartitionBy {
		b.errorNode(off, "OVER (PARTITION BY ...) is for window functions and RANDOM_CUT_FOREST")
		return nil
	}
	f := scalarFunc(name)
	if f == nil {
		hint := "see sql/DIALECT.md for the functions eddy has"
		switch name {
		case "now", "current_timestamp", "sysdate", "localtimestamp", "utc_timestamp", "curdate", "current_date":
			hint = "results must not depend on when a query runs: use ROWTIME (the arrival time) or an event-time column"
		case "tumble_start", "hop_start", "session_start", "tumble_end", "hop_end", "session_end":
			hint = "select window_start or window_end of the GROUP BY window"
		case "date_add", "date_sub", "adddate", "subdate":
			hint = "write ts + INTERVAL '1' MINUTE"
		}
		b.errorNode(off, "unknown function %s: %s", display, hint)
		return nil
	}
	return f(&callSite{b: b, name: display, off: off, cl: cl, raw: x.Args})
}

// arity checks the number of arguments.
func (cs *callSite) arity(lo, hi int) bool {
	n := len(cs.raw)
	if n >= lo && (n <= hi || hi < 0) {
		return true
	}
	want := fmt.Sprintf("%d", lo)
	switch {
	case hi < 0:
		want = fmt.Sprintf("at least %d", lo)
	case hi > lo:
		want = fmt.Sprintf("%d to %d", lo, hi)
	}
	cs.b.errorNode(cs.off, "%s takes %s argument%s, got %d", cs.name, want, pick(lo == 1 && hi == 1, "", "s"), n)
	return false
}

// arg binds argument i.
func (cs *callSite) arg(i int) expr.Expr { return cs.b.expr(cs.raw[i], cs.off, cs.cl) }

func (cs *callSite) argOff(i int) int { return childOff(cs.raw[i], cs.off) }

// want binds argument i and converts it to the kind of value it must be:
// "str" (VARCHAR or JSON), "num" (BIGINT, DOUBLE or DECIMAL), "bigint",
// "double" (any number, converted) or "ts" (TIMESTAMP; a string literal is
// read as one).
func (cs *callSite) want(i int, kind string) expr.Expr {
	e := cs.arg(i)
	if e == nil {
		return nil
	}
	t := e.Type()
	switch kind {
	case "str":
		if t.IsString() {
			return e
		}
		if t.Kind == types.Null {
			return castTo(e, types.VarcharType)
		}
	case "num":
		if t.IsNumeric() {
			return e
		}
		if t.Kind == types.Null {
			return castTo(e, types.DoubleType)
		}
	case "bigint":
		if t.Kind == types.BigInt {
			return e
		}
		if t.Kind == types.Null {
			return castTo(e, types.BigIntType)
		}
	case "double":
		if t.IsNumeric() || t.Kind == types.Null {
			return castTo(e, types.DoubleType)
		}
	case "ts":
		if t.Kind == types.Timestamp {
			return e
		}
		if t.Kind == types.Null {
			return castTo(e, types.TimestampType)
		}
		if lit, ok := e.(*expr.Literal); ok && t.Kind == types.Varchar && lit.Value != nil {
			ms, err := parseTimestamp(lit.Value.(string))
			if err != nil {
				cs.b.errorNode(cs.argOff(i), "%s: %v", cs.name, err)
				return nil
			}
			return &expr.Literal{Value: ms, T: types.TimestampType}
		}
	}
	names := map[string]string{"str": "VARCHAR", "num": "number", "bigint": "BIGINT", "double": "number", "ts": "TIMESTAMP"}
	cs.b.errorNode(cs.argOff(i), "%s argument %d must be a %s, got %s: CAST(x AS %s)", cs.name, i+1, names[kind], t, castHint[kind])
	return nil
}

var castHint = map[string]string{"str": "VARCHAR", "num": "DOUBLE", "bigint": "BIGINT", "double": "DOUBLE", "ts": "TIMESTAMP"}

// literalString binds argument i, which must be a VARCHAR literal.
func (cs *callSite) literalString(i int, what string) (string, bool) {
	e := cs.arg(i)
	if e == nil {
		return "", false
	}
	lit, ok := e.(*expr.Literal)
	if !ok || lit.T.Kind != types.Varchar || lit.Value == nil {
		cs.b.errorNode(cs.argOff(i), "%s takes %s as a quoted literal", cs.name, what)
		return "", false
	}
	return lit.Value.(string), true
}

// wantAll binds arguments, in order, to the given kinds.
func (cs *callSite) wantAll(kinds ...string) []expr.Expr {
	out := make([]expr.Expr, len(kinds))
	ok := true
	for i, k := range kinds {
		out[i] = cs.want(i, k)
		ok = ok && out[i] != nil
	}
	if !ok {
		return nil
	}
	return out
}

func call(fn string, t types.Type, args ...expr.Expr) expr.Expr {
	return &expr.Call{Fn: fn, Args: args, T: t}
}

func strFunc(fn string) bindFunc {
	return func(cs *callSite) expr.Expr {
		if !cs.arity(1, 1) {
			return nil
		}
		if a := cs.wantAll("str"); a != nil {
			return call(fn, types.VarcharType, a...)
		}
		return nil
	}
}

func lengthFunc(cs *callSite) expr.Expr {
	if !cs.arity(1, 1) {
		return nil
	}
	if a := cs.wantAll("str"); a != nil {
		return call("char_length", types.BigIntType, a...)
	}
	return nil
}

func substringFunc(cs *callSite) expr.Expr {
	if !cs.arity(2, 3) {
		return nil
	}
	kinds := []string{"str", "bigint", "bigint"}[:len(cs.raw)]
	if a := cs.wantAll(kinds...); a != nil {
		return call("substring", types.VarcharType, a...)
	}
	return nil
}

func concatFunc(cs *callSite) expr.Expr {
	if !cs.arity(1, -1) {
		return nil
	}
	var args []expr.Expr
	for i := range cs.raw {
		e := cs.arg(i)
		if e == nil {
			return nil
		}
		if e.Type().Kind == types.Interval {
			cs.b.errorNode(cs.argOff(i), "%s cannot join an INTERVAL", cs.name)
			return nil
		}
		if !e.Type().IsString() {
			e = castTo(e, types.VarcharType)
		}
		args = append(args, e)
	}
	return call("concat", types.VarcharType, args...)
}

// trimFunc binds TRIM(s), TRIM([BOTH|LEADING|TRAILING] [chars] FROM s):
// tidb passes (s[, chars[, direction]]).
func trimFunc(cs *callSite) expr.Expr {
	if !cs.arity(1, 3) {
		return nil
	}
	s := cs.want(0, "str")
	chars := expr.Expr(&expr.Literal{Value: " ", T: types.VarcharType})
	if len(cs.raw) > 1 {
		if _, ok := cs.raw[1].(*ast.TrimDirectionExpr); !ok {
			chars = cs.want(1, "str")
		}
	}
	mode := "BOTH"
	for _, a := range cs.raw[1:] {
		if d, ok := a.(*ast.TrimDirectionExpr); ok {
			switch d.Direction {
			case ast.TrimLeading:
				mode = "LEADING"
			case ast.TrimTrailing:
				mode = "TRAILING"
			}
		}
	}
	if s == nil || chars == nil {
		return nil
	}
	return call("trim", types.VarcharType, s, chars, &expr.Literal{Value: mode, T: types.VarcharType})
}

func trimSide(mode string) bindFunc {
	return func(cs *callSite) expr.Expr {
		if !cs.arity(1, 1) {
			return nil
		}
		s := cs.want(0, "str")
		if s == nil {
			return nil
		}
		return call("trim", types.VarcharType, s, &expr.Literal{Value: " ", T: types.VarcharType}, &expr.Literal{Value: mode, T: types.VarcharType})
	}
}

func replaceFunc(fn string) bindFunc {
	return func(cs *callSite) expr.Expr {
		if !cs.arity(3, 3) {
			return nil
		}
		a := cs.wantAll("str", "str", "str")
		if a == nil {
			return nil
		}
		if fn == "regexp_replace" && cs.b.pattern(cs.raw[1], cs.off, cs.cl, cs.name) == nil {
			return nil
		}
		return call(fn, types.VarcharType, a...)
	}
}

func numFunc(fn string) bindFunc {
	return func(cs *callSite) expr.Expr {
		if !cs.arity(1, 1) {
			return nil
		}
		a := cs.wantAll("num")
		if a == nil {
			return nil
		}
		if fn == "floor" && a[0].Type().Kind == types.Timestamp {
			return nil
		}
		return call(fn, a[0].Type(), a...)
	}
}

func roundFunc(cs *callSite) expr.Expr {
	if !cs.arity(1, 2) {
		return nil
	}
	a := cs.wantAll([]string{"num", "bigint"}[:len(cs.raw)]...)
	if a == nil {
		return nil
	}
	return call("round", a[0].Type(), a...)
}

func modFunc(cs *callSite) expr.Expr {
	if !cs.arity(2, 2) {
		return nil
	}
	a := cs.wantAll("num", "num")
	if a == nil {
		return nil
	}
	t := arithType("%", a[0].Type(), a[1].Type())
	return call("mod", t, castTo(a[0], t), castTo(a[1], t))
}

func doubleFunc(fn string, n int) bindFunc {
	return func(cs *callSite) expr.Expr {
		if !cs.arity(n, n) {
			return nil
		}
		a := cs.wantAll([]string{"double", "double"}[:n]...)
		if a == nil {
			return nil
		}
		return call(fn, types.DoubleType, a...)
	}
}

func coalesceFunc(cs *callSite) expr.Expr {
	lo, hi := 1, -1
	if cs.name != "COALESCE" {
		lo, hi = 2, 2
	}
	if !cs.arity(lo, hi) {
		return nil
	}
	args, ok := cs.all()
	if !ok {
		return nil
	}
	if args, ok = cs.b.unifyAll("mix", cs.off, args); !ok {
		return nil
	}
	return call("coalesce", args[0].Type(), args...)
}

// all binds every argument.
func (cs *callSite) all() ([]expr.Expr, bool) {
	args := make([]expr.Expr, len(cs.raw))
	ok := true
	for i := range cs.raw {
		args[i] = cs.arg(i)
		ok = ok && args[i] != nil
	}
	return args, ok
}

// nullifFunc binds NULLIF(a, b) as CASE WHEN a = b THEN NULL ELSE a END.
func nullifFunc(cs *callSite) expr.Expr {
	if !cs.arity(2, 2) {
		return nil
	}
	args, ok := cs.all()
	if !ok {
		return nil
	}
	l, r, ok := cs.b.unify("compare", cs.off, args[0], args[1])
	if !ok {
		return nil
	}
	return call("case", l.Type(), call("=", types.BooleanType, l, r), &expr.Literal{T: l.Type()}, l)
}

// ifFunc binds IF(c, a, b) as CASE WHEN c THEN a ELSE b END.
func ifFunc(cs *callSite) expr.Expr {
	if !cs.arity(3, 3) {
		return nil
	}
	c := cs.b.boolArg(cs.raw[0], cs.off, cs.cl, "IF")
	a, b := cs.arg(1), cs.arg(2)
	if c == nil || a == nil || b == nil {
		return nil
	}
	vals, ok := cs.b.unifyAll("mix", cs.off, []expr.Expr{a, b})
	if !ok {
		return nil
	}
	return call("case", vals[0].Type(), c, vals[0], vals[1])
}

// unixTimestampFunc binds UNIX_TIMESTAMP(ts), and UNIX_TIMESTAMP() as the
// row's ROWTIME in seconds.
func unixTimestampFunc(cs *callSite) expr.Expr {
	if !cs.arity(0, 1) {
		return nil
	}
	if len(cs.raw) == 0 {
		i := len(cs.b.q.Input) - 1
		c := &expr.Column{Index: i, Name: RowtimeColumn, T: types.TimestampType}
		cs.b.colPos[c] = cs.b.m.orig(cs.off)
		return call("unix_timestamp", types.BigIntType, c)
	}
	a := cs.wantAll("ts")
	if a == nil {
		return nil
	}
	return call("unix_timestamp", types.BigIntType, a...)
}

func fromUnixtimeFunc(cs *callSite) expr.Expr {
	if !cs.arity(1, 1) {
		return nil
	}
	a := cs.wantAll("num")
	if a == nil {
		return nil
	}
	return call("from_unixtime", types.TimestampType, a...)
}

// extractUnits are the fields EXTRACT and its shorthands read.
var extractUnits = map[string]bool{"YEAR": true, "QUARTER": true, "MONTH": true, "WEEK": true, "DAY": true,
	"DAYOFWEEK": true, "DAYOFYEAR": true, "HOUR": true, "MINUTE": true, "SECOND": true, "MILLISECOND": true, "EPOCH": true}

// extractFunc binds EXTRACT(unit FROM ts): tidb passes (unit, ts).
func extractFunc(cs *callSite) expr.Expr {
	if !cs.arity(2, 2) {
		return nil
	}
	u, ok := cs.raw[0].(*ast.TimeUnitExpr)
	unit := ""
	if ok {
		unit = u.Unit.String()
	}
	if !extractUnits[unit] {
		cs.b.errorNode(cs.off, "EXTRACT cannot read %s: use YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND or MILLISECOND", unit)
		return nil
	}
	ts := cs.want(1, "ts")
	if ts == nil {
		return nil
	}
	return call("extract", types.BigIntType, &expr.Literal{Value: unit, T: types.VarcharType}, ts)
}

func partFunc(unit string) bindFunc {
	return func(cs *callSite) expr.Expr {
		if !cs.arity(1, 1) {
			return nil
		}
		ts := cs.want(0, "ts")
		if ts == nil {
			return nil
		}
		return call("extract", types.BigIntType, &expr.Literal{Value: unit, T: types.VarcharType}, ts)
	}
}

func jsonFunc(fn string, t types.Type) bindFunc {
	return func(cs *callSite) expr.Expr {
		if !cs.arity(2, 2) {
			return nil
		}
		doc := cs.want(0, "str")
		path, ok := cs.literalString(1, "a JSON path such as '$.a.b'")
		if doc == nil || !ok {
			return nil
		}
		if path != "$" {
			if err := checkPath(path); err != nil {
				cs.b.errorNode(cs.argOff(1), "%s: %v", cs.name, err)
				return nil
			}
		}
		return call(fn, t, doc, &expr.Literal{Value: path, T: types.VarcharType})
	}
}

// jsonUnquoteFunc binds JSON_UNQUOTE(JSON_EXTRACT(j, p)) (and j->>p) as json_value.
func jsonUnquoteFunc(cs *callSite) expr.Expr {
	if !cs.arity(1, 1) {
		return nil
	}
	e := cs.arg(0)
	if e == nil {
		return nil
	}
	if c, ok := e.(*expr.Call); ok && c.Fn == "json_extract" {
		return call("json_value", types.VarcharType, c.Args...)
	}
	cs.b.errorNode(cs.off, "JSON_UNQUOTE takes JSON_EXTRACT(j, path): write JSON_VALUE(j, path) or j->>'$.a'")
	return nil
}

// intervalFunc binds a rewritten INTERVAL 'n' UNIT literal.
func intervalFunc(cs *callSite) expr.Expr {
	if len(cs.raw) != 2 {
		cs.b.errorNode(cs.off, "INTERVAL takes a quoted number and a unit, e.g. INTERVAL '5' SECOND")
		return nil
	}
	v := cs.arg(0)
	lit, ok := v.(*expr.Literal)
	if v == nil {
		return nil
	}
	unitLit, _ := cs.arg(1).(*expr.Literal)
	if unitLit == nil {
		return nil
	}
	unit, _ := unitLit.Value.(string)
	val := ""
	if ok && lit.Value != nil {
		val = literalText(lit)
		if s, isStr := lit.Value.(string); isStr {
			val = s
		}
	}
	d, msg := intervalValue(val, unit)
	if msg != "" {
		at := cs.argOff(0)
		if strings.HasPrefix(msg, "unknown interval unit") {
			at = cs.argOff(1)
		}
		cs.b.errorNode(at, "%s", msg)
		return nil
	}
	return &expr.Literal{Value: int64(d / time.Millisecond), T: types.IntervalType}
}

// literalText renders a literal's value as SQL number text.
func literalText(l *expr.Literal) string {
	if n, ok := l.Value.(interface{ ToString(int32) string }); ok {
		return n.ToString(l.T.Scale)
	}
	return fmt.Sprint(l.Value)
}

// castFunc binds a rewritten CAST(x AS type).
func castFunc(cs *callSite) expr.Expr {
	if len(cs.raw) != 2 {
		cs.b.errorNode(cs.off, "CAST takes CAST(x AS type)")
		return nil
	}
	x := cs.arg(0)
	typeText, _ := cs.literalString(1, "a type")
	if x == nil {
		return nil
	}
	t, err := types.Parse(typeText)
	if err != nil {
		cs.b.errorNode(cs.argOff(1), "CAST: %v", err)
		return nil
	}
	from := x.Type()
	switch {
	case from == t:
		return x
	case from.Kind == types.Null:
		return castTo(x, t)
	case from.Kind == types.Interval:
		cs.b.errorNode(cs.off, "CAST of an INTERVAL is not supported: add it to a TIMESTAMP instead")
		return nil
	case from.Kind == types.Boolean && t.Kind == types.Timestamp, from.Kind == types.Timestamp && t.Kind == types.Boolean:
		cs.b.errorNode(cs.off, "cannot CAST %s to %s", from, t)
		return nil
	}
	if lit, ok := x.(*expr.Literal); ok && from.Kind == types.Varchar && t.Kind == types.Timestamp && lit.Value != nil {
		ms, err := parseTimestamp(lit.Value.(string))
		if err != nil {
			cs.b.errorNode(cs.argOff(0), "CAST: %v", err)
			return nil
		}
		return &expr.Literal{Value: ms, T: types.TimestampType}
	}
	return castTo(x, t)
}

// floorUnits are the units of FLOOR(ts TO unit).
var floorUnits = map[string]bool{"SECOND": true, "MINUTE": true, "HOUR": true, "DAY": true, "WEEK": true, "MONTH": true, "YEAR": true}

// floorToFunc binds a rewritten FLOOR(ts TO unit).
func floorToFunc(cs *callSite) expr.Expr {
	if len(cs.raw) != 2 {
		cs.b.errorNode(cs.off, "FLOOR takes FLOOR(ts TO unit)")
		return nil
	}
	ts := cs.want(0, "ts")
	unit, ok := cs.literalString(1, "a unit")
	if ts == nil || !ok {
		return nil
	}
	if !floorUnits[unit] {
		cs.b.errorNode(cs.argOff(1), "FLOOR(... TO %s): the unit must be SECOND, MINUTE, HOUR, DAY, WEEK, MONTH or YEAR", unit)
		return nil
	}
	return call("floor_time", types.TimestampType, ts, &expr.Literal{Value: unit, T: types.VarcharType})
}

// stepFunc binds a rewritten STEP(ts BY interval); it only has a meaning as
// a GROUP BY window (see kdaWindow).
func stepFunc(cs *callSite) expr.Expr {
	if len(cs.raw) != 2 {
		cs.b.errorNode(cs.off, "STEP takes STEP(ts BY INTERVAL 'n' UNIT)")
		return nil
	}
	ts := cs.want(0, "ts")
	size := cs.arg(1)
	if ts == nil || size == nil {
		return nil
	}
	lit, ok := size.(*expr.Literal)
	if !ok || lit.T.Kind != types.Interval || lit.Value == nil {
		cs.b.errorNode(cs.argOff(1), "STEP takes STEP(ts BY INTERVAL 'n' UNIT)")
		return nil
	}
	return &stepRef{col: ts, size: time.Duration(lit.Value.(int64)) * time.Millisecond}
}

// timestampLiteralFunc binds TIMESTAMP '...'.
func timestampLiteralFunc(cs *callSite) expr.Expr {
	s, ok := cs.literalString(0, "a timestamp")
	if !ok {
		return nil
	}
	ms, err := parseTimestamp(s)
	if err != nil {
		cs.b.errorNode(cs.off, "TIMESTAMP %v", err)
		return nil
	}
	return &expr.Literal{Value: ms, T: types.TimestampType}
}
