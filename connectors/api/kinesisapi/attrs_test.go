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

func tagKeys(tags []types.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return out
}

func TestTags(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := apitest.Ctx(t)
	_, err := e.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1), Tags: map[string]string{"team": "data"}})
	if err != nil {
		t.Fatal(err)
	}
	apitest.Must[*kinesis.AddTagsToStreamOutput](t)(e.client.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("s"), Tags: map[string]string{"env": "dev", "cost": "1", "z": ""}}))
	out := apitest.Must[*kinesis.ListTagsForStreamOutput](t)(e.client.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("s"), Limit: aws.Int32(2)}))
	if got := tagKeys(out.Tags); !slices.Equal(got, []string{"cost=1", "env=dev"}) || !aws.ToBool(out.HasMoreTags) {
		t.Fatalf("first page %v more=%v", got, aws.ToBool(out.HasMoreTags))
	}
	out = apitest.Must[*kinesis.ListTagsForStreamOutput](t)(e.client.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("s"), ExclusiveStartTagKey: aws.String("env")}))
	if got := tagKeys(out.Tags); !slices.Equal(got, []string{"team=data", "z="}) || aws.ToBool(out.HasMoreTags) {
		t.Fatalf("second page %v", got)
	}
	apitest.Must[*kinesis.RemoveTagsFromStreamOutput](t)(e.client.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("s"), TagKeys: []string{"z", "absent"}}))

	arn := "arn:aws:kinesis:us-east-1:000000000000:stream/s"
	apitest.Must[*kinesis.TagResourceOutput](t)(e.client.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn), Tags: map[string]string{"via": "arn"}}))
	apitest.Must[*kinesis.UntagResourceOutput](t)(e.client.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"cost"}}))
	res := apitest.Must[*kinesis.ListTagsForResourceOutput](t)(e.client.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(arn)}))
	if got := tagKeys(res.Tags); !slices.Equal(got, []string{"env=dev", "team=data", "via=arn"}) {
		t.Fatalf("resource tags %v", got)
	}

	_, err = e.client.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("s"), Tags: map[string]string{"": "x"}})
	wantMessage(t, err, "ValidationException", "1 validation error detected: Value '{=x}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length greater than or equal to 1]")
	many := map[string]string{}
	for i := range 60 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	_, err = e.client.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("s"), Tags: many})
	apitest.WantAPIError(t, err, "InvalidArgumentException")
	_, err = e.client.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("nope"), Tags: map[string]string{"a": "b"}})
	wantMessage(t, err, "ResourceNotFoundException", "Stream nope under account 000000000000 not found.")
}

func TestStreamModeEncryptionMonitoringLimits(t *testing.T) {
	e := newEnv(t, Options{StateDelay: time.Hour})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 3)
	e.clock.Advance(2 * time.Hour)
	arn := aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/s")
	apitest.Must[*kinesis.UpdateStreamModeOutput](t)(e.client.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}))
	sum := apitest.Must[*kinesis.DescribeStreamSummaryOutput](t)(e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn}))
	if s := sum.StreamDescriptionSummary; s.StreamModeDetails.StreamMode != types.StreamModeOnDemand || s.StreamStatus != types.StreamStatusUpdating {
		t.Fatalf("after UpdateStreamMode: %s %s", s.StreamModeDetails.StreamMode, s.StreamStatus)
	}
	_, err := e.client.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("s"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")})
	apitest.WantAPIError(t, err, "ResourceInUseException", "UPDATING")
	e.clock.Advance(2 * time.Hour)
	apitest.Must[*kinesis.StartStreamEncryptionOutput](t)(e.client.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("s"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}))
	e.clock.Advance(2 * time.Hour)
	d := apitest.Must[*kinesis.DescribeStreamOutput](t)(e.client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s")}))
	if d.StreamDescription.EncryptionType != types.EncryptionTypeKms || aws.ToString(d.StreamDescription.KeyId) != "alias/aws/kinesis" {
		t.Fatalf("encryption %s %s", d.StreamDescription.EncryptionType, aws.ToString(d.StreamDescription.KeyId))
	}
	put := apitest.Must[*kinesis.PutRecordOutput](t)(e.client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")}))
	if put.EncryptionType != types.EncryptionTypeKms {
		t.Fatalf("put reports encryption %s", put.EncryptionType)
	}
	apitest.Must[*kinesis.StopStreamEncryptionOutput](t)(e.client.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String("s"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}))
	e.clock.Advance(2 * time.Hour)

	en := apitest.Must[*kinesis.EnableEnhancedMonitoringOutput](t)(e.client.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("s"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes, types.MetricsNameOutgoingRecords}}))
	if len(en.CurrentShardLevelMetrics) != 0 || len(en.DesiredShardLevelMetrics) != 2 {
		t.Fatalf("enable: %v -> %v", en.CurrentShardLevelMetrics, en.DesiredShardLevelMetrics)
	}
	dis := apitest.Must[*kinesis.DisableEnhancedMonitoringOutput](t)(e.client.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("s"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}}))
	if len(dis.CurrentShardLevelMetrics) != 2 || len(dis.DesiredShardLevelMetrics) != 0 {
		t.Fatalf("disable: %v -> %v", dis.CurrentShardLevelMetrics, dis.DesiredShardLevelMetrics)
	}
	_, err = e.client.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("s"), ShardLevelMetrics: []types.MetricsName{"Bogus"}})
	apitest.WantAPIError(t, err, "ValidationException", "at 'shardLevelMetrics.1.member' failed to satisfy constraint: Member must satisfy enum value set: [")

	createStream(t, e, "t", 2)
	lim := apitest.Must[*kinesis.DescribeLimitsOutput](t)(e.client.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{}))
	if aws.ToInt32(lim.ShardLimit) != 500 || aws.ToInt32(lim.OpenShardCount) != 5 || aws.ToInt32(lim.OnDemandStreamCount) != 1 || aws.ToInt32(lim.OnDemandStreamCountLimit) != 50 {
		t.Fatalf("limits %+v", lim)
	}
}

func TestConsumers(t *testing.T) {
	e := newEnv(t, Options{StateDelay: time.Minute, Now: time.Now})
	ctx := apitest.Ctx(t)
	createStream(t, e, "s", 1)
	arn := aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/s")
	var names []string
	for i := range 5 {
		name := fmt.Sprintf("app%d", i)
		names = append(names, name)
		out := apitest.Must[*kinesis.RegisterStreamConsumerOutput](t)(e.client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String(name)}))
		c := out.Consumer
		if aws.ToString(c.ConsumerName) != name || c.ConsumerStatus != types.ConsumerStatusCreating || c.ConsumerCreationTimestamp == nil {
			t.Fatalf("registered %+v", c)
		}
	}
	_, err := e.client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app0")})
	apitest.WantAPIError(t, err, "ResourceInUseException", "app0")

	var listed []string
	var consumerARN string
	in := &kinesis.ListStreamConsumersInput{StreamARN: arn, MaxResults: aws.Int32(2)}
	p := kinesis.NewListStreamConsumersPaginator(e.client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Consumers {
			listed = append(listed, aws.ToString(c.ConsumerName))
			if aws.ToString(c.ConsumerName) == "app3" {
				consumerARN = aws.ToString(c.ConsumerARN)
			}
		}
	}
	if !slices.Equal(listed, names) {
		t.Fatalf("listed %v, want %v", listed, names)
	}
	d := apitest.Must[*kinesis.DescribeStreamConsumerOutput](t)(e.client.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(consumerARN)}))
	if aws.ToString(d.ConsumerDescription.ConsumerName) != "app3" || aws.ToString(d.ConsumerDescription.StreamARN) != aws.ToString(arn) {
		t.Fatalf("described %+v", d.ConsumerDescription)
	}
	apitest.Must[*kinesis.TagResourceOutput](t)(e.client.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(consumerARN), Tags: map[string]string{"owner": "me"}}))
	tags := apitest.Must[*kinesis.ListTagsForResourceOutput](t)(e.client.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(consumerARN)}))
	if got := tagKeys(tags.Tags); !slices.Equal(got, []string{"owner=me"}) {
		t.Fatalf("consumer tags %v", got)
	}
	sum := apitest.Must[*kinesis.DescribeStreamSummaryOutput](t)(e.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn}))
	if n := aws.ToInt32(sum.StreamDescriptionSummary.ConsumerCount); n != 5 {
		t.Fatalf("ConsumerCount %d", n)
	}
	_, err = e.client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("s")})
	apitest.WantAPIError(t, err, "ResourceInUseException", "consumers")

	apitest.Must[*kinesis.DeregisterStreamConsumerOutput](t)(e.client.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app3")}))
	_, err = e.client.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(consumerARN)})
	apitest.WantAPIError(t, err, "ResourceNotFoundException", "app3")
	_, err = e.client.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: arn})
	apitest.WantAPIError(t, err, "InvalidArgumentException")
	apitest.Must[*kinesis.DeleteStreamOutput](t)(e.client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("s"), EnforceConsumerDeletion: aws.Bool(true)}))
}
