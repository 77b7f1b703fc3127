package parquetconv

import (
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// Options configures a Writer the way a Firehose DataFormatConversionConfiguration
// does: one input SerDe (OpenX, the default, or Hive) and the ParquetSerDe.
// The zero value is Firehose's defaults: OpenX with case-insensitive keys,
// SNAPPY, 256 MiB blocks, 1 MiB pages, no dictionary, writer version V1.
type Options struct {
	// OpenX selects the OpenX JSON SerDe; it is the default when both are nil.
	OpenX *OpenXJSONSerDe
	// Hive selects the Hive (HCatalog) JSON SerDe.
	Hive    *HiveJSONSerDe
	Parquet ParquetSerDe
}

// OpenXJSONSerDe mirrors Firehose's OpenXJsonSerDe.
type OpenXJSONSerDe struct {
	// CaseInsensitive lower-cases JSON keys before matching them to columns;
	// nil means true, Firehose's default.
	CaseInsensitive *bool
	// ColumnToJSONKeyMappings maps a column name to the JSON key it reads,
	// for example {"ts": "timestamp"}. It applies to top-level columns.
	ColumnToJSONKeyMappings map[string]string
	// ConvertDotsInJSONKeysToUnderscores reads a key "a.b" as "a_b" (at every
	// level), since Hive column names cannot hold dots.
	ConvertDotsInJSONKeysToUnderscores bool
}

// HiveJSONSerDe mirrors Firehose's HiveJsonSerDe.
type HiveJSONSerDe struct {
	// TimestampFormats are Joda-Time DateTimeFormat patterns tried in order,
	// or "millis" for epoch milliseconds. Empty means java.sql.Timestamp's
	// valueOf form, yyyy-[M]M-[d]d HH:mm:ss[.f...].
	TimestampFormats []string
}

// ParquetSerDe mirrors Firehose's ParquetSerDe.
type ParquetSerDe struct {
	// Compression is SNAPPY (the default when empty), GZIP, ZSTD or
	// UNCOMPRESSED, in any case.
	Compression string
	// BlockSizeBytes is the row group target: a row group is closed once its
	// buffered size reaches it. 0 means Firehose's default, 256 MiB. Firehose
	// enforces a 64 MiB minimum; this package accepts any positive size so
	// tests can make small row groups.
	BlockSizeBytes int64
	// PageSizeBytes is the page target; 0 means 1 MiB.
	PageSizeBytes int
	// EnableDictionaryCompression dictionary-encodes every column.
	EnableDictionaryCompression bool
	// WriterVersion is V1 (the default when empty; data pages v1) or V2 (data
	// pages v2).
	WriterVersion string
}

// Firehose's ParquetSerDe defaults.
const (
	DefaultBlockSizeBytes = 256 << 20
	DefaultPageSizeBytes  = 1 << 20
)

// serde is the resolved input SerDe.
type serde struct {
	hive            bool
	caseInsensitive bool
	dotsToUnder     bool
	keyMappings     map[string]string
	tsFormats       []tsFormat // Hive only; nil means the java.sql.Timestamp form
}

func (o *Options) resolveSerDe() (serde, error) {
	if o.OpenX != nil && o.Hive != nil {
		return serde{}, fmt.Errorf("parquetconv: options: both the OpenX and the Hive SerDe are set; choose one (Firehose's InputFormatConfiguration holds exactly one deserializer)")
	}
	if o.Hive != nil {
		s := serde{hive: true, caseInsensitive: true}
		for _, f := range o.Hive.TimestampFormats {
			tf, err := parseTimestampFormat(f)
			if err != nil {
				return serde{}, fmt.Errorf("parquetconv: options: Hive TimestampFormats: %w", err)
			}
			s.tsFormats = append(s.tsFormats, tf)
		}
		return s, nil
	}
	s := serde{caseInsensitive: true}
	if x := o.OpenX; x != nil {
		if x.CaseInsensitive != nil {
			s.caseInsensitive = *x.CaseInsensitive
		}
		s.dotsToUnder = x.ConvertDotsInJSONKeysToUnderscores
		s.keyMappings = x.ColumnToJSONKeyMappings
	}
	return s, nil
}

// writerOptions turns the ParquetSerDe into parquet-go writer options.
func (p ParquetSerDe) writerOptions() ([]parquet.WriterOption, error) {
	var codec compress.Codec
	switch strings.ToUpper(p.Compression) {
	case "", "SNAPPY":
		codec = &fastSnappy{}
	case "GZIP":
		codec = &parquet.Gzip
	case "ZSTD":
		codec = &parquet.Zstd
	case "UNCOMPRESSED":
		codec = &parquet.Uncompressed
	default:
		return nil, fmt.Errorf("parquetconv: options: Compression %q: use SNAPPY, GZIP, ZSTD or UNCOMPRESSED", p.Compression)
	}
	version := 1
	switch strings.ToUpper(p.WriterVersion) {
	case "", "V1":
	case "V2":
		version = 2
	default:
		return nil, fmt.Errorf("parquetconv: options: WriterVersion %q: use V1 or V2", p.WriterVersion)
	}
	if p.BlockSizeBytes < 0 {
		return nil, fmt.Errorf("parquetconv: options: BlockSizeBytes %d: must be positive (0 means %d)", p.BlockSizeBytes, DefaultBlockSizeBytes)
	}
	page := p.PageSizeBytes
	switch {
	case page < 0:
		return nil, fmt.Errorf("parquetconv: options: PageSizeBytes %d: must be positive (0 means %d)", page, DefaultPageSizeBytes)
	case page == 0:
		page = DefaultPageSizeBytes
	}
	return []parquet.WriterOption{
		parquet.Compression(codec),
		parquet.DataPageVersion(version),
		parquet.PageBufferSize(page),
		parquet.CreatedBy("eddy parquetconv", "", ""),
	}, nil
}

func (p ParquetSerDe) blockSize() int64 {
	if p.BlockSizeBytes == 0 {
		return DefaultBlockSizeBytes
	}
	return p.BlockSizeBytes
}
