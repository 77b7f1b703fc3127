package exec

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/checkpoint"
	"github.com/eddy-streams/eddy/planner"
)

// stateMidway runs job until it has read stopAfter batches, with a
// checkpoint every 7, and returns the newest checkpoint.
func stateMidway(t *testing.T, rng *rand.Rand, job crashJob, stopAfter int, mem memory.Allocator) *checkpoint.Checkpoint {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := checkpoint.NewDirStore(t.TempDir())
	coord, err := NewCoordinator(ctx, CoordinatorConfig{Store: store, App: "app"})
	if err != nil {
		t.Fatal(err)
	}
	src := &resumableSource{seq: batchSequence(job.counts, job.splits, rng), next: map[string]int{}, coord: coord, every: 7,
		stopAfter: stopAfter, cancel: cancel,
		record: func(split string, from, to int) arrow.RecordBatch { return job.record(split, from, to, mem) }}
	j, err := NewJob(job.plan(), src, &txSink{}, nil, JobOptions{IdleTimeout: -1, Mem: mem,
		Checkpointing: &Checkpointing{Coordinator: coord, Name: "q0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	coord.Wait()
	c, _, err := checkpoint.Latest(context.Background(), store, "app")
	if err != nil || c == nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	return c
}

// checkStateCodec restores a state, which must encode again to the same
// bytes, then restores damaged copies of it (cut short, bytes changed): each
// fails with an error or restores something, never panics, and releases
// what it restored.
func checkStateCodec(t *testing.T, rng *rand.Rand, b []byte, restore func([]byte) (snapshot func() []byte, release func(), err error)) {
	t.Helper()
	snap, release, err := restore(b)
	if err != nil {
		t.Fatal(err)
	}
	if again := snap(); !bytes.Equal(again, b) {
		t.Fatalf("restored state encodes to %d bytes that differ from the %d restored", len(again), len(b))
	}
	release()
	failed := 0
	for i := range 300 {
		d := bytes.Clone(b)
		if i%2 == 0 {
			d = d[:rng.IntN(len(d))]
		} else {
			for range 1 + rng.IntN(3) {
				d[rng.IntN(len(d))] ^= byte(1 + rng.IntN(255))
			}
		}
		_, release, err := restore(d)
		if err != nil {
			failed++
			continue
		}
		release()
	}
	if failed < 150 {
		t.Fatalf("only %d of 300 damaged states failed to restore", failed)
	}
}

// An OVER worker's state round-trips exactly, and damaged state is an error.
func TestOverStateCodec(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	mem := &countingAllocator{Allocator: memory.NewGoAllocator()}
	defer func() {
		if n := mem.n.Load(); n != 0 {
			t.Errorf("%d bytes of Arrow memory not released", n)
		}
	}()
	q := overCheckpointQuery()
	plan := func() *planner.Physical { return overPlan(t, 800, q, 2) }
	c := stateMidway(t, rng, overJob(t, rng, plan), 60, mem)
	o, err := newOverExec(plan())
	if err != nil {
		t.Fatal(err)
	}
	for w := range 2 {
		b, ok := c.File("q0.worker" + strconv.Itoa(w) + ".state")
		if !ok || len(b) < 1000 {
			t.Fatalf("worker %d: state of %d bytes", w, len(b))
		}
		checkStateCodec(t, rng, b, func(b []byte) (func() []byte, func(), error) {
			ow := newOverWorker(o.spec, mem)
			err := ow.restore(b)
			return ow.snapshot, ow.close, err
		})
		ow := newOverWorker(o.spec, mem)
		if err := ow.restore(b); err != nil {
			t.Fatal(err)
		}
		if len(ow.refs) == 0 || len(ow.runs) == 0 || ow.nparts == 0 {
			t.Errorf("worker %d: restored %d rows held, %d runs, %d partitions: the test should catch rows in flight",
				w, len(ow.refs), len(ow.runs), ow.nparts)
		}
		ow.close()
	}
}

// An updating query's changelog round-trips exactly, and damaged state is an
// error.
func TestChangelogStateCodec(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	mem := &countingAllocator{Allocator: memory.NewGoAllocator()}
	defer func() {
		if n := mem.n.Load(); n != 0 {
			t.Errorf("%d bytes of Arrow memory not released", n)
		}
	}()
	plan := func() *planner.Physical {
		p := aggPlan(time.Second, 400*time.Millisecond, 2)
		p.Agg.AllowedLateness = 5 * time.Second
		return updating(p)
	}
	events := genEvents(rng, 10_000, []string{"s0", "s1", "s2"}, 300, 97)
	c := stateMidway(t, rng, eventsJob(events, plan), 60, mem)
	b, ok := c.File("q0.output.state")
	if !ok || len(b) < 1000 {
		t.Fatalf("changelog state of %d bytes", len(b))
	}
	p := plan()
	sch := p.Output[:len(p.Select)].Arrow()
	checkStateCodec(t, rng, b, func(b []byte) (func() []byte, func(), error) {
		cl := newChangelog(p.Agg)
		err := cl.restore(b, sch, mem)
		return cl.snapshot, cl.release, err
	})
}
