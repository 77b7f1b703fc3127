package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/connectors/api/kinesisapi"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// TestRemoteKinesisSameResults runs one application (TUMBLE and SESSION over
// out-of-order events in 4 shards, one of them split half way through the
// input) twice over the same store: reading it directly, and reading it
// through eddy serve's Kinesis API over loopback HTTP with aws-sdk-go-v2.
// The results must be identical.
func TestRemoteKinesisSameResults(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_CA_BUNDLE": ""} {
		t.Setenv(k, v)
	}
	store, err := streamstore.Open(t.TempDir(), streamstore.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateStream("events", 4); err != nil {
		t.Fatal(err)
	}
	// 8 keys, 4,000 events; event times 100 ms apart per key with a 5 s gap
	// every 60 events (sessions), shuffled within blocks of 40 (out of order
	// by up to 4 s, within the watermark's minute).
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	var all []streamstore.PutEntry
	for key := range 8 {
		ts := base
		for n := range 500 {
			ts = ts.Add(100 * time.Millisecond)
			if n%60 == 59 {
				ts = ts.Add(5 * time.Second)
			}
			k := fmt.Sprintf("k%d", key)
			all = append(all, streamstore.PutEntry{PartitionKey: k,
				Data: fmt.Appendf(nil, `{"k":%q,"v":%d,"ts":%q}`, k, n, ts.Format("2006-01-02 15:04:05.000"))})
		}
	}
	slices.SortStableFunc(all, func(a, b streamstore.PutEntry) int { return strings.Compare(tsOf(a), tsOf(b)) })
	for i := 0; i < len(all); i += 40 {
		block := all[i:min(i+40, len(all))]
		rng.Shuffle(len(block), func(a, b int) { block[a], block[b] = block[b], block[a] })
	}
	put := func(entries []streamstore.PutEntry) {
		for i := 0; i < len(entries); i += 500 {
			if _, err := store.PutRecords(context.Background(), "events", entries[i:min(i+500, len(entries))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(all[:len(all)/2])
	d, _ := store.DescribeStream("events")
	lo, _ := new(big.Int).SetString(d.Shards[2].HashKeyRange.Start.String(), 10)
	hi, _ := new(big.Int).SetString(d.Shards[2].HashKeyRange.End.String(), 10)
	if err := store.SplitShard("events", d.Shards[2].ShardID, new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1).String()); err != nil {
		t.Fatal(err)
	}
	put(all[len(all)/2:])

	h, err := kinesisapi.New(store, kinesisapi.Options{StateDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	run := func(name, extra string) (string, string) {
		dir := t.TempDir()
		text := fmt.Sprintf(`
CREATE STREAM events (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE)
  WITH (connector = 'kinesis', stream = 'events'%s);
CREATE SINK tumbling WITH (connector = 'file', path = '%s/tumble.json');
CREATE SINK sessions WITH (connector = 'file', path = '%s/session.json');
INSERT INTO tumbling SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi
  FROM events GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND);
INSERT INTO sessions SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS s
  FROM events GROUP BY k, SESSION(ts, INTERVAL '2' SECOND);
`, extra, dir, dir)
		a, err := Compile(name, name+".sql", text)
		if err != nil {
			t.Fatal(err)
		}
		env := Env{Store: store, Stdout: io.Discard, Logger: slog.New(slog.DiscardHandler), Now: time.Now}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		if _, err := a.Run(ctx, env, RunOptions{Bounded: true, Workers: 2}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, time.Since(start))
		return readSorted(t, filepath.Join(dir, "tumble.json")), readSorted(t, filepath.Join(dir, "session.json"))
	}
	embT, embS := run("direct", "")
	remT, remS := run("http", fmt.Sprintf(", endpoint = '%s', region = 'us-east-1', access_key_id = 'AKIDEXAMPLE', secret_access_key = 'secret'", srv.URL))
	if n := strings.Count(embT, "\n"); n < 60 {
		t.Fatalf("only %d tumbling windows", n)
	}
	if n := strings.Count(embS, "\n"); n < 50 {
		t.Fatalf("only %d sessions", n)
	}
	t.Logf("%d tumbling windows, %d sessions", strings.Count(embT, "\n"), strings.Count(embS, "\n"))
	// A remote kinesis sink: the tumbling windows, put through the endpoint.
	if err := store.CreateStream("windows", 2); err != nil {
		t.Fatal(err)
	}
	a, err := Compile("sink", "sink.sql", fmt.Sprintf(`
CREATE STREAM events (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE)
  WITH (connector = 'kinesis', stream = 'events');
CREATE SINK windows WITH (connector = 'kinesis', stream = 'windows', partition_key = 'k', endpoint = '%s',
  access_key_id = 'AKIDEXAMPLE', secret_access_key = 'secret');
INSERT INTO windows SELECT k, window_start, COUNT(*) AS n FROM events GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND);
`, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	env := Env{Store: store, Stdout: io.Discard, Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	if _, err := a.Run(context.Background(), env, RunOptions{Bounded: true}); err != nil {
		t.Fatal(err)
	}
	wd, _ := store.DescribeStream("windows")
	got := 0
	for _, sd := range wd.Shards {
		got += int(sd.Records)
	}
	if want := strings.Count(embT, "\n"); got != want {
		t.Fatalf("the remote sink put %d records, want %d", got, want)
	}
	if embT != remT {
		t.Fatalf("TUMBLE results differ:\ndirect:\n%.2000s\nhttp:\n%.2000s", embT, remT)
	}
	if embS != remS {
		t.Fatalf("SESSION results differ:\ndirect:\n%.2000s\nhttp:\n%.2000s", embS, remS)
	}
}

func tsOf(e streamstore.PutEntry) string {
	_, ts, _ := bytes.Cut(e.Data, []byte(`"ts":`))
	return string(ts)
}

func readSorted(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}
