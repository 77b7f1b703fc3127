package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
)

// retryAfter is how long the service waits before restarting a runner that
// failed or found its stream delivered by another process.
const retryAfter = 2 * time.Second

// Service runs a runner for every delivery stream of a catalog, starting,
// restarting and stopping them as definitions are created, updated and deleted.
type Service struct {
	opts Options
	cat  *catalog.Catalog
}

// NewService returns a service over a catalog.
func NewService(opts Options, cat *catalog.Catalog) *Service {
	opts.fill()
	return &Service{opts: opts, cat: cat}
}

type running struct {
	version string
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	ended   time.Time
}

// Run delivers until ctx ends. keep selects the delivery streams to run (nil: all).
func (s *Service) Run(ctx context.Context, keep func(name string) bool) error {
	runs := map[string]*running{}
	var wg sync.WaitGroup
	defer func() {
		for _, r := range runs {
			r.cancel()
		}
		wg.Wait()
	}()
	for {
		v := s.cat.Version()
		wanted := map[string]catalog.DeliveryStream{}
		for _, ds := range s.cat.All() {
			if ds.Status == catalog.StatusDeleting || (keep != nil && !keep(ds.Name)) {
				continue
			}
			wanted[ds.Name] = ds
		}
		for name, r := range runs {
			ds, ok := wanted[name]
			finished := isDone(r.done)
			if ok && ds.VersionID == r.version && (!finished || time.Since(r.ended) < retryAfter) {
				continue
			}
			r.cancel()
			<-r.done
			if finished && r.err != nil && !errors.Is(r.err, context.Canceled) {
				s.opts.Logger.Warn("delivery stopped; restarting", "delivery_stream", name, "err", r.err)
			}
			delete(runs, name)
		}
		for name, ds := range wanted {
			if runs[name] != nil {
				continue
			}
			runner, err := NewRunner(s.opts, ds)
			rctx, cancel := context.WithCancel(ctx)
			r := &running{version: ds.VersionID, cancel: cancel, done: make(chan struct{})}
			runs[name] = r
			if err != nil {
				r.err, r.ended = err, time.Now()
				close(r.done)
				s.opts.Logger.Error("delivery stream cannot run", "delivery_stream", name, "err", err)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := runner.Run(rctx, false)
				r.err, r.ended = err, time.Now()
				close(r.done)
			}()
		}
		wctx, cancel := context.WithTimeout(ctx, retryAfter)
		_, err := s.cat.Wait(wctx, v)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		_ = err // a timeout: look at failed runners again
	}
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Deliver delivers everything the sources of the named delivery streams (all
// when names is empty) hold now, and returns.
func Deliver(ctx context.Context, opts Options, cat *catalog.Catalog, names []string) error {
	opts.fill()
	var list []catalog.DeliveryStream
	if len(names) == 0 {
		list = cat.All()
	} else {
		for _, n := range names {
			ds, err := cat.Get(n)
			if err != nil {
				return err
			}
			list = append(list, ds)
		}
	}
	for _, ds := range list {
		r, err := NewRunner(opts, ds)
		if err != nil {
			return err
		}
		if err := r.Run(ctx, true); err != nil {
			return err
		}
	}
	return nil
}
