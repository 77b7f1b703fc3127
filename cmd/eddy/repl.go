package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/peterh/liner"
	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/cmd/eddy/internal/app"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/sql"
)

func (a *invocation) replCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "repl",
		Short: "Ask ad hoc SQL questions of live streams",
		Long: `The REPL reads SQL statements ending in ';' (over several lines if needed):
CREATE STREAM and CREATE SINK declare names for this session, SHOW STREAMS and
DESCRIBE name show them, and SELECT streams rows to the screen until Ctrl-C or
LIMIT. Errors print with their position and never end the session. History is
kept in DATA_DIR/.repl_history. Ctrl-D or \q quits.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: use table or json", format)
			}
			return a.withStore(func(st *streamstore.Store) error {
				return a.repl(cmd.Context(), st, format)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "how SELECT results print: table or json")
	return cmd
}

// lineSource is the REPL's input: a line editor on a terminal, plain lines otherwise.
type lineSource interface {
	prompt(p string) (string, error) // io.EOF at the end; errInterrupted on Ctrl-C
	remember(stmt string)
	close()
}

var errInterrupted = errors.New("interrupted")

type editor struct {
	st   *liner.State
	hist string
}

func (e *editor) prompt(p string) (string, error) {
	line, err := e.st.Prompt(p)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errInterrupted
	}
	return line, err
}

func (e *editor) remember(stmt string) { e.st.AppendHistory(strings.ReplaceAll(stmt, "\n", " ")) }

func (e *editor) close() {
	if f, err := os.Create(e.hist); err == nil {
		e.st.WriteHistory(f)
		f.Close()
	}
	e.st.Close()
}

type plainLines struct {
	r   *bufio.Reader
	out io.Writer
}

func (p *plainLines) prompt(pr string) (string, error) {
	fmt.Fprint(p.out, pr)
	line, err := p.r.ReadString('\n')
	if err == io.EOF && line != "" {
		return line, nil
	}
	return strings.TrimSuffix(line, "\n"), err
}

func (p *plainLines) remember(string) {}
func (p *plainLines) close()          {}

func (a *invocation) lines() lineSource {
	if f, ok := a.stdin.(*os.File); ok && f == os.Stdin && liner.TerminalSupported() {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			st := liner.NewLiner()
			st.SetCtrlCAborts(true)
			st.SetMultiLineMode(true)
			hist := filepath.Join(a.dataDir, ".repl_history")
			if f, err := os.Open(hist); err == nil {
				st.ReadHistory(f)
				f.Close()
			}
			return &editor{st: st, hist: hist}
		}
	}
	return &plainLines{r: bufio.NewReader(a.stdin), out: a.stdout}
}

func (a *invocation) repl(ctx context.Context, st *streamstore.Store, format string) error {
	in := a.lines()
	defer in.close()
	fmt.Fprintln(a.stdout, `eddy SQL. Statements end with ';'. SHOW STREAMS; DESCRIBE name; \q quits.`)
	cat := sql.NewCatalog()
	var buf strings.Builder
	for ctx.Err() == nil {
		p := "eddy> "
		if buf.Len() > 0 {
			p = "   -> "
		}
		line, err := in.prompt(p)
		if errors.Is(err, errInterrupted) {
			buf.Reset()
			continue
		}
		if err == io.EOF {
			fmt.Fprintln(a.stdout)
			return nil
		}
		if err != nil {
			return err
		}
		if buf.Len() == 0 {
			switch strings.TrimSpace(line) {
			case "":
				continue
			case `\q`, "quit", "exit":
				return nil
			}
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		if !sql.Complete(buf.String()) {
			continue
		}
		text := buf.String()
		buf.Reset()
		in.remember(strings.TrimSpace(text))
		a.replStatement(ctx, st, cat, "repl", text, format)
	}
	return nil
}

// replStatement runs what one input holds; errors are printed, never returned.
func (a *invocation) replStatement(ctx context.Context, st *streamstore.Store, cat *sql.Catalog, file, text, format string) {
	stmts, err := sql.Compile(file, text, cat)
	if err != nil {
		fmt.Fprintln(a.stdout, "error:", strings.ReplaceAll(err.Error(), "\n", "\nerror: "))
	}
	for _, s := range stmts {
		switch x := s.(type) {
		case *sql.CreateStream:
			fmt.Fprintf(a.stdout, "stream %s: %d columns, reading %s\n", x.Name, len(x.Columns), x.With["stream"])
		case *sql.CreateSink:
			fmt.Fprintf(a.stdout, "sink %s: %s\n", x.Name, x.With["connector"])
		case *sql.ShowStreams:
			a.showStreams(st, cat)
		case *sql.Describe:
			a.describe(cat, x.Name)
		case *sql.Select, *sql.Insert:
			a.replQuery(ctx, st, cat, s, format)
		case *sql.Set:
			fmt.Fprintf(a.stdout, "SET %s: settings apply to applications run with eddy run; the REPL keeps no checkpoints\n", x.Key)
		}
	}
}

func (a *invocation) showStreams(st *streamstore.Store, cat *sql.Catalog) {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SQL STREAM\tSTORE STREAM\tCOLUMNS\tTIME")
	for _, s := range cat.Streams() {
		timeCol := sql.RowtimeColumn
		if s.Watermark != nil {
			timeCol = fmt.Sprintf("%s (watermark %s)", s.Columns[s.Watermark.Column].Name, s.Watermark.Delay)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", s.Name, s.With["stream"], len(s.Columns), timeCol)
	}
	tw.Flush()
	names := st.ListStreams()
	fmt.Fprintf(a.stdout, "store streams (eddy streams list): %s\n", strings.Join(names, ", "))
}

func (a *invocation) describe(cat *sql.Catalog, name string) {
	if s, ok := cat.Stream(name); ok {
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COLUMN\tTYPE\tFROM")
		for i, c := range s.Schema() {
			from := ""
			if i < len(s.Paths) && s.Paths[i] != "" {
				from = s.Paths[i]
			}
			if c.Name == sql.RowtimeColumn {
				from = "arrival time"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Type, from)
		}
		tw.Flush()
		fmt.Fprintf(a.stdout, "WITH %v\n", s.With)
		return
	}
	if s, ok := cat.Sink(name); ok {
		fmt.Fprintf(a.stdout, "sink %s WITH %v\n", s.Name, s.With)
		return
	}
	fmt.Fprintf(a.stdout, "error: no stream or sink named %s in this session (SHOW STREAMS lists them)\n", name)
}

// replQuery runs one query until it ends (LIMIT, or an INSERT's bounded end)
// or the user presses Ctrl-C, which stops the query and not the REPL.
func (a *invocation) replQuery(ctx context.Context, st *streamstore.Store, cat *sql.Catalog, s sql.Statement, format string) {
	application := &app.Application{Name: "repl", Statements: []sql.Statement{s}, Catalog: cat}
	prepared, err := application.Prepare(ctx, a.appEnv(st, format), app.RunOptions{})
	if err != nil {
		fmt.Fprintln(a.stdout, "error:", err)
		return
	}
	defer prepared.Close()
	qctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	sum, err := prepared.Run(qctx)
	if err != nil {
		fmt.Fprintln(a.stdout, "error:", err)
	}
	for _, q := range sum.Queries {
		fmt.Fprintf(a.stdout, "(%s", plural(int(q.Stats.RowsOut), "row", "rows"))
		if errs := q.Stats.DecodeErrors + q.Stats.LateRows + q.Stats.EvalErrors; errs > 0 {
			fmt.Fprintf(a.stdout, "; %d records to the error stream: eddy get %s", errs, app.ErrorStreamName("repl"))
		}
		fmt.Fprintln(a.stdout, ")")
	}
}
