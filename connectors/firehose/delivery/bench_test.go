package delivery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// benchSchema is the 12 columns of the benchmark's records: strings,
// bigints, doubles, booleans and a timestamp.
const benchSchema = `{"columns":[{"name":"id","type":"bigint"},{"name":"user","type":"string"},{"name":"event","type":"string"},` +
	`{"name":"page","type":"string"},{"name":"country","type":"string"},{"name":"session","type":"bigint"},{"name":"qty","type":"bigint"},` +
	`{"name":"amount","type":"double"},{"name":"score","type":"double"},{"name":"ok","type":"boolean"},{"name":"mobile","type":"boolean"},` +
	`{"name":"ts","type":"timestamp"}]}`

// benchRecords makes n JSON records of about 200 bytes with benchSchema's 12 fields.
func benchRecords(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	events := []string{"click", "view", "purchase", "scroll", "signup"}
	countries := []string{"DE", "US", "FR", "JP", "BR", "IN"}
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	out := make([][]byte, n)
	for i := range out {
		ts := base.Add(time.Duration(i) * 7 * time.Millisecond)
		out[i] = fmt.Appendf(nil, `{"id":%d,"user":"u%06d","event":%q,"page":"/p/%d","country":%q,"session":%d,`+
			`"qty":%d,"amount":%.2f,"score":%.6f,"ok":%t,"mobile":%t,"ts":"%s"}`,
			1_000_000_000+i, rng.IntN(1_000_000), events[rng.IntN(len(events))], rng.IntN(100_000), countries[rng.IntN(len(countries))],
			rng.Int64N(1e10), rng.IntN(1000), rng.Float64()*10_000, rng.Float64(), rng.IntN(2) == 0, rng.IntN(3) == 0,
			ts.Format("2006-01-02 15:04:05.000"))
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDeliverParquet delivers 200,000 records of about 200 bytes, already
// in a DirectPut stream's backing stream, to one SNAPPY Parquet object in a
// folder (fsynced), with Deliver: reading the store, JSON scan, Parquet
// encoding and compression, the write and the state file. Each iteration
// forgets the delivery state first, so it delivers the whole stream again.
// It reports records/s (wall), records/s per CPU-second of the process
// (user+system, all goroutines and GC: the target is 400,000) and
// MB/s of JSON input.
func BenchmarkDeliverParquet(b *testing.B) {
	const n = 200_000
	dir := b.TempDir()
	st, err := streamstore.Open(filepath.Join(dir, "streams"), streamstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cat, err := catalog.Open(dir, catalog.Options{StateDelay: -1})
	if err != nil {
		b.Fatal(err)
	}
	p := catalog.TablePath(dir, "db", "events")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(benchSchema), 0o644); err != nil {
		b.Fatal(err)
	}
	in := parquetStream("bench")
	in.Destination.DataFormatConversion.Parquet = &catalog.Parquet{Compression: "SNAPPY"}
	ds, err := cat.Create(in)
	if err != nil {
		b.Fatal(err)
	}
	backing := catalog.BackingStream(ds.Name)
	if err := st.CreateStream(backing, 1); err != nil {
		b.Fatal(err)
	}
	records := benchRecords(n)
	var total int64
	for start := 0; start < n; start += 500 {
		entries := make([]streamstore.PutEntry, 0, 500)
		for _, r := range records[start:min(start+500, n)] {
			entries = append(entries, streamstore.PutEntry{PartitionKey: "k", Data: r})
			total += int64(len(r))
		}
		if _, err := st.PutRecords(context.Background(), backing, entries); err != nil {
			b.Fatal(err)
		}
	}
	bucketDir := filepath.Join(dir, "buckets")
	opts := Options{Store: st, DataDir: dir, Bucket: func(_ context.Context, bucket string) (checkpoint.Store, error) {
		return checkpoint.NewDirStore(filepath.Join(bucketDir, bucket)), nil
	}}
	reset := func() {
		if err := os.Remove(StateFile(dir, ds.Name)); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
		if err := os.RemoveAll(bucketDir); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(total)
	b.ReportAllocs()
	reset()
	cpu0, wall0 := cpuTime(), time.Now()
	iterations := 0
	for b.Loop() {
		if err := Deliver(context.Background(), opts, cat, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if m, err := ReadMetrics(dir, ds.Name); err != nil || m.RecordsDelivered != n || m.ObjectsWritten != 1 {
			b.Fatalf("metrics %+v %v: want %d records in 1 object", m, err, n)
		}
		reset()
		iterations++
		b.StartTimer()
	}
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	recs := float64(n * iterations)
	b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		b.ReportMetric(recs/cpu.Seconds(), "records/cpu-s")
		b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
	}
}
