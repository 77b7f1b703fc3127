package layout

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzNew: any Prefix and ErrorOutputPrefix either fail with a ConfigError
// or evaluate without panicking, within Firehose's length limit or with
// ErrPrefixTooLong.
func FuzzNew(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""},
		{"myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}", "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}"},
		{"myPrefix/year=!{timestamp:yyyy}/", "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}"},
		{"!{timestamp:[yyyy]'x''y'}", "e/!{firehose:error-output-type}"},
		{"a!{", "b}"},
		{"!{partitionKeyFromQuery:k}/", "!{firehose:error-output-type}"},
	} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], seed[1], true)
	}
	q, err := ParseQuery(`{k: .k}`)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, prefix, errorPrefix string, dynamic bool) {
		cfg := Config{DeliveryStreamName: "s", Version: 1, Prefix: prefix, ErrorOutputPrefix: errorPrefix,
			DynamicPartitioning: dynamic, Random: strings.NewReader(strings.Repeat("r", 1<<16))}
		if dynamic {
			cfg.Query = q
			cfg.LambdaProcessor = true
		}
		l, err := New(cfg)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("New error %v does not wrap ErrInvalidArgument", err)
			}
			return
		}
		keys := map[string]string{}
		for _, s := range l.prefix {
			if s.kind == segQueryKey || s.kind == segLambdaKey {
				keys[s.text] = "v"
			}
		}
		at := time.Date(2021, 3, 4, 5, 6, 7, 8, time.UTC)
		for _, eval := range []func() (string, error){
			func() (string, error) { return l.Prefix(PrefixValues{Arrival: at, QueryKeys: keys, LambdaKeys: keys}) },
			func() (string, error) { return l.ErrorPrefix(ProcessingFailed, at) },
		} {
			got, err := eval()
			if err != nil && !errors.Is(err, ErrPrefixTooLong) {
				t.Fatalf("evaluation failed: %v", err)
			}
			// Only what the user wrote counts against the limit; Firehose's own
			// error type and YYYY/MM/dd/HH/ may come on top.
			if err == nil && len(got) > maxEvaluatedPrefix+len(ProcessingFailed)+len("/2021/03/04/05/") {
				t.Fatalf("evaluated prefix of %d characters", len(got))
			}
		}
	})
}

// FuzzParseQuery: any query text parses or fails with a ConfigError; a
// parsed query extracts from any record without panicking, and its failures
// are ExtractErrors.
func FuzzParseQuery(f *testing.F) {
	f.Add(`{customer_id: .customer_id, day: .ts.day}`, `{"customer_id":"c","ts":{"day":1}}`)
	f.Add(`{year: .event_timestamp| strftime("%Y"), s: .x|tostring}`, `{"event_timestamp":1565382027,"x":[1,{"a":null}]}`)
	f.Add(`{"a b": .["a b"][0], c}`, `{"a b":["v"],"c":true}`)
	f.Add(`{a: .a[-1]}`, `{"a":[]}`)
	f.Add(`{a: .a}`, `{"a":1e999}`)
	f.Fuzz(func(t *testing.T, query, record string) {
		q, err := ParseQuery(query)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("ParseQuery error %v does not wrap ErrInvalidArgument", err)
			}
			return
		}
		if len(q.Keys()) == 0 {
			t.Fatal("a parsed query has no keys")
		}
		values, err := q.Extract([]byte(record))
		if err != nil {
			var ee *ExtractError
			if !errors.As(err, &ee) || ee.Code != CodeMetadataExtractionFailed {
				t.Fatalf("Extract error %v is not an ExtractError", err)
			}
			return
		}
		for _, k := range q.Keys() {
			if v, ok := values[k]; !ok || v == "" || len(v) > maxEvaluatedPrefix {
				t.Fatalf("key %q: value %q, present %v", k, v, ok)
			}
		}
	})
}

// FuzzExtract: the docs' query on any record never panics, and a value it
// returns is what a direct look-up of the record finds for plain paths.
func FuzzExtract(f *testing.F) {
	f.Add(`{"type":{"device":"mobile"},"customer_id":"1234567890","event_timestamp":1565382027}`)
	f.Add(`{"customer_id":12,"type":{"device":true},"event_timestamp":-1.5}`)
	f.Add(`{"customer_id":"x"} {}`)
	f.Add(`[]`)
	q, err := ParseQuery(`{customer_id: .customer_id, device: .type.device, hour: .event_timestamp | strftime("%H")}`)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, record string) {
		values, err := q.Extract([]byte(record))
		if err != nil {
			var ee *ExtractError
			if !errors.As(err, &ee) {
				t.Fatalf("Extract error %v is not an ExtractError", err)
			}
			return
		}
		if len(values) != 3 || len(values["hour"]) != 2 {
			t.Fatalf("values %v", values)
		}
	})
}
