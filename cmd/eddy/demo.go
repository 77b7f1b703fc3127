package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/bench"
	"github.com/eddy-streams/eddy/cmd/eddy/internal/app"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

//go:embed apps/trades.sql
var tradesApp string

//go:embed apps/anomalies.sql
var anomaliesApp string

type demoFlags struct {
	duration  time.Duration
	rate      int
	printSQL  bool
	anomalies bool
}

func (a *invocation) demoCommand() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate live stock trades into a stream and run a windowed SQL application over them",
		Long: `Demo creates the stream 'trades' (4 shards) in the data directory, writes
generated trades into it in real time (a price spike now and then), and runs a
bundled SQL application that prints per-ticker statistics for every 10-second
window as it closes. It stops by itself after --duration. --print-sql shows the
application.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			text, file := tradesApp, "trades.sql"
			if f.anomalies {
				text, file = anomaliesApp, "anomalies.sql"
			}
			if f.printSQL {
				fmt.Fprint(a.stdout, text)
				return nil
			}
			if f.rate < 1 || f.rate > 1_000_000 {
				return fmt.Errorf("--rate %d: give 1 to 1000000 trades per second", f.rate)
			}
			if f.duration <= 0 {
				return fmt.Errorf("--duration %s must be positive", f.duration)
			}
			application, err := app.Compile("demo", file, text)
			if err != nil {
				return fmt.Errorf("bundled application: %w", err)
			}
			return a.withStore(func(st *streamstore.Store) error {
				return a.demo(cmd.Context(), st, application, f)
			})
		},
	}
	duration := time.Minute
	if d, err := time.ParseDuration(a.getenv("EDDY_DEMO_DURATION")); err == nil && d > 0 {
		duration = d // lets the README test run the demo command as written, shorter
	}
	cmd.Flags().DurationVar(&f.duration, "duration", duration, "how long the demo runs (env EDDY_DEMO_DURATION)")
	cmd.Flags().IntVar(&f.rate, "rate", 2000, "trades generated per second")
	cmd.Flags().BoolVar(&f.printSQL, "print-sql", false, "print the bundled SQL application and exit")
	cmd.Flags().BoolVar(&f.anomalies, "anomalies", false, "run the anomaly-detection application (a random cut forest per ticker) instead")
	return cmd
}

func (a *invocation) demo(ctx context.Context, st *streamstore.Store, application *app.Application, f demoFlags) error {
	if err := st.CreateStream("trades", 4); err != nil && !errors.Is(err, streamstore.ErrInUse) {
		return err
	}
	if f.anomalies {
		if err := st.CreateStream("trade_scores", 2); err != nil && !errors.Is(err, streamstore.ErrInUse) {
			return err
		}
	}
	prepared, err := application.Prepare(ctx, a.appEnv(st, "table"), app.RunOptions{IdleTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer prepared.Close()
	if f.anomalies {
		fmt.Fprintf(a.stderr, "eddy demo: %d trades/s into stream 'trades' for %s; trades whose price scores above 4.5 print as they arrive (a price spike every 997 trades; each ticker's forest warms up over its first 256 trades)\n",
			f.rate, f.duration)
	} else {
		fmt.Fprintf(a.stderr, "eddy demo: %d trades/s into stream 'trades' for %s; windows print as they close (every 10s, after a 2s watermark delay)\n",
			f.rate, f.duration)
	}
	ctx, cancel := context.WithTimeout(ctx, f.duration)
	defer cancel()
	var wg sync.WaitGroup
	var genErr error
	put := 0
	wg.Go(func() { put, genErr = generateTrades(ctx, st, f.rate) })
	sum, runErr := prepared.Run(ctx)
	cancel()
	wg.Wait()
	if genErr != nil && !errors.Is(genErr, context.Canceled) && !errors.Is(genErr, context.DeadlineExceeded) {
		return fmt.Errorf("generator: %w", genErr)
	}
	out := int64(0)
	for _, q := range sum.Queries {
		if q.Sink == "console" {
			out += q.Stats.RowsOut
		}
	}
	what := "window rows"
	if f.anomalies {
		what = fmt.Sprintf("anomalous trades (%d spikes injected)", put/997)
	}
	fmt.Fprintf(a.stderr, `
eddy demo: put %d trades, printed %d %s.
Try next:
  eddy get trades --limit 3                 the raw records
  eddy demo --print-sql > trades.sql        the application; edit it, then
  eddy run trades.sql                       run it against live data (with eddy put or eddy demo writing)
  eddy repl                                 ad hoc SQL (paste the CREATE STREAM first)
`, put, out, what)
	return runErr
}

// generateTrades puts trades with the current time as event time at rate per
// second until ctx ends, and returns how many it put.
func generateTrades(ctx context.Context, st *streamstore.Store, rate int) (int, error) {
	gen := bench.NewTradeGenerator(uint64(time.Now().UnixNano()), time.Now())
	gen.Disorder = 500 * time.Millisecond
	gen.SpikeEvery = 997
	const tick = 50 * time.Millisecond
	perTick := max(1, rate*int(tick)/int(time.Second))
	t := time.NewTicker(tick)
	defer t.Stop()
	total := 0
	var entries []streamstore.PutEntry
	for {
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case now := <-t.C:
			entries = entries[:0]
			for range perTick {
				tr := gen.NextAt(now)
				entries = append(entries, streamstore.PutEntry{PartitionKey: tr.Ticker, Data: tr.AppendJSON(nil)})
			}
			for len(entries) > 0 {
				n := min(len(entries), streamstore.MaxBatchRecords)
				if _, err := st.PutRecords(ctx, "trades", entries[:n]); err != nil {
					return total, err
				}
				total += n
				entries = entries[n:]
			}
		}
	}
}
