package format

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/eddy-streams/eddy/sql/types"
)

// Table renders rows for a person at a console, batch by batch as they arrive:
//
//	 ticker | price  | qty | ts
//	--------+--------+-----+-------------------------
//	 AAPL   | 187.23 |  10 | 2026-03-01 12:00:00.123
//	 MSFT   |   NULL |   5 | 2026-03-01 12:00:01.000
//
// Column widths are fixed when the first batch arrives (the header is printed
// then), so later rows line up without buffering the stream: each is the widest
// of the column's name, a width for its type (TIMESTAMP 23, BOOLEAN 5,
// DECIMAL(p,s) p+2) and the values of the first batch, at most MaxTableWidth.
// Text longer than its column is cut with "…"; numbers are never cut, so a
// later, wider number pushes its row out of line rather than lie. Numbers are
// right-aligned (their headers too), text left-aligned; NULL is shown as NULL; TIMESTAMP is UTC
// without a zone letter; line breaks and tabs in text show as \n and \t.
type Table struct {
	w      *bufio.Writer
	schema types.Schema
	widths []int
	rows   int64
	cols   []colReader
}

// MaxTableWidth bounds a console column's width, in characters.
const MaxTableWidth = 40

// NewTable returns a Table writing to w.
func NewTable(w io.Writer, schema types.Schema) *Table {
	return &Table{w: bufio.NewWriter(w), schema: schema}
}

// Rows is how many rows were written.
func (t *Table) Rows() int64 { return t.rows }

// Header prints the header now, sizing the columns from their names and types
// only, if no batch has fixed them yet.
func (t *Table) Header() error {
	if t.widths == nil {
		t.fixWidths(nil)
	}
	return t.w.Flush()
}

// Write renders the rows of rec and flushes them to the writer.
func (t *Table) Write(rec arrow.RecordBatch) error {
	cols, err := bindColumns(t.cols[:0], t.schema, rec)
	if err != nil {
		return err
	}
	t.cols = cols
	n := int(rec.NumRows())
	if t.widths == nil {
		t.fixWidths(func(k int) int {
			w := 0
			for i := range n {
				w = max(w, utf8.RuneCountInString(t.cell(k, i)))
			}
			return w
		})
	}
	var line []byte
	for i := range n {
		line = line[:0]
		for k := range t.schema {
			if k > 0 {
				line = append(line, " |"...)
			}
			line = append(line, ' ')
			line = t.pad(line, t.cell(k, i), k)
		}
		line = trimRight(line)
		line = append(line, '\n')
		if _, err := t.w.Write(line); err != nil {
			return fmt.Errorf("table: %w", err)
		}
		t.rows++
	}
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	return nil
}

func trimRight(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

// typeWidth is a column's minimum width for its type.
func typeWidth(t types.Type) int {
	switch t.Kind {
	case types.Timestamp:
		return 23
	case types.Boolean:
		return 5
	case types.Decimal:
		return int(t.Precision) + 2
	}
	return 4 // NULL
}

func rightAligned(t types.Type) bool {
	switch t.Kind {
	case types.BigInt, types.Double, types.Decimal, types.Interval:
		return true
	}
	return false
}

// fixWidths sets the widths and prints the header; sample gives the widest
// value of a column in the first batch.
func (t *Table) fixWidths(sample func(k int) int) {
	t.widths = make([]int, len(t.schema))
	var head, rule []byte
	for k, c := range t.schema {
		w := max(utf8.RuneCountInString(c.Name), typeWidth(c.Type))
		if sample != nil {
			w = max(w, sample(k))
		}
		w = min(w, MaxTableWidth)
		t.widths[k] = w
		if k > 0 {
			head = append(head, " |"...)
			rule = append(rule, '+')
		}
		head = append(head, ' ')
		head = t.padLeft(head, c.Name, w, rightAligned(c.Type))
		rule = append(rule, strings.Repeat("-", w+2)...)
	}
	t.w.Write(trimRight(head))
	t.w.WriteByte('\n')
	t.w.Write(rule)
	t.w.WriteByte('\n')
}

func (t *Table) pad(dst []byte, s string, k int) []byte {
	return t.padLeft(dst, s, t.widths[k], rightAligned(t.schema[k].Type))
}

// padLeft appends s in a field of width w, right-aligned when right; text
// longer than w is cut with "…" unless right-aligned (a number).
func (t *Table) padLeft(dst []byte, s string, w int, right bool) []byte {
	n := utf8.RuneCountInString(s)
	if n > w && !right {
		cut := 0
		for range w - 1 {
			_, size := utf8.DecodeRuneInString(s[cut:])
			cut += size
		}
		s, n = s[:cut]+"…", w
	}
	if right {
		for ; n < w; n++ {
			dst = append(dst, ' ')
		}
		return append(dst, s...)
	}
	dst = append(dst, s...)
	for ; n < w; n++ {
		dst = append(dst, ' ')
	}
	return dst
}

// cell renders row i of column k.
func (t *Table) cell(k, i int) string {
	c := &t.cols[k]
	if c.t.Kind == types.Null || c.arr.IsNull(i) {
		return "NULL"
	}
	var b []byte
	switch c.t.Kind {
	case types.Varchar, types.JSON:
		s := c.str.Value(i)
		if strings.ContainsAny(s, "\n\r\t") {
			s = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
		}
		return s
	case types.Timestamp:
		b = appendTimestamp(c.tmp[:0], int64(c.ts.Value(i)), ' ', false)
	case types.Double:
		b = appendFloat(c.tmp[:0], c.f64.Value(i), false)
	default:
		b = c.appendCSV(c.tmp[:0], i, 0)
	}
	c.tmp = b
	return string(b)
}
