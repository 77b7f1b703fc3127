package sql

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// overBinder binds the OVER windows of one SELECT: the named windows of its
// WINDOW clause and the window functions of its select list.
type overBinder struct {
	defs   map[string]*ast.WindowSpec // WINDOW name AS (...), by lower-case name
	order  []string                   // names in WINDOW clause order
	named  map[string]*overWindow     // bound named windows
	inFunc string                     // the window function whose arguments are being bound
	spec   *OverSpec                  // nil until the first window function
	partAt int                        // original offset of the window that set spec.PartitionBy
}

// overWindow is a bound window specification.
type overWindow struct {
	name      string
	anchor    int // original offset errors about the window point at
	partition []expr.Expr
	hasPart   bool
	ordered   bool
	frame     *ast.FrameClause
	frameAt   int // original offset of the frame's ROWS or RANGE
	ok        bool
}

// overRef is window function i of the query while binding; overFinish
// replaces it with a column of OverSchema.
type overRef struct {
	i int
	t types.Type
}

func (o *overRef) Type() types.Type { return o.t }
func (o *overRef) String() string   { return OverColumnName(o.i) }

// overStart readies the binding of window functions: the WINDOW clause's
// named windows are bound when first used (and at overFinish if unused).
func (b *binder) overStart(s *ast.SelectStmt) {
	b.over = &overBinder{defs: map[string]*ast.WindowSpec{}, named: map[string]*overWindow{}}
	for i := range s.WindowSpecs {
		ws := &s.WindowSpecs[i]
		key := ws.Name.L
		if _, dup := b.over.defs[key]; dup {
			b.errorAt(b.windowNameAt(ws.Name.O), "window %s is defined twice in the WINDOW clause", ws.Name.O)
			continue
		}
		b.over.defs[key] = ws
		b.over.order = append(b.over.order, key)
	}
}

// overFinish checks the named windows no function used and rewrites the
// select list over OverSchema.
func (b *binder) overFinish() {
	o := b.over
	for _, name := range o.order {
		b.namedWindow(name, nil)
	}
	if o.spec == nil || b.failed() {
		return
	}
	b.q.Over = o.spec
	n := len(b.q.Input)
	var walk func(e expr.Expr) expr.Expr
	walk = func(e expr.Expr) expr.Expr {
		switch x := e.(type) {
		case *overRef:
			return &expr.Column{Index: n + x.i, Name: OverColumnName(x.i), T: x.t}
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
	for i, e := range b.q.Select {
		b.q.Select[i] = walk(e)
	}
}

// windowNameAt is the original offset of the definition of window name in
// the WINDOW clause.
func (b *binder) windowNameAt(name string) int {
	seen := false
	for i, t := range b.toks {
		if t.is("WINDOW") {
			seen = true
		}
		if n, ok := t.name(); seen && ok && strings.EqualFold(n, name) && i+1 < len(b.toks) && b.toks[i+1].is("AS") {
			return t.start
		}
	}
	return b.keyword("WINDOW", "")
}

// tokenFrom is the original offset of the first token at or after from that
// is one of words, or from when there is none before the statement ends.
func (b *binder) tokenFrom(from int, words ...string) int {
	for _, t := range b.toks {
		if t.start < from {
			continue
		}
		for _, w := range words {
			if t.is(w) {
				return t.start
			}
		}
	}
	return from
}

// namedWindow binds the window called name (lower case) of the WINDOW
// clause; via lists the names being resolved, to catch cycles.
func (b *binder) namedWindow(name string, via []string) *overWindow {
	o := b.over
	if w, ok := o.named[name]; ok {
		return w
	}
	ws := o.defs[name]
	if ws == nil {
		return nil
	}
	for _, v := range via {
		if v == name {
			b.errorAt(b.windowNameAt(ws.Name.O), "window %s refers to itself (through %s)", ws.Name.O, strings.Join(via, " -> "))
			w := &overWindow{name: ws.Name.O}
			o.named[name] = w
			return w
		}
	}
	w := b.bindWindowSpec(ws, b.windowNameAt(ws.Name.O), append(via, name))
	w.name = ws.Name.O
	o.named[name] = w
	return w
}

// windowRef returns the named window a specification refers to, reporting
// an unknown name at anchor.
func (b *binder) windowRef(name string, anchor int, via []string) *overWindow {
	if w := b.namedWindow(strings.ToLower(name), via); w != nil {
		return w
	}
	known := "the query's WINDOW clause defines none"
	if len(b.over.order) > 0 {
		names := make([]string, len(b.over.order))
		for i, n := range b.over.order {
			names[i] = b.over.defs[n].Name.O
		}
		sort.Strings(names)
		known = "defined: " + strings.Join(names, ", ")
	}
	b.errorAt(b.tokenFrom(anchor, name), "unknown window %s (%s): define it with WINDOW %s AS (PARTITION BY ... RANGE INTERVAL '1' MINUTE PRECEDING) after WHERE", name, known, name)
	return nil
}

// bindWindowSpec binds a window specification (inline after OVER, or in the
// WINDOW clause); anchor is where errors about it point.
func (b *binder) bindWindowSpec(ws *ast.WindowSpec, anchor int, via []string) *overWindow {
	if ws.OnlyAlias && ws.Name.O != "" {
		w := b.windowRef(ws.Name.O, anchor, via)
		if w == nil {
			return &overWindow{anchor: anchor}
		}
		return w
	}
	w := &overWindow{anchor: anchor, ok: true}
	if ws.Ref.O != "" {
		base := b.windowRef(ws.Ref.O, anchor, via)
		if base == nil {
			return &overWindow{anchor: anchor}
		}
		*w = *base
		w.anchor, w.name = anchor, ""
		if ws.PartitionBy != nil && base.hasPart {
			b.errorAt(b.tokenFrom(anchor, "PARTITION"), "window %s already has a PARTITION BY: (%s ...) may only add an ORDER BY or a frame", ws.Ref.O, ws.Ref.O)
			w.ok = false
		}
		if ws.OrderBy != nil && base.ordered {
			b.errorAt(b.tokenFrom(anchor, "ORDER"), "window %s already has an ORDER BY: (%s ...) may only add what it lacks", ws.Ref.O, ws.Ref.O)
			w.ok = false
		}
		if ws.Frame != nil && base.frame != nil {
			b.errorAt(b.tokenFrom(anchor, "ROWS", "RANGE"), "window %s already has a frame: (%s ...) may only add what it lacks", ws.Ref.O, ws.Ref.O)
			w.ok = false
		}
	}
	if ws.PartitionBy != nil {
		w.hasPart = true
		w.partition = nil
		for _, item := range ws.PartitionBy.Items {
			off := childOff(item.Expr, 0)
			e := b.expr(item.Expr, off, clause{name: "PARTITION BY", aggErr: "aggregates are not allowed in PARTITION BY: partition by columns or expressions over them"})
			if e == nil {
				w.ok = false
				continue
			}
			switch e.Type().Kind {
			case types.Null:
				b.errorNode(off, "PARTITION BY NULL puts every row in one partition: remove it, or CAST it to a type")
				w.ok = false
				continue
			case types.Interval:
				b.errorNode(off, "PARTITION BY cannot take an INTERVAL: it is not a column type")
				w.ok = false
				continue
			}
			dup := false
			for _, k := range w.partition {
				dup = dup || reflect.DeepEqual(k, e)
			}
			if !dup {
				w.partition = append(w.partition, e)
			}
		}
	}
	if ws.OrderBy != nil {
		w.ordered = true
		if !b.overOrder(ws.OrderBy) {
			w.ok = false
		}
	}
	if ws.Frame != nil {
		w.frame = ws.Frame
		w.frameAt = b.tokenFrom(anchor, "ROWS", "RANGE")
	}
	return w
}

// overOrder checks a window's ORDER BY: the stream's time column, ascending.
func (b *binder) overOrder(ob *ast.OrderByClause) bool {
	timeName := b.q.Input[b.q.TimeColumn].Name
	for i, item := range ob.Items {
		off := childOff(item.Expr, 0)
		if i > 0 {
			b.errorNode(off, "an OVER window orders by the stream's time column alone: ORDER BY %s", timeName)
			return false
		}
		e := b.expr(item.Expr, off, clause{name: "ORDER BY", aggErr: "aggregates are not allowed in a window's ORDER BY"})
		if e == nil {
			return false
		}
		if c, ok := e.(*expr.Column); !ok || c.Index != b.q.TimeColumn {
			if b.stream.Watermark == nil {
				b.errorNode(off, "an OVER window must be ordered by the stream's time column: stream %s has no WATERMARK, so its time is ROWTIME; write ORDER BY ROWTIME (or leave ORDER BY out), or declare WATERMARK FOR <col> AS <col> - INTERVAL '5' SECOND in CREATE STREAM %s",
					b.stream.Name, b.stream.Name)
			} else {
				b.errorNode(off, "an OVER window must be ordered by the stream's time column %s (its WATERMARK column): write ORDER BY %s (or leave ORDER BY out)", timeName, timeName)
			}
			return false
		}
		if item.Desc {
			b.errorNode(off, "an OVER window runs forward in time: ORDER BY %s DESC is not possible on a stream; write ORDER BY %s", timeName, timeName)
			return false
		}
	}
	return true
}

// windowFunc binds fn(...) OVER window in the select list.
func (b *binder) windowFunc(x *ast.WindowFuncExpr, off int, cl clause) expr.Expr {
	o := b.over
	at := b.m.orig(off)
	name := strings.ToUpper(x.Name)
	if w := b.words[at]; w != "" {
		name = w
	}
	switch {
	case o == nil:
		b.errorNode(off, "window functions (%s OVER ...) are only allowed in SELECT", name)
		return nil
	case o.inFunc != "":
		b.errorNode(off, "window function %s inside %s: window functions do not nest", name, o.inFunc)
		return nil
	case cl.inAgg != "":
		b.errorNode(off, "window function %s inside aggregate %s: window functions do not nest in aggregates", name, cl.inAgg)
		return nil
	case b.agg != nil:
		b.errorNode(off, "%s OVER (...) cannot be combined with GROUP BY: a query either aggregates windows (GROUP BY) or computes OVER windows row by row; use two queries", name)
		return nil
	case cl.name != "SELECT":
		b.errorNode(off, "window functions (%s OVER ...) are only allowed in SELECT, not in %s: they are computed after WHERE", name, cl.name)
		return nil
	case x.IgnoreNull:
		b.errorNode(off, "%s ... IGNORE NULLS is not supported: the default, RESPECT NULLS, is what eddy computes", name)
		return nil
	case x.FromLast:
		b.errorNode(off, "%s ... FROM LAST is not supported", name)
		return nil
	}
	w := b.bindWindowSpec(&x.Spec, b.tokenFrom(at, "OVER"), nil)
	if !w.ok {
		return nil
	}
	frame, ok := b.overFrame(w)
	if !ok {
		return nil
	}
	var f OverFunc
	lname := strings.ToLower(x.Name)
	switch lname {
	case "row_number":
		if len(x.Args) != 0 {
			b.errorNode(off, "ROW_NUMBER takes no arguments: ROW_NUMBER() OVER (PARTITION BY ...)")
			return nil
		}
		f = OverFunc{Fn: "row_number", T: types.BigIntType} // a row's number in its partition does not depend on a frame
	case "lag", "lead":
		g, ok := b.lagLead(x, name, off, frame)
		if !ok {
			return nil
		}
		f = g
	case "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "nth_value":
		b.errorNode(off, "%s is not supported over a stream: eddy has ROW_NUMBER, LAG, LEAD and the aggregates COUNT, SUM, AVG, MIN, MAX, STDDEV_POP, STDDEV_SAMP, VAR_POP, VAR_SAMP, FIRST_VALUE and LAST_VALUE with OVER", name)
		return nil
	default:
		g, ok := b.overAggregate(x, name, off, frame, w)
		if !ok {
			return nil
		}
		f = g
	}
	if !b.overPartition(w, at) {
		return nil
	}
	o.spec.Funcs = append(o.spec.Funcs, f)
	return &overRef{i: len(o.spec.Funcs) - 1, t: f.T}
}

// overPartition makes w's PARTITION BY the query's, or checks that it is the
// same as the other window functions'.
func (b *binder) overPartition(w *overWindow, at int) bool {
	o := b.over
	if o.spec == nil {
		o.spec = &OverSpec{PartitionBy: w.partition}
		o.partAt = at
		for i, e := range w.partition {
			name := fmt.Sprintf("key%d", i)
			if c, ok := e.(*expr.Column); ok {
				name = c.Name
			}
			o.spec.PartitionNames = append(o.spec.PartitionNames, name)
		}
		return true
	}
	if reflect.DeepEqual(o.spec.PartitionBy, w.partition) || (len(o.spec.PartitionBy) == 0 && len(w.partition) == 0) {
		return true
	}
	render := func(es []expr.Expr) string {
		if len(es) == 0 {
			return "no PARTITION BY"
		}
		s := make([]string, len(es))
		for i, e := range es {
			s[i] = e.String()
		}
		return "PARTITION BY " + strings.Join(s, ", ")
	}
	b.errorAt(w.anchor, "every OVER window of a query must have the same PARTITION BY: this one has %s, an earlier one %s; compute the others in another query",
		render(w.partition), render(o.spec.PartitionBy))
	return false
}

// overFrame converts a window's frame clause.
func (b *binder) overFrame(w *overWindow) (Frame, bool) {
	fc := w.frame
	if fc == nil {
		return Frame{}, true
	}
	at := w.frameAt
	f := Frame{Kind: FrameRows}
	if fc.Type == ast.Ranges {
		f.Kind = FrameRange
	} else if fc.Type != ast.Rows {
		b.errorAt(at, "GROUPS frames are not supported: use ROWS n PRECEDING or RANGE INTERVAL '1' MINUTE PRECEDING")
		return f, false
	}
	start, end := fc.Extent.Start, fc.Extent.End
	for _, bd := range []ast.FrameBound{start, end} {
		if bd.UnBounded {
			b.errorAt(b.tokenFrom(at, "UNBOUNDED"), "an UNBOUNDED frame never stops growing on a stream (its state would hold every row of the partition forever): bound it, e.g. RANGE INTERVAL '1' HOUR PRECEDING or ROWS 1000 PRECEDING")
			return f, false
		}
	}
	switch {
	case start.Type == ast.Following:
		b.errorAt(at, "a frame starts at or before the current row: write ROWS BETWEEN CURRENT ROW AND n FOLLOWING")
		return f, false
	case end.Type == ast.Preceding:
		b.errorAt(at, "a frame that ends before the current row is not supported: it ends at the current row (n PRECEDING) or after it (BETWEEN CURRENT ROW AND n FOLLOWING, for LEAD)")
		return f, false
	}
	var ok bool
	if start.Type == ast.Preceding {
		if f.Preceding, ok = b.frameBound(f.Kind, start, at); !ok {
			return f, false
		}
	}
	if end.Type == ast.Following {
		if f.Following, ok = b.frameBound(f.Kind, end, at); !ok {
			return f, false
		}
	}
	return f, true
}

// frameBound reads n of a ROWS bound or the interval of a RANGE bound.
func (b *binder) frameBound(kind FrameKind, bd ast.FrameBound, at int) (int64, bool) {
	if kind == FrameRows {
		v, ok := bd.Expr.(*test_driver.ValueExpr)
		var n int64
		if ok {
			switch x := v.GetValue().(type) {
			case int64:
				n = x
			case uint64:
				n = int64(min(x, uint64(MaxOverRows)+1))
			default:
				ok = false
			}
		}
		switch {
		case !ok || bd.Unit != ast.TimeUnitInvalid:
			b.errorAt(at, "ROWS counts rows: write ROWS 10 PRECEDING (RANGE INTERVAL '1' MINUTE PRECEDING measures time)")
			return 0, false
		case n < 0 || n > MaxOverRows:
			b.errorAt(at, "a ROWS frame holds 0 to %d rows before or after the current row, got %d", MaxOverRows, n)
			return 0, false
		}
		return n, true
	}
	call, ok := bd.Expr.(*ast.FuncCallExpr)
	if !ok || call.FnName.L != fnInterval || bd.Unit != ast.TimeUnitMicrosecond {
		b.errorAt(at, "RANGE over the time column takes an INTERVAL literal: write RANGE INTERVAL '1' MINUTE PRECEDING (ROWS 10 PRECEDING counts rows)")
		return 0, false
	}
	e := b.expr(call, childOff(call, 0), clause{name: "RANGE"})
	if e == nil {
		return 0, false
	}
	lit, ok := e.(*expr.Literal)
	if !ok || lit.Value == nil {
		b.errorAt(at, "RANGE takes an INTERVAL literal: RANGE INTERVAL '1' MINUTE PRECEDING")
		return 0, false
	}
	ms := lit.Value.(int64)
	if ms < 0 {
		b.errorAt(at, "a RANGE frame's interval must not be negative")
		return 0, false
	}
	return ms, true
}

// lagLead binds LAG(x[, offset[, default]]) or LEAD(...).
func (b *binder) lagLead(x *ast.WindowFuncExpr, name string, off int, frame Frame) (OverFunc, bool) {
	lead := strings.EqualFold(x.Name, "lead")
	f := OverFunc{Fn: strings.ToLower(x.Name), Offset: 1, Frame: frame}
	if len(x.Args) < 1 || len(x.Args) > 3 {
		b.errorNode(off, "%s takes 1 to 3 arguments, (value[, offset[, default]]), got %d", name, len(x.Args))
		return f, false
	}
	b.over.inFunc = name
	defer func() { b.over.inFunc = "" }()
	cl := clause{name: name, aggErr: fmt.Sprintf("aggregates are not allowed inside %s: compute them in another query", name)}
	arg := b.expr(x.Args[0], off, cl)
	if arg == nil {
		return f, false
	}
	if len(x.Args) >= 2 {
		at := childOff(x.Args[1], off)
		e := b.expr(x.Args[1], off, cl)
		if e == nil {
			return f, false
		}
		lit, ok := e.(*expr.Literal)
		if !ok || lit.T.Kind != types.BigInt || lit.Value == nil {
			b.errorNode(at, "%s's offset is a whole number literal (how many rows %s): %s(x, 2)", name, pick(lead, "ahead", "back"), name)
			return f, false
		}
		f.Offset = lit.Value.(int64)
		if f.Offset < 0 || f.Offset > MaxOverOffset {
			b.errorNode(at, "%s's offset must be 0 to %d rows, got %d", name, MaxOverOffset, f.Offset)
			return f, false
		}
	}
	var def expr.Expr
	if len(x.Args) == 3 {
		if def = b.expr(x.Args[2], off, cl); def == nil {
			return f, false
		}
		var ok bool
		if arg, def, ok = b.unify(name+" the value", childOff(x.Args[2], off), arg, def); !ok {
			return f, false
		}
		if lit, isLit := def.(*expr.Literal); isLit && lit.Value == nil {
			def = nil // NULL is the default default
		}
	}
	argAt := childOff(x.Args[0], off)
	switch arg.Type().Kind {
	case types.Null:
		b.errorNode(argAt, "%s(NULL) has no type: CAST the NULL to one", name)
		return f, false
	case types.Interval:
		b.errorNode(argAt, "%s cannot take an INTERVAL: it is not a column type", name)
		return f, false
	}
	f.Arg, f.Default, f.T = arg, def, arg.Type()
	if f.Offset > 0 && frame.Kind != FrameNone {
		reach := frame.Preceding
		if lead {
			reach = frame.Following
		}
		if reach == 0 || (frame.Kind == FrameRows && reach < f.Offset) {
			dir, form := "back", fmt.Sprintf("ROWS %d PRECEDING", f.Offset)
			if lead {
				dir, form = "ahead", fmt.Sprintf("ROWS BETWEEN CURRENT ROW AND %d FOLLOWING", f.Offset)
			}
			if frame.Kind == FrameRange {
				form = pick(lead, "RANGE BETWEEN CURRENT ROW AND INTERVAL '1' MINUTE FOLLOWING", "RANGE INTERVAL '1' MINUTE PRECEDING")
			}
			b.errorNode(off, "%s(x, %d) reads the row %d %s, outside the frame (%s) of its window, so it would always give the default: give %s a window without a frame, or with %s",
				name, f.Offset, f.Offset, dir, frame, name, form)
			return f, false
		}
	}
	return f, true
}

// overAggregates are the aggregates computed over OVER frames.
var overAggregates = map[string]bool{
	"count": true, "count_star": true, "sum": true, "avg": true, "min": true, "max": true,
	"stddev_pop": true, "stddev_samp": true, "var_pop": true, "var_samp": true, "first_value": true, "last_value": true,
}

// overAggregate binds AGG(x) OVER window with the aggregate binder of GROUP BY.
func (b *binder) overAggregate(x *ast.WindowFuncExpr, name string, off int, frame Frame, w *overWindow) (OverFunc, bool) {
	if x.Distinct {
		b.errorNode(off, "%s(DISTINCT ...) OVER (...) is not supported: a sliding frame would keep every value's count", name)
		return OverFunc{}, false
	}
	saved := b.q.Aggregates
	b.q.Aggregates = nil
	b.over.inFunc = name
	e := b.aggregate(&ast.AggregateFuncExpr{F: x.Name, Args: x.Args}, off, clause{name: "OVER", aggOK: true})
	b.over.inFunc = ""
	var a Aggregate
	ref, ok := e.(*aggRef)
	if ok && ref.i < len(b.q.Aggregates) {
		a = b.q.Aggregates[ref.i]
	}
	b.q.Aggregates = saved
	if !ok {
		return OverFunc{}, false
	}
	if !overAggregates[a.Fn] {
		b.errorNode(off, "%s is not supported with OVER: eddy has COUNT, SUM, AVG, MIN, MAX, STDDEV_POP, STDDEV_SAMP, VAR_POP, VAR_SAMP, FIRST_VALUE and LAST_VALUE over frames", name)
		return OverFunc{}, false
	}
	switch {
	case frame.Kind == FrameNone:
		b.errorAt(w.anchor, "%s OVER a window without a frame would aggregate every earlier row of the partition, a state that never stops growing on a stream: add a bounded frame, RANGE INTERVAL '1' MINUTE PRECEDING or ROWS 10 PRECEDING", name)
		return OverFunc{}, false
	case frame.Following > 0:
		b.errorAt(w.frameAt, "an aggregate's frame ends at the current row: FOLLOWING frames are for LEAD (write RANGE INTERVAL '1' MINUTE PRECEDING)")
		return OverFunc{}, false
	}
	return OverFunc{Fn: a.Fn, Agg: a, Arg: a.Arg, Frame: frame, T: a.T}, true
}
