package app

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// Checkpoints configures an application's checkpoints.
type Checkpoints struct {
	Store checkpoint.Store
	// Interval between checkpoints; 0 takes them only at the end of a bounded
	// run and on stop (savepoint).
	Interval time.Duration
	// Keep is how many complete checkpoints to keep (default 3).
	Keep int
	// From is where to resume: "" or "latest" the newest complete checkpoint,
	// "none" nothing (start fresh), or a checkpoint id.
	From string
	// AllowStateReset starts fresh, with a warning, when the checkpoint's
	// state does not fit the application any more.
	AllowStateReset bool
	// SavepointTimeout bounds the checkpoint taken on stop (default 1 minute).
	SavepointTimeout time.Duration
}

// restorePoint loads the checkpoint the application resumes from, or nil.
func (a *Application) restorePoint(ctx context.Context, env Env, ck *Checkpoints) (*checkpoint.Checkpoint, error) {
	switch from := strings.ToLower(strings.TrimSpace(ck.From)); from {
	case "none":
		return nil, nil
	case "", "latest":
		c, warnings, err := checkpoint.Latest(ctx, ck.Store, a.Name)
		for _, w := range warnings {
			env.Logger.Warn("checkpoint skipped", "app", a.Name, "store", ck.Store.String(), "reason", w)
		}
		if err != nil {
			return nil, fmt.Errorf("find the newest checkpoint of %s in %s: %w", a.Name, ck.Store, err)
		}
		return c, nil
	default:
		id, err := strconv.ParseInt(from, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("--from-checkpoint %q: give a checkpoint id (eddy checkpoints list %s), latest or none", ck.From, a.Name)
		}
		c, err := checkpoint.Load(ctx, ck.Store, a.Name, id)
		if err != nil {
			return nil, fmt.Errorf("--from-checkpoint %d: %w", id, err)
		}
		return c, nil
	}
}

// checkRestore refuses a checkpoint holding the state of queries the
// application no longer has: resuming would silently drop their output.
func checkRestore(c *checkpoint.Checkpoint, jobs []string) error {
	var gone []string
	for name := range c.Sources {
		if !slices.Contains(jobs, name) {
			gone = append(gone, name)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	slices.Sort(gone)
	return fmt.Errorf("checkpoint %d holds the state of %s, which the application no longer has (it has %s)",
		c.ID, strings.Join(gone, ", "), strings.Join(jobs, ", "))
}

// jobNames names each query in checkpoints: by its sink (console for
// SELECT), so that adding or reordering queries keeps each one's state;
// a second query into the same sink is SINK_2.
func jobNames(qs []Query) []string {
	out := make([]string, len(qs))
	seen := map[string]int{}
	for i, q := range qs {
		base := "console"
		if q.Sink != nil {
			base = strings.ToLower(q.Sink.Name)
		}
		seen[base]++
		out[i] = base
		if n := seen[base]; n > 1 {
			out[i] = fmt.Sprintf("%s_%d", base, n)
		}
	}
	return out
}

// newCoordinator starts the application's checkpoints, restoring from the
// checkpoint chosen by ck.From.
func (a *Application) newCoordinator(ctx context.Context, env Env, ck *Checkpoints) (*exec.Coordinator, *checkpoint.Checkpoint, error) {
	restore, err := a.restorePoint(ctx, env, ck)
	if err != nil {
		return nil, nil, err
	}
	if restore != nil {
		if err := checkRestore(restore, jobNames(a.Queries())); err != nil {
			return nil, restore, err
		}
	}
	coord, err := exec.NewCoordinator(ctx, exec.CoordinatorConfig{Store: ck.Store, App: a.Name, Interval: ck.Interval,
		Keep: ck.Keep, Restore: restore, Logger: env.Logger})
	if err != nil {
		return nil, nil, err
	}
	return coord, restore, nil
}

// savepoint takes the checkpoint of a stop: it covers everything processed,
// so the next run resumes exactly there.
func (p *Prepared) savepoint(ctx context.Context) {
	timeout := p.checkpoints.SavepointTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	start := time.Now()
	id, err := p.coord.Savepoint(sctx)
	if err != nil {
		p.log.Warn("savepoint on stop failed: the next run resumes from the checkpoint before", "err", err)
		return
	}
	if err := p.coord.WaitCommitted(sctx, id); err != nil {
		p.log.Warn("savepoint on stop: its output is committed by the next run", "id", id, "err", err)
		return
	}
	p.log.Info("savepoint on stop", "id", id, "took", time.Since(start).Round(time.Millisecond))
}

// restoredJobs lists the queries resumed from the checkpoint, sorted.
func restoredJobs(c *checkpoint.Checkpoint) []string {
	return slices.Sorted(maps.Keys(c.Sources))
}
