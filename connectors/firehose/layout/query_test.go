package layout

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseQueryForms(t *testing.T) {
	tests := []struct {
		query string
		keys  []string
	}{
		{`{customer_id: .customer_id}`, []string{"customer_id"}},
		{`{customer_id:.customer_id,day:.ts.day}`, []string{"customer_id", "day"}},
		{` { "customer id" : ."customer id" , "b": .["x y"].z[0] } `, []string{"customer id", "b"}},
		{`{customer_id}`, []string{"customer_id"}},
		{`{a: .x, b: .y, a: .z}`, []string{"a", "b"}},
		{`{year: .event_timestamp| strftime("%Y"), s: .n | tostring}`, []string{"year", "s"}},
		{`{a: .x | .y}`, []string{"a"}},
	}
	for _, tt := range tests {
		q, err := ParseQuery(tt.query)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tt.query, err)
			continue
		}
		if !reflect.DeepEqual(q.Keys(), tt.keys) {
			t.Errorf("ParseQuery(%q).Keys() = %v, want %v", tt.query, q.Keys(), tt.keys)
		}
		if q.String() != tt.query {
			t.Errorf("String() = %q", q.String())
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := map[string]string{
		``:                               `the query ends where '{' should follow`,
		`.customer_id`:                   `found '.' where '{' should be`,
		`{}`:                             "defines no partition keys",
		`{a: .a`:                         `the query ends where "," or "}" should follow`,
		`{a: .a} x`:                      "the end of the query",
		`{a .a}`:                         `found '.' where "," or "}" should be`,
		`{"a"}`:                          `":" and a value`,
		`{a: select(.x)}`:                "the jq function select is not supported",
		`{a: .x | strftime("%A")}`:       "the strftime directive %A is not supported",
		`{a: .x | strftime(%Y)}`:         "a format string",
		`{a: .b..c}`:                     "a field name after .",
		`{a: .b[x]}`:                     "a string or an array index inside [ ]",
		`{a: "literal"}`:                 "a path such as .field",
		`{"": .a}`:                       "a partition key name is empty",
		`{"a: .a}`:                       "not closed",
		`{a: .x | strftime("%Y"}`:        `')' should be`,
		`{a: .x | strftime("%Y%")}`:      "ends with a lone %",
		`{a: .["\q"]}`:                   "invalid string literal",
		`{a: .a,}`:                       "a key name",
		`{customer_id: .customer_id} {}`: "the end of the query",
	}
	for query, want := range tests {
		_, err := ParseQuery(query)
		wantErrorContaining(t, err, want)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParseQuery(%q) error does not wrap ErrInvalidArgument", query)
		}
	}
	long := make([]byte, 5121)
	for i := range long {
		long[i] = ' '
	}
	_, err := ParseQuery(string(long))
	wantErrorContaining(t, err, "the limit is 5120")
}

func TestExtract(t *testing.T) {
	q := mustQuery(t, `{id: .customer_id, day: .ts.day, first: .tags[0], last: .tags[-1], n: .n, ok: .ok, nested: ."a b".c}`)
	got, err := q.Extract([]byte(`{"customer_id":"c-1","ts":{"day":"09"},"tags":["x","y","z"],"n":42,"ok":true,"a b":{"c":1.5}}`))
	want := map[string]string{"id": "c-1", "day": "09", "first": "x", "last": "z", "n": "42", "ok": "true", "nested": "1.5"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Extract = %v, %v; want %v", got, err, want)
	}
}

func TestExtractFailures(t *testing.T) {
	q := mustQuery(t, `{id: .customer_id}`)
	long := `"` + strings.Repeat("x", 513) + `"`
	tests := map[string]string{
		`not json`:                               "Non JSON record provided",
		`{"customer_id":"a"}{"customer_id":"b"}`: "Non JSON record provided: more than one JSON value",
		"\xff":                                   "Non JSON record provided: the record is not valid UTF-8",
		`{}`:                                     "partitionKeys values must not be null or empty: key id is null",
		`{"customer_id":null}`:                   "partitionKeys values must not be null or empty: key id is null",
		`{"customer_id":""}`:                     "partitionKeys values must not be null or empty: key id is empty",
		`{"customer_id":{"a":1}}`:                "is an object; it must be a string, number or boolean",
		`{"customer_id":[1]}`:                    "is an array",
		`[1,2]`:                                  "cannot index array with \"customer_id\"",
		`"text"`:                                 "cannot index string with \"customer_id\"",
		`{"customer_id":` + long + `}`:           "the value is 513 characters long",
	}
	for record, want := range tests {
		_, err := q.Extract([]byte(record))
		wantErrorContaining(t, err, want)
		var ee *ExtractError
		if !errors.As(err, &ee) || ee.Code != CodeMetadataExtractionFailed {
			t.Errorf("Extract(%q) = %v, not an ExtractError with code %s", record, err, CodeMetadataExtractionFailed)
		}
	}
	// Indexing null is null, not an error (jq), so a missing parent reads as a null key.
	_, err := mustQuery(t, `{d: .ts.day}`).Extract([]byte(`{"x":1}`))
	wantErrorContaining(t, err, "key d is null")
	_, err = mustQuery(t, `{d: .ts.day}`).Extract([]byte(`{"ts":5}`))
	wantErrorContaining(t, err, "cannot index number with \"day\"")
}

func TestExtractNumbers(t *testing.T) {
	q := mustQuery(t, `{n: .n, s: .n | tostring}`)
	tests := map[string]string{
		"1565382027": "1565382027",
		"-3":         "-3",
		"1.5":        "1.5",
		"1e3":        "1000",
		"2.50":       "2.5",
		"0.1":        "0.1",
		"1e300":      "1e+300",
	}
	for in, want := range tests {
		got, err := q.Extract([]byte(`{"n":` + in + `}`))
		if err != nil || got["n"] != want || got["s"] != want {
			t.Errorf("n=%s: got %v, %v; want %q", in, got, err, want)
		}
	}
	got, err := mustQuery(t, `{s: .o | tostring}`).Extract([]byte(`{"o":{"b":[1,true]}}`))
	if err != nil || got["s"] != `{"b":[1,true]}` {
		t.Errorf("tostring of an object = %v, %v", got, err)
	}
}

// strftime against Go's time layouts, written separately: %Y -> 2006 and so on.
func TestStrftimeDifferential(t *testing.T) {
	q := mustQuery(t, `{Y: .t|strftime("%Y"), m: .t|strftime("%m"), d: .t|strftime("%d"), H: .t|strftime("%H"),
		M: .t|strftime("%M"), S: .t|strftime("%S"), y: .t|strftime("%y"), j: .t|strftime("%j"), e: .t|strftime("%e"),
		s: .t|strftime("%s"), all: .t|strftime("%Y-%m-%dT%H:%M:%SZ %% %Z")}`)
	layouts := map[string]string{"Y": "2006", "m": "01", "d": "02", "H": "15", "M": "04", "S": "05", "y": "06", "j": "002", "e": "_2", "all": "2006-01-02T15:04:05Z % UTC"}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
		secs := r.Int64N(4_102_444_800)
		frac := ""
		if i%2 == 1 {
			frac = ".75"
		}
		got, err := q.Extract([]byte(`{"t":` + strconv.FormatInt(secs, 10) + frac + `}`))
		if err != nil {
			t.Fatal(err)
		}
		at := time.Unix(secs, 0).UTC()
		for key, layout := range layouts {
			if want := at.Format(layout); got[key] != want {
				t.Fatalf("%%%s of %d = %q, want %q", key, secs, got[key], want)
			}
		}
		if got["s"] != strconv.FormatInt(secs, 10) {
			t.Fatalf("%%s of %d = %q", secs, got["s"])
		}
	}
	_, err := q.Extract([]byte(`{"t":"2019-08-09"}`))
	wantErrorContaining(t, err, "strftime/1 requires parsed datetime inputs")
}
