package kinesis

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/sql/types"
)

// Source WITH options.
const (
	OptConnector      = "connector"       // 'kinesis'
	OptStream         = "stream"          // the stream's name in the store (required)
	OptFormat         = "format"          // json (default) or csv
	OptStart          = "start"           // trim_horizon (default), latest, timestamp
	OptStartTimestamp = "start_timestamp" // RFC 3339, with start = 'timestamp' (implies it)
	OptPartitionKey   = "partition_key"   // sink: the column whose value is the partition key
	OptMaxBatchRows   = "max_batch_rows"  // rows per batch handed to the engine (default 8192)

	// A remote stream (RemoteOptions): any of endpoint, region, profile or
	// access_key_id makes the source or sink go to a Kinesis endpoint through
	// aws-sdk-go-v2 instead of the embedded store.
	OptEndpoint        = "endpoint"          // URL of a Kinesis endpoint (eddy serve); absent: AWS in region
	OptRegion          = "region"            // AWS region
	OptProfile         = "profile"           // shared config/credentials profile
	OptAccessKeyID     = "access_key_id"     // static credentials, with secret_access_key
	OptSecretAccessKey = "secret_access_key" // (else the SDK's default chain)
)

// RemoteOptions lists the options that make a kinesis source or sink remote.
func RemoteOptions() []string {
	return []string{OptEndpoint, OptRegion, OptProfile, OptAccessKeyID, OptSecretAccessKey}
}

// RemoteConfigFromOptions returns the endpoint a kinesis stream or sink's WITH
// options name, or nil when they name none (the embedded store). The stream
// is remote when any of endpoint, region, profile or access_key_id is set.
func RemoteConfigFromOptions(name string, with map[string]string) (*RemoteConfig, error) {
	var rc RemoteConfig
	remote := false
	for _, o := range []struct {
		key string
		dst *string
	}{{OptEndpoint, &rc.Endpoint}, {OptRegion, &rc.Region}, {OptProfile, &rc.Profile},
		{OptAccessKeyID, &rc.AccessKeyID}, {OptSecretAccessKey, &rc.SecretAccessKey}} {
		if v, ok := lookup(with, o.key); ok {
			*o.dst = strings.TrimSpace(v)
			if *o.dst == "" {
				return nil, fmt.Errorf("%s: option %s is empty", name, o.key)
			}
			remote = remote || o.key != OptSecretAccessKey
		}
	}
	if (rc.AccessKeyID == "") != (rc.SecretAccessKey == "") {
		return nil, fmt.Errorf("%s: options %s and %s go together", name, OptAccessKeyID, OptSecretAccessKey)
	}
	if !remote {
		return nil, nil
	}
	if rc.Endpoint != "" {
		u, err := url.Parse(rc.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s: option %s = %q: must be an http or https URL such as 'http://127.0.0.1:4567'", name, OptEndpoint, rc.Endpoint)
		}
	}
	return &rc, nil
}

// Start positions.
const (
	StartTrimHorizon = "trim_horizon"
	StartLatest      = "latest"
	StartTimestamp   = "timestamp"
)

// SourceOptions lists the options a kinesis source accepts besides those of
// its format (format.DecoderOptions).
func SourceOptions() []string {
	return append([]string{OptConnector, OptFormat, OptStart, OptStartTimestamp, OptStream, OptMaxBatchRows}, RemoteOptions()...)
}

// SinkOptions lists the options a kinesis sink accepts.
func SinkOptions() []string {
	opts := append([]string{OptConnector, OptFormat, OptPartitionKey, OptStream}, RemoteOptions()...)
	slices.Sort(opts)
	return opts
}

// SourceConfigFromOptions checks a stream's WITH options and builds the
// source's configuration: the store stream, the start position and the
// decoder of its format over cols (with per-column JSON paths, may be nil).
// name is the SQL stream's name, for error records. An unknown or bad option
// is an error that names it. The caller sets Columns, Rowtime, Bounded and the
// other batch limits.
func SourceConfigFromOptions(name string, cols types.Schema, paths []string, with map[string]string) (SourceConfig, error) {
	cfg := SourceConfig{Name: name}
	formatName := "json"
	if v, ok := lookup(with, OptFormat); ok {
		formatName = strings.ToLower(strings.TrimSpace(v))
		if format.DecoderOptions(formatName) == nil {
			return cfg, fmt.Errorf("stream %s: option format = %q: kinesis streams are read as %s", name, v, strings.Join(format.DecoderFormats(), " or "))
		}
	}
	valid := append(SourceOptions(), format.DecoderOptions(formatName)...)
	slices.Sort(valid)
	formatOpts := map[string]string{}
	for k, v := range with {
		lk := strings.ToLower(k)
		switch {
		case slices.Contains(SourceOptions(), lk):
		case slices.Contains(valid, lk):
			formatOpts[lk] = v
		default:
			return cfg, fmt.Errorf("stream %s: unknown option %q for a kinesis stream in %s format; valid options are %s", name, k, formatName, strings.Join(valid, ", "))
		}
	}
	if v, ok := lookup(with, OptConnector); ok && !strings.EqualFold(strings.TrimSpace(v), "kinesis") {
		return cfg, fmt.Errorf("stream %s: option connector = %q, not 'kinesis'", name, v)
	}
	v, ok := lookup(with, OptStream)
	if !ok || strings.TrimSpace(v) == "" {
		return cfg, fmt.Errorf("stream %s: option stream is required: the name of the stream to read (eddy streams list shows them)", name)
	}
	cfg.Stream = strings.TrimSpace(v)
	start, err := parseStart(with)
	if err != nil {
		return cfg, fmt.Errorf("stream %s: %w", name, err)
	}
	cfg.Start = start
	if v, ok := lookup(with, OptMaxBatchRows); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1<<20 {
			return cfg, fmt.Errorf("stream %s: option %s = %q: must be a whole number from 1 to %d", name, OptMaxBatchRows, v, 1<<20)
		}
		cfg.MaxRows = n
	}
	dec, err := format.NewDecoder(formatName, cols, paths, formatOpts)
	if err != nil {
		return cfg, fmt.Errorf("stream %s: %w", name, err)
	}
	cfg.Decoder = dec
	return cfg, nil
}

// parseStart reads start and start_timestamp.
func parseStart(with map[string]string) (Start, error) {
	st := Start{Kind: StartTrimHorizon}
	ts, hasTS := lookup(with, OptStartTimestamp)
	if v, ok := lookup(with, OptStart); ok {
		switch k := strings.ToLower(strings.TrimSpace(v)); k {
		case StartTrimHorizon, StartLatest, StartTimestamp:
			st.Kind = k
		case "at_timestamp":
			st.Kind = StartTimestamp
		default:
			return st, fmt.Errorf("option start = %q: must be trim_horizon, latest or timestamp", v)
		}
	} else if hasTS {
		st.Kind = StartTimestamp
	}
	switch {
	case st.Kind == StartTimestamp && !hasTS:
		return st, fmt.Errorf("option start = 'timestamp' needs option start_timestamp, an RFC 3339 time such as '2026-01-02T15:04:05Z'")
	case st.Kind != StartTimestamp && hasTS:
		return st, fmt.Errorf("option start_timestamp applies only with start = 'timestamp', not %q", st.Kind)
	case hasTS:
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ts))
		if err != nil {
			return st, fmt.Errorf("option start_timestamp = %q: not an RFC 3339 time such as '2026-01-02T15:04:05Z'", ts)
		}
		st.Timestamp = t
	}
	return st, nil
}

// SinkConfigFromOptions checks a sink's WITH options for rows of schema.
func SinkConfigFromOptions(name string, schema types.Schema, with map[string]string) (SinkConfig, error) {
	cfg := SinkConfig{Name: name, Schema: schema}
	for k := range with {
		if !slices.Contains(SinkOptions(), strings.ToLower(k)) {
			return cfg, fmt.Errorf("sink %s: unknown option %q for a kinesis sink; valid options are %s", name, k, strings.Join(SinkOptions(), ", "))
		}
	}
	if v, ok := lookup(with, OptConnector); ok && !strings.EqualFold(strings.TrimSpace(v), "kinesis") {
		return cfg, fmt.Errorf("sink %s: option connector = %q, not 'kinesis'", name, v)
	}
	if v, ok := lookup(with, OptFormat); ok && !strings.EqualFold(strings.TrimSpace(v), "json") {
		return cfg, fmt.Errorf("sink %s: option format = %q: a kinesis sink writes json", name, v)
	}
	v, ok := lookup(with, OptStream)
	if !ok || strings.TrimSpace(v) == "" {
		return cfg, fmt.Errorf("sink %s: option stream is required: the name of the stream to write", name)
	}
	cfg.Stream = strings.TrimSpace(v)
	if v, ok := lookup(with, OptPartitionKey); ok {
		cfg.PartitionKey = strings.TrimSpace(v)
	}
	return cfg, nil
}

func lookup(with map[string]string, key string) (string, bool) {
	if v, ok := with[key]; ok {
		return v, true
	}
	for k, v := range with {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}
