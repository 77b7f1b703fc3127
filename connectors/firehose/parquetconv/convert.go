package parquetconv

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/eddy-streams/eddy/connectors/internal/jsonscan"
)

// converter turns one JSON object into the Parquet values of one row. It
// belongs to one Writer and reuses its buffers from record to record.
type converter struct {
	sd   *serde
	root *plan // a struct-like plan whose fields are the top-level columns
	// cols holds the buffered rows' values per leaf column; the Writer hands
	// them to parquet-go's column writers a batch of rows at a time.
	cols [][]parquet.Value
	// arena holds the bytes that the byte-array values of buffered rows point
	// into; the Writer empties it after each batch is handed to parquet-go.
	arena []byte
	// structs holds per-struct-plan scratch, indexed by plan.state.
	structs []structState
	num     decimalNumber
	dec     decimalValue
	key     []byte // scratch for normalized keys
	tmp     []byte // scratch for unescaped strings
}

// token kinds of a JSON value, by its first byte.
type token uint8

const (
	tokString token = iota
	tokNumber
	tokTrue
	tokFalse
	tokNull
	tokObject
	tokArray
)

func tokenAt(c byte) token {
	switch c {
	case '"':
		return tokString
	case 't':
		return tokTrue
	case 'f':
		return tokFalse
	case 'n':
		return tokNull
	case '{':
		return tokObject
	case '[':
		return tokArray
	}
	return tokNumber
}

var tokenNames = [...]string{
	tokString: "a string", tokNumber: "a number", tokTrue: "true", tokFalse: "false",
	tokNull: "null", tokObject: "an object", tokArray: "an array",
}

func newConverter(sd *serde, plans []*plan) (*converter, error) {
	// A column reads the JSON key its mapping names, else its own name.
	mapped := make(map[string]string, len(sd.keyMappings))
	for col, key := range sd.keyMappings {
		mapped[sd.normalizeName(col)] = key
	}
	root := &plan{fields: plans, fieldIndex: make(map[string]int, len(plans))}
	for i, p := range plans {
		key := sd.normalizeName(p.name)
		if jsonKey, ok := mapped[key]; ok {
			delete(mapped, key)
			key = sd.normalizeKey(jsonKey)
		}
		if prev, dup := root.fieldIndex[key]; dup {
			return nil, fmt.Errorf("parquetconv: options: columns %q and %q would both read JSON key %q; change ColumnToJSONKeyMappings", plans[prev].name, p.name, key)
		}
		root.fieldIndex[key] = i
	}
	for col := range mapped {
		return nil, fmt.Errorf("parquetconv: options: ColumnToJSONKeyMappings names column %q, which is not in the schema", col)
	}
	nleaves := 0
	if len(plans) > 0 {
		nleaves = plans[len(plans)-1].end
	}
	c := &converter{sd: sd, root: root, cols: make([][]parquet.Value, nleaves)}
	var addState func(p *plan)
	addState = func(p *plan) {
		if p.fields != nil {
			p.state = len(c.structs)
			c.structs = append(c.structs, structState{spans: make([]int, len(p.fields))})
		}
		for _, f := range p.fields {
			addState(f)
		}
		if p.elem != nil {
			addState(p.elem)
		}
	}
	addState(root)
	return c, nil
}

// structState is the scratch of one struct plan.
type structState struct {
	// spans holds the offset of each field's value in the object being
	// converted (-1 when absent).
	spans []int
	// keys remembers, by position in the object, the raw key seen there last
	// and its field: records of a stream mostly repeat one key order, so a
	// byte comparison usually replaces normalizing and hashing the key.
	keys []seenKey
}

type seenKey struct {
	raw   []byte
	field int // -1: not a column
}

// normalizeName is how a column or struct field name is matched.
func (sd *serde) normalizeName(name string) string {
	if sd.caseInsensitive {
		return strings.ToLower(name)
	}
	return name
}

// normalizeKey is how a JSON key is matched: dots to underscores (if
// configured), then lower case (if case-insensitive).
func (sd *serde) normalizeKey(key string) string {
	if sd.dotsToUnder {
		key = strings.ReplaceAll(key, ".", "_")
	}
	return sd.normalizeName(key)
}

// lookup finds the field of struct plan p that the raw JSON key names.
func (c *converter) lookup(p *plan, key []byte, flags uint8) (int, bool) {
	k := key
	if flags != 0 || c.sd.dotsToUnder || c.sd.caseInsensitive {
		c.key = c.key[:0]
		if flags != 0 {
			c.key = jsonscan.AppendUnescaped(c.key, key)
		} else {
			c.key = append(c.key, key...)
		}
		ascii := true
		for i, ch := range c.key {
			switch {
			case ch == '.' && c.sd.dotsToUnder:
				c.key[i] = '_'
			case ch >= 'A' && ch <= 'Z' && c.sd.caseInsensitive:
				c.key[i] = ch + 'a' - 'A'
			case ch >= utf8.RuneSelf:
				ascii = false
			}
		}
		k = c.key
		if !ascii && c.sd.caseInsensitive {
			idx, ok := p.fieldIndex[strings.ToLower(string(k))]
			return idx, ok
		}
	}
	idx, ok := p.fieldIndex[string(k)]
	return idx, ok
}

// object converts the JSON object at b[i] for struct plan p (or the root),
// checking all of it; rep is the repetition level of its first values.
func (c *converter) object(p *plan, b []byte, i, rep, depth int) (int, error) {
	st := &c.structs[p.state]
	spans := st.spans
	for k := range spans {
		spans[k] = -1
	}
	pos := 0
	end, err := jsonscan.ObjectFields(b, i, depth+1, func(key []byte, flags uint8, v int) (int, error) {
		idx := c.cachedLookup(p, st, pos, key, flags)
		pos++
		vend, err := jsonscan.SkipValue(b, v, depth+1)
		if idx >= 0 {
			spans[idx] = v // the last of duplicate keys wins
		}
		return vend, err
	})
	if err != nil {
		return 0, err
	}
	for k, f := range p.fields {
		if spans[k] < 0 {
			c.nulls(f, rep, f.def-1)
		} else if err := c.value(f, b, spans[k], rep, depth+1); err != nil {
			if fe, ok := err.(*fieldError); ok {
				return 0, fe.in(f.name)
			}
			return 0, err
		}
	}
	return end, nil
}

// cachedLookup is lookup, remembered by the key's position in the object.
func (c *converter) cachedLookup(p *plan, st *structState, pos int, key []byte, flags uint8) int {
	if pos < len(st.keys) && flags == 0 && string(st.keys[pos].raw) == string(key) {
		return st.keys[pos].field
	}
	idx, ok := c.lookup(p, key, flags)
	if !ok {
		idx = -1
	}
	if pos < len(st.keys) {
		st.keys[pos].raw = append(st.keys[pos].raw[:0], key...)
		st.keys[pos].field = idx
	} else if pos < maxRememberedKeys {
		st.keys = append(st.keys, seenKey{raw: append([]byte(nil), key...), field: idx})
	}
	if flags != 0 && pos < len(st.keys) {
		st.keys[pos].raw = st.keys[pos].raw[:0] // escaped keys are never remembered
		st.keys[pos].field = -1
	}
	return idx
}

// maxRememberedKeys bounds the key memory of objects with many fields.
const maxRememberedKeys = 256

func (c *converter) put(col int, v parquet.Value, rep, def int) {
	c.cols[col] = append(c.cols[col], v.Level(rep, def, col))
}

// nulls writes a null at definition level def to every leaf under p.
func (c *converter) nulls(p *plan, rep, def int) {
	for col := p.first; col < p.end; col++ {
		c.put(col, parquet.Value{}, rep, def)
	}
}

func mismatch(p *plan, t token) error {
	return &fieldError{problem: "expected " + expectedFor(p.typ) + " for " + p.typ.String() + ", found " + tokenNames[t]}
}

func expectedFor(t *Type) string {
	switch t.Kind {
	case KindArray:
		return "an array"
	case KindMap, KindStruct:
		return "an object"
	case KindBoolean:
		return `true, false or the string "true" or "false"`
	case KindString:
		return "a string, number or boolean"
	case KindTimestamp:
		return "a timestamp string or epoch number"
	case KindDate:
		return "a date string"
	}
	return "a number or a string holding one"
}

// value converts the (checked) JSON value at b[i] for plan p.
func (c *converter) value(p *plan, b []byte, i, rep, depth int) error {
	t := tokenAt(b[i])
	if t == tokNull {
		c.nulls(p, rep, p.def-1)
		return nil
	}
	switch p.typ.Kind {
	case KindStruct:
		if t != tokObject {
			return mismatch(p, t)
		}
		_, err := c.object(p, b, i, rep, depth)
		return err
	case KindArray:
		if t != tokArray {
			return mismatch(p, t)
		}
		return c.array(p, b, i, rep, depth)
	case KindMap:
		if t != tokObject {
			return mismatch(p, t)
		}
		return c.mapValue(p, b, i, rep, depth)
	}
	var text []byte
	switch t {
	case tokString:
		end, flags, _ := jsonscan.ScanString(b, i)
		text = b[i+1 : end-1]
		if flags&jsonscan.Escaped != 0 {
			c.tmp = jsonscan.AppendUnescaped(c.tmp[:0], text)
			text = c.tmp
		} else if p.typ.Kind == KindString && flags&jsonscan.NonASCII != 0 && !utf8.Valid(text) {
			c.tmp = jsonscan.AppendUnescaped(c.tmp[:0], text)
			text = c.tmp
		}
	case tokObject, tokArray:
		if p.typ.Kind != KindString || c.sd.hive {
			return mismatch(p, t)
		}
		end, _ := jsonscan.SkipValue(b, i, depth)
		text = b[i:end] // OpenX keeps a nested value in a string column as its JSON text
	default:
		end, _ := jsonscan.SkipValue(b, i, depth)
		text = b[i:end]
	}
	return c.primitive(p, t, text, rep)
}

// primitive converts one scalar (a string's content, or the text of a
// number, boolean or nested value) for primitive plan p.
func (c *converter) primitive(p *plan, t token, text []byte, rep int) error {
	isString := t == tokString
	var v parquet.Value
	switch p.typ.Kind {
	case KindString:
		start := len(c.arena)
		c.arena = append(c.arena, text...)
		v = parquet.ByteArrayValue(c.arena[start:len(c.arena):len(c.arena)])
	case KindInt, KindBigint:
		if !isString && t != tokNumber {
			return mismatch(p, t)
		}
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if p.typ.Kind == KindBigint {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		n, problem := parseInteger(text, &c.num, lo, hi)
		if problem != "" {
			return valueProblem(p, text, isString, problem)
		}
		if p.typ.Kind == KindInt {
			v = parquet.Int32Value(int32(n))
		} else {
			v = parquet.Int64Value(n)
		}
	case KindFloat, KindDouble:
		if !isString && t != tokNumber {
			return mismatch(p, t)
		}
		bits := 64
		if p.typ.Kind == KindFloat {
			bits = 32
		}
		f, problem := parseFloatText(text, bits, isString, &c.num)
		if problem != "" {
			return valueProblem(p, text, isString, problem)
		}
		if bits == 32 {
			v = parquet.FloatValue(float32(f))
		} else {
			v = parquet.DoubleValue(f)
		}
	case KindBoolean:
		switch {
		case t == tokTrue || isString && strings.EqualFold(unsafeString(text), "true"):
			v = parquet.BooleanValue(true)
		case t == tokFalse || isString && strings.EqualFold(unsafeString(text), "false"):
			v = parquet.BooleanValue(false)
		case isString:
			return valueProblem(p, text, true, `is not "true" or "false"`)
		default:
			return mismatch(p, t)
		}
	case KindTimestamp:
		if !isString && t != tokNumber {
			return mismatch(p, t)
		}
		us, ok := c.timestamp(text, isString)
		if !ok {
			return valueProblem(p, text, isString, "is not a timestamp in a form "+c.timestampForms())
		}
		v = parquet.Int64Value(us)
	case KindDate:
		if !isString {
			return mismatch(p, t)
		}
		d, ok := parseDate(text)
		if !ok {
			return valueProblem(p, text, true, "is not a date in the form yyyy-MM-dd")
		}
		v = parquet.Int32Value(d)
	case KindDecimal:
		if !isString && t != tokNumber {
			return mismatch(p, t)
		}
		if problem := parseDecimal(text, p.typ.Precision, p.typ.Scale, &c.num, &c.dec); problem != "" {
			return valueProblem(p, text, isString, problem)
		}
		switch {
		case p.typ.Precision <= 9:
			v = parquet.Int32Value(int32(c.dec.small))
		case p.typ.Precision <= 18:
			v = parquet.Int64Value(c.dec.small)
		default:
			start := len(c.arena)
			c.arena = appendTwosComplement(c.arena, c.dec.big, p.decBytes)
			v = parquet.FixedLenByteArrayValue(c.arena[start:len(c.arena):len(c.arena)])
		}
	}
	c.put(p.col, v, rep, p.def)
	return nil
}

// timestamp reads an input timestamp by the SerDe's rules (see the package
// documentation).
func (c *converter) timestamp(text []byte, isString bool) (int64, bool) {
	if !c.sd.hive {
		if us, ok := parseDateTime(text, true, true); ok {
			return us, true
		}
		return parseEpoch(text, &c.num, false)
	}
	for i := range c.sd.tsFormats {
		f := &c.sd.tsFormats[i]
		if f.millis {
			if us, ok := parseEpoch(text, &c.num, true); ok {
				return us, true
			}
			continue
		}
		if us, ok := f.parse(text); ok {
			return us, true
		}
	}
	return parseDateTime(text, false, false)
}

func (c *converter) timestampForms() string {
	if c.sd.hive {
		return "of the Hive SerDe's TimestampFormats or yyyy-MM-dd HH:mm:ss[.fffffffff]"
	}
	return "yyyy-MM-dd'T'HH:mm:ss[.fffffffff]['Z'], yyyy-MM-dd HH:mm:ss[.fffffffff] or epoch seconds or milliseconds"
}

func valueProblem(p *plan, text []byte, isString bool, problem string) error {
	shown := string(text)
	if len(shown) > 64 {
		shown = shown[:64] + "..."
	}
	if isString {
		shown = `"` + shown + `"`
	}
	return &fieldError{problem: "value " + shown + " " + problem + " for " + p.typ.String()}
}

func (c *converter) array(p *plan, b []byte, i, rep, depth int) error {
	n := 0
	_, err := jsonscan.ArrayElems(b, i, depth+1, func(k, at int) (int, error) {
		r := rep
		if k > 0 {
			r = p.repDepth
		}
		n++
		end, _ := jsonscan.SkipValue(b, at, depth+1)
		if err := c.value(p.elem, b, at, r, depth+1); err != nil {
			if fe, ok := err.(*fieldError); ok {
				return 0, fe.in("[" + itoa(k) + "]")
			}
			return 0, err
		}
		return end, nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		c.nulls(p.elem, rep, p.def) // an empty list: present, no elements
	}
	return nil
}

func (c *converter) mapValue(p *plan, b []byte, i, rep, depth int) error {
	n := 0
	_, err := jsonscan.ObjectFields(b, i, depth+1, func(key []byte, flags uint8, at int) (int, error) {
		r := rep
		if n > 0 {
			r = p.repDepth
		}
		n++
		text := key
		if flags != 0 {
			c.tmp = jsonscan.AppendUnescaped(c.tmp[:0], key)
			text = c.tmp
		}
		if err := c.primitive(p.key, tokString, text, r); err != nil {
			if fe, ok := err.(*fieldError); ok {
				return 0, fe.in("key " + string(key))
			}
			return 0, err
		}
		end, _ := jsonscan.SkipValue(b, at, depth+1)
		if err := c.value(p.elem, b, at, r, depth+1); err != nil {
			if fe, ok := err.(*fieldError); ok {
				return 0, fe.in("[" + string(key) + "]")
			}
			return 0, err
		}
		return end, nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		c.nulls(p.key, rep, p.def)
		c.nulls(p.elem, rep, p.def)
	}
	return nil
}

func itoa(k int) string {
	if k < 10 {
		return string(rune('0' + k))
	}
	return itoa(k/10) + string(rune('0'+k%10))
}
