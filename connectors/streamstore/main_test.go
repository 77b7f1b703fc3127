package streamstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is an injectable Options.Now that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// openStore opens dir with opts and closes the store when the test ends.
func openStore(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testOptions returns options with a fake clock and the given segment size.
func testOptions(clk *fakeClock, segBytes int64) Options {
	o := DefaultOptions()
	if clk != nil {
		o.Now = clk.Now
	}
	if segBytes > 0 {
		o.SegmentBytes = segBytes
	}
	return o
}

// put is one acknowledged record as the test remembers it.
type put struct {
	key   string
	data  string
	shard string
	seq   SequenceNumber
	at    time.Time // the injected clock when the record was put
}

// model is what a test put, in acknowledgement order, for comparing with reads.
type model struct {
	puts []put
}

func (m *model) add(entries []PutEntry, res []PutResult, at time.Time) {
	for i, e := range entries {
		m.puts = append(m.puts, put{key: e.PartitionKey, data: string(e.Data), shard: res[i].ShardID, seq: res[i].SequenceNumber, at: at})
	}
}

// shard returns the records put to one shard, in ordinal order.
func (m *model) shard(id string) []put {
	var out []put
	for _, p := range m.puts {
		if p.shard == id {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq.Ordinal < out[j].seq.Ordinal })
	return out
}

func (m *model) shardIDs() []string {
	seen := map[string]bool{}
	var ids []string
	for _, p := range m.puts {
		if !seen[p.shard] {
			seen[p.shard] = true
			ids = append(ids, p.shard)
		}
	}
	sort.Strings(ids)
	return ids
}

// mustPut puts a batch and records it in m (m may be nil).
func mustPut(t testing.TB, s *Store, stream string, m *model, at time.Time, entries ...PutEntry) []PutResult {
	t.Helper()
	res, err := s.PutRecords(context.Background(), stream, entries)
	if err != nil {
		t.Fatalf("PutRecords(%s, %d records): %v", stream, len(entries), err)
	}
	if len(res) != len(entries) {
		t.Fatalf("PutRecords returned %d results for %d entries", len(res), len(entries))
	}
	if m != nil {
		m.add(entries, res, at)
	}
	return res
}

func entry(key, data string) PutEntry { return PutEntry{PartitionKey: key, Data: []byte(data)} }

// readShard reads one shard from pos until a read returns nothing or the shard
// ends, limit records per call.
func readShard(t testing.TB, s *Store, stream, shardID string, pos StartingPosition, limit int) []Record {
	t.Helper()
	c, err := s.Position(stream, shardID, pos)
	if err != nil {
		t.Fatalf("Position(%s, %s, %v): %v", stream, shardID, pos.Type, err)
	}
	var out []Record
	for range 1_000_000 {
		got, err := s.GetRecords(context.Background(), c, limit)
		if err != nil {
			t.Fatalf("GetRecords(%s, %s at %d): %v", stream, shardID, c.Ordinal, err)
		}
		if len(got.Records) > limit {
			t.Fatalf("GetRecords returned %d records with limit %d", len(got.Records), limit)
		}
		out = append(out, got.Records...)
		if got.ShardEnd || len(got.Records) == 0 {
			return out
		}
		c = got.Next
	}
	t.Fatal("readShard did not finish")
	return nil
}

// checkRecords asserts that recs are exactly want, in order.
func checkRecords(t testing.TB, what string, recs []Record, want []put) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("%s: read %d records, want %d", what, len(recs), len(want))
	}
	for i, r := range recs {
		w := want[i]
		if r.PartitionKey != w.key || string(r.Data) != w.data || r.SequenceNumber != w.seq {
			t.Fatalf("%s: record %d is (%q, %q, %s), want (%q, %q, %s)", what, i,
				r.PartitionKey, r.Data, r.SequenceNumber, w.key, w.data, w.seq)
		}
		if !w.at.IsZero() && !r.ArrivalTime.Equal(w.at) {
			t.Fatalf("%s: record %d arrived at %v, want %v", what, i, r.ArrivalTime, w.at)
		}
	}
}

// checkAll reads every shard the model touched from TRIM_HORIZON and compares.
func checkAll(t testing.TB, s *Store, stream string, m *model) {
	t.Helper()
	for _, id := range m.shardIDs() {
		got := readShard(t, s, stream, id, StartingPosition{Type: TrimHorizon}, MaxGetRecords)
		checkRecords(t, "shard "+id, got, m.shard(id))
	}
}

// totalRecords sums DescribeStream's per-shard record counts.
func totalRecords(t testing.TB, s *Store, stream string) uint64 {
	t.Helper()
	d, err := s.DescribeStream(stream)
	if err != nil {
		t.Fatalf("DescribeStream(%s): %v", stream, err)
	}
	var n uint64
	for _, sd := range d.Shards {
		n += sd.Records
	}
	return n
}

func wantKind(t testing.TB, err, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got error %v, want one wrapping %v", what, err, kind)
	}
}

// segmentFiles lists the segment files of a shard directory by base.
func segmentFiles(t testing.TB, shardDir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(shardDir, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	return paths
}

func shardDir(s *Store, stream, shardID string) string {
	return filepath.Join(s.Dir(), "streams", stream+streamDirSuffix, shardID)
}

func mustReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func payload(producer, i int) string { return fmt.Sprintf("p%d-%06d", producer, i) }
