package sql

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // tidb's literal values
)

// query parses a SELECT or INSERT INTO ... SELECT with tidb's parser (after
// the token rewrites tidb's grammar needs) and binds it.
func (c *stmtCtx) query() Statement {
	text, m := rewrite(c.raw.code, c.toks)
	node, off, err := parseTiDB(text)
	if err != nil {
		c.syntaxError(m.orig(off))
		return nil
	}
	b := newBinder(c, text, m)
	pos := c.src.pos(c.raw.start)
	switch s := node.(type) {
	case *ast.SelectStmt:
		if q := b.selectStmt(s); q != nil && !c.failed() {
			return &Select{Pos: pos, Query: q}
		}
	case *ast.InsertStmt:
		if ins := b.insert(s); ins != nil && !c.failed() {
			ins.Pos = pos
			return ins
		}
	case *ast.SetOprStmt:
		c.errorAt(0, "UNION, INTERSECT and EXCEPT are not supported yet: write one query per INSERT INTO the same sink")
	default:
		c.errorAt(0, "unknown statement: eddy has CREATE STREAM, CREATE SINK, SELECT, INSERT INTO ... SELECT, SET, SHOW STREAMS and DESCRIBE")
	}
	return nil
}

// parseTiDB parses text as exactly one statement. On a syntax error it
// returns the offset in text of the token tidb stopped at.
func parseTiDB(text string) (node ast.StmtNode, errOff int, err error) {
	p := parser.New()
	p.SetSQLMode(sqlMode)
	defer func() {
		// The parser is third-party code: a panic in it is a syntax error here,
		// never a crash of the host.
		if r := recover(); r != nil {
			node, errOff, err = nil, 0, fmt.Errorf("tidb parser panic: %v", r)
		}
	}()
	stmts, _, err := p.ParseSQL(text)
	if err != nil {
		return nil, lastScanOffset(p), err
	}
	if len(stmts) != 1 {
		return nil, len(text), fmt.Errorf("expected one statement, got %d", len(stmts))
	}
	return stmts[0], 0, nil
}

// lastScanOffset is the offset of the token tidb's parser stopped at. tidb
// keeps it in the unexported Parser.lexer.lastScanOffset (its own error
// message carries only a line and column of the parsed text).
func lastScanOffset(p *parser.Parser) int {
	f := reflect.ValueOf(p).Elem().FieldByName("lexer").FieldByName("lastScanOffset")
	if !f.IsValid() {
		return 0
	}
	return int(f.Int())
}

// syntaxError reports a syntax error at offset off of the statement code.
func (c *stmtCtx) syntaxError(off int) {
	if off >= len(c.raw.code) {
		last := c.toks[len(c.toks)-1]
		c.src.errorf(c.raw.start+last.start, clip(last.text), "syntax error: the statement ends too early")
		return
	}
	for _, t := range c.toks {
		if t.start == off && t.is("OVER") {
			c.errorAt(off, "syntax error: this call cannot take OVER: the window functions are COUNT, SUM, AVG, MIN, MAX, STDDEV_POP, STDDEV_SAMP, VAR_POP, VAR_SAMP, FIRST_VALUE, LAST_VALUE (without DISTINCT), ROW_NUMBER(), LAG and LEAD (with literal offsets)")
			return
		}
	}
	for i, t := range c.toks {
		// A reserved word where a name belongs: after FROM, INTO, AS or a dot.
		if t.start == off && t.kind == tokWord && i > 0 && reserved(t.text) &&
			(c.toks[i-1].is("FROM") || c.toks[i-1].is("INTO") || c.toks[i-1].is("AS") || c.toks[i-1].is(".")) {
			c.errorAt(off, "syntax error: %s is a reserved word; to use it as a name, quote it: \"%s\"", strings.ToUpper(t.text), t.text)
			return
		}
	}
	c.errorAt(off, "syntax error")
}

// reserved says whether w is a reserved word of tidb's grammar.
func reserved(w string) bool {
	for _, k := range parser.Keywords {
		if k.Reserved && strings.EqualFold(k.Word, w) {
			return true
		}
	}
	return false
}
