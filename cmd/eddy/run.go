package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/cmd/eddy/internal/app"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

type runFlags struct {
	bounded bool
	name    string
	format  string
	workers int
	idle    time.Duration
	explain bool
}

func (a *invocation) runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run APP.sql [--bounded]",
		Short: "Run a SQL application over streams until interrupted (or, --bounded, to the end of its input)",
		Long: `Run compiles a SQL application (CREATE STREAM, CREATE SINK, INSERT INTO ... SELECT,
SELECT), then runs every query until Ctrl-C, which stops reading and flushes the
sinks. SELECT results without a sink print to stdout (--format table or json).

--bounded reads every source up to its end as of the start, closes every window,
flushes the sinks and exits 0: the mode for tests and backfills.

Records that fail to decode, rows later than the watermark and rows whose
expressions fail go to the application's error stream, the store stream
NAME-errors (NAME is --name, by default the file name without .sql):
  eddy get NAME-errors`,
		Args: exactArgs("APP.sql"),
		RunE: func(cmd *cobra.Command, args []string) error {
			text, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read application: %w", err)
			}
			if f.name == "" {
				f.name = strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0]))
			}
			if f.format != "table" && f.format != "json" {
				return fmt.Errorf("--format %q: use table or json", f.format)
			}
			application, err := app.Compile(f.name, args[0], string(text))
			if err != nil {
				return err
			}
			return a.withStore(func(st *streamstore.Store) error {
				env := a.appEnv(st, f.format)
				opts := app.RunOptions{Bounded: f.bounded, Workers: f.workers, IdleTimeout: f.idle}
				running, err := application.Prepare(env, opts)
				if err != nil {
					return err
				}
				closed := false
				closeAll := func() error {
					var errs []error
					if !closed {
						for _, r := range running {
							errs = append(errs, r.Close())
						}
						closed = true
					}
					return errors.Join(errs...)
				}
				defer closeAll()
				if f.explain {
					for _, r := range running {
						fmt.Fprintf(a.stderr, "%s:\n%s", r.Query.Pos, r.Plan.Explain())
					}
				}
				start := time.Now()
				sum, err := app.RunAll(cmd.Context(), running)
				took := time.Since(start)
				if cerr := closeAll(); err == nil && cerr != nil {
					err = fmt.Errorf("close sinks: %w", cerr)
				}
				a.printRunSummary(application.Name, sum, took)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&f.bounded, "bounded", false, "read every source to its end as of the start, close all windows, then exit")
	cmd.Flags().StringVar(&f.name, "name", "", "application name (default: the file name without .sql)")
	cmd.Flags().StringVar(&f.format, "format", "table", "how SELECT results print: table or json")
	cmd.Flags().IntVar(&f.workers, "workers", 0, "aggregation workers per query (default: GOMAXPROCS)")
	cmd.Flags().DurationVar(&f.idle, "idle-timeout", 5*time.Second, "an event-time shard silent this long stops holding the watermark")
	cmd.Flags().BoolVar(&f.explain, "explain", false, "print each query's physical plan to stderr before running")
	return cmd
}

func (a *invocation) appEnv(st *streamstore.Store, consoleFormat string) app.Env {
	now, _ := a.now()
	return app.Env{Store: st, Stdout: a.stdout, ConsoleFormat: consoleFormat, Logger: a.logger(), Now: now}
}

// printRunSummary tells the user on stderr what each query did.
func (a *invocation) printRunSummary(name string, sum app.Summary, took time.Duration) {
	for _, q := range sum.Queries {
		s := q.Stats
		fmt.Fprintf(a.stderr, "%s -> %s: %d rows in, %d rows out in %s", q.Pos, q.Sink, s.RowsIn, s.RowsOut, took.Round(time.Millisecond))
		if errs := s.DecodeErrors + s.LateRows + s.EvalErrors; errs > 0 {
			fmt.Fprintf(a.stderr, "; %d to the error stream (%d undecodable, %d late, %d failed expressions): eddy get %s",
				errs, s.DecodeErrors, s.LateRows, s.EvalErrors, app.ErrorStreamName(name))
		}
		fmt.Fprintln(a.stderr)
	}
}
