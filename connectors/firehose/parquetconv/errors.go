package parquetconv

import "strings"

// Firehose error codes for records that fail format conversion. Firehose
// writes every record it cannot parse or deserialize against the schema to
// the error output with the code DataFormatConversion.MalformedData; the
// message says what was wrong. This package uses the same code for each class
// of failure and puts the class, the column path and the problem in Message:
//
//	not JSON, or not one or more JSON objects       MalformedData
//	a value of a type the column cannot take        MalformedData
//	a number out of the column's range, a decimal
//	with too many digits, an unparseable timestamp  MalformedData
const CodeMalformedData = "DataFormatConversion.MalformedData"

// RecordError is a record that could not be converted. The Writer is left as
// it was before the record: no part of it is written.
type RecordError struct {
	Code    string // a Firehose error code, CodeMalformedData
	Message string // what is wrong and where, for the error output
}

func (e *RecordError) Error() string { return e.Code + ": " + e.Message }

// fieldError is a value that does not fit its column; path is built as the
// error returns up through nested types.
type fieldError struct {
	path    []string // innermost first
	problem string
}

func (e *fieldError) Error() string { return e.pathString() + ": " + e.problem }

func (e *fieldError) pathString() string {
	var b strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		p := e.path[i]
		if i < len(e.path)-1 && p[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func (e *fieldError) in(name string) *fieldError {
	e.path = append(e.path, name)
	return e
}
