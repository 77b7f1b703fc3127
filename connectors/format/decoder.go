package format

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql/types"
)

// Decoder maps raw records of one format onto a stream's declared columns. It
// is immutable and safe for concurrent use; each reader gets its own
// RowDecoder from Project.
type Decoder interface {
	// Format is the format's name: "json" or "csv".
	Format() string
	// Columns are the declared columns the decoder maps records onto.
	Columns() types.Schema
	// Project returns a RowDecoder that decodes only the columns at the given
	// indexes of Columns, in that order (projection pushdown). nil means every
	// column; an empty, non-nil slice decodes no column but still checks each
	// record and counts its row (COUNT(*)).
	Project(needed []int) (RowDecoder, error)
}

// RowDecoder appends decoded records as rows of the projected columns. It
// keeps each column in Go slices laid out as Arrow buffers and hands them over
// without copying (the arrays' memory belongs to the Go heap, not to an Arrow
// allocator). It is not safe for concurrent use.
type RowDecoder interface {
	// Schema is the projected columns, in the order of Project's needed.
	Schema() types.Schema
	// Append decodes one record and appends one row, or appends nothing and
	// returns a *DecodeError that says why. appended is false with a nil error
	// for a record that is not data (a CSV header line when csv.header is set).
	Append(rec []byte) (appended bool, err error)
	// Len is the number of rows appended since the last NewArrays.
	Len() int
	// NewArrays returns the rows appended so far as one array per projected
	// column (the caller releases them) and starts the next batch.
	NewArrays() []arrow.Array
	// Size is roughly how many bytes the rows appended since NewArrays hold.
	Size() int
	// Release drops the rows not yet handed over.
	Release()
}

// DecodeError says why one record could not be decoded. Column is empty when
// the record as a whole is malformed.
type DecodeError struct {
	Column string
	Reason string
}

func (e *DecodeError) Error() string {
	if e.Column == "" {
		return e.Reason
	}
	return "column " + e.Column + ": " + e.Reason
}

// NewDecoder returns a Decoder for format ("json" or "csv") over the declared
// columns cols. paths holds, per column, a JSON path ("$.quote.price",
// "$.items[0].sku", "$" for the whole record) or "" to read the top-level field
// named like the column; paths may be nil. opts are the format options (see
// DecoderOptions); an unknown option is an error that names it and lists the
// valid ones.
func NewDecoder(format string, cols types.Schema, paths []string, opts map[string]string) (Decoder, error) {
	f := strings.ToLower(format)
	if err := checkOptions("format "+f, opts, DecoderOptions(f)); err != nil {
		return nil, err
	}
	if paths != nil && len(paths) != len(cols) {
		return nil, fmt.Errorf("format %s: %d paths for %d columns", f, len(paths), len(cols))
	}
	for _, c := range cols {
		switch c.Type.Kind {
		case types.Boolean, types.BigInt, types.Double, types.Decimal, types.Varchar, types.Timestamp, types.JSON:
		default:
			return nil, fmt.Errorf("format %s: column %s: type %s cannot be read from records", f, c.Name, c.Type)
		}
	}
	tp, err := parseTimeOptions(opts)
	if err != nil {
		return nil, err
	}
	switch f {
	case "json":
		return newJSONDecoder(cols, paths, opts, tp)
	case "csv":
		return newCSVDecoder(cols, paths, opts, tp)
	}
	return nil, fmt.Errorf("format %q is not supported; eddy reads %s", format, strings.Join(DecoderFormats(), " and "))
}

// checkProjection validates needed against n columns and resolves nil to all.
func checkProjection(needed []int, n int) ([]int, error) {
	if needed == nil {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	seen := make(map[int]bool, len(needed))
	for _, c := range needed {
		if c < 0 || c >= n {
			return nil, fmt.Errorf("projected column %d is out of range: the stream has %d columns", c, n)
		}
		if seen[c] {
			return nil, fmt.Errorf("projected column %d is listed twice", c)
		}
		seen[c] = true
	}
	return append([]int(nil), needed...), nil
}

// column accumulates one projected column's values in Go slices laid out as
// Arrow buffers. A record appends exactly one value (or NULL) to every column;
// a record that fails is rolled back by cutting every column to the row count,
// so no partial row is ever left behind.
type column struct {
	col   types.Column
	dec   decimalSpec
	valid []byte // validity bitmap
	bits  []byte // BOOLEAN values
	i64   []int64
	f64   []float64
	d128  []decimal128.Num
	offs  []int32 // VARCHAR, JSON: n+1 offsets into data
	data  []byte
	// hintData is the string bytes of the last batch, to size the next.
	hintData int
}

// prepare sizes an empty column for rows like the last batch's. Buffers are
// allocated when a batch starts, not when one is handed over, so an idle
// reader (one per shard) holds no memory.
func (c *column) prepare(rows int) {
	c.valid = make([]byte, 0, (rows+7)/8)
	switch c.col.Type.Kind {
	case types.Boolean:
		c.bits = make([]byte, 0, (rows+7)/8)
	case types.BigInt, types.Timestamp:
		c.i64 = make([]int64, 0, rows)
	case types.Double:
		c.f64 = make([]float64, 0, rows)
	case types.Decimal:
		c.d128 = make([]decimal128.Num, 0, rows)
	case types.Varchar, types.JSON:
		c.offs = append(make([]int32, 0, rows+1), 0)
		c.data = make([]byte, 0, c.hintData)
	}
}

// maxStringBytes bounds a batch's string data (Arrow String offsets are int32).
const maxStringBytes = 1<<31 - 1

// rowSet is what every RowDecoder shares: the projected columns and the row count.
type rowSet struct {
	schema types.Schema
	cols   []column
	n      int
	hint   int  // rows of the last batch
	fresh  bool // the columns have no buffers yet
}

// begin readies the columns for a record; only the first record of a batch
// has work to do.
func (rs *rowSet) begin() {
	if rs.fresh {
		rs.fresh = false
		for i := range rs.cols {
			rs.cols[i].prepare(max(rs.hint, 64))
		}
	}
}

func newRowSet(schema types.Schema) rowSet {
	rs := rowSet{schema: schema, cols: make([]column, len(schema)), fresh: true}
	for i, c := range schema {
		rs.cols[i] = column{col: c}
		if c.Type.Kind == types.Decimal {
			rs.cols[i].dec = newDecimalSpec(c.Type.Precision, c.Type.Scale)
		}
	}
	return rs
}

func (rs *rowSet) Schema() types.Schema { return rs.schema }

func (rs *rowSet) Len() int { return rs.n }

// setBit sets or clears bit n of *bm, growing it by a byte when n starts one.
func setBit(bm *[]byte, n int, v bool) {
	if n>>3 >= len(*bm) {
		*bm = append(*bm, 0)
	}
	if v {
		(*bm)[n>>3] |= 1 << (n & 7)
	} else {
		(*bm)[n>>3] &^= 1 << (n & 7)
	}
}

// Appends for row n (rs.n) of a column.
func (c *column) null(n int) {
	setBit(&c.valid, n, false)
	switch c.col.Type.Kind {
	case types.Boolean:
		setBit(&c.bits, n, false)
	case types.BigInt, types.Timestamp:
		c.i64 = append(c.i64, 0)
	case types.Double:
		c.f64 = append(c.f64, 0)
	case types.Decimal:
		c.d128 = append(c.d128, decimal128.Num{})
	case types.Varchar, types.JSON:
		c.offs = append(c.offs, int32(len(c.data)))
	}
}

func (c *column) boolean(n int, v bool) { setBit(&c.valid, n, true); setBit(&c.bits, n, v) }
func (c *column) int64(n int, v int64)  { setBit(&c.valid, n, true); c.i64 = append(c.i64, v) }
func (c *column) float(n int, v float64) {
	setBit(&c.valid, n, true)
	c.f64 = append(c.f64, v)
}
func (c *column) decimal(n int, v decimal128.Num) {
	setBit(&c.valid, n, true)
	c.d128 = append(c.d128, v)
}

// endString closes a string value whose bytes were appended to c.data.
func (c *column) endString(n int) error {
	if len(c.data) > maxStringBytes {
		return &DecodeError{Column: c.col.Name, Reason: "the batch's text for this column passed 2 GiB"}
	}
	setBit(&c.valid, n, true)
	c.offs = append(c.offs, int32(len(c.data)))
	return nil
}

// truncate cuts the column back to n rows.
func (c *column) truncate(n int) {
	switch c.col.Type.Kind {
	case types.BigInt, types.Timestamp:
		c.i64 = c.i64[:min(n, len(c.i64))]
	case types.Double:
		c.f64 = c.f64[:min(n, len(c.f64))]
	case types.Decimal:
		c.d128 = c.d128[:min(n, len(c.d128))]
	case types.Varchar, types.JSON:
		if len(c.offs) > n+1 {
			c.offs = c.offs[:n+1]
		}
		c.data = c.data[:c.offs[n]]
	}
}

// rollback drops whatever the current record appended.
func (rs *rowSet) rollback() {
	for i := range rs.cols {
		rs.cols[i].truncate(rs.n)
	}
}

// newArray hands the column's n rows over as an Arrow array and starts afresh,
// sized for a batch like this one.
func (c *column) newArray(n int) arrow.Array {
	bm := func(b []byte) *memory.Buffer {
		b = b[:(n+7)/8]
		if n%8 != 0 {
			b[n/8] &= 1<<(n%8) - 1 // bits past the last row may hold a rolled-back record's
		}
		return memory.NewBufferBytes(b)
	}
	valid := c.valid
	if len(valid) < (n+7)/8 {
		valid = append(valid, make([]byte, (n+7)/8-len(valid))...)
	}
	nulls := n - bitutil.CountSetBits(valid, 0, n)
	var validBuf *memory.Buffer
	if nulls > 0 {
		validBuf = bm(valid)
	}
	var buffers []*memory.Buffer
	switch c.col.Type.Kind {
	case types.Boolean:
		bits := c.bits
		if len(bits) < (n+7)/8 {
			bits = append(bits, make([]byte, (n+7)/8-len(bits))...)
		}
		buffers = []*memory.Buffer{validBuf, bm(bits)}
		c.bits = nil
	case types.BigInt, types.Timestamp:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(c.i64[:n]))}
		c.i64 = nil
	case types.Double:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(c.f64[:n]))}
		c.f64 = nil
	case types.Decimal:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Decimal128Traits.CastToBytes(c.d128[:n]))}
		c.d128 = nil
	case types.Varchar, types.JSON:
		buffers = []*memory.Buffer{validBuf, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offs[:n+1])), memory.NewBufferBytes(c.data)}
		c.hintData = len(c.data)
		c.offs, c.data = nil, nil
	}
	c.valid = nil
	data := array.NewData(c.col.Type.Arrow(), n, buffers, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

func (rs *rowSet) NewArrays() []arrow.Array {
	out := make([]arrow.Array, len(rs.cols))
	rs.begin() // a batch of no rows still needs its (empty) buffers
	for i := range rs.cols {
		out[i] = rs.cols[i].newArray(rs.n)
	}
	rs.hint, rs.n, rs.fresh = rs.n, 0, true
	return out
}

// Size is the bytes the current batch holds, roughly.
func (rs *rowSet) Size() int {
	size := 0
	for i := range rs.cols {
		c := &rs.cols[i]
		size += len(c.valid) + len(c.bits) + 8*len(c.i64) + 8*len(c.f64) + 16*len(c.d128) + 4*len(c.offs) + len(c.data)
	}
	return size
}

func (rs *rowSet) Release() {
	for i := range rs.cols {
		rs.cols[i] = column{col: rs.cols[i].col, dec: rs.cols[i].dec}
	}
	rs.n, rs.fresh = 0, true
}

// text appends a text value (a JSON string's content, a CSV field) to column
// c as its type, or returns why it cannot.
func (c *column) text(n int, text []byte, tp *timeParser) (string, error) {
	switch c.col.Type.Kind {
	case types.Varchar:
		c.data = append(c.data, text...)
		return "", c.endString(n)
	case types.Boolean:
		v, ok := parseBool(text)
		if !ok {
			return "not a BOOLEAN", nil
		}
		c.boolean(n, v)
		return "", nil
	case types.BigInt:
		v, why := parseBigInt(trimSpace(text))
		if why != "" {
			return notA("BIGINT", why), nil
		}
		c.int64(n, v)
		return "", nil
	case types.Double:
		v, why := parseDouble(trimSpace(text))
		if why != "" {
			return notA("DOUBLE", why), nil
		}
		c.float(n, v)
		return "", nil
	case types.Decimal:
		v, why := parseDecimal(trimSpace(text), c.dec)
		if why != "" {
			return notA(c.col.Type.String(), why), nil
		}
		c.decimal(n, v)
		return "", nil
	case types.Timestamp:
		v, why := tp.fromString(text)
		if why != "" {
			return notA("timestamp", why), nil
		}
		c.int64(n, v)
		return "", nil
	}
	return "cannot hold " + c.col.Type.String(), nil
}

// notA phrases a conversion failure: "" stays "", else "not a DOUBLE (out of range)".
func notA(typ, why string) string {
	switch why {
	case "":
		return ""
	case reasonNotNumber:
		return "not a " + typ
	case reasonFraction:
		return "not a " + typ + " (it has a fraction)"
	}
	return "not a " + typ + " (" + why + ")"
}

// quoteForError shows a value in an error message, shortened.
func quoteForError(b []byte, quoted bool) string {
	const maxLen = 64
	s := string(b)
	short := false
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s, short = s[:cut], true
	}
	if quoted {
		s = fmt.Sprintf("%q", s)
	}
	if short {
		s += "…"
	}
	return s
}
