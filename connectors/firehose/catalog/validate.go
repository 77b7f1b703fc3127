package catalog

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits of Firehose that the catalog enforces.
const (
	MaxNameLen = 64
	// DefaultMaxDeliveryStreams is Firehose's default quota of delivery
	// streams per account and Region.
	DefaultMaxDeliveryStreams = 5000
	MaxTagsPerStream          = 50
	MaxTagKeyLen              = 128
	MaxTagValueLen            = 256
	DefaultListLimit          = 10
	MaxListLimit              = 10000
	DefaultListTagsLimit      = 50
)

var (
	namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	// Firehose's TagKey and TagValue patterns (TagKey's "not aws:" is checked apart).
	tagPattern       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@%]*$`)
	kinesisARN       = regexp.MustCompile(`^arn:[^:]*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/([a-zA-Z0-9_.-]+)$`)
	bucketARN        = regexp.MustCompile(`^arn:[^:]*:s3:::([\w.\-]{1,255})$`)
	pathSegment      = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
	processorParams  = map[string]bool{"MetadataExtractionQuery": true, "JsonParsingEngine": true, "Delimiter": true, "SubRecordType": true}
	parquetCompr     = map[string]bool{"UNCOMPRESSED": true, "GZIP": true, "SNAPPY": true}
	parquetVersions  = map[string]bool{"V1": true, "V2": true}
	compressionNames = map[string]bool{CompressionUncompressed: true, CompressionGZIP: true, CompressionZIP: true, CompressionSnappy: true, CompressionHadoopSnappy: true}
)

// ValidateName checks a delivery stream name as Firehose does (1 to 64 of
// a-z, A-Z, 0-9, '_', '.', '-'), and refuses "." and "..", which cannot name a
// directory.
func ValidateName(name string) error {
	if len(name) < 1 || len(name) > MaxNameLen || !namePattern.MatchString(name) {
		return errorf(ErrInvalidArgument, "Delivery stream name %q is not valid: it must be 1 to %d characters of a-z, A-Z, 0-9, '_', '.' and '-'.", name, MaxNameLen)
	}
	if name == "." || name == ".." {
		return errorf(ErrInvalidArgument, "Delivery stream name %q is not valid in eddy: it cannot name a directory. Choose another name.", name)
	}
	return nil
}

// StreamNameFromARN returns the stream name of a Kinesis stream ARN
// (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).
func StreamNameFromARN(arn string) (string, error) {
	m := kinesisARN.FindStringSubmatch(arn)
	if m == nil {
		return "", errorf(ErrInvalidArgument, "KinesisStreamARN %s is not a Kinesis stream ARN; it must look like arn:aws:kinesis:REGION:ACCOUNT:stream/NAME.", arn)
	}
	return m[1], nil
}

// BucketFromARN returns the bucket name of an S3 bucket ARN (arn:aws:s3:::BUCKET).
func BucketFromARN(arn string) (string, error) {
	m := bucketARN.FindStringSubmatch(arn)
	if m == nil {
		return "", errorf(ErrInvalidArgument, "BucketARN %s is not an S3 bucket ARN; it must look like arn:aws:s3:::BUCKET.", arn)
	}
	return m[1], nil
}

// checkTags validates tags as Firehose's model does and refuses a key given twice.
func checkTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > MaxTagKeyLen || !tagPattern.MatchString(t.Key) {
			return errorf(ErrInvalidArgument, "Tag key %q is not valid: it must be 1 to %d letters, digits, spaces and _ . : / = + - @ %%.", t.Key, MaxTagKeyLen)
		}
		if strings.HasPrefix(t.Key, "aws:") {
			return errorf(ErrInvalidArgument, "Tag key %q is not valid: keys starting with aws: are reserved for AWS.", t.Key)
		}
		if utf8.RuneCountInString(t.Value) > MaxTagValueLen || !tagPattern.MatchString(t.Value) {
			return errorf(ErrInvalidArgument, "Tag value %q of key %q is not valid: it must be at most %d letters, digits, spaces and _ . : / = + - @ %%.", t.Value, t.Key, MaxTagValueLen)
		}
		if seen[t.Key] {
			return errorf(ErrInvalidArgument, "Tag key %q is given more than once.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// checkEncryption validates a DeliveryStreamEncryptionConfigurationInput.
func checkEncryption(e *EncryptionConfig) (EncryptionConfig, error) {
	out := *e
	if out.KeyType == "" {
		out.KeyType = KeyAWSOwned
	}
	switch out.KeyType {
	case KeyAWSOwned:
		if out.KeyARN != "" {
			return out, errorf(ErrInvalidArgument, "KeyARN must not be specified when KeyType is AWS_OWNED_CMK.")
		}
	case KeyCustomerManaged:
		if out.KeyARN == "" {
			return out, errorf(ErrInvalidArgument, "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.")
		}
	default:
		return out, errorf(ErrInvalidArgument, "KeyType %q is not valid; use AWS_OWNED_CMK or CUSTOMER_MANAGED_CMK.", out.KeyType)
	}
	return out, nil
}

// checkDestination validates a merged destination.
func checkDestination(d *Destination) error {
	if d.Kind == DestinationStdout {
		return checkProcessing(d.Processing)
	}
	if d.Kind != DestinationS3 {
		return errorf(ErrInvalidArgument, "Destination kind %q is not known; eddy delivers to s3 (and stdout for debugging).", d.Kind)
	}
	if d.RoleARN == "" || d.BucketARN == "" {
		return errorf(ErrInvalidArgument, "An S3 destination needs RoleARN and BucketARN.")
	}
	bucket, err := BucketFromARN(d.BucketARN)
	if err != nil {
		return err
	}
	d.Bucket = bucket
	h := d.BufferingHints
	if h.SizeInMBs < MinBufferSizeMB || h.SizeInMBs > MaxBufferSizeMB {
		return errorf(ErrInvalidArgument, "BufferingHints.SizeInMBs %d is out of range; it must be %d to %d.", h.SizeInMBs, MinBufferSizeMB, MaxBufferSizeMB)
	}
	if h.IntervalInSeconds < MinBufferIntervalSecs || h.IntervalInSeconds > MaxBufferIntervalSecs {
		return errorf(ErrInvalidArgument, "BufferingHints.IntervalInSeconds %d is out of range; it must be %d to %d.", h.IntervalInSeconds, MinBufferIntervalSecs, MaxBufferIntervalSecs)
	}
	if !compressionNames[d.CompressionFormat] {
		return errorf(ErrInvalidArgument, "CompressionFormat %q is not valid; use UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY.", d.CompressionFormat)
	}
	if d.S3BackupMode != "" && d.S3BackupMode != "Disabled" {
		return errorf(ErrInvalidArgument, "S3BackupMode %s is not supported by eddy; only Disabled is (source records are kept in the backing stream instead).", d.S3BackupMode)
	}
	if c := d.DataFormatConversion; c != nil && c.Enabled {
		if d.CompressionFormat != CompressionUncompressed {
			return errorf(ErrInvalidArgument, "CompressionFormat must be UNCOMPRESSED when data format conversion is enabled; compress the Parquet output with ParquetSerDe.Compression instead (it is %s).", d.CompressionFormat)
		}
		if err := checkConversion(c); err != nil {
			return err
		}
	}
	if p := d.DynamicPartitioning; p != nil && p.Enabled {
		if h.SizeInMBs < MinDynamicPartitioningBufferMB {
			return errorf(ErrInvalidArgument, "BufferingHints.SizeInMBs must be at least %d when dynamic partitioning is enabled (it is %d).", MinDynamicPartitioningBufferMB, h.SizeInMBs)
		}
		if p.RetryDurationSecs < 0 || p.RetryDurationSecs > 7200 {
			return errorf(ErrInvalidArgument, "RetryOptions.DurationInSeconds %d is out of range; it must be 0 to 7200.", p.RetryDurationSecs)
		}
		if d.ErrorOutputPrefix == "" {
			return errorf(ErrInvalidArgument, "ErrorOutputPrefix is required when dynamic partitioning is enabled.")
		}
	}
	return checkProcessing(d.Processing)
}

func checkConversion(c *DataFormatConversion) error {
	if c.Input.OpenX == nil && c.Input.Hive == nil {
		return errorf(ErrInvalidArgument, "DataFormatConversionConfiguration needs an InputFormatConfiguration with an OpenXJsonSerDe or a HiveJsonSerDe.")
	}
	if c.Input.OpenX != nil && c.Input.Hive != nil {
		return errorf(ErrInvalidArgument, "InputFormatConfiguration.Deserializer must have exactly one of OpenXJsonSerDe and HiveJsonSerDe.")
	}
	p := c.Output
	if p.Compression != "" && !parquetCompr[p.Compression] {
		return errorf(ErrInvalidArgument, "ParquetSerDe.Compression %q is not valid; use UNCOMPRESSED, GZIP or SNAPPY.", p.Compression)
	}
	if p.WriterVersion != "" && !parquetVersions[p.WriterVersion] {
		return errorf(ErrInvalidArgument, "ParquetSerDe.WriterVersion %q is not valid; use V1 or V2.", p.WriterVersion)
	}
	if p.BlockSizeBytes != 0 && p.BlockSizeBytes < 64<<20 {
		return errorf(ErrInvalidArgument, "ParquetSerDe.BlockSizeBytes %d is too small; the minimum is 64 MiB (67108864).", p.BlockSizeBytes)
	}
	if p.PageSizeBytes != 0 && p.PageSizeBytes < 64<<10 {
		return errorf(ErrInvalidArgument, "ParquetSerDe.PageSizeBytes %d is too small; the minimum is 64 KiB (65536).", p.PageSizeBytes)
	}
	if p.MaxPaddingBytes < 0 {
		return errorf(ErrInvalidArgument, "ParquetSerDe.MaxPaddingBytes %d must not be negative.", p.MaxPaddingBytes)
	}
	if c.Schema.DatabaseName == "" || c.Schema.TableName == "" {
		return errorf(ErrInvalidArgument, "SchemaConfiguration needs DatabaseName and TableName.")
	}
	return nil
}

func checkProcessing(p *Processing) error {
	if p == nil {
		return nil
	}
	for i, pr := range p.Processors {
		switch pr.Type {
		case "Lambda":
			return errorf(ErrInvalidArgument, "Processor %d: eddy does not run Lambda functions; set an SQL transform (a SELECT ... FROM record) on the destination instead.", i+1)
		case ProcessorMetadataExtraction, ProcessorAppendDelimiterToRecord, ProcessorRecordDeAggregation:
		case "":
			return errorf(ErrInvalidArgument, "Processor %d has no Type.", i+1)
		default:
			return errorf(ErrInvalidArgument, "Processor %d: type %s is not supported by eddy; it runs MetadataExtraction, AppendDelimiterToRecord and RecordDeAggregation.", i+1, pr.Type)
		}
		for _, pp := range pr.Parameters {
			if !processorParams[pp.Name] {
				return errorf(ErrInvalidArgument, "Processor %d (%s): parameter %s is not supported by eddy.", i+1, pr.Type, pp.Name)
			}
		}
		if pr.Type == ProcessorMetadataExtraction {
			q, ok := pr.Param("MetadataExtractionQuery")
			if !ok || strings.TrimSpace(q) == "" {
				return errorf(ErrInvalidArgument, "Processor %d (MetadataExtraction) needs a MetadataExtractionQuery parameter.", i+1)
			}
			if e, ok := pr.Param("JsonParsingEngine"); ok && e != "JQ-1.6" {
				return errorf(ErrInvalidArgument, "Processor %d (MetadataExtraction): JsonParsingEngine %q is not supported; use JQ-1.6.", i+1, e)
			}
		}
	}
	return nil
}

// checkSchemaRef refuses database and table names that are not safe file
// names, since the default resolver reads DATA_DIR/tables/DATABASE/TABLE.json.
func checkSchemaRef(s Schema) error {
	for _, n := range []string{s.DatabaseName, s.TableName} {
		if !pathSegment.MatchString(n) || n == "." || n == ".." {
			return errorf(ErrInvalidArgument, "SchemaConfiguration names %q, which eddy cannot map to a file: database and table names must be letters, digits, '_', '.' and '-'.", n)
		}
	}
	return nil
}
