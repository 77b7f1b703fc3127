package kinesisapi

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

const throttleMsg = "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."

const maxHashKeyText = "340282366920938463463374607431768211455"

// putBatches puts entries to stream in batches of 500; it counts the accepted ones and returns the
// failed ones, checking that every failure is a throttle with message msg.
func putBatches(t *testing.T, e *env, stream string, entries []types.PutRecordsRequestEntry, msg string) (ok int, failed []types.PutRecordsRequestEntry) {
	t.Helper()
	for start := 0; start < len(entries); start += 500 {
		batch := entries[start:min(start+500, len(entries))]
		out := apitest.Must[*kinesis.PutRecordsOutput](t)(e.client.PutRecords(apitest.Ctx(t), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: batch}))
		n := 0
		for i, r := range out.Records {
			if r.ErrorCode == nil {
				if r.SequenceNumber == nil || r.ShardId == nil {
					t.Fatalf("record %d: no sequence number or shard", start+i)
				}
				ok++
				continue
			}
			n++
			if aws.ToString(r.ErrorCode) != "ProvisionedThroughputExceededException" || aws.ToString(r.ErrorMessage) != msg {
				t.Fatalf("record %d: %s %q", start+i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
			}
			failed = append(failed, batch[i])
		}
		if int(aws.ToInt32(out.FailedRecordCount)) != n {
			t.Fatalf("FailedRecordCount %d, %d records failed", aws.ToInt32(out.FailedRecordCount), n)
		}
	}
	return ok, failed
}

func smallEntries(n int) []types.PutRecordsRequestEntry {
	entries := make([]types.PutRecordsRequestEntry, n)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("k%d", i)), Data: []byte(fmt.Sprintf("r%d", i))}
	}
	return entries
}

// countRecords reads a shard from its start in one call.
func countRecords(t *testing.T, e *env, stream, shard string) int {
	t.Helper()
	it := iter(t, e, stream, shard, types.ShardIteratorTypeTrimHorizon, "", nil)
	out := apitest.Must[*kinesis.GetRecordsOutput](t)(e.client.GetRecords(apitest.Ctx(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(10000)}))
	return len(out.Records)
}

func TestShardLimitsWriteRecords(t *testing.T) {
	e := newEnv(t, Options{ShardLimits: true})
	createStream(t, e, "s", 1)
	ok, failed := putBatches(t, e, "s", smallEntries(1500), throttleMsg)
	if ok != 1000 || len(failed) != 500 {
		t.Fatalf("%d accepted, %d failed; want 1000 and 500", ok, len(failed))
	}
	_, err := e.client.PutRecord(apitest.Ctx(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantMessage(t, err, "ProvisionedThroughputExceededException", throttleMsg)

	// Half a second refills half the records: the retry gets 500 through.
	e.clock.Advance(500 * time.Millisecond)
	ok, again := putBatches(t, e, "s", failed, throttleMsg)
	if ok != 500 || len(again) != 0 {
		t.Fatalf("retry: %d accepted, %d failed", ok, len(again))
	}
	e.clock.Advance(time.Second)
	if n := countRecords(t, e, "s", "shardId-000000000000"); n != 1500 {
		t.Fatalf("stored %d records, want 1500", n)
	}
}

func TestShardLimitsWriteBytes(t *testing.T) {
	e := newEnv(t, Options{ShardLimits: true})
	createStream(t, e, "s", 1)
	entries := make([]types.PutRecordsRequestEntry, 11)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: bytes.Repeat([]byte{'x'}, 100<<10)}
	}
	ok, failed := putBatches(t, e, "s", entries, throttleMsg)
	if ok != 10 || len(failed) != 1 {
		t.Fatalf("%d accepted, %d failed; want 10 and 1", ok, len(failed))
	}
	e.clock.Advance(time.Second)
	big := bytes.Repeat([]byte{'y'}, 1<<20-1)
	apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(apitest.Ctx(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: big}))
	_, err := e.client.PutRecord(apitest.Ctx(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("z")})
	wantMessage(t, err, "ProvisionedThroughputExceededException", throttleMsg)
}

func TestShardLimitsPerShardAndDelete(t *testing.T) {
	e := newEnv(t, Options{ShardLimits: true})
	createStream(t, e, "s", 2)
	var entries []types.PutRecordsRequestEntry
	for i := range 1000 {
		for _, hk := range []string{"0", maxHashKeyText} {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), ExplicitHashKey: aws.String(hk), Data: []byte("d")})
		}
	}
	if ok, failed := putBatches(t, e, "s", entries, ""); ok != 2000 || len(failed) != 0 {
		t.Fatalf("two shards: %d accepted, %d failed; want 2000 and 0", ok, len(failed))
	}
	_, err := e.client.PutRecord(apitest.Ctx(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(maxHashKeyText), Data: []byte("z")})
	wantMessage(t, err, "ProvisionedThroughputExceededException", "Rate exceeded for shard shardId-000000000001 in stream s under account 000000000000.")

	// A new stream of the name starts with full buckets.
	apitest.Must[*kinesis.DeleteStreamOutput](t)(e.client.DeleteStream(apitest.Ctx(t), &kinesis.DeleteStreamInput{StreamName: aws.String("s")}))
	e.h.limits.mu.Lock()
	left := len(e.h.limits.buckets)
	e.h.limits.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d shards' buckets left after DeleteStream", left)
	}
	createStream(t, e, "s", 1)
	if ok, failed := putBatches(t, e, "s", smallEntries(1000), throttleMsg); ok != 1000 || len(failed) != 0 {
		t.Fatalf("recreated: %d accepted, %d failed", ok, len(failed))
	}
}

func TestShardLimitsReadCalls(t *testing.T) {
	e := newEnv(t, Options{ShardLimits: true})
	createStream(t, e, "s", 1)
	it := iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "", nil)
	get := func() error {
		_, err := e.client.GetRecords(apitest.Ctx(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		return err
	}
	for i := range 5 {
		if err := get(); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	wantMessage(t, get(), "ProvisionedThroughputExceededException", throttleMsg)
	e.clock.Advance(200 * time.Millisecond)
	if err := get(); err != nil {
		t.Fatalf("after 200ms: %v", err)
	}
	wantMessage(t, get(), "ProvisionedThroughputExceededException", throttleMsg)
}

func TestShardLimitsReadBytes(t *testing.T) {
	e := newEnv(t, Options{ShardLimits: true})
	createStream(t, e, "s", 1)
	big := bytes.Repeat([]byte{'x'}, 1<<20-1)
	for range 3 {
		apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(apitest.Ctx(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: big}))
		e.clock.Advance(time.Second)
	}
	it := iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "", nil)
	get := func() (*kinesis.GetRecordsOutput, error) {
		return e.client.GetRecords(apitest.Ctx(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
	}
	// The call that crosses 2 MiB goes through; the following ones wait.
	out, err := get()
	if err != nil || len(out.Records) != 3 {
		t.Fatalf("first read: %v", err)
	}
	_, err = get()
	wantMessage(t, err, "ProvisionedThroughputExceededException", throttleMsg)
	e.clock.Advance(400 * time.Millisecond) // 0.8 MiB of the 1 MiB debt
	_, err = get()
	wantMessage(t, err, "ProvisionedThroughputExceededException", throttleMsg)
	e.clock.Advance(200 * time.Millisecond)
	if _, err := get(); err != nil {
		t.Fatalf("after the debt: %v", err)
	}
}

func TestShardLimitsOff(t *testing.T) {
	e := newEnv(t, Options{})
	createStream(t, e, "s", 1)
	if ok, failed := putBatches(t, e, "s", smallEntries(1500), throttleMsg); ok != 1500 || len(failed) != 0 {
		t.Fatalf("%d accepted, %d failed", ok, len(failed))
	}
	it := iter(t, e, "s", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "", nil)
	for i := range 10 {
		if _, err := e.client.GetRecords(apitest.Ctx(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)}); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
}
