package parquetconv

import (
	"errors"
	"strings"
	"testing"
)

func TestParseType(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"string", "string"},
		{"STRING", "string"},
		{"varchar(255)", "string"},
		{"VARCHAR", "string"},
		{"char(3)", "string"},
		{"character varying(10)", "string"},
		{"int", "int"},
		{"INTEGER", "int"},
		{"smallint", "int"},
		{"TINYINT", "int"},
		{"bigint", "bigint"},
		{"float", "float"},
		{"REAL", "float"},
		{"double", "double"},
		{"DOUBLE PRECISION", "double"},
		{"boolean", "boolean"},
		{"BOOL", "boolean"},
		{"timestamp", "timestamp"},
		{"TIMESTAMP(3)", "timestamp"},
		{"date", "date"},
		{"decimal", "decimal(10,0)"},
		{"DECIMAL(10,2)", "decimal(10,2)"},
		{"numeric(38)", "decimal(38,0)"},
		{"decimal( 5 , 5 )", "decimal(5,5)"},
		{"array<string>", "array<string>"},
		{"array<struct<id:bigint,tags:map<string,string>>>", "array<struct<id:bigint,tags:map<string,string>>>"},
		{" map < int , array<double> > ", "map<int,array<double>>"},
		{"struct<`a b`:int,`x``y`:string>", "struct<`a b`:int,`x``y`:string>"},
		{"STRUCT<Name: VARCHAR(20), Age: SMALLINT>", "struct<Name:string,Age:int>"},
	} {
		got, err := ParseType(tc.in)
		if err != nil {
			t.Errorf("ParseType(%q): %v", tc.in, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("ParseType(%q) = %s, want %s", tc.in, got, tc.want)
		}
		again, err := ParseType(got.String())
		if err != nil || again.String() != got.String() {
			t.Errorf("ParseType(%q).String() = %q does not parse back the same: %v, %v", tc.in, got, again, err)
		}
	}
}

func TestParseTypeErrors(t *testing.T) {
	for _, tc := range []struct {
		in       string
		offset   int
		expected string
	}{
		{"", 0, "a type name"},
		{"strin", 0, "a type name"},
		{"array<int", 9, `">"`},
		{"array int", 6, `"<"`},
		{"map<array<int>,int>", 4, "a primitive map key"},
		{"map<string int>", 11, `","`},
		{"struct<>", 7, "a struct field name"},
		{"struct<a int>", 9, `":"`},
		{"struct<a:int,a:int>", 13, "not used before"},
		{"struct<a:int;b:int>", 12, `"," or ">"`},
		{"decimal(0,0)", 8, "precision from 1 to 38"},
		{"decimal(39)", 8, "precision from 1 to 38"},
		{"decimal(5,6)", 10, "scale no larger"},
		{"decimal(5", 9, `")"`},
		{"varchar(x)", 8, "a number"},
		{"int extra", 4, "end of type"},
		{"struct<`a:int>", 7, "closing backquote"},
		{strings.Repeat("array<", 70) + "int" + strings.Repeat(">", 70), 390, "levels of nesting"},
	} {
		_, err := ParseType(tc.in)
		var te *TypeError
		if !errors.As(err, &te) {
			t.Errorf("ParseType(%q) = %v, want a *TypeError", tc.in, err)
			continue
		}
		if te.Offset != tc.offset || !strings.Contains(te.Expected, tc.expected) {
			t.Errorf("ParseType(%q): offset %d expected %q, want offset %d expecting %q", tc.in, te.Offset, te.Expected, tc.offset, tc.expected)
		}
		if !strings.Contains(err.Error(), "offset") || !strings.Contains(err.Error(), "expected") {
			t.Errorf("ParseType(%q) error %q does not say where and what", tc.in, err)
		}
	}
}

func TestParseSchemaFile(t *testing.T) {
	ours := `{"columns":[{"name":"id","type":"bigint"},{"name":"tags","type":"array<string>"}]}`
	glue := `[{"Name":"id","Type":"bigint","Comment":"key"},{"Name":"tags","Type":"array<string>"}]`
	for _, in := range []string{ours, glue} {
		cols, err := ParseSchemaFile([]byte(in))
		if err != nil {
			t.Fatalf("ParseSchemaFile(%s): %v", in, err)
		}
		if len(cols) != 2 || cols[0].Name != "id" || cols[0].Type.Kind != KindBigint ||
			cols[1].Name != "tags" || cols[1].Type.String() != "array<string>" {
			t.Errorf("ParseSchemaFile(%s) = %+v", in, cols)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`{"columns":[{"name":"id","type":"bigint"},{"name":"price","type":"decimal(50,2)"}]}`, `column "price"`},
		{`[{"Name":"a","Type":"int"},{"Name":"A","Type":"int"}]`, `"A" has the same name as column 1`},
		{`[{"Name":"a","Type":""}]`, `column "a" has no type`},
		{`[{"Type":"int"}]`, "column 1 has no name"},
		{`{"cols":[]}`, `no "columns"`},
		{`[]`, "no columns"},
		{`"x"`, "expected"},
		{`{"columns":[{"name":1}]}`, "schema file"},
	} {
		_, err := ParseSchemaFile([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchemaFile(%s) = %v, want an error mentioning %q", tc.in, err, tc.want)
		}
	}
}
