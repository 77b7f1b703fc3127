package catalog

// DestinationConfig is a destination as a create or an update gives it: nil
// fields are not given. Create applies it to a destination of defaults;
// UpdateDestination applies it to the current destination, so only the fields
// given change, as Firehose merges an update.
type DestinationConfig struct {
	// Kind is used by Create only (default DestinationS3).
	Kind DestinationKind
	// Extended: the caller used ExtendedS3DestinationConfiguration (or
	// ExtendedS3DestinationUpdate). An update never turns it off.
	Extended bool

	RoleARN           *string
	BucketARN         *string
	Prefix            *string
	ErrorOutputPrefix *string
	// BufferingHints members; a missing one keeps its current (or default) value.
	SizeInMBs         *int
	IntervalInSeconds *int
	CompressionFormat *string
	// KMSKeyARN: "" is NoEncryption, a key ARN encrypts delivered objects.
	KMSKeyARN            *string
	CloudWatchLogging    *CloudWatchLogging
	FileExtension        *string
	CustomTimeZone       *string
	S3BackupMode         *string
	DataFormatConversion *DataFormatConversionConfig
	DynamicPartitioning  *DynamicPartitioningConfig
	// Processing replaces the current processing configuration whole.
	Processing   *Processing
	SQLTransform *string
}

// DataFormatConversionConfig is a DataFormatConversionConfiguration as given.
// On update, members not given keep their current values.
type DataFormatConversionConfig struct {
	// Enabled defaults to true, as in Firehose.
	Enabled *bool
	OpenX   *OpenXConfig
	Hive    *HiveJSON
	Parquet *Parquet
	// ORC: the caller asked for an OrcSerDe output, which eddy refuses.
	ORC bool
	// Schema names the table; its Columns are ignored and resolved.
	Schema *Schema
}

// OpenXConfig is an OpenXJsonSerDe as given.
type OpenXConfig struct {
	CaseInsensitive                    *bool // default true
	ColumnToJSONKeyMappings            map[string]string
	ConvertDotsInJSONKeysToUnderscores bool
}

// DynamicPartitioningConfig is a DynamicPartitioningConfiguration as given.
type DynamicPartitioningConfig struct {
	Enabled           *bool
	RetryDurationSecs *int
}

// EncryptionConfig is a DeliveryStreamEncryptionConfigurationInput.
type EncryptionConfig struct {
	KeyType string // default AWS_OWNED_CMK
	KeyARN  string // required with CUSTOMER_MANAGED_CMK, refused with AWS_OWNED_CMK
}

// CreateInput is everything CreateDeliveryStream takes.
type CreateInput struct {
	Name string
	// Type defaults to TypeDirectPut.
	Type StreamType
	// Region goes into the ARN (default Options.Region).
	Region string
	// Source is required for TypeKinesisStreamAsSource (StreamARN and RoleARN;
	// StreamName is resolved) and refused for TypeDirectPut.
	Source      *KinesisSource
	Destination DestinationConfig
	Tags        []Tag
	// Encryption starts server-side encryption (DirectPut only).
	Encryption *EncryptionConfig
}

// UpdateInput is everything UpdateDestination takes.
type UpdateInput struct {
	Name             string
	CurrentVersionID string
	DestinationID    string
	Destination      DestinationConfig
}

// ListInput pages through delivery stream names.
type ListInput struct {
	// ExclusiveStartName: list names after this one.
	ExclusiveStartName string
	// Limit bounds the names returned: 1 to MaxListLimit, 0 for DefaultListLimit.
	Limit int
	// Type filters by stream type; empty lists every type.
	Type StreamType
}
