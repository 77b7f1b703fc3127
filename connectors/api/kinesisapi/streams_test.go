package kinesisapi

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

func TestCreateStreamActiveAfterDelay(t *testing.T) {
	e := newEnv(t, Options{StateDelay: 150 * time.Millisecond, Now: time.Now})
	ctx := apitest.Ctx(t)
	createStream(t, e, "orders", 3)
	d := apitest.Must[*kinesis.DescribeStreamOutput](t)(e.client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("orders")}))
	if got := d.StreamDescription.StreamStatus; got != types.StreamStatusCreating {
		t.Fatalf("status right after CreateStream = %s, want CREATING", got)
	}
	// Data calls on a CREATING stream are answered as Kinesis answers them.
	_, err := e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("orders"), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantMessage(t, err, "ResourceNotFoundException", "Stream orders under account 000000000000 not found.")
	_, err = e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("orders"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("100")})
	wantMessage(t, err, "ResourceInUseException", "Stream orders under account 000000000000 not ACTIVE, instead in state CREATING")

	start := time.Now()
	w := kinesis.NewStreamExistsWaiter(e.client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("orders")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("waiter took %v", el)
	}
	d = apitest.Must[*kinesis.DescribeStreamOutput](t)(e.client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("orders")}))
	sd := d.StreamDescription
	if sd.StreamStatus != types.StreamStatusActive || len(sd.Shards) != 3 || aws.ToBool(sd.HasMoreShards) ||
		aws.ToInt32(sd.RetentionPeriodHours) != 24 || aws.ToString(sd.StreamARN) != "arn:aws:kinesis:us-east-1:000000000000:stream/orders" ||
		sd.EncryptionType != types.EncryptionTypeNone || sd.StreamModeDetails.StreamMode != types.StreamModeProvisioned {
		t.Fatalf("description: %+v", sd)
	}
	if sd.StreamCreationTimestamp == nil || time.Since(*sd.StreamCreationTimestamp) > time.Minute {
		t.Fatalf("creation timestamp %v", sd.StreamCreationTimestamp)
	}
	if aws.ToString(sd.Shards[0].HashKeyRange.StartingHashKey) != "0" || aws.ToString(sd.Shards[2].HashKeyRange.EndingHashKey) != "340282366920938463463374607431768211455" {
		t.Fatalf("hash key ranges: %+v %+v", sd.Shards[0].HashKeyRange, sd.Shards[2].HashKeyRange)
	}
	sum := apitest.Must[*kinesis.DescribeStreamSummaryOutput](t)(e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("orders")}))
	if s := sum.StreamDescriptionSummary; aws.ToInt32(s.OpenShardCount) != 3 || s.StreamStatus != types.StreamStatusActive || aws.ToInt32(s.ConsumerCount) != 0 {
		t.Fatalf("summary: %+v", s)
	}

	apitest.Must[*kinesis.DeleteStreamOutput](t)(e.client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("orders")}))
	nw := kinesis.NewStreamNotExistsWaiter(e.client, func(o *kinesis.StreamNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 50*time.Millisecond
	})
	if err := nw.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("orders")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("orders")})
	wantMessage(t, err, "ResourceNotFoundException", "Stream orders under account 000000000000 not found.")
	_, err = e.client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("orders")})
	wantMessage(t, err, "ResourceNotFoundException", "Stream orders under account 000000000000 not found.")
}

func TestCreateStreamErrors(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "a", 1)
	_, err := e.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("a"), ShardCount: aws.Int32(1)})
	wantMessage(t, err, "ResourceInUseException", "Stream a under account 000000000000 already exists.")

	_, err = e.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("x!"), ShardCount: aws.Int32(1)})
	wantMessage(t, err, "ValidationException",
		"1 validation error detected: Value 'x!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")

	long := string(slices.Repeat([]byte("n"), 129))
	_, err = e.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(long), ShardCount: aws.Int32(0)})
	wantMessage(t, err, "ValidationException",
		"2 validation errors detected: Value '"+long+"' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128; "+
			"Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1")

	_, err = e.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("b")})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value null at 'shardCount' failed to satisfy constraint: Member must not be null")

	_, err = e.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("b"), ShardCount: aws.Int32(501)})
	apitest.WantAPIError(t, err, "LimitExceededException", "Current Limit: 500")

	_, err = e.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	if err != nil {
		t.Fatal(err)
	}
	sum := apitest.Must[*kinesis.DescribeStreamSummaryOutput](t)(e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("od")}))
	if s := sum.StreamDescriptionSummary; aws.ToInt32(s.OpenShardCount) != 4 || s.StreamModeDetails.StreamMode != types.StreamModeOnDemand {
		t.Fatalf("ON_DEMAND stream: %+v", s)
	}
}

func TestStreamARNAndRegion(t *testing.T) {
	e := newEnv(t, Options{AccountID: "123456789012"})
	ctx := apitest.Ctx(t)
	eu := e.newClient("eu-west-1")
	if _, err := eu.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:kinesis:eu-west-1:123456789012:stream/s"
	sum := apitest.Must[*kinesis.DescribeStreamSummaryOutput](t)(eu.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arn)}))
	if got := aws.ToString(sum.StreamDescriptionSummary.StreamARN); got != arn {
		t.Fatalf("ARN %s, want %s (region from the SigV4 scope)", got, arn)
	}
	put := apitest.Must[*kinesis.PutRecordOutput](t)(eu.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(arn), PartitionKey: aws.String("k"), Data: []byte("v")}))
	if aws.ToString(put.ShardId) != "shardId-000000000000" {
		t.Fatalf("put: %+v", put)
	}
	_, err := eu.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String("arn:aws:kinesis:eu-west-1:999999999999:stream/s")})
	wantMessage(t, err, "ResourceNotFoundException", "Stream s under account 999999999999 not found.")
	_, err = eu.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arn), StreamName: aws.String("other")})
	apitest.WantAPIError(t, err, "InvalidArgumentException")
	_, err = eu.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "StreamName or StreamARN")
	_, err = eu.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String("arn:aws:s3:::bucket")})
	apitest.WantAPIError(t, err, "ValidationException", "at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern")
}

func TestListStreamsPaging(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("s%02d", i)
		createStream(t, e, name, 1)
		want = append(want, name)
	}
	p := kinesis.NewListStreamsPaginator(e.client, &kinesis.ListStreamsInput{Limit: aws.Int32(3)})
	var got, summaries []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.StreamNames...)
		for _, s := range out.StreamSummaries {
			summaries = append(summaries, aws.ToString(s.StreamName))
			if s.StreamStatus != types.StreamStatusActive || s.StreamCreationTimestamp == nil {
				t.Fatalf("summary %+v", s)
			}
		}
	}
	if !slices.Equal(got, want) || !slices.Equal(summaries, want) || pages != 3 {
		t.Fatalf("paged names %v (summaries %v) in %d pages, want %v in 3", got, summaries, pages, want)
	}
	out := apitest.Must[*kinesis.ListStreamsOutput](t)(e.client.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("s04")}))
	if !slices.Equal(out.StreamNames, want[5:]) || aws.ToBool(out.HasMoreStreams) {
		t.Fatalf("after s04: %v more=%v", out.StreamNames, aws.ToBool(out.HasMoreStreams))
	}
	_, err := e.client.ListStreams(ctx, &kinesis.ListStreamsInput{NextToken: aws.String("bogus")})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "NextToken")
	_, err = e.client.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(10001)})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000")
}

func TestDescribeStreamPaging(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 5)
	p := kinesis.NewDescribeStreamPaginator(e.client, &kinesis.DescribeStreamInput{StreamName: aws.String("s"), Limit: aws.Int32(2)})
	var ids []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.StreamDescription.Shards {
			ids = append(ids, aws.ToString(s.ShardId))
		}
	}
	want := []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003", "shardId-000000000004"}
	if !slices.Equal(ids, want) {
		t.Fatalf("shards %v, want %v", ids, want)
	}
}

func TestListShardsPagingAndFilters(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 4)
	// Split shard 1: shards 4 and 5 replace it.
	d := apitest.Must[*kinesis.DescribeStreamOutput](t)(e.client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s")}))
	mid := midpoint(t, d.StreamDescription.Shards[1].HashKeyRange)
	apitest.Must[*kinesis.SplitShardOutput](t)(e.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000001"), NewStartingHashKey: aws.String(mid)}))

	ids := func(shards []types.Shard) []string {
		var out []string
		for _, s := range shards {
			out = append(out, aws.ToString(s.ShardId))
		}
		return out
	}
	var all []string
	in := &kinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(2)}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("ListShards pages without end")
		}
		out := apitest.Must[*kinesis.ListShardsOutput](t)(e.client.ListShards(ctx, in))
		all = append(all, ids(out.Shards)...)
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(2)}
	}
	if len(all) != 6 || all[0] != "shardId-000000000000" || all[5] != "shardId-000000000005" {
		t.Fatalf("all shards %v", all)
	}
	filter := func(f *types.ShardFilter) []string {
		t.Helper()
		out := apitest.Must[*kinesis.ListShardsOutput](t)(e.client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s"), ShardFilter: f}))
		return ids(out.Shards)
	}
	if got := filter(&types.ShardFilter{Type: types.ShardFilterTypeAtLatest}); !slices.Equal(got, []string{"shardId-000000000000", "shardId-000000000002", "shardId-000000000003", "shardId-000000000004", "shardId-000000000005"}) {
		t.Fatalf("AT_LATEST: %v", got)
	}
	if got := filter(&types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}); !slices.Equal(got, all[:4]) {
		t.Fatalf("AT_TRIM_HORIZON: %v", got)
	}
	if got := filter(&types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000003")}); !slices.Equal(got, all[4:]) {
		t.Fatalf("AFTER_SHARD_ID: %v", got)
	}
	if got := filter(&types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(time.Now().Add(time.Hour))}); len(got) != 5 {
		t.Fatalf("FROM_TIMESTAMP in the future: %v", got)
	}
	if got := filter(&types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(time.Now().Add(-time.Hour))}); !slices.Equal(got, all[:4]) {
		t.Fatalf("AT_TIMESTAMP an hour ago: %v", got)
	}
	_, err := e.client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp}})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "Timestamp")

	first := apitest.Must[*kinesis.ListShardsOutput](t)(e.client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(1)}))
	_, err = e.client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s"), NextToken: first.NextToken})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "NextToken")
	tampered := []byte(aws.ToString(first.NextToken))
	tampered[3] ^= 1
	_, err = e.client.ListShards(ctx, &kinesis.ListShardsInput{NextToken: aws.String(string(tampered))})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "NextToken")
	e.clock.Advance(NextTokenLifetime + time.Second)
	_, err = e.client.ListShards(ctx, &kinesis.ListShardsInput{NextToken: first.NextToken})
	apitest.WantAPIError(t, err, "ExpiredNextTokenException")
	_, err = e.client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("nope")})
	wantMessage(t, err, "ResourceNotFoundException", "Stream nope under account 000000000000 not found.")
}

func TestRetentionPeriod(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 1)
	apitest.Must[*kinesis.IncreaseStreamRetentionPeriodOutput](t)(e.client.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("s"), RetentionPeriodHours: aws.Int32(48)}))
	sum := apitest.Must[*kinesis.DescribeStreamSummaryOutput](t)(e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")}))
	if h := aws.ToInt32(sum.StreamDescriptionSummary.RetentionPeriodHours); h != 48 {
		t.Fatalf("retention %d, want 48", h)
	}
	_, err := e.client.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("s"), RetentionPeriodHours: aws.Int32(30)})
	wantMessage(t, err, "InvalidArgumentException", "Requested retention period (30 hours) for stream s can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.")
	_, err = e.client.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("s"), RetentionPeriodHours: aws.Int32(72)})
	wantMessage(t, err, "InvalidArgumentException", "Requested retention period (72 hours) for stream s can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.")
	_, err = e.client.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("s"), RetentionPeriodHours: aws.Int32(12)})
	wantMessage(t, err, "InvalidArgumentException", "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short.")
	_, err = e.client.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("s"), RetentionPeriodHours: aws.Int32(9000)})
	wantMessage(t, err, "InvalidArgumentException", "Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long.")
	apitest.Must[*kinesis.DecreaseStreamRetentionPeriodOutput](t)(e.client.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("s"), RetentionPeriodHours: aws.Int32(24)}))
	_, err = e.client.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("gone"), RetentionPeriodHours: aws.Int32(48)})
	wantMessage(t, err, "ResourceNotFoundException", "Stream gone under account 000000000000 not found.")
}

func TestUpdateShardCount(t *testing.T) {
	e := newEnv(t, Options{StateDelay: time.Hour}) // the settable clock decides when UPDATING ends
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 2)
	e.clock.Advance(2 * time.Hour)
	out := apitest.Must[*kinesis.UpdateShardCountOutput](t)(e.client.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("s"), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling}))
	if aws.ToInt32(out.CurrentShardCount) != 2 || aws.ToInt32(out.TargetShardCount) != 4 || aws.ToString(out.StreamARN) != "arn:aws:kinesis:us-east-1:000000000000:stream/s" {
		t.Fatalf("output %+v", out)
	}
	sum := apitest.Must[*kinesis.DescribeStreamSummaryOutput](t)(e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")}))
	if s := sum.StreamDescriptionSummary; s.StreamStatus != types.StreamStatusUpdating || aws.ToInt32(s.OpenShardCount) != 4 {
		t.Fatalf("after scaling: %s with %d open shards, want UPDATING with 4", s.StreamStatus, aws.ToInt32(s.OpenShardCount))
	}
	_, err := e.client.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("s"), TargetShardCount: aws.Int32(3), ScalingType: types.ScalingTypeUniformScaling})
	wantMessage(t, err, "ResourceInUseException", "Stream s under account 000000000000 not ACTIVE, instead in state UPDATING")
	// Records still go in while UPDATING.
	apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("v")}))
	e.clock.Advance(2 * time.Hour)
	_, err = e.client.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("s"), TargetShardCount: aws.Int32(9), ScalingType: types.ScalingTypeUniformScaling})
	apitest.WantAPIError(t, err, "LimitExceededException", "double")
	_, err = e.client.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("s"), TargetShardCount: aws.Int32(1), ScalingType: types.ScalingTypeUniformScaling})
	apitest.WantAPIError(t, err, "LimitExceededException", "half")
	_, err = e.client.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("s"), TargetShardCount: aws.Int32(2), ScalingType: "WHATEVER"})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value 'WHATEVER' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]")
	apitest.Must[*kinesis.UpdateShardCountOutput](t)(e.client.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("s"), TargetShardCount: aws.Int32(2), ScalingType: types.ScalingTypeUniformScaling}))
	e.clock.Advance(2 * time.Hour)
	sum = apitest.Must[*kinesis.DescribeStreamSummaryOutput](t)(e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")}))
	if s := sum.StreamDescriptionSummary; s.StreamStatus != types.StreamStatusActive || aws.ToInt32(s.OpenShardCount) != 2 {
		t.Fatalf("after scaling down: %s with %d open shards", s.StreamStatus, aws.ToInt32(s.OpenShardCount))
	}
}

func TestUnsupportedOperation(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	_, err := e.client.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/s")})
	apitest.WantAPIError(t, err, "UnsupportedOperationException", "GetResourcePolicy")
}
