package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// KinesisConfig is what KinesisRun measures against one Kinesis endpoint.
type KinesisConfig struct {
	// Endpoint is the API's URL; it must be on loopback (the benchmark never
	// contacts anything else, and its credentials are fake).
	Endpoint string
	// Stream is created with Shards shards (and deleted at the end).
	Stream string
	Shards int
	// Clients are the numbers of concurrent SDK clients, each with its own
	// connections, of the put phases and then of the get phases.
	Clients []int
	// Each put phase runs for Duration, or puts Records records if Records > 0.
	Duration time.Duration
	Records  int
	// RecordBytes is the size of each record's data; BatchRecords how many
	// records each PutRecords carries; GetLimit the Limit of GetRecords.
	RecordBytes  int
	BatchRecords int
	GetLimit     int
	// Timeout bounds the whole run.
	Timeout time.Duration
}

func (c *KinesisConfig) defaults() {
	if c.Shards == 0 {
		c.Shards = 8
	}
	if len(c.Clients) == 0 {
		c.Clients = []int{1, 8}
	}
	if c.Duration == 0 && c.Records == 0 {
		c.Duration = 5 * time.Second
	}
	if c.RecordBytes == 0 {
		c.RecordBytes = 200
	}
	if c.BatchRecords == 0 {
		c.BatchRecords = 500
	}
	if c.GetLimit == 0 {
		c.GetLimit = 10000
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Minute
	}
}

// KinesisPhase is one measured phase: PutRecords or GetRecords from some
// number of clients.
type KinesisPhase struct {
	Op       string // "PutRecords" or "GetRecords"
	Clients  int
	Records  int64
	Bytes    int64 // record data only
	Requests int64 // calls of Op
	Wall     time.Duration
	CPU      time.Duration // of this process
}

// RecordsPerSec is the phase's throughput in wall time.
func (p KinesisPhase) RecordsPerSec() float64 { return float64(p.Records) / p.Wall.Seconds() }

// MBPerSec is the record data's throughput in wall time (1 MB = 10^6 bytes).
func (p KinesisPhase) MBPerSec() float64 { return float64(p.Bytes) / 1e6 / p.Wall.Seconds() }

// KinesisResult is a run's phases and what they were checked against.
type KinesisResult struct {
	Config KinesisConfig
	Phases []KinesisPhase
	// Put is how many records the put phases wrote in all (every one
	// acknowledged: FailedRecordCount 0), PerShard how many into each shard
	// as the responses said; every get phase read exactly these.
	Put      int64
	PerShard map[string]int64
}

// CheckLoopback refuses an endpoint that is not http(s) on a loopback address.
func CheckLoopback(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("endpoint %q: want an http:// or https:// URL", endpoint)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("endpoint %q: the benchmark only measures endpoints on loopback (127.0.0.1, ::1, localhost)", endpoint)
	}
	return nil
}

// newKinesisClient is an SDK client with fake static credentials, its own
// connections, and no retries but one: a reply whose connection the client's
// own transport closed while reading it (aws/aws-sdk-go-v2#2737; the SDK's
// default retryer retries it too). Any other error is an error, never hidden
// in a retry; a PutRecords repeated that way would show as extra records in
// the read check.
func newKinesisClient(endpoint string, conns int) *kinesis.Client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEDDYBENCH", "eddy-bench-fake-secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				if errors.Is(err, net.ErrClosed) {
					return aws.TrueTernary
				}
				return aws.FalseTernary
			})}
		}),
		HTTPClient: &http.Client{Transport: tr},
	})
}

func closeClient(c *kinesis.Client) {
	if hc, ok := c.Options().HTTPClient.(*http.Client); ok {
		hc.CloseIdleConnections()
	}
}

// KinesisRun creates the stream, runs a put phase for each number of
// clients, then a get phase for each that reads the whole stream, and deletes
// the stream. It fails if any record was not acknowledged or any get phase
// read other than what was put, shard by shard.
func KinesisRun(ctx context.Context, cfg KinesisConfig) (*KinesisResult, error) {
	cfg.defaults()
	if err := CheckLoopback(cfg.Endpoint); err != nil {
		return nil, err
	}
	if cfg.Stream == "" {
		cfg.Stream = "eddy-bench-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	admin := newKinesisClient(cfg.Endpoint, 1)
	defer closeClient(admin)
	if _, err := admin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(cfg.Stream), ShardCount: aws.Int32(int32(cfg.Shards))}); err != nil {
		return nil, fmt.Errorf("CreateStream %s: %w", cfg.Stream, err)
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer dcancel()
		admin.DeleteStream(dctx, &kinesis.DeleteStreamInput{StreamName: aws.String(cfg.Stream)}) //nolint:errcheck // best effort
	}()
	w := kinesis.NewStreamExistsWaiter(admin, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(cfg.Stream)}, time.Minute); err != nil {
		return nil, fmt.Errorf("stream %s did not become ACTIVE: %w", cfg.Stream, err)
	}
	shards, err := listShards(ctx, admin, cfg.Stream)
	if err != nil {
		return nil, err
	}
	if len(shards) != cfg.Shards {
		return nil, fmt.Errorf("ListShards %s: %d shards, created with %d", cfg.Stream, len(shards), cfg.Shards)
	}

	res := &KinesisResult{Config: cfg, PerShard: make(map[string]int64)}
	for _, s := range shards {
		res.PerShard[s] = 0
	}
	for i, n := range cfg.Clients {
		p, perShard, err := putPhase(ctx, cfg, n, i)
		if err != nil {
			return nil, fmt.Errorf("PutRecords from %d clients: %w", n, err)
		}
		for s, c := range perShard {
			if _, ok := res.PerShard[s]; !ok {
				return nil, fmt.Errorf("PutRecords answered shard %s, which ListShards did not list", s)
			}
			res.PerShard[s] += c
		}
		res.Put += p.Records
		res.Phases = append(res.Phases, p)
	}
	for _, n := range cfg.Clients {
		p, err := getPhase(ctx, cfg, n, shards, res.PerShard)
		if err != nil {
			return nil, fmt.Errorf("GetRecords from %d clients: %w", n, err)
		}
		if p.Records != res.Put {
			return nil, fmt.Errorf("GetRecords from %d clients read %d records, %d were put", n, p.Records, res.Put)
		}
		if want := res.Put * int64(cfg.RecordBytes); p.Bytes != want {
			return nil, fmt.Errorf("GetRecords from %d clients read %d bytes of data, %d were put", n, p.Bytes, want)
		}
		res.Phases = append(res.Phases, p)
	}
	return res, nil
}

func listShards(ctx context.Context, c *kinesis.Client, stream string) ([]string, error) {
	var ids []string
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := c.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListShards %s: %w", stream, err)
		}
		for _, s := range out.Shards {
			ids = append(ids, aws.ToString(s.ShardId))
		}
		if out.NextToken == nil {
			return ids, nil
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// kinesisBatches builds a client's batches ahead of the measure: records of
// random bytes under partition keys unique to the client, spread over the
// shards by their hash.
func kinesisBatches(cfg KinesisConfig, phase, client int) [][]types.PutRecordsRequestEntry {
	const batches = 4
	rng := rand.New(rand.NewPCG(uint64(phase), uint64(client)))
	out := make([][]types.PutRecordsRequestEntry, batches)
	for b := range out {
		data := make([]byte, cfg.BatchRecords*cfg.RecordBytes)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		out[b] = make([]types.PutRecordsRequestEntry, cfg.BatchRecords)
		for i := range out[b] {
			key := fmt.Sprintf("p%d-c%d-b%d-r%d", phase, client, b, i)
			out[b][i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: data[i*cfg.RecordBytes : (i+1)*cfg.RecordBytes : (i+1)*cfg.RecordBytes]}
		}
	}
	return out
}

func putPhase(ctx context.Context, cfg KinesisConfig, clients, phase int) (KinesisPhase, map[string]int64, error) {
	cs := make([]*kinesis.Client, clients)
	batches := make([][][]types.PutRecordsRequestEntry, clients)
	for i := range cs {
		cs[i] = newKinesisClient(cfg.Endpoint, 2)
		defer closeClient(cs[i])
		batches[i] = kinesisBatches(cfg, phase, i)
	}
	// Records mode hands out the remaining records batch by batch; duration
	// mode puts full batches until the deadline.
	var remaining atomic.Int64
	remaining.Store(int64(cfg.Records))
	take := func() int {
		if cfg.Records <= 0 {
			return cfg.BatchRecords
		}
		for {
			r := remaining.Load()
			if r <= 0 {
				return 0
			}
			n := min(r, int64(cfg.BatchRecords))
			if remaining.CompareAndSwap(r, r-n) {
				return int(n)
			}
		}
	}
	var (
		mu       sync.Mutex
		perShard = make(map[string]int64)
		records  atomic.Int64
		requests atomic.Int64
		firstErr error
	)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	var deadline time.Time
	stage := fmt.Sprintf("PutRecords from %d clients", clients)
	m, _ := Time(stage, func() (int64, int64, error) {
		deadline = time.Now().Add(cfg.Duration)
		var wg sync.WaitGroup
		for i, c := range cs {
			wg.Go(func() {
				local := make(map[string]int64)
				defer func() {
					mu.Lock()
					for s, n := range local {
						perShard[s] += n
					}
					mu.Unlock()
				}()
				for k := 0; pctx.Err() == nil; k++ {
					if cfg.Records <= 0 && !time.Now().Before(deadline) {
						return
					}
					n := take()
					if n == 0 {
						return
					}
					batch := batches[i][k%len(batches[i])][:n]
					out, err := c.PutRecords(pctx, &kinesis.PutRecordsInput{StreamName: aws.String(cfg.Stream), Records: batch})
					requests.Add(1)
					if err != nil {
						fail(err)
						return
					}
					if f := aws.ToInt32(out.FailedRecordCount); f != 0 {
						fail(fmt.Errorf("FailedRecordCount %d of %d (first: %s)", f, n, firstFailure(out.Records)))
						return
					}
					if len(out.Records) != n {
						fail(fmt.Errorf("%d results for %d records", len(out.Records), n))
						return
					}
					for _, r := range out.Records {
						if r.ShardId == nil || r.SequenceNumber == nil {
							fail(fmt.Errorf("a result without ShardId or SequenceNumber: %+v", r))
							return
						}
						local[*r.ShardId]++
					}
					records.Add(int64(n))
				}
			})
		}
		wg.Wait()
		return records.Load(), records.Load() * int64(cfg.RecordBytes), nil
	})
	if firstErr != nil {
		return KinesisPhase{}, nil, firstErr
	}
	if cfg.Records > 0 && m.Events != int64(cfg.Records) {
		return KinesisPhase{}, nil, fmt.Errorf("put %d records, want %d", m.Events, cfg.Records)
	}
	var sum int64
	for _, n := range perShard {
		sum += n
	}
	if sum != m.Events {
		return KinesisPhase{}, nil, fmt.Errorf("responses name shards for %d records, %d were put", sum, m.Events)
	}
	return KinesisPhase{Op: "PutRecords", Clients: clients, Records: m.Events, Bytes: m.Bytes, Requests: requests.Load(), Wall: m.Wall, CPU: m.CPU}, perShard, nil
}

func firstFailure(rs []types.PutRecordsResultEntry) string {
	for _, r := range rs {
		if r.ErrorCode != nil {
			return aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
		}
	}
	return "none named"
}

// getPhase reads every shard from TRIM_HORIZON to its end, the shards handed
// out to the clients one at a time, and checks each shard's count against
// what the puts said went there.
func getPhase(ctx context.Context, cfg KinesisConfig, clients int, shards []string, want map[string]int64) (KinesisPhase, error) {
	cs := make([]*kinesis.Client, clients)
	for i := range cs {
		cs[i] = newKinesisClient(cfg.Endpoint, 2)
		defer closeClient(cs[i])
	}
	queue := make(chan string, len(shards))
	for _, s := range shards {
		queue <- s
	}
	close(queue)
	var (
		mu       sync.Mutex
		got      = make(map[string]int64)
		bytes    atomic.Int64
		requests atomic.Int64
		firstErr error
	)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	m, _ := Time(fmt.Sprintf("GetRecords from %d clients", clients), func() (int64, int64, error) {
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Go(func() {
				for shard := range queue {
					if pctx.Err() != nil {
						return
					}
					n, b, reqs, err := readShard(pctx, c, cfg, shard, want[shard])
					requests.Add(reqs)
					if err != nil {
						fail(fmt.Errorf("%s: %w", shard, err))
						return
					}
					mu.Lock()
					got[shard] = n
					mu.Unlock()
					bytes.Add(b)
				}
			})
		}
		wg.Wait()
		var n int64
		for _, c := range got {
			n += c
		}
		return n, bytes.Load(), nil
	})
	if firstErr != nil {
		return KinesisPhase{}, firstErr
	}
	for _, s := range shards {
		if got[s] != want[s] {
			return KinesisPhase{}, fmt.Errorf("%s: read %d records, %d were put there", s, got[s], want[s])
		}
	}
	return KinesisPhase{Op: "GetRecords", Clients: clients, Records: m.Events, Bytes: m.Bytes, Requests: requests.Load(), Wall: m.Wall, CPU: m.CPU}, nil
}

// readShard reads a shard until it has read want records and then a page
// comes back empty (so it also notices records beyond those put). A few
// empty pages before want are tolerated, as Kinesis may return them.
func readShard(ctx context.Context, c *kinesis.Client, cfg KinesisConfig, shard string, want int64) (n, bytes, requests int64, err error) {
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(cfg.Stream), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		return 0, 0, 0, err
	}
	iter := it.ShardIterator
	empties := 0
	for iter != nil {
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(int32(cfg.GetLimit))})
		requests++
		if err != nil {
			return n, bytes, requests, err
		}
		for _, r := range out.Records {
			bytes += int64(len(r.Data))
		}
		n += int64(len(out.Records))
		iter = out.NextShardIterator
		if len(out.Records) == 0 {
			if n >= want {
				return n, bytes, requests, nil
			}
			if empties++; empties > 20 {
				return n, bytes, requests, fmt.Errorf("%d empty pages in a row after %d of %d records", empties, n, want)
			}
			continue
		}
		empties = 0
	}
	if n < want {
		return n, bytes, requests, errors.New("the shard closed before all its records were read")
	}
	return n, bytes, requests, nil
}

// PrintKinesis writes a run's phases as a table.
func PrintKinesis(w io.Writer, name string, r *KinesisResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\toperation\tclients\trecords\trequests\twall s\trecords/s\tMB/s\tCPU s\t")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.2f\t%.0f\t%.1f\t%.2f\t\n", name, p.Op, p.Clients, p.Records, p.Requests,
			p.Wall.Seconds(), p.RecordsPerSec(), p.MBPerSec(), p.CPU.Seconds())
	}
	return tw.Flush()
}

// PrintKinesisRatios writes a's records/s over b's for each phase they share.
func PrintKinesisRatios(w io.Writer, aName string, a *KinesisResult, bName string, b *KinesisResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "operation\tclients\t%s records/s\t%s records/s\t%s / %s\t\n", aName, bName, aName, bName)
	for _, pa := range a.Phases {
		for _, pb := range b.Phases {
			if pa.Op == pb.Op && pa.Clients == pb.Clients {
				fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.1fx\t\n", pa.Op, pa.Clients, pa.RecordsPerSec(), pb.RecordsPerSec(), pa.RecordsPerSec()/pb.RecordsPerSec())
			}
		}
	}
	return tw.Flush()
}
