package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// invocation is one run of the CLI: its streams, flags and environment. Nothing
// about an invocation lives in package-level variables, so tests run many side by side.
type invocation struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string

	dataDir      string
	segmentBytes int64
	logLevel     slog.Level
}

// run executes the command line args and returns the process exit status:
// 0 on success, 1 on any error (printed as one line on stderr).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &invocation{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "eddy: %s\n", oneLine(err))
		return 1
	}
	return 0
}

func (a *invocation) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "eddy",
		Short: "eddy: the Kinesis stack on one machine (streams, delivery, SQL analytics)",
		Long: `eddy is a streaming SQL analytics engine with embedded Kinesis-style streams.
Everything lives in a data directory (--data-dir, default ./eddy-data); no server
or AWS account is needed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	defaultDir := "./eddy-data"
	if v := a.getenv("EDDY_DATA_DIR"); v != "" {
		defaultDir = v
	}
	root.PersistentFlags().StringVar(&a.dataDir, "data-dir", defaultDir, "directory holding streams and state (env EDDY_DATA_DIR)")
	root.PersistentFlags().TextVar(&a.logLevel, "log-level", slog.LevelWarn, "what is logged to stderr: debug, info (e.g. every checkpoint), warn or error")
	root.PersistentFlags().Int64Var(&a.segmentBytes, "segment-bytes", 0, "size at which shard segment files roll over (default 64 MiB)")
	root.PersistentFlags().MarkHidden("segment-bytes")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	root.AddCommand(a.streamsCommand(), a.putCommand(), a.getCommand(), a.runCommand(),
		a.replCommand(), a.demoCommand(), a.benchCommand(), a.checkpointsCommand())
	root.AddCommand(a.serveCommand(), a.firehoseCommand())
	return root
}

// now is the clock of the store. EDDY_NOW (RFC 3339) fixes it, so tests can
// move time forward across invocations to exercise retention.
func (a *invocation) now() (func() time.Time, error) {
	v := a.getenv("EDDY_NOW")
	if v == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, fmt.Errorf("EDDY_NOW %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", v)
	}
	return func() time.Time { return t }, nil
}

// openStore opens the data directory, for writing unless readOnly. Repairs made on
// open are reported on stderr: a user must hear about dropped bytes.
func (a *invocation) openStore(readOnly bool) (*streamstore.Store, error) {
	now, err := a.now()
	if err != nil {
		return nil, err
	}
	opts := streamstore.DefaultOptions()
	opts.Now = now
	opts.ReadOnly = readOnly
	if a.segmentBytes > 0 {
		opts.SegmentBytes = a.segmentBytes
	}
	opts.Logger = a.logger()
	st, err := streamstore.Open(a.dataDir, opts)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// logger reports warnings (repairs, failed error-stream writes) on stderr.
func (a *invocation) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: a.logLevel}))
}

// withStore runs fn on the store opened for writing and closes it.
func (a *invocation) withStore(fn func(st *streamstore.Store) error) error {
	st, err := a.openStore(false)
	if err != nil {
		return err
	}
	err = fn(st)
	if cerr := st.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func parseShardCount(flag string, v int) error {
	if v < 1 {
		return fmt.Errorf("--%s %d: a stream needs at least 1 shard", flag, v)
	}
	return nil
}

// oneLine folds an error onto one line.
func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
