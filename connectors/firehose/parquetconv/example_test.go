package parquetconv_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/eddy-streams/eddy/connectors/firehose/parquetconv"
)

// A delivery runner converts a buffer of records to one Parquet object and
// sends the records that fail to the error output.
func ExampleWriter() {
	cols, err := parquetconv.ParseSchemaFile([]byte(`[{"Name":"ticker","Type":"string"},{"Name":"price","Type":"decimal(10,2)"},{"Name":"ts","Type":"timestamp"}]`))
	if err != nil {
		panic(err)
	}
	var object bytes.Buffer
	w, err := parquetconv.NewWriter(&object, cols, parquetconv.Options{})
	if err != nil {
		panic(err)
	}
	for _, record := range []string{
		`{"Ticker": "AMZN", "price": 181.5, "ts": "2024-05-01T12:00:00Z"}`,
		`{"ticker": "MSFT", "price": "not a price"}`,
		`{"ticker": "AAPL", "ts": 1714564800}`,
	} {
		var re *parquetconv.RecordError
		if err := w.Write([]byte(record)); errors.As(err, &re) {
			fmt.Println("to the error output:", re.Code, re.Message)
		} else if err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	fmt.Println("rows:", w.Rows())
	// Output:
	// to the error output: DataFormatConversion.MalformedData column price: value "not a price" is not a number for decimal(10,2)
	// rows: 2
}
