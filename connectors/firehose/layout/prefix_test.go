package layout

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The docs' "Prefix and ErrorOutputPrefix examples" table, evaluated "at
// 10:30 AM UTC on Aug 27, 2018" unless a row says otherwise.
func TestPrefixDocsExamples(t *testing.T) {
	aug27 := time.Date(2018, 8, 27, 10, 30, 0, 0, time.UTC)
	jul6 := time.Date(2018, 7, 6, 23, 5, 0, 0, time.UTC)
	tests := []struct {
		name        string
		prefix      string
		errorPrefix string
		at          time.Time
		random      []byte
		wantPrefix  string
		wantError   string
	}{
		{
			// "Prefix: Unspecified, ErrorOutputPrefix:
			// myFirehoseFailures/!{firehose:error-output-type}/" -> "Prefix: 2018/08/10/
			// ErrorOutputPrefix: myFirehoseFailures/processing-failed/". The docs'
			// 2018/08/10/ is a typo: the default prefix is YYYY/MM/dd/HH/ of 10:30 on the 27th.
			name:        "unspecified prefix",
			errorPrefix: "myFirehoseFailures/!{firehose:error-output-type}/",
			at:          aug27,
			wantPrefix:  "2018/08/27/10/",
			wantError:   "myFirehoseFailures/processing-failed/",
		},
		{
			// "Prefix: myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}
			// ErrorOutputPrefix: myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}"
			// -> "myFirehose/DeliveredYear=2018/anyMonth/rand=5abf82daaa5" and
			// "myFirehoseFailures/processing-failed/2018/anyMonth/10" (the docs' 10 is again
			// a typo for the 27th).
			name:        "year and random string",
			prefix:      "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}",
			errorPrefix: "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}",
			at:          aug27,
			random:      []byte{0x5a, 0xbf, 0x82, 0xda, 0xaa, 0x50},
			wantPrefix:  "myFirehose/DeliveredYear=2018/anyMonth/rand=5abf82daaa5",
			wantError:   "myFirehoseFailures/processing-failed/2018/anyMonth/27",
		},
		{
			// "Prefix: myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/
			// ErrorOutputPrefix: myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}"
			// -> "myPrefix/year=2018/month=07/day=06/hour=23/" and
			// "myErrorPrefix/year=2018/month=07/day=06/hour=23/processing-failed".
			name:        "hive style and quoted literals",
			prefix:      "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
			errorPrefix: "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}",
			at:          jul6,
			wantPrefix:  "myPrefix/year=2018/month=07/day=06/hour=23/",
			wantError:   "myErrorPrefix/year=2018/month=07/day=06/hour=23/processing-failed",
		},
		{
			// "Prefix: myFirehosePrefix, ErrorOutputPrefix: Unspecified". The semantic
			// rules say Prefix "evaluates to <specified-prefix>YYYY/MM/DD/HH/" and
			// ErrorOutputPrefix to "<specified-prefix><error-output-type>YYYY/MM/DD/HH/";
			// the table's myFirehosePrefix/2018/08/27/ contradicts the rule (no slash is
			// added, no hour dropped). eddy follows the rule, with the table's slash
			// after the error type.
			name:       "literal prefix",
			prefix:     "myFirehosePrefix",
			at:         aug27,
			wantPrefix: "myFirehosePrefix2018/08/27/10/",
			wantError:  "myFirehosePrefixprocessing-failed/2018/08/27/10/",
		},
		{
			// The firehose namespace table: "myPrefix/result=!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}"
			// -> "myPrefix/result=processing-failed/2018/08/03".
			name:        "error type in the middle",
			prefix:      "data/",
			errorPrefix: "myPrefix/result=!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}",
			at:          time.Date(2018, 8, 3, 1, 2, 3, 0, time.UTC),
			wantPrefix:  "data/2018/08/03/01/",
			wantError:   "myPrefix/result=processing-failed/2018/08/03",
		},
		{
			// Amazon Athena's partition projection example:
			// prefix/!{timestamp:yyyy}-!{timestamp:MM}-!{timestamp:dd}/... -> prefix/2021-11-01/...
			name:        "iso date",
			prefix:      "prefix/!{timestamp:yyyy}-!{timestamp:MM}-!{timestamp:dd}/",
			errorPrefix: "errors/!{firehose:error-output-type}/",
			at:          time.Date(2021, 11, 1, 0, 0, 0, 0, time.UTC),
			wantPrefix:  "prefix/2021-11-01/",
			wantError:   "errors/processing-failed/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustNew(t, Config{Prefix: tt.prefix, ErrorOutputPrefix: tt.errorPrefix, Random: &fixedRandom{tt.random}})
			got, err := l.Prefix(PrefixValues{Arrival: tt.at})
			if err != nil || got != tt.wantPrefix {
				t.Errorf("Prefix = %q, %v; want %q", got, err, tt.wantPrefix)
			}
			got, err = l.ErrorPrefix(ProcessingFailed, tt.at)
			if err != nil || got != tt.wantError {
				t.Errorf("ErrorPrefix = %q, %v; want %q", got, err, tt.wantError)
			}
		})
	}
}

// The dynamic partitioning docs' example: the sample record, the key -> jq
// table and the Hive-style prefix deliver to
// "s3://my-logs-prod/customer_id=1234567890/device=mobile/year=2019/month=08/day=09/hour=20/".
func TestDynamicPartitioningDocsExample(t *testing.T) {
	q := mustQuery(t, `{customer_id: .customer_id, device: .type.device, year: .event_timestamp| strftime("%Y"),
		month: .event_timestamp| strftime("%m"), day: .event_timestamp| strftime("%d"), hour: .event_timestamp| strftime("%H")}`)
	l := mustNew(t, Config{
		Prefix:              "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/",
		ErrorOutputPrefix:   "errors/!{firehose:error-output-type}/",
		DynamicPartitioning: true,
		Query:               q,
	})
	record := []byte(`{"type": {"device": "mobile", "event": "user_clicked_submit_button"},
		"customer_id": "1234567890", "event_timestamp": 1565382027, "region": "sample_region"}`)
	keys, err := q.Extract(record)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Prefix(PrefixValues{Arrival: time.Now(), QueryKeys: keys})
	if want := "customer_id=1234567890/device=mobile/year=2019/month=08/day=09/hour=20/"; err != nil || got != want {
		t.Fatalf("Prefix = %q, %v; want %q", got, err, want)
	}
	got, err = l.ErrorPrefix(MetadataExtractionFailed, time.Now())
	if want := "errors/metadata-extraction-failed/"; err != nil || got != want {
		t.Fatalf("ErrorPrefix = %q, %v; want %q", got, err, want)
	}
	if l.PrefixIsStatic() {
		t.Error("a partitioned prefix reported static")
	}
}

func TestPrefixEvaluationRules(t *testing.T) {
	at := time.Date(2024, 2, 29, 13, 7, 9, 0, time.UTC)
	t.Run("every timestamp is the same instant", func(t *testing.T) {
		l := mustNew(t, Config{Prefix: "!{timestamp:HH}/!{timestamp:HH}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}"})
		got, _ := l.Prefix(PrefixValues{Arrival: at})
		if got != "13/13/" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("every random string is new", func(t *testing.T) {
		l := mustNew(t, Config{Prefix: "!{firehose:random-string}/!{firehose:random-string}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}",
			Random: &fixedRandom{[]byte{0, 1, 2, 3, 4, 5, 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5}}})
		got, err := l.Prefix(PrefixValues{Arrival: at})
		if want := "00010203040/a0b1c2d3e4f/2024/02/29/13/"; err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
		if _, err := l.Prefix(PrefixValues{Arrival: at}); err == nil {
			t.Fatal("an exhausted random source gave no error")
		}
	})
	t.Run("error type repeats the same string", func(t *testing.T) {
		l := mustNew(t, Config{ErrorOutputPrefix: "!{firehose:error-output-type}/!{firehose:error-output-type}/"})
		got, _ := l.ErrorPrefix(FormatConversionFailed, at)
		if got != "format-conversion-failed/format-conversion-failed/" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("error prefix without expressions gets type and time", func(t *testing.T) {
		l := mustNew(t, Config{Prefix: "data/", ErrorOutputPrefix: "errors/"})
		got, _ := l.ErrorPrefix(FormatConversionFailed, at)
		if got != "errors/format-conversion-failed/2024/02/29/13/" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("no prefixes at all", func(t *testing.T) {
		l := mustNew(t, Config{})
		got, _ := l.ErrorPrefix(ProcessingFailed, at)
		if got != "processing-failed/2024/02/29/13/" {
			t.Fatalf("got %q", got)
		}
		if !l.PrefixIsStatic() {
			t.Fatal("the default prefix reported not static")
		}
	})
	t.Run("time zone", func(t *testing.T) {
		tokyo := time.FixedZone("JST", 9*3600)
		l := mustNew(t, Config{TimeZone: tokyo})
		got, _ := l.Prefix(PrefixValues{Arrival: at})
		if got != "2024/02/29/22/" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("evaluated prefix longer than 512", func(t *testing.T) {
		q := mustQuery(t, `{k: .k}`)
		l := mustNew(t, Config{Prefix: "p/!{partitionKeyFromQuery:k}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}", DynamicPartitioning: true, Query: q})
		long := make([]byte, 510)
		for i := range long {
			long[i] = 'x'
		}
		_, err := l.Prefix(PrefixValues{QueryKeys: map[string]string{"k": string(long)}})
		if !errors.Is(err, ErrPrefixTooLong) {
			t.Fatalf("got %v, want ErrPrefixTooLong", err)
		}
		got, err := l.Prefix(PrefixValues{QueryKeys: map[string]string{"k": string(long[:509])}})
		if err != nil || len(got) != 512 {
			t.Fatalf("a 512-character prefix: %d, %v", len(got), err)
		}
	})
	t.Run("a 512-character literal prefix is accepted with its default time", func(t *testing.T) {
		literal := strings.Repeat("p", 512)
		l := mustNew(t, Config{Prefix: literal})
		got, err := l.Prefix(PrefixValues{Arrival: at})
		if err != nil || got != literal+"2024/02/29/13/" {
			t.Fatalf("got %d characters, %v", len(got), err)
		}
		if got, err := l.ErrorPrefix(ProcessingFailed, at); err != nil || got != literal+"processing-failed/2024/02/29/13/" {
			t.Fatalf("error prefix: %d characters, %v", len(got), err)
		}
		l = mustNew(t, Config{Prefix: literal + "!{timestamp:yyyy}", ErrorOutputPrefix: "e/!{firehose:error-output-type}"})
		if _, err := l.Prefix(PrefixValues{Arrival: at}); !errors.Is(err, ErrPrefixTooLong) {
			t.Fatalf("an explicit expression past 512 characters: %v", err)
		}
	})
	t.Run("timestamps have whole seconds", func(t *testing.T) {
		l := mustNew(t, Config{Prefix: "!{timestamp:ss.SSSSSSSSS}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}"})
		got, _ := l.Prefix(PrefixValues{Arrival: at.Add(987654321 * time.Nanosecond)})
		if got != "09.000000000/" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("missing partition key", func(t *testing.T) {
		l := mustNew(t, Config{Prefix: "!{partitionKeyFromLambda:k}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}", DynamicPartitioning: true, LambdaProcessor: true})
		_, err := l.Prefix(PrefixValues{LambdaKeys: map[string]string{"other": "v"}})
		var ee *ExtractError
		if !errors.As(err, &ee) || ee.Code != CodeMetadataExtractionFailed {
			t.Fatalf("got %v, want an ExtractError", err)
		}
		got, err := l.Prefix(PrefixValues{LambdaKeys: map[string]string{"k": "v"}})
		if err != nil || got != "v/" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}

// Every configuration error class, with the words a user sees.
func TestConfigErrors(t *testing.T) {
	query := func(s string) *Query { return mustQuery(t, s) }
	long := make([]byte, 1025)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown namespace", Config{Prefix: "a/!{time:yyyy}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}"}, `Prefix: expression !{time:yyyy} at offset 2: unknown namespace "time"`},
		{"no colon", Config{Prefix: "!{timestamp}", ErrorOutputPrefix: "e"}, "must have the form !{namespace:value}"},
		{"empty value", Config{Prefix: "!{timestamp:}", ErrorOutputPrefix: "e"}, `the value after "timestamp:" is empty`},
		{"unclosed expression", Config{Prefix: "a!{timestamp:yyyy", ErrorOutputPrefix: "e"}, "the sequence !{ at offset 1 can only appear in !{namespace:value} expressions"},
		{"unknown firehose value", Config{Prefix: "!{firehose:uuid}", ErrorOutputPrefix: "e"}, `unknown firehose namespace value "uuid"`},
		{"unsupported pattern letter", Config{Prefix: "!{timestamp:EEE}", ErrorOutputPrefix: "e"}, `the pattern letter 'E' is not supported`},
		{"too many pattern letters", Config{Prefix: "!{timestamp:ddd}", ErrorOutputPrefix: "e"}, "too many pattern letters: ddd"},
		{"unterminated quote", Config{Prefix: "!{timestamp:yyyy'x}", ErrorOutputPrefix: "e"}, "the pattern ends inside the literal text"},
		{"reserved character", Config{Prefix: "!{timestamp:yyyy#}", ErrorOutputPrefix: "e"}, "reserved character '#'"},
		{"unbalanced optional section", Config{Prefix: "!{timestamp:yyyy]}", ErrorOutputPrefix: "e"}, "] at offset 4 without a previous ["},
		{"error type in Prefix", Config{Prefix: "a/!{firehose:error-output-type}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}"}, "Prefix: can't contain !{firehose:error-output-type}"},
		{"error prefix needed", Config{Prefix: "!{timestamp:yyyy/MM/dd}"}, "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"},
		{"error prefix without error type", Config{Prefix: "a/", ErrorOutputPrefix: "e/!{timestamp:yyyy}/"}, "must include at least one instance of !{firehose:error-output-type}"},
		{"partition keys in error prefix", Config{Prefix: "!{partitionKeyFromQuery:k}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}/!{partitionKeyFromQuery:k}", DynamicPartitioning: true, Query: query("{k: .k}")}, "You cannot use partitionKeyFromLambda and partitionKeyFromQuery namespaces when creating ErrorOutputPrefix expressions."},
		{"partition keys without dynamic partitioning", Config{Prefix: "!{partitionKeyFromQuery:k}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}"}, "Dynamic Partitioning Namespaces can only be part of a prefix expression when Dynamic Partitioning is enabled."},
		{"query without dynamic partitioning", Config{Prefix: "a/", Query: query("{k: .k}")}, "MetadataExtraction processor can only be present when Dynamic Partitioning is enabled."},
		{"dynamic partitioning without processors", Config{Prefix: "!{partitionKeyFromQuery:k}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}", DynamicPartitioning: true}, "Processing Configuration is not enabled when DataPartitioning is enabled"},
		{"dynamic partitioning without key namespaces", Config{Prefix: "a/!{timestamp:yyyy}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}", DynamicPartitioning: true, Query: query("{k: .k}")}, "S3 Prefix should contain Dynamic Partitioning namespaces when Dynamic Partitioning is enabled"},
		{"query keys without the processor", Config{Prefix: "!{partitionKeyFromQuery:k}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}", DynamicPartitioning: true, LambdaProcessor: true}, "MetadataExtraction processor should be present when S3 Prefix has partitionKeyFromQuery namespace"},
		{"lambda keys without a lambda", Config{Prefix: "!{partitionKeyFromLambda:k}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}", DynamicPartitioning: true, Query: query("{k: .k}")}, "Lambda should be present when S3 Prefix contains keys from partitionKeyFromLambda namespace"},
		{"key the query lacks", Config{Prefix: "!{partitionKeyFromQuery:day}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}", DynamicPartitioning: true, Query: query("{k: .k, j: .j}")}, "names a key the MetadataExtractionQuery does not define (it defines k, j)"},
		{"prefix too long", Config{Prefix: string(long)}, "Prefix: is 1025 characters long; the limit is 1024"},
		{"literal text past 512", Config{Prefix: "a/", ErrorOutputPrefix: strings.Repeat("e", 513)}, "ErrorOutputPrefix: has 513 characters of literal text, so it can never evaluate within Firehose's limit of 512"},
		{"unknown compression", Config{Compression: "BZIP2"}, `CompressionFormat: unknown value "BZIP2"`},
		{"unknown output format", Config{OutputFormat: "Avro"}, `unknown output format "Avro": use Parquet or ORC`},
		{"compression with conversion", Config{Compression: Gzip, OutputFormat: Parquet}, "set it to UNCOMPRESSED"},
		{"bad file extension", Config{FileExtension: "gz"}, "it must start with a period"},
		{"no stream name", Config{DeliveryStreamName: "", Version: 1}, "DeliveryStreamName: is empty"},
		{"no version", Config{DeliveryStreamName: "s", Version: 0}, "versions start at 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.DeliveryStreamName == "" && tt.name != "no stream name" {
				cfg.DeliveryStreamName = "s"
			}
			if cfg.Version == 0 && tt.name != "no version" {
				cfg.Version = 1
			}
			_, err := New(cfg)
			wantErrorContaining(t, err, tt.want)
			var ce *ConfigError
			if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &ce) {
				t.Fatalf("%v is not a ConfigError wrapping ErrInvalidArgument", err)
			}
		})
	}
}

// Random strings drawn from many goroutines stay distinct and race-free.
func TestPrefixConcurrentRandom(t *testing.T) {
	l := mustNew(t, Config{Prefix: "!{firehose:random-string}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}"})
	results := make(chan string, 400)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				p, err := l.Prefix(PrefixValues{Arrival: time.Unix(0, 0)})
				if err != nil {
					t.Error(err)
				}
				results <- p
			}
		}()
	}
	seen := map[string]bool{}
	for i := 0; i < 400; i++ {
		p := <-results
		if len(p) != randomStringLength+len("/1970/01/01/00/") || seen[p] {
			t.Fatalf("prefix %q: wrong length or repeated", p)
		}
		seen[p] = true
	}
}
