package kinesis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/connectors/api/kinesisapi"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

// remoteEnv is eddy serve's Kinesis handler on a loopback httptest server
// over a store, with a RemoteConfig that reaches it (and nothing else).
type remoteEnv struct {
	store *streamstore.Store
	srv   *httptest.Server
	rc    RemoteConfig
	clock *clock // the handler's clock: iterator expiry
}

// isolateAWS keeps the SDK off the machine's AWS configuration and IMDS.
func isolateAWS(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_CA_BUNDLE", "")
}

// newRemoteEnv serves store (a fresh one when nil); wrap, when set, wraps the
// handler (to inject failures).
func newRemoteEnv(t *testing.T, store *streamstore.Store, wrap func(http.Handler) http.Handler) *remoteEnv {
	t.Helper()
	isolateAWS(t)
	if store == nil {
		store = openStore(t, t.TempDir(), streamstore.DefaultOptions())
	}
	c := &clock{t: time.Now()}
	h, err := kinesisapi.New(store, kinesisapi.Options{StateDelay: -1, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = h
	if wrap != nil {
		handler = wrap(h)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &remoteEnv{store: store, srv: srv, clock: c, rc: RemoteConfig{
		Endpoint: srv.URL, Region: "us-east-1", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret",
		HTTPClient: srv.Client(), MinReadInterval: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		RelistInterval: 100 * time.Millisecond,
	}}
}

func (e *remoteEnv) openSource(t *testing.T, cfg SourceConfig) *RemoteSource {
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
	src, err := OpenRemoteSource(context.Background(), cfg, e.rc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// readRow is a row read by a source, with its batch's metadata.
type readRow struct {
	Shard   string
	Key     string
	N       int64
	Rowtime int64
	Seq     string // the batch's position, for the batch's last row
}

// readAll reads src until io.EOF (or until want rows when want > 0, then
// stops), and returns the rows in the order read and the SplitDone shards
// in order. It checks that no shard delivers rows before its parents ended.
func readAll(t *testing.T, src exec.Source, want int, parents map[string][]string) ([]readRow, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rows []readRow
	var done []string
	for want <= 0 || len(rows) < want {
		b, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("after %d rows: %v", len(rows), err)
		}
		if b.Record != nil {
			for _, p := range parents[b.Split] {
				if !slices.Contains(done, p) {
					t.Fatalf("shard %s delivered rows before its parent %s ended", b.Split, p)
				}
			}
			keys := b.Record.Column(0).(*array.String)
			ns := b.Record.Column(1).(*array.Int64)
			var rt *array.Timestamp
			if int(b.Record.NumCols()) > 3 {
				rt = b.Record.Column(3).(*array.Timestamp)
			}
			for i := range int(b.Record.NumRows()) {
				r := readRow{Shard: b.Split, Key: keys.Value(i), N: ns.Value(i)}
				if rt != nil {
					r.Rowtime = int64(rt.Value(i))
				}
				if i == int(b.Record.NumRows())-1 {
					r.Seq = b.Position
				}
				rows = append(rows, r)
			}
			b.Record.Release()
		}
		if len(b.Errors) > 0 {
			t.Fatalf("decode errors: %v", b.Errors)
		}
		if b.SplitDone {
			done = append(done, b.Split)
		}
	}
	return rows, done
}

// byShard groups rows by shard, keeping their order.
func byShard(rows []readRow) map[string][]readRow {
	m := map[string][]readRow{}
	for _, r := range rows {
		m[r.Shard] = append(m[r.Shard], r)
	}
	return m
}

func putTrades(t *testing.T, s *streamstore.Store, from, to int, keys int) {
	t.Helper()
	var batch []streamstore.PutEntry
	for n := from; n < to; n++ {
		k := fmt.Sprintf("k%d", n%keys)
		batch = append(batch, streamstore.PutEntry{PartitionKey: k, Data: fmt.Appendf(nil, `{"key":%q,"n":%d,"price":%d.5}`, k, n, n)})
		if len(batch) == 500 {
			if _, err := s.PutRecords(context.Background(), "trades", batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if _, err := s.PutRecords(context.Background(), "trades", batch); err != nil {
			t.Fatal(err)
		}
	}
}

func shardParents(t *testing.T, s *streamstore.Store) map[string][]string {
	d, err := s.DescribeStream("trades")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, sd := range d.Shards {
		for _, p := range []string{sd.ParentShardID, sd.AdjacentParentShardID} {
			if p != "" {
				m[sd.ShardID] = append(m[sd.ShardID], p)
			}
		}
	}
	return m
}

// checkKeyOrder checks that each key's n increase in the order read.
func checkKeyOrder(t *testing.T, rows []readRow) {
	t.Helper()
	last := map[string]int64{}
	for _, r := range rows {
		if p, ok := last[r.Key]; ok && r.N <= p {
			t.Fatalf("key %s: n %d read after %d", r.Key, r.N, p)
		}
		last[r.Key] = r.N
	}
}

// TestRemoteSourceMatchesEmbedded reads a 4-shard stream split while it is
// read, through the HTTP endpoint and directly, and requires the same rows,
// shard by shard, in the same order, with the same ROWTIME and positions.
func TestRemoteSourceMatchesEmbedded(t *testing.T) {
	e := newRemoteEnv(t, nil, nil)
	if err := e.store.CreateStream("trades", 4); err != nil {
		t.Fatal(err)
	}
	putTrades(t, e.store, 0, 3000, 40)
	live := e.openSource(t, SourceConfig{Rowtime: true, PollInterval: 5 * time.Millisecond})
	var liveRows []readRow
	var wg sync.WaitGroup
	wg.Go(func() {
		liveRows, _ = readAll(t, live, 6000, nil)
	})
	time.Sleep(50 * time.Millisecond)
	splitShard(t, e.store, "shardId-000000000001")
	putTrades(t, e.store, 3000, 6000, 40)
	wg.Wait()
	if len(liveRows) != 6000 {
		t.Fatalf("live remote source read %d rows, want 6000", len(liveRows))
	}
	checkKeyOrder(t, liveRows)

	parents := shardParents(t, e.store)
	emb := openSource(t, e.store, SourceConfig{Rowtime: true, Bounded: true})
	embRows, embDone := readAll(t, emb, 0, parents)
	rem := e.openSource(t, SourceConfig{Rowtime: true, Bounded: true})
	remRows, remDone := readAll(t, rem, 0, parents)
	if len(embRows) != 6000 || len(remRows) != 6000 {
		t.Fatalf("read %d rows directly and %d over HTTP, want 6000", len(embRows), len(remRows))
	}
	checkKeyOrder(t, remRows)
	slices.Sort(embDone)
	slices.Sort(remDone)
	if !slices.Equal(embDone, remDone) || len(embDone) != 6 {
		t.Fatalf("SplitDone: %v directly, %v over HTTP", embDone, remDone)
	}
	es, rs := byShard(embRows), byShard(remRows)
	ls := byShard(liveRows)
	for id, want := range es {
		got := rs[id]
		strip := func(rows []readRow) []readRow {
			out := make([]readRow, len(rows))
			for i, r := range rows {
				r.Seq = ""
				out[i] = r
			}
			return out
		}
		if !slices.Equal(strip(got), strip(want)) {
			t.Fatalf("shard %s: %d rows over HTTP differ from the %d read directly", id, len(got), len(want))
		}
		if !slices.Equal(strip(ls[id]), strip(want)) {
			t.Fatalf("shard %s: the live read differs from the bounded one", id)
		}
		lastSeq := func(rows []readRow) string {
			for i := len(rows) - 1; i >= 0; i-- {
				if rows[i].Seq != "" {
					return rows[i].Seq
				}
			}
			return ""
		}
		if lastSeq(got) != lastSeq(want) {
			t.Fatalf("shard %s: last position %s over HTTP, %s directly", id, lastSeq(got), lastSeq(want))
		}
	}
}

// TestRemoteSourceResume restores a remote source from positions part way
// and requires the rest, exactly.
func TestRemoteSourceResume(t *testing.T) {
	e := newRemoteEnv(t, nil, nil)
	if err := e.store.CreateStream("trades", 2); err != nil {
		t.Fatal(err)
	}
	putTrades(t, e.store, 0, 1000, 10)
	src := e.openSource(t, SourceConfig{MaxRows: 100})
	starts := src.StartPositions()
	if len(starts) != 2 || starts["shardId-000000000000"] != "" {
		t.Fatalf("StartPositions = %v", starts)
	}
	first, _ := readAll(t, src, 300, nil)
	after := starts
	for _, r := range first {
		if r.Seq != "" {
			after[r.Shard] = r.Seq
		}
	}
	src.Close()
	putTrades(t, e.store, 1000, 1500, 10)
	res := e.openSource(t, SourceConfig{Resume: &Resume{After: after}, Bounded: true})
	rest, _ := readAll(t, res, 0, nil)
	seen := map[int64]bool{}
	for _, r := range append(first, rest...) {
		if seen[r.N] {
			t.Fatalf("n %d read twice", r.N)
		}
		seen[r.N] = true
	}
	if len(seen) != 1500 {
		t.Fatalf("read %d distinct rows, want 1500", len(seen))
	}

	// start = latest: nothing old, and the start position is the open time.
	lat := e.openSource(t, SourceConfig{Start: Start{Kind: StartLatest}, PollInterval: 5 * time.Millisecond})
	for id, p := range lat.StartPositions() {
		if !strings.HasPrefix(p, timestampMark) {
			t.Fatalf("latest start of %s = %q", id, p)
		}
	}
	putTrades(t, e.store, 1500, 1510, 10)
	got, _ := readAll(t, lat, 10, nil)
	if got[0].N < 1500 {
		t.Fatalf("start = latest read old row %d", got[0].N)
	}
}

// awsError answers a request as AWS does a failed call.
func awsError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", "test")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
}

func target(r *http.Request) string {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	return op
}

// TestRemoteThrottling: every other GetRecords and GetShardIterator, and
// the first PutRecords of each batch, are throttled; PutRecords fails half
// its entries once. Every row still arrives once, in order per key.
func TestRemoteThrottling(t *testing.T) {
	var calls, throttled, partial atomic.Int64
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch target(r) {
			case "GetRecords", "GetShardIterator":
				if calls.Add(1)%2 == 0 {
					throttled.Add(1)
					awsError(w, codeThroughput, "Rate exceeded for shard shardId-000000000000 in stream trades under account 000000000000.")
					return
				}
			case "PutRecords":
				if calls.Add(1)%3 == 0 {
					throttled.Add(1)
					awsError(w, codeLimitExceeded, "Rate exceeded")
					return
				}
				if partial.Add(1)%2 == 1 {
					failHalf(w, r, h)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newRemoteEnv(t, nil, wrap)
	if err := e.store.CreateStream("trades", 4); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateStream("out", 2); err != nil {
		t.Fatal(err)
	}
	putTrades(t, e.store, 0, 2000, 20)
	src := e.openSource(t, SourceConfig{Bounded: true, MaxRows: 200})
	rows, _ := readAll(t, src, 0, nil)
	if len(rows) != 2000 {
		t.Fatalf("read %d rows, want 2000", len(rows))
	}
	checkKeyOrder(t, rows)
	if src.throttles == 0 {
		t.Fatal("the source saw no throttling")
	}

	// The sink: write the rows to "out", keyed by key.
	sink, err := NewRemoteSink(context.Background(), SinkConfig{Name: "out", Stream: "out", Schema: tradeCols, PartitionKey: "key"}, e.rc)
	if err != nil {
		t.Fatal(err)
	}
	bld := array.NewRecordBuilder(memory.DefaultAllocator, tradeCols.Arrow())
	defer bld.Release()
	for i, r := range rows {
		bld.Field(0).(*array.StringBuilder).Append(r.Key)
		bld.Field(1).(*array.Int64Builder).Append(r.N)
		bld.Field(2).(*array.Float64Builder).Append(float64(r.N))
		if i%700 == 699 || i == len(rows)-1 {
			rec := bld.NewRecordBatch()
			if err := sink.Write(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.retried == 0 {
		t.Fatal("no entry was put again")
	}
	d, _ := e.store.DescribeStream("out")
	total := 0
	for _, sd := range d.Shards {
		c, err := e.store.Position("out", sd.ShardID, streamstore.StartingPosition{Type: streamstore.TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.store.GetRecords(context.Background(), c, 10000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for _, rec := range out.Records {
			var v struct {
				Key string
				N   int64
			}
			if err := json.Unmarshal(rec.Data, &v); err != nil {
				t.Fatal(err)
			}
			if seen[v.N] {
				t.Fatalf("row %d put twice", v.N)
			}
			seen[v.N] = true
		}
		total += len(out.Records)
	}
	if total != 2000 {
		t.Fatalf("the sink put %d records, want 2000", total)
	}
	t.Logf("throttled %d calls; source saw %d throttles; sink put %d entries again", throttled.Load(), src.throttles, sink.retried)
}

// failHalf forwards a PutRecords with its odd entries only, and answers with
// the even ones failed, as Kinesis does a partial failure.
func failHalf(w http.ResponseWriter, r *http.Request, h http.Handler) {
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		awsError(w, "SerializationException", err.Error())
		return
	}
	recs, _ := in["Records"].([]any)
	var odd []any
	for i, rec := range recs {
		if i%2 == 1 {
			odd = append(odd, rec)
		}
	}
	if len(odd) == 0 {
		h.ServeHTTP(w, r)
		return
	}
	in["Records"] = odd
	fwd, _ := json.Marshal(in)
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(fwd))
	r2.ContentLength = int64(len(fwd))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r2)
	var out struct {
		FailedRecordCount int
		Records           []map[string]any
		EncryptionType    string `json:",omitempty"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	merged := make([]map[string]any, len(recs))
	for i := range recs {
		if i%2 == 1 {
			merged[i] = out.Records[i/2]
		} else {
			merged[i] = map[string]any{"ErrorCode": codeThroughput, "ErrorMessage": "Rate exceeded for shard"}
		}
	}
	out.Records = merged
	out.FailedRecordCount += (len(recs) + 1) / 2
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

// TestRemoteExpiredIterator: the endpoint's clock jumps past the iterators'
// five minutes while a shard is read; the source renews its iterator after
// the last record read and misses nothing.
func TestRemoteExpiredIterator(t *testing.T) {
	e := newRemoteEnv(t, nil, nil)
	if err := e.store.CreateStream("trades", 1); err != nil {
		t.Fatal(err)
	}
	putTrades(t, e.store, 0, 500, 5)
	src := e.openSource(t, SourceConfig{MaxRows: 100, PollInterval: 5 * time.Millisecond})
	first, _ := readAll(t, src, 200, nil)
	e.clock.Advance(kinesisapi.IteratorLifetime + time.Minute)
	putTrades(t, e.store, 500, 800, 5)
	rest, _ := readAll(t, src, 800-len(first), nil)
	all := append(first, rest...)
	for i, r := range all {
		if r.N != int64(i) {
			t.Fatalf("row %d is n %d", i, r.N)
		}
	}
	if src.renewals == 0 {
		t.Fatal("no iterator was renewed")
	}
}

// TestRemoteOptions: which options make a stream remote.
func TestRemoteOptions(t *testing.T) {
	for _, c := range []struct {
		with   map[string]string
		remote bool
		err    string
	}{
		{map[string]string{"stream": "s"}, false, ""},
		{map[string]string{"stream": "s", "endpoint": "http://127.0.0.1:4567"}, true, ""},
		{map[string]string{"stream": "s", "REGION": "eu-west-1"}, true, ""},
		{map[string]string{"stream": "s", "profile": "p"}, true, ""},
		{map[string]string{"stream": "s", "access_key_id": "a", "secret_access_key": "b"}, true, ""},
		{map[string]string{"stream": "s", "access_key_id": "a"}, false, "go together"},
		{map[string]string{"stream": "s", "endpoint": "127.0.0.1:4567"}, false, "http or https URL"},
		{map[string]string{"stream": "s", "region": " "}, false, "empty"},
	} {
		rc, err := RemoteConfigFromOptions("stream x", c.with)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: err %v, want %q", c.with, err, c.err)
			}
			continue
		}
		if err != nil || (rc != nil) != c.remote {
			t.Errorf("%v: remote %v, err %v", c.with, rc != nil, err)
		}
	}
	if _, err := SourceConfigFromOptions("x", tradeCols, nil, map[string]string{"stream": "s", "endpoint": "http://127.0.0.1:1", "region": "r", "profile": "p"}); err != nil {
		t.Fatal(err)
	}
	if _, err := SinkConfigFromOptions("x", tradeCols, map[string]string{"stream": "s", "endpoint": "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	_ = types.Schema{}
}
