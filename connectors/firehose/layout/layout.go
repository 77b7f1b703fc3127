package layout

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"
)

// ErrPrefixTooLong: an evaluated prefix is longer than Firehose's 512
// characters. The runner sends the records to the error output.
var ErrPrefixTooLong = errors.New("evaluated prefix too long")

// ErrorOutputType is what !{firehose:error-output-type} evaluates to: why
// the records under an error prefix failed.
type ErrorOutputType string

// The error output types of an S3 destination. Firehose's docs list
// processing-failed and format-conversion-failed (and, for other
// destinations, elasticsearch-failed, splunk-failed, http-endpoint-failed);
// dynamic partitioning failures go to metadata-extraction-failed, which the
// docs do not list but delivered objects show.
const (
	ProcessingFailed         ErrorOutputType = "processing-failed"
	FormatConversionFailed   ErrorOutputType = "format-conversion-failed"
	MetadataExtractionFailed ErrorOutputType = "metadata-extraction-failed"
)

// OutputFormat is the data format conversion target, if any.
type OutputFormat string

// Data format conversion targets.
const (
	NoConversion OutputFormat = ""
	Parquet      OutputFormat = "Parquet"
	ORC          OutputFormat = "ORC"
)

// Config is the part of an ExtendedS3DestinationConfiguration that decides
// object keys and raw encoding, for one version of a delivery stream.
type Config struct {
	DeliveryStreamName string
	// Version is the delivery stream version (1 on create, +1 per update).
	Version int64
	// Prefix and ErrorOutputPrefix as configured; "" means unspecified.
	Prefix            string
	ErrorOutputPrefix string
	// DynamicPartitioning is DynamicPartitioningConfiguration.Enabled.
	DynamicPartitioning bool
	// Query is the MetadataExtraction processor's parsed
	// MetadataExtractionQuery, nil without that processor.
	Query *Query
	// LambdaProcessor says a Lambda processor supplies partitionKeyFromLambda keys.
	LambdaProcessor bool
	Compression     Compression
	OutputFormat    OutputFormat
	// FileExtension overrides the default extension when not empty.
	FileExtension string
	// TimeZone is CustomTimeZone; nil means UTC.
	TimeZone *time.Location
	// Random feeds !{firehose:random-string}; nil means crypto/rand. Tests
	// pass a seeded source to get the same names every run.
	Random io.Reader
}

// Layout evaluates one delivery stream version's prefixes and object keys.
// It is safe for concurrent use.
type Layout struct {
	stream      string
	version     int64
	prefix      template
	errorPrefix template
	query       *Query
	compression Compression
	extension   string
	zone        *time.Location

	mu     sync.Mutex // guards random
	random io.Reader
}

var fileExtensionPattern = regexp.MustCompile(`^\.[0-9a-z!\-_.*'()]+$`)

// New checks cfg with Firehose's rules and compiles its prefixes. Errors wrap
// ErrInvalidArgument.
func New(cfg Config) (*Layout, error) {
	if cfg.DeliveryStreamName == "" {
		return nil, configErrorf("DeliveryStreamName", "is empty: name the delivery stream")
	}
	if cfg.Version < 1 {
		return nil, configErrorf("DeliveryStreamVersion", "is %d: versions start at 1", cfg.Version)
	}
	if !cfg.Compression.valid() {
		return nil, configErrorf("CompressionFormat", "unknown value %q: use one of %s", cfg.Compression, strings.Join(compressionNames(), ", "))
	}
	if cfg.OutputFormat != NoConversion && cfg.OutputFormat != Parquet && cfg.OutputFormat != ORC {
		return nil, configErrorf("OutputFormatConfiguration", "unknown output format %q: use %s or %s", cfg.OutputFormat, Parquet, ORC)
	}
	if cfg.OutputFormat != NoConversion && cfg.Compression != Uncompressed && cfg.Compression != "" {
		return nil, configErrorf("CompressionFormat", "is %s, but data format conversion is enabled: set it to UNCOMPRESSED (the %s serializer compresses)", cfg.Compression, cfg.OutputFormat)
	}
	if cfg.FileExtension != "" && (len(cfg.FileExtension) > 128 || !fileExtensionPattern.MatchString(cfg.FileExtension)) {
		return nil, configErrorf("FileExtension", "%q is invalid: it must start with a period and contain only 0-9 a-z ! - _ . * ' ( ), at most 128 characters", cfg.FileExtension)
	}
	prefix, err := parseTemplate("Prefix", cfg.Prefix)
	if err != nil {
		return nil, err
	}
	errorPrefix, err := parseTemplate("ErrorOutputPrefix", cfg.ErrorOutputPrefix)
	if err != nil {
		return nil, err
	}
	if err := checkPrefixRules(cfg, prefix, errorPrefix); err != nil {
		return nil, err
	}
	l := &Layout{
		stream:      cfg.DeliveryStreamName,
		version:     cfg.Version,
		prefix:      withDefaultPrefix(prefix),
		errorPrefix: withDefaultErrorPrefix(cfg, errorPrefix),
		query:       cfg.Query,
		compression: cfg.Compression,
		extension:   extensionFor(cfg),
		zone:        cfg.TimeZone,
		random:      cfg.Random,
	}
	if l.zone == nil {
		l.zone = time.UTC
	}
	if l.compression == "" {
		l.compression = Uncompressed
	}
	if l.random == nil {
		l.random = rand.Reader
	}
	return l, nil
}

// checkPrefixRules applies the "Semantic rules" of Firehose's custom prefix
// docs and the dynamic partitioning checks of CreateDeliveryStream.
func checkPrefixRules(cfg Config, prefix, errorPrefix template) error {
	usesQuery, usesLambda := prefix.has(segQueryKey), prefix.has(segLambdaKey)
	switch {
	case prefix.has(segErrorType):
		return configErrorf("Prefix", "can't contain !{firehose:error-output-type}: use it in ErrorOutputPrefix")
	case errorPrefix.has(segQueryKey) || errorPrefix.has(segLambdaKey):
		return configErrorf("ErrorOutputPrefix", "You cannot use partitionKeyFromLambda and partitionKeyFromQuery namespaces when creating ErrorOutputPrefix expressions.")
	case prefix.hasExpressions() && cfg.ErrorOutputPrefix == "":
		return configErrorf("ErrorOutputPrefix", "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions")
	case errorPrefix.hasExpressions() && !errorPrefix.has(segErrorType):
		return configErrorf("ErrorOutputPrefix", "has expressions, so it must include at least one instance of !{firehose:error-output-type}")
	case !cfg.DynamicPartitioning && (usesQuery || usesLambda):
		return configErrorf("Prefix", "Dynamic Partitioning Namespaces can only be part of a prefix expression when Dynamic Partitioning is enabled.")
	case !cfg.DynamicPartitioning && cfg.Query != nil:
		return configErrorf("ProcessingConfiguration", "MetadataExtraction processor can only be present when Dynamic Partitioning is enabled.")
	case cfg.DynamicPartitioning && cfg.Query == nil && !cfg.LambdaProcessor:
		return configErrorf("ProcessingConfiguration", "Processing Configuration is not enabled when DataPartitioning is enabled: add a MetadataExtraction (or Lambda) processor")
	case cfg.DynamicPartitioning && !usesQuery && !usesLambda:
		return configErrorf("Prefix", "S3 Prefix should contain Dynamic Partitioning namespaces when Dynamic Partitioning is enabled")
	case usesQuery && cfg.Query == nil:
		return configErrorf("Prefix", "MetadataExtraction processor should be present when S3 Prefix has partitionKeyFromQuery namespace")
	case usesLambda && !cfg.LambdaProcessor:
		return configErrorf("Prefix", "Lambda should be present when S3 Prefix contains keys from partitionKeyFromLambda namespace")
	}
	for _, t := range []struct {
		field string
		tmpl  template
	}{{"Prefix", prefix}, {"ErrorOutputPrefix", errorPrefix}} {
		if n := t.tmpl.literalLength(); n > maxEvaluatedPrefix {
			return configErrorf(t.field, "has %d characters of literal text, so it can never evaluate within Firehose's limit of %d", n, maxEvaluatedPrefix)
		}
	}
	if usesQuery {
		for _, key := range prefix.keys(segQueryKey) {
			if !containsString(cfg.Query.Keys(), key) {
				return configErrorf("Prefix", "!{partitionKeyFromQuery:%s} names a key the MetadataExtractionQuery does not define (it defines %s)", key, strings.Join(cfg.Query.Keys(), ", "))
			}
		}
	}
	return nil
}

// withDefaultPrefix applies "If you specify a prefix that doesn't contain a
// timestamp namespace expression, Firehose appends the expression
// !{timestamp:yyyy/MM/dd/HH/}". A dynamic partitioning prefix is left as is:
// the docs' example delivers customer_id=.../hour=20/ with nothing appended.
func withDefaultPrefix(t template) template {
	if t.has(segTimestamp) || t.has(segQueryKey) || t.has(segLambdaKey) {
		return t
	}
	return append(t, defaultTimeSegment())
}

// withDefaultErrorPrefix applies "ErrorOutputPrefix can be null only if
// Prefix contains no expressions. In this case ... ErrorOutputPrefix evaluates
// to <specified-prefix><error-output-type>/YYYY/MM/DD/HH/". The rule's text
// has no slash after the type; the docs' example
// (myFirehosePrefix/processing-failed/2018/08/27/) and delivered objects do.
// An ErrorOutputPrefix without expressions is completed the same way.
func withDefaultErrorPrefix(cfg Config, t template) template {
	if t.hasExpressions() {
		return t
	}
	base := cfg.ErrorOutputPrefix
	if base == "" {
		base = cfg.Prefix
	}
	var out template
	if base != "" {
		out = append(out, segment{kind: segLiteral, text: base})
	}
	return append(out, segment{kind: segErrorType, implicit: true}, segment{kind: segLiteral, text: "/", implicit: true}, defaultTimeSegment())
}

func defaultTimeSegment() segment {
	p, err := compileTimePattern(defaultTimePattern)
	if err != nil {
		panic(err) // a constant pattern
	}
	return segment{kind: segTimestamp, time: p, implicit: true}
}

// PrefixValues are what a data prefix may evaluate.
type PrefixValues struct {
	// Arrival is the approximate arrival time of the oldest record in the
	// object; timestamps evaluate in the stream's time zone.
	Arrival time.Time
	// QueryKeys are the values Query.Extract returned; LambdaKeys those a
	// Lambda processor returned.
	QueryKeys  map[string]string
	LambdaKeys map[string]string
}

// Prefix evaluates the data prefix (the default YYYY/MM/dd/HH/ when none is
// configured). Every !{firehose:random-string} draws a new random string.
// A missing or empty partition key fails with an *ExtractError, a too long
// result with ErrPrefixTooLong; the runner sends those records to the error
// output as MetadataExtractionFailed.
func (l *Layout) Prefix(v PrefixValues) (string, error) {
	return l.prefix.eval(evalInput{time: l.instant(v.Arrival), queryKeys: v.QueryKeys, lambdaKeys: v.LambdaKeys, random: l.randomString})
}

// ErrorPrefix evaluates the error output prefix for records that failed with
// errorType, the oldest of which arrived at arrival.
func (l *Layout) ErrorPrefix(errorType ErrorOutputType, arrival time.Time) (string, error) {
	if errorType == "" {
		return "", fmt.Errorf("layout: ErrorPrefix needs an error output type, such as %s", ProcessingFailed)
	}
	return l.errorPrefix.eval(evalInput{time: l.instant(arrival), errorType: errorType, random: l.randomString})
}

// instant is the time prefixes evaluate: whole seconds (objects Firehose
// delivered show zeros for fraction-of-second letters, even nine of them) in
// the stream's time zone.
func (l *Layout) instant(t time.Time) time.Time {
	return t.Truncate(time.Second).In(l.zone)
}

// PrefixIsStatic reports whether the data prefix depends only on time: no
// partition keys and no random strings. The runner may then evaluate it once
// per object instead of per record.
func (l *Layout) PrefixIsStatic() bool {
	return !l.prefix.has(segQueryKey) && !l.prefix.has(segLambdaKey) && !l.prefix.has(segRandomString)
}

// Query returns the MetadataExtraction query, nil without one.
func (l *Layout) Query() *Query { return l.query }

// Compression returns the raw object encoding.
func (l *Layout) Compression() Compression { return l.compression }

// randomString draws 11 lowercase hexadecimal characters, the shape of the
// docs' example (5abf82daaa5).
func (l *Layout) randomString() (string, error) {
	var b [6]byte
	l.mu.Lock()
	_, err := io.ReadFull(l.random, b[:])
	l.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("layout: reading the random source for !{firehose:random-string}: %w", err)
	}
	return hex.EncodeToString(b[:])[:randomStringLength], nil
}
