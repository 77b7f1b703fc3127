package firehoseapi

import (
	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
)

// destinationConfig maps an S3 or extended S3 destination (configuration or
// update) to the catalog's: members not given stay nil.
func destinationConfig(s3 *s3In, ext *extendedS3In) catalog.DestinationConfig {
	var c catalog.DestinationConfig
	if ext != nil {
		c.Extended = true
		s3 = &ext.s3In
	}
	if s3 != nil {
		c.RoleARN, c.BucketARN = s3.RoleARN, s3.BucketARN
		c.Prefix, c.ErrorOutputPrefix = s3.Prefix, s3.ErrorOutputPrefix
		c.CompressionFormat = s3.CompressionFormat
		if h := s3.BufferingHints; h != nil {
			c.SizeInMBs, c.IntervalInSeconds = h.SizeInMBs, h.IntervalInSeconds
		}
		if e := s3.EncryptionConfiguration; e != nil {
			key := ""
			if e.KMSEncryptionConfig != nil {
				key = e.KMSEncryptionConfig.AWSKMSKeyARN
			}
			c.KMSKeyARN = &key
		}
		if l := s3.CloudWatchLoggingOptions; l != nil {
			c.CloudWatchLogging = &catalog.CloudWatchLogging{Enabled: deref(l.Enabled), LogGroupName: deref(l.LogGroupName), LogStreamName: deref(l.LogStreamName)}
		}
	}
	if ext == nil {
		return c
	}
	c.S3BackupMode, c.FileExtension, c.CustomTimeZone = ext.S3BackupMode, ext.FileExtension, ext.CustomTimeZone
	if p := ext.ProcessingConfiguration; p != nil {
		proc := catalog.Processing{Enabled: deref(p.Enabled)}
		for _, pr := range p.Processors {
			cp := catalog.Processor{Type: pr.Type}
			for _, pp := range pr.Parameters {
				cp.Parameters = append(cp.Parameters, catalog.ProcessorParameter{Name: pp.ParameterName, Value: pp.ParameterValue})
			}
			proc.Processors = append(proc.Processors, cp)
		}
		c.Processing = &proc
	}
	if d := ext.DynamicPartitioningConfiguration; d != nil {
		dp := &catalog.DynamicPartitioningConfig{Enabled: d.Enabled}
		if d.RetryOptions != nil {
			dp.RetryDurationSecs = d.RetryOptions.DurationInSeconds
		}
		c.DynamicPartitioning = dp
	}
	if f := ext.DataFormatConversionConfiguration; f != nil {
		c.DataFormatConversion = conversionConfig(f)
	}
	return c
}

func conversionConfig(f *dataFormatConversionIn) *catalog.DataFormatConversionConfig {
	cc := &catalog.DataFormatConversionConfig{Enabled: f.Enabled}
	if s := f.SchemaConfiguration; s != nil {
		cc.Schema = &catalog.Schema{DatabaseName: s.DatabaseName, TableName: s.TableName, Region: s.Region, RoleARN: s.RoleARN, VersionID: s.VersionId, CatalogID: s.CatalogId}
	}
	if in := f.InputFormatConfiguration; in != nil && in.Deserializer != nil {
		if x := in.Deserializer.OpenXJsonSerDe; x != nil {
			cc.OpenX = &catalog.OpenXConfig{CaseInsensitive: x.CaseInsensitive, ColumnToJSONKeyMappings: x.ColumnToJsonKeyMappings, ConvertDotsInJSONKeysToUnderscores: deref(x.ConvertDotsInJsonKeysToUnderscores)}
		}
		if h := in.Deserializer.HiveJsonSerDe; h != nil {
			cc.Hive = &catalog.HiveJSON{TimestampFormats: h.TimestampFormats}
		}
	}
	if out := f.OutputFormatConfiguration; out != nil && out.Serializer != nil {
		cc.ORC = out.Serializer.OrcSerDe != nil
		if p := out.Serializer.ParquetSerDe; p != nil {
			cc.Parquet = &catalog.Parquet{
				Compression: deref(p.Compression), BlockSizeBytes: deref(p.BlockSizeBytes), PageSizeBytes: deref(p.PageSizeBytes),
				EnableDictionaryCompression: deref(p.EnableDictionaryCompression), MaxPaddingBytes: deref(p.MaxPaddingBytes), WriterVersion: deref(p.WriterVersion),
			}
		}
	}
	return cc
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// describe is a delivery stream as DescribeDeliveryStream shows it. Firehose
// describes an S3 destination as S3DestinationDescription and, once it was
// configured or updated as an extended one, also as
// ExtendedS3DestinationDescription.
func describe(ds catalog.DeliveryStream, withDestination bool) deliveryStreamDescription {
	out := deliveryStreamDescription{
		DeliveryStreamName:   ds.Name,
		DeliveryStreamARN:    ds.ARN,
		DeliveryStreamStatus: string(ds.Status),
		DeliveryStreamType:   string(ds.Type),
		VersionId:            ds.VersionID,
		CreateTimestamp:      awsproto.Timestamp(ds.Created),
		Destinations:         []destinationOut{},
	}
	if !ds.LastUpdated.Equal(ds.Created) {
		out.LastUpdateTimestamp = awsproto.NewTimestamp(ds.LastUpdated)
	}
	if ds.Type == catalog.TypeDirectPut {
		e := ds.Encryption
		out.DeliveryStreamEncryptionConfiguration = &encryptionOut{Status: e.Status}
		if e.Enabled {
			out.DeliveryStreamEncryptionConfiguration.KeyType = e.KeyType
			out.DeliveryStreamEncryptionConfiguration.KeyARN = e.KeyARN
		}
	}
	if src := ds.Source; src != nil {
		out.Source = &sourceOut{KinesisStreamSourceDescription: &kinesisSourceOut{
			KinesisStreamARN: src.StreamARN, RoleARN: src.RoleARN, DeliveryStartTimestamp: awsproto.NewTimestamp(ds.Created),
		}}
	}
	if withDestination {
		out.Destinations = append(out.Destinations, describeDestination(ds.Destination))
	}
	return out
}

func describeDestination(d catalog.Destination) destinationOut {
	if d.Kind != catalog.DestinationS3 {
		return destinationOut{DestinationId: d.ID} // eddy's own kinds have no AWS shape
	}
	s3 := s3Out{
		RoleARN: d.RoleARN, BucketARN: d.BucketARN, Prefix: d.Prefix, ErrorOutputPrefix: d.ErrorOutputPrefix,
		BufferingHints:          bufferingHintsOut{SizeInMBs: d.BufferingHints.SizeInMBs, IntervalInSeconds: d.BufferingHints.IntervalInSeconds},
		CompressionFormat:       d.CompressionFormat,
		EncryptionConfiguration: s3EncryptionOut{NoEncryptionConfig: "NoEncryption"},
	}
	if d.KMSKeyARN != "" {
		s3.EncryptionConfiguration = s3EncryptionOut{KMSEncryptionConfig: &kmsEncryptionOut{AWSKMSKeyARN: d.KMSKeyARN}}
	}
	if l := d.CloudWatchLogging; l != nil {
		s3.CloudWatchLoggingOptions = cloudWatchOut{Enabled: l.Enabled, LogGroupName: l.LogGroupName, LogStreamName: l.LogStreamName}
	}
	ext := &extendedS3Out{s3Out: s3, S3BackupMode: d.S3BackupMode, FileExtension: d.FileExtension, CustomTimeZone: d.CustomTimeZone}
	if ext.S3BackupMode == "" {
		ext.S3BackupMode = "Disabled"
	}
	if p := d.Processing; p != nil {
		po := &processingOut{Enabled: p.Enabled, Processors: []processorOut{}}
		for _, pr := range p.Processors {
			o := processorOut{Type: pr.Type}
			for _, pp := range pr.Parameters {
				o.Parameters = append(o.Parameters, processorParameterOut{ParameterName: pp.Name, ParameterValue: pp.Value})
			}
			po.Processors = append(po.Processors, o)
		}
		ext.ProcessingConfiguration = po
	}
	if p := d.DynamicPartitioning; p != nil {
		ext.DynamicPartitioningConfiguration = &dynamicPartitioningOut{Enabled: p.Enabled, RetryOptions: retryOptionsOut{DurationInSeconds: p.RetryDurationSecs}}
	}
	if c := d.DataFormatConversion; c != nil {
		version := c.Schema.VersionID
		if version == "" {
			version = "LATEST"
		}
		co := &dataFormatConversionOut{
			Enabled: c.Enabled,
			SchemaConfiguration: schemaOut{RoleARN: c.Schema.RoleARN, CatalogId: c.Schema.CatalogID, DatabaseName: c.Schema.DatabaseName,
				TableName: c.Schema.TableName, Region: c.Schema.Region, VersionId: version},
			OutputFormatConfiguration: outputFormatOut{Serializer: serializerOut{ParquetSerDe: parquetOut{
				BlockSizeBytes: c.Output.BlockSizeBytes, PageSizeBytes: c.Output.PageSizeBytes, Compression: c.Output.Compression,
				EnableDictionaryCompression: c.Output.EnableDictionaryCompression, MaxPaddingBytes: c.Output.MaxPaddingBytes, WriterVersion: c.Output.WriterVersion,
			}}},
		}
		if x := c.Input.OpenX; x != nil {
			co.InputFormatConfiguration.Deserializer.OpenXJsonSerDe = &openXOut{ConvertDotsInJsonKeysToUnderscores: x.ConvertDotsInJSONKeysToUnderscores, CaseInsensitive: x.CaseInsensitive, ColumnToJsonKeyMappings: x.ColumnToJSONKeyMappings}
		}
		if h := c.Input.Hive; h != nil {
			co.InputFormatConfiguration.Deserializer.HiveJsonSerDe = &hiveOut{TimestampFormats: h.TimestampFormats}
		}
		ext.DataFormatConversionConfiguration = co
	}
	out := destinationOut{DestinationId: d.ID, S3DestinationDescription: &s3}
	if d.Extended {
		out.ExtendedS3DestinationDescription = ext
	}
	return out
}
