package sql

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // the statements' original text
		err        string
	}{
		{"two", "SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}, ""},
		{"final without semicolon", "SELECT 1;\n  SELECT 2  \n", []string{"SELECT 1", "SELECT 2"}, ""},
		{"empty statements", ";; ;\n-- only a comment\n;/* c */;", nil, ""},
		{"semicolon in string", "SELECT 'a;b' FROM s; SELECT 2", []string{"SELECT 'a;b' FROM s", "SELECT 2"}, ""},
		{"doubled quote", "SELECT 'it''s; fine'; SELECT 2", []string{"SELECT 'it''s; fine'", "SELECT 2"}, ""},
		{"quoted identifier", `SELECT "a;b" FROM "x""y;z"; SELECT 2`, []string{`SELECT "a;b" FROM "x""y;z"`, "SELECT 2"}, ""},
		{"line comment", "SELECT 1 -- not; here\n FROM s; SELECT 2", []string{"SELECT 1 -- not; here\n FROM s", "SELECT 2"}, ""},
		{"block comment", "SELECT /* a; 'b */ 1; SELECT 2", []string{"SELECT /* a; 'b */ 1", "SELECT 2"}, ""},
		{"comment markers in strings", "SELECT '--', '/*' FROM s; SELECT 2", []string{"SELECT '--', '/*' FROM s", "SELECT 2"}, ""},
		{"leading comment", "/* x */ SELECT 1", []string{"SELECT 1"}, ""},
		{"unterminated string", "SELECT 1; SELECT 'abc", []string{"SELECT 1"}, "a.sql:1:18: unterminated string literal"},
		{"unterminated identifier", `SELECT "abc`, nil, `a.sql:1:8: unterminated quoted identifier`},
		{"unterminated comment", "SELECT 1 /* abc", nil, "a.sql:1:10: unterminated comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource("a.sql", tc.text)
			stmts := split(src)
			var got []string
			for _, s := range stmts {
				got = append(got, tc.text[s.start:s.end])
				if len(s.code) != s.end-s.start {
					t.Errorf("code %q has another length than its text", s.code)
				}
				if !strings.Contains(tc.text, "'") && (strings.Contains(s.code, "/*") || strings.Contains(s.code, "-- ")) {
					t.Errorf("code %q still has a comment", s.code)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("statements = %q, want %q", got, tc.want)
			}
			errs := src.errs.Error()
			if tc.err == "" && len(src.errs) > 0 || !strings.HasPrefix(errs, tc.err) {
				t.Errorf("errors = %q, want prefix %q", errs, tc.err)
			}
		})
	}
}

func TestPositions(t *testing.T) {
	src := newSource("p.sql", "ab\nüüx\n\nz")
	for _, tc := range []struct {
		off, line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {7, 2, 3}, {9, 3, 1}, {10, 4, 1}, {11, 4, 2}} {
		p := src.pos(tc.off)
		if p.Line != tc.line || p.Col != tc.col || p.Offset != tc.off {
			t.Errorf("pos(%d) = %d:%d, want %d:%d", tc.off, p.Line, p.Col, tc.line, tc.col)
		}
	}
}

// TestLexer pins the tidb lexer internals lex reaches by reflection.
func TestLexer(t *testing.T) {
	code := `SELECT "A b", 'it''s', x1 ->> '$.a', 1.5e3 <> 7 FROM s`
	var got []string
	for _, tok := range lex(code) {
		if code[tok.start:tok.end] != tok.text {
			t.Fatalf("token %q at %d:%d", tok.text, tok.start, tok.end)
		}
		got = append(got, tok.text+"="+tok.val)
	}
	want := `SELECT=SELECT|"A b"=A b|'it''s'=it's|,=,|x1=x1|->>=->>|'$.a'=$.a|,=,|1.5e3=1.5e3|<>=<>|7=7|FROM=FROM|s=s`
	if g := strings.Join(got, "|"); strings.ReplaceAll(g, "|,=,", "") != strings.ReplaceAll(want, "|,=,", "") {
		t.Errorf("tokens:\n got %s\nwant %s", g, want)
	}
}

func TestRewriteMapsOffsets(t *testing.T) {
	code := "SELECT CAST(a AS BIGINT), FLOOR(ts TO MINUTE) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)"
	text, m := rewrite(code, lex(code))
	want := "SELECT __eddy_cast(a , 'BIGINT'), __eddy_floor_to(ts , 'MINUTE') FROM s GROUP BY TUMBLE(ts, __eddy_interval( '1' , 'MINUTE'))"
	if text != want {
		t.Fatalf("rewrite:\n got %s\nwant %s", text, want)
	}
	for _, w := range []string{"FROM", "'1'", "TUMBLE"} {
		if got := m.orig(strings.Index(text, w)); got != strings.Index(code, w) {
			t.Errorf("orig(%s) = %d, want %d", w, got, strings.Index(code, w))
		}
	}
	if got := m.orig(strings.Index(text, "'BIGINT'")); got != strings.Index(code, "BIGINT") {
		t.Errorf("the CAST type maps to %d, want %d", got, strings.Index(code, "BIGINT"))
	}
	if got := m.origEnd(len(text)); got != len(code) {
		t.Errorf("origEnd(end) = %d, want %d", got, len(code))
	}
}

func TestCatalogAcrossCompiles(t *testing.T) {
	cat := NewCatalog()
	if _, err := Compile("a.sql", "CREATE STREAM s (a BIGINT) WITH (connector = 'kinesis')", cat); err != nil {
		t.Fatal(err)
	}
	stmts, err := Compile("repl", "SELECT a FROM S; SHOW STREAMS; DESCRIBE s", cat)
	if err != nil || len(stmts) != 3 {
		t.Fatalf("got %d statements, %v", len(stmts), err)
	}
	_, err = Compile("repl", "CREATE SINK s WITH (connector = 'stdout')", cat)
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || !strings.Contains(list[0].Msg, "already declared") {
		t.Fatalf("duplicate name: %v", err)
	}
	if len(cat.Streams()) != 1 || len(cat.Sinks()) != 0 {
		t.Errorf("catalog has %d streams and %d sinks", len(cat.Streams()), len(cat.Sinks()))
	}
}

// FuzzCompile checks that no text makes Compile panic, and that every error
// points inside the text.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("../testdata/sql/*.sql")
	for _, path := range files {
		text, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(text))
		for _, stmt := range strings.Split(string(text), ";") {
			f.Add(stmt)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		done := make(chan error, 1)
		go func() {
			_, err := Compile("f.sql", text, NewCatalog())
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Compile has not returned after 10 s on %q", text)
		}
		if err == nil {
			return
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is not an ErrorList: %v", err)
		}
		for _, e := range list {
			if e.Pos.Offset < 0 || e.Pos.Offset > len(text) || e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Fatalf("error outside the text: %v", e)
			}
		}
	})
}
