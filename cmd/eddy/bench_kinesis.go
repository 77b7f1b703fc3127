package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/bench"
	"github.com/eddy-streams/eddy/connectors/api/kinesisapi"
)

type kinesisBenchFlags struct {
	endpoint     string
	baseline     string
	baselineName string
	shards       int
	clients      []int
	duration     time.Duration
	records      int
	recordBytes  int
	cpuProfile   string
}

func (a *invocation) benchKinesis() *cobra.Command {
	var f kinesisBenchFlags
	cmd := &cobra.Command{
		Use:   "kinesis",
		Short: "PutRecords and GetRecords records/s over loopback HTTP, against eddy serve or any endpoint",
		Long: `Kinesis measures the Kinesis API over loopback HTTP with aws-sdk-go-v2 clients (fake
static credentials, region us-east-1, no retries). Unless --endpoint is given it
starts eddy serve's handler in this process on a free 127.0.0.1 port, over a
temporary data directory.

It creates a stream of --shards shards, then for each number of --clients puts
batches of 500 records of --record-bytes bytes with PutRecords from that many
concurrent clients (each with its own connections) for --duration, or until
--records records are put. Then, for each number of clients, it reads the whole
stream with GetRecords (Limit 10000) from TRIM_HORIZON, the shards shared out
among the clients. It prints records/s and MB/s (record data, 10^6 bytes) of
each phase, and the CPU seconds of this process: the clients', plus the
server's when it runs in-process.

Every PutRecords must answer FailedRecordCount 0, and every read phase must read
exactly the records put, shard by shard as the put responses said: otherwise
the command fails rather than measure errors.

--baseline URL measures a second endpoint (say kinesalite) the same way in the
same run, after the first, and prints the ratio of records/s of each phase.
Endpoints must be on loopback.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runKinesisBench(cmd.Context(), f)
		},
	}
	cmd.Flags().StringVar(&f.endpoint, "endpoint", "", "measure this Kinesis endpoint (a loopback URL) instead of eddy serve in-process")
	cmd.Flags().StringVar(&f.baseline, "baseline", "", "also measure this endpoint (a loopback URL) and print the ratios")
	cmd.Flags().StringVar(&f.baselineName, "baseline-name", "baseline", "name of --baseline in the report")
	cmd.Flags().IntVar(&f.shards, "shards", 8, "shards of the stream")
	cmd.Flags().IntSliceVar(&f.clients, "clients", []int{1, 8}, "numbers of concurrent clients, one put and one get phase each")
	cmd.Flags().DurationVar(&f.duration, "duration", 5*time.Second, "how long each put phase runs")
	cmd.Flags().IntVar(&f.records, "records", 0, "put this many records in each put phase instead of running for --duration")
	cmd.Flags().IntVar(&f.recordBytes, "record-bytes", 200, "bytes of data of each record")
	cmd.Flags().StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	return cmd
}

func (a *invocation) runKinesisBench(ctx context.Context, f kinesisBenchFlags) error {
	if err := parseShardCount("shards", f.shards); err != nil {
		return err
	}
	if f.records < 0 {
		return fmt.Errorf("--records %d: must not be negative", f.records)
	}
	if f.records == 0 && f.duration <= 0 {
		return fmt.Errorf("--duration %s: give a positive duration, or --records", f.duration)
	}
	if f.recordBytes < 1 || f.recordBytes*500 > 5<<20 {
		return fmt.Errorf("--record-bytes %d: give 1 to %d (500 records in a 5 MiB PutRecords)", f.recordBytes, (5<<20)/500)
	}
	if len(f.clients) == 0 {
		return fmt.Errorf("--clients: give at least one number of clients")
	}
	for _, c := range f.clients {
		if c < 1 || c > 1024 {
			return fmt.Errorf("--clients %d: give 1 to 1024", c)
		}
	}
	for _, e := range []string{f.endpoint, f.baseline} {
		if e != "" {
			if err := bench.CheckLoopback(e); err != nil {
				return err
			}
		}
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			pf.Close()
		}()
	}
	cpu0 := processCPU()
	cfg := bench.KinesisConfig{Shards: f.shards, Clients: f.clients, Duration: f.duration, Records: f.records, RecordBytes: f.recordBytes}
	if f.records > 0 {
		cfg.Duration = 0
	}

	name, target := "eddy", ""
	if f.endpoint != "" {
		name, target = "endpoint", f.endpoint
		cfg.Endpoint = f.endpoint
	} else {
		dir, err := os.MkdirTemp("", "eddy-bench-kinesis-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		url, stop, err := a.startBenchServer(dir)
		if err != nil {
			return err
		}
		defer stop()
		cfg.Endpoint = url
		target = fmt.Sprintf("eddy serve in-process at %s (data dir %s)", url, dir)
	}
	mode := fmt.Sprintf("for %s per phase", f.duration)
	if f.records > 0 {
		mode = fmt.Sprintf("%d records per phase", f.records)
	}
	fmt.Fprintf(a.stdout, "eddy bench kinesis: %s, a stream of %d shards; PutRecords of 500 x %d B, %s, then GetRecords (Limit 10000) of the whole stream\nmachine: %s\n\n",
		target, f.shards, f.recordBytes, mode, bench.Machine())

	res, err := bench.KinesisRun(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%s (%s): %w", name, cfg.Endpoint, err)
	}
	if err := bench.PrintKinesis(a.stdout, name, res); err != nil {
		return err
	}
	a.printKinesisChecked(name, res)

	if f.baseline != "" {
		bcfg := cfg
		bcfg.Endpoint = f.baseline
		fmt.Fprintf(a.stdout, "\n%s at %s, the same way:\n", f.baselineName, f.baseline)
		bres, err := bench.KinesisRun(ctx, bcfg)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", f.baselineName, f.baseline, err)
		}
		if err := bench.PrintKinesis(a.stdout, f.baselineName, bres); err != nil {
			return err
		}
		a.printKinesisChecked(f.baselineName, bres)
		fmt.Fprintln(a.stdout)
		if err := bench.PrintKinesisRatios(a.stdout, name, res, f.baselineName, bres); err != nil {
			return err
		}
	}
	where := "the clients only: the server is another process"
	if f.endpoint == "" {
		where = "the clients and the in-process server"
		if f.baseline != "" {
			where += "; the baseline's clients only"
		}
	}
	fmt.Fprintf(a.stdout, "\nCPU s of this process: %.2f in all (%s)\n", (processCPU() - cpu0).Seconds(), where)
	return nil
}

func (a *invocation) printKinesisChecked(name string, r *bench.KinesisResult) {
	fmt.Fprintf(a.stdout, "checked %s: %d records put, every PutRecords answered FailedRecordCount 0; each GetRecords phase read all %d, shard by shard as the puts said\n",
		name, r.Put, r.Put)
}

// startBenchServer serves the Kinesis API over a store in dir on a free
// loopback port, as eddy serve does (no state delay, no authentication).
func (a *invocation) startBenchServer(dir string) (string, func(), error) {
	a.dataDir = dir
	st, err := a.openStore(false)
	if err != nil {
		return "", nil, err
	}
	serverGC() // as eddy serve runs
	h, err := kinesisapi.New(st, kinesisapi.Options{StateDelay: -1, Logger: a.logger()})
	if err != nil {
		st.Close()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx) //nolint:errcheck // the measures are taken
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger().Warn("bench server", "err", err)
		}
		if err := st.Close(); err != nil {
			a.logger().Warn("close store", "err", err)
		}
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// processCPU is this process's user plus system time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
