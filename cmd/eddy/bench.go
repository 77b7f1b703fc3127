package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/bench"
	"github.com/eddy-streams/eddy/cmd/eddy/internal/app"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

func (a *invocation) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure eddy on this machine",
	}
	cmd.AddCommand(a.benchPipeline())
	cmd.AddCommand(a.benchKinesis())
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

// pipelineBench is what `eddy bench pipeline` measures.
type pipelineBench struct {
	events, shards, keys int
	// checkpointInterval > 0 runs the SQL stage a second time, checkpointing.
	checkpointInterval time.Duration
}

func (a *invocation) benchPipeline() *cobra.Command {
	var pb pipelineBench
	var keep bool
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Events/s per core for put, read, and decode -> filter -> tumbling aggregate on the embedded store",
		Long: `Pipeline generates ~200-byte JSON trade events, puts them into a fresh stream
(in a temporary data directory unless --keep), reads them back raw, then runs a
SQL application over them with --bounded semantics: JSON decode, a filter, and a
1-second tumbling-window aggregate per ticker into a file. It prints wall time,
CPU time and events per second per core (events / CPU-seconds) for each stage.

--keys sets how many tickers (the aggregate's keys) there are. Above 50, event
time advances one second per 2 x --keys trades and tickers come in rounds, so
every 1-second window holds two trades of about every ticker; one of them passes
the filter for ~94% of tickers, and the windows' state holds about --keys open
keys at any time.

--checkpoint-interval runs the SQL stage a second time over the same events,
checkpointing at that interval into the temporary directory (keeping 3, as
eddy run does), and prints both rows, their ratio, and how many checkpoints were
taken with their duration and size. The file sink commits its output at each
checkpoint; the command fails if that output differs from the first run's.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pb.events < 1000 {
				return fmt.Errorf("--events %d: give at least 1000", pb.events)
			}
			if pb.keys < 1 || pb.keys > 10_000_000 {
				return fmt.Errorf("--keys %d: give 1 to 10000000", pb.keys)
			}
			if pb.checkpointInterval < 0 {
				return fmt.Errorf("--checkpoint-interval %s: must not be negative", pb.checkpointInterval)
			}
			if err := parseShardCount("shards", pb.shards); err != nil {
				return err
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
				return a.runPipelineBench(cmd.Context(), st, dir, pb)
			})
		},
	}
	cmd.Flags().IntVar(&pb.events, "events", 1_000_000, "events to generate")
	cmd.Flags().IntVar(&pb.shards, "shards", 4, "shards of the stream")
	cmd.Flags().IntVar(&pb.keys, "keys", bench.RealTickers, "distinct tickers, the keys of the windowed aggregate")
	cmd.Flags().DurationVar(&pb.checkpointInterval, "checkpoint-interval", 0,
		"also run the SQL stage with checkpoints at this interval and compare (0: only without)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary data directory")
	return cmd
}

// putChunk is how many events are generated at a time, then put: generation
// stays out of the put's measure without holding every event in memory.
const putChunk = 1_000_000

func (a *invocation) runPipelineBench(ctx context.Context, st *streamstore.Store, dir string, pb pipelineBench) error {
	events := pb.events
	if err := st.CreateStream("trades", pb.shards); err != nil {
		return err
	}
	gen := bench.NewTradeGenerator(42, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	gen.Disorder = 300 * time.Millisecond
	gen.UseTickers(pb.keys)
	if step := time.Second / time.Duration(2*pb.keys); step < gen.Step {
		gen.Step = step // about two trades per ticker in each second of event time
	}
	var ms []bench.Measure
	// One producer keeps each shard in event-time order (bounded disorder only),
	// as a single upstream writer would; concurrent put throughput is measured
	// by the store's Go benchmarks.
	put := bench.Measure{Stage: "put (1 producer, batches of 500)"}
	var bytes int64
	for done := 0; done < events; done += putChunk {
		chunk := min(putChunk, events-done)
		batches := make([][]streamstore.PutEntry, 0, chunk/500+1)
		var chunkBytes int64
		for i := 0; i < chunk; i += 500 {
			batch := make([]streamstore.PutEntry, min(500, chunk-i))
			buf := make([]byte, 0, len(batch)*256) // one allocation for the batch's events
			for j := range batch {
				tr := gen.Next()
				data := tr.AppendJSON(buf[len(buf):])
				if len(data) <= cap(buf)-len(buf) {
					buf = buf[:len(buf)+len(data)]
				}
				chunkBytes += int64(len(data))
				batch[j] = streamstore.PutEntry{PartitionKey: tr.Ticker + tr.Trader, Data: data[:len(data):len(data)]}
			}
			batches = append(batches, batch)
		}
		m, err := bench.Time(put.Stage, func() (int64, int64, error) {
			for _, b := range batches {
				if _, err := st.PutRecords(ctx, "trades", b); err != nil {
					return 0, 0, err
				}
			}
			return int64(chunk), chunkBytes, nil
		})
		if err != nil {
			return err
		}
		put = put.Add(m)
		bytes += chunkBytes
	}
	ms = append(ms, put)

	m, err := bench.Time("read (store, all shards)", func() (int64, int64, error) {
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

	const sqlStage = "decode -> filter -> tumble (SQL, bounded)"
	out := filepath.Join(dir, "out.jsonl")
	m, sum, err := a.runBenchApp(ctx, st, sqlStage, out, bytes, nil)
	if err != nil {
		return err
	}
	ms = append(ms, m)

	var ck *benchCheckpoints
	if pb.checkpointInterval > 0 {
		ck, err = a.runCheckpointedBench(ctx, st, dir, sqlStage, out, bytes, pb.checkpointInterval, sum)
		if err != nil {
			return err
		}
		ms = append(ms, ck.measure)
	}

	keys := ""
	if pb.keys != bench.RealTickers {
		keys = fmt.Sprintf(", %d keys", pb.keys)
	}
	fmt.Fprintf(a.stdout, "eddy bench pipeline: %d events of ~%d bytes, %d shards%s\nmachine: %s\n\n", events, bytes/int64(events), pb.shards, keys, bench.Machine())
	if err := bench.PrintTable(a.stdout, ms); err != nil {
		return err
	}
	s := sum.Queries[0].Stats
	fmt.Fprintf(a.stdout, "\nthe SQL stage decoded %d rows and wrote %d window rows (%d late, %d undecodable)\n", s.RowsIn, s.RowsOut, s.LateRows, s.DecodeErrors)
	if ck != nil {
		ck.print(a.stdout, ms[len(ms)-2])
	}
	return nil
}

// runBenchApp runs the SQL application once, bounded, into the file out.
func (a *invocation) runBenchApp(ctx context.Context, st *streamstore.Store, stage, out string, bytes int64, ck *app.Checkpoints) (bench.Measure, app.Summary, error) {
	application, err := app.Compile("bench", "bench.sql", fmt.Sprintf(benchApp, out))
	if err != nil {
		return bench.Measure{}, app.Summary{}, err
	}
	var sum app.Summary
	m, err := bench.Time(stage, func() (int64, int64, error) {
		var err error
		sum, err = application.Run(ctx, a.appEnv(st, "json"), app.RunOptions{Bounded: true, Checkpoints: ck})
		if err != nil {
			return 0, 0, err
		}
		return sum.Queries[0].Stats.RowsIn, bytes, nil
	})
	return m, sum, err
}

// benchCheckpoints is the SQL stage run with checkpoints.
type benchCheckpoints struct {
	interval time.Duration
	measure  bench.Measure
	// periodic are the checkpoints taken at the interval; final is the one
	// a bounded run takes at the end of its input (its windows all closed).
	periodic []checkpoint.Manifest
	final    checkpoint.Manifest
	rows     int64 // output rows, the same in both runs
}

// runCheckpointedBench runs the SQL stage again with checkpoints into a
// folder of dir and checks that its committed output is the plain run's.
func (a *invocation) runCheckpointedBench(ctx context.Context, st *streamstore.Store, dir, stage, plainOut string, bytes int64, interval time.Duration, plain app.Summary) (*benchCheckpoints, error) {
	store := bench.NewRecordingStore(checkpoint.NewDirStore(filepath.Join(dir, "checkpoints")))
	cfg := &app.Checkpoints{Store: store, Interval: interval, Keep: 3}
	out := filepath.Join(dir, "out-checkpointed.jsonl")
	m, sum, err := a.runBenchApp(ctx, st, fmt.Sprintf("%s, checkpoints every %s", stage, interval), out, bytes, cfg)
	if err != nil {
		return nil, fmt.Errorf("the SQL stage with checkpoints: %w", err)
	}
	if p, c := plain.Queries[0].Stats, sum.Queries[0].Stats; p != c {
		return nil, fmt.Errorf("the SQL stage with checkpoints counted %+v, without %+v", c, p)
	}
	rows, err := bench.CompareFiles(plainOut, out)
	if err != nil {
		return nil, fmt.Errorf("the output committed with checkpoints differs from the output without them: %w", err)
	}
	taken, err := store.Manifests()
	if err != nil {
		return nil, err
	}
	if len(taken) == 0 {
		return nil, fmt.Errorf("the run with checkpoints took none (a bounded run takes one at the end of its input)")
	}
	// What the store keeps must be the newest of what was recorded.
	kept, warnings, err := checkpoint.List(ctx, store, "bench")
	if err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		return nil, fmt.Errorf("checkpoints of the run: %s", strings.Join(warnings, "; "))
	}
	if len(kept) != min(len(taken), cfg.Keep) {
		return nil, fmt.Errorf("%d checkpoints taken, %d kept: want %d kept", len(taken), len(kept), min(len(taken), cfg.Keep))
	}
	for i, k := range kept {
		if r := taken[len(taken)-1-i]; k.ID != r.ID || k.Metrics != r.Metrics {
			return nil, fmt.Errorf("checkpoint %d as listed (%+v) is not the one written (%d, %+v)", k.ID, k.Metrics, r.ID, r.Metrics)
		}
	}
	return &benchCheckpoints{interval: interval, measure: m, periodic: taken[:len(taken)-1], final: taken[len(taken)-1], rows: rows}, nil
}

// print reports the cost of checkpoints against the plain run.
func (c *benchCheckpoints) print(w io.Writer, plain bench.Measure) {
	fmt.Fprintf(w, "\nwith checkpoints every %s: %.2f of the events/s per core without them (%.2f of the events/s in wall time)\n",
		c.interval, c.measure.EventsPerCoreSec()/plain.EventsPerCoreSec(), c.measure.EventsPerSec()/plain.EventsPerSec())
	fmt.Fprintf(w, "checkpoints: %d taken, %d every %s and 1 at the end of the input\n", len(c.periodic)+1, len(c.periodic), c.interval)
	if len(c.periodic) > 0 {
		fmt.Fprintf(w, "  every %s: %s\n", c.interval, bench.SummarizeCheckpoints(c.periodic))
	}
	f := c.final.Metrics
	fmt.Fprintf(w, "  at the end: duration %s (alignment %s), size %s\n", bench.Millis(f.Duration), bench.Millis(f.Alignment), bench.Size(f.Bytes))
	fmt.Fprintf(w, "committed output with checkpoints: identical to the run without (%d rows)\n", c.rows)
}
