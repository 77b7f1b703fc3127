package catalog

import "maps"

// newDestination is a destination of Firehose's defaults, before a create's
// configuration is applied.
func newDestination(kind DestinationKind) Destination {
	if kind == "" {
		kind = DestinationS3
	}
	return Destination{
		ID:                FirstDestinationID,
		Kind:              kind,
		BufferingHints:    BufferingHints{SizeInMBs: DefaultBufferSizeMB, IntervalInSeconds: DefaultBufferIntervalSecs},
		CompressionFormat: CompressionUncompressed,
		S3BackupMode:      "Disabled",
	}
}

// apply merges c into d: the fields c gives replace d's, the others stay. It
// reports whether the schema of format conversion must be resolved again.
// The result is not yet validated.
func apply(d Destination, c DestinationConfig) (Destination, bool, error) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	if c.Extended {
		d.Extended = true
	}
	set(&d.RoleARN, c.RoleARN)
	set(&d.BucketARN, c.BucketARN)
	set(&d.Prefix, c.Prefix)
	set(&d.ErrorOutputPrefix, c.ErrorOutputPrefix)
	set(&d.CompressionFormat, c.CompressionFormat)
	set(&d.KMSKeyARN, c.KMSKeyARN)
	set(&d.FileExtension, c.FileExtension)
	set(&d.CustomTimeZone, c.CustomTimeZone)
	set(&d.S3BackupMode, c.S3BackupMode)
	set(&d.SQLTransform, c.SQLTransform)
	if c.SizeInMBs != nil {
		d.BufferingHints.SizeInMBs = *c.SizeInMBs
	}
	if c.IntervalInSeconds != nil {
		d.BufferingHints.IntervalInSeconds = *c.IntervalInSeconds
	}
	if c.CloudWatchLogging != nil {
		l := *c.CloudWatchLogging
		d.CloudWatchLogging = &l
	}
	if c.Processing != nil {
		p := cloneProcessing(*c.Processing)
		d.Processing = &p
	}
	if c.DynamicPartitioning != nil {
		p := DynamicPartitioning{RetryDurationSecs: DefaultRetryDurationSecs}
		if d.DynamicPartitioning != nil {
			p = *d.DynamicPartitioning
		}
		if c.DynamicPartitioning.Enabled != nil {
			p.Enabled = *c.DynamicPartitioning.Enabled
		}
		if c.DynamicPartitioning.RetryDurationSecs != nil {
			p.RetryDurationSecs = *c.DynamicPartitioning.RetryDurationSecs
		}
		d.DynamicPartitioning = &p
	}
	resolve := false
	if cc := c.DataFormatConversion; cc != nil {
		if cc.ORC {
			return d, false, errorf(ErrInvalidArgument, "OutputFormatConfiguration: eddy writes Parquet only; replace OrcSerDe with ParquetSerDe.")
		}
		conv := DataFormatConversion{Enabled: true}
		if d.DataFormatConversion != nil {
			conv = cloneConversion(*d.DataFormatConversion)
		}
		if cc.Enabled != nil {
			conv.Enabled = *cc.Enabled
		}
		if cc.OpenX != nil {
			x := OpenXJSON{CaseInsensitive: true, ColumnToJSONKeyMappings: maps.Clone(cc.OpenX.ColumnToJSONKeyMappings), ConvertDotsInJSONKeysToUnderscores: cc.OpenX.ConvertDotsInJSONKeysToUnderscores}
			if cc.OpenX.CaseInsensitive != nil {
				x.CaseInsensitive = *cc.OpenX.CaseInsensitive
			}
			conv.Input = InputFormat{OpenX: &x}
		}
		if cc.Hive != nil {
			h := HiveJSON{TimestampFormats: append([]string(nil), cc.Hive.TimestampFormats...)}
			if cc.OpenX != nil {
				conv.Input.Hive = &h // both given: checkConversion refuses it
			} else {
				conv.Input = InputFormat{Hive: &h}
			}
		}
		if cc.Parquet != nil {
			conv.Output = *cc.Parquet
		}
		if cc.Schema != nil {
			s := *cc.Schema
			s.Columns = nil
			conv.Schema = s
			resolve = true
		}
		d.DataFormatConversion = &conv
	}
	if d.DataFormatConversion != nil && d.DataFormatConversion.Enabled && d.DataFormatConversion.Schema.Columns == nil {
		resolve = true
	}
	return d, resolve, nil
}

func cloneProcessing(p Processing) Processing {
	out := Processing{Enabled: p.Enabled}
	for _, pr := range p.Processors {
		out.Processors = append(out.Processors, Processor{Type: pr.Type, Parameters: append([]ProcessorParameter(nil), pr.Parameters...)})
	}
	return out
}

func cloneConversion(c DataFormatConversion) DataFormatConversion {
	out := c
	if c.Input.OpenX != nil {
		x := *c.Input.OpenX
		x.ColumnToJSONKeyMappings = maps.Clone(x.ColumnToJSONKeyMappings)
		out.Input.OpenX = &x
	}
	if c.Input.Hive != nil {
		h := HiveJSON{TimestampFormats: append([]string(nil), c.Input.Hive.TimestampFormats...)}
		out.Input.Hive = &h
	}
	out.Schema.Columns = append([]Column(nil), c.Schema.Columns...)
	return out
}

// clone returns a deep copy of ds, so callers never share the catalog's values.
func (ds *DeliveryStream) clone() DeliveryStream {
	out := *ds
	if ds.Source != nil {
		s := *ds.Source
		out.Source = &s
	}
	out.Tags = append([]Tag(nil), ds.Tags...)
	d := &out.Destination
	if d.CloudWatchLogging != nil {
		l := *d.CloudWatchLogging
		d.CloudWatchLogging = &l
	}
	if d.Processing != nil {
		p := cloneProcessing(*d.Processing)
		d.Processing = &p
	}
	if d.DynamicPartitioning != nil {
		p := *d.DynamicPartitioning
		d.DynamicPartitioning = &p
	}
	if d.DataFormatConversion != nil {
		c := cloneConversion(*d.DataFormatConversion)
		d.DataFormatConversion = &c
	}
	return out
}
