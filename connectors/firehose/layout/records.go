package layout

import (
	"fmt"
	"io"
)

// RecordWriter writes the records of one raw (unconverted) object through
// its compression, adding the AppendDelimiterToRecord processor's newline if
// asked. Firehose otherwise concatenates records with no delimiter.
type RecordWriter struct {
	w         io.WriteCloser
	delimiter bool
	records   int
}

// NewRecordWriter starts an object of format c on dst. With appendDelimiter
// a newline goes between records: delivered objects show Firehose inserts LF
// between records and not after the last one, which matches the docs'
// "new line delimiters between records".
func NewRecordWriter(dst io.Writer, c Compression, entry ZipEntry, appendDelimiter bool) (*RecordWriter, error) {
	w, err := NewWriter(dst, c, entry)
	if err != nil {
		return nil, err
	}
	return &RecordWriter{w: w, delimiter: appendDelimiter}, nil
}

var newline = []byte{'\n'}

// WriteRecord appends one record's bytes.
func (r *RecordWriter) WriteRecord(data []byte) error {
	if r.delimiter && r.records > 0 {
		if _, err := r.w.Write(newline); err != nil {
			return fmt.Errorf("layout: writing the delimiter before record %d: %w", r.records, err)
		}
	}
	if _, err := r.w.Write(data); err != nil {
		return fmt.Errorf("layout: writing record %d: %w", r.records, err)
	}
	r.records++
	return nil
}

// Records returns how many records were written.
func (r *RecordWriter) Records() int { return r.records }

// Close ends the encoding; it does not close dst.
func (r *RecordWriter) Close() error {
	if err := r.w.Close(); err != nil {
		return fmt.Errorf("layout: finishing the object: %w", err)
	}
	return nil
}
