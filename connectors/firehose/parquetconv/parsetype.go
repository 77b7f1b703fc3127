package parquetconv

import (
	"strconv"
	"strings"
)

// TypeError reports a type string that does not parse: the byte offset where
// parsing stopped and what was expected there.
type TypeError struct {
	Input    string
	Offset   int
	Expected string
	Found    string
}

func (e *TypeError) Error() string {
	return "parquetconv: type " + strconv.Quote(e.Input) + ": at offset " + strconv.Itoa(e.Offset) +
		": expected " + e.Expected + ", found " + e.Found
}

// maxTypeDepth bounds nesting so that Parquet definition levels (at most 255)
// and the converter's recursion stay bounded.
const maxTypeDepth = 64

// ParseType parses a column type as the Glue Data Catalog and Hive spell it
// (string, int, bigint, float, double, boolean, timestamp, date,
// decimal(p,s), array<T>, map<K,V>, struct<name:T,...>) or as eddy's SQL
// spells it: VARCHAR(n), CHAR(n), CHARACTER VARYING(n) and TEXT are string;
// INTEGER, SMALLINT and TINYINT are int; LONG is bigint; REAL is float; DOUBLE
// PRECISION is double; BOOL is boolean; TIMESTAMP(p) is timestamp; NUMERIC and
// DEC are decimal. Keywords are case-insensitive. Struct field names are plain
// names or `backquoted` (with “ for a backquote). Map keys must be
// primitive.
func ParseType(s string) (Type, error) {
	p := typeParser{in: s}
	t, err := p.parseType(0)
	if err != nil {
		return Type{}, err
	}
	p.skipSpace()
	if p.pos < len(p.in) {
		return Type{}, p.fail("end of type")
	}
	return t, nil
}

type typeParser struct {
	in  string
	pos int
}

func (p *typeParser) fail(expected string) error {
	found := "end of input"
	if p.pos < len(p.in) {
		end := p.pos + 1
		if isNameByte(p.in[p.pos]) {
			end = p.pos
			for end < len(p.in) && isNameByte(p.in[end]) {
				end++
			}
		}
		found = strconv.Quote(p.in[p.pos:end])
	}
	return &TypeError{Input: p.in, Offset: p.pos, Expected: expected, Found: found}
}

func (p *typeParser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// word reads the next run of name characters, lower-cased.
func (p *typeParser) word() string {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.in) && isNameByte(p.in[p.pos]) {
		p.pos++
	}
	return strings.ToLower(p.in[start:p.pos])
}

// peekWord says whether the next word is w (case-insensitively) and consumes
// it if so.
func (p *typeParser) acceptWord(w string) bool {
	save := p.pos
	if p.word() == w {
		return true
	}
	p.pos = save
	return false
}

func (p *typeParser) accept(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *typeParser) expect(c byte) error {
	if !p.accept(c) {
		return p.fail(strconv.Quote(string(c)))
	}
	return nil
}

// number reads a non-negative decimal integer of at most 4 digits.
func (p *typeParser) number() (int, error) {
	p.skipSpace()
	start := p.pos
	n := 0
	for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
		if p.pos-start == 4 {
			return 0, p.fail("a number below 10000")
		}
		n = n*10 + int(p.in[p.pos]-'0')
		p.pos++
	}
	if p.pos == start {
		return 0, p.fail("a number")
	}
	return n, nil
}

// optionalLength skips a length or precision argument such as VARCHAR(255)
// or TIMESTAMP(3), which the Parquet type does not keep.
func (p *typeParser) optionalLength() error {
	if !p.accept('(') {
		return nil
	}
	if _, err := p.number(); err != nil {
		return err
	}
	return p.expect(')')
}

func (p *typeParser) parseType(depth int) (Type, error) {
	if depth > maxTypeDepth {
		return Type{}, p.fail("at most " + strconv.Itoa(maxTypeDepth) + " levels of nesting")
	}
	p.skipSpace()
	start := p.pos
	name := p.word()
	switch name {
	case "string", "text":
		return Type{Kind: KindString}, nil
	case "varchar", "char":
		return Type{Kind: KindString}, p.optionalLength()
	case "character":
		p.acceptWord("varying")
		return Type{Kind: KindString}, p.optionalLength()
	case "int", "integer", "smallint", "tinyint", "int4", "int2":
		return Type{Kind: KindInt}, nil
	case "bigint", "long", "int8":
		return Type{Kind: KindBigint}, nil
	case "float", "real", "float4":
		return Type{Kind: KindFloat}, nil
	case "double", "float8":
		p.acceptWord("precision")
		return Type{Kind: KindDouble}, nil
	case "boolean", "bool":
		return Type{Kind: KindBoolean}, nil
	case "timestamp":
		return Type{Kind: KindTimestamp}, p.optionalLength()
	case "date":
		return Type{Kind: KindDate}, nil
	case "decimal", "numeric", "dec":
		return p.decimalArgs()
	case "array":
		if err := p.expect('<'); err != nil {
			return Type{}, err
		}
		elem, err := p.parseType(depth + 1)
		if err != nil {
			return Type{}, err
		}
		return Type{Kind: KindArray, Elem: &elem}, p.expect('>')
	case "map":
		if err := p.expect('<'); err != nil {
			return Type{}, err
		}
		keyAt := p.pos
		key, err := p.parseType(depth + 1)
		if err != nil {
			return Type{}, err
		}
		if !key.isPrimitive() {
			p.pos = keyAt
			p.skipSpace()
			return Type{}, p.fail("a primitive map key type")
		}
		if err := p.expect(','); err != nil {
			return Type{}, err
		}
		val, err := p.parseType(depth + 1)
		if err != nil {
			return Type{}, err
		}
		return Type{Kind: KindMap, Key: &key, Elem: &val}, p.expect('>')
	case "struct":
		return p.structFields(depth)
	}
	p.pos = start
	return Type{}, p.fail("a type name (string, int, bigint, float, double, boolean, timestamp, date, decimal, array, map or struct)")
}

func (p *typeParser) decimalArgs() (Type, error) {
	t := Type{Kind: KindDecimal, Precision: defaultDecimalPrecision}
	if !p.accept('(') {
		return t, nil
	}
	at := p.pos
	prec, err := p.number()
	if err != nil {
		return Type{}, err
	}
	if prec < 1 || prec > maxDecimalPrecision {
		p.pos = at
		p.skipSpace()
		return Type{}, p.fail("a decimal precision from 1 to 38")
	}
	t.Precision = prec
	if p.accept(',') {
		at = p.pos
		scale, err := p.number()
		if err != nil {
			return Type{}, err
		}
		if scale > prec {
			p.pos = at
			p.skipSpace()
			return Type{}, p.fail("a decimal scale no larger than the precision " + strconv.Itoa(prec))
		}
		t.Scale = scale
	}
	return t, p.expect(')')
}

func (p *typeParser) structFields(depth int) (Type, error) {
	if err := p.expect('<'); err != nil {
		return Type{}, err
	}
	t := Type{Kind: KindStruct}
	seen := map[string]bool{}
	for {
		p.skipSpace()
		at := p.pos
		name, err := p.fieldName()
		if err != nil {
			return Type{}, err
		}
		if seen[strings.ToLower(name)] {
			p.pos = at
			return Type{}, p.fail("a struct field name not used before in this struct")
		}
		seen[strings.ToLower(name)] = true
		if err := p.expect(':'); err != nil {
			return Type{}, err
		}
		ft, err := p.parseType(depth + 1)
		if err != nil {
			return Type{}, err
		}
		t.Fields = append(t.Fields, Column{Name: name, Type: ft})
		if p.accept('>') {
			return t, nil
		}
		if !p.accept(',') {
			return Type{}, p.fail(`"," or ">"`)
		}
	}
}

func (p *typeParser) fieldName() (string, error) {
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '`' {
		var b strings.Builder
		i := p.pos + 1
		for i < len(p.in) {
			if p.in[i] == '`' {
				if i+1 < len(p.in) && p.in[i+1] == '`' {
					b.WriteByte('`')
					i += 2
					continue
				}
				if b.Len() == 0 {
					return "", p.fail("a non-empty field name")
				}
				p.pos = i + 1
				return b.String(), nil
			}
			b.WriteByte(p.in[i])
			i++
		}
		return "", p.fail("a closing backquote")
	}
	start := p.pos
	for p.pos < len(p.in) && isNameByte(p.in[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", p.fail("a struct field name")
	}
	return p.in[start:p.pos], nil
}
