package format

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/eddy-streams/eddy/connectors/internal/jsonscan"
	"github.com/eddy-streams/eddy/sql/types"
)

// jsonDecoder is the immutable description of a JSON mapping.
type jsonDecoder struct {
	cols          types.Schema
	paths         [][]pathSeg // nil entry: the top-level field of the column's name
	caseSensitive bool
	tp            timeParser
}

func newJSONDecoder(cols types.Schema, paths []string, opts map[string]string, tp timeParser) (*jsonDecoder, error) {
	cs, err := boolOpt(opts, OptJSONCaseSensitive, false)
	if err != nil {
		return nil, fmt.Errorf("format json: %w", err)
	}
	d := &jsonDecoder{cols: cols, paths: make([][]pathSeg, len(cols)), caseSensitive: cs, tp: tp}
	for i, p := range paths {
		if p == "" {
			continue
		}
		segs, err := parsePath(p)
		if err != nil {
			return nil, fmt.Errorf("format json: column %s: %w", cols[i].Name, err)
		}
		if segs == nil {
			segs = []pathSeg{} // "$": the whole record
		}
		d.paths[i] = segs
	}
	return d, nil
}

func (d *jsonDecoder) Format() string        { return "json" }
func (d *jsonDecoder) Columns() types.Schema { return d.cols }

func (d *jsonDecoder) Project(needed []int) (RowDecoder, error) {
	needed, err := checkProjection(needed, len(d.cols))
	if err != nil {
		return nil, fmt.Errorf("format json: %w", err)
	}
	schema := make(types.Schema, len(needed))
	for k, c := range needed {
		schema[k] = d.cols[c]
	}
	r := &jsonRows{rowSet: newRowSet(schema), tp: &d.tp, root: &pathNode{}, slots: make([]slot, len(needed))}
	for k, c := range needed {
		if d.paths[c] != nil {
			r.root.add(d.paths[c], k)
			continue
		}
		r.root.add([]pathSeg{{name: d.cols[c].Name}}, k)
		if !d.caseSensitive {
			r.ci = append(r.ci, ciLeaf{name: []byte(d.cols[c].Name), col: k})
		}
	}
	r.root.finish()
	for _, e := range r.root.fields {
		for _, l := range r.ci {
			if e.name != string(l.name) && strings.EqualFold(e.name, string(l.name)) {
				r.ciAmbiguous = true
			}
		}
	}
	r.wholeDoc = r.root.leaves
	r.root.leaves = nil
	r.ciHits = make([]int, 0, len(r.ci))
	return r, nil
}

// slot is where a projected column's value lies in the current record.
type slot struct {
	start, end int
	prio       int8 // 0: not found; 1: case-insensitive match; 2: exact
	flags      uint8
}

// jsonRows decodes JSON records into the projected columns.
type jsonRows struct {
	rowSet
	tp       *timeParser
	root     *pathNode
	wholeDoc []int    // columns with path "$"
	ci       []ciLeaf // case-insensitive fallbacks for top-level fields
	ciHits   []int
	leafOnly pathNode // an empty node, to scan a value that only ciHits need
	// ciAmbiguous: a top-level field name that matches a path exactly may
	// also match another column case-insensitively.
	ciAmbiguous bool
	slots       []slot
	keyBuf      []byte
	scratch     []byte // an unescaped string value being converted
}

func (r *jsonRows) setSlot(col, start, end int, flags uint8, prio int8) {
	s := &r.slots[col]
	if prio >= s.prio {
		*s = slot{start: start, end: end, prio: prio, flags: flags}
	}
}

func (r *jsonRows) Append(rec []byte) (bool, error) {
	for i := range r.slots {
		r.slots[i].prio = 0
	}
	i := jsonscan.SkipWS(rec, 0)
	if i >= len(rec) {
		return false, &DecodeError{Reason: "not a JSON object: the record is empty"}
	}
	if rec[i] != '{' {
		what := "it starts with " + strconv.QuoteRune(rune(rec[i]))
		if rec[i] >= utf8.RuneSelf {
			what = fmt.Sprintf("it starts with byte 0x%02x", rec[i])
		}
		switch rec[i] {
		case '[':
			what = "it is an array"
		case '"':
			what = "it is a string"
		}
		return false, &DecodeError{Reason: "not a JSON object: " + what}
	}
	start := i
	end, err := r.scanObject(rec, i, r.root, true, 1)
	if err != nil {
		var se *jsonscan.SyntaxError
		if errors.As(err, &se) {
			err = &DecodeError{Reason: se.Error()}
		}
		return false, err
	}
	if j := jsonscan.SkipWS(rec, end); j != len(rec) {
		return false, syntaxError(j, "extra data after the JSON object")
	}
	for _, c := range r.wholeDoc {
		r.setSlot(c, start, end, 0, 2)
	}
	r.begin()
	for k := range r.cols {
		if err := r.convert(k, rec); err != nil {
			r.rollback()
			return false, err
		}
	}
	r.n++
	return true, nil
}

// scanObject walks the object at b[i] == '{'. n is the trie node of the
// object's value (nil: nothing below is needed); top marks the record's own
// object, where case-insensitive matching applies.
func (r *jsonRows) scanObject(b []byte, i int, n *pathNode, top bool, depth int) (int, error) {
	if depth > jsonscan.MaxDepth {
		return 0, syntaxError(i, "nested too deeply")
	}
	i = jsonscan.SkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, syntaxError(i, "expected a field name in quotes")
		}
		ke, kflags, err := jsonscan.ScanString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : ke-1]
		if kflags&jsonscan.Escaped != 0 {
			r.keyBuf = jsonscan.AppendUnescaped(r.keyBuf[:0], key)
			key = r.keyBuf
		}
		child := n.field(key)
		r.ciHits = r.ciHits[:0]
		if top && (child == nil || r.ciAmbiguous) {
			for _, l := range r.ci {
				if len(l.name) == len(key) && string(l.name) != string(key) && bytes.EqualFold(l.name, key) {
					r.ciHits = append(r.ciHits, l.col)
				}
			}
		}
		i = jsonscan.SkipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, syntaxError(i, "expected ':' after a field name")
		}
		i = jsonscan.SkipWS(b, i+1)
		vs := i
		var vflags uint8
		switch {
		case child != nil:
			i, vflags, err = r.scanValue(b, i, child, depth)
		case len(r.ciHits) > 0:
			i, vflags, err = r.scanValue(b, i, &r.leafOnly, depth)
		default:
			i, err = jsonscan.SkipValue(b, i, depth)
		}
		if err != nil {
			return 0, err
		}
		for _, c := range r.ciHits {
			r.setSlot(c, vs, i, vflags, 1)
		}
		i = jsonscan.SkipWS(b, i)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated object")
		}
		if b[i] == ',' {
			i = jsonscan.SkipWS(b, i+1)
			continue
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		return 0, syntaxError(i, "expected ',' or '}' in an object")
	}
}

func (r *jsonRows) scanArray(b []byte, i int, n *pathNode, depth int) (int, error) {
	if depth > jsonscan.MaxDepth {
		return 0, syntaxError(i, "nested too deeply")
	}
	i = jsonscan.SkipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for idx := 0; ; idx++ {
		var err error
		if child := n.index(idx); child != nil {
			i, _, err = r.scanValue(b, i, child, depth)
		} else {
			i, err = jsonscan.SkipValue(b, i, depth)
		}
		if err != nil {
			return 0, err
		}
		i = jsonscan.SkipWS(b, i)
		if i >= len(b) {
			return 0, syntaxError(i, "unterminated array")
		}
		if b[i] == ',' {
			i = jsonscan.SkipWS(b, i+1)
			continue
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		return 0, syntaxError(i, "expected ',' or ']' in an array")
	}
}

// scanValue walks the value at b[i] for trie node n, recording it for n's
// columns and descending for the paths below n.
func (r *jsonRows) scanValue(b []byte, i int, n *pathNode, depth int) (int, uint8, error) {
	if i >= len(b) {
		return 0, 0, syntaxError(i, "unexpected end of input")
	}
	start := i
	var (
		end   int
		flags uint8
		err   error
	)
	switch {
	case b[i] == '{' && len(n.fields) > 0:
		end, err = r.scanObject(b, i, n, false, depth+1)
	case b[i] == '[' && len(n.indexes) > 0:
		end, err = r.scanArray(b, i, n, depth+1)
	case b[i] == '"':
		end, flags, err = jsonscan.ScanString(b, i)
	default:
		end, err = jsonscan.SkipValue(b, i, depth)
	}
	if err != nil {
		return 0, 0, err
	}
	for _, c := range n.leaves {
		r.setSlot(c, start, end, flags, 2)
	}
	return end, flags, nil
}

// convert appends projected column k's value in rec to the column.
func (r *jsonRows) convert(k int, rec []byte) error {
	s := r.slots[k]
	c := &r.cols[k]
	n := r.n
	if s.prio == 0 {
		c.null(n)
		return nil
	}
	v := rec[s.start:s.end]
	kind := c.col.Type.Kind
	if kind == types.JSON {
		if v[0] == 'n' {
			c.null(n)
			return nil
		}
		c.data = append(c.data, v...)
		return c.endString(n)
	}
	switch v[0] {
	case 'n':
		c.null(n)
		return nil
	case '"':
		content := v[1 : len(v)-1]
		rewrite := s.flags&jsonscan.Escaped != 0 || s.flags&jsonscan.NonASCII != 0 && !utf8.Valid(content)
		if kind == types.Varchar {
			if rewrite {
				c.data = jsonscan.AppendUnescaped(c.data, content)
			} else {
				c.data = append(c.data, content...)
			}
			return c.endString(n)
		}
		if rewrite {
			r.scratch = jsonscan.AppendUnescaped(r.scratch[:0], content)
			content = r.scratch
		}
		why, err := c.text(n, content, r.tp)
		if err != nil {
			return err
		}
		if why != "" {
			return &DecodeError{Column: c.col.Name, Reason: "value " + quoteForError(content, true) + " is " + why}
		}
		return nil
	case 't', 'f':
		switch kind {
		case types.Boolean:
			c.boolean(n, v[0] == 't')
			return nil
		case types.Varchar:
			c.data = append(c.data, v...)
			return c.endString(n)
		}
		return &DecodeError{Column: c.col.Name, Reason: "value " + string(v) + " is not a " + c.col.Type.String()}
	case '{', '[':
		why := "not a " + c.col.Type.String()
		if kind == types.Varchar {
			why += " (declare the column JSON to keep its text)"
		}
		what := "an object"
		if v[0] == '[' {
			what = "an array"
		}
		return &DecodeError{Column: c.col.Name, Reason: "value " + quoteForError(v, false) + " is " + what + ", " + why}
	}
	// A number.
	var why string
	switch kind {
	case types.Varchar:
		c.data = append(c.data, v...)
		return c.endString(n)
	case types.BigInt:
		x, w := parseBigInt(v)
		if w == "" {
			c.int64(n, x)
		}
		why = notA("BIGINT", w)
	case types.Double:
		x, w := parseDouble(v)
		if w == "" {
			c.float(n, x)
		}
		why = notA("DOUBLE", w)
	case types.Decimal:
		d, w := parseDecimal(v, c.dec)
		if w != "" {
			why = notA(c.col.Type.String(), w)
			break
		}
		c.decimal(n, d)
	case types.Timestamp:
		x, w := r.tp.fromNumber(v)
		if w == "" {
			c.int64(n, x)
		}
		why = notA("timestamp", w)
	case types.Boolean:
		why = "not a BOOLEAN"
	}
	if why != "" {
		return &DecodeError{Column: c.col.Name, Reason: "value " + quoteForError(v, false) + " is " + why}
	}
	return nil
}

// syntaxError reports malformed JSON at a byte offset, as the scanner words it.
func syntaxError(pos int, what string) error {
	return &DecodeError{Reason: (&jsonscan.SyntaxError{Pos: pos, What: what}).Error()}
}
