package parquetconv

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// The Parquet layout of each column type. Every column and struct field is
// OPTIONAL, as Firehose writes them, so a missing field or JSON null is a
// Parquet null:
//
//	string          BYTE_ARRAY (STRING)
//	int             INT32
//	bigint          INT64
//	float, double   FLOAT, DOUBLE
//	boolean         BOOLEAN
//	timestamp       INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true)
//	date            INT32 DATE
//	decimal(p,s)    INT32 (p <= 9), INT64 (p <= 18), else FIXED_LEN_BYTE_ARRAY
//	                of the fewest bytes that hold p digits; DECIMAL(p,s)
//	array<T>        LIST: repeated group list { optional T element }
//	map<K,V>        MAP: repeated group key_value { required K key; optional V value }
//	struct<...>     a group of the fields, in declared order

// plan is one node of the compiled schema: how to convert a JSON value to the
// Parquet values of the leaf columns under it.
type plan struct {
	name string
	typ  *Type
	// def is the definition level of a present (non-null) value of this node;
	// a null here is written at def-1.
	def int
	// repDepth is the repetition level of the innermost repeated group
	// enclosing this node's values (for arrays and maps: of their entries).
	repDepth int
	// col is the leaf column of a primitive; first and end bound the leaf
	// columns under any node.
	col, first, end int

	elem, key *plan   // array element / map value, map key
	fields    []*plan // struct fields, in declared order
	// fieldIndex finds a struct field by its normalized JSON key.
	fieldIndex map[string]int

	decBytes int // FIXED_LEN_BYTE_ARRAY width of a wide decimal
	state    int // index of a struct plan's scratch in its converter
}

type schemaBuilder struct {
	serde    *serde
	dict     bool
	nextCol  int
	maxLevel int
}

// compileSchema builds the Parquet schema and the conversion plans of the
// top-level columns.
func compileSchema(cols []Column, sd *serde, dict bool) (*parquet.Schema, []*plan, error) {
	if len(cols) == 0 {
		return nil, nil, fmt.Errorf("parquetconv: schema has no columns; declare at least one")
	}
	b := schemaBuilder{serde: sd, dict: dict}
	root := &orderedGroup{}
	plans := make([]*plan, 0, len(cols))
	seen := map[string]bool{}
	for i := range cols {
		c := &cols[i]
		if c.Name == "" {
			return nil, nil, fmt.Errorf("parquetconv: schema column %d has no name", i+1)
		}
		if seen[strings.ToLower(c.Name)] {
			return nil, nil, fmt.Errorf("parquetconv: schema column %q is declared twice (names are case-insensitive)", c.Name)
		}
		seen[strings.ToLower(c.Name)] = true
		node, p, err := b.build(c.Name, &c.Type, 1, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("parquetconv: schema column %q: %w", c.Name, err)
		}
		root.fields = append(root.fields, &namedField{Node: parquet.Optional(node), name: c.Name})
		plans = append(plans, p)
	}
	if b.maxLevel > parquet.MaxDefinitionLevel {
		return nil, nil, fmt.Errorf("parquetconv: schema nests too deeply: %d definition levels, Parquet allows %d", b.maxLevel, parquet.MaxDefinitionLevel)
	}
	if b.nextCol > parquet.MaxColumnIndex+1 {
		return nil, nil, fmt.Errorf("parquetconv: schema has %d leaf columns, Parquet writers here allow %d", b.nextCol, parquet.MaxColumnIndex+1)
	}
	return parquet.NewSchema("schema", root), plans, nil
}

// build returns the (not yet optional) Parquet node for t and its plan; def is
// the definition level of a present value, rep the enclosing repetition depth.
func (b *schemaBuilder) build(name string, t *Type, def, rep int) (parquet.Node, *plan, error) {
	p := &plan{name: name, typ: t, def: def, repDepth: rep, first: b.nextCol}
	if def > b.maxLevel {
		b.maxLevel = def
	}
	var node parquet.Node
	switch {
	case t.Kind == KindArray && t.Elem == nil:
		return nil, nil, fmt.Errorf("array type has no element type (set Type.Elem)")
	case t.Kind == KindMap && (t.Key == nil || t.Elem == nil):
		return nil, nil, fmt.Errorf("map type needs Type.Key and Type.Elem")
	case t.Kind == KindMap && !t.Key.isPrimitive():
		return nil, nil, fmt.Errorf("map key type %s is not primitive", t.Key)
	}
	switch t.Kind {
	case KindArray:
		// optional list (def) -> repeated list (def+1, rep+1) -> optional element (def+2)
		p.repDepth = rep + 1
		en, ep, err := b.build("element", t.Elem, def+2, rep+1)
		if err != nil {
			return nil, nil, err
		}
		p.elem = ep
		node = parquet.List(parquet.Optional(en))
	case KindMap:
		p.repDepth = rep + 1
		kn, kp, err := b.build("key", t.Key, def+1, rep+1) // required key
		if err != nil {
			return nil, nil, err
		}
		vn, vp, err := b.build("value", t.Elem, def+2, rep+1)
		if err != nil {
			return nil, nil, err
		}
		p.key, p.elem = kp, vp
		node = parquet.Map(kn, parquet.Optional(vn))
	case KindStruct:
		if len(t.Fields) == 0 {
			return nil, nil, fmt.Errorf("struct has no fields")
		}
		g := &orderedGroup{}
		p.fieldIndex = make(map[string]int, len(t.Fields))
		for i := range t.Fields {
			f := &t.Fields[i]
			fn, fp, err := b.build(f.Name, &f.Type, def+1, rep)
			if err != nil {
				return nil, nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			key := b.serde.normalizeName(f.Name)
			if _, dup := p.fieldIndex[key]; dup {
				return nil, nil, fmt.Errorf("field %q is declared twice", f.Name)
			}
			p.fieldIndex[key] = i
			p.fields = append(p.fields, fp)
			g.fields = append(g.fields, &namedField{Node: parquet.Optional(fn), name: f.Name})
		}
		node = g
	default:
		leaf, err := leafNode(p, t)
		if err != nil {
			return nil, nil, err
		}
		if b.dict {
			leaf = parquet.Encoded(leaf, &parquet.RLEDictionary)
		}
		p.col = b.nextCol
		b.nextCol++
		node = leaf
	}
	p.end = b.nextCol
	return node, p, nil
}

func leafNode(p *plan, t *Type) (parquet.Node, error) {
	switch t.Kind {
	case KindString:
		return parquet.String(), nil
	case KindInt:
		return parquet.Leaf(parquet.Int32Type), nil
	case KindBigint:
		return parquet.Leaf(parquet.Int64Type), nil
	case KindFloat:
		return parquet.Leaf(parquet.FloatType), nil
	case KindDouble:
		return parquet.Leaf(parquet.DoubleType), nil
	case KindBoolean:
		return parquet.Leaf(parquet.BooleanType), nil
	case KindTimestamp:
		return parquet.Timestamp(parquet.Microsecond), nil
	case KindDate:
		return parquet.Date(), nil
	case KindDecimal:
		if t.Precision < 1 || t.Precision > maxDecimalPrecision || t.Scale < 0 || t.Scale > t.Precision {
			return nil, fmt.Errorf("decimal(%d,%d): precision must be 1 to 38 and scale 0 to the precision", t.Precision, t.Scale)
		}
		switch {
		case t.Precision <= 9:
			return parquet.Decimal(t.Scale, t.Precision, parquet.Int32Type), nil
		case t.Precision <= 18:
			return parquet.Decimal(t.Scale, t.Precision, parquet.Int64Type), nil
		}
		p.decBytes = decimalBytes(t.Precision)
		return parquet.Decimal(t.Scale, t.Precision, parquet.FixedLenByteArrayType(p.decBytes)), nil
	}
	return nil, fmt.Errorf("unknown column kind %v", t.Kind)
}

// decimalBytes is the fewest bytes whose two's complement holds every
// precision-digit number.
func decimalBytes(precision int) int {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	for n := 1; ; n++ {
		if new(big.Int).Lsh(big.NewInt(1), uint(8*n-1)).Cmp(limit) >= 0 {
			return n
		}
	}
}

// orderedGroup is a Parquet group whose fields keep their declared order
// (parquet.Group is a map and sorts its fields by name).
type orderedGroup struct{ fields []parquet.Field }

func (g *orderedGroup) ID() int                     { return 0 }
func (g *orderedGroup) String() string              { return parquet.Group(g.asMap()).String() }
func (g *orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g *orderedGroup) Optional() bool              { return false }
func (g *orderedGroup) Repeated() bool              { return false }
func (g *orderedGroup) Required() bool              { return true }
func (g *orderedGroup) Leaf() bool                  { return false }
func (g *orderedGroup) Fields() []parquet.Field     { return g.fields }
func (g *orderedGroup) Encoding() encoding.Encoding { return nil }
func (g *orderedGroup) Compression() compress.Codec { return nil }
func (g *orderedGroup) GoType() reflect.Type        { return parquet.Group(g.asMap()).GoType() }
func (g *orderedGroup) asMap() map[string]parquet.Node {
	m := make(map[string]parquet.Node, len(g.fields))
	for _, f := range g.fields {
		m[f.Name()] = f
	}
	return m
}

// namedField names a node inside an orderedGroup.
type namedField struct {
	parquet.Node
	name string
}

func (f *namedField) Name() string { return f.name }

// Value is only used when parquet-go deconstructs Go values, which this
// package never asks it to do.
func (f *namedField) Value(reflect.Value) reflect.Value { return reflect.Value{} }
