package catalog

import "time"

// StreamType is where a delivery stream's records come from.
type StreamType string

// Stream types eddy supports (Firehose's DeliveryStreamType values).
const (
	// TypeDirectPut: producers call PutRecord and PutRecordBatch.
	TypeDirectPut StreamType = "DirectPut"
	// TypeKinesisStreamAsSource: the delivery stream reads a Kinesis stream.
	TypeKinesisStreamAsSource StreamType = "KinesisStreamAsSource"
)

// Status is a delivery stream's DeliveryStreamStatus.
type Status string

// Statuses a delivery stream shows.
const (
	StatusCreating Status = "CREATING"
	StatusActive   Status = "ACTIVE"
	StatusDeleting Status = "DELETING"
)

// DeliveryStream is one delivery stream definition. Values returned by the
// catalog are copies: changing one changes nothing stored.
type DeliveryStream struct {
	Name string     `json:"name"`
	ARN  string     `json:"arn"` // arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME
	Type StreamType `json:"type"`
	// Status is computed when the stream is read (CREATING for
	// Options.StateDelay after creation, then ACTIVE); it is not stored.
	Status Status `json:"-"`
	// VersionID is "1" at creation and one more after every UpdateDestination.
	VersionID   string    `json:"versionId"`
	Created     time.Time `json:"created"`
	LastUpdated time.Time `json:"lastUpdated"`
	// Source is set for TypeKinesisStreamAsSource.
	Source      *KinesisSource `json:"source,omitempty"`
	Destination Destination    `json:"destination"`
	// Tags are sorted by key.
	Tags       []Tag      `json:"tags,omitempty"`
	Encryption Encryption `json:"encryption"`
}

// KinesisSource is the Kinesis stream a KinesisStreamAsSource delivery stream reads.
type KinesisSource struct {
	StreamARN string `json:"streamArn"`
	// StreamName is resolved from StreamARN (the part after "stream/").
	StreamName string `json:"streamName"`
	RoleARN    string `json:"roleArn"`
}

// Tag is a key-value pair attached to a delivery stream.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Encryption is server-side encryption of a DirectPut delivery stream, as
// Start/StopDeliveryStreamEncryption set it. eddy records it and reports it;
// data at rest is not encrypted.
type Encryption struct {
	// Enabled says whether encryption was last started (true) or stopped.
	Enabled bool   `json:"enabled"`
	KeyType string `json:"keyType,omitempty"` // AWS_OWNED_CMK or CUSTOMER_MANAGED_CMK
	KeyARN  string `json:"keyArn,omitempty"`  // with CUSTOMER_MANAGED_CMK
	// Changed is when encryption was last started or stopped (zero: never).
	Changed time.Time `json:"changed,omitzero"`
	// Status is computed when the stream is read: ENABLING or DISABLING for
	// Options.StateDelay after a change, then ENABLED or DISABLED.
	Status string `json:"-"`
}

// Encryption statuses.
const (
	EncryptionEnabled   = "ENABLED"
	EncryptionEnabling  = "ENABLING"
	EncryptionDisabled  = "DISABLED"
	EncryptionDisabling = "DISABLING"
)

// Key types of delivery stream encryption.
const (
	KeyAWSOwned        = "AWS_OWNED_CMK"
	KeyCustomerManaged = "CUSTOMER_MANAGED_CMK"
)

// DestinationKind says where a destination delivers.
type DestinationKind string

// Destination kinds.
const (
	// DestinationS3 delivers objects to a bucket (S3 or eddy's object store).
	DestinationS3 DestinationKind = "s3"
	// DestinationStdout prints records; eddy's own, for debugging (no API shape).
	DestinationStdout DestinationKind = "stdout"
)

// FirstDestinationID is the id of a delivery stream's only destination, as
// Firehose numbers them.
const FirstDestinationID = "destinationId-000000000001"

// Defaults and bounds of S3 destinations, as Firehose has them.
const (
	DefaultBufferSizeMB       = 5
	DefaultBufferIntervalSecs = 300
	MinBufferSizeMB           = 1
	MaxBufferSizeMB           = 128
	MinBufferIntervalSecs     = 0
	MaxBufferIntervalSecs     = 900
	// MinDynamicPartitioningBufferMB is the smallest buffer Firehose accepts
	// with dynamic partitioning enabled.
	MinDynamicPartitioningBufferMB = 64
	// DefaultRetryDurationSecs is the default of DynamicPartitioning.RetryDuration.
	DefaultRetryDurationSecs = 300
)

// Compression formats of S3 destinations.
const (
	CompressionUncompressed = "UNCOMPRESSED"
	CompressionGZIP         = "GZIP"
	CompressionZIP          = "ZIP"
	CompressionSnappy       = "Snappy"
	CompressionHadoopSnappy = "HADOOP_SNAPPY"
)

// Destination is a delivery stream's one destination.
type Destination struct {
	ID   string          `json:"id"`
	Kind DestinationKind `json:"kind"`
	// Extended says the destination was configured as an
	// ExtendedS3DestinationConfiguration (DescribeDeliveryStream then shows an
	// ExtendedS3DestinationDescription besides the S3DestinationDescription).
	Extended  bool   `json:"extended,omitempty"`
	RoleARN   string `json:"roleArn,omitempty"`
	BucketARN string `json:"bucketArn,omitempty"`
	// Bucket is resolved from BucketARN (arn:aws:s3:::BUCKET).
	Bucket            string         `json:"bucket,omitempty"`
	Prefix            string         `json:"prefix,omitempty"`
	ErrorOutputPrefix string         `json:"errorOutputPrefix,omitempty"`
	BufferingHints    BufferingHints `json:"bufferingHints"`
	CompressionFormat string         `json:"compressionFormat"`
	// KMSKeyARN encrypts delivered objects (S3 EncryptionConfiguration); empty
	// is NoEncryption.
	KMSKeyARN         string             `json:"kmsKeyArn,omitempty"`
	CloudWatchLogging *CloudWatchLogging `json:"cloudWatchLogging,omitempty"`
	FileExtension     string             `json:"fileExtension,omitempty"`
	CustomTimeZone    string             `json:"customTimeZone,omitempty"`
	// S3BackupMode is "Disabled" (eddy does not back up source records).
	S3BackupMode         string                `json:"s3BackupMode,omitempty"`
	DataFormatConversion *DataFormatConversion `json:"dataFormatConversion,omitempty"`
	DynamicPartitioning  *DynamicPartitioning  `json:"dynamicPartitioning,omitempty"`
	Processing           *Processing           `json:"processing,omitempty"`
	// SQLTransform is eddy's extension: a `SELECT ... FROM record` applied to
	// each record before delivery. The catalog only stores it.
	SQLTransform string `json:"sqlTransform,omitempty"`
}

// BufferingHints say when a buffer is delivered: when it holds SizeInMBs or
// when IntervalInSeconds have passed since its first record.
type BufferingHints struct {
	SizeInMBs         int `json:"sizeInMBs"`
	IntervalInSeconds int `json:"intervalInSeconds"`
}

// CloudWatchLogging is recorded and reported; eddy logs to its own logger.
type CloudWatchLogging struct {
	Enabled       bool   `json:"enabled"`
	LogGroupName  string `json:"logGroupName,omitempty"`
	LogStreamName string `json:"logStreamName,omitempty"`
}

// DataFormatConversion converts JSON records to Parquet with a table's schema.
type DataFormatConversion struct {
	Enabled bool        `json:"enabled"`
	Input   InputFormat `json:"input"`
	Output  Parquet     `json:"output"`
	Schema  Schema      `json:"schema"`
}

// InputFormat is how JSON records are read: exactly one of OpenX and Hive.
type InputFormat struct {
	OpenX *OpenXJSON `json:"openx,omitempty"`
	Hive  *HiveJSON  `json:"hive,omitempty"`
}

// OpenXJSON is the OpenX JSON SerDe's configuration.
type OpenXJSON struct {
	// CaseInsensitive defaults to true, as in Firehose.
	CaseInsensitive                    bool              `json:"caseInsensitive"`
	ColumnToJSONKeyMappings            map[string]string `json:"columnToJsonKeyMappings,omitempty"`
	ConvertDotsInJSONKeysToUnderscores bool              `json:"convertDotsInJsonKeysToUnderscores,omitempty"`
}

// HiveJSON is the Hive JSON SerDe's configuration.
type HiveJSON struct {
	// TimestampFormats are Joda-Time patterns, or "millis" for epoch milliseconds.
	TimestampFormats []string `json:"timestampFormats,omitempty"`
}

// Parquet is the Parquet SerDe's configuration. Zero fields mean Firehose's
// defaults: see the Default* constants.
type Parquet struct {
	Compression                 string `json:"compression,omitempty"` // UNCOMPRESSED, GZIP, SNAPPY
	BlockSizeBytes              int    `json:"blockSizeBytes,omitempty"`
	PageSizeBytes               int    `json:"pageSizeBytes,omitempty"`
	EnableDictionaryCompression bool   `json:"enableDictionaryCompression,omitempty"`
	MaxPaddingBytes             int    `json:"maxPaddingBytes,omitempty"`
	WriterVersion               string `json:"writerVersion,omitempty"` // V1, V2
}

// Firehose's Parquet defaults.
const (
	DefaultParquetCompression    = "SNAPPY"
	DefaultParquetBlockSizeBytes = 256 << 20
	DefaultParquetPageSizeBytes  = 1 << 20
	DefaultParquetWriterVersion  = "V1"
)

// Schema names the table whose columns records are converted to, and holds the
// columns resolved when the destination was created or last updated.
type Schema struct {
	DatabaseName string   `json:"databaseName"`
	TableName    string   `json:"tableName"`
	Region       string   `json:"region,omitempty"`
	RoleARN      string   `json:"roleArn,omitempty"`
	VersionID    string   `json:"versionId,omitempty"` // "LATEST" by default
	CatalogID    string   `json:"catalogId,omitempty"`
	Columns      []Column `json:"columns"`
}

// Column is one column of a table: its name and Hive type string
// (string, int, bigint, double, timestamp, array<string>, struct<a:int>, ...).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// DynamicPartitioning partitions delivered objects by keys taken from records.
type DynamicPartitioning struct {
	Enabled bool `json:"enabled"`
	// RetryDurationSecs is how long delivery retries (default DefaultRetryDurationSecs).
	RetryDurationSecs int `json:"retryDurationSecs"`
}

// Processing is the record processors, applied in order.
type Processing struct {
	Enabled    bool        `json:"enabled"`
	Processors []Processor `json:"processors,omitempty"`
}

// Processor is one processor with its parameters in the order given.
type Processor struct {
	Type       string               `json:"type"`
	Parameters []ProcessorParameter `json:"parameters,omitempty"`
}

// ProcessorParameter is one parameter of a processor.
type ProcessorParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Processor types eddy runs.
const (
	ProcessorMetadataExtraction      = "MetadataExtraction"
	ProcessorAppendDelimiterToRecord = "AppendDelimiterToRecord"
	ProcessorRecordDeAggregation     = "RecordDeAggregation"
)

// Param returns the value of the parameter named name, if set.
func (p Processor) Param(name string) (string, bool) {
	for _, pp := range p.Parameters {
		if pp.Name == name {
			return pp.Value, true
		}
	}
	return "", false
}
