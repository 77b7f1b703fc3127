package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/bench"
	"github.com/eddy-streams/eddy/cmd/eddy/internal/app"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

func (a *invocation) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure eddy on this machine",
	}
	cmd.AddCommand(a.benchPipeline())
	return cmd
}

const benchApp = `CREATE STREAM trades (
  ticker VARCHAR, price DOUBLE, qty BIGINT, side VARCHAR, exchange VARCHAR, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH (connector = 'kinesis', stream = 'trades', format = 'json');
CREATE SINK results WITH (connector = 'file', path = '%s', format = 'json');
INSERT INTO results
SELECT ticker, window_start, COUNT(*) AS trades, SUM(qty) AS volume, AVG(price) AS avg_price,
       MIN(price) AS low, MAX(price) AS high
FROM trades
WHERE side = 'BUY' OR qty > 100
GROUP BY ticker, TUMBLE(ts, INTERVAL '1' SECOND);
`

func (a *invocation) benchPipeline() *cobra.Command {
	var events, shards int
	var keep bool
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Events/s per core for put, read, and decode -> filter -> tumbling aggregate on the embedded store",
		Long: `Pipeline generates ~200-byte JSON trade events, puts them into a fresh stream
(in a temporary data directory unless --keep), reads them back raw, then runs a
SQL application over them with --bounded semantics: JSON decode, a filter, and a
1-second tumbling-window aggregate per ticker into a file. It prints wall time,
CPU time and events per second per core (events / CPU-seconds) for each stage.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if events < 1000 {
				return fmt.Errorf("--events %d: give at least 1000", events)
			}
			dir, err := os.MkdirTemp("", "eddy-bench-")
			if err != nil {
				return err
			}
			if keep {
				fmt.Fprintf(a.stderr, "data dir kept at %s\n", dir)
			} else {
				defer os.RemoveAll(dir)
			}
			a.dataDir = dir
			return a.withStore(func(st *streamstore.Store) error {
				return a.runPipelineBench(cmd.Context(), st, dir, events, shards)
			})
		},
	}
	cmd.Flags().IntVar(&events, "events", 1_000_000, "events to generate")
	cmd.Flags().IntVar(&shards, "shards", 4, "shards of the stream")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary data directory")
	return cmd
}

func (a *invocation) runPipelineBench(ctx context.Context, st *streamstore.Store, dir string, events, shards int) error {
	if err := st.CreateStream("trades", shards); err != nil {
		return err
	}
	gen := bench.NewTradeGenerator(42, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	gen.Disorder = 300 * time.Millisecond
	batches := make([][]streamstore.PutEntry, 0, events/500+1)
	var bytes int64
	for i := 0; i < events; i += 500 {
		n := min(500, events-i)
		batch := make([]streamstore.PutEntry, n)
		for j := range batch {
			tr := gen.Next()
			data := tr.AppendJSON(nil)
			bytes += int64(len(data))
			batch[j] = streamstore.PutEntry{PartitionKey: tr.Ticker + tr.Trader, Data: data}
		}
		batches = append(batches, batch)
	}
	var ms []bench.Measure
	// One producer keeps each shard in event-time order (bounded disorder only),
	// as a single upstream writer would; concurrent put throughput is measured
	// by the store's Go benchmarks.
	m, err := bench.Time("put (1 producer, batches of 500)", func() (int64, int64, error) {
		for _, b := range batches {
			if _, err := st.PutRecords(ctx, "trades", b); err != nil {
				return 0, 0, err
			}
		}
		return int64(events), bytes, nil
	})
	if err != nil {
		return err
	}
	ms = append(ms, m)
	batches = nil

	m, err = bench.Time("read (store, all shards)", func() (int64, int64, error) {
		r, err := st.NewStreamReader("trades", streamstore.ReadOptions{BatchSize: 10000})
		if err != nil {
			return 0, 0, err
		}
		var n, b int64
		err = r.Read(ctx, func(_ string, rec streamstore.Record) error {
			n++
			b += int64(len(rec.Data))
			return nil
		})
		return n, b, err
	})
	if err != nil {
		return err
	}
	ms = append(ms, m)

	out := filepath.Join(dir, "out.jsonl")
	application, err := app.Compile("bench", "bench.sql", fmt.Sprintf(benchApp, out))
	if err != nil {
		return err
	}
	var sum app.Summary
	m, err = bench.Time("decode -> filter -> tumble (SQL, bounded)", func() (int64, int64, error) {
		var err error
		sum, err = application.Run(ctx, a.appEnv(st, "json"), app.RunOptions{Bounded: true})
		if err != nil {
			return 0, 0, err
		}
		return sum.Queries[0].Stats.RowsIn, bytes, nil
	})
	if err != nil {
		return err
	}
	ms = append(ms, m)
	fmt.Fprintf(a.stdout, "eddy bench pipeline: %d events of ~%d bytes, %d shards\nmachine: %s\n\n", events, bytes/int64(events), shards, bench.Machine())
	if err := bench.PrintTable(a.stdout, ms); err != nil {
		return err
	}
	s := sum.Queries[0].Stats
	fmt.Fprintf(a.stdout, "\nthe SQL stage decoded %d rows and wrote %d window rows (%d late, %d undecodable)\n", s.RowsIn, s.RowsOut, s.LateRows, s.DecodeErrors)
	return nil
}
