package layout

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Query is a parsed MetadataExtractionQuery: the jq (JQ-1.6) object
// construction that dynamic partitioning evaluates on every JSON record, such
// as {customer_id: .customer_id, device: .type.device}.
//
// eddy implements the forms Firehose's docs use: keys as identifiers or JSON
// strings, the {customer_id} shorthand for {customer_id: .customer_id}, and
// values that are paths (.a, .a.b, ."a b", .["a b"], .a[0]) optionally piped
// into more paths, strftime("...") (on epoch seconds, in UTC) or tostring,
// as in .event_timestamp|strftime("%Y"). Anything else is a ConfigError
// naming the offset, not a silent misreading.
type Query struct {
	text  string
	keys  []string
	exprs map[string][]queryStage
}

// queryStage is one stage of a key's pipeline: a path, or a function.
type queryStage struct {
	path     []pathStep
	function string // "" for a path; "strftime" or "tostring"
	format   []strftimeField
}

type pathStep struct {
	key     string
	index   int
	isIndex bool
}

// maxQueryLength is the API's limit on a processor parameter value.
const maxQueryLength = 5120

// ParseQuery parses a MetadataExtractionQuery. Errors wrap ErrInvalidArgument.
func ParseQuery(text string) (*Query, error) {
	if len(text) > maxQueryLength {
		return nil, configErrorf("MetadataExtractionQuery", "is %d characters long; the limit is %d", len(text), maxQueryLength)
	}
	p := &queryParser{s: text}
	q, err := p.parseQuery()
	if err != nil {
		return nil, configErrorf("MetadataExtractionQuery", "%v (at offset %d of %q; eddy supports {key: .path, key2: .path | strftime(\"%%Y\")})", err, p.pos, text)
	}
	q.text = text
	return q, nil
}

// Keys returns the partition key names, in the order the query defines them.
func (q *Query) Keys() []string { return append([]string(nil), q.keys...) }

// String returns the query's text.
func (q *Query) String() string { return q.text }

type queryParser struct {
	s   string
	pos int
}

func (p *queryParser) skipSpace() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *queryParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *queryParser) expect(c byte) error {
	p.skipSpace()
	if p.peek() != c {
		return p.unexpected(fmt.Sprintf("%q", c))
	}
	p.pos++
	return nil
}

func (p *queryParser) unexpected(want string) error {
	if p.pos >= len(p.s) {
		return fmt.Errorf("the query ends where %s should follow", want)
	}
	return fmt.Errorf("found %q where %s should be", p.s[p.pos], want)
}

func (p *queryParser) parseQuery() (*Query, error) {
	q := &Query{exprs: map[string][]queryStage{}}
	if err := p.expect('{'); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() == '}' {
		return nil, fmt.Errorf("the query defines no partition keys")
	}
	for {
		p.skipSpace()
		key, shorthand, err := p.parseKey()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		var stages []queryStage
		if p.peek() == ':' {
			p.pos++
			if stages, err = p.parsePipeline(); err != nil {
				return nil, err
			}
		} else {
			if !shorthand {
				return nil, p.unexpected(`":" and a value`)
			}
			stages = []queryStage{{path: []pathStep{{key: key}}}}
		}
		if _, dup := q.exprs[key]; !dup {
			q.keys = append(q.keys, key)
		}
		q.exprs[key] = stages // as in jq, a repeated key keeps the last value
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
			p.skipSpace()
			if p.pos != len(p.s) {
				return nil, p.unexpected("the end of the query")
			}
			return q, nil
		}
		return nil, p.unexpected(`"," or "}"`)
	}
}

// parseKey reads an object key: an identifier (which may stand alone as the
// shorthand {key}) or a JSON string.
func (p *queryParser) parseKey() (key string, ident bool, err error) {
	if p.peek() == '"' {
		s, err := p.parseString()
		if err != nil {
			return "", false, err
		}
		if s == "" {
			return "", false, fmt.Errorf("a partition key name is empty")
		}
		return s, false, nil
	}
	if id := p.parseIdent(); id != "" {
		return id, true, nil
	}
	return "", false, p.unexpected("a key name")
}

func isIdentStart(c byte) bool { return c == '_' || isASCIILetter(c) }
func isIdentByte(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

func (p *queryParser) parseIdent() string {
	start := p.pos
	if !isIdentStart(p.peek()) {
		return ""
	}
	for p.pos < len(p.s) && isIdentByte(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// parseString reads a JSON string literal (jq's string syntax without
// interpolation).
func (p *queryParser) parseString() (string, error) {
	start := p.pos
	p.pos++
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case '\\':
			p.pos += 2
			continue
		case '"':
			p.pos++
			var out string
			if err := json.Unmarshal([]byte(p.s[start:p.pos]), &out); err != nil {
				p.pos = start
				return "", fmt.Errorf("invalid string literal %s", p.s[start:min(len(p.s), start+40)])
			}
			return out, nil
		}
		p.pos++
	}
	p.pos = start
	return "", fmt.Errorf("a string literal is not closed")
}

func (p *queryParser) parsePipeline() ([]queryStage, error) {
	var stages []queryStage
	for {
		p.skipSpace()
		st, err := p.parseStage()
		if err != nil {
			return nil, err
		}
		stages = append(stages, st)
		p.skipSpace()
		if p.peek() != '|' {
			return stages, nil
		}
		p.pos++
	}
}

func (p *queryParser) parseStage() (queryStage, error) {
	if p.peek() == '.' {
		path, err := p.parsePath()
		return queryStage{path: path}, err
	}
	start := p.pos
	switch name := p.parseIdent(); name {
	case "tostring":
		return queryStage{function: name}, nil
	case "strftime":
		if err := p.expect('('); err != nil {
			return queryStage{}, err
		}
		p.skipSpace()
		if p.peek() != '"' {
			return queryStage{}, p.unexpected("a format string")
		}
		fmtStart := p.pos
		format, err := p.parseString()
		if err != nil {
			return queryStage{}, err
		}
		fields, err := compileStrftime(format)
		if err != nil {
			p.pos = fmtStart
			return queryStage{}, err
		}
		if err := p.expect(')'); err != nil {
			return queryStage{}, err
		}
		return queryStage{function: name, format: fields}, nil
	case "":
		return queryStage{}, p.unexpected("a path such as .field")
	default:
		p.pos = start
		return queryStage{}, fmt.Errorf("the jq function %s is not supported (eddy supports paths, strftime and tostring)", name)
	}
}

// parsePath reads ".", ".a", ".a.b", ".\"a\"", ".[\"a\"]", ".a[0]" and the like.
func (p *queryParser) parsePath() ([]pathStep, error) {
	var steps []pathStep
	p.pos++ // the leading '.'
	first := true
	for {
		switch c := p.peek(); {
		case c == '[':
			p.pos++
			p.skipSpace()
			step, err := p.parseBracket()
			if err != nil {
				return nil, err
			}
			if err := p.expect(']'); err != nil {
				return nil, err
			}
			steps = append(steps, step)
		case first && (c == '"' || isIdentStart(c)):
			step, err := p.parseField()
			if err != nil {
				return nil, err
			}
			steps = append(steps, step)
		case c == '.' && !first:
			p.pos++
			c2 := p.peek()
			if c2 != '"' && !isIdentStart(c2) {
				return nil, p.unexpected("a field name after .")
			}
			step, err := p.parseField()
			if err != nil {
				return nil, err
			}
			steps = append(steps, step)
		default:
			return steps, nil
		}
		first = false
	}
}

func (p *queryParser) parseField() (pathStep, error) {
	if p.peek() == '"' {
		s, err := p.parseString()
		return pathStep{key: s}, err
	}
	return pathStep{key: p.parseIdent()}, nil
}

func (p *queryParser) parseBracket() (pathStep, error) {
	if p.peek() == '"' {
		s, err := p.parseString()
		return pathStep{key: s}, err
	}
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.pos == start && p.s[p.pos] == '-') {
		p.pos++
	}
	n, err := strconv.Atoi(p.s[start:p.pos])
	if err != nil {
		p.pos = start
		return pathStep{}, p.unexpected("a string or an array index inside [ ]")
	}
	return pathStep{index: n, isIndex: true}, nil
}
