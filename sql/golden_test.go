package sql

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/sql/expr"
)

var update = flag.Bool("update", false, "rewrite testdata/sql/*.golden with the current output")

// TestGolden compiles every testdata/sql/*.sql as one application against a
// fresh catalog and compares the checked statements and errors with the
// matching .golden file. Run with -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/sql/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".sql")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := renderCompile(filepath.Base(path), string(text))
			golden := strings.TrimSuffix(path, ".sql") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sql -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (run with -update to accept):\n%s", path, golden, diff(string(want), got))
			}
		})
	}
}

// diff shows the first differing line of two texts.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant: %s\ngot:  %s", i+1, a, b)
		}
	}
	return "(no line differs)"
}

// renderCompile compiles text and renders the statements and errors.
func renderCompile(file, text string) string {
	stmts, err := Compile(file, text, NewCatalog())
	var b strings.Builder
	for _, s := range stmts {
		renderStmt(&b, s)
	}
	if err != nil {
		b.WriteString("errors:\n")
		for _, e := range err.(ErrorList) {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	return b.String()
}

func renderStmt(b *strings.Builder, st Statement) {
	p := st.Position()
	at := fmt.Sprintf("@%d:%d", p.Line, p.Col)
	switch s := st.(type) {
	case *CreateStream:
		fmt.Fprintf(b, "CREATE STREAM %s %s\n", s.Name, at)
		for i, c := range s.Columns {
			path := ""
			if s.Paths[i] != "" {
				path = " PATH " + quote(s.Paths[i])
			}
			fmt.Fprintf(b, "  column %d %s %s%s\n", i, c.Name, c.Type, path)
		}
		if s.Watermark != nil {
			fmt.Fprintf(b, "  watermark %s delay %v\n", s.Columns[s.Watermark.Column].Name, s.Watermark.Delay)
		}
		fmt.Fprintf(b, "  time column %d %s\n", s.TimeColumn(), s.Schema()[s.TimeColumn()].Name)
		renderWith(b, s.With, s.WithPos)
	case *CreateSink:
		fmt.Fprintf(b, "CREATE SINK %s %s\n", s.Name, at)
		renderWith(b, s.With, s.WithPos)
	case *Insert:
		fmt.Fprintf(b, "INSERT INTO %s %s\n", s.Sink, at)
		renderQuery(b, s.Query)
	case *Select:
		fmt.Fprintf(b, "SELECT %s\n", at)
		renderQuery(b, s.Query)
	case *ShowStreams:
		fmt.Fprintf(b, "SHOW STREAMS %s\n", at)
	case *Describe:
		fmt.Fprintf(b, "DESCRIBE %s %s\n", s.Name, at)
	default:
		fmt.Fprintf(b, "%T %s\n", s, at)
	}
}

func renderWith(b *strings.Builder, with map[string]string, pos map[string]Pos) {
	keys := make([]string, 0, len(with))
	for k := range with {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "  with %s = %s @%d:%d\n", k, quote(with[k]), pos[k].Line, pos[k].Col)
	}
}

func renderQuery(b *strings.Builder, q *Query) {
	fmt.Fprintf(b, "  from %s, time column %d %s\n", q.Source, q.TimeColumn, q.Input[q.TimeColumn].Name)
	if q.Where != nil {
		fmt.Fprintf(b, "  where %s\n", q.Where)
	}
	if w := q.Window; w != nil {
		fmt.Fprintf(b, "  window %s size=%v", w.Kind, w.Size)
		for _, x := range []struct {
			n string
			d interface{ String() string }
		}{{"slide", w.Slide}, {"offset", w.Offset}, {"gap", w.Gap}} {
			if x.d.String() != "0s" {
				fmt.Fprintf(b, " %s=%v", x.n, x.d)
			}
		}
		b.WriteString("\n")
	}
	for i, g := range q.GroupBy {
		fmt.Fprintf(b, "  group %s = %s %s\n", q.GroupNames[i], g, g.Type())
	}
	for i, a := range q.Aggregates {
		arg := ""
		if a.Arg != nil {
			arg = a.Arg.String()
		}
		if a.Distinct {
			arg = "DISTINCT " + arg
		}
		if a.Fn == "approx_percentile" || a.Fn == "top_k" {
			arg = fmt.Sprintf("%s, %v", arg, a.Param)
		}
		fmt.Fprintf(b, "  agg%d = %s(%s) %s\n", i, a.Fn, arg, a.T)
	}
	if q.Aggregating() {
		var cols []string
		for _, c := range q.AggSchema() {
			cols = append(cols, c.Name+" "+c.Type.String())
		}
		fmt.Fprintf(b, "  aggschema %s\n", strings.Join(cols, ", "))
	}
	if q.Over != nil {
		renderOver(b, q)
	}
	if q.Having != nil {
		fmt.Fprintf(b, "  having %s\n", q.Having)
	}
	for i, e := range q.Select {
		fmt.Fprintf(b, "  select %s = %s %s\n", q.Output[i].Name, e, q.Output[i].Type)
		checkTyped(b, e)
	}
	if q.Limit >= 0 {
		fmt.Fprintf(b, "  limit %d\n", q.Limit)
	}
}

// checkTyped flags any bound expression left with type NULL or an internal node.
func checkTyped(b *strings.Builder, e expr.Expr) {
	switch x := e.(type) {
	case *expr.Call:
		for _, a := range x.Args {
			checkTyped(b, a)
		}
	case *expr.Cast:
		checkTyped(b, x.X)
	case *expr.Column, *expr.Literal:
	default:
		fmt.Fprintf(b, "  !! internal node %T left in %s\n", e, e)
	}
	if e.Type().String() == "NULL" {
		fmt.Fprintf(b, "  !! untyped %s\n", e)
	}
}
