package layout_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/connectors/firehose/layout"
)

// How a delivery runner uses the package for a dynamically partitioned,
// gzip-compressed stream: parse once, then per record extract keys and pick
// a prefix, and per object name it and encode its records.
func Example() {
	query, err := layout.ParseQuery(`{customer_id: .customer_id, day: .ts | strftime("%Y-%m-%d")}`)
	if err != nil {
		panic(err)
	}
	l, err := layout.New(layout.Config{
		DeliveryStreamName:  "orders",
		Version:             1,
		Prefix:              "customer_id=!{partitionKeyFromQuery:customer_id}/day=!{partitionKeyFromQuery:day}/",
		ErrorOutputPrefix:   "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
		DynamicPartitioning: true,
		Query:               query,
		Compression:         layout.Gzip,
	})
	if err != nil {
		panic(err)
	}
	arrival := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

	record := []byte(`{"customer_id":"c-42","ts":1709294400,"total":12.5}`)
	keys, err := query.Extract(record)
	if err != nil {
		panic(err)
	}
	prefix, _ := l.Prefix(layout.PrefixValues{Arrival: arrival, QueryKeys: keys})
	id := layout.ObjectID("orders", "shardId-000000000000", "100", "100")
	key := l.ObjectKey(prefix, arrival, id)
	fmt.Println(strings.Replace(key, id, "<id>", 1), len(id))

	var object bytes.Buffer
	w, _ := layout.NewRecordWriter(&object, l.Compression(), layout.ZipEntry{Name: id}, true)
	w.WriteRecord(record)
	w.Close()

	_, err = query.Extract([]byte(`{"total":1}`))
	errorPrefix, _ := l.ErrorPrefix(layout.MetadataExtractionFailed, arrival)
	fmt.Println(errorPrefix)
	fmt.Println(err)
	// Output:
	// customer_id=c-42/day=2024-03-01/orders-1-2024-03-01-12-00-00-<id>.gz 36
	// errors/metadata-extraction-failed/2024/03/01/
	// DynamicPartitioning.MetadataExtractionFailed: partitionKeys values must not be null or empty: key customer_id is null
}
