package parquetconv

import (
	"strconv"
	"strings"
)

// Kind names a column type as Hive and the Glue Data Catalog spell it.
type Kind uint8

// The column kinds. SQL spellings map onto these (see ParseType).
const (
	KindString Kind = iota + 1
	KindInt
	KindBigint
	KindFloat
	KindDouble
	KindBoolean
	KindTimestamp
	KindDate
	KindDecimal
	KindArray
	KindMap
	KindStruct
)

var kindNames = [...]string{
	KindString:    "string",
	KindInt:       "int",
	KindBigint:    "bigint",
	KindFloat:     "float",
	KindDouble:    "double",
	KindBoolean:   "boolean",
	KindTimestamp: "timestamp",
	KindDate:      "date",
	KindDecimal:   "decimal",
	KindArray:     "array",
	KindMap:       "map",
	KindStruct:    "struct",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Type is a column type. Precision and Scale are set for decimals; Elem for
// arrays (the element) and maps (the value); Key for maps; Fields for structs.
type Type struct {
	Kind      Kind
	Precision int
	Scale     int
	Elem      *Type
	Key       *Type
	Fields    []Column
}

// Column is one named column (or struct field) of a schema.
type Column struct {
	Name string
	Type Type
}

// Limits on decimals, as Hive has them.
const (
	maxDecimalPrecision     = 38
	defaultDecimalPrecision = 10 // Hive's DECIMAL with no arguments is DECIMAL(10,0)
)

// String spells t as Hive does, for example array<struct<id:bigint>>. The
// result parses back to t with ParseType.
func (t Type) String() string {
	var b strings.Builder
	t.appendTo(&b)
	return b.String()
}

func (t Type) appendTo(b *strings.Builder) {
	switch t.Kind {
	case KindDecimal:
		b.WriteString("decimal(")
		b.WriteString(strconv.Itoa(t.Precision))
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(t.Scale))
		b.WriteByte(')')
	case KindArray:
		b.WriteString("array<")
		t.Elem.appendTo(b)
		b.WriteByte('>')
	case KindMap:
		b.WriteString("map<")
		t.Key.appendTo(b)
		b.WriteByte(',')
		t.Elem.appendTo(b)
		b.WriteByte('>')
	case KindStruct:
		b.WriteString("struct<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			if isPlainName(f.Name) {
				b.WriteString(f.Name)
			} else {
				b.WriteByte('`')
				b.WriteString(strings.ReplaceAll(f.Name, "`", "``"))
				b.WriteByte('`')
			}
			b.WriteByte(':')
			f.Type.appendTo(b)
		}
		b.WriteByte('>')
	default:
		b.WriteString(t.Kind.String())
	}
}

// isPlainName says whether a struct field name can be written without
// backquotes.
func isPlainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (t Type) isPrimitive() bool { return t.Kind < KindArray }
