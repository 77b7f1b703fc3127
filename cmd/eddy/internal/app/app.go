// Package app owns running SQL applications: it compiles the text, plans every
// query, opens the connectors their WITH options name (sources, sinks, the
// application's error stream) and runs one exec.Job per query. It is the only
// place where sql, planner, exec and the connectors meet.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/connectors/file"
	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/kinesis"
	"github.com/eddy-streams/eddy/connectors/stdout"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/exec/checkpoint"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// Env is what an application runs against.
type Env struct {
	Store  *streamstore.Store
	Stdout io.Writer // where SELECT results and stdout sinks print
	// ConsoleFormat is how SELECT results print: table (default) or json.
	ConsoleFormat string
	Logger        *slog.Logger
	Now           func() time.Time
}

// RunOptions control one run.
type RunOptions struct {
	// Bounded reads every source to its end as of the start, closes every
	// window, flushes the sinks and returns.
	Bounded bool
	// Workers is the number of aggregation workers per query (default
	// GOMAXPROCS); a query resumed from a checkpoint keeps the checkpoint's.
	Workers int
	// IdleTimeout is how long an event-time shard may be silent before it stops
	// holding the watermark (default 5s).
	IdleTimeout time.Duration
	// Checkpoints, when set, checkpoints the application and resumes it from
	// a checkpoint; nil runs without.
	Checkpoints *Checkpoints
	// NoDrain ends a bounded run without closing its windows: its last
	// checkpoint keeps them open for the next run (needs Checkpoints).
	NoDrain bool
}

// Application is a compiled SQL application.
type Application struct {
	Name       string
	Statements []sql.Statement
	Catalog    *sql.Catalog
	Settings   Settings
}

// ErrorStreamName is the store stream holding an application's error stream.
func ErrorStreamName(app string) string { return app + "-errors" }

// Compile checks an application's text. name names the application (its error
// stream is NAME-errors, its checkpoints are kept under NAME); "" takes the
// name from SET application_name, else from the file name.
func Compile(name, file, text string) (*Application, error) {
	cat := sql.NewCatalog()
	stmts, err := sql.Compile(file, text, cat)
	if err != nil {
		return nil, err
	}
	set, err := settings(stmts)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = set.Name
	}
	if name == "" {
		name = DefaultName(file)
	}
	if err := streamstore.ValidateStreamName(ErrorStreamName(name)); err != nil {
		return nil, fmt.Errorf("application name %q: %w", name, err)
	}
	if err := checkpoint.CheckAppName(name); err != nil {
		return nil, fmt.Errorf("application name %q: %w", name, err)
	}
	a := &Application{Name: name, Statements: stmts, Catalog: cat, Settings: set}
	if len(a.Queries()) == 0 {
		return nil, fmt.Errorf("%s: the application has no query to run (INSERT INTO ... SELECT or SELECT)", file)
	}
	return a, nil
}

// Query is one runnable statement of an application.
type Query struct {
	Pos   sql.Pos
	Query *sql.Query
	Sink  *sql.CreateSink // nil: results to the console
}

// Queries returns the INSERT and SELECT statements in order.
func (a *Application) Queries() []Query {
	var out []Query
	for _, s := range a.Statements {
		switch st := s.(type) {
		case *sql.Insert:
			sink, _ := a.Catalog.Sink(st.Sink)
			out = append(out, Query{Pos: st.Pos, Query: st.Query, Sink: sink})
		case *sql.Select:
			out = append(out, Query{Pos: st.Pos, Query: st.Query})
		}
	}
	return out
}

// Running is a query that has been planned and wired, ready to run.
type Running struct {
	Query Query
	// Name is the query's name in checkpoints (its sink's name).
	Name string
	Plan *planner.Physical
	Job  *exec.Job
	src  exec.Source
	sink exec.Sink
}

// Prepared is an application ready to run: its queries wired and, with
// checkpoints, the checkpoint they resume from.
type Prepared struct {
	Queries     []*Running
	coord       *exec.Coordinator
	checkpoints *Checkpoints
	restored    *checkpoint.Checkpoint
	log         *slog.Logger
	closed      bool
}

// Restored is the checkpoint the application resumes from, or nil.
func (p *Prepared) Restored() *checkpoint.Checkpoint { return p.restored }

// Summary reports what each query did.
type Summary struct {
	Queries []QuerySummary
}

// QuerySummary is one query's counters.
type QuerySummary struct {
	Pos   sql.Pos
	Sink  string
	Stats exec.Stats
}

// Prepare plans every query and opens its connectors; with checkpoints it
// finds the checkpoint to resume from. Close what it returns.
func (a *Application) Prepare(ctx context.Context, env Env, opts RunOptions) (*Prepared, error) {
	p, err := a.prepareAll(ctx, env, opts)
	if err != nil && p != nil && p.restored != nil && opts.Checkpoints.AllowStateReset {
		env.Logger.Warn("the application's state does not fit it any more: starting fresh (--allow-state-reset)",
			"checkpoint", p.restored.ID, "err", err)
		reset := *opts.Checkpoints
		reset.From = "none"
		opts.Checkpoints = &reset
		p, err = a.prepareAll(ctx, env, opts)
	} else if err != nil && p != nil && p.restored != nil {
		err = fmt.Errorf("resume %s from checkpoint %d: %w; if the application changed on purpose, --allow-state-reset starts it afresh (dropping that state), or --from-checkpoint picks another checkpoint",
			a.Name, p.restored.ID, err)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// prepareAll is Prepare with one choice of checkpoint. On failure the
// returned Prepared, if any, is closed and says which checkpoint was tried.
func (a *Application) prepareAll(ctx context.Context, env Env, opts RunOptions) (*Prepared, error) {
	if opts.NoDrain && (!opts.Bounded || opts.Checkpoints == nil) {
		return nil, fmt.Errorf("ending a run without closing its windows needs a bounded run with checkpoints")
	}
	p := &Prepared{checkpoints: opts.Checkpoints, log: env.Logger}
	if opts.Checkpoints != nil {
		coord, restored, err := a.newCoordinator(ctx, env, opts.Checkpoints)
		p.coord, p.restored = coord, restored
		if err != nil {
			return p, err
		}
		if restored != nil {
			env.Logger.Info("resuming from checkpoint", "app", a.Name, "id", restored.ID, "created", restored.Created,
				"queries", strings.Join(restoredJobs(restored), ","))
		}
	}
	errSink, err := a.errorSink(env)
	if err != nil {
		return p, err
	}
	names := jobNames(a.Queries())
	for i, q := range a.Queries() {
		r, err := a.prepare(env, opts, q, names[i], errSink, p)
		if err != nil {
			p.Close()
			return p, fmt.Errorf("%s: %w", q.Pos, err)
		}
		p.Queries = append(p.Queries, r)
	}
	return p, nil
}
func (a *Application) errorSink(env Env) (exec.ErrorSink, error) {
	name := ErrorStreamName(a.Name)
	if _, err := env.Store.DescribeStream(name); errors.Is(err, streamstore.ErrNotFound) {
		if err := env.Store.CreateStream(name, 1); err != nil && !errors.Is(err, streamstore.ErrInUse) {
			return nil, fmt.Errorf("create error stream %s: %w", name, err)
		}
	} else if err != nil {
		return nil, err
	}
	// Writers of a stream are exclusive: fail now, not at the first bad record.
	if err := env.Store.Own(name); err != nil {
		return nil, fmt.Errorf("error stream: %w", err)
	}
	return kinesis.NewEmbeddedErrorSink(env.Store, name)
}

func (a *Application) prepare(env Env, opts RunOptions, q Query, name string, errSink exec.ErrorSink, p *Prepared) (*Running, error) {
	def, ok := a.Catalog.Stream(q.Query.Source)
	if !ok {
		return nil, fmt.Errorf("stream %s is not declared", q.Query.Source)
	}
	workers := opts.Workers
	var resume *kinesis.Resume
	if p.restored != nil {
		if pos, ok := p.restored.Sources[name]; ok {
			resume = &kinesis.Resume{After: pos.After, Done: pos.Done}
		}
		if w, ok := exec.CheckpointedWorkers(p.restored, name); ok {
			if workers != 0 && workers != w {
				env.Logger.Warn("--workers ignored: a query resumed from a checkpoint keeps the workers its state was taken with",
					"query", name, "workers", w)
			}
			workers = w
		}
	}
	plan, err := planner.Plan(q.Query, def, planner.Options{Workers: workers})
	if err != nil {
		return nil, err
	}
	src, err := openSource(env, def, plan, opts.Bounded, resume)
	if err != nil {
		return nil, err
	}
	sink, err := openSink(env, q.Sink, plan)
	if err != nil {
		src.Close()
		return nil, err
	}
	jo := exec.JobOptions{SourceName: def.Name, IdleTimeout: opts.IdleTimeout, Logger: env.Logger, Now: env.Now,
		KeepOpenAtEnd: opts.NoDrain}
	if p.coord != nil {
		jo.Checkpointing = &exec.Checkpointing{Coordinator: p.coord, Name: name}
	}
	job, err := exec.NewJob(plan, src, sink, errSink, jo)
	if err != nil {
		src.Close()
		sink.Close()
		return nil, err
	}
	return &Running{Query: q, Name: name, Plan: plan, Job: job, src: src, sink: sink}, nil
}

func openSource(env Env, def *sql.CreateStream, plan *planner.Physical, bounded bool, resume *kinesis.Resume) (exec.Source, error) {
	connector := strings.ToLower(strings.TrimSpace(def.With["connector"]))
	if connector != "kinesis" {
		return nil, fmt.Errorf("stream %s: connector %q cannot be read; streams use connector = 'kinesis'", def.Name, def.With["connector"])
	}
	with := make(map[string]string, len(def.With))
	for k, v := range def.With {
		if !slices.Contains(planner.EngineOptions(), strings.ToLower(k)) {
			with[k] = v // the rest are the connector's to check
		}
	}
	cfg, err := kinesis.SourceConfigFromOptions(def.Name, def.Columns, def.Paths, with)
	if err != nil {
		return nil, err
	}
	if err := cfg.SetScanColumns(plan.ScanColumns); err != nil {
		return nil, err
	}
	cfg.Bounded = bounded
	cfg.Now = env.Now // the store's clock: heartbeats advance ROWTIME watermarks by it
	cfg.Resume = resume
	rc, err := kinesis.RemoteConfigFromOptions("stream "+def.Name, with)
	if err != nil {
		return nil, err
	}
	var src interface {
		exec.Source
		Warnings() []string
	}
	if rc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		src, err = kinesis.OpenRemoteSource(ctx, cfg, *rc)
	} else {
		src, err = kinesis.OpenEmbeddedSource(env.Store, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", def.Name, err)
	}
	for _, w := range src.Warnings() {
		env.Logger.Warn("records lost before they were read", "stream", def.Name, "reason", w)
	}
	return src, nil
}

func openSink(env Env, def *sql.CreateSink, plan *planner.Physical) (exec.Sink, error) {
	if def == nil {
		cfg := stdout.Config{Name: "console", Format: env.ConsoleFormat, Schema: plan.Output}
		if cfg.Format == "" {
			cfg.Format = "table"
		}
		return stdout.New(env.Stdout, cfg)
	}
	switch c := strings.ToLower(strings.TrimSpace(def.With["connector"])); c {
	case "stdout":
		cfg, err := stdout.ConfigFromOptions(def.Name, plan.Output, def.With)
		if err != nil {
			return nil, err
		}
		return stdout.New(env.Stdout, cfg)
	case "file":
		cfg, err := file.ConfigFromOptions(def.Name, plan.Output, def.With)
		if err != nil {
			return nil, err
		}
		return file.Open(cfg)
	case "kinesis":
		cfg, err := kinesis.SinkConfigFromOptions(def.Name, plan.Output, def.With)
		if err != nil {
			return nil, err
		}
		rc, err := kinesis.RemoteConfigFromOptions("sink "+def.Name, def.With)
		if err != nil {
			return nil, err
		}
		if rc != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			return kinesis.NewRemoteSink(ctx, cfg, *rc)
		}
		if err := env.Store.Own(cfg.Stream); err != nil {
			return nil, fmt.Errorf("sink %s: %w", def.Name, err)
		}
		return kinesis.NewEmbeddedSink(env.Store, cfg)
	case "firehose":
		name, err := firehoseSinkStream(env, def)
		if err != nil {
			return nil, err
		}
		cfg := kinesis.SinkConfig{Name: def.Name, Schema: plan.Output, Stream: catalog.BackingStream(name)}
		if err := env.Store.Own(cfg.Stream); err != nil {
			return nil, fmt.Errorf("sink %s: delivery stream %s: %w", def.Name, name, err)
		}
		// The records go, exactly once with checkpoints, to the stream that
		// buffers the delivery stream's puts; its runner delivers them.
		return kinesis.NewEmbeddedSink(env.Store, cfg)
	default:
		return nil, fmt.Errorf("sink %s: connector %q is not one of stdout, file, kinesis, firehose", def.Name, c)
	}
}

// Close releases every query's source and sink; it may be called again.
func (p *Prepared) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	for _, r := range p.Queries {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// Close releases the query's source and sink.
func (r *Running) Close() error {
	err := r.src.Close()
	if serr := r.sink.Close(); err == nil {
		err = serr
	}
	return err
}

// Run prepares and runs every query of the application until ctx ends (or, when
// bounded, until every source is read to its end) and closes them.
func (a *Application) Run(ctx context.Context, env Env, opts RunOptions) (Summary, error) {
	p, err := a.Prepare(ctx, env, opts)
	if err != nil {
		return Summary{}, err
	}
	defer p.Close()
	return p.Run(ctx)
}

// Run runs the prepared queries concurrently until ctx ends or, bounded, until
// their input ends; the first failure stops the others. With checkpoints, the
// end of ctx first takes a savepoint, so a stopped application resumes
// exactly where it stopped.
func (p *Prepared) Run(ctx context.Context) (Summary, error) {
	jobsCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	finished := make(chan struct{})
	var control sync.WaitGroup
	if p.coord != nil {
		control.Go(func() { p.coord.Run(jobsCtx) })
	}
	control.Go(func() {
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		if p.coord != nil {
			p.savepoint(ctx)
		}
		cancelJobs()
	})
	errs := make([]error, len(p.Queries))
	var wg sync.WaitGroup
	for i, r := range p.Queries {
		wg.Go(func() {
			if err := r.Job.Run(jobsCtx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", r.Query.Pos, err)
				cancelJobs()
			}
		})
	}
	wg.Wait()
	close(finished)
	cancelJobs()
	control.Wait()
	if p.coord != nil {
		p.coord.Wait()
	}
	var sum Summary
	for _, r := range p.Queries {
		name := "console"
		if r.Query.Sink != nil {
			name = r.Query.Sink.Name
		}
		sum.Queries = append(sum.Queries, QuerySummary{Pos: r.Query.Pos, Sink: name, Stats: r.Job.Stats()})
	}
	return sum, errors.Join(errs...)
}

// firehoseSinkStream checks a firehose sink's options and returns the name of
// its delivery stream, which must exist and take direct puts.
func firehoseSinkStream(env Env, def *sql.CreateSink) (string, error) {
	var name string
	for k, v := range def.With {
		switch strings.ToLower(k) {
		case "connector":
		case "delivery_stream":
			name = strings.TrimSpace(v)
		case "format":
			if !strings.EqualFold(strings.TrimSpace(v), "json") {
				return "", fmt.Errorf("sink %s: option format = %q: a firehose sink puts json records", def.Name, v)
			}
		default:
			return "", fmt.Errorf("sink %s: unknown option %q for a firehose sink; valid options are connector, delivery_stream, format", def.Name, k)
		}
	}
	if name == "" {
		return "", fmt.Errorf("sink %s: option delivery_stream is required: the name of a delivery stream (eddy firehose create NAME)", def.Name)
	}
	cat, err := catalog.Open(env.Store.Dir(), catalog.Options{StateDelay: -1, Logger: env.Logger})
	if err != nil {
		return "", fmt.Errorf("sink %s: %w", def.Name, err)
	}
	ds, err := cat.Get(name)
	if err != nil {
		return "", fmt.Errorf("sink %s: delivery stream %s does not exist; create it with eddy firehose create %s", def.Name, name, name)
	}
	if ds.Type != catalog.TypeDirectPut {
		return "", fmt.Errorf("sink %s: delivery stream %s reads stream %s; write to that stream with a kinesis sink instead", def.Name, name, ds.Source.StreamName)
	}
	return name, nil
}

// DeliveryStreams lists the delivery streams the application's firehose sinks write.
func (p *Prepared) DeliveryStreams() []string {
	var out []string
	for _, r := range p.Queries {
		s := r.Query.Sink
		if s == nil || !strings.EqualFold(strings.TrimSpace(s.With["connector"]), "firehose") {
			continue
		}
		for k, v := range s.With {
			if strings.EqualFold(k, "delivery_stream") && !slices.Contains(out, strings.TrimSpace(v)) {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out
}
