package kinesisapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream/eventstreamapi"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

// TestSubscribeToShard drives enhanced fan-out with the SDK's event stream
// reader: the records already in a shard, then records put while
// subscribed, continuation sequence numbers that resume exactly, one
// subscription per consumer and shard, the end of a split shard with its
// children, and the errors of a bad consumer or shard. Each subscription
// uses a client of its own: two event streams on one aws-sdk-go-v2 client
// share a decoding buffer (a data race, aws/smithy-go#714); and its
// transport gets a copy of each request body, because the SDK closes the
// body it hands the transport early, which now and then makes the
// transport close the connection under the streaming response
// (aws/aws-sdk-go-v2#2737; buffered calls retry it, a stream just ends).
func TestSubscribeToShard(t *testing.T) {
	e := newEnv(t, Options{})
	streamClient := func() *kinesis.Client {
		return kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), Retryer: aws.NopRetryer{},
			HTTPClient: &http.Client{Transport: ownBodies{e.srv.Client().Transport}}})
	}
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 1)
	arn := aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/s")
	reg := apitest.Must[*kinesis.RegisterStreamConsumerOutput](t)(e.client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("fan")}))
	consumer := reg.Consumer.ConsumerARN
	put := func(from, n int) {
		entries := make([]types.PutRecordsRequestEntry, n)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: fmt.Appendf(nil, "r%d", from+i)}
		}
		apitest.Must[*kinesis.PutRecordsOutput](t)(e.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries}))
	}
	put(0, 100)

	sub := apitest.Must[*kinesis.SubscribeToShardOutput](t)(streamClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: consumer,
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}}))
	stream := sub.GetStream()
	var got []string
	var continuation string
	next := func(want int) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for len(got) < want {
			select {
			case ev, ok := <-stream.Events():
				if !ok {
					t.Fatalf("the stream ended after %d records: %v", len(got), stream.Err())
				}
				v := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value
				for _, r := range v.Records {
					got = append(got, string(r.Data))
				}
				continuation = aws.ToString(v.ContinuationSequenceNumber)
			case <-deadline:
				t.Fatalf("%d of %d records after 10 s", len(got), want)
			}
		}
	}
	next(100)
	// While subscribed: a second subscription of the consumer to the shard is refused.
	_, err := streamClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: consumer,
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	apitest.WantAPIError(t, err, "ResourceInUseException", "Another active subscription")
	put(100, 50)
	next(150)
	for i, s := range got {
		if s != fmt.Sprintf("r%d", i) {
			t.Fatalf("record %d is %q", i, s)
		}
	}
	stream.Close()

	// Resume after the continuation: the next record, then the end of the
	// shard after a split, with its children.
	put(150, 1)
	var sub2 *kinesis.SubscribeToShardOutput
	for try := 0; ; try++ { // the first subscription is released when the server sees it closed
		sub2, err = streamClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: consumer, ShardId: aws.String("shardId-000000000000"),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(continuation)}})
		if err == nil || try == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	apitest.Must[*kinesis.SplitShardOutput](t)(e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}))
	var resumed []string
	var children []string
	for ev := range sub2.GetStream().Events() {
		v := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value
		for _, r := range v.Records {
			resumed = append(resumed, string(r.Data))
		}
		for _, c := range v.ChildShards {
			children = append(children, aws.ToString(c.ShardId))
		}
		if len(v.ChildShards) > 0 && v.ContinuationSequenceNumber != nil {
			t.Fatalf("the last event of a closed shard has a continuation %s", aws.ToString(v.ContinuationSequenceNumber))
		}
	}
	if err := sub2.GetStream().Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(resumed) != "[r150]" || fmt.Sprint(children) != "[shardId-000000000001 shardId-000000000002]" {
		t.Fatalf("after the continuation: records %v, children %v", resumed, children)
	}

	_, err = streamClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(aws.ToString(consumer) + "9"),
		ShardId: aws.String("shardId-000000000001"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	apitest.WantAPIError(t, err, "ResourceNotFoundException")
	_, err = streamClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: consumer,
		ShardId: aws.String("shardId-000000000009"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	apitest.WantAPIError(t, err, "ResourceNotFoundException", "shardId-000000000009")
	_, err = streamClient().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: consumer,
		ShardId: aws.String("shardId-000000000001"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber}})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "SequenceNumber")
}

// ownBodies hands the transport its own copy of each request body.
type ownBodies struct{ rt http.RoundTripper }

func (o ownBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.rt.RoundTrip(r)
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(data))
	return o.rt.RoundTrip(c)
}

// TestSubscribeToShardCBOR: called in CBOR, as the Java SDK and the KCL call
// it, the event stream's payloads are CBOR (content type header included),
// with records' data as byte strings.
func TestSubscribeToShardCBOR(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 1)
	reg := apitest.Must[*kinesis.RegisterStreamConsumerOutput](t)(e.client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/s"), ConsumerName: aws.String("kcl")}))
	apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte{0, 0xff, 7}}))
	body, err := cbor.Marshal(map[string]any{"ConsumerARN": aws.ToString(reg.Consumer.ConsumerARN), "ShardId": "shardId-000000000000",
		"StartingPosition": map[string]any{"Type": "TRIM_HORIZON"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
	req.Header.Set("Content-Type", cborType)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.amazon.eventstream" {
		t.Fatalf("SubscribeToShard over CBOR: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dec := eventstream.NewDecoder()
	for i, want := range []string{"initial-response", "SubscribeToShardEvent"} {
		msg, err := dec.Decode(resp.Body, nil)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if v := msg.Headers.Get(eventstreamapi.EventTypeHeader); v == nil || v.String() != want {
			t.Fatalf("event %d is %v, want %s", i, v, want)
		}
		if v := msg.Headers.Get(eventstreamapi.ContentTypeHeader); v == nil || v.String() != cborType {
			t.Fatalf("event %d content type %v", i, v)
		}
		if want != "SubscribeToShardEvent" {
			continue
		}
		var ev struct {
			Records []struct {
				Data         []byte
				PartitionKey string
			}
			ContinuationSequenceNumber string
		}
		if err := cbor.Unmarshal(msg.Payload, &ev); err != nil || len(ev.Records) != 1 || !bytes.Equal(ev.Records[0].Data, []byte{0, 0xff, 7}) || len(ev.ContinuationSequenceNumber) != 56 {
			t.Fatalf("event payload %x: %v %+v", msg.Payload, err, ev)
		}
	}
}
