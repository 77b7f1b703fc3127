package exec

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql"
)

// chunkOf makes a worker chunk of a whole record of scanSchema rows.
func chunkOf(rec arrow.RecordBatch, assign assigner, dyn bool) *aggChunk {
	n := int(rec.NumRows())
	c := &aggChunk{keys: []arrow.Array{rec.Column(0)}, args: []arrow.Array{nil, rec.Column(1), rec.Column(2), rec.Column(2), rec.Column(1)},
		times: timestampsAsInt64(rec.Column(3).(*array.Timestamp)), hashes: make([]uint64, n), starts: make([]int64, n), rows: make([]int32, n), done: func() {}}
	for i := range n {
		c.hashes[i] = hashSeed
		c.rows[i] = int32(i)
		if !dyn {
			c.starts[i] = assign.firstStart(c.times[i])
		}
	}
	hashColumn(rec.Column(0), c.hashes)
	if dyn {
		c.wmAt = make([]int64, n)
		for i := range c.wmAt {
			c.wmAt[i] = minTime
		}
	}
	return c
}

// A long run over thousands of windows whose keys keep changing holds state
// for the open windows only: stored keys and heap stay flat.
func TestLongRunKeepsMemoryFlat(t *testing.T) {
	for _, kind := range []sql.WindowKind{sql.Hop, sql.Session} {
		t.Run(string(kind), func(t *testing.T) {
			p := aggPlan(time.Second, 0, 1)
			p.Agg.Window = sql.Window{Kind: kind, Size: 2 * time.Second, Slide: time.Second, Gap: 500 * time.Millisecond}
			spec, err := newAggSpec(p.Agg)
			if err != nil {
				t.Fatal(err)
			}
			wa := newWindowAggregator(spec)
			da := newDynAggregator(spec)
			assign := newAssigner(p.Agg.Window)
			base := int64(1_767_225_600_000)
			var heap []uint64
			maxKeys := 0
			const windows, perWindow = 600, 200
			for w := range windows {
				// 500 rows in this second, over keys that move on every second.
				evs := make([]event, perWindow)
				for i := range evs {
					evs[i] = event{key: fmt.Sprintf("w%d-k%d", w, i%100), v: int64(i), d: float64(i), ts: base + int64(w)*1000 + int64(i)}
				}
				rec := buildRecord(evs, memory.DefaultAllocator)
				c := chunkOf(rec, assign, kind == sql.Session)
				wm := base + int64(w)*1000 + 999
				if kind == sql.Session {
					da.add(c)
					recs, _, _ := da.fire(wm-1000, memory.DefaultAllocator)
					releaseAll(recs)
					maxKeys = max(maxKeys, int(da.keyCount))
				} else {
					wa.add(c)
					recs, _ := wa.fire(wm-1000, memory.DefaultAllocator)
					releaseAll(recs)
					maxKeys = max(maxKeys, wa.heldKeys())
				}
				rec.Release()
				if w%100 == 99 {
					runtime.GC()
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					heap = append(heap, ms.HeapAlloc)
				}
			}
			// 100 keys a second, a few seconds open: stored keys stay near
			// the live ones plus the compaction slack, never all those seen.
			if maxKeys > 4*100*3+2048 {
				t.Fatalf("held up to %d keys over a run of %d distinct keys", maxKeys, windows*100)
			}
			if first, last := heap[1], heap[len(heap)-1]; last > first*3/2+8<<20 {
				t.Fatalf("heap grew from %d to %d bytes over the run: %v", first, last, heap)
			}
		})
	}
}
