package exec

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/checkpoint"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// resumableSource serves a fixed sequence of batches of each split's events
// (positions are event indexes) and resumes after given positions: a
// restored run sees the same batches as an uninterrupted one from there on,
// as a re-read of a stream would. Every few batches it asks the coordinator
// for a checkpoint; after stopAfter batches it cancels the run (a crash).
type resumableSource struct {
	bySplit   map[string][]event
	seq       []batchSpec
	cursor    int
	next      map[string]int // first event of each split not read
	mem       memory.Allocator
	coord     *Coordinator
	every     int // batches between checkpoint requests
	stopAfter int // cancel after this many batches; 0 never
	cancel    context.CancelFunc
	served    int
}

type batchSpec struct {
	split    string
	from, to int
}

func batchSequence(bySplit map[string][]event, splits []string, rng *rand.Rand) []batchSpec {
	next := map[string]int{}
	var seq []batchSpec
	for {
		var live []string
		for _, sp := range splits {
			if next[sp] < len(bySplit[sp]) {
				live = append(live, sp)
			}
		}
		if len(live) == 0 {
			return seq
		}
		sp := live[rng.IntN(len(live))]
		n := min(1+rng.IntN(200), len(bySplit[sp])-next[sp])
		seq = append(seq, batchSpec{sp, next[sp], next[sp] + n})
		next[sp] += n
	}
}

func (s *resumableSource) Next(ctx context.Context) (SourceBatch, error) {
	if err := ctx.Err(); err != nil {
		return SourceBatch{}, err
	}
	for s.cursor < len(s.seq) && s.seq[s.cursor].from < s.next[s.seq[s.cursor].split] {
		s.cursor++ // read before the checkpoint resumed from
	}
	if s.cursor == len(s.seq) {
		return SourceBatch{}, io.EOF
	}
	s.served++
	if s.stopAfter > 0 && s.served > s.stopAfter {
		s.cancel()
		return SourceBatch{}, ctx.Err()
	}
	if s.every > 0 && s.served%s.every == 0 {
		s.coord.trigger()
	}
	b := s.seq[s.cursor]
	s.cursor++
	s.next[b.split] = b.to
	return SourceBatch{Split: b.split, Record: buildRecord(s.bySplit[b.split][b.from:b.to], s.mem), Position: strconv.Itoa(b.to - 1)}, nil
}

func (s *resumableSource) Close() error { return nil }

// txSink keeps rows as a committing sink would: written rows are pending,
// prepared rows belong to a checkpoint, committed rows are the output. The
// object outlives a "crash", as files would.
type txSink struct {
	mu        sync.Mutex
	open      [][]string
	prepared  map[int64][][]string
	committed [][]string
}

func (s *txSink) Write(_ context.Context, rec arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range int(rec.NumRows()) {
		row := make([]string, rec.NumCols())
		for c := range row {
			row[c] = rec.Column(c).ValueStr(i)
		}
		s.open = append(s.open, row)
	}
	return nil
}
func (s *txSink) Flush(context.Context) error { return nil }
func (s *txSink) Close() error                { return nil }
func (s *txSink) Prepare(_ context.Context, id int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prepared == nil {
		s.prepared = map[int64][][]string{}
	}
	s.prepared[id] = s.open
	s.open = nil
	return []byte(fmt.Sprint(id)), nil
}
func (s *txSink) Commit(_ context.Context, id int64, state []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(state) != fmt.Sprint(id) {
		return fmt.Errorf("commit %d with state %q", id, state)
	}
	s.committed = append(s.committed, s.prepared[id]...)
	delete(s.prepared, id)
	return nil
}
func (s *txSink) Recover(_ context.Context, id int64, state []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Commit what checkpoints up to id prepared and nobody committed; drop
	// the rest.
	for _, p := range slices.Sorted(maps.Keys(s.prepared)) {
		if p <= id {
			s.committed = append(s.committed, s.prepared[p]...)
		}
	}
	s.open, s.prepared = nil, nil
	return nil
}

// TestCheckpointRestoreIsExact crashes a windowed job several times at
// random batches; each restart resumes from the newest checkpoint. The
// committed output equals an uninterrupted run's, row for row (as multisets:
// windows that close in one epoch of one run may close in two of another).
func TestCheckpointRestoreIsExact(t *testing.T) {
	for _, kind := range []sql.WindowKind{sql.Tumble, sql.Session} {
		t.Run(string(kind), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(5, uint64(len(kind))))
			events := genEvents(rng, 25_000, []string{"s0", "s1", "s2"}, 300, 97)
			bySplit := map[string][]event{}
			for _, e := range events {
				bySplit[e.split] = append(bySplit[e.split], e)
			}
			seq := batchSequence(bySplit, []string{"s0", "s1", "s2"}, rng)
			plan := func() *planner.Physical {
				p := aggPlan(time.Second, 400*time.Millisecond, 3)
				if kind == sql.Session {
					p.Agg.Window = sql.Window{Kind: sql.Session, Gap: 40 * time.Millisecond}
				}
				return p
			}
			run := func(store checkpoint.Store, sink *txSink, stopAfter int) (crashed bool) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				restore, warnings, err := checkpoint.Latest(ctx, store, "app")
				if err != nil || len(warnings) > 0 {
					t.Fatal(err, warnings)
				}
				coord, err := NewCoordinator(ctx, CoordinatorConfig{Store: store, App: "app", Restore: restore})
				if err != nil {
					t.Fatal(err)
				}
				src := &resumableSource{bySplit: bySplit, seq: seq, next: map[string]int{}, mem: mem, coord: coord, every: 7,
					stopAfter: stopAfter, cancel: cancel}
				if restore != nil {
					pos := restore.Sources["q0"]
					for sp, after := range pos.After {
						n, _ := strconv.Atoi(after)
						src.next[sp] = n + 1
					}
					for _, sp := range pos.Done {
						src.next[sp] = len(bySplit[sp])
					}
				}
				j, err := NewJob(plan(), src, sink, nil, JobOptions{SourceName: "s", IdleTimeout: -1,
					Checkpointing: &Checkpointing{Coordinator: coord, Name: "q0"}, Mem: mem})
				if err != nil {
					t.Fatal(err)
				}
				err = j.Run(ctx)
				coord.Wait() // a killed process writes nothing more; here the goroutine must end first
				if err != nil {
					t.Fatal(err)
				}
				return ctx.Err() != nil
			}
			// The uninterrupted run, with checkpoints.
			want := &txSink{}
			if run(checkpoint.NewDirStore(t.TempDir()), want, 0) {
				t.Fatal("uninterrupted run was cancelled")
			}
			if len(want.committed) == 0 || len(want.open) != 0 || len(want.prepared) != 0 {
				t.Fatalf("uninterrupted run: %d committed, %d open, %d prepared", len(want.committed), len(want.open), len(want.prepared))
			}
			store := checkpoint.NewDirStore(t.TempDir())
			got := &txSink{}
			crashes := 0
			for attempt := range 40 {
				stop := 0
				if attempt < 8 {
					stop = 3 + rng.IntN(20)
				}
				if !run(store, got, stop) {
					break
				}
				crashes++
			}
			if crashes < 8 {
				t.Fatalf("only %d crashes", crashes)
			}
			ms, _, _ := checkpoint.List(context.Background(), store, "app")
			if len(ms) == 0 || len(ms) > 3 {
				t.Fatalf("%d checkpoints kept, want 1 to 3", len(ms))
			}
			key := func(r []string) string { return strings.Join(r, "|") }
			a, b := slices.Clone(want.committed), slices.Clone(got.committed)
			slices.SortFunc(a, func(x, y []string) int { return strings.Compare(key(x), key(y)) })
			slices.SortFunc(b, func(x, y []string) int { return strings.Compare(key(x), key(y)) })
			if len(a) != len(b) {
				t.Fatalf("after %d crashes: %d rows committed, uninterrupted %d", crashes, len(b), len(a))
			}
			for i := range a {
				if key(a[i]) != key(b[i]) {
					t.Fatalf("after %d crashes: row %d is %v, uninterrupted %v", crashes, i, b[i], a[i])
				}
			}
			t.Logf("%d rows, %d crashes, last checkpoint %d", len(a), crashes, ms[0].ID)
		})
	}
}

func TestCheckpointedWorkers(t *testing.T) {
	j, err := NewJob(aggPlan(time.Second, 0, 3), nil, nil, nil, JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := &checkpoint.Checkpoint{Manifest: checkpoint.Manifest{Operators: []checkpoint.Operator{
		{Name: "q0", Fingerprint: j.fingerprint()},
		{Name: "q1", Fingerprint: "stateless"},
	}}}
	if n, ok := CheckpointedWorkers(c, "q0"); !ok || n != 3 {
		t.Errorf("q0: %d, %v; want 3 workers", n, ok)
	}
	for _, name := range []string{"q1", "q2"} {
		if n, ok := CheckpointedWorkers(c, name); ok {
			t.Errorf("%s: %d workers, want none", name, n)
		}
	}
	if _, ok := CheckpointedWorkers(nil, "q0"); ok {
		t.Error("nil checkpoint has workers")
	}
}
