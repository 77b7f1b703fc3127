package kinesisapi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

func midpoint(t testing.TB, r *types.HashKeyRange) string {
	t.Helper()
	a, ok1 := new(big.Int).SetString(aws.ToString(r.StartingHashKey), 10)
	b, ok2 := new(big.Int).SetString(aws.ToString(r.EndingHashKey), 10)
	if !ok1 || !ok2 {
		t.Fatalf("hash key range %+v", r)
	}
	return new(big.Int).Rsh(new(big.Int).Add(a, b), 1).String()
}

func iter(t testing.TB, e *env, stream, shard string, typ types.ShardIteratorType, seq string, ts *time.Time) string {
	t.Helper()
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: typ, Timestamp: ts}
	if seq != "" {
		in.StartingSequenceNumber = aws.String(seq)
	}
	out := apitest.Must[*kinesis.GetShardIteratorOutput](t)(e.client.GetShardIterator(apitest.Ctx(t), in))
	return aws.ToString(out.ShardIterator)
}

// readAll reads a shard from the iterator until it returns no records (open
// shard) or ends (closed shard), and returns the records and the child shards.
func readAll(t testing.TB, e *env, it string, limit int32) ([]types.Record, []types.ChildShard) {
	t.Helper()
	var recs []types.Record
	for range 10000 {
		out := apitest.Must[*kinesis.GetRecordsOutput](t)(e.client.GetRecords(apitest.Ctx(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(limit)}))
		recs = append(recs, out.Records...)
		if out.NextShardIterator == nil {
			return recs, out.ChildShards
		}
		if len(out.Records) == 0 {
			return recs, nil
		}
		it = aws.ToString(out.NextShardIterator)
	}
	t.Fatal("GetRecords never reached the tip")
	return nil, nil
}

func TestPutAndGetRecords(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 1)
	before := time.Now().Add(-time.Second)
	first := apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k0"), Data: []byte("zero")}))
	if aws.ToString(first.ShardId) != "shardId-000000000000" || len(aws.ToString(first.SequenceNumber)) != 56 || first.EncryptionType != types.EncryptionTypeNone {
		t.Fatalf("PutRecord: %+v", first)
	}
	var entries []types.PutRecordsRequestEntry
	for i := 1; i <= 500; i++ {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("k%d", i)), Data: []byte(fmt.Sprintf("record %d", i))})
	}
	put := apitest.Must[*kinesis.PutRecordsOutput](t)(e.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries}))
	if aws.ToInt32(put.FailedRecordCount) != 0 || len(put.Records) != 500 || aws.ToString(put.Records[499].ShardId) != "shardId-000000000000" {
		t.Fatalf("PutRecords: failed %d, %d results", aws.ToInt32(put.FailedRecordCount), len(put.Records))
	}

	recs, children := readAll(t, e, iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "", nil), 123)
	if len(recs) != 501 || children != nil {
		t.Fatalf("read %d records (children %v), want 501", len(recs), children)
	}
	for i, r := range recs {
		want := "zero"
		if i > 0 {
			want = fmt.Sprintf("record %d", i)
		}
		if string(r.Data) != want || aws.ToString(r.PartitionKey) != fmt.Sprintf("k%d", i) {
			t.Fatalf("record %d: %q key %q", i, r.Data, aws.ToString(r.PartitionKey))
		}
		if r.ApproximateArrivalTimestamp == nil || r.ApproximateArrivalTimestamp.Before(before) {
			t.Fatalf("record %d arrival %v", i, r.ApproximateArrivalTimestamp)
		}
	}
	if aws.ToString(recs[0].SequenceNumber) != aws.ToString(first.SequenceNumber) || aws.ToString(recs[500].SequenceNumber) != aws.ToString(put.Records[499].SequenceNumber) {
		t.Fatal("sequence numbers read differ from the ones put")
	}

	// MillisBehindLatest: a partial read is behind, a read to the tip is not.
	out := apitest.Must[*kinesis.GetRecordsOutput](t)(e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "", nil)), Limit: aws.Int32(10)}))
	if len(out.Records) != 10 || aws.ToInt64(out.MillisBehindLatest) < 1 {
		t.Fatalf("partial read: %d records, %d ms behind", len(out.Records), aws.ToInt64(out.MillisBehindLatest))
	}
	seq100 := aws.ToString(recs[100].SequenceNumber)
	at := apitest.Must[*kinesis.GetRecordsOutput](t)(e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeAtSequenceNumber, seq100, nil)), Limit: aws.Int32(1)}))
	after := apitest.Must[*kinesis.GetRecordsOutput](t)(e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeAfterSequenceNumber, seq100, nil)), Limit: aws.Int32(1)}))
	if string(at.Records[0].Data) != "record 100" || string(after.Records[0].Data) != "record 101" {
		t.Fatalf("AT/AFTER_SEQUENCE_NUMBER read %q and %q", at.Records[0].Data, after.Records[0].Data)
	}
	latest := iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeLatest, "", nil)
	apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("late"), Data: []byte("late")}))
	got, _ := readAll(t, e, latest, 100)
	if len(got) != 1 || string(got[0].Data) != "late" {
		t.Fatalf("LATEST read %d records", len(got))
	}
	old := iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeAtTimestamp, "", aws.Time(before))
	if got, _ := readAll(t, e, old, 1000); len(got) != 502 {
		t.Fatalf("AT_TIMESTAMP before the first put read %d records, want 502", len(got))
	}
	future := iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeAtTimestamp, "", aws.Time(time.Now().Add(time.Hour)))
	if got, _ := readAll(t, e, future, 1000); len(got) != 0 {
		t.Fatalf("AT_TIMESTAMP in the future read %d records", len(got))
	}

	// ExplicitHashKey routes; a binary record survives base64.
	bin := []byte{0, 1, 2, 255, '"', '\\'}
	r := apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("x"), ExplicitHashKey: aws.String("0"), Data: bin}))
	g := apitest.Must[*kinesis.GetRecordsOutput](t)(e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeAtSequenceNumber, aws.ToString(r.SequenceNumber), nil))}))
	if !bytes.Equal(g.Records[0].Data, bin) {
		t.Fatalf("binary data %v, want %v", g.Records[0].Data, bin)
	}
}

func TestPutRecordErrors(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 2)
	_, err := e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("nope"), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantMessage(t, err, "ResourceNotFoundException", "Stream nope under account 000000000000 not found.")

	big := bytes.Repeat([]byte("x"), 1<<20)
	_, err = e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: big})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "exceeds the maximum record size of 1024 KiB")

	_, err = e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String(strings.Repeat("p", 257)), Data: []byte("x")})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value '"+strings.Repeat("p", 257)+"' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256")

	_, err = e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("340282366920938463463374607431768211456"), Data: []byte("x")})
	wantMessage(t, err, "InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456")

	_, err = e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("-1"), Data: []byte("x")})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value '-1' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})")

	var entries []types.PutRecordsRequestEntry
	for i := range 501 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte("x")})
	}
	_, err = e.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries})
	apitest.WantAPIError(t, err, "ValidationException", "1 validation error detected: Value '[{Data: java.nio.HeapByteBuffer[pos=0 lim=1 cap=1], PartitionKey: 0}, ",
		"at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")

	entries = entries[:3]
	entries[1].PartitionKey = aws.String("")
	_, err = e.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1")

	entries = nil
	for i := range 6 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: bytes.Repeat([]byte("y"), 1000_000)})
	}
	_, err = e.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "exceeds the 5 MiB limit of a PutRecords request")
	entries[2].Data = big
	_, err = e.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries[:3]})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "exceeds the maximum record size")
}

func TestIteratorErrors(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 1)
	apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")}))
	it := iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "", nil)

	_, err := e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("garbage")})
	wantMessage(t, err, "InvalidArgumentException", "Invalid ShardIterator.")
	raw, _ := base64.StdEncoding.DecodeString(it)
	raw[25] ^= 1 // the ordinal
	_, err = e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(base64.StdEncoding.EncodeToString(raw))})
	wantMessage(t, err, "InvalidArgumentException", "Invalid ShardIterator.")
	other := apitest.Must[*Handler](t)(New(e.store, Options{}))
	_, err = other.decodeIterator(it)
	if err == nil {
		t.Fatal("an iterator of one server is valid on another with another key")
	}
	_, err = e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(10001)})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000")

	e.clock.Advance(IteratorLifetime - time.Second)
	apitest.Must[*kinesis.GetRecordsOutput](t)(e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)}))
	e.clock.Advance(2 * time.Second)
	_, err = e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
	apitest.WantAPIError(t, err, "ExpiredIteratorException", "Iterator expired. The iterator was created at time ", "which is further in the future than the tolerated delay of 300000 milliseconds.")

	_, err = e.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000007"), ShardIteratorType: types.ShardIteratorTypeLatest})
	wantMessage(t, err, "ResourceNotFoundException", "Shard shardId-000000000007 in stream s under account 000000000000 does not exist")
	_, err = e.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("nope"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	wantMessage(t, err, "ResourceNotFoundException", "Stream nope under account 000000000000 not found.")
	_, err = e.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "StartingSequenceNumber")
	_, err = e.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String("12345")})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "Invalid StartingSequenceNumber")
	_, err = e.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: "SOMEWHERE"})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value 'SOMEWHERE' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]")

	// An iterator of a deleted stream fails, also when a stream of the same name is created again.
	it = iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "", nil)
	apitest.Must[*kinesis.DeleteStreamOutput](t)(e.client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("s")}))
	_, err = e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
	wantMessage(t, err, "ResourceNotFoundException", "Stream s under account 000000000000 not found.")
	time.Sleep(2 * time.Millisecond) // a new epoch
	createStream(t, e, "s", 1)
	_, err = e.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
	wantMessage(t, err, "ResourceNotFoundException", "Stream s under account 000000000000 not found.")
}

// TestReshardThenReadChildShards splits and merges, then reads every parent to
// its end and follows ChildShards, checking that each key's records come in order.
func TestReshardThenReadChildShards(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 2)
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	seq := map[string]int{}
	put := func(round int) {
		var entries []types.PutRecordsRequestEntry
		for _, k := range keys {
			for range 5 {
				entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(k), Data: []byte(fmt.Sprintf("%s/%d", k, seq[k]))})
				seq[k]++
			}
		}
		out := apitest.Must[*kinesis.PutRecordsOutput](t)(e.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries}))
		if aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("round %d: %d failed", round, aws.ToInt32(out.FailedRecordCount))
		}
	}
	put(0)
	d := apitest.Must[*kinesis.DescribeStreamOutput](t)(e.client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s")}))
	apitest.Must[*kinesis.SplitShardOutput](t)(e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(midpoint(t, d.StreamDescription.Shards[0].HashKeyRange))}))
	put(1)
	// Shards 2 and 3 are the children of 0; merge 3 with 1.
	apitest.Must[*kinesis.MergeShardsOutput](t)(e.client.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("s"),
		ShardToMerge: aws.String("shardId-000000000003"), AdjacentShardToMerge: aws.String("shardId-000000000001")}))
	put(2)

	_, err := e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1")})
	wantMessage(t, err, "ResourceInUseException", "Shard shardId-000000000000 in stream s under account 000000000000 has already been merged or split, and thus is not eligible for merging or splitting.")
	_, err = e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000099"), NewStartingHashKey: aws.String("1")})
	wantMessage(t, err, "ResourceNotFoundException", "Could not find shard shardId-000000000099 in stream s under account 000000000000.")
	_, err = e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000002"), NewStartingHashKey: aws.String("0")})
	apitest.WantAPIError(t, err, "InvalidArgumentException")
	_, err = e.client.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("s"), ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000002")})
	apitest.WantAPIError(t, err, "InvalidArgumentException")

	// Read from the roots (the shards with no parent), following ChildShards
	// once every parent of a child is read to its end.
	got := map[string][]string{}
	done := map[string]bool{}
	parents := map[string][]string{}
	queue := []string{"shardId-000000000000", "shardId-000000000001"}
	for len(queue) > 0 {
		shard := queue[0]
		queue = queue[1:]
		if done[shard] {
			continue
		}
		ready := true
		for _, p := range parents[shard] {
			ready = ready && done[p]
		}
		if !ready {
			queue = append(queue, shard)
			continue
		}
		recs, children := readAll(t, e, iter(t, e, "s", shard, types.ShardIteratorTypeTrimHorizon, "", nil), 7)
		for _, r := range recs {
			k := aws.ToString(r.PartitionKey)
			got[k] = append(got[k], string(r.Data))
		}
		done[shard] = true
		for _, c := range children {
			parents[aws.ToString(c.ShardId)] = c.ParentShards
			queue = append(queue, aws.ToString(c.ShardId))
		}
		if strings.HasSuffix(shard, "0") && len(children) != 2 {
			t.Fatalf("shard 0 has children %+v, want 2", children)
		}
	}
	if len(done) != 5 {
		t.Fatalf("read shards %v, want 5", done)
	}
	for _, k := range keys {
		if len(got[k]) != 15 {
			t.Fatalf("key %s: %d records, want 15", k, len(got[k]))
		}
		for i, v := range got[k] {
			if v != fmt.Sprintf("%s/%d", k, i) {
				t.Fatalf("key %s out of order: %v", k, got[k])
			}
		}
	}
}
