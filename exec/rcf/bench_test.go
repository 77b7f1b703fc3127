package rcf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchRows is a noisy periodic series with columns shifted in phase.
func benchRows(n, cols int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 0))
	rows := make([][]float64, n)
	for i := range rows {
		r := make([]float64, cols)
		for c := range r {
			r[c] = 10*math.Sin(2*math.Pi*float64(i)/100+float64(c)) + rng.NormFloat64()
		}
		rows[i] = r
	}
	return rows
}

func reportRows(b *testing.B, rows int) {
	sec := b.Elapsed().Seconds()
	if sec > 0 && rows > 0 {
		b.ReportMetric(float64(rows)/sec, "rows/s")
		b.ReportMetric(sec*1e9/float64(rows), "ns/row")
	}
}

// BenchmarkUpdate scores and samples rows with KDA's defaults (100 trees x
// 256 samples) after a warm-up of 20,000 rows, so that samplers accept at
// about their long-run rate for the benchmark's length.
func BenchmarkUpdate(b *testing.B) {
	for _, cols := range []int{1, 5} {
		b.Run(fmt.Sprintf("trees=100/samples=256/columns=%d", cols), func(b *testing.B) {
			f, err := New(DefaultConfig(cols))
			if err != nil {
				b.Fatal(err)
			}
			rows := benchRows(1<<16, cols, 1)
			for _, r := range rows[:20000] {
				f.Update(r)
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				f.Update(rows[n%len(rows)])
				n++
			}
			reportRows(b, n)
		})
	}
}

// BenchmarkUpdateExplain is BenchmarkUpdate with attributions.
func BenchmarkUpdateExplain(b *testing.B) {
	for _, cols := range []int{1, 5} {
		b.Run(fmt.Sprintf("trees=100/samples=256/columns=%d", cols), func(b *testing.B) {
			f, err := New(DefaultConfig(cols))
			if err != nil {
				b.Fatal(err)
			}
			rows := benchRows(1<<16, cols, 1)
			for _, r := range rows[:20000] {
				f.Update(r)
			}
			out := make([]Attribution, cols)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				f.UpdateExplain(rows[n%len(rows)], out)
				n++
			}
			reportRows(b, n)
		})
	}
}

// BenchmarkKeyed scores rows for 1,000 keyed forests (KDA defaults, 1
// column), keys in round robin, after every forest has warmed up. Each
// forest has seen only a few hundred rows, so most of its trees still take
// most rows into their samples (a tree accepts about SampleSize/n of the
// rows after n), and 1,000 forests (1.3 GB by then) are far beyond the
// caches: this is the slow end of keyed use.
func BenchmarkKeyed(b *testing.B) {
	const keys = 1000
	k, err := NewKeyed(DefaultConfig(1), keys)
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprintf("sensor-%04d", i)
	}
	rows := benchRows(1<<16, 1, 2)
	n := 0
	for n < keys*(DefaultSampleSize+44) {
		k.Update(names[n%keys], rows[n%len(rows)])
		n++
	}
	b.ReportAllocs()
	start := n
	for b.Loop() {
		k.Update(names[n%keys], rows[n%len(rows)])
		n++
	}
	reportRows(b, n-start)
	b.ReportMetric(float64(k.MemoryBytes())/keys, "bytes/forest")
	b.ReportMetric(float64(n)/keys, "rows/key")
}

// BenchmarkForestMemory reports a default forest's size after 200,000 rows,
// when its trees sample mostly different points (the most the point store
// holds), as estimated by MemoryBytes and as measured on the heap.
func BenchmarkForestMemory(b *testing.B) {
	for _, cols := range []int{1, 5} {
		b.Run(fmt.Sprintf("columns=%d", cols), func(b *testing.B) {
			rows := benchRows(1<<16, cols, 3)
			var before, after runtime.MemStats
			for b.Loop() {
				runtime.GC()
				runtime.ReadMemStats(&before)
				f, _ := New(DefaultConfig(cols))
				for i := range 200000 {
					f.Update(rows[i%len(rows)])
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(f.MemoryBytes()), "estimated-bytes")
				b.ReportMetric(float64(after.HeapAlloc)-float64(before.HeapAlloc), "heap-bytes")
				state, _ := f.MarshalBinary()
				b.ReportMetric(float64(len(state)), "state-bytes")
				runtime.KeepAlive(f)
			}
		})
	}
}
