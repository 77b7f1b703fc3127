package sql

import (
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// binder checks one parsed query against the catalog and builds its Query.
// Offsets of tidb's AST nodes are into text (the rewritten statement); m maps
// them back to the statement's code for errors.
type binder struct {
	*stmtCtx
	text   string
	m      offsetMap
	words  map[int]string // upper-cased words of the original statement by start offset
	stream *CreateStream
	alias  string
	q      *Query
	// colPos holds the original offset of every column reference bound, so
	// that errors found after binding can point at it.
	colPos map[*expr.Column]int
	agg    *aggState   // nil unless the query aggregates
	over   *overBinder // the SELECT's OVER windows (bind_over.go)
}

func newBinder(c *stmtCtx, text string, m offsetMap) *binder {
	b := &binder{stmtCtx: c, text: text, m: m, words: map[int]string{}, colPos: map[*expr.Column]int{}}
	for _, t := range c.toks {
		if t.kind == tokWord {
			b.words[t.start] = strings.ToUpper(t.text)
		}
	}
	return b
}

// errorNode records an error at rewritten offset off.
func (b *binder) errorNode(off int, format string, args ...any) {
	b.errorAt(b.m.orig(off), format, args...)
}

// insert binds INSERT INTO sink SELECT ....
func (b *binder) insert(s *ast.InsertStmt) *Insert {
	switch {
	case s.IsReplace:
		b.errorAt(0, "REPLACE is not supported: write INSERT INTO sink SELECT ...")
		return nil
	case s.Select == nil || len(s.Lists) > 0 || s.Setlist:
		b.errorAt(0, "INSERT takes a query: INSERT INTO sink SELECT ... FROM stream (streams are written by their producers, not by VALUES)")
		return nil
	case len(s.Columns) > 0:
		b.errorNode(s.Columns[0].OriginTextPosition(), "a column list after INSERT INTO is not supported: name the output columns with AS in the SELECT")
		return nil
	case len(s.OnDuplicate) > 0 || len(s.PartitionNames) > 0 || s.Priority != 0 || s.IgnoreErr:
		b.errorAt(0, "INSERT options are not supported: write INSERT INTO sink SELECT ...")
		return nil
	}
	tn, ok := singleTable(s.Table)
	if !ok {
		b.errorAt(0, "INSERT INTO takes one sink name")
		return nil
	}
	nameOff := b.tableOffset(tn)
	name := tn.Name.O
	if _, ok := b.cat.Sink(name); !ok {
		if _, isStream := b.cat.Stream(name); isStream {
			b.errorAt(nameOff, "%s is a stream, not a sink: INSERT INTO writes to a sink declared with CREATE SINK %s WITH (connector = ...)", name, name)
		} else {
			b.errorAt(nameOff, "unknown sink %s%s", name, b.known())
		}
		// Check the query anyway, to report its errors too.
	}
	sel, ok := s.Select.(*ast.SelectStmt)
	if !ok {
		b.errorAt(0, "UNION, INTERSECT and EXCEPT are not supported yet: write one query per INSERT INTO the same sink")
		return nil
	}
	q := b.selectStmt(sel)
	if q == nil {
		return nil
	}
	if sk, ok := b.cat.Sink(name); ok {
		name = sk.Name
	}
	return &Insert{Sink: name, Query: q}
}

// singleTable returns the table of a FROM or INTO clause that names exactly one.
func singleTable(r *ast.TableRefsClause) (*ast.TableName, bool) {
	if r == nil || r.TableRefs == nil || r.TableRefs.Right != nil {
		return nil, false
	}
	ts, ok := r.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil, false
	}
	tn, ok := ts.Source.(*ast.TableName)
	return tn, ok
}

// tableOffset finds the offset in the statement code of a table name: tidb
// records none, so it is the first token after FROM/INTO that names it.
func (b *binder) tableOffset(tn *ast.TableName) int {
	for i, t := range b.toks {
		if n, ok := t.name(); ok && strings.EqualFold(n, tn.Name.O) && i > 0 &&
			(b.toks[i-1].is("FROM") || b.toks[i-1].is("INTO") || b.toks[i-1].is(".")) {
			return t.start
		}
	}
	return 0
}

// selectStmt binds a SELECT.
func (b *binder) selectStmt(s *ast.SelectStmt) *Query {
	if !b.supported(s) || !b.from(s) {
		return nil
	}
	b.q = &Query{Source: b.stream.Name, Input: b.stream.Schema(), TimeColumn: b.stream.TimeColumn(), Limit: -1}
	b.overStart(s)
	if s.Where != nil {
		b.q.Where = b.boolExpr(s.Where, clause{name: "WHERE"})
	}
	if s.GroupBy != nil {
		b.groupBy(s.GroupBy)
	} else if s.Having != nil {
		b.errorNode(s.Having.Expr.OriginTextPosition(), "HAVING needs GROUP BY: filter rows with WHERE")
	}
	b.selectList(s.Fields)
	b.overFinish()
	if s.Having != nil && b.agg != nil {
		b.q.Having = b.boolExpr(s.Having.Expr, b.aggClause("HAVING"))
		if b.q.Having != nil {
			b.q.Having = b.overAggSchema(b.q.Having)
		}
	}
	if s.OrderBy != nil {
		b.errorNode(s.OrderBy.Items[0].Expr.OriginTextPosition(),
			"ORDER BY on stream %s never ends sorting an unbounded stream: remove it (windows emit in time order)", b.stream.Name)
	}
	if s.Limit != nil {
		b.limit(s.Limit)
	}
	if b.failed() {
		return nil
	}
	return b.q
}

// supported rejects the SELECT forms eddy does not have yet.
func (b *binder) supported(s *ast.SelectStmt) bool {
	fail := func(msg string) bool { b.errorAt(0, "%s", msg); return false }
	switch {
	case s.With != nil:
		return fail("WITH (common table expressions) is not supported yet: select from a stream directly")
	case s.Distinct:
		return fail("SELECT DISTINCT on a stream is not supported yet: use GROUP BY with a TUMBLE window")
	case s.LockInfo != nil && s.LockInfo.LockType != ast.SelectLockNone, s.SelectIntoOpt != nil:
		return fail("SELECT ... FOR UPDATE / INTO is not supported")
	case s.Kind != ast.SelectStmtKindSelect:
		return fail("only SELECT queries are supported")
	}
	return true
}

// from resolves the FROM clause: exactly one stream.
func (b *binder) from(s *ast.SelectStmt) bool {
	if s.From == nil || s.From.TableRefs == nil {
		b.errorAt(0, "a query reads a stream: add FROM <stream>")
		return false
	}
	j := s.From.TableRefs
	if j.Right != nil {
		b.errorAt(b.joinOffset(), "joins are not supported yet: a query reads one stream")
		return false
	}
	ts, ok := j.Left.(*ast.TableSource)
	if !ok {
		b.errorAt(b.joinOffset(), "joins are not supported yet: a query reads one stream")
		return false
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		b.errorAt(b.joinOffset(), "subqueries in FROM are not supported yet: a query reads one stream by name")
		return false
	}
	off := b.tableOffset(tn)
	if tn.Schema.O != "" {
		b.errorAt(off, "qualified names (%s.%s) are not supported: name the stream alone", tn.Schema.O, tn.Name.O)
		return false
	}
	st, ok := b.cat.Stream(tn.Name.O)
	if !ok {
		if _, isSink := b.cat.Sink(tn.Name.O); isSink {
			b.errorAt(off, "%s is a sink, not a stream: a query reads a stream declared with CREATE STREAM", tn.Name.O)
		} else {
			b.errorAt(off, "unknown stream %s%s", tn.Name.O, b.known())
		}
		return false
	}
	b.stream, b.alias = st, ts.AsName.O
	return true
}

// joinOffset is the offset of the FROM clause's first join or subquery token.
func (b *binder) joinOffset() int {
	from := -1
	for i, t := range b.toks {
		if t.is("FROM") && from < 0 {
			from = i
		}
		if from >= 0 && (t.is("JOIN") || t.is(",") || t.is("(")) {
			return t.start
		}
	}
	if from >= 0 {
		return b.toks[from].start
	}
	return 0
}

// limit binds LIMIT n.
func (b *binder) limit(l *ast.Limit) {
	if l.Offset != nil {
		b.errorAt(b.keyword("OFFSET", "LIMIT"), "LIMIT with an offset is not supported: write LIMIT n")
		return
	}
	v, ok := l.Count.(*test_driver.ValueExpr)
	if !ok {
		b.errorAt(b.keyword("LIMIT", ""), "LIMIT takes a number of rows, e.g. LIMIT 10")
		return
	}
	switch n := v.GetValue().(type) {
	case uint64:
		if n > 1<<62 {
			b.errorAt(b.keyword("LIMIT", ""), "LIMIT %d is too large", n)
			return
		}
		b.q.Limit = int64(n)
	case int64:
		b.q.Limit = n
	default:
		b.errorAt(b.keyword("LIMIT", ""), "LIMIT takes a number of rows, e.g. LIMIT 10")
	}
}

// keyword returns the offset of the last token w (or else alt) of the statement.
func (b *binder) keyword(w, alt string) int {
	for i := len(b.toks) - 1; i >= 0; i-- {
		if b.toks[i].is(w) {
			return b.toks[i].start
		}
	}
	if alt != "" {
		return b.keyword(alt, "")
	}
	return 0
}

// selectList binds the select items and names the output columns.
func (b *binder) selectList(fl *ast.FieldList) {
	cl := clause{name: "SELECT", aggErr: b.noGroupAgg()}
	if b.agg != nil {
		cl = b.aggClause("SELECT")
	}
	seen := map[string]bool{}
	add := func(e expr.Expr, name string, off int) {
		if seen[strings.ToLower(name)] {
			b.errorAt(off, "duplicate output column %s: rename one with AS", name)
		}
		seen[strings.ToLower(name)] = true
		b.q.Select = append(b.q.Select, e)
		b.q.Output = append(b.q.Output, types.Column{Name: name, Type: e.Type()})
	}
	for _, f := range fl.Fields {
		off := b.m.orig(f.Offset)
		if f.WildCard != nil {
			if b.agg != nil {
				b.errorAt(off, "SELECT * is not allowed in an aggregating query: list the GROUP BY columns and aggregates")
				continue
			}
			if t := f.WildCard.Table.O; t != "" && !b.qualifierOK(t) {
				b.errorAt(off, "unknown stream %s in %s.*: the query reads %s", t, t, b.stream.Name)
				continue
			}
			for i, c := range b.stream.Columns {
				add(&expr.Column{Index: i, Name: c.Name, T: c.Type}, c.Name, off)
			}
			continue
		}
		e := b.expr(f.Expr, f.Offset, cl)
		if e == nil {
			continue
		}
		if b.agg != nil {
			if e = b.overAggSchema(e); e == nil {
				continue
			}
		}
		if e.Type().Kind == types.Null {
			b.errorAt(off, "NULL needs a type here: write CAST(NULL AS VARCHAR) (or another type)")
			continue
		}
		if e.Type().Kind == types.Interval {
			b.errorAt(off, "an INTERVAL is not a column type: compare it (ts2 - ts1 > INTERVAL '5' SECOND), or select UNIX_TIMESTAMP(ts2) - UNIX_TIMESTAMP(ts1) for seconds")
			continue
		}
		add(e, b.outputName(f), off)
	}
}

// outputName is the alias, else the column name of a bare column, else the
// original text of the item.
func (b *binder) outputName(f *ast.SelectField) string {
	if f.AsName.O != "" {
		return f.AsName.O
	}
	if c, ok := unparen(f.Expr).(*ast.ColumnNameExpr); ok {
		if i := b.q.Input.Index(c.Name.Name.O); i >= 0 {
			return b.q.Input[i].Name
		}
		return c.Name.Name.O
	}
	start := b.m.orig(f.Offset)
	end := b.m.origEnd(f.Offset + len(f.Text()))
	if end <= start || end > len(b.raw.code) {
		return f.Text()
	}
	return strings.Join(strings.Fields(b.raw.code[start:end]), " ")
}

func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// qualifierOK says whether t names the query's stream (or its alias).
func (b *binder) qualifierOK(t string) bool {
	if b.alias != "" {
		return strings.EqualFold(t, b.alias)
	}
	return strings.EqualFold(t, b.stream.Name)
}

// noGroupAgg is the error for an aggregate in a query without GROUP BY.
func (b *binder) noGroupAgg() string {
	return fmt.Sprintf("an aggregate over stream %s without a window never emits: add GROUP BY TUMBLE(%s, INTERVAL '1' MINUTE)",
		b.stream.Name, b.q.Input[b.q.TimeColumn].Name)
}
