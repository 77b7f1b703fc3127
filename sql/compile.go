package sql

import (
	"sort"
	"strings"
)

// Compile splits, parses and binds every statement of an application, in
// order, against cat. CREATE STREAM and CREATE SINK statements are added to
// cat as they are checked, so later statements see earlier ones. file names
// the text in positions ("app.sql"). Compile goes on after a bad statement:
// it returns every statement that checked and, if any did not, an ErrorList
// with every error found, in text order.
func Compile(file, text string, cat *Catalog) ([]Statement, error) {
	src := newSource(file, text)
	var out []Statement
	for _, raw := range split(src) {
		if st := compileStmt(src, raw, cat); st != nil {
			out = append(out, st)
		}
	}
	if len(src.errs) > 0 {
		sort.SliceStable(src.errs, func(i, j int) bool { return src.errs[i].Pos.Offset < src.errs[j].Pos.Offset })
		return out, src.errs
	}
	return out, nil
}

// stmtCtx is one statement being compiled: its tokens and where its text
// sits in the application.
type stmtCtx struct {
	src  *source
	raw  rawStmt
	toks []token // offsets relative to raw.code
	cat  *Catalog
	nerr int // errors in src before this statement
}

func (c *stmtCtx) failed() bool { return len(c.src.errs) > c.nerr }

// errorAt records an error at offset off of the statement's code, with the
// token there as the near text.
func (c *stmtCtx) errorAt(off int, format string, args ...any) {
	c.src.errorf(c.raw.start+off, c.near(off), format, args...)
}

// errorTok records an error at token t.
func (c *stmtCtx) errorTok(t token, format string, args ...any) {
	near := t.text
	if t.start >= len(c.raw.code) {
		near = ""
	}
	c.src.errorf(c.raw.start+t.start, clip(near), format, args...)
}

// near returns the text of the token at off (and of its argument list when
// it names a function call), for an error message.
func (c *stmtCtx) near(off int) string {
	for i, t := range c.toks {
		if t.start < off {
			continue
		}
		if t.start > off {
			return ""
		}
		end := t.end
		if i+1 < len(c.toks) && c.toks[i+1].is("(") && (t.kind == tokWord || t.kind == tokQIdent) {
			depth := 0
			for _, u := range c.toks[i+1:] {
				if u.is("(") {
					depth++
				} else if u.is(")") {
					depth--
				}
				end = u.end
				if depth == 0 {
					break
				}
			}
		}
		return clip(strings.Join(strings.Fields(c.raw.code[t.start:end]), " "))
	}
	return ""
}

// end returns a token standing for the end of the statement.
func (c *stmtCtx) end() token {
	return token{kind: tokPunct, start: len(c.raw.code), end: len(c.raw.code)}
}

func compileStmt(src *source, raw rawStmt, cat *Catalog) Statement {
	c := &stmtCtx{src: src, raw: raw, toks: lex(raw.code), cat: cat, nerr: len(src.errs)}
	if len(c.toks) == 0 {
		return nil
	}
	word := func(i int) string {
		if i < len(c.toks) && c.toks[i].kind == tokWord {
			return strings.ToUpper(c.toks[i].text)
		}
		return ""
	}
	switch w := word(0); {
	case w == "CREATE" && word(1) == "STREAM":
		return c.createStream()
	case w == "CREATE" && word(1) == "SINK":
		return c.createSink()
	case w == "CREATE" && word(1) == "OR":
		c.errorTok(c.toks[1], "CREATE OR REPLACE is not supported: a name is declared once per application; write CREATE STREAM or CREATE SINK")
	case w == "CREATE":
		c.errorTok(c.toks[0], "unknown CREATE statement: eddy has CREATE STREAM and CREATE SINK")
	case w == "SHOW" && word(1) == "STREAMS" && len(c.toks) == 2:
		return &ShowStreams{Pos: src.pos(raw.start)}
	case w == "SHOW":
		c.errorTok(c.toks[0], "unknown SHOW statement: eddy has SHOW STREAMS")
	case w == "DESCRIBE" || w == "DESC":
		return c.describe()
	case w == "SELECT" || w == "INSERT" || w == "WITH" || c.toks[0].is("("):
		return c.query()
	case w == "SET":
		return c.set()
	default:
		c.errorTok(c.toks[0], "unknown statement: eddy has CREATE STREAM, CREATE SINK, SELECT, INSERT INTO ... SELECT, SET, SHOW STREAMS and DESCRIBE")
	}
	return nil
}

// describe parses DESCRIBE name.
func (c *stmtCtx) describe() Statement {
	if len(c.toks) != 2 {
		c.errorTok(c.tok(1), "DESCRIBE takes one stream or sink name, e.g. DESCRIBE trades")
		return nil
	}
	name, ok := c.toks[1].name()
	if !ok {
		c.errorTok(c.toks[1], "DESCRIBE takes one stream or sink name, e.g. DESCRIBE trades")
		return nil
	}
	if c.cat.Lookup(name) == nil {
		c.errorTok(c.toks[1], "unknown stream or sink %s%s", name, c.known())
		return nil
	}
	return &Describe{Pos: c.src.pos(c.raw.start), Name: name}
}

// tok returns token i, or the end of the statement.
func (c *stmtCtx) tok(i int) token {
	if i < len(c.toks) {
		return c.toks[i]
	}
	return c.end()
}

// known lists the declared names for an unknown-name error.
func (c *stmtCtx) known() string {
	var names []string
	for _, s := range c.cat.Streams() {
		names = append(names, s.Name)
	}
	for _, s := range c.cat.Sinks() {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		return ": nothing is declared yet; declare it with CREATE STREAM or CREATE SINK before this statement"
	}
	return " (declared: " + strings.Join(names, ", ") + ")"
}
