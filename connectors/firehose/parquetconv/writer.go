package parquetconv

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// batchRows is how many converted rows are handed to parquet-go at once;
// parquet-go writes rows in chunks of 64 itself.
const batchRows = 64

// Writer converts JSON records to rows of one Parquet object. It is not safe
// for concurrent use.
type Writer struct {
	pw        *parquet.GenericWriter[any]
	conv      *converter
	blockSize int64

	rowEnds   []int // end of each buffered row in conv.row
	rowsBuf   []parquet.Row
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
	valsMark, endsMark, arenaMark := len(w.conv.row), len(w.rowEnds), len(w.conv.arena)
	if err := w.convert(record); err != nil {
		w.conv.row, w.rowEnds, w.conv.arena = w.conv.row[:valsMark], w.rowEnds[:endsMark], w.conv.arena[:arenaMark]
		return err
	}
	w.rows += int64(len(w.rowEnds) - endsMark)
	if len(w.rowEnds) >= batchRows {
		return w.flushBatch()
	}
	return nil
}

// convert appends the record's rows to w.conv.row and w.rowEnds.
func (w *Writer) convert(record []byte) error {
	c := w.conv
	i := skipWS(record, 0)
	if i == len(record) {
		return &RecordError{Code: CodeMalformedData, Message: "the record is empty or blank; expected a JSON object"}
	}
	for i < len(record) {
		switch record[i] {
		case '{':
		case '[':
			return &RecordError{Code: CodeMalformedData, Message: "the record is a JSON array at byte " + strconv.Itoa(i) +
				"; expected JSON objects (several may follow each other, but not inside an array)"}
		default:
			if _, err := skipValue(record, i, 0); err != nil {
				return &RecordError{Code: CodeMalformedData, Message: "the record is " + err.Error()}
			}
			return &RecordError{Code: CodeMalformedData, Message: "the record holds " + tokenNames[tokenAt(record[i])] +
				" at byte " + strconv.Itoa(i) + "; expected a JSON object"}
		}
		for col := range c.cols {
			c.cols[col] = c.cols[col][:0]
		}
		end, err := c.object(c.root, record, i, 0, 0)
		if err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				return &RecordError{Code: CodeMalformedData, Message: "column " + fe.pathString() + ": " + fe.problem}
			}
			return &RecordError{Code: CodeMalformedData, Message: "the record is " + err.Error()}
		}
		w.rowEnds = append(w.rowEnds, len(c.row))
		i = skipWS(record, end)
	}
	return nil
}

// flushBatch hands the buffered rows to parquet-go (which copies their
// bytes) and closes the row group once it reaches the block size.
func (w *Writer) flushBatch() error {
	if len(w.rowEnds) == 0 {
		return nil
	}
	w.rowsBuf = w.rowsBuf[:0]
	start := 0
	for _, end := range w.rowEnds {
		w.rowsBuf = append(w.rowsBuf, w.conv.row[start:end:end])
		start = end
	}
	_, err := w.pw.WriteRows(w.rowsBuf)
	clear(w.rowsBuf)
	w.conv.row, w.rowEnds, w.conv.arena = w.conv.row[:0], w.rowEnds[:0], w.conv.arena[:0]
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
	return w.pw.Size() + int64(len(w.conv.arena)) + valueBytes*int64(len(w.conv.row))
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
