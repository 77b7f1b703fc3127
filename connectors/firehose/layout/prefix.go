package layout

import (
	"fmt"
	"strings"
	"time"
)

// The namespaces of !{namespace:value} expressions.
const (
	namespaceTimestamp  = "timestamp"
	namespaceFirehose   = "firehose"
	namespaceQueryKey   = "partitionKeyFromQuery"
	namespaceLambdaKey  = "partitionKeyFromLambda"
	valueErrorType      = "error-output-type"
	valueRandomString   = "random-string"
	randomStringLength  = 11
	maxPrefixLength     = 1024 // the API's limit on the configured text
	maxEvaluatedPrefix  = 512  // Firehose's limit on an evaluated prefix
	defaultTimePattern  = "yyyy/MM/dd/HH/"
	expressionStart     = "!{"
	namespaceListForMsg = "timestamp, firehose, partitionKeyFromQuery or partitionKeyFromLambda"
)

type segmentKind uint8

const (
	segLiteral segmentKind = iota
	segTimestamp
	segRandomString
	segErrorType
	segQueryKey
	segLambdaKey
)

// segment is literal text or one expression of a prefix template.
type segment struct {
	kind segmentKind
	text string // the literal text, or the partition key name
	time timePattern
	// implicit marks what Firehose appends on its own (the default
	// YYYY/MM/dd/HH/ and error type): it does not count against the 512
	// character limit, since Firehose accepts a 512-character literal prefix
	// whose expansion is longer (captured from the service).
	implicit bool
}

// template is a parsed Prefix or ErrorOutputPrefix.
type template []segment

// parseTemplate parses the !{namespace:value} expressions of s; field names
// the setting in errors.
func parseTemplate(field, s string) (template, error) {
	if len(s) > maxPrefixLength {
		return nil, configErrorf(field, "is %d characters long; the limit is %d", len(s), maxPrefixLength)
	}
	var out template
	for pos := 0; pos < len(s); {
		i := strings.Index(s[pos:], expressionStart)
		if i < 0 {
			out = append(out, segment{kind: segLiteral, text: s[pos:]})
			break
		}
		if i > 0 {
			out = append(out, segment{kind: segLiteral, text: s[pos : pos+i]})
		}
		start := pos + i
		end := strings.IndexByte(s[start:], '}')
		if end < 0 {
			return nil, configErrorf(field, "the sequence !{ at offset %d can only appear in !{namespace:value} expressions, and this one has no closing }", start)
		}
		expr := s[start : start+end+1]
		seg, err := parseExpression(expr)
		if err != nil {
			return nil, configErrorf(field, "expression %s at offset %d: %v", expr, start, err)
		}
		out = append(out, seg)
		pos = start + end + 1
	}
	return out, nil
}

func parseExpression(expr string) (segment, error) {
	body := expr[len(expressionStart) : len(expr)-1]
	namespace, value, ok := strings.Cut(body, ":")
	if !ok {
		return segment{}, fmt.Errorf("an expression must have the form !{namespace:value}, where namespace is %s", namespaceListForMsg)
	}
	if value == "" {
		return segment{}, fmt.Errorf("the value after %q is empty: an expression must have the form !{namespace:value}", namespace+":")
	}
	switch namespace {
	case namespaceTimestamp:
		p, err := compileTimePattern(value)
		if err != nil {
			return segment{}, fmt.Errorf("invalid Java DateTimeFormatter pattern %q: %v", value, err)
		}
		return segment{kind: segTimestamp, time: p}, nil
	case namespaceFirehose:
		switch value {
		case valueErrorType:
			return segment{kind: segErrorType}, nil
		case valueRandomString:
			return segment{kind: segRandomString}, nil
		}
		return segment{}, fmt.Errorf("unknown firehose namespace value %q: use %s or %s", value, valueErrorType, valueRandomString)
	case namespaceQueryKey:
		return segment{kind: segQueryKey, text: value}, nil
	case namespaceLambdaKey:
		return segment{kind: segLambdaKey, text: value}, nil
	}
	return segment{}, fmt.Errorf("unknown namespace %q: use %s", namespace, namespaceListForMsg)
}

func (t template) has(kind segmentKind) bool {
	for _, s := range t {
		if s.kind == kind {
			return true
		}
	}
	return false
}

func (t template) hasExpressions() bool {
	for _, s := range t {
		if s.kind != segLiteral {
			return true
		}
	}
	return false
}

// literalLength is the length of the template's literal text: a lower bound
// of every evaluation's length.
func (t template) literalLength() int {
	n := 0
	for _, s := range t {
		if s.kind == segLiteral && !s.implicit {
			n += len(s.text)
		}
	}
	return n
}

// keys lists the partition key names of kind, in order of first use.
func (t template) keys(kind segmentKind) []string {
	var out []string
	for _, s := range t {
		if s.kind == kind && !containsString(out, s.text) {
			out = append(out, s.text)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// evalInput is what one evaluation of a template may use.
type evalInput struct {
	time       time.Time // in the stream's time zone
	errorType  ErrorOutputType
	queryKeys  map[string]string
	lambdaKeys map[string]string
	random     func() (string, error)
}

func (t template) eval(in evalInput) (string, error) {
	var dst []byte
	explicitLength := 0
	for _, s := range t {
		before := len(dst)
		switch s.kind {
		case segLiteral:
			dst = append(dst, s.text...)
		case segTimestamp:
			dst = s.time.appendTo(dst, in.time)
		case segErrorType:
			dst = append(dst, in.errorType...)
		case segRandomString:
			r, err := in.random()
			if err != nil {
				return "", err
			}
			dst = append(dst, r...)
		case segQueryKey, segLambdaKey:
			keys, namespace := in.queryKeys, namespaceQueryKey
			if s.kind == segLambdaKey {
				keys, namespace = in.lambdaKeys, namespaceLambdaKey
			}
			v, ok := keys[s.text]
			if !ok || v == "" {
				return "", &ExtractError{Code: CodeMetadataExtractionFailed, Message: fmt.Sprintf("partitionKeys values must not be null or empty: no value for !{%s:%s}", namespace, s.text)}
			}
			dst = append(dst, v...)
		}
		if !s.implicit {
			explicitLength += len(dst) - before
		}
	}
	if explicitLength > maxEvaluatedPrefix {
		return "", fmt.Errorf("%w: the evaluated prefix is %d characters long; Firehose allows %d (shorten the prefix or the partition key values)", ErrPrefixTooLong, explicitLength, maxEvaluatedPrefix)
	}
	return string(dst), nil
}
