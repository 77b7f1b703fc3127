package eval

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// LIKE and REGEXP. Literal patterns are compiled once at Compile; patterns
// read from columns are compiled once per distinct text per batch.

// likeMatcher is a compiled LIKE pattern: literal runs separated by %, each
// run holding literal text and _ (one character).
type likeMatcher struct {
	kind  likeKind
	lit   string     // exact, prefix, suffix, contains
	segs  [][]likeOp // general: the runs between %
	lead  bool       // general: the pattern starts with %
	trail bool       // general: the pattern ends with %
}

type likeKind uint8

const (
	likeExact likeKind = iota
	likePrefix
	likeSuffix
	likeContains
	likeAny // the pattern is only %s
	likeGeneral
)

// likeOp is a literal string or, when lit is empty, n single-character
// wildcards.
type likeOp struct {
	lit string
	n   int
}

type likeKey struct{ pattern, escape string }

type likeEntry struct {
	m   *likeMatcher
	err error
}

// compileLike parses pattern with the escape character esc ("" for none).
func compileLike(pattern, esc string) (*likeMatcher, error) {
	var escRune rune = -1
	if esc != "" {
		r, size := utf8.DecodeRuneInString(esc)
		if size != len(esc) {
			return nil, errors.New("the LIKE escape must be a single character, got '" + esc + "'")
		}
		escRune = r
	}
	// Tokenise into runs separated by %.
	var segs [][]likeOp
	var cur []likeOp
	var lit strings.Builder
	lead, trail := false, false
	flushLit := func() {
		if lit.Len() > 0 {
			cur = append(cur, likeOp{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		i += size
		switch {
		case r == escRune:
			if i >= len(pattern) {
				return nil, errors.New("the LIKE pattern '" + pattern + "' ends with the escape character")
			}
			_, s2 := utf8.DecodeRuneInString(pattern[i:])
			lit.WriteString(pattern[i : i+s2])
			i += s2
		case r == '%':
			flushLit()
			if len(segs) == 0 && len(cur) == 0 {
				lead = true
			}
			if len(cur) > 0 {
				segs = append(segs, cur)
				cur = nil
			}
			trail = true
			continue
		case r == '_':
			flushLit()
			if k := len(cur); k > 0 && cur[k-1].lit == "" {
				cur[k-1].n++
			} else {
				cur = append(cur, likeOp{n: 1})
			}
		default:
			lit.WriteString(pattern[i-size : i])
		}
		trail = false
	}
	flushLit()
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	m := &likeMatcher{kind: likeGeneral, segs: segs, lead: lead, trail: trail}
	simple := len(segs) == 1 && len(segs[0]) == 1 && segs[0][0].lit != ""
	switch {
	case len(segs) == 0 && (lead || trail):
		m.kind = likeAny
	case len(segs) == 0:
		m.kind, m.lit = likeExact, ""
	case simple && !lead && !trail:
		m.kind, m.lit = likeExact, segs[0][0].lit
	case simple && !lead && trail:
		m.kind, m.lit = likePrefix, segs[0][0].lit
	case simple && lead && !trail:
		m.kind, m.lit = likeSuffix, segs[0][0].lit
	case simple && lead && trail:
		m.kind, m.lit = likeContains, segs[0][0].lit
	}
	return m, nil
}

func (m *likeMatcher) match(s string) bool {
	switch m.kind {
	case likeExact:
		return s == m.lit
	case likePrefix:
		return strings.HasPrefix(s, m.lit)
	case likeSuffix:
		return strings.HasSuffix(s, m.lit)
	case likeContains:
		return strings.Contains(s, m.lit)
	case likeAny:
		return true
	}
	return m.matchGeneral(s)
}

// matchSeg matches the run seg at byte position p of s and returns the end.
func matchSeg(s string, p int, seg []likeOp) (int, bool) {
	for _, op := range seg {
		if op.lit != "" {
			if !strings.HasPrefix(s[p:], op.lit) {
				return 0, false
			}
			p += len(op.lit)
			continue
		}
		for k := 0; k < op.n; k++ {
			if p >= len(s) {
				return 0, false
			}
			_, size := utf8.DecodeRuneInString(s[p:])
			p += size
		}
	}
	return p, true
}

// matchGeneral: the first run is anchored at the start unless the pattern
// starts with %, the last at the end unless it ends with %, and every run
// in between matches at its leftmost position (greedy matching is exact when
// runs are separated by %).
func (m *likeMatcher) matchGeneral(s string) bool {
	segs := m.segs
	p := 0
	if !m.lead {
		end, ok := matchSeg(s, 0, segs[0])
		if !ok {
			return false
		}
		if len(segs) == 1 && !m.trail {
			return end == len(s)
		}
		p = end
		segs = segs[1:]
	}
	var last []likeOp
	if !m.trail && len(segs) > 0 {
		last = segs[len(segs)-1]
		segs = segs[:len(segs)-1]
	}
	for _, seg := range segs {
		found := false
		for q := p; q <= len(s); {
			if seg[0].lit != "" {
				k := strings.Index(s[q:], seg[0].lit)
				if k < 0 {
					return false
				}
				q += k
			}
			if end, ok := matchSeg(s, q, seg); ok {
				p, found = end, true
				break
			}
			if q == len(s) {
				break
			}
			_, size := utf8.DecodeRuneInString(s[q:])
			q += size
		}
		if !found {
			return false
		}
	}
	if last == nil {
		return true
	}
	// The last run has a fixed number of characters: it must start that many
	// characters before the end, and not before p.
	chars := 0
	for _, op := range last {
		if op.lit != "" {
			chars += utf8.RuneCountInString(op.lit)
		} else {
			chars += op.n
		}
	}
	q := len(s)
	for k := 0; k < chars; k++ {
		if q <= p {
			return false
		}
		_, size := utf8.DecodeLastRuneInString(s[p:q])
		q -= size
	}
	end, ok := matchSeg(s, q, last)
	return ok && end == len(s)
}

type likeNode struct {
	s, pat, esc node // esc may be nil
	m           *likeMatcher
}

func (n *likeNode) typ() types.Type { return types.BooleanType }

func newLike(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, 3); err != nil {
		return nil, err
	}
	for i, a := range args {
		if err := wantKind(argName(i), a, types.Varchar, types.JSON); err != nil {
			return nil, err
		}
	}
	n := &likeNode{s: args[0], pat: args[1]}
	esc := ""
	escConst := true
	if len(args) == 3 {
		n.esc = args[2]
		esc, escConst = constString(args[2])
	}
	if p, ok := constString(args[1]); ok && escConst {
		m, err := compileLike(p, esc)
		if err != nil {
			return nil, err
		}
		n.m = m
	}
	return n, nil
}

func (n *likeNode) eval(c *evalCtx) (arrow.Array, error) {
	ops := []node{n.s, n.pat}
	if n.esc != nil {
		ops = append(ops, n.esc)
	}
	vs, err := c.operands(ops)
	if err != nil {
		return nil, err
	}
	defer releaseAll(vs)
	s := vs[0]
	o := newBoolOut(c.mem, c.n)
	o.validFrom(vs...)
	if n.m != nil {
		m := n.m
		if m.kind == likeExact || m.kind == likePrefix || m.kind == likeSuffix || m.kind == likeContains {
			likeFast(m, s, c.n, o.vals)
			return o.finish(), nil
		}
		for i := 0; i < c.n; i++ {
			if o.isValid(i) && m.match(s.str(i)) {
				setBit(o.vals, i)
			}
		}
		return o.finish(), nil
	}
	if c.likes == nil {
		c.likes = map[likeKey]likeEntry{}
	}
	for i := 0; i < c.n; i++ {
		if !o.isValid(i) {
			continue
		}
		key := likeKey{pattern: vs[1].str(i)}
		if n.esc != nil {
			key.escape = vs[2].str(i)
		}
		e, ok := c.likes[key]
		if !ok {
			m, err := compileLike(key.pattern, key.escape)
			key = likeKey{strings.Clone(key.pattern), strings.Clone(key.escape)}
			e = likeEntry{m, err}
			c.likes[key] = e
		}
		if e.err != nil {
			c.rowErr(i, "like: %v", e.err)
			o.setNull(i)
			continue
		}
		if e.m.match(s.str(i)) {
			setBit(o.vals, i)
		}
	}
	return o.finish(), nil
}

// likeFast runs the literal-shaped patterns straight over a string column.
func likeFast(m *likeMatcher, s *vec, n int, out []byte) {
	if s.constant {
		if m.match(s.cs) {
			for i := range out {
				out[i] = 0xff
			}
		}
		return
	}
	offs, data, lit := s.offs[:n+1], s.data, m.lit
	if m.kind == likePrefix && len(lit) <= 8 {
		// Short prefixes: one masked 64-bit load per row.
		lw := load8(lit, 0, len(lit))
		for i := 0; i < n; i++ {
			st := int(offs[i])
			if int(offs[i+1])-st >= len(lit) && load8(data, st, len(lit)) == lw {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		return
	}
	for i := 0; i < n; i++ {
		v := data[offs[i]:offs[i+1]]
		var ok bool
		switch m.kind {
		case likeExact:
			ok = v == lit
		case likePrefix:
			ok = len(v) >= len(lit) && v[:len(lit)] == lit
		case likeSuffix:
			ok = len(v) >= len(lit) && v[len(v)-len(lit):] == lit
		default:
			ok = strings.Contains(v, lit)
		}
		if ok {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}

// regexps: literal patterns compile at Compile, others once per batch.

type regexpNode struct {
	s, pat node
	re     *regexp.Regexp
}

func (n *regexpNode) typ() types.Type { return types.BooleanType }

func newRegexp(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, 2); err != nil {
		return nil, err
	}
	for i, a := range args {
		if err := wantKind(argName(i), a, types.Varchar, types.JSON); err != nil {
			return nil, err
		}
	}
	n := &regexpNode{s: args[0], pat: args[1]}
	if p, ok := constString(args[1]); ok {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		n.re = re
	}
	return n, nil
}

// regexpAt returns the compiled pattern of row i, from the node's literal or
// the batch's cache; it reports a row error when the pattern is invalid.
func (c *evalCtx) regexpAt(fixed *regexp.Regexp, pat *vec, i int) *regexp.Regexp {
	if fixed != nil {
		return fixed
	}
	p := pat.str(i)
	if c.regexps == nil {
		c.regexps = map[string]regexpEntry{}
	}
	e, ok := c.regexps[p]
	if !ok {
		re, err := regexp.Compile(p)
		e = regexpEntry{re, err}
		c.regexps[strings.Clone(p)] = e
	}
	if e.err != nil {
		c.rowErr(i, "regexp: %v", e.err)
		return nil
	}
	return e.re
}

func (n *regexpNode) eval(c *evalCtx) (arrow.Array, error) {
	vs, err := c.operands([]node{n.s, n.pat})
	if err != nil {
		return nil, err
	}
	defer releaseAll(vs)
	o := newBoolOut(c.mem, c.n)
	o.validFrom(vs...)
	for i := 0; i < c.n; i++ {
		if !o.isValid(i) {
			continue
		}
		re := c.regexpAt(n.re, vs[1], i)
		if re == nil {
			o.setNull(i)
			continue
		}
		if re.MatchString(vs[0].str(i)) {
			setBit(o.vals, i)
		}
	}
	return o.finish(), nil
}
