package sql

import "testing"

func TestComplete(t *testing.T) {
	for text, want := range map[string]bool{
		"":                               false,
		"SELECT 1":                       false,
		"SELECT 1;":                      true,
		"SELECT 1;  \n":                  true,
		"SELECT ';'":                     false,
		"SELECT ';';":                    true,
		"SELECT 1; -- done":              true,
		"SELECT 1 -- not yet;":           false,
		"SELECT 1 /* ; */":               false,
		"SELECT 1 /* open ;":             false,
		"SELECT \"a;b\"":                 false,
		"SELECT 'it''s';":                true,
		"SELECT 1;\nSELECT":              false,
		"SELECT 1;\nSELECT 2;":           true,
		"SELECT 'unterminated;":          false,
		"SELECT 1; /* trailing */ \n\t ": true,
	} {
		if got := Complete(text); got != want {
			t.Errorf("Complete(%q) = %v, want %v", text, got, want)
		}
	}
}
