package firehoseapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// FuzzRequest sends arbitrary JSON bodies to every operation: the API must
// never panic, and must answer either 200 with a JSON object or an AWS error
// (a 4xx status, x-amzn-ErrorType, and a body {"__type":T,"message":M} with
// the same T). A 5xx means an error the API did not map: a bug.
func FuzzRequest(f *testing.F) {
	ops := []string{
		"CreateDeliveryStream", "DeleteDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams",
		"PutRecord", "PutRecordBatch", "TagDeliveryStream", "UntagDeliveryStream", "ListTagsForDeliveryStream",
		"UpdateDestination", "StartDeliveryStreamEncryption", "StopDeliveryStreamEncryption",
	}
	s3 := `{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b"}`
	seeds := map[string][]string{
		"CreateDeliveryStream": {
			`{"DeliveryStreamName":"f","ExtendedS3DestinationConfiguration":` + s3 + `}`,
			`{"DeliveryStreamName":"g","S3DestinationConfiguration":` + s3 + `,"Tags":[{"Key":"k","Value":"v"}]}`,
			`{"DeliveryStreamName":"k","DeliveryStreamType":"KinesisStreamAsSource","KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","RoleARN":"arn:aws:iam::123456789012:role/r"},"ExtendedS3DestinationConfiguration":` + s3 + `}`,
			`{"DeliveryStreamName":"c","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b","DataFormatConversionConfiguration":{"SchemaConfiguration":{"DatabaseName":"d","TableName":"t"},"InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{}}},"OutputFormatConfiguration":{"Serializer":{"OrcSerDe":{}}}},"ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"MetadataExtraction","Parameters":[{"ParameterName":"MetadataExtractionQuery","ParameterValue":"{a:.a}"}]}]}}}`,
		},
		"DeleteDeliveryStream":          {`{"DeliveryStreamName":"f","AllowForceDelete":true}`},
		"DescribeDeliveryStream":        {`{"DeliveryStreamName":"f","Limit":1,"ExclusiveStartDestinationId":"destinationId-000000000001"}`},
		"ListDeliveryStreams":           {`{"Limit":2,"DeliveryStreamType":"DirectPut","ExclusiveStartDeliveryStreamName":"a"}`, `{}`},
		"PutRecord":                     {`{"DeliveryStreamName":"f","Record":{"Data":"aGVsbG8="}}`},
		"PutRecordBatch":                {`{"DeliveryStreamName":"f","Records":[{"Data":"aGVsbG8="},{"Data":""}]}`},
		"TagDeliveryStream":             {`{"DeliveryStreamName":"f","Tags":[{"Key":"a","Value":"b"}]}`},
		"UntagDeliveryStream":           {`{"DeliveryStreamName":"f","TagKeys":["a"]}`},
		"ListTagsForDeliveryStream":     {`{"DeliveryStreamName":"f","Limit":1,"ExclusiveStartTagKey":"a"}`},
		"UpdateDestination":             {`{"DeliveryStreamName":"f","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":0},"DynamicPartitioningConfiguration":{"Enabled":true}}}`},
		"StartDeliveryStreamEncryption": {`{"DeliveryStreamName":"f","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"AWS_OWNED_CMK"}}`},
		"StopDeliveryStreamEncryption":  {`{"DeliveryStreamName":"f"}`},
	}
	for i, op := range ops {
		for _, s := range seeds[op] {
			f.Add(uint8(i), []byte(s))
		}
		f.Add(uint8(i), []byte(`{"DeliveryStreamName":null}`))
	}
	dir := f.TempDir()
	st, err := streamstore.Open(dir, streamstore.DefaultOptions())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	cat, err := catalog.Open(dir, catalog.Options{StateDelay: -1})
	if err != nil {
		f.Fatal(err)
	}
	api, err := New(st, cat, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		op := ops[int(opIndex)%len(ops)]
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Firehose_20150804."+op)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: status %d, body is not a JSON object: %q", op, body, rec.Code, rec.Body.Bytes())
		}
		if rec.Code == http.StatusOK {
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d %v (an unmapped error)", op, body, rec.Code, out)
		}
		typ, _ := out["__type"].(string)
		if typ == "" || typ != rec.Header().Get("x-amzn-ErrorType") {
			keys := make([]string, 0, len(out))
			for k := range out {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			t.Fatalf("%s %s: status %d, __type %q, header %q, members %v", op, body, rec.Code, typ, rec.Header().Get("x-amzn-ErrorType"), keys)
		}
	})
}
