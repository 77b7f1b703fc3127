package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/cmd/eddy/internal/app"
	"github.com/eddy-streams/eddy/connectors/firehose/delivery"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

type runFlags struct {
	bounded bool
	name    string
	format  string
	workers int
	idle    time.Duration
	explain bool

	checkpoints     string
	interval        time.Duration
	keep            int
	from            string
	allowStateReset bool
	noCheckpoints   bool
	savepointWait   time.Duration
	noDrain         bool
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
flushes the sinks and exits 0: the mode for tests and backfills. A bounded run
ends event time: rows that arrive later for windows it closed are late. With
--no-drain it ends with its windows open instead, kept in its last checkpoint,
so that the next run (bounded or not) goes on where it stopped: the mode for
incremental batches.

The application is checkpointed every --checkpoint-interval, at the end of a
bounded run and on Ctrl-C or SIGTERM (a savepoint); started again, it resumes
from its newest checkpoint (docs/checkpoints.md; eddy checkpoints list NAME).

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
			if f.format != "table" && f.format != "json" {
				return fmt.Errorf("--format %q: use table or json", f.format)
			}
			application, err := app.Compile(f.name, args[0], string(text))
			if err != nil {
				return err
			}
			if f.noDrain && (!f.bounded || f.noCheckpoints) {
				return fmt.Errorf("--no-drain ends a --bounded run with its windows open in the last checkpoint: use it with --bounded, without --no-checkpoints")
			}
			opts := app.RunOptions{Bounded: f.bounded, Workers: f.workers, IdleTimeout: f.idle, NoDrain: f.noDrain}
			if opts.Checkpoints, err = a.runCheckpoints(cmd, application, f); err != nil {
				return err
			}
			return a.withStore(func(st *streamstore.Store) error {
				env := a.appEnv(st, f.format)
				prepared, err := application.Prepare(cmd.Context(), env, opts)
				if err != nil {
					return err
				}
				defer prepared.Close()
				if r := prepared.Restored(); r != nil {
					fmt.Fprintf(a.stderr, "eddy: %s resumes from checkpoint %d of %s\n", application.Name, r.ID,
						r.Created.UTC().Format("2006-01-02 15:04:05.000Z"))
				}
				if f.explain {
					for _, r := range prepared.Queries {
						fmt.Fprintf(a.stderr, "%s:\n%s", r.Query.Pos, r.Plan.Explain())
					}
				}
				stopDelivery := a.deliverSinks(cmd.Context(), st, prepared.DeliveryStreams(), f.bounded)
				start := time.Now()
				sum, err := prepared.Run(cmd.Context())
				took := time.Since(start)
				if derr := stopDelivery(err == nil && f.bounded); err == nil {
					err = derr
				}
				if cerr := prepared.Close(); err == nil && cerr != nil {
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
	cmd.Flags().StringVar(&f.checkpoints, "checkpoints", "", checkpointLocationHelp)
	cmd.Flags().DurationVar(&f.interval, "checkpoint-interval", defaultCheckpointInterval,
		"time between checkpoints (or SET checkpoint_interval); 0 checkpoints only at the end of a bounded run and on stop")
	cmd.Flags().IntVar(&f.keep, "checkpoints-kept", 3, "how many complete checkpoints to keep (or SET checkpoints_kept)")
	cmd.Flags().StringVar(&f.from, "from-checkpoint", "latest", "resume from this checkpoint id, latest, or none to start afresh")
	cmd.Flags().BoolVar(&f.allowStateReset, "allow-state-reset", false, "start afresh, with a warning, when the checkpoint's state no longer fits the application")
	cmd.Flags().BoolVar(&f.noCheckpoints, "no-checkpoints", false, "run without checkpoints: nothing is resumed, sinks write at once (at least once)")
	cmd.Flags().BoolVar(&f.noDrain, "no-drain", false, "with --bounded: end without closing windows; the last checkpoint keeps them open for the next run")
	cmd.Flags().DurationVar(&f.savepointWait, "savepoint-timeout", time.Minute, "how long a stop (Ctrl-C, SIGTERM) may take to write its final checkpoint")
	return cmd
}

// defaultCheckpointInterval is how often applications checkpoint unless told.
const defaultCheckpointInterval = 10 * time.Second

// runCheckpoints resolves the checkpoint options of eddy run: flags first,
// then the application's SET statements, then the defaults.
func (a *invocation) runCheckpoints(cmd *cobra.Command, application *app.Application, f runFlags) (*app.Checkpoints, error) {
	flags := cmd.Flags()
	if f.noCheckpoints {
		for _, name := range []string{"checkpoints", "checkpoint-interval", "checkpoints-kept", "from-checkpoint", "allow-state-reset"} {
			if flags.Changed(name) {
				return nil, fmt.Errorf("--no-checkpoints and --%s contradict each other: keep one", name)
			}
		}
		return nil, nil
	}
	ck := &app.Checkpoints{Interval: f.interval, Keep: f.keep, From: f.from, AllowStateReset: f.allowStateReset,
		SavepointTimeout: f.savepointWait}
	set := application.Settings
	if !flags.Changed("checkpoint-interval") && set.CheckpointInterval != nil {
		ck.Interval = *set.CheckpointInterval
	}
	if !flags.Changed("checkpoints-kept") && set.CheckpointsKept > 0 {
		ck.Keep = set.CheckpointsKept
	}
	if ck.Interval < 0 {
		return nil, fmt.Errorf("--checkpoint-interval %s: must not be negative (0 checkpoints only at the end and on stop)", ck.Interval)
	}
	if ck.Keep < 1 {
		return nil, fmt.Errorf("--checkpoints-kept %d: keep at least 1", ck.Keep)
	}
	store, err := a.checkpointStore(cmd.Context(), f.checkpoints)
	if err != nil {
		return nil, err
	}
	ck.Store = store
	return ck, nil
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
		if s.ForestEvictions > 0 {
			fmt.Fprintf(a.stderr, "; %d anomaly forests dropped to stay within max_keys (their keys started over)", s.ForestEvictions)
		}
		fmt.Fprintln(a.stderr)
	}
}

// deliverSinks delivers, in this process, the delivery streams the
// application's firehose sinks write, unless another process (eddy serve)
// delivers them already. The returned stop ends the delivery; with final it
// first delivers everything written (the end of a bounded run).
func (a *invocation) deliverSinks(ctx context.Context, st *streamstore.Store, names []string, bounded bool) func(final bool) error {
	if len(names) == 0 {
		return func(bool) error { return nil }
	}
	cat, err := a.openFirehose()
	if err != nil {
		return func(bool) error { return err }
	}
	opts := a.deliveryOptions(st, nil)
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	keep := func(n string) bool { return slices.Contains(names, n) }
	go func() {
		defer close(done)
		if !bounded {
			_ = delivery.NewService(opts, cat).Run(dctx, keep)
		}
	}()
	return func(final bool) error {
		cancel()
		<-done
		if !final {
			return nil
		}
		for _, n := range names {
			err := delivery.Deliver(ctx, opts, cat, []string{n})
			if errors.Is(err, delivery.ErrBusy) {
				fmt.Fprintf(a.stderr, "eddy: delivery stream %s is delivered by another process (eddy serve)\n", n)
				continue
			}
			if err != nil {
				return fmt.Errorf("deliver %s: %w", n, err)
			}
		}
		return nil
	}
}
