package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/sql/types"
)

// ddl is a cursor over the tokens of a CREATE statement.
type ddl struct {
	*stmtCtx
	i int
}

func (d *ddl) peek() token { return d.tok(d.i) }
func (d *ddl) next() token { t := d.tok(d.i); d.i++; return t }

// accept consumes the word or punctuation w if it is next.
func (d *ddl) accept(w string) bool {
	if d.peek().is(w) {
		d.i++
		return true
	}
	return false
}

// expect consumes w or reports what was expected.
func (d *ddl) expect(w, context string) bool {
	if d.accept(w) {
		return true
	}
	d.errorTok(d.peek(), "expected %s %s, found %s", w, context, describeTok(d.peek()))
	return false
}

// ident consumes a name (plain or quoted).
func (d *ddl) ident(what string) (string, token, bool) {
	t := d.peek()
	if n, ok := t.name(); ok && n != "" {
		d.i++
		return n, t, true
	}
	d.errorTok(t, "expected %s, found %s", what, describeTok(t))
	return "", t, false
}

func describeTok(t token) string {
	if t.text == "" {
		return "the end of the statement"
	}
	return fmt.Sprintf("%q", clip(t.text))
}

// Connectors each kind of declaration accepts.
var (
	streamConnectors = []string{"kinesis"}
	sinkConnectors   = []string{"kinesis", "file", "stdout", "firehose"}
)

// createStream parses
//
//	CREATE STREAM name (col TYPE [PATH '$.a.b'], ...[, WATERMARK FOR col AS col [- INTERVAL 'n' UNIT]])
//	WITH (key = 'value', ...)
func (c *stmtCtx) createStream() Statement {
	d := &ddl{stmtCtx: c, i: 2}
	name, nameTok, ok := d.ident("a stream name after CREATE STREAM")
	if !ok {
		return nil
	}
	s := &CreateStream{Pos: c.src.pos(c.raw.start), Name: name}
	if !d.expect("(", "after the stream name: CREATE STREAM name (col TYPE, ...) WITH (...)") {
		return nil
	}
	var wm *wmDecl
	for {
		if d.peek().is("WATERMARK") {
			if wm != nil {
				d.errorTok(d.peek(), "a stream has one WATERMARK; remove this one")
				return nil
			}
			if wm = d.watermark(); wm == nil {
				return nil
			}
		} else if !d.column(s) {
			return nil
		}
		if d.accept(")") {
			break
		}
		if !d.expect(",", "or ) after a column definition") {
			return nil
		}
	}
	if len(s.Columns) == 0 {
		c.errorTok(nameTok, "stream %s has no columns: declare at least one, e.g. (price DOUBLE)", name)
		return nil
	}
	if wm != nil && !d.resolveWatermark(s, wm) {
		return nil
	}
	if !d.with(&s.With, &s.WithPos, "stream", streamConnectors) {
		return nil
	}
	if d.failed() {
		return nil
	}
	if err := c.cat.AddStream(s); err != nil {
		c.errorTok(nameTok, "%v", err)
		return nil
	}
	return s
}

// column parses col TYPE [PATH 'path'] and appends it to s.
func (d *ddl) column(s *CreateStream) bool {
	name, nameTok, ok := d.ident("a column name or WATERMARK")
	if !ok {
		return false
	}
	if strings.EqualFold(name, RowtimeColumn) {
		d.errorTok(nameTok, "ROWTIME is reserved: every stream has it (the arrival time); rename this column")
		return false
	}
	if i := s.Columns.Index(name); i >= 0 {
		d.errorTok(nameTok, "duplicate column %s (column names are case-insensitive): rename one of them", name)
		return false
	}
	first, depth := d.i, 0
	for {
		t := d.peek()
		if t.text == "" || depth == 0 && (t.is(",") || t.is(")") || t.is("PATH") || t.is("NOT")) {
			break
		}
		if t.is("(") {
			depth++
		} else if t.is(")") {
			depth--
		}
		d.i++
	}
	if d.i == first {
		d.errorTok(d.peek(), "column %s needs a type, e.g. %s VARCHAR", name, name)
		return false
	}
	typeText := d.raw.code[d.toks[first].start:d.toks[d.i-1].end]
	t, err := types.Parse(typeText)
	if err != nil {
		d.errorTok(d.toks[first], "column %s: %v", name, err)
		return false
	}
	if d.peek().is("NOT") {
		d.errorTok(d.peek(), "NOT NULL is not supported: every column is nullable (a missing field reads as NULL); remove it")
		return false
	}
	path := ""
	if d.accept("PATH") {
		pt := d.next()
		if pt.kind != tokString {
			d.errorTok(pt, "PATH takes a quoted JSON path, e.g. PATH '$.quote.price'")
			return false
		}
		if err := checkPath(pt.val); err != nil {
			d.errorTok(pt, "%v", err)
			return false
		}
		path = pt.val
	}
	s.Columns = append(s.Columns, types.Column{Name: name, Type: t})
	s.Paths = append(s.Paths, path)
	return true
}

// checkPath checks a column's JSON path: $ followed by .field or [index] steps.
func checkPath(p string) error {
	bad := fmt.Errorf("PATH %s: a path is $ followed by .field or [index] steps, e.g. '$.quote.price' or '$.items[0]'", quote(p))
	if !strings.HasPrefix(p, "$") || p == "$" {
		return bad
	}
	for rest := p[1:]; rest != ""; {
		switch rest[0] {
		case '.':
			n := strings.IndexAny(rest[1:], ".[")
			if n < 0 {
				n = len(rest) - 1
			}
			if n == 0 {
				return bad
			}
			rest = rest[1+n:]
		case '[':
			n := strings.IndexByte(rest, ']')
			if n < 2 || strings.Trim(rest[1:n], "0123456789") != "" {
				return bad
			}
			rest = rest[n+1:]
		default:
			return bad
		}
	}
	return nil
}

// wmDecl is a parsed WATERMARK clause before its column is resolved.
type wmDecl struct {
	col   string
	tok   token
	delay time.Duration
}

// watermark parses WATERMARK FOR col AS col [- INTERVAL 'n' UNIT].
func (d *ddl) watermark() *wmDecl {
	const form = "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND"
	d.next()
	if !d.expect("FOR", "after WATERMARK: "+form) {
		return nil
	}
	col, colTok, ok := d.ident("the event-time column after WATERMARK FOR")
	if !ok || !d.expect("AS", "after WATERMARK FOR "+col+": "+form) {
		return nil
	}
	col2, col2Tok, ok := d.ident("the event-time column after AS: " + form)
	if !ok {
		return nil
	}
	if !strings.EqualFold(col, col2) {
		d.errorTok(col2Tok, "the watermark expression must use the column %s itself: write AS %s - INTERVAL '5' SECOND", col, col)
		return nil
	}
	wm := &wmDecl{col: col, tok: colTok}
	if d.peek().is(",") || d.peek().is(")") {
		return wm
	}
	if !d.accept("-") {
		d.errorTok(d.peek(), "the watermark expression is %s or %s - INTERVAL 'n' UNIT; found %s", col, col, describeTok(d.peek()))
		return nil
	}
	if !d.expect("INTERVAL", "after "+col+" -: "+form) {
		return nil
	}
	vt, ut := d.next(), d.next()
	if vt.kind != tokString && vt.kind != tokNumber {
		d.errorTok(vt, "INTERVAL takes a quoted number, e.g. INTERVAL '5' SECOND")
		return nil
	}
	delay, msg := intervalValue(vt.val, ut.text)
	if msg != "" {
		bad := vt
		if strings.HasPrefix(msg, "unknown interval unit") {
			bad = ut
		}
		d.errorTok(bad, "%s", msg)
		return nil
	}
	if delay < 0 {
		d.errorTok(vt, "the watermark delay must not be negative: write AS %s - INTERVAL '5' SECOND", col)
		return nil
	}
	wm.delay = delay
	return wm
}

func (d *ddl) resolveWatermark(s *CreateStream, wm *wmDecl) bool {
	i := s.Columns.Index(wm.col)
	if i < 0 {
		d.errorTok(wm.tok, "WATERMARK FOR %s: no such column in stream %s; declare it, e.g. %s TIMESTAMP", wm.col, s.Name, wm.col)
		return false
	}
	if t := s.Columns[i].Type; t.Kind != types.Timestamp {
		d.errorTok(wm.tok, "WATERMARK FOR %s: the event-time column must be TIMESTAMP, not %s; declare %s TIMESTAMP", wm.col, t, wm.col)
		return false
	}
	s.Watermark = &Watermark{Column: i, Delay: wm.delay}
	return true
}

// createSink parses CREATE SINK name WITH (key = 'value', ...).
func (c *stmtCtx) createSink() Statement {
	d := &ddl{stmtCtx: c, i: 2}
	name, nameTok, ok := d.ident("a sink name after CREATE SINK")
	if !ok {
		return nil
	}
	s := &CreateSink{Pos: c.src.pos(c.raw.start), Name: name}
	if !d.with(&s.With, &s.WithPos, "sink", sinkConnectors) || d.failed() {
		return nil
	}
	if err := c.cat.AddSink(s); err != nil {
		c.errorTok(nameTok, "%v", err)
		return nil
	}
	return s
}

// with parses WITH (key = value, ...) to the end of the statement; keys are
// lower-cased and connector is required and checked against connectors.
func (d *ddl) with(with *map[string]string, withPos *map[string]Pos, what string, connectors []string) bool {
	example := fmt.Sprintf("WITH (connector = '%s', ...)", connectors[0])
	if !d.accept("WITH") {
		if d.peek().text == "" {
			d.errorTok(d.peek(), "missing WITH: a %s needs a connector (%s), e.g. %s", what, strings.Join(connectors, ", "), example)
		} else {
			d.errorTok(d.peek(), "expected WITH (...) or the end of the statement, found %s", describeTok(d.peek()))
		}
		return false
	}
	if !d.expect("(", "after WITH: "+example) {
		return false
	}
	*with, *withPos = map[string]string{}, map[string]Pos{}
	for !d.accept(")") {
		if len(*with) > 0 && !d.expect(",", "or ) between WITH options") {
			return false
		}
		kt := d.next()
		key, ok := kt.name()
		if kt.kind == tokString {
			key, ok = kt.val, true
		}
		for ok && d.peek().is(".") {
			d.next()
			part, ok2 := d.next().name()
			key, ok = key+"."+part, ok2
		}
		if !ok || key == "" {
			d.errorTok(kt, "expected an option name in WITH, found %s", describeTok(kt))
			return false
		}
		key = strings.ToLower(key)
		if !d.expect("=", "after WITH option "+key) {
			return false
		}
		vt := d.next()
		if vt.kind != tokString && vt.kind != tokNumber && vt.kind != tokWord {
			d.errorTok(vt, "WITH option %s needs a value, e.g. %s = 'value'", key, key)
			return false
		}
		if _, dup := (*with)[key]; dup {
			d.errorTok(kt, "WITH option %s is given twice: keep one", key)
			return false
		}
		(*with)[key] = vt.val
		(*withPos)[key] = d.src.pos(d.raw.start + kt.start)
	}
	if d.i < len(d.toks) {
		d.errorTok(d.peek(), "unexpected %s after WITH (...): end the statement with ;", describeTok(d.peek()))
		return false
	}
	conn, ok := (*with)["connector"]
	if !ok {
		d.errorTok(d.toks[len(d.toks)-1], "missing connector: a %s needs WITH (connector = ...) with one of %s", what, strings.Join(connectors, ", "))
		return false
	}
	if !containsFold(connectors, conn) {
		pos := (*withPos)["connector"]
		d.src.errorf(pos.Offset, "connector", "unknown %s connector %s: use one of %s", what, quote(conn), strings.Join(connectors, ", "))
		return false
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
