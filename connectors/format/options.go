package format

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Decoder and encoder option names. Keys are matched case-insensitively.
const (
	OptTimestampUnit     = "timestamp_unit"      // epoch numbers into TIMESTAMP: ms (default), s, us, ns
	OptTimestampFormat   = "timestamp_format"    // a Go layout for timestamp strings; default ISO 8601
	OptJSONCaseSensitive = "json.case_sensitive" // 'true': field names must match column names exactly
	OptCSVDelimiter      = "csv.delimiter"       // one character, default ','; 'tab' or '\t' for a tab
	OptCSVHeader         = "csv.header"          // decoders: skip header records; encoders: write a header line
)

// DecoderFormats lists the formats NewDecoder reads.
func DecoderFormats() []string { return []string{"json", "csv"} }

// EncoderFormats lists the formats NewEncoder writes.
func EncoderFormats() []string { return []string{"json", "csv"} }

// DecoderOptions lists the options NewDecoder accepts for format, or nil for an
// unknown format.
func DecoderOptions(format string) []string {
	switch strings.ToLower(format) {
	case "json":
		return []string{OptJSONCaseSensitive, OptTimestampFormat, OptTimestampUnit}
	case "csv":
		return []string{OptCSVDelimiter, OptCSVHeader, OptTimestampFormat, OptTimestampUnit}
	}
	return nil
}

// EncoderOptions lists the options NewEncoder accepts for format.
func EncoderOptions(format string) []string {
	switch strings.ToLower(format) {
	case "csv":
		return []string{OptCSVDelimiter, OptCSVHeader}
	}
	return nil
}

// checkOptions rejects options not in valid, naming the option and the valid ones.
func checkOptions(what string, opts map[string]string, valid []string) error {
	var bad []string
	for k := range opts {
		if !slices.Contains(valid, strings.ToLower(k)) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	list := "none"
	if len(valid) > 0 {
		list = strings.Join(valid, ", ")
	}
	return fmt.Errorf("%s: unknown option %q; valid options are %s", what, bad[0], list)
}

// opt returns the value of option name, matching the key case-insensitively.
func opt(opts map[string]string, name string) (string, bool) {
	if v, ok := opts[name]; ok {
		return v, true
	}
	for k, v := range opts {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// boolOpt reads a 'true'/'false' option.
func boolOpt(opts map[string]string, name string, def bool) (bool, error) {
	v, ok := opt(opts, name)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("option %s = %q: must be 'true' or 'false'", name, v)
}

// delimiterOpt reads csv.delimiter: one single-byte character other than a
// quote, CR or LF; "tab" and `\t` mean a tab.
func delimiterOpt(opts map[string]string) (byte, error) {
	v, ok := opt(opts, OptCSVDelimiter)
	if !ok {
		return ',', nil
	}
	switch strings.ToLower(v) {
	case "tab", `\t`:
		return '\t', nil
	}
	if len(v) != 1 || v[0] >= utf8.RuneSelf || v[0] == '"' || v[0] == '\r' || v[0] == '\n' {
		return 0, fmt.Errorf("option %s = %q: must be one ASCII character other than a quote or a line break (or 'tab')", OptCSVDelimiter, v)
	}
	return v[0], nil
}

// parseTimeOptions reads timestamp_unit and timestamp_format.
func parseTimeOptions(opts map[string]string) (timeParser, error) {
	tp := timeParser{}
	if v, ok := opt(opts, OptTimestampUnit); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "s":
			tp.unitScale = 3
		case "ms":
			tp.unitScale = 0
		case "us":
			tp.unitScale = -3
		case "ns":
			tp.unitScale = -6
		default:
			return tp, fmt.Errorf("option %s = %q: must be one of s, ms, us, ns", OptTimestampUnit, v)
		}
	}
	if v, ok := opt(opts, OptTimestampFormat); ok {
		if strings.TrimSpace(v) == "" {
			return tp, fmt.Errorf("option %s is empty; give a Go time layout such as '2006-01-02 15:04:05', or leave it out for ISO 8601", OptTimestampFormat)
		}
		tp.layout = v
	}
	return tp, nil
}
