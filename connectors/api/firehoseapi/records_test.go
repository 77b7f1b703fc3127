package firehoseapi

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

// readBacking returns every record of a delivery stream's backing stream, in
// shard order.
func readBacking(t *testing.T, e *env, name string) []streamstore.Record {
	t.Helper()
	backing := catalog.BackingStream(name)
	desc, err := e.store.DescribeStream(backing)
	if err != nil {
		t.Fatal(err)
	}
	var out []streamstore.Record
	for _, sh := range desc.Shards {
		cur, err := e.store.Position(backing, sh.ShardID, streamstore.StartingPosition{Type: streamstore.TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for {
			res, err := e.store.GetRecords(context.Background(), cur, 10000)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res.Records...)
			if len(res.Records) == 0 || res.ShardEnd {
				break
			}
			cur = res.Next
		}
	}
	return out
}

func TestPutRecordsReadableInOrder(t *testing.T) {
	e := newEnv(t, 0)
	ctx := apitest.Ctx(t)
	createDirect(t, e, "in")
	var ids []string
	var want [][]byte
	one := apitest.Must[*firehose.PutRecordOutput](t)(e.client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("in"), Record: &types.Record{Data: []byte("first\n")}}))
	ids, want = append(ids, aws.ToString(one.RecordId)), append(want, []byte("first\n"))
	if aws.ToBool(one.Encrypted) {
		t.Fatal("Encrypted without encryption")
	}
	for batch := range 3 {
		var recs []types.Record
		for i := range 200 {
			d := []byte(fmt.Sprintf(`{"batch":%d,"i":%d}`, batch, i))
			recs = append(recs, types.Record{Data: d})
			want = append(want, d)
		}
		out := apitest.Must[*firehose.PutRecordBatchOutput](t)(e.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("in"), Records: recs}))
		if aws.ToInt32(out.FailedPutCount) != 0 || len(out.RequestResponses) != len(recs) {
			t.Fatalf("batch %d: failed %d, %d responses", batch, aws.ToInt32(out.FailedPutCount), len(out.RequestResponses))
		}
		for _, r := range out.RequestResponses {
			if r.ErrorCode != nil || r.RecordId == nil {
				t.Fatalf("batch %d: entry %+v", batch, r)
			}
			ids = append(ids, aws.ToString(r.RecordId))
		}
	}
	got := readBacking(t, e, "in")
	if len(got) != len(want) {
		t.Fatalf("backing stream holds %d records, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, r := range got {
		if !bytes.Equal(r.Data, want[i]) {
			t.Fatalf("record %d is %q, want %q", i, r.Data, want[i])
		}
		shard, seq, err := catalog.ParseRecordID(ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if shard != "shardId-000000000000" || seq != r.SequenceNumber.String() {
			t.Fatalf("record %d: id names %s/%s, stored at %s", i, shard, seq, r.SequenceNumber)
		}
		if seen[ids[i]] {
			t.Fatalf("record id %s answered twice", ids[i])
		}
		seen[ids[i]] = true
	}
}

func TestPutErrors(t *testing.T) {
	e := newEnv(t, 0)
	ctx := apitest.Ctx(t)
	createDirect(t, e, "p")
	batch := func(n, size int) []types.Record {
		recs := make([]types.Record, n)
		for i := range recs {
			recs[i] = types.Record{Data: bytes.Repeat([]byte{'x'}, size)}
		}
		return recs
	}
	_, err := e.client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("missing"), Record: &types.Record{Data: []byte("x")}})
	apitest.WantAPIError(t, err, "ResourceNotFoundException", "Firehose missing under account 123456789012 not found.")
	_, err = e.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("p"), Records: batch(501, 1)})
	apitest.WantAPIError(t, err, "ValidationException", "at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")
	_, err = e.client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("p"), Record: &types.Record{Data: make([]byte, 1024001)}})
	apitest.WantAPIError(t, err, "ValidationException", "record.data", "less than or equal to 1024000")
	_, err = e.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("p"), Records: batch(5, 1024000)})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "4 MB", "5120000")
	// The largest batch Firehose accepts: 4 MiB in records of 1,000 KiB at most.
	out := apitest.Must[*firehose.PutRecordBatchOutput](t)(e.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("p"),
		Records: append(batch(4, 1024000), types.Record{Data: make([]byte, MaxBatchBytes-4*1024000)})}))
	if aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("4 MiB batch: %+v", out)
	}
	if n := len(readBacking(t, e, "p")); n != 5 {
		t.Fatalf("backing stream holds %d records after refused puts and one 5-record batch", n)
	}
}
