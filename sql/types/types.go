// Package types owns eddy's logical SQL types and how each one is held in Arrow.
// Every layer (binder, planner, operators, connectors) agrees on types through
// this package, so a column's Arrow representation is decided in one place.
package types

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is a logical type without its parameters.
type Kind uint8

// The logical types. Integers are all 64-bit: INT, INTEGER, SMALLINT and TINYINT
// are accepted as names of BIGINT.
const (
	Null      Kind = iota // the type of a bare NULL literal before it is coerced
	Boolean               // arrow.Boolean
	BigInt                // arrow.Int64
	Double                // arrow.Float64 (REAL and FLOAT are names of DOUBLE)
	Decimal               // arrow.Decimal128 with Precision and Scale
	Varchar               // arrow.String
	Timestamp             // arrow.Timestamp, milliseconds, UTC (TIMESTAMP(3))
	JSON                  // arrow.String holding JSON text; field metadata eddy.type=json
	Interval              // a day-time interval in milliseconds (arrow.Int64); literals only
)

// Type is a logical type. Precision and Scale are set for Decimal only.
type Type struct {
	Kind      Kind
	Precision int32
	Scale     int32
}

// Convenience values for the parameterless types.
var (
	NullType      = Type{Kind: Null}
	BooleanType   = Type{Kind: Boolean}
	BigIntType    = Type{Kind: BigInt}
	DoubleType    = Type{Kind: Double}
	VarcharType   = Type{Kind: Varchar}
	TimestampType = Type{Kind: Timestamp}
	JSONType      = Type{Kind: JSON}
	IntervalType  = Type{Kind: Interval}
)

// DecimalType returns DECIMAL(p, s).
func DecimalType(p, s int32) Type { return Type{Kind: Decimal, Precision: p, Scale: s} }

// MaxDecimalPrecision is the largest precision a DECIMAL may have (Decimal128).
const MaxDecimalPrecision = 38

func (t Type) String() string {
	switch t.Kind {
	case Null:
		return "NULL"
	case Boolean:
		return "BOOLEAN"
	case BigInt:
		return "BIGINT"
	case Double:
		return "DOUBLE"
	case Decimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case Varchar:
		return "VARCHAR"
	case Timestamp:
		return "TIMESTAMP(3)"
	case JSON:
		return "JSON"
	case Interval:
		return "INTERVAL"
	}
	return fmt.Sprintf("Kind(%d)", t.Kind)
}

// IsNumeric says whether arithmetic applies.
func (t Type) IsNumeric() bool {
	return t.Kind == BigInt || t.Kind == Double || t.Kind == Decimal
}

// IsString says whether the type is held as text (VARCHAR or JSON).
func (t Type) IsString() bool { return t.Kind == Varchar || t.Kind == JSON }

// MetadataKey is the Arrow field metadata key that tells JSON from VARCHAR.
const MetadataKey = "eddy.type"

// Arrow returns the Arrow type that holds values of t.
func (t Type) Arrow() arrow.DataType {
	switch t.Kind {
	case Boolean:
		return arrow.FixedWidthTypes.Boolean
	case BigInt, Interval:
		return arrow.PrimitiveTypes.Int64
	case Double:
		return arrow.PrimitiveTypes.Float64
	case Decimal:
		return &arrow.Decimal128Type{Precision: t.Precision, Scale: t.Scale}
	case Varchar, JSON:
		return arrow.BinaryTypes.String
	case Timestamp:
		return arrow.FixedWidthTypes.Timestamp_ms
	}
	return arrow.Null
}

// Field returns the Arrow field of a column named name of type t (always nullable).
func Field(name string, t Type) arrow.Field {
	f := arrow.Field{Name: name, Type: t.Arrow(), Nullable: true}
	if t.Kind == JSON {
		f.Metadata = arrow.NewMetadata([]string{MetadataKey}, []string{"json"})
	}
	return f
}

// FromField recovers the logical type of an Arrow field made by Field.
func FromField(f arrow.Field) (Type, error) {
	switch dt := f.Type.(type) {
	case *arrow.BooleanType:
		return BooleanType, nil
	case *arrow.Int64Type:
		return BigIntType, nil
	case *arrow.Float64Type:
		return DoubleType, nil
	case *arrow.Decimal128Type:
		return DecimalType(dt.Precision, dt.Scale), nil
	case *arrow.StringType:
		if v, ok := f.Metadata.GetValue(MetadataKey); ok && v == "json" {
			return JSONType, nil
		}
		return VarcharType, nil
	case *arrow.TimestampType:
		return TimestampType, nil
	case *arrow.NullType:
		return NullType, nil
	}
	return Type{}, fmt.Errorf("column %s: Arrow type %s has no SQL type in eddy", f.Name, f.Type)
}

// Column is a named, typed column.
type Column struct {
	Name string
	Type Type
}

// Schema is an ordered list of columns. Names compare case-insensitively.
type Schema []Column

// Index returns the position of the column named name, or -1.
func (s Schema) Index(name string) int {
	for i, c := range s {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// Arrow returns the Arrow schema of s.
func (s Schema) Arrow() *arrow.Schema {
	fields := make([]arrow.Field, len(s))
	for i, c := range s {
		fields[i] = Field(c.Name, c.Type)
	}
	return arrow.NewSchema(fields, nil)
}

// FromArrow recovers a Schema from an Arrow schema made by Schema.Arrow.
func FromArrow(as *arrow.Schema) (Schema, error) {
	out := make(Schema, as.NumFields())
	for i, f := range as.Fields() {
		t, err := FromField(f)
		if err != nil {
			return nil, err
		}
		out[i] = Column{Name: f.Name, Type: t}
	}
	return out, nil
}

// Parse reads a type name as written in DDL or CAST: BOOLEAN, BIGINT (INT,
// INTEGER, SMALLINT, TINYINT), DOUBLE (REAL, FLOAT, DOUBLE PRECISION),
// DECIMAL(p,s) (NUMERIC; DECIMAL alone is DECIMAL(38,18)), VARCHAR[(n)] (STRING,
// CHAR[(n)], TEXT), TIMESTAMP[(3)], JSON. Case does not matter.
func Parse(name string) (Type, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(name), " "))
	base, args := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return Type{}, fmt.Errorf("type %q: unbalanced parentheses", name)
		}
		base, args = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	noArgs := func(t Type) (Type, error) {
		if args != "" {
			return Type{}, fmt.Errorf("type %s takes no parameters, got %q", base, name)
		}
		return t, nil
	}
	switch base {
	case "BOOLEAN", "BOOL":
		return noArgs(BooleanType)
	case "BIGINT", "INT", "INTEGER", "SMALLINT", "TINYINT":
		return noArgs(BigIntType)
	case "DOUBLE", "REAL", "FLOAT", "DOUBLE PRECISION":
		return noArgs(DoubleType)
	case "JSON":
		return noArgs(JSONType)
	case "VARCHAR", "CHAR", "STRING", "TEXT", "CHARACTER VARYING":
		if args != "" {
			if n, err := strconv.Atoi(strings.TrimSpace(args)); err != nil || n < 1 {
				return Type{}, fmt.Errorf("type %q: the length must be a positive integer", name)
			}
		}
		return VarcharType, nil
	case "TIMESTAMP":
		if args != "" && strings.TrimSpace(args) != "3" {
			return Type{}, fmt.Errorf("type %q: only TIMESTAMP(3), millisecond precision, is supported", name)
		}
		return TimestampType, nil
	case "DECIMAL", "NUMERIC", "DEC":
		if args == "" {
			return DecimalType(38, 18), nil
		}
		ps := strings.Split(args, ",")
		if len(ps) > 2 {
			return Type{}, fmt.Errorf("type %q: DECIMAL takes (precision[, scale])", name)
		}
		p, err := strconv.Atoi(strings.TrimSpace(ps[0]))
		if err != nil || p < 1 || p > MaxDecimalPrecision {
			return Type{}, fmt.Errorf("type %q: precision must be 1 to %d", name, MaxDecimalPrecision)
		}
		sc := 0
		if len(ps) == 2 {
			sc, err = strconv.Atoi(strings.TrimSpace(ps[1]))
			if err != nil || sc < 0 || sc > p {
				return Type{}, fmt.Errorf("type %q: scale must be 0 to the precision %d", name, p)
			}
		}
		return DecimalType(int32(p), int32(sc)), nil
	}
	return Type{}, fmt.Errorf("unknown type %q; eddy has BOOLEAN, BIGINT, DOUBLE, DECIMAL(p,s), VARCHAR, TIMESTAMP(3) and JSON", name)
}
