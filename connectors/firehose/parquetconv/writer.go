package parquetconv

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/eddy-streams/eddy/connectors/internal/jsonscan"
)

// batchRows is how many converted rows are handed to parquet-go at once.
const batchRows = 64

// Writer converts JSON records to rows of one Parquet object. It is not safe
// for concurrent use.
type Writer struct {
	pw        *parquet.GenericWriter[any]
	conv      *converter
	blockSize int64

	batched   int   // rows converted and not yet handed to parquet-go
	marks     []int // per leaf column, its buffered length before a record
	rows      int64
	groupBase int64 // pw.Size() when the current row group began
	err       error // a write to the output failed; the object is unusable
	closed    bool
}

// NewWriter returns a Writer that writes one Parquet object with the given
// columns to w. Close must be called to finish the object.
func NewWriter(w io.Writer, columns []Column, opts Options) (*Writer, error) {
	sd, err := opts.resolveSerDe()
	if err != nil {
		return nil, err
	}
	schema, plans, err := compileSchema(columns, &sd, opts.Parquet.EnableDictionaryCompression)
	if err != nil {
		return nil, err
	}
	wopts, err := opts.Parquet.writerOptions()
	if err != nil {
		return nil, err
	}
	wopts = append(wopts, schema)
	cfg, err := parquet.NewWriterConfig(wopts...)
	if err != nil {
		return nil, fmt.Errorf("parquetconv: Parquet writer options: %w", err)
	}
	conv, err := newConverter(&sd, plans)
	if err != nil {
		return nil, err
	}
	return &Writer{
		pw:        parquet.NewGenericWriter[any](w, cfg),
		conv:      conv,
		blockSize: opts.Parquet.blockSize(),
	}, nil
}

var errClosed = errors.New("parquetconv: Write or Close after Close; start a new Writer for the next object")

// Write converts one record and buffers its rows. A record is one JSON object,
// or several written back to back ({"a":1}{"a":2}), as Firehose accepts; each
// object is one row. A record that cannot be converted returns a *RecordError
// and adds nothing. Any other error means the output failed and the object
// cannot be finished.
func (w *Writer) Write(record []byte) error {
	if w.closed {
		return errClosed
	}
	if w.err != nil {
		return w.err
	}
	c := w.conv
	w.marks = w.marks[:0]
	for _, vals := range c.cols {
		w.marks = append(w.marks, len(vals))
	}
	arenaMark := len(c.arena)
	n, err := w.convert(record)
	if err != nil {
		for col, m := range w.marks {
			c.cols[col] = c.cols[col][:m]
		}
		c.arena = c.arena[:arenaMark]
		return err
	}
	w.rows += int64(n)
	w.batched += n
	if w.batched >= batchRows {
		return w.flushBatch()
	}
	return nil
}

// convert appends the values of the record's rows to the converter's columns
// and returns how many rows it held.
func (w *Writer) convert(record []byte) (int, error) {
	c := w.conv
	n := 0
	i := jsonscan.SkipWS(record, 0)
	if i == len(record) {
		return 0, &RecordError{Code: CodeMalformedData, Message: "the record is empty or blank; expected a JSON object"}
	}
	for i < len(record) {
		switch record[i] {
		case '{':
		case '[':
			return 0, &RecordError{Code: CodeMalformedData, Message: "the record is a JSON array at byte " + strconv.Itoa(i) +
				"; expected JSON objects (several may follow each other, but not inside an array)"}
		default:
			if _, err := jsonscan.SkipValue(record, i, 0); err != nil {
				return 0, &RecordError{Code: CodeMalformedData, Message: "the record is " + err.Error()}
			}
			return 0, &RecordError{Code: CodeMalformedData, Message: "the record holds " + tokenNames[tokenAt(record[i])] +
				" at byte " + strconv.Itoa(i) + "; expected a JSON object"}
		}
		end, err := c.object(c.root, record, i, 0, 0)
		if err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				return 0, &RecordError{Code: CodeMalformedData, Message: "column " + fe.pathString() + ": " + fe.problem}
			}
			return 0, &RecordError{Code: CodeMalformedData, Message: "the record is " + err.Error()}
		}
		n++
		i = jsonscan.SkipWS(record, end)
	}
	return n, nil
}

// flushBatch hands the buffered rows to parquet-go's column writers, column
// by column (they copy the values' bytes), and closes the row group once it
// reaches the block size.
func (w *Writer) flushBatch() error {
	if w.batched == 0 {
		return nil
	}
	c := w.conv
	var err error
	for col, cw := range w.pw.ColumnWriters() {
		if err == nil {
			_, err = cw.WriteRowValues(c.cols[col])
		}
		c.cols[col] = c.cols[col][:0]
	}
	c.arena = c.arena[:0]
	w.batched = 0
	if err != nil {
		w.err = fmt.Errorf("parquetconv: writing rows: %w", err)
		return w.err
	}
	if size := w.pw.Size(); size-w.groupBase >= w.blockSize {
		if err := w.pw.Flush(); err != nil {
			w.err = fmt.Errorf("parquetconv: writing a row group: %w", err)
			return w.err
		}
		w.groupBase = w.pw.Size()
	}
	return nil
}

// Rows is the number of rows converted so far.
func (w *Writer) Rows() int64 { return w.rows }

// BufferedBytes estimates the object's size if it were closed now (without
// the footer): bytes written plus buffered data, counted before compression,
// so it errs high. Callers cut objects by comparing it to their size target.
func (w *Writer) BufferedBytes() int64 {
	const valueBytes = 8
	n := 0
	for _, vals := range w.conv.cols {
		n += len(vals)
	}
	return w.pw.Size() + int64(len(w.conv.arena)) + valueBytes*int64(n)
}

// Close writes the buffered rows, the last row group and the footer. It does
// not close the underlying io.Writer.
func (w *Writer) Close() error {
	if w.closed {
		return errClosed
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if err := w.flushBatch(); err != nil {
		return err
	}
	if err := w.pw.Close(); err != nil {
		return fmt.Errorf("parquetconv: finishing the Parquet object: %w", err)
	}
	return nil
}
