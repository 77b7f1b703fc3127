package firehoseapi

import "github.com/eddy-streams/eddy/connectors/api/awsproto"

// Input shapes, bound by awsproto.Handle: a nil pointer is a member not given.

type bufferingHintsIn struct {
	SizeInMBs         *int
	IntervalInSeconds *int
}

type kmsEncryptionIn struct {
	AWSKMSKeyARN string
}

type s3EncryptionIn struct {
	NoEncryptionConfig  *string
	KMSEncryptionConfig *kmsEncryptionIn
}

type cloudWatchIn struct {
	Enabled       *bool
	LogGroupName  *string
	LogStreamName *string
}

// s3In is S3DestinationConfiguration and S3DestinationUpdate.
type s3In struct {
	RoleARN                  *string
	BucketARN                *string
	Prefix                   *string
	ErrorOutputPrefix        *string
	BufferingHints           *bufferingHintsIn
	CompressionFormat        *string
	EncryptionConfiguration  *s3EncryptionIn
	CloudWatchLoggingOptions *cloudWatchIn
}

type processorParameterIn struct {
	ParameterName  string
	ParameterValue string
}

type processorIn struct {
	Type       string
	Parameters []processorParameterIn
}

type processingIn struct {
	Enabled    *bool
	Processors []processorIn
}

type schemaIn struct {
	RoleARN      string
	CatalogId    string
	DatabaseName string
	TableName    string
	Region       string
	VersionId    string
}

type openXIn struct {
	ConvertDotsInJsonKeysToUnderscores *bool
	CaseInsensitive                    *bool
	ColumnToJsonKeyMappings            map[string]string
}

type hiveIn struct {
	TimestampFormats []string
}

type deserializerIn struct {
	OpenXJsonSerDe *openXIn
	HiveJsonSerDe  *hiveIn
}

type inputFormatIn struct {
	Deserializer *deserializerIn
}

type parquetIn struct {
	BlockSizeBytes              *int
	PageSizeBytes               *int
	Compression                 *string
	EnableDictionaryCompression *bool
	MaxPaddingBytes             *int
	WriterVersion               *string
}

// orcIn only tells that an OrcSerDe was given; eddy refuses it.
type orcIn struct {
	Compression *string
}

type serializerIn struct {
	ParquetSerDe *parquetIn
	OrcSerDe     *orcIn
}

type outputFormatIn struct {
	Serializer *serializerIn
}

type dataFormatConversionIn struct {
	SchemaConfiguration       *schemaIn
	InputFormatConfiguration  *inputFormatIn
	OutputFormatConfiguration *outputFormatIn
	Enabled                   *bool
}

type retryOptionsIn struct {
	DurationInSeconds *int
}

type dynamicPartitioningIn struct {
	RetryOptions *retryOptionsIn
	Enabled      *bool
}

// extendedS3In is ExtendedS3DestinationConfiguration and ExtendedS3DestinationUpdate.
type extendedS3In struct {
	s3In
	ProcessingConfiguration           *processingIn
	S3BackupMode                      *string
	DataFormatConversionConfiguration *dataFormatConversionIn
	DynamicPartitioningConfiguration  *dynamicPartitioningIn
	FileExtension                     *string
	CustomTimeZone                    *string
}

type tagIn struct {
	Key   string
	Value *string
}

type encryptionConfigIn struct {
	KeyARN  string
	KeyType string
}

type kinesisSourceIn struct {
	KinesisStreamARN string
	RoleARN          string
}

// Output shapes, written as AWS writes them.

type bufferingHintsOut struct {
	SizeInMBs         int `json:"SizeInMBs"`
	IntervalInSeconds int `json:"IntervalInSeconds"`
}

type kmsEncryptionOut struct {
	AWSKMSKeyARN string `json:"AWSKMSKeyARN"`
}

type s3EncryptionOut struct {
	NoEncryptionConfig  string            `json:"NoEncryptionConfig,omitempty"`
	KMSEncryptionConfig *kmsEncryptionOut `json:"KMSEncryptionConfig,omitempty"`
}

type cloudWatchOut struct {
	Enabled       bool   `json:"Enabled"`
	LogGroupName  string `json:"LogGroupName,omitempty"`
	LogStreamName string `json:"LogStreamName,omitempty"`
}

type s3Out struct {
	RoleARN                  string            `json:"RoleARN"`
	BucketARN                string            `json:"BucketARN"`
	Prefix                   string            `json:"Prefix"`
	ErrorOutputPrefix        string            `json:"ErrorOutputPrefix,omitempty"`
	BufferingHints           bufferingHintsOut `json:"BufferingHints"`
	CompressionFormat        string            `json:"CompressionFormat"`
	EncryptionConfiguration  s3EncryptionOut   `json:"EncryptionConfiguration"`
	CloudWatchLoggingOptions cloudWatchOut     `json:"CloudWatchLoggingOptions"`
}

type processorParameterOut struct {
	ParameterName  string `json:"ParameterName"`
	ParameterValue string `json:"ParameterValue"`
}

type processorOut struct {
	Type       string                  `json:"Type"`
	Parameters []processorParameterOut `json:"Parameters,omitempty"`
}

type processingOut struct {
	Enabled    bool           `json:"Enabled"`
	Processors []processorOut `json:"Processors"`
}

type schemaOut struct {
	RoleARN      string `json:"RoleARN,omitempty"`
	CatalogId    string `json:"CatalogId,omitempty"`
	DatabaseName string `json:"DatabaseName"`
	TableName    string `json:"TableName"`
	Region       string `json:"Region,omitempty"`
	VersionId    string `json:"VersionId"`
}

type openXOut struct {
	ConvertDotsInJsonKeysToUnderscores bool              `json:"ConvertDotsInJsonKeysToUnderscores"`
	CaseInsensitive                    bool              `json:"CaseInsensitive"`
	ColumnToJsonKeyMappings            map[string]string `json:"ColumnToJsonKeyMappings,omitempty"`
}

type hiveOut struct {
	TimestampFormats []string `json:"TimestampFormats,omitempty"`
}

type deserializerOut struct {
	OpenXJsonSerDe *openXOut `json:"OpenXJsonSerDe,omitempty"`
	HiveJsonSerDe  *hiveOut  `json:"HiveJsonSerDe,omitempty"`
}

type inputFormatOut struct {
	Deserializer deserializerOut `json:"Deserializer"`
}

type parquetOut struct {
	BlockSizeBytes              int    `json:"BlockSizeBytes,omitempty"`
	PageSizeBytes               int    `json:"PageSizeBytes,omitempty"`
	Compression                 string `json:"Compression,omitempty"`
	EnableDictionaryCompression bool   `json:"EnableDictionaryCompression"`
	MaxPaddingBytes             int    `json:"MaxPaddingBytes,omitempty"`
	WriterVersion               string `json:"WriterVersion,omitempty"`
}

type serializerOut struct {
	ParquetSerDe parquetOut `json:"ParquetSerDe"`
}

type outputFormatOut struct {
	Serializer serializerOut `json:"Serializer"`
}

type dataFormatConversionOut struct {
	SchemaConfiguration       schemaOut       `json:"SchemaConfiguration"`
	InputFormatConfiguration  inputFormatOut  `json:"InputFormatConfiguration"`
	OutputFormatConfiguration outputFormatOut `json:"OutputFormatConfiguration"`
	Enabled                   bool            `json:"Enabled"`
}

type retryOptionsOut struct {
	DurationInSeconds int `json:"DurationInSeconds"`
}

type dynamicPartitioningOut struct {
	RetryOptions retryOptionsOut `json:"RetryOptions"`
	Enabled      bool            `json:"Enabled"`
}

type extendedS3Out struct {
	s3Out
	ProcessingConfiguration           *processingOut           `json:"ProcessingConfiguration,omitempty"`
	S3BackupMode                      string                   `json:"S3BackupMode"`
	DataFormatConversionConfiguration *dataFormatConversionOut `json:"DataFormatConversionConfiguration,omitempty"`
	DynamicPartitioningConfiguration  *dynamicPartitioningOut  `json:"DynamicPartitioningConfiguration,omitempty"`
	FileExtension                     string                   `json:"FileExtension,omitempty"`
	CustomTimeZone                    string                   `json:"CustomTimeZone,omitempty"`
}

type destinationOut struct {
	DestinationId                    string         `json:"DestinationId"`
	S3DestinationDescription         *s3Out         `json:"S3DestinationDescription,omitempty"`
	ExtendedS3DestinationDescription *extendedS3Out `json:"ExtendedS3DestinationDescription,omitempty"`
}

type kinesisSourceOut struct {
	KinesisStreamARN       string              `json:"KinesisStreamARN"`
	RoleARN                string              `json:"RoleARN"`
	DeliveryStartTimestamp *awsproto.Timestamp `json:"DeliveryStartTimestamp,omitempty"`
}

type sourceOut struct {
	KinesisStreamSourceDescription *kinesisSourceOut `json:"KinesisStreamSourceDescription,omitempty"`
}

type encryptionOut struct {
	KeyARN  string `json:"KeyARN,omitempty"`
	KeyType string `json:"KeyType,omitempty"`
	Status  string `json:"Status"`
}

type deliveryStreamDescription struct {
	DeliveryStreamName                    string              `json:"DeliveryStreamName"`
	DeliveryStreamARN                     string              `json:"DeliveryStreamARN"`
	DeliveryStreamStatus                  string              `json:"DeliveryStreamStatus"`
	DeliveryStreamEncryptionConfiguration *encryptionOut      `json:"DeliveryStreamEncryptionConfiguration,omitempty"`
	DeliveryStreamType                    string              `json:"DeliveryStreamType"`
	VersionId                             string              `json:"VersionId"`
	CreateTimestamp                       awsproto.Timestamp  `json:"CreateTimestamp"`
	LastUpdateTimestamp                   *awsproto.Timestamp `json:"LastUpdateTimestamp,omitempty"`
	Source                                *sourceOut          `json:"Source,omitempty"`
	Destinations                          []destinationOut    `json:"Destinations"`
	HasMoreDestinations                   bool                `json:"HasMoreDestinations"`
}

type tagOut struct {
	Key   string  `json:"Key"`
	Value *string `json:"Value,omitempty"`
}
