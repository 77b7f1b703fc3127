package format

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/eddy-streams/eddy/connectors/internal/jsonscan"
	"github.com/eddy-streams/eddy/connectors/internal/jsontext"
	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

// Encoder turns rows of a schema into records of a format, for sinks.
//
// json: one object per row, keys are the column names in order; BOOLEAN as
// true/false, BIGINT and DECIMAL as exact JSON numbers (DECIMAL with all its
// scale digits: 12.50), DOUBLE as the shortest number that reads back the same
// (NaN and infinities, which JSON lacks, as the strings "NaN", "Infinity",
// "-Infinity"), TIMESTAMP as RFC 3339 in UTC with milliseconds
// ("2026-01-02T15:04:05.000Z"), VARCHAR as a string, JSON columns embedded as
// they are (text that is not valid JSON is written as a string instead), NULL as
// null.
//
// csv: RFC 4180 fields in column order separated by csv.delimiter; fields that
// hold the delimiter, a quote or a line break are quoted; NULL is an empty
// field and an empty VARCHAR is "" (the CSV decoder reads them back so);
// TIMESTAMP, DECIMAL and DOUBLE as in json, without quotes.
//
// Rows carry no line terminator: a file sink adds "\n", a stream sink writes
// each row as one record.
type Encoder interface {
	// Format is "json" or "csv".
	Format() string
	// Header is the header row to write once at the start of an output (CSV
	// with csv.header = 'true'), or nil.
	Header() []byte
	// EachRow encodes every row of rec and calls fn with its index and text.
	// text is reused after fn returns. rec must have the encoder's schema
	// (same number of columns, each of the column's Arrow type).
	EachRow(rec arrow.RecordBatch, fn func(row int, text []byte) error) error
}

// NewEncoder returns an encoder of format ("json" or "csv") for rows of schema.
// opts are the encoder options (see EncoderOptions).
func NewEncoder(format string, schema types.Schema, opts map[string]string) (Encoder, error) {
	f := strings.ToLower(format)
	switch f {
	case "json", "csv":
	default:
		return nil, fmt.Errorf("format %q is not supported for output; eddy writes %s", format, strings.Join(EncoderFormats(), " and "))
	}
	if err := checkOptions("format "+f, opts, EncoderOptions(f)); err != nil {
		return nil, err
	}
	e := &encoder{format: f, schema: schema, delim: ','}
	if f == "json" {
		for _, c := range schema {
			k := appendJSONString(nil, []byte(c.Name))
			e.keys = append(e.keys, append(k, ':'))
		}
		return e, nil
	}
	var err error
	if e.delim, err = delimiterOpt(opts); err != nil {
		return nil, fmt.Errorf("format csv: %w", err)
	}
	header, err := boolOpt(opts, OptCSVHeader, false)
	if err != nil {
		return nil, fmt.Errorf("format csv: %w", err)
	}
	if header {
		e.header = []byte{}
		for i, c := range schema {
			if i > 0 {
				e.header = append(e.header, e.delim)
			}
			e.header = appendCSVField(e.header, []byte(c.Name), e.delim, true)
		}
	}
	return e, nil
}

type encoder struct {
	format string
	schema types.Schema
	keys   [][]byte // json: "name": per column
	delim  byte
	header []byte
	buf    []byte
	cols   []colReader
}

func (e *encoder) Format() string { return e.format }
func (e *encoder) Header() []byte { return e.header }

func (e *encoder) EachRow(rec arrow.RecordBatch, fn func(int, []byte) error) error {
	cols, err := bindColumns(e.cols[:0], e.schema, rec)
	if err != nil {
		return err
	}
	e.cols = cols
	n := int(rec.NumRows())
	for i := range n {
		b := e.buf[:0]
		if e.format == "json" {
			b = append(b, '{')
			for k := range cols {
				if k > 0 {
					b = append(b, ',')
				}
				b = append(b, e.keys[k]...)
				b = cols[k].appendJSON(b, i)
			}
			b = append(b, '}')
		} else {
			for k := range cols {
				if k > 0 {
					b = append(b, e.delim)
				}
				b = cols[k].appendCSV(b, i, e.delim)
			}
		}
		e.buf = b
		if err := fn(i, b); err != nil {
			return err
		}
	}
	return nil
}

// colReader reads one column of a record by its logical type.
type colReader struct {
	t    types.Type
	arr  arrow.Array
	bl   *array.Boolean
	i64  *array.Int64
	f64  *array.Float64
	d128 *array.Decimal128
	str  *array.String
	ts   *array.Timestamp
	tmp  []byte
}

// bindColumns checks rec against schema and returns typed readers.
func bindColumns(dst []colReader, schema types.Schema, rec arrow.RecordBatch) ([]colReader, error) {
	if int(rec.NumCols()) != len(schema) {
		return nil, fmt.Errorf("encode: the record has %d columns; the output has %d (%s)", rec.NumCols(), len(schema), schemaNames(schema))
	}
	for k, c := range schema {
		a := rec.Column(k)
		cr := colReader{t: c.Type, arr: a}
		ok := true
		switch c.Type.Kind {
		case types.Boolean:
			cr.bl, ok = a.(*array.Boolean)
		case types.BigInt, types.Interval:
			cr.i64, ok = a.(*array.Int64)
		case types.Double:
			cr.f64, ok = a.(*array.Float64)
		case types.Decimal:
			cr.d128, ok = a.(*array.Decimal128)
		case types.Varchar, types.JSON:
			cr.str, ok = a.(*array.String)
		case types.Timestamp:
			cr.ts, ok = a.(*array.Timestamp)
		case types.Null:
		default:
			ok = false
		}
		if !ok {
			return nil, fmt.Errorf("encode: column %s is %s in the record, not the %s of the output", c.Name, a.DataType(), c.Type)
		}
		if k < len(dst[:cap(dst)]) {
			cr.tmp = dst[:cap(dst)][k].tmp[:0]
		}
		dst = append(dst, cr)
	}
	return dst, nil
}

func schemaNames(s types.Schema) string {
	names := make([]string, len(s))
	for i, c := range s {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func (c *colReader) appendJSON(b []byte, i int) []byte {
	if c.t.Kind == types.Null || c.arr.IsNull(i) {
		return append(b, "null"...)
	}
	switch c.t.Kind {
	case types.Boolean:
		return strconv.AppendBool(b, c.bl.Value(i))
	case types.BigInt, types.Interval:
		return strconv.AppendInt(b, c.i64.Value(i), 10)
	case types.Double:
		return appendFloat(b, c.f64.Value(i), true)
	case types.Decimal:
		return appendDecimal(b, c.d128.Value(i), c.t.Scale)
	case types.Varchar:
		return appendJSONString(b, stringBytes(c.str, i))
	case types.JSON:
		v := stringBytes(c.str, i)
		if jsonscan.Valid(v) {
			return append(b, trimSpace(v)...)
		}
		return appendJSONString(b, v)
	case types.Timestamp:
		b = append(b, '"')
		b = appendTimestamp(b, int64(c.ts.Value(i)), 'T', true)
		return append(b, '"')
	}
	return append(b, "null"...)
}

func (c *colReader) appendCSV(b []byte, i int, delim byte) []byte {
	if c.t.Kind == types.Null || c.arr.IsNull(i) {
		return b
	}
	switch c.t.Kind {
	case types.Boolean:
		return strconv.AppendBool(b, c.bl.Value(i))
	case types.BigInt, types.Interval:
		return strconv.AppendInt(b, c.i64.Value(i), 10)
	case types.Double:
		return appendFloat(b, c.f64.Value(i), false)
	case types.Decimal:
		return appendDecimal(b, c.d128.Value(i), c.t.Scale)
	case types.Varchar:
		return appendCSVField(b, stringBytes(c.str, i), delim, true)
	case types.JSON:
		return appendCSVField(b, stringBytes(c.str, i), delim, false)
	case types.Timestamp:
		return appendTimestamp(b, int64(c.ts.Value(i)), 'T', true)
	}
	return b
}

// stringBytes returns the bytes of a string array's value without copying;
// they must not be modified.
func stringBytes(a *array.String, i int) []byte {
	v := a.Value(i)
	return unsafe.Slice(unsafe.StringData(v), len(v))
}

// appendJSONString appends s as a JSON string, as encoding/json does without
// HTML escaping.
func appendJSONString(b, s []byte) []byte { return jsontext.AppendBytes(b, s) }

// AppendErrorRecord appends an error record as one JSON object:
//
//	{"kind":"decode","source":"trades","shard":"shardId-000000000001",
//	 "sequenceNumber":"4…","reason":"column price: …",
//	 "rowtime":"2026-01-02T15:04:05.000Z","at":"2026-01-02T15:04:05.123Z",
//	 "raw":"{\"price\":\"abc\"}"}
//
// raw is the record's text when it is valid UTF-8; otherwise it is base64 and
// "rawEncoding":"base64" follows. Zero times and a nil raw are null.
func AppendErrorRecord(b []byte, e exec.ErrorRecord) []byte {
	b = append(b, `{"kind":`...)
	b = appendJSONString(b, []byte(e.Kind))
	b = append(b, `,"source":`...)
	b = appendJSONString(b, []byte(e.Source))
	b = append(b, `,"shard":`...)
	b = appendJSONString(b, []byte(e.Split))
	b = append(b, `,"sequenceNumber":`...)
	b = appendJSONString(b, []byte(e.Position))
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, []byte(e.Reason))
	b = append(b, `,"rowtime":`...)
	b = appendJSONTime(b, e.Rowtime)
	b = append(b, `,"at":`...)
	b = appendJSONTime(b, e.At)
	b = append(b, `,"raw":`...)
	switch {
	case e.Raw == nil:
		b = append(b, "null"...)
	case utf8.Valid(e.Raw):
		b = appendJSONString(b, e.Raw)
	default:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, e.Raw)
		b = append(b, `","rawEncoding":"base64"`...)
	}
	return append(b, '}')
}

func appendJSONTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = appendTimestamp(b, t.UnixMilli(), 'T', true)
	return append(b, '"')
}

// AppendText appends row i of a as plain text: strings as they are, numbers as
// the encoders write them, TIMESTAMP as RFC 3339 UTC with milliseconds,
// booleans as true/false, NULL as nothing. Sinks use it for partition keys.
func AppendText(dst []byte, a arrow.Array, i int) []byte {
	if a.IsNull(i) {
		return dst
	}
	switch a := a.(type) {
	case *array.String:
		return append(dst, a.Value(i)...)
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(i), 10)
	case *array.Float64:
		return appendFloat(dst, a.Value(i), false)
	case *array.Decimal128:
		return appendDecimal(dst, a.Value(i), a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return appendTimestamp(dst, a.Value(i).ToTime(unit).UnixMilli(), 'T', true)
	case *array.Boolean:
		return strconv.AppendBool(dst, a.Value(i))
	}
	return append(dst, a.ValueStr(i)...)
}
