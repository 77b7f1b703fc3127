package sql

import (
	"strings"
	"testing"
)

func TestSetStatement(t *testing.T) {
	good := map[string][2]string{
		"SET checkpoint_interval = '10 seconds'":        {"checkpoint_interval", "10 seconds"},
		"set Application_Name = 'Clicks'":               {"application_name", "Clicks"},
		"SET 'execution.checkpointing.interval' = '1s'": {"execution.checkpointing.interval", "1s"},
		"SET checkpoint.kept = 5":                       {"checkpoint.kept", "5"},
		"SET flag = TRUE":                               {"flag", "TRUE"},
	}
	for text, want := range good {
		stmts, err := Compile("app.sql", text, NewCatalog())
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		s, ok := stmts[0].(*Set)
		if !ok || s.Key != want[0] || s.Value != want[1] {
			t.Fatalf("%s: got %#v, want key %q value %q", text, stmts[0], want[0], want[1])
		}
	}
	bad := map[string]string{
		"SET":                  "expected a setting name after SET",
		"SET a 'x'":            "expected = after SET a",
		"SET a =":              "expected the value of a",
		"SET a = 'x' 'y'":      "one setting per SET statement",
		"SET a. = 'x'":         "expected a setting name",
		"SET a = 'x', b = 'y'": "one setting per SET statement",
	}
	for text, want := range bad {
		_, err := Compile("app.sql", text, NewCatalog())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", text, err, want)
		}
	}
}
