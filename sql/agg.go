package sql

import (
	"fmt"
	"reflect"
	"strings"
	"time"

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
		Hop:     "HOP(t, slide INTERVAL, size INTERVAL)",
		Session: "SESSION(t, gap INTERVAL)",
		Stagger: "STAGGER(t, size INTERVAL)",
	}[kind]
	minArgs, maxArgs := 2, 2
	switch kind {
	case Tumble:
		maxArgs = 3
	case Hop:
		minArgs, maxArgs = 3, 3
	}
	if len(call.Args) < minArgs || len(call.Args) > maxArgs {
		b.errorNode(off, "%s takes %s; got %d arguments", kind, form, len(call.Args))
		return
	}
	timeCol := b.q.Input[b.q.TimeColumn].Name
	cl := clause{name: string(kind), aggErr: "aggregates are not allowed in a window call"}
	colOff := childOff(call.Args[0], off)
	col := b.expr(call.Args[0], off, cl)
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
		if d <= 0 && !(kind == Tumble && len(ds) == 1) {
			b.errorNode(aOff, "a window's size must be positive, got %v", d)
		}
		ds = append(ds, d)
	}
	w := &Window{Kind: kind}
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

// aggregate binds an aggregate call in a clause that allows them and returns
// a reference to the query's Aggregate.
func (b *binder) aggregate(n *ast.AggregateFuncExpr, off int, cl clause) expr.Expr {
	name := strings.ToUpper(n.F)
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
	fn := strings.ToLower(n.F)
	switch fn {
	case "count", "sum", "avg", "min", "max":
	default:
		b.errorNode(off, "unknown aggregate %s: eddy has COUNT, SUM, AVG, MIN and MAX", name)
		return nil
	}
	if len(n.Args) != 1 {
		b.errorNode(off, "%s takes one argument, got %d", name, len(n.Args))
		return nil
	}
	a := Aggregate{Fn: fn, Distinct: n.Distinct}
	argCl := clause{name: cl.name, inAgg: name}
	if lit, ok := n.Args[0].(ast.ValueExpr); ok && fn == "count" && lit.GetValue() != nil && !n.Distinct {
		a.Fn, a.T = "count_star", types.BigIntType // COUNT(*) and COUNT(1)
	} else {
		argOff := childOff(n.Args[0], off)
		arg := b.expr(n.Args[0], off, argCl)
		if arg == nil {
			return nil
		}
		t := arg.Type()
		if t.Kind == types.Null {
			b.errorNode(argOff, "%s(NULL) has no type: CAST the NULL to one", name)
			return nil
		}
		switch fn {
		case "count":
			a.T = types.BigIntType
		case "sum":
			if !t.IsNumeric() {
				b.errorNode(argOff, "SUM needs a numeric argument (BIGINT, DOUBLE or DECIMAL), got %s: CAST it to a number", t)
				return nil
			}
			a.T = t
			if t.Kind == types.Decimal {
				a.T = types.DecimalType(types.MaxDecimalPrecision, t.Scale)
			}
		case "avg":
			if !t.IsNumeric() {
				b.errorNode(argOff, "AVG needs a numeric argument (BIGINT, DOUBLE or DECIMAL), got %s: CAST it to a number", t)
				return nil
			}
			a.T = types.DoubleType
			if t.Kind == types.Decimal {
				a.T = types.DecimalType(types.MaxDecimalPrecision, max(t.Scale, 6))
			}
		default:
			if t.Kind == types.JSON || t.Kind == types.Interval {
				b.errorNode(argOff, "%s cannot order %s values: CAST the argument to a comparable type", name, t)
				return nil
			}
			a.T = t
		}
		a.Arg = arg
	}
	for i, prev := range b.q.Aggregates {
		if reflect.DeepEqual(prev, a) {
			return &aggRef{i: i, t: a.T}
		}
	}
	b.q.Aggregates = append(b.q.Aggregates, a)
	return &aggRef{i: len(b.q.Aggregates) - 1, t: a.T}
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
