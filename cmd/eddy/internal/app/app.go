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
	"github.com/eddy-streams/eddy/connectors/kinesis"
	"github.com/eddy-streams/eddy/connectors/stdout"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
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
	// Workers is the number of aggregation workers per query (default GOMAXPROCS).
	Workers int
	// IdleTimeout is how long an event-time shard may be silent before it stops
	// holding the watermark (default 5s).
	IdleTimeout time.Duration
}

// Application is a compiled SQL application.
type Application struct {
	Name       string
	Statements []sql.Statement
	Catalog    *sql.Catalog
}

// ErrorStreamName is the store stream holding an application's error stream.
func ErrorStreamName(app string) string { return app + "-errors" }

// Compile checks an application's text. name names the application (its error
// stream is NAME-errors).
func Compile(name, file, text string) (*Application, error) {
	if err := streamstore.ValidateStreamName(ErrorStreamName(name)); err != nil {
		return nil, fmt.Errorf("application name %q: %w", name, err)
	}
	cat := sql.NewCatalog()
	stmts, err := sql.Compile(file, text, cat)
	if err != nil {
		return nil, err
	}
	a := &Application{Name: name, Statements: stmts, Catalog: cat}
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
	Plan  *planner.Physical
	Job   *exec.Job
	src   exec.Source
	sink  exec.Sink
}

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

// Prepare plans every query and opens its connectors. Close what it returns.
func (a *Application) Prepare(env Env, opts RunOptions) ([]*Running, error) {
	errSink, err := a.errorSink(env)
	if err != nil {
		return nil, err
	}
	var out []*Running
	for _, q := range a.Queries() {
		r, err := a.prepare(env, opts, q, errSink)
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("%s: %w", q.Pos, err)
		}
		out = append(out, r)
	}
	return out, nil
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

func (a *Application) prepare(env Env, opts RunOptions, q Query, errSink exec.ErrorSink) (*Running, error) {
	def, ok := a.Catalog.Stream(q.Query.Source)
	if !ok {
		return nil, fmt.Errorf("stream %s is not declared", q.Query.Source)
	}
	plan, err := planner.Plan(q.Query, def, planner.Options{Workers: opts.Workers})
	if err != nil {
		return nil, err
	}
	src, err := openSource(env, def, plan, opts.Bounded)
	if err != nil {
		return nil, err
	}
	sink, err := openSink(env, q.Sink, plan)
	if err != nil {
		src.Close()
		return nil, err
	}
	job, err := exec.NewJob(plan, src, sink, errSink, exec.JobOptions{
		SourceName: def.Name, IdleTimeout: opts.IdleTimeout, Logger: env.Logger, Now: env.Now,
	})
	if err != nil {
		src.Close()
		sink.Close()
		return nil, err
	}
	return &Running{Query: q, Plan: plan, Job: job, src: src, sink: sink}, nil
}

func openSource(env Env, def *sql.CreateStream, plan *planner.Physical, bounded bool) (exec.Source, error) {
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
	src, err := kinesis.OpenEmbeddedSource(env.Store, cfg)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", def.Name, err)
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
		if err := env.Store.Own(cfg.Stream); err != nil {
			return nil, fmt.Errorf("sink %s: %w", def.Name, err)
		}
		return kinesis.NewEmbeddedSink(env.Store, cfg)
	default:
		return nil, fmt.Errorf("sink %s: connector %q is not one of stdout, file, kinesis", def.Name, c)
	}
}

func closeAll(rs []*Running) {
	for _, r := range rs {
		r.Close()
	}
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
	running, err := a.Prepare(env, opts)
	if err != nil {
		return Summary{}, err
	}
	defer closeAll(running)
	return RunAll(ctx, running)
}

// RunAll runs prepared queries concurrently; the first failure stops the others.
func RunAll(ctx context.Context, running []*Running) (Summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(running))
	var wg sync.WaitGroup
	for i, r := range running {
		wg.Go(func() {
			if err := r.Job.Run(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", r.Query.Pos, err)
				cancel()
			}
		})
	}
	wg.Wait()
	var sum Summary
	for _, r := range running {
		name := "console"
		if r.Query.Sink != nil {
			name = r.Query.Sink.Name
		}
		sum.Queries = append(sum.Queries, QuerySummary{Pos: r.Query.Pos, Sink: name, Stats: r.Job.Stats()})
	}
	return sum, errors.Join(errs...)
}
