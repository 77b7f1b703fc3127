package layout

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/eddy-streams/eddy/connectors/internal/jsontext"
)

// ErrorRecord is one failed record as the error output reports it.
type ErrorRecord struct {
	// Type picks the document's shape: FormatConversionFailed documents
	// use lastErrorCode/lastErrorMessage, subSequenceNumber and
	// dataCatalogTable (the docs' format conversion schema); the others use
	// errorCode/errorMessage and subsequenceNumber (the docs' processing and
	// delivery failure examples).
	Type          ErrorOutputType
	AttemptsMade  int
	Arrival       time.Time // when the record reached the delivery stream
	ErrorCode     string
	ErrorMessage  string
	AttemptEnding time.Time // when eddy stopped trying
	RawData       []byte
	// Kinesis is set for records read from a Kinesis data stream.
	Kinesis *KinesisPosition
	// Table is the format conversion's Glue-style table, for
	// FormatConversionFailed documents.
	Table *CatalogTable
}

// KinesisPosition is a record's position in its source stream.
type KinesisPosition struct {
	SequenceNumber    string
	SubsequenceNumber int64
}

// CatalogTable names the schema a format conversion used.
type CatalogTable struct {
	CatalogID, DatabaseName, TableName, Region, VersionID, CatalogARN string
}

// AppendErrorRecord appends r as one JSON line (ending in a newline), fields
// in the order of the docs' examples: timestamps as epoch milliseconds,
// rawData as standard base64.
func AppendErrorRecord(dst []byte, r ErrorRecord) []byte {
	conversion := r.Type == FormatConversionFailed
	codeName, messageName, subName := "errorCode", "errorMessage", "subsequenceNumber"
	if conversion {
		codeName, messageName, subName = "lastErrorCode", "lastErrorMessage", "subSequenceNumber"
	}
	dst = append(dst, `{"attemptsMade":`...)
	dst = strconv.AppendInt(dst, int64(r.AttemptsMade), 10)
	dst = append(dst, `,"arrivalTimestamp":`...)
	dst = strconv.AppendInt(dst, r.Arrival.UnixMilli(), 10)
	dst = appendStringField(dst, codeName, r.ErrorCode)
	dst = appendStringField(dst, messageName, r.ErrorMessage)
	dst = append(dst, `,"attemptEndingTimestamp":`...)
	dst = strconv.AppendInt(dst, r.AttemptEnding.UnixMilli(), 10)
	dst = append(dst, `,"rawData":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, r.RawData)
	dst = append(dst, '"')
	if r.Kinesis != nil {
		dst = appendStringField(dst, "sequenceNumber", r.Kinesis.SequenceNumber)
		dst = append(dst, ',', '"')
		dst = append(dst, subName...)
		dst = append(dst, '"', ':')
		dst = strconv.AppendInt(dst, r.Kinesis.SubsequenceNumber, 10)
	}
	if conversion && r.Table != nil {
		t := r.Table
		dst = append(dst, `,"dataCatalogTable":{"catalogId":`...)
		dst = jsontext.AppendString(dst, t.CatalogID)
		dst = appendStringField(dst, "databaseName", t.DatabaseName)
		dst = appendStringField(dst, "tableName", t.TableName)
		dst = appendStringField(dst, "region", t.Region)
		dst = appendStringField(dst, "versionId", t.VersionID)
		dst = appendStringField(dst, "catalogArn", t.CatalogARN)
		dst = append(dst, '}')
	}
	return append(dst, '}', '\n')
}

func appendStringField(dst []byte, name, value string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return jsontext.AppendString(dst, value)
}
