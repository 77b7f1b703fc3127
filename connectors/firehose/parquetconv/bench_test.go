package parquetconv

import (
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

const benchSchema = `{"columns":[
 {"name":"id","type":"bigint"}, {"name":"user","type":"string"}, {"name":"ts","type":"timestamp"},
 {"name":"price","type":"double"}, {"name":"qty","type":"bigint"}, {"name":"ok","type":"boolean"},
 {"name":"city","type":"string"}, {"name":"score","type":"double"}, {"name":"seq","type":"bigint"},
 {"name":"flag","type":"boolean"}, {"name":"created","type":"timestamp"}, {"name":"note","type":"string"}]}`

// benchRecords makes n records of about 200 bytes with 12 fields.
func benchRecords(n int) [][]byte {
	r := rand.New(rand.NewPCG(7, 7))
	cities := []string{"Seattle", "Berlin", "Tokyo", "São Paulo", "Lagos"}
	out := make([][]byte, n)
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		ts := base.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		out[i] = fmt.Appendf(nil, `{"id":%d,"user":"user-%06d","ts":"%s","price":%.2f,"qty":%d,"ok":%t,"city":"%s","score":%g,"seq":%d,"flag":%t,"created":%d,"note":"n%04d"}`,
			r.Int64N(1e12), r.IntN(1e6), ts.Format("2006-01-02T15:04:05.000Z"), r.Float64()*1000, r.IntN(100),
			r.IntN(2) == 0, cities[r.IntN(len(cities))], r.NormFloat64(), i, r.IntN(3) == 0, ts.UnixMilli(), r.IntN(1e4))
	}
	return out
}

// nestedBenchRecords makes n records with an array of structs and a map.
func nestedBenchRecords(n int) [][]byte {
	r := rand.New(rand.NewPCG(8, 8))
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"id":%d,"items":[{"sku":"s%d","qty":%d},{"sku":"s%d","qty":%d}],"attrs":{"color":"c%d","size":"%d"},"total":%.2f}`,
			i, r.IntN(1000), r.IntN(9), r.IntN(1000), r.IntN(9), r.IntN(9), r.IntN(50), r.Float64()*100)
	}
	return out
}

const nestedBenchSchema = `{"columns":[{"name":"id","type":"bigint"},
 {"name":"items","type":"array<struct<sku:string,qty:int>>"},
 {"name":"attrs","type":"map<string,string>"},{"name":"total","type":"decimal(10,2)"}]}`

// BenchmarkWrite converts records to SNAPPY Parquet, end to end: scanning,
// conversion, encoding, compression and closing objects of 100,000 rows.
// shape=flat12 is the 200-byte, 12-field record of the throughput target.
func BenchmarkWrite(b *testing.B) {
	b.Run("shape=flat12", func(b *testing.B) { benchmarkWrite(b, benchSchema, benchRecords(4096)) })
	b.Run("shape=nested", func(b *testing.B) { benchmarkWrite(b, nestedBenchSchema, nestedBenchRecords(4096)) })
}

func benchmarkWrite(b *testing.B, schema string, records [][]byte) {
	total := 0
	for _, r := range records {
		total += len(r)
	}
	b.SetBytes(int64(total / len(records)))
	b.ReportAllocs()
	const objectRows = 100_000
	w := mustWriter(b, io.Discard, schema, Options{})
	i := 0
	start, cpuStart := time.Now(), processCPU()
	for b.Loop() {
		if err := w.Write(records[i%len(records)]); err != nil {
			b.Fatal(err)
		}
		i++
		if i%objectRows == 0 {
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			w = mustWriter(b, io.Discard, schema, Options{})
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "records/s")
	// Per CPU-second (all threads, GC included): the per-core rate, less
	// sensitive than wall time to other load on a shared machine.
	if cpu := processCPU() - cpuStart; cpu > 0 {
		b.ReportMetric(float64(i)/cpu.Seconds(), "records/cpu-s")
	}
}

// processCPU is the user plus system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
