package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// CodeMetadataExtractionFailed is the errorCode of records dynamic
// partitioning could not place; they go to the error output under
// MetadataExtractionFailed.
const CodeMetadataExtractionFailed = "DynamicPartitioning.MetadataExtractionFailed"

// ExtractError is a record-level dynamic partitioning failure: the runner
// writes the record to the error output with Code and Message.
type ExtractError struct {
	Code    string
	Message string
}

func (e *ExtractError) Error() string { return e.Code + ": " + e.Message }

func extractErrorf(format string, args ...any) error {
	return &ExtractError{Code: CodeMetadataExtractionFailed, Message: fmt.Sprintf(format, args...)}
}

// Firehose's messages for the two common failures, as delivered error
// records show them.
const (
	msgNonJSON   = "Non JSON record provided"
	msgNullEmpty = "partitionKeys values must not be null or empty"
)

// Extract evaluates the query on one record and returns the partition key
// values. The record must be one JSON value (a multi-record blob is not JSON
// here, as in Firehose without deaggregation); every key must evaluate to a
// non-empty string, a number or a boolean of at most 512 characters (Firehose's
// limit on an evaluated prefix). Failures are *ExtractError.
func (q *Query) Extract(record []byte) (map[string]string, error) {
	doc, err := decodeRecord(record)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(q.keys))
	for _, key := range q.keys {
		v, err := evalPipeline(q.exprs[key], doc)
		if err != nil {
			return nil, extractErrorf("key %s: %v", key, err)
		}
		s, err := partitionValue(v)
		if err != nil {
			return nil, extractErrorf("%s: key %s %v", msgNullEmpty, key, err)
		}
		if len(s) > maxEvaluatedPrefix {
			return nil, extractErrorf("key %s: the value is %d characters long; a prefix may be at most %d", key, len(s), maxEvaluatedPrefix)
		}
		out[key] = s
	}
	return out, nil
}

func decodeRecord(record []byte) (any, error) {
	if !utf8.Valid(record) {
		return nil, extractErrorf("%s: the record is not valid UTF-8", msgNonJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, extractErrorf("%s: %v", msgNonJSON, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, extractErrorf("%s: more than one JSON value in the record (deaggregate first)", msgNonJSON)
	}
	return doc, nil
}

func evalPipeline(stages []queryStage, v any) (any, error) {
	for _, st := range stages {
		var err error
		switch st.function {
		case "":
			v, err = evalPath(st.path, v)
		case "tostring":
			v, err = jqToString(v)
		case "strftime":
			v, err = evalStrftime(st.format, v)
		}
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

// evalPath follows jq's rules: indexing null gives null, indexing the wrong
// type is an error.
func evalPath(steps []pathStep, v any) (any, error) {
	for _, st := range steps {
		switch x := v.(type) {
		case nil:
			continue
		case map[string]any:
			if st.isIndex {
				return nil, fmt.Errorf("cannot index object with number")
			}
			v = x[st.key]
		case []any:
			if !st.isIndex {
				return nil, fmt.Errorf("cannot index array with %q", st.key)
			}
			i := st.index
			if i < 0 {
				i += len(x)
			}
			if i < 0 || i >= len(x) {
				v = nil
			} else {
				v = x[i]
			}
		default:
			if st.isIndex {
				return nil, fmt.Errorf("cannot index %s with number", jqTypeName(v))
			}
			return nil, fmt.Errorf("cannot index %s with %q", jqTypeName(v), st.key)
		}
	}
	return v, nil
}

func jqTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// partitionValue renders a key's value as Firehose puts it in the prefix:
// strings raw, numbers and booleans as jq prints them.
func partitionValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", fmt.Errorf("is null")
	case string:
		if x == "" {
			return "", fmt.Errorf("is empty")
		}
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return jqNumber(x)
	}
	return "", fmt.Errorf("is an %s; it must be a string, number or boolean", jqTypeName(v))
}

// jqNumber prints a number as jq does for the common cases: integers (up to
// 1e17) without exponent or fraction, other values in the shortest form that
// reads back the same double.
func jqNumber(n json.Number) (string, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return "", fmt.Errorf("is the unreadable number %s", n)
	}
	if math.IsInf(f, 0) {
		f = math.Copysign(math.MaxFloat64, f) // jq clamps to the largest double
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e17 {
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}

func jqToString(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return jqNumber(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("tostring: %v", err)
	}
	return string(b), nil
}

// strftimeField is a compiled strftime directive or literal text.
type strftimeField struct {
	directive byte // 0 for literal text
	text      string
}

const supportedStrftime = "%Y %m %d %H %M %S %y %j %e %s %Z %%"

func compileStrftime(format string) ([]strftimeField, error) {
	var out []strftimeField
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			out = append(out, strftimeField{text: format[i : i+1]})
			continue
		}
		if i+1 == len(format) {
			return nil, fmt.Errorf("the strftime format %q ends with a lone %%", format)
		}
		i++
		switch d := format[i]; d {
		case 'Y', 'm', 'd', 'H', 'M', 'S', 'y', 'j', 'e', 's', 'Z':
			out = append(out, strftimeField{directive: d})
		case '%':
			out = append(out, strftimeField{text: "%"})
		default:
			return nil, fmt.Errorf("the strftime directive %%%c is not supported (eddy supports %s)", d, supportedStrftime)
		}
	}
	return out, nil
}

// evalStrftime formats epoch seconds in UTC, as jq's strftime does on a
// number (gmtime, fractions dropped).
func evalStrftime(fields []strftimeField, v any) (any, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("strftime/1 requires parsed datetime inputs, not %s", jqTypeName(v))
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > 1e15 {
		return nil, fmt.Errorf("strftime/1: %s is not a usable epoch time", n)
	}
	t := time.Unix(int64(math.Floor(f)), 0).UTC()
	var dst []byte
	for _, fl := range fields {
		switch fl.directive {
		case 0:
			dst = append(dst, fl.text...)
		case 'Y':
			dst = strconv.AppendInt(dst, int64(t.Year()), 10)
		case 'm':
			dst = appendPadded(dst, int(t.Month()), 2)
		case 'd':
			dst = appendPadded(dst, t.Day(), 2)
		case 'e':
			if t.Day() < 10 {
				dst = append(dst, ' ')
			}
			dst = strconv.AppendInt(dst, int64(t.Day()), 10)
		case 'H':
			dst = appendPadded(dst, t.Hour(), 2)
		case 'M':
			dst = appendPadded(dst, t.Minute(), 2)
		case 'S':
			dst = appendPadded(dst, t.Second(), 2)
		case 'y':
			dst = appendPadded(dst, ((t.Year()%100)+100)%100, 2)
		case 'j':
			dst = appendPadded(dst, t.YearDay(), 3)
		case 's':
			dst = strconv.AppendInt(dst, t.Unix(), 10)
		case 'Z':
			dst = append(dst, "UTC"...)
		}
	}
	return string(dst), nil
}
