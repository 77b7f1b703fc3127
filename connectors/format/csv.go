package format

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/eddy-streams/eddy/connectors/internal/jsonscan"
	"github.com/eddy-streams/eddy/sql/types"
)

// csvDecoder maps one CSV row per record onto the declared columns, in order.
type csvDecoder struct {
	cols   types.Schema
	delim  byte
	header bool
	tp     timeParser
}

func newCSVDecoder(cols types.Schema, paths []string, opts map[string]string, tp timeParser) (*csvDecoder, error) {
	for i, p := range paths {
		if p != "" {
			return nil, fmt.Errorf("format csv: column %s has the path %q, but CSV fields are mapped by position; paths apply to json only", cols[i].Name, p)
		}
	}
	delim, err := delimiterOpt(opts)
	if err != nil {
		return nil, fmt.Errorf("format csv: %w", err)
	}
	header, err := boolOpt(opts, OptCSVHeader, false)
	if err != nil {
		return nil, fmt.Errorf("format csv: %w", err)
	}
	return &csvDecoder{cols: cols, delim: delim, header: header, tp: tp}, nil
}

func (d *csvDecoder) Format() string        { return "csv" }
func (d *csvDecoder) Columns() types.Schema { return d.cols }

func (d *csvDecoder) Project(needed []int) (RowDecoder, error) {
	needed, err := checkProjection(needed, len(d.cols))
	if err != nil {
		return nil, fmt.Errorf("format csv: %w", err)
	}
	schema := make(types.Schema, len(needed))
	for k, c := range needed {
		schema[k] = d.cols[c]
	}
	return &csvRows{rowSet: newRowSet(schema), d: d, needed: needed, fields: make([]csvField, 0, len(d.cols))}, nil
}

// csvField is one field's content in the record: [start, end), without quotes.
type csvField struct {
	start, end int
	quoted     bool
	escaped    bool // has "" inside quotes
}

type csvRows struct {
	rowSet
	d       *csvDecoder
	needed  []int
	fields  []csvField
	scratch []byte
}

// split finds the fields of rec (one row; a final CR LF or LF is ignored) per
// RFC 4180: fields containing the delimiter, quotes or line breaks are quoted,
// and a quote inside is doubled.
func (r *csvRows) split(rec []byte) ([]byte, error) {
	if n := len(rec); n > 0 && rec[n-1] == '\n' {
		rec = rec[:n-1]
		if n := len(rec); n > 0 && rec[n-1] == '\r' {
			rec = rec[:n-1]
		}
	}
	r.fields = r.fields[:0]
	delim := r.d.delim
	i := 0
	for {
		if i < len(rec) && rec[i] == '"' {
			f := csvField{start: i + 1, quoted: true}
			j := i + 1
			for {
				k := bytes.IndexByte(rec[j:], '"')
				if k < 0 {
					return nil, &DecodeError{Reason: fmt.Sprintf("field %d: quoted field starting at byte %d has no closing quote", len(r.fields)+1, i)}
				}
				j += k
				if j+1 < len(rec) && rec[j+1] == '"' {
					f.escaped = true
					j += 2
					continue
				}
				break
			}
			f.end = j
			r.fields = append(r.fields, f)
			i = j + 1
			if i == len(rec) {
				return rec, nil
			}
			if rec[i] != delim {
				return nil, &DecodeError{Reason: fmt.Sprintf("field %d: unexpected %q after the closing quote at byte %d", len(r.fields), rec[i], i)}
			}
			i++
			continue
		}
		k := bytes.IndexByte(rec[i:], delim)
		end := len(rec)
		if k >= 0 {
			end = i + k
		}
		for q := i; q < end; q++ {
			switch rec[q] {
			case '"':
				return nil, &DecodeError{Reason: fmt.Sprintf("field %d: a quote at byte %d inside an unquoted field (quote the whole field and double the quote)", len(r.fields)+1, q)}
			case '\n', '\r':
				return nil, &DecodeError{Reason: fmt.Sprintf("field %d: a line break at byte %d inside an unquoted field; a record holds one CSV row, and a field with a line break must be quoted", len(r.fields)+1, q)}
			}
		}
		r.fields = append(r.fields, csvField{start: i, end: end})
		if k < 0 {
			return rec, nil
		}
		i = end + 1
	}
}

func (r *csvRows) Append(rec []byte) (bool, error) {
	rec, err := r.split(rec)
	if err != nil {
		return false, err
	}
	if len(r.fields) != len(r.d.cols) {
		return false, &DecodeError{Reason: fmt.Sprintf("the record has %d fields; the stream has %d columns", len(r.fields), len(r.d.cols))}
	}
	if r.d.header && r.isHeader(rec) {
		return false, nil
	}
	r.begin()
	for k, ci := range r.needed {
		if err := r.convert(k, rec, r.fields[ci]); err != nil {
			r.rollback()
			return false, err
		}
	}
	r.n++
	return true, nil
}

func (r *csvRows) convert(k int, rec []byte, f csvField) error {
	c := &r.cols[k]
	n := r.n
	kind := c.col.Type.Kind
	if f.start == f.end && (!f.quoted || kind != types.Varchar) {
		c.null(n)
		return nil
	}
	text := rec[f.start:f.end]
	rewrite := f.escaped || !utf8.Valid(text)
	if kind == types.Varchar {
		if rewrite {
			c.data = appendCSVUnescaped(c.data, text)
		} else {
			c.data = append(c.data, text...)
		}
		return c.endString(n)
	}
	if rewrite {
		r.scratch = appendCSVUnescaped(r.scratch[:0], text)
		text = r.scratch
	}
	var why string
	if kind == types.JSON {
		if !jsonscan.Valid(text) {
			why = "not JSON"
		} else {
			c.data = append(c.data, text...)
			if err := c.endString(n); err != nil {
				return err
			}
		}
	} else {
		var err error
		if why, err = c.text(n, text, &r.d.tp); err != nil {
			return err
		}
	}
	if why != "" {
		return &DecodeError{Column: c.col.Name, Reason: "value " + quoteForError(text, true) + " is " + why}
	}
	return nil
}

// isHeader says whether every field is its column's name (in any case).
func (r *csvRows) isHeader(rec []byte) bool {
	for i, f := range r.fields {
		if f.escaped || !bytes.EqualFold(rec[f.start:f.end], []byte(r.d.cols[i].Name)) {
			return false
		}
	}
	return true
}

// appendCSVUnescaped appends field text with doubled quotes undone and invalid
// UTF-8 replaced by U+FFFD.
func appendCSVUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			dst = append(dst, '"')
			i += 2 // the field was split on "" pairs
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}

// csvNeedsQuote says whether a field must be quoted.
func csvNeedsQuote(s []byte, delim byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c == delim || c == '"' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// appendCSVField appends s as one CSV field, quoted when needed. quoteEmpty
// writes an empty string as "" (to tell it from NULL).
func appendCSVField(dst, s []byte, delim byte, quoteEmpty bool) []byte {
	if len(s) == 0 {
		if quoteEmpty {
			return append(dst, '"', '"')
		}
		return dst
	}
	if !csvNeedsQuote(s, delim) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for _, c := range s {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}
