package sql

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// clause says where an expression is bound and what it may contain.
type clause struct {
	name   string // WHERE, SELECT, HAVING, GROUP BY, ...
	aggOK  bool   // aggregates and window bounds are allowed
	inAgg  string // the aggregate whose argument this is, if any
	aggErr string // the error for an aggregate where none is allowed, if not the default
}

// aggState is the aggregation of a query being bound.
type aggState struct {
	windowKey expr.Expr // a GROUP BY FLOOR(t TO unit) or STEP(t BY i) that became the window
}

func (b *binder) aggClause(name string) clause { return clause{name: name, aggOK: true} }

// windowRef is window_start or window_end while binding; overAggSchema
// replaces it with a column of AggSchema.
type windowRef struct{ end bool }

func (w *windowRef) Type() types.Type { return types.TimestampType }
func (w *windowRef) String() string {
	if w.end {
		return WindowEndColumn
	}
	return WindowStartColumn
}

// aggRef is aggregate i of the query while binding.
type aggRef struct {
	i int
	t types.Type
}

func (a *aggRef) Type() types.Type { return a.t }
func (a *aggRef) String() string   { return fmt.Sprintf("agg%d", a.i) }

// stepRef is STEP(t BY size) while binding: it only has a meaning as the
// window of GROUP BY (and, in SELECT, as that window's start).
type stepRef struct {
	col  expr.Expr
	size time.Duration
}

func (s *stepRef) Type() types.Type { return types.TimestampType }
func (s *stepRef) String() string   { return fmt.Sprintf("STEP(%s BY %v)", s.col, s.size) }

// groupBy binds GROUP BY: group keys over Input and exactly one window.
func (b *binder) groupBy(g *ast.GroupByClause) {
	b.agg = &aggState{}
	if g.Rollup {
		b.errorNode(g.Items[0].Expr.OriginTextPosition(), "GROUP BY ... WITH ROLLUP is not supported: write one query per grouping")
	}
	timeName := b.q.Input[b.q.TimeColumn].Name
	windowOff := -1
	for _, item := range g.Items {
		off := item.Expr.OriginTextPosition()
		if call, ok := unparen(item.Expr).(*ast.FuncCallExpr); ok && isWindowFn(call.FnName.L) {
			if windowOff >= 0 {
				b.errorNode(off, "a query has one window: remove one of the window calls in GROUP BY")
				continue
			}
			windowOff = off
			b.window(call, off)
			continue
		}
		e := b.expr(item.Expr, off, clause{name: "GROUP BY", aggErr: "aggregates are not allowed in GROUP BY: group by columns or expressions over them"})
		if e == nil {
			continue
		}
		if b.kdaWindow(e, off) {
			windowOff = off
			continue
		}
		if _, ok := e.(*stepRef); ok {
			b.errorNode(off, "STEP(...) in GROUP BY must be over the stream's time column %s", timeName)
			continue
		}
		dup := false
		for _, k := range b.q.GroupBy {
			dup = dup || reflect.DeepEqual(k, e)
		}
		if dup {
			continue
		}
		b.q.GroupBy = append(b.q.GroupBy, e)
		b.q.GroupNames = append(b.q.GroupNames, b.groupName(e))
	}
	if windowOff < 0 && !b.failed() {
		b.errorNode(g.Items[0].Expr.OriginTextPosition(),
			"an unbounded GROUP BY on stream %s never emits: add TUMBLE(%s, INTERVAL '1' MINUTE) to GROUP BY", b.stream.Name, timeName)
	}
}

// kdaWindow makes GROUP BY FLOOR(t TO unit) or STEP(t BY size), t the time
// column, the query's tumbling window (as Kinesis Data Analytics does).
func (b *binder) kdaWindow(e expr.Expr, off int) bool {
	if b.q.Window != nil {
		return false
	}
	var col expr.Expr
	var size time.Duration
	switch x := e.(type) {
	case *stepRef:
		col, size = x.col, x.size
	case *expr.Call:
		if x.Fn != "floor_time" {
			return false
		}
		unit, _ := x.Args[1].(*expr.Literal).Value.(string)
		d, ok := map[string]time.Duration{"SECOND": time.Second, "MINUTE": time.Minute, "HOUR": time.Hour, "DAY": 24 * time.Hour}[unit]
		if !ok {
			return false
		}
		col, size = x.Args[0], d
	default:
		return false
	}
	if c, ok := col.(*expr.Column); !ok || c.Index != b.q.TimeColumn {
		return false
	}
	if size <= 0 {
		b.errorNode(off, "the window size must be positive")
	}
	b.q.Window = &Window{Kind: Tumble, Size: size}
	b.agg.windowKey = e
	return true
}

func isWindowFn(name string) bool {
	switch name {
	case "tumble", "hop", fnSession, "stagger":
		return true
	}
	return false
}

// window binds TUMBLE(t, size[, offset]), HOP(t, slide, size),
// SESSION(t, gap) or STAGGER(t, size).
func (b *binder) window(call *ast.FuncCallExpr, off int) {
	kind := WindowKind(strings.ToUpper(call.FnName.O))
	if call.FnName.L == fnSession {
		kind = Session
	}
	form := map[WindowKind]string{
		Tumble:  "TUMBLE(t, INTERVAL '1' MINUTE[, offset INTERVAL])",
		Hop:     "HOP(t, slide INTERVAL, size INTERVAL[, offset INTERVAL])",
		Session: "SESSION(t, gap INTERVAL)",
		Stagger: "STAGGER(t, size INTERVAL)",
	}[kind]
	minArgs, maxArgs := 2, 2
	switch kind {
	case Tumble:
		maxArgs = 3
	case Hop:
		minArgs, maxArgs = 3, 4
	}
	if len(call.Args) < minArgs || len(call.Args) > maxArgs {
		b.errorNode(off, "%s takes %s; got %d arguments", kind, form, len(call.Args))
		return
	}
	timeCol := b.q.Input[b.q.TimeColumn].Name
	cl := clause{name: string(kind), aggErr: "aggregates are not allowed in a window call"}
	colOff := childOff(call.Args[0], off)
	procTime := false
	if f, ok := call.Args[0].(*ast.FuncCallExpr); ok && f.FnName.L == "proctime" {
		if len(f.Args) != 0 {
			b.errorNode(colOff, "PROCTIME() takes no arguments")
		}
		procTime = true
	}
	var col expr.Expr
	if !procTime {
		col = b.expr(call.Args[0], off, cl)
	}
	if col != nil {
		if c, ok := col.(*expr.Column); !ok || c.Index != b.q.TimeColumn {
			if b.stream.Watermark == nil {
				b.errorNode(colOff, "%s must be over the stream's time column: stream %s has no WATERMARK, so its time is ROWTIME; write %s(ROWTIME, ...), or declare WATERMARK FOR <col> AS <col> - INTERVAL '5' SECOND in CREATE STREAM %s",
					kind, b.stream.Name, kind, b.stream.Name)
			} else {
				b.errorNode(colOff, "%s must be over the stream's time column %s (its WATERMARK column): write %s(%s, ...)", kind, timeCol, kind, timeCol)
			}
		}
	}
	var ds []time.Duration
	for _, a := range call.Args[1:] {
		aOff := childOff(a, off)
		e := b.expr(a, off, cl)
		if e == nil {
			ds = append(ds, 0)
			continue
		}
		lit, ok := e.(*expr.Literal)
		if !ok || lit.T.Kind != types.Interval || lit.Value == nil {
			b.errorNode(aOff, "%s takes INTERVAL literals: %s", kind, form)
			ds = append(ds, 0)
			continue
		}
		d := time.Duration(lit.Value.(int64)) * time.Millisecond
		if d <= 0 && !(kind == Tumble && len(ds) == 1) && !(kind == Hop && len(ds) == 2) {
			b.errorNode(aOff, "a window's size must be positive, got %v", d)
		}
		ds = append(ds, d)
	}
	w := &Window{Kind: kind, ProcTime: procTime}
	switch kind {
	case Tumble:
		w.Size = ds[0]
		if len(ds) == 2 {
			w.Offset = ds[1]
			if w.Offset < 0 || w.Offset >= w.Size {
				b.errorNode(childOff(call.Args[2], off), "the window offset must be at least 0 and less than the size %v", w.Size)
			}
		}
	case Hop:
		w.Slide, w.Size = ds[0], ds[1]
		if len(ds) == 3 {
			w.Offset = ds[2]
			if w.Offset < 0 || w.Offset >= w.Slide {
				b.errorNode(childOff(call.Args[3], off), "the window offset must be at least 0 and less than the slide %v", w.Slide)
			}
		}
	case Session:
		w.Gap = ds[0]
	case Stagger:
		w.Size = ds[0]
	}
	b.q.Window = w
}

// childOff is the offset of n, or parent when tidb recorded none.
func childOff(n ast.ExprNode, parent int) int {
	if p := n.OriginTextPosition(); p > 0 {
		return p
	}
	return parent
}

// groupName names a group key in AggSchema: the column's name, else key<i>.
func (b *binder) groupName(e expr.Expr) string {
	if c, ok := e.(*expr.Column); ok {
		return c.Name
	}
	return fmt.Sprintf("key%d", len(b.q.GroupNames))
}

// aggregate binds an aggregate call tidb parsed as one (COUNT, SUM, STDDEV, ...).
func (b *binder) aggregate(n *ast.AggregateFuncExpr, off int, cl clause) expr.Expr {
	return b.bindAggregate(n.F, n.Args, n.Distinct, off, cl)
}

// aggFns maps each aggregate's name, as written, to its Aggregate.Fn. tidb
// reads STDDEV and VARIANCE as MySQL's population forms; eddy follows the SQL
// standard (and PostgreSQL, Flink): they are the sample forms.
var aggFns = map[string]string{
	"COUNT": "count", "SUM": "sum", "AVG": "avg", "MIN": "min", "MAX": "max",
	"STDDEV_POP": "stddev_pop", "STDDEV_SAMP": "stddev_samp", "STDDEV": "stddev_samp",
	"VAR_POP": "var_pop", "VAR_SAMP": "var_samp", "VARIANCE": "var_samp",
	"FIRST_VALUE": "first_value", "LAST_VALUE": "last_value",
	"APPROX_COUNT_DISTINCT": "approx_count_distinct", "APPROX_PERCENTILE": "approx_percentile", "TOP_K": "top_k",
}

// aggregateCalls are the aggregates tidb parses as plain function calls (by
// their lower-case or rewritten name), which b.call hands to bindAggregate.
var aggregateCalls = map[string]string{fnFirstValue: "FIRST_VALUE", fnLastValue: "LAST_VALUE", "top_k": "TOP_K"}

// MaxTopK is the largest k TOP_K(x, k) accepts.
const MaxTopK = 1000

// bindAggregate binds an aggregate call in a clause that allows them and
// returns a reference to the query's Aggregate. fn is the parser's name for it;
// the name as written (at off) decides which aggregate it is.
func (b *binder) bindAggregate(fn string, args []ast.ExprNode, distinct bool, off int, cl clause) expr.Expr {
	name := strings.ToUpper(fn)
	if n, ok := aggregateCalls[fn]; ok {
		name = n
	} else if w := b.words[b.m.orig(off)]; w != "" {
		name = w // STDDEV, not tidb's stddev_pop
	}
	switch {
	case cl.inAgg != "":
		b.errorNode(off, "aggregate %s inside aggregate %s: aggregates do not nest", name, cl.inAgg)
		return nil
	case !cl.aggOK:
		msg := cl.aggErr
		if msg == "" {
			msg = fmt.Sprintf("aggregate %s is not allowed in %s: filter groups with HAVING", name, cl.name)
		}
		b.errorNode(off, "%s", msg)
		return nil
	}
	fn, ok := aggFns[name]
	if !ok {
		if name == "STD" {
			b.errorNode(off, "STD is ambiguous (MySQL's population standard deviation): write STDDEV_POP, or STDDEV_SAMP (which STDDEV means in eddy)")
			return nil
		}
		b.errorNode(off, "unknown aggregate %s: eddy has COUNT, SUM, AVG, MIN, MAX, STDDEV_POP, STDDEV_SAMP (STDDEV), VAR_POP, VAR_SAMP (VARIANCE), "+
			"FIRST_VALUE, LAST_VALUE, APPROX_COUNT_DISTINCT, APPROX_PERCENTILE and TOP_K", name)
		return nil
	}
	switch fn {
	case "approx_percentile":
		if len(args) != 2 {
			b.errorNode(off, "APPROX_PERCENTILE takes 2 arguments, a number and the percentile as a literal between 0 and 1 (APPROX_PERCENTILE(x, 0.95)); got %d", len(args))
			return nil
		}
	case "top_k":
		if len(args) != 2 {
			b.errorNode(off, "TOP_K takes 2 arguments, the value and how many of the most frequent to return as a literal (TOP_K(x, 10)); got %d", len(args))
			return nil
		}
	default:
		if len(args) != 1 {
			b.errorNode(off, "%s takes one argument, got %d", name, len(args))
			return nil
		}
	}
	a := Aggregate{Fn: fn, Distinct: distinct}
	switch fn {
	case "min", "max", "first_value", "last_value":
		a.Distinct = false // DISTINCT does not change them
	case "approx_count_distinct", "approx_percentile", "top_k":
		if distinct {
			b.errorNode(off, "DISTINCT is not allowed in %s", name)
			return nil
		}
	}
	argCl := clause{name: cl.name, inAgg: name}
	if lit, ok := args[0].(ast.ValueExpr); ok && fn == "count" && lit.GetValue() != nil && !distinct {
		a.Fn, a.T = "count_star", types.BigIntType // COUNT(*) and COUNT(1)
	} else {
		argOff := childOff(args[0], off)
		arg := b.expr(args[0], off, argCl)
		if arg == nil {
			return nil
		}
		t := arg.Type()
		if t.Kind == types.Null {
			b.errorNode(argOff, "%s(NULL) has no type: CAST the NULL to one", name)
			return nil
		}
		numeric := func() bool {
			if !t.IsNumeric() {
				b.errorNode(argOff, "%s needs a numeric argument (BIGINT, DOUBLE or DECIMAL), got %s: CAST it to a number", name, t)
				return false
			}
			return true
		}
		switch fn {
		case "count":
			a.T = types.BigIntType
		case "sum":
			if !numeric() {
				return nil
			}
			a.T = t
			if t.Kind == types.Decimal {
				a.T = types.DecimalType(types.MaxDecimalPrecision, t.Scale)
			}
		case "avg":
			if !numeric() {
				return nil
			}
			a.T = types.DoubleType
			if t.Kind == types.Decimal {
				a.T = types.DecimalType(types.MaxDecimalPrecision, max(t.Scale, 6))
			}
		case "stddev_pop", "stddev_samp", "var_pop", "var_samp", "approx_percentile":
			if !numeric() {
				return nil
			}
			a.T = types.DoubleType
		case "min", "max":
			if t.Kind == types.JSON || t.Kind == types.Interval {
				b.errorNode(argOff, "%s cannot order %s values: CAST the argument to a comparable type", name, t)
				return nil
			}
			a.T = t
		default: // first_value, last_value, approx_count_distinct, top_k: any column type
			if t.Kind == types.Interval {
				b.errorNode(argOff, "%s cannot take an INTERVAL: it is not a column type (select UNIX_TIMESTAMP(t2) - UNIX_TIMESTAMP(t1) for seconds)", name)
				return nil
			}
			a.T = t
			switch fn {
			case "approx_count_distinct":
				a.T = types.BigIntType
			case "top_k":
				a.T = types.JSONType
			}
		}
		a.Arg = arg
	}
	if len(args) == 2 {
		p, ok := b.aggParam(name, args[1], off, argCl)
		if !ok {
			return nil
		}
		a.Param = p
	}
	for i, prev := range b.q.Aggregates {
		if reflect.DeepEqual(prev, a) {
			return &aggRef{i: i, t: a.T}
		}
	}
	b.q.Aggregates = append(b.q.Aggregates, a)
	return &aggRef{i: len(b.q.Aggregates) - 1, t: a.T}
}

// aggParam binds the literal second argument of APPROX_PERCENTILE (the
// percentile, 0 to 1) or TOP_K (k, 1 to MaxTopK).
func (b *binder) aggParam(name string, raw ast.ExprNode, off int, cl clause) (float64, bool) {
	at := childOff(raw, off)
	e := b.expr(raw, off, cl)
	if e == nil {
		return 0, false
	}
	lit, _ := e.(*expr.Literal)
	if name == "TOP_K" {
		k, ok := int64(0), false
		if lit != nil {
			k, ok = lit.Value.(int64)
		}
		switch {
		case !ok || lit.T.Kind != types.BigInt:
			b.errorNode(at, "TOP_K's second argument is how many values to return, a whole number literal such as 10: TOP_K(x, 10)")
			return 0, false
		case k < 1 || k > MaxTopK:
			b.errorNode(at, "TOP_K returns 1 to %d values, got k = %d", MaxTopK, k)
			return 0, false
		}
		return float64(k), true
	}
	var q float64
	ok := lit != nil && lit.Value != nil
	if ok {
		switch v := lit.Value.(type) {
		case int64:
			q = float64(v)
		case float64:
			q = v
		case decimal128.Num:
			q = v.ToFloat64(lit.T.Scale)
		default:
			ok = false
		}
	}
	switch {
	case !ok:
		b.errorNode(at, "APPROX_PERCENTILE's second argument is the percentile, a number literal between 0 and 1: APPROX_PERCENTILE(x, 0.95)")
		return 0, false
	case !(q >= 0 && q <= 1):
		b.errorNode(at, "APPROX_PERCENTILE's percentile must be between 0 and 1 (0.5 is the median, 0.99 the 99th percentile), got %s", literalText(lit))
		return 0, false
	}
	return q, true
}

// overAggSchema rewrites an expression of an aggregating query's SELECT or
// HAVING over AggSchema: group keys (matched structurally), window bounds and
// aggregates become its columns. A column of the input left over is an error.
func (b *binder) overAggSchema(e expr.Expr) expr.Expr {
	ng := len(b.q.GroupBy)
	ok := true
	var walk func(e expr.Expr) expr.Expr
	walk = func(e expr.Expr) expr.Expr {
		for i, k := range b.q.GroupBy {
			if reflect.DeepEqual(k, e) {
				return &expr.Column{Index: i, Name: b.q.GroupNames[i], T: k.Type()}
			}
		}
		if b.agg.windowKey != nil && reflect.DeepEqual(b.agg.windowKey, e) {
			return &expr.Column{Index: ng, Name: WindowStartColumn, T: types.TimestampType}
		}
		switch x := e.(type) {
		case *windowRef:
			if x.end {
				return &expr.Column{Index: ng + 1, Name: WindowEndColumn, T: types.TimestampType}
			}
			return &expr.Column{Index: ng, Name: WindowStartColumn, T: types.TimestampType}
		case *aggRef:
			return &expr.Column{Index: ng + 2 + x.i, Name: fmt.Sprintf("agg%d", x.i), T: x.t}
		case *stepRef:
			b.errorAt(b.colPos[firstColumn(x.col)], "STEP(...) outside GROUP BY must be the query's window, STEP(%s BY ...) as in GROUP BY", b.q.Input[b.q.TimeColumn].Name)
			ok = false
			return e
		case *expr.Column:
			if ok {
				b.errorAt(b.colPos[x], "column %s must appear in GROUP BY or be used in an aggregate", x.Name)
			}
			ok = false
			return e
		case *expr.Call:
			args := make([]expr.Expr, len(x.Args))
			for i, a := range x.Args {
				args[i] = walk(a)
			}
			return &expr.Call{Fn: x.Fn, Args: args, T: x.T}
		case *expr.Cast:
			return &expr.Cast{X: walk(x.X), T: x.T}
		}
		return e
	}
	out := walk(e)
	if !ok {
		return nil
	}
	return out
}

func firstColumn(e expr.Expr) *expr.Column {
	switch x := e.(type) {
	case *expr.Column:
		return x
	case *expr.Call:
		for _, a := range x.Args {
			if c := firstColumn(a); c != nil {
				return c
			}
		}
	case *expr.Cast:
		return firstColumn(x.X)
	}
	return nil
}
