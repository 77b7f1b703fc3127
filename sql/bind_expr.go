package sql

import (
	"math"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// expr binds one expression. parent is the offset to report when tidb
// recorded none for n. It returns nil after recording an error.
func (b *binder) expr(n ast.ExprNode, parent int, cl clause) expr.Expr {
	off := childOff(n, parent)
	switch x := n.(type) {
	case *ast.ParenthesesExpr:
		return b.expr(x.Expr, off, cl)
	case *ast.ColumnNameExpr:
		return b.column(x, off, cl)
	case *test_driver.ValueExpr:
		return b.literal(x, off)
	case *ast.BinaryOperationExpr:
		return b.binary(x, off, cl)
	case *ast.UnaryOperationExpr:
		return b.unary(x, off, cl)
	case *ast.IsNullExpr:
		e := b.expr(x.Expr, off, cl)
		if e == nil {
			return nil
		}
		return &expr.Call{Fn: pick(x.Not, "is_not_null", "is_null"), Args: []expr.Expr{e}, T: types.BooleanType}
	case *ast.IsTruthExpr:
		e := b.boolArg(x.Expr, off, cl, "IS TRUE")
		if e == nil {
			return nil
		}
		c := &expr.Call{Fn: pick(x.True != 0, "is_true", "is_false"), Args: []expr.Expr{e}, T: types.BooleanType}
		return not(c, x.Not)
	case *ast.PatternInExpr:
		return b.in(x, off, cl)
	case *ast.BetweenExpr:
		return b.between(x, off, cl)
	case *ast.PatternLikeOrIlikeExpr:
		return b.like(x, off, cl)
	case *ast.PatternRegexpExpr:
		s := b.strArg(x.Expr, off, cl, "REGEXP")
		p := b.pattern(x.Pattern, off, cl, "REGEXP")
		if s == nil || p == nil {
			return nil
		}
		return not(&expr.Call{Fn: "regexp", Args: []expr.Expr{s, p}, T: types.BooleanType}, x.Not)
	case *ast.CaseExpr:
		return b.caseExpr(x, off, cl)
	case *ast.FuncCallExpr:
		return b.call(x, off, cl)
	case *ast.AggregateFuncExpr:
		return b.aggregate(x, off, cl)
	case *ast.FuncCastExpr:
		b.errorNode(off, "this conversion is not supported: write CAST(x AS type) with an eddy type (BOOLEAN, BIGINT, DOUBLE, DECIMAL(p,s), VARCHAR, TIMESTAMP, JSON)")
	case *ast.WindowFuncExpr:
		return b.windowFunc(x, off, cl)
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
		b.errorNode(off, "subqueries are not supported yet")
	case *ast.RowExpr:
		b.errorNode(off, "row values (a, b) are not supported")
	case ast.ParamMarkerExpr:
		b.errorNode(off, "parameters (?) are not supported: write the value")
	case *ast.VariableExpr:
		b.errorNode(off, "variables (@x) are not supported")
	case *ast.DefaultExpr:
		b.errorNode(off, "DEFAULT is not supported here")
	default:
		b.errorNode(off, "this expression is not supported")
	}
	return nil
}

func pick(c bool, yes, no string) string {
	if c {
		return yes
	}
	return no
}

// not wraps c in not() when neg.
func not(c expr.Expr, neg bool) expr.Expr {
	if !neg {
		return c
	}
	return &expr.Call{Fn: "not", Args: []expr.Expr{c}, T: types.BooleanType}
}

// column resolves a column reference (or window_start / window_end).
func (b *binder) column(x *ast.ColumnNameExpr, off int, cl clause) expr.Expr {
	n := x.Name
	orig := b.m.orig(off)
	if n.Schema.O != "" {
		b.errorAt(orig, "qualified names (%s.%s.%s) are not supported: write %s.%s", n.Schema.O, n.Table.O, n.Name.O, n.Table.O, n.Name.O)
		return nil
	}
	if t := n.Table.O; t != "" && !b.qualifierOK(t) {
		hint := b.stream.Name
		if b.alias != "" {
			hint = b.alias
		}
		b.errorAt(orig, "unknown stream %s in %s.%s: the query reads %s (write %s.%s or %s)", t, t, n.Name.O, b.stream.Name, hint, n.Name.O, n.Name.O)
		return nil
	}
	if i := b.q.Input.Index(n.Name.O); i >= 0 {
		c := &expr.Column{Index: i, Name: b.q.Input[i].Name, T: b.q.Input[i].Type}
		b.colPos[c] = orig
		return c
	}
	for _, w := range []string{WindowStartColumn, WindowEndColumn} {
		if !strings.EqualFold(n.Name.O, w) {
			continue
		}
		if !cl.aggOK || cl.inAgg != "" {
			b.errorAt(orig, "%s is only defined in the SELECT and HAVING of a query with GROUP BY TUMBLE(...) (outside aggregates)", w)
			return nil
		}
		return &windowRef{end: w == WindowEndColumn}
	}
	var names []string
	for _, c := range b.q.Input {
		names = append(names, c.Name)
	}
	b.errorAt(orig, "unknown column %s in stream %s (columns: %s)", n.Name.O, b.stream.Name, strings.Join(names, ", "))
	return nil
}

// literal binds a constant. Integers are BIGINT, numbers with a point
// DECIMAL, numbers with an exponent DOUBLE, TRUE and FALSE BOOLEAN.
func (b *binder) literal(x *test_driver.ValueExpr, off int) expr.Expr {
	orig := b.m.orig(off)
	switch v := x.GetValue().(type) {
	case nil:
		return &expr.Literal{T: types.NullType}
	case int64:
		switch b.words[orig] {
		case "TRUE":
			return &expr.Literal{Value: true, T: types.BooleanType}
		case "FALSE":
			return &expr.Literal{Value: false, T: types.BooleanType}
		}
		return &expr.Literal{Value: v, T: types.BigIntType}
	case uint64:
		if v > math.MaxInt64 {
			b.errorAt(orig, "integer %d is out of the BIGINT range: write it as a DOUBLE (e.g. %de0)", v, v)
			return nil
		}
		return &expr.Literal{Value: int64(v), T: types.BigIntType}
	case float64:
		return &expr.Literal{Value: v, T: types.DoubleType}
	case string:
		return &expr.Literal{Value: v, T: types.VarcharType}
	case *test_driver.MyDecimal:
		s := v.String()
		digits := strings.TrimLeft(strings.ReplaceAll(strings.TrimPrefix(s, "-"), ".", ""), "0")
		scale := 0
		if i := strings.IndexByte(s, '.'); i >= 0 {
			scale = len(s) - i - 1
		}
		prec := max(len(digits), scale, 1)
		if prec > types.MaxDecimalPrecision {
			b.errorAt(orig, "the number %s has more than %d digits: write it as a DOUBLE (e.g. %se0)", s, types.MaxDecimalPrecision, s)
			return nil
		}
		n, err := decimal128.FromString(s, int32(prec), int32(scale))
		if err != nil {
			b.errorAt(orig, "bad number %s: %v", s, err)
			return nil
		}
		return &expr.Literal{Value: n, T: types.DecimalType(int32(prec), int32(scale))}
	}
	b.errorAt(orig, "this literal is not supported: eddy has numbers, 'strings', TRUE, FALSE, NULL, TIMESTAMP '...' and INTERVAL '...' UNIT")
	return nil
}

// typeName names a type for messages.
func typeName(t types.Type) string { return t.String() }

// unify converts a and b to their common type, or reports a type mismatch for
// what (e.g. "compare", "=") at off. A VARCHAR literal meeting a TIMESTAMP is
// read as a timestamp.
func (b *binder) unify(what string, off int, a, c expr.Expr) (expr.Expr, expr.Expr, bool) {
	var ok bool
	if a, ok = b.tsLiteral(a, c, off); !ok {
		return nil, nil, false
	}
	if c, ok = b.tsLiteral(c, a, off); !ok {
		return nil, nil, false
	}
	t, ok := commonType(a.Type(), c.Type())
	if !ok {
		b.errorNode(off, "cannot %s %s with %s: CAST one side to the other's type, e.g. CAST(x AS %s)",
			what, typeName(a.Type()), typeName(c.Type()), typeName(a.Type()))
		return nil, nil, false
	}
	return castTo(a, t), castTo(c, t), true
}

// tsLiteral reads e as a timestamp when it is a VARCHAR literal and other is
// a TIMESTAMP.
func (b *binder) tsLiteral(e, other expr.Expr, off int) (expr.Expr, bool) {
	lit, ok := e.(*expr.Literal)
	if !ok || lit.T.Kind != types.Varchar || other.Type().Kind != types.Timestamp || lit.Value == nil {
		return e, true
	}
	ms, err := parseTimestamp(lit.Value.(string))
	if err != nil {
		b.errorNode(off, "comparing with a TIMESTAMP: %v", err)
		return nil, false
	}
	return &expr.Literal{Value: ms, T: types.TimestampType}, true
}

var comparisons = map[opcode.Op]string{opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">="}

// binary binds a binary operator.
func (b *binder) binary(x *ast.BinaryOperationExpr, off int, cl clause) expr.Expr {
	if x.Op == opcode.LogicAnd || x.Op == opcode.LogicOr {
		name := pick(x.Op == opcode.LogicAnd, "AND", "OR")
		l := b.boolArg(x.L, off, cl, name)
		r := b.boolArg(x.R, off, cl, name)
		if l == nil || r == nil {
			return nil
		}
		return &expr.Call{Fn: strings.ToLower(name), Args: []expr.Expr{l, r}, T: types.BooleanType}
	}
	if op, ok := comparisons[x.Op]; ok {
		l, r := b.expr(x.L, off, cl), b.expr(x.R, off, cl)
		if l == nil || r == nil {
			return nil
		}
		l, r, ok := b.unify("compare", off, l, r)
		if !ok {
			return nil
		}
		if !comparable(l.Type()) {
			b.errorNode(off, "%s values cannot be compared: CAST them to VARCHAR", l.Type())
			return nil
		}
		return &expr.Call{Fn: op, Args: []expr.Expr{l, r}, T: types.BooleanType}
	}
	var op string
	switch x.Op {
	case opcode.Plus:
		op = "+"
	case opcode.Minus:
		op = "-"
	case opcode.Mul:
		op = "*"
	case opcode.Div:
		op = "/"
	case opcode.Mod:
		op = "%"
	case opcode.IntDiv:
		op = "DIV"
	default:
		b.errorNode(off, "operator %s is not supported", x.Op)
		return nil
	}
	l, r := b.expr(x.L, off, cl), b.expr(x.R, off, cl)
	if l == nil || r == nil {
		return nil
	}
	return b.arith(op, off, l, r)
}

// comparable says whether values of t can be compared with < and =.
func comparable(t types.Type) bool { return t.Kind != types.JSON }

// arith binds l op r for + - * / % and DIV.
func (b *binder) arith(op string, off int, l, r expr.Expr) expr.Expr {
	lt, rt := l.Type(), r.Type()
	if lt.Kind == types.Null {
		l, lt = castTo(l, rt), rt
	}
	if rt.Kind == types.Null {
		r, rt = castTo(r, lt), lt
	}
	switch {
	case lt.Kind == types.Timestamp && rt.Kind == types.Interval && (op == "+" || op == "-"):
		return &expr.Call{Fn: op, Args: []expr.Expr{l, r}, T: types.TimestampType}
	case lt.Kind == types.Interval && rt.Kind == types.Timestamp && op == "+":
		return &expr.Call{Fn: op, Args: []expr.Expr{r, l}, T: types.TimestampType}
	case lt.Kind == types.Timestamp && rt.Kind == types.Timestamp && op == "-":
		return &expr.Call{Fn: op, Args: []expr.Expr{l, r}, T: types.IntervalType}
	case lt.Kind == types.Interval && rt.Kind == types.Interval && (op == "+" || op == "-"):
		if a, ok := l.(*expr.Literal); ok {
			if c, ok := r.(*expr.Literal); ok && a.Value != nil && c.Value != nil {
				v := a.Value.(int64) + c.Value.(int64)
				if op == "-" {
					v = a.Value.(int64) - c.Value.(int64)
				}
				return &expr.Literal{Value: v, T: types.IntervalType}
			}
		}
	case lt.IsNumeric() && rt.IsNumeric():
		if op == "DIV" {
			if lt.Kind != types.BigInt || rt.Kind != types.BigInt {
				b.errorNode(off, "DIV is integer division of BIGINTs, got %s and %s: use /", lt, rt)
				return nil
			}
			op = "/"
		}
		t := arithType(op, lt, rt)
		return &expr.Call{Fn: op, Args: []expr.Expr{castTo(l, t), castTo(r, t)}, T: t}
	}
	hint := "CAST the operands to numbers"
	if lt.IsString() || rt.IsString() {
		hint = "use || or CONCAT to join strings, or CAST the operands to numbers"
	}
	b.errorNode(off, "cannot apply %s to %s and %s: %s", op, lt, rt, hint)
	return nil
}

// unary binds -x, +x and NOT x.
func (b *binder) unary(x *ast.UnaryOperationExpr, off int, cl clause) expr.Expr {
	switch x.Op {
	case opcode.Not, opcode.Not2:
		e := b.boolArg(x.V, off, cl, "NOT")
		if e == nil {
			return nil
		}
		return not(e, true)
	case opcode.Plus:
		e := b.expr(x.V, off, cl)
		if e != nil && !e.Type().IsNumeric() {
			b.errorNode(off, "unary + needs a number, got %s", e.Type())
			return nil
		}
		return e
	case opcode.Minus:
		e := b.expr(x.V, off, cl)
		if e == nil {
			return nil
		}
		if lit, ok := e.(*expr.Literal); ok && lit.Value != nil {
			switch v := lit.Value.(type) {
			case int64:
				if v != math.MinInt64 {
					return &expr.Literal{Value: -v, T: lit.T}
				}
			case float64:
				return &expr.Literal{Value: -v, T: lit.T}
			case decimal128.Num:
				return &expr.Literal{Value: v.Negate(), T: lit.T}
			}
		}
		if !e.Type().IsNumeric() {
			b.errorNode(off, "unary - needs a number, got %s", e.Type())
			return nil
		}
		return &expr.Call{Fn: "neg", Args: []expr.Expr{e}, T: e.Type()}
	}
	b.errorNode(off, "operator %s is not supported", x.Op)
	return nil
}

// boolArg binds an operand that must be BOOLEAN (a NULL literal becomes one).
func (b *binder) boolArg(n ast.ExprNode, parent int, cl clause, what string) expr.Expr {
	e := b.expr(n, parent, cl)
	if e == nil {
		return nil
	}
	switch e.Type().Kind {
	case types.Boolean:
		return e
	case types.Null:
		return castTo(e, types.BooleanType)
	}
	b.errorNode(childOff(n, parent), "%s needs BOOLEAN operands, got %s: compare it, e.g. x <> 0", what, e.Type())
	return nil
}

// boolExpr binds a condition (WHERE, HAVING).
func (b *binder) boolExpr(n ast.ExprNode, cl clause) expr.Expr {
	return b.boolArg(n, n.OriginTextPosition(), cl, cl.name)
}

// strArg binds an operand that must be VARCHAR or JSON.
func (b *binder) strArg(n ast.ExprNode, parent int, cl clause, what string) expr.Expr {
	e := b.expr(n, parent, cl)
	if e == nil {
		return nil
	}
	switch t := e.Type(); {
	case t.IsString():
		return e
	case t.Kind == types.Null:
		return castTo(e, types.VarcharType)
	}
	b.errorNode(childOff(n, parent), "%s needs a VARCHAR, got %s: CAST(x AS VARCHAR)", what, e.Type())
	return nil
}

// pattern binds a regular expression operand, checking a literal one.
func (b *binder) pattern(n ast.ExprNode, parent int, cl clause, what string) expr.Expr {
	e := b.strArg(n, parent, cl, what)
	if lit, ok := e.(*expr.Literal); ok && lit.Value != nil {
		if _, err := regexp.Compile(lit.Value.(string)); err != nil {
			b.errorNode(childOff(n, parent), "bad regular expression %s: %v", quote(lit.Value.(string)), strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			return nil
		}
	}
	return e
}

// in binds x [NOT] IN (v1, ...).
func (b *binder) in(x *ast.PatternInExpr, off int, cl clause) expr.Expr {
	if x.Sel != nil {
		b.errorNode(off, "IN (SELECT ...) is not supported yet: list the values")
		return nil
	}
	args := []expr.Expr{b.expr(x.Expr, off, cl)}
	for _, v := range x.List {
		args = append(args, b.expr(v, off, cl))
	}
	for _, a := range args {
		if a == nil {
			return nil
		}
	}
	args, ok := b.unifyAll("compare", off, args)
	if !ok {
		return nil
	}
	return not(&expr.Call{Fn: "in", Args: args, T: types.BooleanType}, x.Not)
}

// unifyAll converts every expression to one common type.
func (b *binder) unifyAll(what string, off int, args []expr.Expr) ([]expr.Expr, bool) {
	t := types.NullType
	for i, a := range args {
		for j, c := range args {
			if i == j {
				continue
			}
			var ok bool
			if args[i], ok = b.tsLiteral(a, c, off); !ok {
				return nil, false
			}
			a = args[i]
		}
	}
	for _, a := range args {
		nt, ok := commonType(t, a.Type())
		if !ok {
			b.errorNode(off, "cannot %s %s with %s: CAST the values to one type", what, typeName(t), typeName(a.Type()))
			return nil, false
		}
		t = nt
	}
	out := make([]expr.Expr, len(args))
	for i, a := range args {
		out[i] = castTo(a, t)
	}
	return out, true
}

// between binds x [NOT] BETWEEN lo AND hi as and(x >= lo, x <= hi).
func (b *binder) between(x *ast.BetweenExpr, off int, cl clause) expr.Expr {
	v, lo, hi := b.expr(x.Expr, off, cl), b.expr(x.Left, off, cl), b.expr(x.Right, off, cl)
	if v == nil || lo == nil || hi == nil {
		return nil
	}
	args, ok := b.unifyAll("compare", off, []expr.Expr{v, lo, hi})
	if !ok {
		return nil
	}
	if !comparable(args[0].Type()) {
		b.errorNode(off, "%s values cannot be compared: CAST them to VARCHAR", args[0].Type())
		return nil
	}
	c := &expr.Call{Fn: "and", T: types.BooleanType, Args: []expr.Expr{
		&expr.Call{Fn: ">=", Args: []expr.Expr{args[0], args[1]}, T: types.BooleanType},
		&expr.Call{Fn: "<=", Args: []expr.Expr{args[0], args[2]}, T: types.BooleanType},
	}}
	return not(c, x.Not)
}

// like binds x [NOT] LIKE p [ESCAPE 'c'] and ILIKE (as LIKE over lower()).
func (b *binder) like(x *ast.PatternLikeOrIlikeExpr, off int, cl clause) expr.Expr {
	s, p := b.strArg(x.Expr, off, cl, "LIKE"), b.strArg(x.Pattern, off, cl, "LIKE")
	if s == nil || p == nil {
		return nil
	}
	if !x.IsLike {
		s = &expr.Call{Fn: "lower", Args: []expr.Expr{s}, T: types.VarcharType}
		p = &expr.Call{Fn: "lower", Args: []expr.Expr{p}, T: types.VarcharType}
	}
	args := []expr.Expr{s, p}
	if x.Escape != '\\' {
		args = append(args, &expr.Literal{Value: string(rune(x.Escape)), T: types.VarcharType})
	}
	return not(&expr.Call{Fn: "like", Args: args, T: types.BooleanType}, x.Not)
}

// caseExpr binds CASE in searched form, with an ELSE (NULL when absent).
func (b *binder) caseExpr(x *ast.CaseExpr, off int, cl clause) expr.Expr {
	var subject expr.Expr
	if x.Value != nil {
		if subject = b.expr(x.Value, off, cl); subject == nil {
			return nil
		}
	}
	var conds, vals []expr.Expr
	ok := true
	for _, w := range x.WhenClauses {
		wOff := childOff(w.Expr, off)
		var c expr.Expr
		if subject != nil {
			v := b.expr(w.Expr, off, cl)
			if v != nil {
				if l, r, ok2 := b.unify("compare", wOff, subject, v); ok2 {
					c = &expr.Call{Fn: "=", Args: []expr.Expr{l, r}, T: types.BooleanType}
				}
			}
		} else {
			c = b.boolArg(w.Expr, off, cl, "CASE WHEN")
		}
		v := b.expr(w.Result, off, cl)
		ok = ok && c != nil && v != nil
		conds, vals = append(conds, c), append(vals, v)
	}
	els := expr.Expr(&expr.Literal{T: types.NullType})
	if x.ElseClause != nil {
		els = b.expr(x.ElseClause, off, cl)
		ok = ok && els != nil
	}
	if !ok {
		return nil
	}
	vals, ok = b.unifyAll("mix", off, append(vals, els))
	if !ok {
		return nil
	}
	args := make([]expr.Expr, 0, 2*len(conds)+1)
	for i, c := range conds {
		args = append(args, c, vals[i])
	}
	args = append(args, vals[len(vals)-1])
	return &expr.Call{Fn: "case", Args: args, T: vals[0].Type()}
}
