package exec

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// Checkpoints of an application: the Coordinator asks every job of the
// application for a checkpoint at once. A job's scan stage injects the barrier
// between two source batches and records its source positions there; each
// worker snapshots its state when the barrier reaches it, in order with the
// rows before it; the output stage, once every worker's barrier has arrived
// (aligned, as epochs are), writes what came before it, snapshots its own
// state, prepares the sink's output and acknowledges. When every job has
// acknowledged, the coordinator writes the state files and then the manifest;
// only then are the sinks told to commit. A crash anywhere before the
// manifest leaves the previous checkpoint in force, and its sinks' prepared
// output is committed again or discarded by Recover.

// CoordinatorConfig configures an application's checkpoints.
type CoordinatorConfig struct {
	Store checkpoint.Store
	App   string
	// Interval between checkpoints; 0 takes them only on request (Savepoint).
	Interval time.Duration
	// Keep is how many complete checkpoints to keep (default 3).
	Keep int
	// Restore is the checkpoint the application resumes from, or nil.
	Restore *checkpoint.Checkpoint
	Logger  *slog.Logger
}

// Coordinator triggers an application's checkpoints and writes them.
type Coordinator struct {
	cfg    CoordinatorConfig
	log    *slog.Logger
	mu     sync.Mutex
	jobs   map[string]*jobLink
	nextID int64
	// inflight is the checkpoint being taken, or nil; one at a time.
	inflight *inflight
	// finished keeps the last acknowledgement of jobs that ended, so later
	// checkpoints still hold their positions and state.
	finished map[string]*jobAck
	writes   sync.WaitGroup
	// changed is closed and replaced whenever a job commits or ends, for
	// WaitCommitted.
	changed chan struct{}
}

// jobLink is how the coordinator reaches a job.
type jobLink struct {
	barriers  chan int64 // a barrier to inject; capacity 1
	commits   chan int64 // checkpoints complete, for the job's sink to commit
	ended     bool
	committed int64 // the newest checkpoint the job's sink has committed
}

type inflight struct {
	id      int64
	started time.Time
	acks    map[string]*jobAck
	done    chan struct{} // closed when the checkpoint is written or abandoned
	err     error
}

// jobAck is one job's part of a checkpoint.
type jobAck struct {
	job       string
	id        int64
	files     map[string][]byte // state file name -> bytes (names prefixed by the job)
	operators []checkpoint.Operator
	position  checkpoint.Position
	sink      []byte
	alignment time.Duration
}

// NewCoordinator prepares an application's checkpoints. The next id follows
// every checkpoint found in the store.
func NewCoordinator(ctx context.Context, cfg CoordinatorConfig) (*Coordinator, error) {
	if err := checkpoint.CheckAppName(cfg.App); err != nil {
		return nil, err
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	next, err := checkpoint.NextID(ctx, cfg.Store, cfg.App)
	if err != nil {
		return nil, err
	}
	return &Coordinator{cfg: cfg, log: cfg.Logger, jobs: map[string]*jobLink{}, nextID: next, finished: map[string]*jobAck{},
		changed: make(chan struct{})}, nil
}

// register adds a job before the application runs.
func (c *Coordinator) register(name string) (*jobLink, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.jobs[name]; dup {
		return nil, fmt.Errorf("checkpoints: two jobs named %s", name)
	}
	l := &jobLink{barriers: make(chan int64, 1), commits: make(chan int64, 8)}
	c.jobs[name] = l
	return l, nil
}

// restored returns the job's part of the checkpoint resumed from.
func (c *Coordinator) restored(job string) (*checkpoint.Checkpoint, bool) {
	r := c.cfg.Restore
	if r == nil {
		return nil, false
	}
	_, ok := r.Sources[job]
	return r, ok
}

// Run takes a checkpoint every Interval until ctx ends.
func (c *Coordinator) Run(ctx context.Context) {
	if c.cfg.Interval <= 0 {
		return
	}
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.trigger()
		}
	}
}

// trigger starts a checkpoint unless one is in flight; it returns the
// checkpoint's done channel.
func (c *Coordinator) trigger() *inflight {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight != nil {
		return c.inflight
	}
	live := 0
	for _, l := range c.jobs {
		if !l.ended {
			live++
		}
	}
	if live == 0 {
		return nil
	}
	f := &inflight{id: c.nextID, started: time.Now(), acks: map[string]*jobAck{}, done: make(chan struct{})}
	c.nextID++
	c.inflight = f
	for _, l := range c.jobs {
		if !l.ended {
			select {
			case l.barriers <- f.id:
			default: // cannot happen: one checkpoint at a time, consumed before its ack
			}
		}
	}
	return f
}

// Savepoint takes a checkpoint now and waits until it is written.
func (c *Coordinator) Savepoint(ctx context.Context) (int64, error) {
	f := c.trigger()
	if f == nil {
		return 0, fmt.Errorf("savepoint: no job is running")
	}
	select {
	case <-f.done:
		return f.id, f.err
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
}

// ack records a job's part; the last one writes the checkpoint.
func (c *Coordinator) ack(a *jobAck) {
	c.mu.Lock()
	f := c.inflight
	if f == nil || f.id != a.id {
		c.mu.Unlock()
		return
	}
	f.acks[a.job] = a
	c.writeIfWhole(f)
	c.mu.Unlock()
}

// writeIfWhole starts writing checkpoint f once every running job has
// acknowledged it, with the last parts of the jobs that ended. c.mu is held.
func (c *Coordinator) writeIfWhole(f *inflight) {
	if f == nil || len(f.acks) == 0 || !c.allAcked(f) {
		return
	}
	c.inflight = nil
	parts := slices.Collect(maps.Values(f.acks))
	for name, fa := range c.finished {
		if f.acks[name] == nil {
			parts = append(parts, fa)
		}
	}
	c.writes.Go(func() { c.write(f, parts) })
}

func (c *Coordinator) allAcked(f *inflight) bool {
	for name, l := range c.jobs {
		if !l.ended && f.acks[name] == nil {
			return false
		}
	}
	return true
}

// jobEnded takes a job out of later checkpoints' waits. A job that ended
// cleanly (its last checkpoint covers all its input) is carried into later
// checkpoints by that last acknowledgement; one that failed or was cancelled
// abandons the checkpoint in flight, which can no longer be whole.
func (c *Coordinator) jobEnded(name string, last *jobAck, clean bool) {
	c.mu.Lock()
	l := c.jobs[name]
	if l == nil || l.ended {
		c.mu.Unlock()
		return
	}
	l.ended = true
	c.signal()
	f := c.inflight
	if !clean {
		if f != nil && f.acks[name] == nil {
			c.inflight = nil
			f.err = fmt.Errorf("checkpoint %d abandoned: query %s stopped before it", f.id, name)
			close(f.done)
		}
		c.mu.Unlock()
		return
	}
	c.finished[name] = last
	c.writeIfWhole(f)
	c.mu.Unlock()
}

// committed records that a job's sink has committed checkpoint id.
func (c *Coordinator) committed(name string, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.jobs[name]; l != nil && id > l.committed {
		l.committed = id
		c.signal()
	}
}

// signal wakes WaitCommitted. c.mu is held.
func (c *Coordinator) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// WaitCommitted returns once every job's sink has committed checkpoint id
// (or a later one), or the job has ended: a stop that took a savepoint leaves
// the savepoint's output visible, not waiting for the next run to commit it.
func (c *Coordinator) WaitCommitted(ctx context.Context, id int64) error {
	for {
		c.mu.Lock()
		waiting := ""
		for name, l := range c.jobs {
			if !l.ended && l.committed < id {
				waiting = name
				break
			}
		}
		changed := c.changed
		c.mu.Unlock()
		if waiting == "" {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("query %s has not committed checkpoint %d: %w", waiting, id, context.Cause(ctx))
		}
	}
}

// Wait returns once every checkpoint being written is written (or failed).
func (c *Coordinator) Wait() { c.writes.Wait() }

// write stores the files and the manifest of a checkpoint every job has
// acknowledged, then tells the jobs to commit their sinks.
func (c *Coordinator) write(f *inflight, parts []*jobAck) {
	defer close(f.done)
	ctx := context.Background()
	w, err := checkpoint.Begin(c.cfg.Store, c.cfg.App, f.id)
	if err != nil {
		f.err = err
		c.log.Error("checkpoint failed", "app", c.cfg.App, "id", f.id, "err", err)
		return
	}
	m := checkpoint.Manifest{Sources: map[string]checkpoint.Position{}, Sinks: map[string][]byte{}}
	slices.SortFunc(parts, func(a, b *jobAck) int { return strings.Compare(a.job, b.job) })
	for _, p := range parts {
		for _, name := range slices.Sorted(maps.Keys(p.files)) {
			if err := w.AddFile(ctx, name, p.files[name]); err != nil {
				f.err = err
				c.log.Error("checkpoint failed", "app", c.cfg.App, "id", f.id, "err", err)
				return
			}
		}
		m.Operators = append(m.Operators, p.operators...)
		m.Sources[p.job] = p.position
		if p.sink != nil {
			m.Sinks[p.job] = p.sink
		}
		m.Metrics.Alignment = max(m.Metrics.Alignment, p.alignment)
	}
	m.Metrics.Duration = time.Since(f.started)
	m, err = w.Complete(ctx, m)
	if err != nil {
		f.err = err
		c.log.Error("checkpoint failed", "app", c.cfg.App, "id", f.id, "err", err)
		return
	}
	c.log.Info("checkpoint", "app", c.cfg.App, "id", f.id, "duration", m.Metrics.Duration, "alignment", m.Metrics.Alignment, "bytes", m.Metrics.Bytes)
	c.mu.Lock()
	for _, l := range c.jobs {
		select {
		case l.commits <- f.id:
		default:
			// The job is behind by 8 checkpoints: the newest commit covers the older ones.
		}
	}
	c.mu.Unlock()
	if err := checkpoint.Retain(ctx, c.cfg.Store, c.cfg.App, c.cfg.Keep); err != nil {
		c.log.Warn("remove old checkpoints", "app", c.cfg.App, "err", err)
	}
}
