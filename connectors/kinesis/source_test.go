package kinesis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"go.uber.org/goleak"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var tradeCols = types.Schema{
	{Name: "key", Type: types.VarcharType},
	{Name: "n", Type: types.BigIntType},
	{Name: "price", Type: types.DoubleType},
}

// clock is an injectable store clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t *testing.T, dir string, opts streamstore.Options) *streamstore.Store {
	t.Helper()
	s, err := streamstore.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t *testing.T, stream string, shards int) *streamstore.Store {
	t.Helper()
	s := openStore(t, t.TempDir(), streamstore.DefaultOptions())
	if stream != "" {
		if err := s.CreateStream(stream, shards); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// putN puts records key-(i%keys) with n = i for i in [from, to), in batches.
func putN(t *testing.T, s *streamstore.Store, stream string, from, to, keys int) {
	t.Helper()
	var batch []streamstore.PutEntry
	for i := from; i < to; i++ {
		key := fmt.Sprintf("key-%d", i%keys)
		batch = append(batch, streamstore.PutEntry{PartitionKey: key, Data: fmt.Appendf(nil, `{"key":%q,"n":%d,"price":%d.5}`, key, i, i)})
		if len(batch) == 500 || i == to-1 {
			if _, err := s.PutRecords(context.Background(), stream, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

func jsonDecoder(t *testing.T, cols types.Schema) format.Decoder {
	t.Helper()
	d, err := format.NewDecoder("json", cols, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func openSource(t *testing.T, s *streamstore.Store, cfg SourceConfig) *EmbeddedSource {
	t.Helper()
	if cfg.Decoder == nil {
		cfg.Decoder = jsonDecoder(t, tradeCols)
	}
	if cfg.Name == "" {
		cfg.Name = "trades"
	}
	if cfg.Stream == "" {
		cfg.Stream = "trades"
	}
	src, err := OpenEmbeddedSource(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// row is one decoded row as the tests see it.
type row struct {
	shard string
	key   string
	n     int64
}

// collector reads batches and checks the invariants every batch must hold.
type collector struct {
	t        *testing.T
	sizes    []int // rows per batch with a record
	rows     []row
	batches  []exec.SourceBatch // without their records
	errs     []exec.ErrorRecord
	done     map[string]bool // splits that reported SplitDone
	lastSeq  map[string]string
	started  map[string]bool // splits that delivered rows
	beats    int
	rowtimes []int64
}

func newCollector(t *testing.T, _ *streamstore.Store, _ string) *collector {
	return &collector{t: t, done: map[string]bool{}, lastSeq: map[string]string{}, started: map[string]bool{}}
}

func (c *collector) add(b exec.SourceBatch) {
	t := c.t
	t.Helper()
	if c.done[b.Split] {
		t.Fatalf("batch for split %s after its SplitDone", b.Split)
	}
	if b.Position != "" {
		if prev := c.lastSeq[b.Split]; prev != "" && b.Position < prev {
			t.Fatalf("split %s: position went back from %s to %s", b.Split, prev, b.Position)
		}
		c.lastSeq[b.Split] = b.Position
	}
	if b.Record == nil && len(b.Errors) == 0 && !b.SplitDone {
		c.beats++
	}
	if b.Record != nil {
		rec := b.Record
		keys := rec.Column(0).(*array.String)
		ns := rec.Column(1).(*array.Int64)
		for i := range int(rec.NumRows()) {
			c.rows = append(c.rows, row{shard: b.Split, key: keys.Value(i), n: ns.Value(i)})
		}
		if last := rec.Schema().Field(int(rec.NumCols()) - 1); last.Name == "ROWTIME" {
			ts := rec.Column(int(rec.NumCols()) - 1).(*array.Timestamp)
			for i := range int(rec.NumRows()) {
				c.rowtimes = append(c.rowtimes, int64(ts.Value(i)))
			}
		}
		c.started[b.Split] = true
		c.sizes = append(c.sizes, int(rec.NumRows()))
		rec.Release()
		b.Record = nil
	}
	c.errs = append(c.errs, b.Errors...)
	if b.SplitDone {
		c.done[b.Split] = true
	}
	c.batches = append(c.batches, b)
}

// readAll reads a bounded source to io.EOF.
func (c *collector) readAll(src exec.Source) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			return
		}
		if err != nil {
			c.t.Fatal(err)
		}
		c.add(b)
	}
}

// readUntil reads a live source until n rows arrived.
func (c *collector) readUntil(src exec.Source, n int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(c.rows) < n {
		b, err := src.Next(ctx)
		if err != nil {
			c.t.Fatalf("after %d of %d rows: %v", len(c.rows), n, err)
		}
		c.add(b)
	}
}

// checkExactlyOnce checks that rows hold n = 0..total-1 once each, and that the
// rows of each key arrive in put order.
func (c *collector) checkExactlyOnce(total int) {
	t := c.t
	t.Helper()
	seen := map[int64]int{}
	lastOfKey := map[string]int64{}
	for _, r := range c.rows {
		seen[r.n]++
		if prev, ok := lastOfKey[r.key]; ok && r.n <= prev {
			t.Fatalf("key %s: n=%d after n=%d", r.key, r.n, prev)
		}
		lastOfKey[r.key] = r.n
	}
	if len(c.rows) != total || len(seen) != total {
		t.Fatalf("%d rows, %d distinct; want %d", len(c.rows), len(seen), total)
	}
	for n, k := range seen {
		if k != 1 || n < 0 || n >= int64(total) {
			t.Fatalf("n=%d seen %d times", n, k)
		}
	}
}

func TestBoundedReadsEveryShard(t *testing.T) {
	s := newStore(t, "trades", 4)
	putN(t, s, "trades", 0, 3000, 37)
	src := openSource(t, s, SourceConfig{Bounded: true, Rowtime: true, MaxRows: 500})
	if got := src.Schema().String(); !strings.Contains(got, "ROWTIME: type=timestamp[ms, tz=UTC]") {
		t.Errorf("schema %s", got)
	}
	c := newCollector(t, s, "trades")
	c.readAll(src)
	c.checkExactlyOnce(3000)
	d, _ := s.DescribeStream("trades")
	for _, sd := range d.Shards {
		if !c.done[sd.ShardID] {
			t.Errorf("shard %s: no SplitDone", sd.ShardID)
		}
		if sd.Records > 0 && !c.started[sd.ShardID] {
			t.Errorf("shard %s: no rows", sd.ShardID)
		}
	}
	for _, b := range c.batches {
		if b.Record != nil {
			t.Fatal("collector kept a record")
		}
	}
	// ROWTIME is the arrival time in ms.
	if len(c.rowtimes) != 3000 {
		t.Fatalf("%d rowtimes", len(c.rowtimes))
	}
	for _, ms := range c.rowtimes {
		if d := time.Since(time.UnixMilli(ms)); d < 0 || d > time.Minute {
			t.Fatalf("rowtime %v", time.UnixMilli(ms))
		}
	}
	// Batches respect MaxRows and fill up when records are waiting.
	full := 0
	for _, n := range c.sizes {
		if n > 500 {
			t.Fatalf("a batch of %d rows; MaxRows is 500", n)
		}
		if n == 500 {
			full++
		}
	}
	if full < 4 {
		t.Errorf("only %d full batches of 3000 rows in 4 shards: %v", full, c.sizes)
	}
	// Positions are sequence numbers of the split.
	for _, b := range c.batches {
		if b.Position != "" {
			seq, err := streamstore.ParseSequenceNumber(b.Position)
			if err != nil || streamstore.ShardID(seq.Shard) != b.Split {
				t.Fatalf("position %s of split %s: %v", b.Position, b.Split, err)
			}
		}
	}
	if _, err := src.Next(context.Background()); err != io.EOF {
		t.Fatalf("Next after EOF: %v", err)
	}
}

func TestBoundedStopsAtOpen(t *testing.T) {
	s := newStore(t, "trades", 2)
	putN(t, s, "trades", 0, 100, 5)
	src := openSource(t, s, SourceConfig{Bounded: true})
	putN(t, s, "trades", 100, 200, 5) // after open: not read
	c := newCollector(t, s, "trades")
	c.readAll(src)
	c.checkExactlyOnce(100)

	empty := newStore(t, "trades", 3)
	c = newCollector(t, empty, "trades")
	c.readAll(openSource(t, empty, SourceConfig{Bounded: true}))
	if len(c.rows) != 0 || len(c.done) != 3 {
		t.Fatalf("empty stream: %d rows, %d done", len(c.rows), len(c.done))
	}
}

// A reshard while the source reads: every record once, each key in order, a
// parent's SplitDone before any batch of its children.
func TestReshardWhileReading(t *testing.T) {
	s := newStore(t, "trades", 2)
	putN(t, s, "trades", 0, 400, 23)
	src := openSource(t, s, SourceConfig{MaxRows: 64, PollInterval: 5 * time.Millisecond, MaxDelay: 5 * time.Millisecond})
	c := newCollector(t, s, "trades")
	c.readUntil(src, 100)

	if err := s.UpdateShardCount("trades", 3); err != nil {
		t.Fatal(err)
	}
	putN(t, s, "trades", 400, 800, 23)
	c.readUntil(src, 800)
	d, _ := s.DescribeStream("trades")
	var open []streamstore.ShardDescription
	for _, sd := range d.Shards {
		if sd.Open {
			open = append(open, sd)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].HashKeyRange.Start.Cmp(open[j].HashKeyRange.Start) < 0 })
	if err := s.MergeShards("trades", open[0].ShardID, open[1].ShardID); err != nil {
		t.Fatal(err)
	}
	putN(t, s, "trades", 800, 1200, 23)
	c.readUntil(src, 1200)
	c.checkExactlyOnce(1200)
	if act := src.ActiveSplits(); len(act) != 2 {
		t.Errorf("active splits %v, want the 2 open shards", act)
	}

	// Lineage: no batch of a child before its parents' SplitDone.
	d, _ = s.DescribeStream("trades")
	parents := map[string][]string{}
	for _, sd := range d.Shards {
		for _, p := range []string{sd.ParentShardID, sd.AdjacentParentShardID} {
			if p != "" {
				parents[sd.ShardID] = append(parents[sd.ShardID], p)
			}
		}
	}
	doneAt := map[string]int{}
	for i, b := range c.batches {
		if b.SplitDone {
			doneAt[b.Split] = i
		}
	}
	for i, b := range c.batches {
		for _, p := range parents[b.Split] {
			at, ok := doneAt[p]
			if !ok || at > i {
				t.Fatalf("batch %d of %s before parent %s was done (at %d, %v)", i, b.Split, p, at, ok)
			}
		}
	}
	closed := 0
	for _, sd := range d.Shards {
		if !sd.Open {
			closed++
			if !c.done[sd.ShardID] {
				t.Errorf("closed shard %s has no SplitDone", sd.ShardID)
			}
		}
	}
	if closed < 3 {
		t.Fatalf("only %d closed shards", closed)
	}

	// A bounded read of the resharded stream: the same rows, lineage kept,
	// and shards created after open are not read.
	bounded := openSource(t, s, SourceConfig{Bounded: true, MaxRows: 100})
	if err := s.UpdateShardCount("trades", 1); err != nil {
		t.Fatal(err)
	}
	putN(t, s, "trades", 1200, 1300, 23)
	b := newCollector(t, s, "trades")
	b.readAll(bounded)
	b.checkExactlyOnce(1200)
	for i, batch := range b.batches {
		for _, p := range parents[batch.Split] {
			if at, ok := indexOfDone(b.batches, p); !ok || at > i {
				t.Fatalf("bounded: batch %d of %s before parent %s was done", i, batch.Split, p)
			}
		}
	}
}

func indexOfDone(batches []exec.SourceBatch, split string) (int, bool) {
	for i, b := range batches {
		if b.Split == split && b.SplitDone {
			return i, true
		}
	}
	return 0, false
}

func TestStartPositions(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts := streamstore.DefaultOptions()
	opts.Now = clk.Now
	s := openStore(t, t.TempDir(), opts)
	if err := s.CreateStream("trades", 2); err != nil {
		t.Fatal(err)
	}
	putN(t, s, "trades", 0, 50, 7)
	clk.Advance(time.Minute)
	cut := clk.Now()
	putN(t, s, "trades", 50, 120, 7)

	// trim_horizon: everything.
	c := newCollector(t, s, "trades")
	c.readAll(openSource(t, s, SourceConfig{Bounded: true}))
	c.checkExactlyOnce(120)

	// timestamp: from the cut.
	c = newCollector(t, s, "trades")
	c.readAll(openSource(t, s, SourceConfig{Bounded: true, Start: Start{Kind: StartTimestamp, Timestamp: cut}}))
	if len(c.rows) != 70 {
		t.Fatalf("timestamp start: %d rows", len(c.rows))
	}
	for _, r := range c.rows {
		if r.n < 50 {
			t.Fatalf("timestamp start read n=%d", r.n)
		}
	}

	// latest: only what comes after open.
	live := openSource(t, s, SourceConfig{Start: Start{Kind: StartLatest}, PollInterval: 5 * time.Millisecond, MaxDelay: time.Millisecond})
	putN(t, s, "trades", 120, 130, 7)
	c = newCollector(t, s, "trades")
	c.readUntil(live, 10)
	for _, r := range c.rows {
		if r.n < 120 {
			t.Fatalf("latest start read n=%d", r.n)
		}
	}

	// Resume after positions: a bounded read resumed from the positions of a
	// first one reads nothing more.
	first := newCollector(t, s, "trades")
	first.readAll(openSource(t, s, SourceConfig{Bounded: true, MaxRows: 7}))
	c = newCollector(t, s, "trades")
	c.readAll(openSource(t, s, SourceConfig{Bounded: true, Resume: &Resume{After: first.lastSeq}}))
	if len(c.rows) != 0 {
		t.Fatalf("resume re-read %d rows", len(c.rows))
	}
	// Resume from the middle of a shard.
	d, _ := s.DescribeStream("trades")
	sh := d.Shards[0].ShardID
	out, _ := s.GetRecords(context.Background(), mustPos(t, s, sh), 3)
	c = newCollector(t, s, "trades")
	c.readAll(openSource(t, s, SourceConfig{Bounded: true, Resume: &Resume{After: map[string]string{sh: out.Records[2].SequenceNumber.String()}}}))
	if want := int(d.Shards[0].Records) - 3 + int(d.Shards[1].Records); len(c.rows) != want {
		t.Fatalf("resume mid-shard: %d rows, want %d", len(c.rows), want)
	}
}

func mustPos(t *testing.T, s *streamstore.Store, shard string) streamstore.Cursor {
	c, err := s.Position("trades", shard, streamstore.StartingPosition{Type: streamstore.TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDecodeErrorsGoToTheBatch(t *testing.T) {
	s := newStore(t, "trades", 1)
	recs := []string{`{"key":"a","n":1}`, `{"key":"b","n":"x"}`, `not json`, `{"key":"c","n":3}`, "\xff\xfe"}
	var seqs []string
	for _, r := range recs {
		res, err := s.PutRecord(context.Background(), "trades", streamstore.PutEntry{PartitionKey: "k", Data: []byte(r)})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, res.SequenceNumber.String())
	}
	c := newCollector(t, s, "trades")
	c.readAll(openSource(t, s, SourceConfig{Name: "Trades", Bounded: true}))
	if len(c.rows) != 2 || c.rows[0].n != 1 || c.rows[1].n != 3 {
		t.Fatalf("rows %v", c.rows)
	}
	if len(c.errs) != 3 {
		t.Fatalf("errors %v", c.errs)
	}
	want := []struct{ seq, reason, raw string }{
		{seqs[1], `column n: value "x" is not a BIGINT`, recs[1]},
		{seqs[2], `not a JSON object: it starts with 'n'`, recs[2]},
		{seqs[4], `not a JSON object: it starts with byte 0xff`, recs[4]},
	}
	for i, w := range want {
		e := c.errs[i]
		if e.Kind != exec.ErrorDecode || e.Source != "Trades" || e.Split != "shardId-000000000000" || e.Position != w.seq ||
			e.Reason != w.reason || string(e.Raw) != w.raw || e.At.IsZero() || e.Rowtime.IsZero() || e.Rowtime.Nanosecond()%1e6 != 0 {
			t.Errorf("error %d: %+v", i, e)
		}
	}
	// The position covers the failed last record.
	if c.lastSeq["shardId-000000000000"] != seqs[4] {
		t.Errorf("position %s, want %s", c.lastSeq["shardId-000000000000"], seqs[4])
	}
}

// One record on a quiet live stream arrives in a batch at once, not after
// 8192 rows; idle shards send heartbeats.
func TestFlushLatencyAndHeartbeats(t *testing.T) {
	s := newStore(t, "trades", 2)
	src := openSource(t, s, SourceConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Idle: heartbeats with no record and a recent Arrival.
	beats := map[string]bool{}
	for len(beats) < 2 {
		b, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b.Record != nil || b.SplitDone || len(b.Errors) > 0 || time.Since(b.Arrival) > time.Second {
			t.Fatalf("heartbeat %+v", b)
		}
		beats[b.Split] = true
	}
	start := time.Now()
	putN(t, s, "trades", 0, 1, 1)
	for {
		b, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b.Record == nil {
			continue
		}
		if b.Record.NumRows() != 1 || b.Position == "" {
			t.Fatalf("batch of %d rows, position %q", b.Record.NumRows(), b.Position)
		}
		b.Record.Release()
		break
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("one record took %v to arrive", d)
	}
	// Heartbeats come at most every poll interval per shard.
	counts := map[string]int{}
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		b, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		counts[b.Split]++
	}
	for sh, n := range counts {
		if n > 200/int(DefaultPollInterval/time.Millisecond)+2 {
			t.Errorf("shard %s: %d heartbeats in 200ms", sh, n)
		}
	}
}

func TestNextEndsWithContextAndClose(t *testing.T) {
	s := newStore(t, "trades", 1)
	src := openSource(t, s, SourceConfig{PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	b, err := src.Next(ctx) // the first heartbeat
	if err != nil || b.Record != nil {
		t.Fatalf("%+v %v", b, err)
	}
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	done := make(chan error)
	go func() {
		_, err := src.Next(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	src.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}

// Projection: only the needed columns, in the asked order, then ROWTIME.
func TestProjectionAndCSV(t *testing.T) {
	s := newStore(t, "quotes", 1)
	for _, r := range []string{"a,1,2.5", "b,2,3.5", "bad"} {
		s.PutRecord(context.Background(), "quotes", streamstore.PutEntry{PartitionKey: "k", Data: []byte(r)})
	}
	cfg, err := SourceConfigFromOptions("q", tradeCols, nil, map[string]string{"connector": "kinesis", "stream": "quotes", "format": "csv"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.SetScanColumns([]int{2, 0, 3}); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Columns) != 2 || !cfg.Rowtime {
		t.Fatalf("scan columns %v rowtime %v", cfg.Columns, cfg.Rowtime)
	}
	for _, bad := range [][]int{{3, 0}, {4}, {-1}} {
		c := cfg
		if err := c.SetScanColumns(bad); err == nil {
			t.Errorf("SetScanColumns(%v) accepted", bad)
		}
	}
	cfg.Bounded = true
	src, err := OpenEmbeddedSource(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var recs []arrow.RecordBatch
	var errs []exec.ErrorRecord
	for {
		b, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.Record != nil {
			recs = append(recs, b.Record)
		}
		errs = append(errs, b.Errors...)
	}
	if len(recs) != 1 || len(errs) != 1 || errs[0].Reason != "the record has 1 fields; the stream has 3 columns" {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	rec := recs[0]
	defer rec.Release()
	if got := rec.Schema().Field(0).Name + " " + rec.Schema().Field(1).Name + " " + rec.Schema().Field(2).Name; got != "price key ROWTIME" {
		t.Fatalf("columns %s", got)
	}
	if rec.Column(0).(*array.Float64).Value(1) != 3.5 || rec.Column(1).(*array.String).Value(0) != "a" {
		t.Fatalf("record %v", rec)
	}
}

// A source on a read-only store sees what another writer puts.
func TestReadOnlyStoreFollowsWriter(t *testing.T) {
	dir := t.TempDir()
	w := openStore(t, dir, streamstore.DefaultOptions())
	if err := w.CreateStream("trades", 2); err != nil {
		t.Fatal(err)
	}
	putN(t, w, "trades", 0, 10, 3)
	ro := streamstore.DefaultOptions()
	ro.ReadOnly = true
	r := openStore(t, dir, ro)
	src := openSource(t, r, SourceConfig{PollInterval: 5 * time.Millisecond})
	c := newCollector(t, r, "trades")
	c.readUntil(src, 10)
	putN(t, w, "trades", 10, 30, 3)
	c.readUntil(src, 30)
	c.checkExactlyOnce(30)
}

func TestSourceOptions(t *testing.T) {
	cases := []struct {
		with map[string]string
		want string
	}{
		{map[string]string{"stream": "s", "colour": "red"}, `stream t: unknown option "colour" for a kinesis stream in json format; valid options are access_key_id, connector, endpoint, format, json.case_sensitive, max_batch_rows, profile, region, secret_access_key, start, start_timestamp, stream, timestamp_format, timestamp_unit`},
		{map[string]string{"stream": "s", "max_batch_rows": "0"}, `stream t: option max_batch_rows = "0": must be a whole number from 1 to 1048576`},
		{map[string]string{"stream": "s", "max_batch_rows": "ten"}, `option max_batch_rows = "ten"`},
		{map[string]string{"stream": "s", "csv.header": "true"}, `unknown option "csv.header" for a kinesis stream in json format`},
		{map[string]string{}, `stream t: option stream is required`},
		{map[string]string{"stream": "s", "start": "beginning"}, `stream t: option start = "beginning": must be trim_horizon, latest or timestamp`},
		{map[string]string{"stream": "s", "start": "timestamp"}, `option start = 'timestamp' needs option start_timestamp`},
		{map[string]string{"stream": "s", "start": "latest", "start_timestamp": "2026-01-01T00:00:00Z"}, `option start_timestamp applies only with start = 'timestamp', not "latest"`},
		{map[string]string{"stream": "s", "start_timestamp": "yesterday"}, `option start_timestamp = "yesterday": not an RFC 3339 time`},
		{map[string]string{"stream": "s", "format": "avro"}, `option format = "avro": kinesis streams are read as json or csv`},
		{map[string]string{"stream": "s", "connector": "kafka"}, `option connector = "kafka", not 'kinesis'`},
		{map[string]string{"stream": "s", "timestamp_unit": "h"}, `stream t: option timestamp_unit = "h"`},
	}
	for _, c := range cases {
		_, err := SourceConfigFromOptions("t", tradeCols, nil, c.with)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.with, err, c.want)
		}
	}
	cfg, err := SourceConfigFromOptions("t", tradeCols, nil, map[string]string{"STREAM": "s", "start_timestamp": "2026-01-01T00:00:00+01:00", "format": "CSV", "csv.header": "true", "max_batch_rows": " 7 "})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxRows != 7 {
		t.Errorf("max_batch_rows 7 gave MaxRows %d", cfg.MaxRows)
	}
	if cfg.Stream != "s" || cfg.Start.Kind != StartTimestamp || !cfg.Start.Timestamp.Equal(time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)) || cfg.Decoder.Format() != "csv" {
		t.Errorf("config %+v", cfg)
	}
	s := newStore(t, "trades", 1)
	if _, err := OpenEmbeddedSource(s, SourceConfig{Name: "t", Stream: "nope", Decoder: jsonDecoder(t, tradeCols)}); err == nil || !errors.Is(err, streamstore.ErrNotFound) {
		t.Errorf("missing stream: %v", err)
	}
	if _, err := OpenEmbeddedSource(s, SourceConfig{Name: "t", Stream: "trades", Decoder: jsonDecoder(t, tradeCols), Columns: []int{7}}); err == nil {
		t.Error("bad projection accepted")
	}
}

// Heartbeats and errors are stamped with the store's clock, the clock of
// arrival times, so an injected clock keeps ROWTIME and idleness consistent.
func TestHeartbeatUsesStoreClock(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts := streamstore.DefaultOptions()
	opts.Now = clk.Now
	s := openStore(t, t.TempDir(), opts)
	if err := s.CreateStream("trades", 1); err != nil {
		t.Fatal(err)
	}
	s.PutRecord(context.Background(), "trades", streamstore.PutEntry{PartitionKey: "k", Data: []byte("bad")})
	src := openSource(t, s, SourceConfig{Now: clk.Now, PollInterval: time.Millisecond, MaxDelay: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sawError, sawBeat := false, false
	for !sawError || !sawBeat {
		b, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Errors {
			sawError = true
			if !e.At.Equal(clk.Now()) || !e.Rowtime.Equal(clk.Now()) {
				t.Fatalf("error at %v rowtime %v, want the store clock %v", e.At, e.Rowtime, clk.Now())
			}
		}
		if len(b.Errors) == 0 && b.Record == nil {
			sawBeat = true
			if !b.Arrival.Equal(clk.Now()) {
				t.Fatalf("heartbeat arrival %v, want the store clock %v", b.Arrival, clk.Now())
			}
		}
	}
}
