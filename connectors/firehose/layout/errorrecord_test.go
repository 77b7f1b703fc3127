package layout

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAppendErrorRecord(t *testing.T) {
	arrival := time.UnixMilli(1594265943615)
	ending := time.UnixMilli(1594266081318)
	raw := []byte("sample raw data \x00\xff\n\"quoted\"")
	tests := []struct {
		name      string
		rec       ErrorRecord
		wantKeys  []string // in order
		wantValue map[string]any
	}{
		{
			// The docs' processing failure shape, for a Kinesis source.
			name: "metadata extraction",
			rec: ErrorRecord{Type: MetadataExtractionFailed, AttemptsMade: 1, Arrival: arrival, AttemptEnding: ending,
				ErrorCode: CodeMetadataExtractionFailed, ErrorMessage: "Non JSON record provided", RawData: raw,
				Kinesis: &KinesisPosition{SequenceNumber: "49607357361271740811418664280693044274821622880012337186", SubsequenceNumber: 0}},
			wantKeys: []string{"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData", "sequenceNumber", "subsequenceNumber"},
			wantValue: map[string]any{"attemptsMade": 1.0, "arrivalTimestamp": 1594265943615.0, "errorCode": "DynamicPartitioning.MetadataExtractionFailed",
				"errorMessage": "Non JSON record provided", "attemptEndingTimestamp": 1594266081318.0,
				"sequenceNumber": "49607357361271740811418664280693044274821622880012337186", "subsequenceNumber": 0.0},
		},
		{
			// The docs' format conversion schema.
			name: "format conversion",
			rec: ErrorRecord{Type: FormatConversionFailed, AttemptsMade: 1, Arrival: arrival, AttemptEnding: ending,
				ErrorCode: "DataFormatConversion.ParseError", ErrorMessage: "Encountered \"<EOF>\"\tline 1", RawData: raw,
				Kinesis: &KinesisPosition{SequenceNumber: "1", SubsequenceNumber: 3},
				Table:   &CatalogTable{CatalogID: "123456789012", DatabaseName: "db", TableName: "trades", Region: "us-east-1", VersionID: "LATEST", CatalogARN: "arn:aws:glue:us-east-1:123456789012:catalog"}},
			wantKeys: []string{"attemptsMade", "arrivalTimestamp", "lastErrorCode", "lastErrorMessage", "attemptEndingTimestamp", "rawData", "sequenceNumber", "subSequenceNumber", "dataCatalogTable"},
			wantValue: map[string]any{"lastErrorCode": "DataFormatConversion.ParseError", "lastErrorMessage": "Encountered \"<EOF>\"\tline 1", "subSequenceNumber": 3.0,
				"dataCatalogTable": map[string]any{"catalogId": "123456789012", "databaseName": "db", "tableName": "trades", "region": "us-east-1", "versionId": "LATEST", "catalogArn": "arn:aws:glue:us-east-1:123456789012:catalog"}},
		},
		{
			name:     "direct put",
			rec:      ErrorRecord{Type: ProcessingFailed, AttemptsMade: 3, Arrival: arrival, AttemptEnding: ending, ErrorCode: "Lambda.FunctionError", ErrorMessage: "\u2028 boom"},
			wantKeys: []string{"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := AppendErrorRecord([]byte("prev\n"), tt.rec)
			if !bytes.HasPrefix(line, []byte("prev\n")) {
				t.Fatal("the record did not append")
			}
			line = line[len("prev\n"):]
			if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
				t.Fatalf("not one line: %q", line)
			}
			var got map[string]any
			if err := json.Unmarshal(line, &got); err != nil {
				t.Fatalf("not JSON: %v: %s", err, line)
			}
			if keys := jsonKeysInOrder(t, line); !reflect.DeepEqual(keys, tt.wantKeys) {
				t.Errorf("keys %v, want %v", keys, tt.wantKeys)
			}
			data, err := base64.StdEncoding.DecodeString(got["rawData"].(string))
			if err != nil || !bytes.Equal(data, tt.rec.RawData) {
				t.Errorf("rawData decodes to %q, %v", data, err)
			}
			if got["errorMessage"] == nil && got["lastErrorMessage"] != tt.rec.ErrorMessage || got["lastErrorMessage"] == nil && got["errorMessage"] != tt.rec.ErrorMessage {
				t.Errorf("message round trip: %v", got)
			}
			for k, want := range tt.wantValue {
				if !reflect.DeepEqual(got[k], want) {
					t.Errorf("%s = %#v, want %#v", k, got[k], want)
				}
			}
		})
	}
}

// jsonKeysInOrder lists the top-level keys of a JSON object in document order.
func jsonKeysInOrder(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
