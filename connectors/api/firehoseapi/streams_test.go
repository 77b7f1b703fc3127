package firehoseapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

func TestCreateAndDescribeDirectPut(t *testing.T) {
	e := newEnv(t, 0)
	ctx := apitest.Ctx(t)
	out := apitest.Must[*firehose.CreateDeliveryStreamOutput](t)(e.client.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("clicks"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String(roleARN), BucketARN: aws.String(bucketARN), Prefix: aws.String("raw/"),
			BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(60)},
			ProcessingConfiguration: &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{{
				Type: types.ProcessorTypeAppendDelimiterToRecord,
			}}},
		},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	}))
	if want := "arn:aws:firehose:eu-west-1:123456789012:deliverystream/clicks"; aws.ToString(out.DeliveryStreamARN) != want {
		t.Fatalf("ARN %s, want %s", aws.ToString(out.DeliveryStreamARN), want)
	}
	d := describeStream(t, e, "clicks")
	if d.DeliveryStreamStatus != types.DeliveryStreamStatusActive || d.DeliveryStreamType != types.DeliveryStreamTypeDirectPut ||
		aws.ToString(d.VersionId) != "1" || d.CreateTimestamp == nil || aws.ToBool(d.HasMoreDestinations) {
		t.Fatalf("description %+v", d)
	}
	if enc := d.DeliveryStreamEncryptionConfiguration; enc == nil || enc.Status != types.DeliveryStreamEncryptionStatusDisabled {
		t.Fatalf("encryption %+v, want DISABLED", enc)
	}
	if len(d.Destinations) != 1 {
		t.Fatalf("%d destinations", len(d.Destinations))
	}
	dst := d.Destinations[0]
	ext, s3 := dst.ExtendedS3DestinationDescription, dst.S3DestinationDescription
	if aws.ToString(dst.DestinationId) != catalog.FirstDestinationID || ext == nil || s3 == nil {
		t.Fatalf("destination %+v", dst)
	}
	if aws.ToString(ext.Prefix) != "raw/" || aws.ToInt32(ext.BufferingHints.SizeInMBs) != 1 || aws.ToInt32(ext.BufferingHints.IntervalInSeconds) != 60 ||
		ext.CompressionFormat != types.CompressionFormatUncompressed || ext.S3BackupMode != types.S3BackupModeDisabled ||
		ext.EncryptionConfiguration.NoEncryptionConfig != types.NoEncryptionConfigNoEncryption {
		t.Fatalf("extended description %+v", ext)
	}
	if p := ext.ProcessingConfiguration; p == nil || !aws.ToBool(p.Enabled) || p.Processors[0].Type != types.ProcessorTypeAppendDelimiterToRecord {
		t.Fatalf("processing %+v", p)
	}
	if aws.ToString(s3.BucketARN) != bucketARN || aws.ToString(s3.RoleARN) != roleARN || aws.ToInt32(s3.BufferingHints.SizeInMBs) != 1 {
		t.Fatalf("S3 description %+v", s3)
	}
	// The backing stream exists, with one shard.
	desc, err := e.store.DescribeStream(catalog.BackingStream("clicks"))
	if err != nil || len(desc.Shards) != 1 {
		t.Fatalf("backing stream: %+v %v", desc, err)
	}
}

func TestDefaultsOfAPlainS3Destination(t *testing.T) {
	e := newEnv(t, 0)
	apitest.Must[*firehose.CreateDeliveryStreamOutput](t)(e.client.CreateDeliveryStream(apitest.Ctx(t), &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("plain"),
		//lint:ignore SA1019 the deprecated S3DestinationConfiguration is what this test sends: clients still use it
		S3DestinationConfiguration: &types.S3DestinationConfiguration{RoleARN: aws.String(roleARN), BucketARN: aws.String(bucketARN)},
	}))
	dst := describeStream(t, e, "plain").Destinations[0]
	if dst.ExtendedS3DestinationDescription != nil {
		t.Fatalf("a plain S3 destination is described as extended too: %+v", dst.ExtendedS3DestinationDescription)
	}
	s3 := dst.S3DestinationDescription
	if aws.ToInt32(s3.BufferingHints.SizeInMBs) != 5 || aws.ToInt32(s3.BufferingHints.IntervalInSeconds) != 300 || aws.ToString(s3.Prefix) != "" ||
		s3.CompressionFormat != types.CompressionFormatUncompressed || s3.CloudWatchLoggingOptions == nil || aws.ToBool(s3.CloudWatchLoggingOptions.Enabled) {
		t.Fatalf("defaults %+v", s3)
	}
	// Updated as an extended destination, it is described both ways.
	apitest.Must[*firehose.UpdateDestinationOutput](t)(e.client.UpdateDestination(apitest.Ctx(t), &firehose.UpdateDestinationInput{
		DeliveryStreamName: aws.String("plain"), CurrentDeliveryStreamVersionId: aws.String("1"), DestinationId: aws.String(catalog.FirstDestinationID),
		ExtendedS3DestinationUpdate: &types.ExtendedS3DestinationUpdate{FileExtension: aws.String(".json")},
	}))
	dst = describeStream(t, e, "plain").Destinations[0]
	if dst.ExtendedS3DestinationDescription == nil || aws.ToString(dst.ExtendedS3DestinationDescription.FileExtension) != ".json" ||
		aws.ToString(dst.S3DestinationDescription.BucketARN) != bucketARN {
		t.Fatalf("after an extended update: %+v", dst)
	}
}

func TestCreatingThenActive(t *testing.T) {
	e := newEnv(t, time.Second)
	createDirect(t, e, "slow")
	if s := describeStream(t, e, "slow").DeliveryStreamStatus; s != types.DeliveryStreamStatusCreating {
		t.Fatalf("status %s right after create, want CREATING", s)
	}
	e.clock.Advance(999 * time.Millisecond)
	if s := describeStream(t, e, "slow").DeliveryStreamStatus; s != types.DeliveryStreamStatusCreating {
		t.Fatalf("status %s before the delay passed, want CREATING", s)
	}
	e.clock.Advance(time.Millisecond)
	if s := describeStream(t, e, "slow").DeliveryStreamStatus; s != types.DeliveryStreamStatusActive {
		t.Fatalf("status %s once the delay passed, want ACTIVE", s)
	}
}

func TestKinesisStreamAsSource(t *testing.T) {
	e := newEnv(t, 0)
	ctx := apitest.Ctx(t)
	src := "arn:aws:kinesis:eu-west-1:123456789012:stream/events"
	_, err := e.client.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("from-kinesis"), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration:   &types.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String(src), RoleARN: aws.String(roleARN)},
		ExtendedS3DestinationConfiguration: extS3(),
	})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "Kinesis stream "+src+" does not exist")
	if err := e.store.CreateStream("events", 2); err != nil {
		t.Fatal(err)
	}
	apitest.Must[*firehose.CreateDeliveryStreamOutput](t)(e.client.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("from-kinesis"), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration:   &types.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String(src), RoleARN: aws.String(roleARN)},
		ExtendedS3DestinationConfiguration: extS3(),
	}))
	d := describeStream(t, e, "from-kinesis")
	if d.Source == nil || d.Source.KinesisStreamSourceDescription == nil || aws.ToString(d.Source.KinesisStreamSourceDescription.KinesisStreamARN) != src ||
		d.Source.KinesisStreamSourceDescription.DeliveryStartTimestamp == nil {
		t.Fatalf("source %+v", d.Source)
	}
	if ds, _ := e.cat.Get("from-kinesis"); ds.Source.StreamName != "events" {
		t.Fatalf("catalog source %+v", ds.Source)
	}
	if _, err := e.store.DescribeStream(catalog.BackingStream("from-kinesis")); err == nil {
		t.Fatal("a KinesisStreamAsSource delivery stream got a backing stream")
	}
	_, err = e.client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("from-kinesis"), Record: &types.Record{Data: []byte("x")}})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "not permitted on KinesisStreamAsSource")
	_, err = e.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("from-kinesis"), Records: []types.Record{{Data: []byte("x")}}})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "not permitted on KinesisStreamAsSource")
	_, err = e.client.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("from-kinesis")})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "Kinesis stream")
	names := apitest.Must[*firehose.ListDeliveryStreamsOutput](t)(e.client.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{DeliveryStreamType: types.DeliveryStreamTypeDirectPut}))
	if len(names.DeliveryStreamNames) != 0 {
		t.Fatalf("DirectPut filter listed %v", names.DeliveryStreamNames)
	}
	apitest.Must[*firehose.DeleteDeliveryStreamOutput](t)(e.client.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("from-kinesis")}))
}

func TestCreateErrors(t *testing.T) {
	e := newEnv(t, 0)
	ctx := apitest.Ctx(t)
	createDirect(t, e, "taken")
	withExt := func(f func(d *types.ExtendedS3DestinationConfiguration)) *firehose.CreateDeliveryStreamInput {
		d := extS3()
		f(d)
		return &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("n"), ExtendedS3DestinationConfiguration: d}
	}
	conversion := func(out *types.OutputFormatConfiguration, table string) func(d *types.ExtendedS3DestinationConfiguration) {
		return func(d *types.ExtendedS3DestinationConfiguration) {
			d.DataFormatConversionConfiguration = &types.DataFormatConversionConfiguration{
				SchemaConfiguration:       &types.SchemaConfiguration{DatabaseName: aws.String("db"), TableName: aws.String(table), RoleARN: aws.String(roleARN)},
				InputFormatConfiguration:  &types.InputFormatConfiguration{Deserializer: &types.Deserializer{OpenXJsonSerDe: &types.OpenXJsonSerDe{}}},
				OutputFormatConfiguration: out,
			}
		}
	}
	parquet := &types.OutputFormatConfiguration{Serializer: &types.Serializer{ParquetSerDe: &types.ParquetSerDe{}}}
	for _, tc := range []struct {
		name  string
		in    *firehose.CreateDeliveryStreamInput
		code  string
		parts []string
	}{
		{"bad name", &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("a b"), ExtendedS3DestinationConfiguration: extS3()},
			"ValidationException", []string{"Value 'a b' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"}},
		{"long name", &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(strings.Repeat("x", 65)), ExtendedS3DestinationConfiguration: extS3()},
			"ValidationException", []string{"Member must have length less than or equal to 64"}},
		{"exists", &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("taken"), ExtendedS3DestinationConfiguration: extS3()},
			"ResourceInUseException", []string{"Firehose taken under accountId 123456789012 already exists"}},
		{"no destination", &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("n")}, "InvalidArgumentException", []string{"Exactly one destination configuration is supported for a Firehose"}},
		{"redshift", &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("n"), RedshiftDestinationConfiguration: &types.RedshiftDestinationConfiguration{
			RoleARN: aws.String(roleARN), ClusterJDBCURL: aws.String("jdbc:redshift://a.redshift.amazonaws.com:5439/db"),
			CopyCommand: &types.CopyCommand{DataTableName: aws.String("t")}, S3Configuration: &types.S3DestinationConfiguration{RoleARN: aws.String(roleARN), BucketARN: aws.String(bucketARN)},
		}}, "InvalidArgumentException", []string{"RedshiftDestinationConfiguration is not supported"}},
		{"buffer size", withExt(func(d *types.ExtendedS3DestinationConfiguration) {
			d.BufferingHints = &types.BufferingHints{SizeInMBs: aws.Int32(129), IntervalInSeconds: aws.Int32(60)}
		}), "ValidationException", []string{"Value '129' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128"}},
		{"lambda", withExt(func(d *types.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration = &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{{Type: types.ProcessorTypeLambda,
				Parameters: []types.ProcessorParameter{{ParameterName: types.ProcessorParameterNameLambdaArn, ParameterValue: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:f")}}}}}
		}), "InvalidArgumentException", []string{"Lambda", "SQL transform"}},
		{"orc", withExt(conversion(&types.OutputFormatConfiguration{Serializer: &types.Serializer{OrcSerDe: &types.OrcSerDe{}}}, "t")),
			"InvalidArgumentException", []string{"Parquet only"}},
		{"schema file missing", withExt(conversion(parquet, "missing")),
			"InvalidArgumentException", []string{catalog.TablePath(e.dir, "db", "missing")}},
		{"source without type", &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("n"), ExtendedS3DestinationConfiguration: extS3(),
			KinesisStreamSourceConfiguration: &types.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String("arn:aws:kinesis:eu-west-1:123456789012:stream/s"), RoleARN: aws.String(roleARN)}},
			"InvalidArgumentException", []string{"KinesisSourceStreamConfig is only applicable for KinesisStreamAsSource stream type"}},
		{"msk", &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("n"), DeliveryStreamType: types.DeliveryStreamTypeMSKAsSource, ExtendedS3DestinationConfiguration: extS3()},
			"InvalidArgumentException", []string{"MSKAsSource is not supported"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.CreateDeliveryStream(ctx, tc.in)
			apitest.WantAPIError(t, err, tc.code, tc.parts...)
		})
	}
	names := apitest.Must[*firehose.ListDeliveryStreamsOutput](t)(e.client.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{}))
	if !slices.Equal(names.DeliveryStreamNames, []string{"taken"}) {
		t.Fatalf("refused creates left %v", names.DeliveryStreamNames)
	}
	if got := e.store.ListStreams(); !slices.Equal(got, []string{catalog.BackingStream("taken")}) {
		t.Fatalf("refused creates left backing streams %v", got)
	}
}

func TestFormatConversionDescribed(t *testing.T) {
	e := newEnv(t, 0)
	writeTable(t, e.dir, "web", "clicks", `[{"Name":"user","Type":"string"},{"Name":"ms","Type":"bigint"}]`)
	d := extS3()
	d.DataFormatConversionConfiguration = &types.DataFormatConversionConfiguration{
		SchemaConfiguration: &types.SchemaConfiguration{DatabaseName: aws.String("web"), TableName: aws.String("clicks"), RoleARN: aws.String(roleARN)},
		InputFormatConfiguration: &types.InputFormatConfiguration{Deserializer: &types.Deserializer{HiveJsonSerDe: &types.HiveJsonSerDe{
			TimestampFormats: []string{"yyyy-MM-dd'T'HH:mm:ss"}}}},
		OutputFormatConfiguration: &types.OutputFormatConfiguration{Serializer: &types.Serializer{ParquetSerDe: &types.ParquetSerDe{
			Compression: types.ParquetCompressionGzip, WriterVersion: types.ParquetWriterVersionV2}}},
	}
	apitest.Must[*firehose.CreateDeliveryStreamOutput](t)(e.client.CreateDeliveryStream(apitest.Ctx(t), &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("pq"), ExtendedS3DestinationConfiguration: d}))
	c := describeStream(t, e, "pq").Destinations[0].ExtendedS3DestinationDescription.DataFormatConversionConfiguration
	if c == nil || !aws.ToBool(c.Enabled) || aws.ToString(c.SchemaConfiguration.TableName) != "clicks" || aws.ToString(c.SchemaConfiguration.VersionId) != "LATEST" ||
		c.InputFormatConfiguration.Deserializer.HiveJsonSerDe.TimestampFormats[0] != "yyyy-MM-dd'T'HH:mm:ss" ||
		c.OutputFormatConfiguration.Serializer.ParquetSerDe.Compression != types.ParquetCompressionGzip ||
		c.OutputFormatConfiguration.Serializer.ParquetSerDe.WriterVersion != types.ParquetWriterVersionV2 {
		t.Fatalf("conversion %+v", c)
	}
	ds, _ := e.cat.Get("pq")
	if cols := ds.Destination.DataFormatConversion.Schema.Columns; len(cols) != 2 || cols[1] != (catalog.Column{Name: "ms", Type: "bigint"}) {
		t.Fatalf("resolved columns %v", cols)
	}
}

func TestUpdateDestination(t *testing.T) {
	e := newEnv(t, 0)
	ctx := apitest.Ctx(t)
	createDirect(t, e, "u")
	update := func(version string, dest string, upd *types.ExtendedS3DestinationUpdate) error {
		_, err := e.client.UpdateDestination(ctx, &firehose.UpdateDestinationInput{
			DeliveryStreamName: aws.String("u"), CurrentDeliveryStreamVersionId: aws.String(version), DestinationId: aws.String(dest), ExtendedS3DestinationUpdate: upd,
		})
		return err
	}
	apitest.WantAPIError(t, update("7", catalog.FirstDestinationID, &types.ExtendedS3DestinationUpdate{}), "ConcurrentModificationException",
		"Cannot update firehose: u since the current version id: 1 and specified version id: 7 do not match")
	apitest.WantAPIError(t, update("1", "destinationId-000000000009", &types.ExtendedS3DestinationUpdate{}), "InvalidArgumentException", "destinationId-000000000009")
	apitest.WantAPIError(t, update("1", catalog.FirstDestinationID, &types.ExtendedS3DestinationUpdate{BufferingHints: &types.BufferingHints{IntervalInSeconds: aws.Int32(901)}}),
		"ValidationException", "intervalInSeconds")
	e.clock.Advance(time.Minute)
	if err := update("1", catalog.FirstDestinationID, &types.ExtendedS3DestinationUpdate{Prefix: aws.String("v2/"), CompressionFormat: types.CompressionFormatGzip}); err != nil {
		t.Fatal(err)
	}
	d := describeStream(t, e, "u")
	ext := d.Destinations[0].ExtendedS3DestinationDescription
	if aws.ToString(d.VersionId) != "2" || d.LastUpdateTimestamp == nil || aws.ToString(ext.Prefix) != "v2/" || ext.CompressionFormat != types.CompressionFormatGzip ||
		aws.ToString(ext.BucketARN) != bucketARN || aws.ToInt32(ext.BufferingHints.SizeInMBs) != 5 {
		t.Fatalf("after update: version %s, %+v", aws.ToString(d.VersionId), ext)
	}
	_, err := e.client.UpdateDestination(ctx, &firehose.UpdateDestinationInput{
		DeliveryStreamName: aws.String("missing"), CurrentDeliveryStreamVersionId: aws.String("1"), DestinationId: aws.String(catalog.FirstDestinationID),
		ExtendedS3DestinationUpdate: &types.ExtendedS3DestinationUpdate{},
	})
	apitest.WantAPIError(t, err, "ResourceNotFoundException", "Firehose missing under account 123456789012 not found.")
}

func TestListPagingDeleteAndReopen(t *testing.T) {
	e := newEnv(t, 0)
	ctx := apitest.Ctx(t)
	for i := range 7 {
		createDirect(t, e, fmt.Sprintf("s%d", i))
	}
	var all []string
	in := &firehose.ListDeliveryStreamsInput{Limit: aws.Int32(3)}
	for pages := 0; ; pages++ {
		out := apitest.Must[*firehose.ListDeliveryStreamsOutput](t)(e.client.ListDeliveryStreams(ctx, in))
		all = append(all, out.DeliveryStreamNames...)
		if !aws.ToBool(out.HasMoreDeliveryStreams) || pages > 5 {
			break
		}
		in.ExclusiveStartDeliveryStreamName = aws.String(all[len(all)-1])
	}
	if want := []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6"}; !slices.Equal(all, want) {
		t.Fatalf("paged %v, want %v", all, want)
	}
	apitest.Must[*firehose.DeleteDeliveryStreamOutput](t)(e.client.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("s3"), AllowForceDelete: aws.Bool(true)}))
	_, err := e.client.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("s3")})
	apitest.WantAPIError(t, err, "ResourceNotFoundException", "Firehose s3 under account 123456789012 not found.")
	_, err = e.client.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("s3")})
	apitest.WantAPIError(t, err, "ResourceNotFoundException", "s3")
	if slices.Contains(e.store.ListStreams(), catalog.BackingStream("s3")) {
		t.Fatal("delete left the backing stream")
	}
	// A catalog and API opened again on the data directory serve the same streams.
	cat2, err := catalog.Open(e.dir, catalog.Options{AccountID: account, StateDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	api2, err := New(e.store, cat2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptestServer(t, api2)
	c2 := firehose.New(firehose.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv2.URL), Credentials: e.client.Options().Credentials, HTTPClient: srv2.Client(), Retryer: apitest.ClosedConnRetryer()})
	out := apitest.Must[*firehose.ListDeliveryStreamsOutput](t)(c2.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{Limit: aws.Int32(100)}))
	if want := []string{"s0", "s1", "s2", "s4", "s5", "s6"}; !slices.Equal(out.DeliveryStreamNames, want) {
		t.Fatalf("after reopen %v, want %v", out.DeliveryStreamNames, want)
	}
	d2 := apitest.Must[*firehose.DescribeDeliveryStreamOutput](t)(c2.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("s5")}))
	if aws.ToString(d2.DeliveryStreamDescription.DeliveryStreamARN) != aws.ToString(describeStream(t, e, "s5").DeliveryStreamARN) {
		t.Fatal("ARN changed across reopen")
	}
}

func TestTagsAndEncryption(t *testing.T) {
	e := newEnv(t, 0)
	ctx := apitest.Ctx(t)
	createDirect(t, e, "t")
	var tags []types.Tag
	for i := range 50 {
		tags = append(tags, types.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String("v")})
	}
	apitest.Must[*firehose.TagDeliveryStreamOutput](t)(e.client.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("t"), Tags: tags}))
	_, err := e.client.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("t"), Tags: []types.Tag{{Key: aws.String("more")}}})
	apitest.WantAPIError(t, err, "LimitExceededException", "at most 50")
	_, err = e.client.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("t"), Tags: []types.Tag{{Key: aws.String("a#b")}}})
	apitest.WantAPIError(t, err, "ValidationException", "tags.1.member.key")
	_, err = e.client.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("nope"), Tags: []types.Tag{{Key: aws.String("a")}}})
	apitest.WantAPIError(t, err, "ResourceNotFoundException", "nope")
	var keys []string
	in := &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("t"), Limit: aws.Int32(20)}
	for pages := 0; ; pages++ {
		out := apitest.Must[*firehose.ListTagsForDeliveryStreamOutput](t)(e.client.ListTagsForDeliveryStream(ctx, in))
		for _, tg := range out.Tags {
			keys = append(keys, aws.ToString(tg.Key))
		}
		if !aws.ToBool(out.HasMoreTags) || pages > 5 {
			break
		}
		in.ExclusiveStartTagKey = aws.String(keys[len(keys)-1])
	}
	if len(keys) != 50 || keys[0] != "k00" || keys[49] != "k49" || !slices.IsSorted(keys) {
		t.Fatalf("paged tags %v", keys)
	}
	apitest.Must[*firehose.UntagDeliveryStreamOutput](t)(e.client.UntagDeliveryStream(ctx, &firehose.UntagDeliveryStreamInput{DeliveryStreamName: aws.String("t"), TagKeys: []string{"k00", "k01"}}))
	out := apitest.Must[*firehose.ListTagsForDeliveryStreamOutput](t)(e.client.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("t"), Limit: aws.Int32(1)}))
	if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "k02" || aws.ToString(out.Tags[0].Value) != "v" || !aws.ToBool(out.HasMoreTags) {
		t.Fatalf("after untag: %+v", out)
	}

	key := "arn:aws:kms:eu-west-1:123456789012:key/abc"
	apitest.Must[*firehose.StartDeliveryStreamEncryptionOutput](t)(e.client.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{
		DeliveryStreamName: aws.String("t"), DeliveryStreamEncryptionConfigurationInput: &types.DeliveryStreamEncryptionConfigurationInput{KeyType: types.KeyTypeCustomerManagedCmk, KeyARN: aws.String(key)},
	}))
	enc := describeStream(t, e, "t").DeliveryStreamEncryptionConfiguration
	if enc.Status != types.DeliveryStreamEncryptionStatusEnabled || enc.KeyType != types.KeyTypeCustomerManagedCmk || aws.ToString(enc.KeyARN) != key {
		t.Fatalf("encryption %+v", enc)
	}
	put := apitest.Must[*firehose.PutRecordOutput](t)(e.client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("t"), Record: &types.Record{Data: []byte("x")}}))
	if !aws.ToBool(put.Encrypted) {
		t.Fatal("PutRecord to an encrypted stream says Encrypted false")
	}
	apitest.Must[*firehose.StopDeliveryStreamEncryptionOutput](t)(e.client.StopDeliveryStreamEncryption(ctx, &firehose.StopDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("t")}))
	if enc := describeStream(t, e, "t").DeliveryStreamEncryptionConfiguration; enc.Status != types.DeliveryStreamEncryptionStatusDisabled || enc.KeyARN != nil {
		t.Fatalf("after stop %+v", enc)
	}
	_, err = e.client.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{
		DeliveryStreamName: aws.String("t"), DeliveryStreamEncryptionConfigurationInput: &types.DeliveryStreamEncryptionConfigurationInput{KeyType: types.KeyTypeCustomerManagedCmk},
	})
	apitest.WantAPIError(t, err, "InvalidArgumentException", "KeyARN is required")
}

func TestUnknownOperation(t *testing.T) {
	e := newEnv(t, 0)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Firehose_20150804.DescribeEverything")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-ErrorType") != "UnknownOperationException" {
		t.Fatalf("status %d type %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}

func TestReconcileBackingStreams(t *testing.T) {
	e := newEnv(t, 0)
	createDirect(t, e, "kept")
	createDirect(t, e, "lost")
	// A crash after the catalog's create and before the store's, and one after
	// the catalog's delete and before the store's.
	if err := e.store.DeleteStream(catalog.BackingStream("lost")); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateStream(catalog.BackingStream("gone"), 1); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateStream("user-stream", 1); err != nil {
		t.Fatal(err)
	}
	api, err := New(e.store, e.cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{catalog.BackingStream("kept"), catalog.BackingStream("lost"), "user-stream"}
	if got := e.store.ListStreams(); !slices.Equal(got, want) {
		t.Fatalf("after New: streams %v, want %v", got, want)
	}
	if err := api.Reconcile(); err != nil {
		t.Fatalf("second Reconcile: %v", err)
	}
}
