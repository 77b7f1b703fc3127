package kinesisapi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

// FuzzPutRecordsFastPath holds the PutRecords fast path to the generic one:
// whatever body it accepts, the generic decoding, validation and binding
// accept too, with the same records.
func FuzzPutRecordsFastPath(f *testing.F) {
	b64 := base64.StdEncoding.EncodeToString
	for _, s := range []string{
		`{"Records":[{"Data":"` + b64([]byte("hello")) + `","PartitionKey":"k1"},{"PartitionKey":"k2","Data":""}],"StreamName":"bench"}`,
		` { "StreamName" : "a.b-c_d" , "Records" : [ { "Data" : "AQID" , "PartitionKey" : "p" } ] } `,
		`{"StreamName":"s","Records":[{"Data":"AQI","PartitionKey":"k"}]}`,
		`{"StreamName":"s","Records":[{"Data":"AQID","PartitionKey":"k","ExplicitHashKey":"7"}]}`,
		`{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","Records":[{"Data":"AQID","PartitionKey":"k"}]}`,
		`{"StreamName":"s","Records":[]}`, `{"StreamName":"s/x","Records":[{"Data":"AQID","PartitionKey":"k"}]}`,
		`{"StreamName":"s","Records":[{"Data":"AQID","PartitionKey":"` + strings.Repeat("k", 257) + `"}]}`,
		`{"StreamName":"s","Records":[{"Data":"AQID","PartitionKey":"k\u00e9"}]}`, `{"StreamName":"s","StreamName":"t","Records":[{"Data":"AQID","PartitionKey":"k"}]}`,
	} {
		f.Add([]byte(s))
	}
	svc, err := newModel()
	if err != nil {
		f.Fatal(err)
	}
	shape := svc.Operations["PutRecords"].Input
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := fastPutRecords(body)
		if !ok {
			return
		}
		tree, err := awsproto.DecodeJSONInput(shape, body)
		if err != nil {
			t.Fatalf("the fast path accepted %q, the generic one refuses it: %v", body, err)
		}
		var slow putRecordsInput
		if err := awsproto.Bind(&slow, tree); err != nil {
			t.Fatalf("bind %q: %v", body, err)
		}
		if fast.StreamName != slow.StreamName || fast.StreamARN != slow.StreamARN || len(fast.Records) != len(slow.Records) {
			t.Fatalf("%q: fast %+v, generic %+v", body, fast, slow)
		}
		for i := range fast.Records {
			a, b := fast.Records[i], slow.Records[i]
			if a.PartitionKey != b.PartitionKey || a.ExplicitHashKey != b.ExplicitHashKey || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("%q record %d: fast %+v, generic %+v", body, i, a, b)
			}
		}
	})
}

// TestPutRecordsFastPathTakesSDKBodies: the body aws-sdk-go-v2 sends for
// PutRecords takes the fast path (else the benchmark measures the slow one).
func TestPutRecordsFastPathTakesSDKBodies(t *testing.T) {
	bodies := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
		w.Header().Set("Content-Type", awsproto.ContentTypeJSON)
		fmt.Fprint(w, `{"FailedRecordCount":0,"Records":[]}`)
	}))
	defer srv.Close()
	client := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	entries := make([]types.PutRecordsRequestEntry, 500)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("key-%d", i)), Data: bytes.Repeat([]byte{byte(i)}, 200)}
	}
	_, _ = client.PutRecords(apitest.Ctx(t), &kinesis.PutRecordsInput{StreamName: aws.String("bench"), Records: entries})
	body := <-bodies
	in, ok := fastPutRecords(body)
	if !ok || len(in.Records) != 500 || in.Records[499].PartitionKey != "key-499" || !bytes.Equal(in.Records[7].Data, bytes.Repeat([]byte{7}, 200)) {
		t.Fatalf("the SDK's body did not take the fast path: %v\n%.300s", ok, body)
	}
}
