package kinesisapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

type wireResponse struct {
	status int
	header http.Header
	body   []byte
}

// call posts a raw request to the server over loopback.
func (e *env) call(t testing.TB, target, contentType string, body []byte) wireResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(apitest.Ctx(t), http.MethodPost, e.srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return wireResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

const (
	jsonType = "application/x-amz-json-1.1"
	cborType = "application/x-amz-cbor-1.1"
)

// wantWireError checks an error response: status, x-amzn-ErrorType, and a body
// in the request's encoding with the same __type.
func wantWireError(t testing.TB, r wireResponse, enc awsproto.Encoding, status int, typ string) string {
	t.Helper()
	if r.status != status || r.header.Get("x-amzn-ErrorType") != typ {
		t.Fatalf("got %d %s (%s), want %d %s", r.status, r.header.Get("x-amzn-ErrorType"), r.body, status, typ)
	}
	if ct := r.header.Get("Content-Type"); ct != enc.ContentType() {
		t.Fatalf("error Content-Type %s, want %s", ct, enc.ContentType())
	}
	var body struct {
		Type    string `json:"__type" cbor:"__type"`
		Message string `json:"message" cbor:"message"`
	}
	var err error
	if enc == awsproto.EncodingCBOR {
		err = cbor.Unmarshal(r.body, &body)
	} else {
		err = json.Unmarshal(r.body, &body)
	}
	if err != nil || body.Type != typ {
		t.Fatalf("error body %q: %v (type %q, want %q)", r.body, err, body.Type, typ)
	}
	return body.Message
}

func TestWireJSON(t *testing.T) {
	e := newEnv(t, Options{MaxBodyBytes: 64 << 10})
	r := e.call(t, "Kinesis_20131202.CreateStream", jsonType, []byte(`{"StreamName":"s","ShardCount":1,"Unknown":{"deep":[1,2,{"x":null}]}}`))
	if r.status != 200 || string(r.body) != "{}" || r.header.Get("Content-Type") != jsonType {
		t.Fatalf("CreateStream: %d %s %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	id1 := r.header.Get("x-amzn-RequestId")
	r = e.call(t, "Kinesis_20131202.ListStreams", jsonType, nil) // an empty body is an empty input
	id2 := r.header.Get("x-amzn-RequestId")
	if r.status != 200 || !requestIDPattern.MatchString(id1) || !requestIDPattern.MatchString(id2) || id1 == id2 {
		t.Fatalf("ListStreams %d %q; request ids %q %q", r.status, r.body, id1, id2)
	}
	var ls struct{ StreamNames []string }
	if err := json.Unmarshal(r.body, &ls); err != nil || len(ls.StreamNames) != 1 {
		t.Fatalf("ListStreams body %q: %v", r.body, err)
	}

	wantWireError(t, e.call(t, "Kinesis_20131202.Frobnicate", jsonType, []byte(`{}`)), awsproto.EncodingJSON, 400, "UnknownOperationException")
	wantWireError(t, e.call(t, "Firehose_20150804.ListStreams", jsonType, []byte(`{}`)), awsproto.EncodingJSON, 400, "UnknownOperationException")
	wantWireError(t, e.call(t, "", jsonType, []byte(`{}`)), awsproto.EncodingJSON, 400, "UnknownOperationException")
	wantWireError(t, e.call(t, "Kinesis_20131202.ListStreams", jsonType, []byte(`{"Limit":`)), awsproto.EncodingJSON, 400, "SerializationException")
	wantWireError(t, e.call(t, "Kinesis_20131202.ListStreams", jsonType, []byte(`[1]`)), awsproto.EncodingJSON, 400, "SerializationException")
	wantWireError(t, e.call(t, "Kinesis_20131202.ListStreams", jsonType, []byte(`{} {}`)), awsproto.EncodingJSON, 400, "SerializationException")
	wantWireError(t, e.call(t, "Kinesis_20131202.CreateStream", jsonType, []byte(`{"StreamName":"t","ShardCount":"two"}`)), awsproto.EncodingJSON, 400, "SerializationException")
	wantWireError(t, e.call(t, "Kinesis_20131202.PutRecord", jsonType, []byte(`{"StreamName":"s","PartitionKey":"k","Data":"not base64!"}`)), awsproto.EncodingJSON, 400, "SerializationException")
	msg := wantWireError(t, e.call(t, "Kinesis_20131202.GetShardIterator", jsonType, []byte(`{"StreamName":"s"}`)), awsproto.EncodingJSON, 400, "ValidationException")
	if want := "2 validation errors detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null; Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null"; msg != want {
		t.Fatalf("message %q, want %q", msg, want)
	}
	msg = wantWireError(t, e.call(t, "Kinesis_20131202.DescribeStreamSummary", jsonType, []byte(`{"StreamName":"missing"}`)), awsproto.EncodingJSON, 400, "ResourceNotFoundException")
	if msg != "Stream missing under account 000000000000 not found." {
		t.Fatalf("message %q", msg)
	}
	big := `{"StreamName":"s","PartitionKey":"k","Data":"` + strings.Repeat("A", 100<<10) + `"}`
	wantWireError(t, e.call(t, "Kinesis_20131202.PutRecord", jsonType, []byte(big)), awsproto.EncodingJSON, 413, "RequestEntityTooLargeException")
	wantWireError(t, e.call(t, "Kinesis_20131202.GetResourcePolicy", jsonType, []byte(`{"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`)), awsproto.EncodingJSON, 400, "UnsupportedOperationException")
	wantWireError(t, e.call(t, "Kinesis_20131202.SubscribeToShard", jsonType, []byte(`{}`)), awsproto.EncodingJSON, 400, "ValidationException")

	req, _ := http.NewRequestWithContext(apitest.Ctx(t), http.MethodGet, e.srv.URL+"/", nil)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-ErrorType") != "UnknownOperationException" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("GET /: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestWireCBOR(t *testing.T) {
	e := newEnv(t, Options{})
	enc := func(v any) []byte {
		t.Helper()
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := time.Now().Add(-time.Second)
	r := e.call(t, "Kinesis_20131202.CreateStream", cborType, enc(map[string]any{"StreamName": "c", "ShardCount": 1}))
	if r.status != 200 || r.header.Get("Content-Type") != cborType {
		t.Fatalf("CreateStream over CBOR: %d %s %x", r.status, r.header.Get("Content-Type"), r.body)
	}
	var empty map[string]any
	if err := cbor.Unmarshal(r.body, &empty); err != nil || len(empty) != 0 {
		t.Fatalf("CreateStream CBOR body %x: %v", r.body, err)
	}
	data := []byte{0, 1, 2, 0xff}
	r = e.call(t, "Kinesis_20131202.PutRecord", cborType, enc(map[string]any{"StreamName": "c", "PartitionKey": "k", "Data": data}))
	var put struct {
		ShardId        string
		SequenceNumber string
	}
	if err := cbor.Unmarshal(r.body, &put); err != nil || r.status != 200 || put.ShardId != "shardId-000000000000" || len(put.SequenceNumber) != 56 {
		t.Fatalf("PutRecord over CBOR: %d %x %v %+v", r.status, r.body, err, put)
	}
	// The Java SDK writes timestamps as tag 1 holding epoch milliseconds.
	ts := cbor.Tag{Number: 1, Content: before.UnixMilli()}
	r = e.call(t, "Kinesis_20131202.GetShardIterator", cborType, enc(map[string]any{
		"StreamName": "c", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ts}))
	var it struct{ ShardIterator string }
	if err := cbor.Unmarshal(r.body, &it); err != nil || r.status != 200 || it.ShardIterator == "" {
		t.Fatalf("GetShardIterator over CBOR: %d %x %v", r.status, r.body, err)
	}
	r = e.call(t, "Kinesis_20131202.GetRecords", cborType, enc(map[string]any{"ShardIterator": it.ShardIterator}))
	if r.status != 200 {
		t.Fatalf("GetRecords over CBOR: %d %x", r.status, r.body)
	}
	var got struct {
		Records []struct {
			Data                        cbor.RawMessage
			PartitionKey                string
			ApproximateArrivalTimestamp cbor.RawMessage
		}
		NextShardIterator string
	}
	if err := cbor.Unmarshal(r.body, &got); err != nil || len(got.Records) != 1 || got.NextShardIterator == "" {
		t.Fatalf("GetRecords CBOR body %x: %v", r.body, err)
	}
	var blob any
	if err := cbor.Unmarshal(got.Records[0].Data, &blob); err != nil {
		t.Fatal(err)
	}
	if b, ok := blob.([]byte); !ok || !bytes.Equal(b, data) {
		t.Fatalf("Data is %T %v, want the byte string %v", blob, blob, data)
	}
	var tag cbor.Tag
	if err := cbor.Unmarshal(got.Records[0].ApproximateArrivalTimestamp, &tag); err != nil || tag.Number != 1 {
		t.Fatalf("ApproximateArrivalTimestamp %x is not tag 1: %v", got.Records[0].ApproximateArrivalTimestamp, err)
	}
	ms, ok := tag.Content.(uint64)
	if arrival := time.UnixMilli(int64(ms)); !ok || arrival.Before(before) || arrival.After(time.Now().Add(time.Second)) {
		t.Fatalf("ApproximateArrivalTimestamp %v (%T) is not epoch milliseconds of now", tag.Content, tag.Content)
	}

	msg := wantWireError(t, e.call(t, "Kinesis_20131202.DescribeStream", cborType, enc(map[string]any{"StreamName": "gone"})), awsproto.EncodingCBOR, 400, "ResourceNotFoundException")
	if msg != "Stream gone under account 000000000000 not found." {
		t.Fatalf("message %q", msg)
	}
	wantWireError(t, e.call(t, "Kinesis_20131202.DescribeStream", cborType, []byte{0xbf, 0x61}), awsproto.EncodingCBOR, 400, "SerializationException")
	wantWireError(t, e.call(t, "Kinesis_20131202.DescribeStream", cborType, enc(map[int]string{1: "x"})), awsproto.EncodingCBOR, 400, "SerializationException")
	wantWireError(t, e.call(t, "Kinesis_20131202.PutRecord", cborType, enc(map[string]any{"StreamName": "c", "PartitionKey": "k", "Data": 7})), awsproto.EncodingCBOR, 400, "SerializationException")
	msg = wantWireError(t, e.call(t, "Kinesis_20131202.CreateStream", cborType, enc(map[string]any{"StreamName": "bad name", "ShardCount": 1})), awsproto.EncodingCBOR, 400, "ValidationException")
	if !strings.HasPrefix(msg, "1 validation error detected: Value 'bad name' at 'streamName'") {
		t.Fatalf("message %q", msg)
	}
	wantWireError(t, e.call(t, "Kinesis_20131202.Nope", cborType, enc(map[string]any{})), awsproto.EncodingCBOR, 400, "UnknownOperationException")
}

// FuzzDecodeRequest sends arbitrary bodies, as JSON or CBOR, to arbitrary
// targets: the server never panics and always answers either a success or an
// AWS error of a known type with that type's status, in the request's
// encoding, with a request id.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct {
		target string
		body   string
		cbor   bool
	}{
		{"Kinesis_20131202.CreateStream", `{"StreamName":"f","ShardCount":2}`, false},
		{"Kinesis_20131202.PutRecords", `{"StreamName":"f","Records":[{"PartitionKey":"a","Data":"AAE="},{"PartitionKey":"","Data":""}]}`, false},
		{"Kinesis_20131202.GetShardIterator", `{"StreamName":"f","ShardId":"0","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1.5e9}`, false},
		{"Kinesis_20131202.ListShards", `{"StreamName":"f","ShardFilter":{"Type":"AT_TIMESTAMP","Timestamp":"2020-01-01T00:00:00Z"}}`, false},
		{"Kinesis_20131202.GetRecords", `{"ShardIterator":"AQAAAA==","Limit":1e400}`, false},
		{"Kinesis_20131202.SplitShard", `{"StreamName":"f","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"99999999999999999999999999999999999999"}`, false},
		{"Kinesis_20131202.CreateStream", `{"Tags":{"k":"","":"v"},"StreamName":"t","ShardCount":1}`, false},
		{"Kinesis_20131202.Nope", `{}`, false},
		{"", `[`, false},
		{"Kinesis_20131202.DescribeStream", "\xa1jStreamNameaf", true},
		{"Kinesis_20131202.PutRecord", "\xa3jStreamNameaflPartitionKeyakdDataC\x00\x01\x02", true},
		{"Kinesis_20131202.GetShardIterator", "\xa4jStreamNameagShardIda0qShardIteratorTypelAT_TIMESTAMPiTimestamp\xc1\x1b\x00\x00\x01\x8b\xcf\xe5h\x00", true},
	}
	for _, s := range seeds {
		f.Add(s.target, []byte(s.body), s.cbor)
	}
	e := newEnv(f, Options{MaxBodyBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, target string, body []byte, useCBOR bool) {
		ct, enc := jsonType, awsproto.EncodingJSON
		if useCBOR {
			ct, enc = cborType, awsproto.EncodingCBOR
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		start := time.Now()
		e.h.ServeHTTP(w, req)
		if el := time.Since(start); el > 10*time.Second {
			t.Fatalf("request took %v: %s %q", el, target, body)
		}
		res := w.Result()
		if !requestIDPattern.MatchString(res.Header.Get("x-amzn-RequestId")) {
			t.Fatalf("no request id: %v", res.Header)
		}
		if res.Header.Get("Content-Type") != ct {
			t.Fatalf("Content-Type %s, want %s", res.Header.Get("Content-Type"), ct)
		}
		var decoded map[string]any
		var err error
		if useCBOR {
			err = cbor.Unmarshal(w.Body.Bytes(), &decoded)
		} else {
			err = json.Unmarshal(w.Body.Bytes(), &decoded)
		}
		if err != nil {
			t.Fatalf("status %d body %q does not decode as a structure: %v", res.StatusCode, w.Body.Bytes(), err)
		}
		if res.StatusCode == 200 {
			return
		}
		typ := res.Header.Get("x-amzn-ErrorType")
		if !awsproto.KnownErrorType(typ) || decoded["__type"] != typ {
			t.Fatalf("status %d: error type %q (body %q) is not a known AWS error", res.StatusCode, typ, w.Body.Bytes())
		}
		if want := awsproto.LookupErrorType(typ).Status; res.StatusCode != want {
			t.Fatalf("%s answered with %d, want %d", typ, res.StatusCode, want)
		}
		if res.StatusCode >= 500 {
			t.Fatalf("internal failure for %s %q: %q", target, body, w.Body.Bytes())
		}
		_ = enc
	})
}
