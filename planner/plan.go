// Package planner owns the step from a checked query to a physical operator
// graph: a logical plan (scan, filter, project, window aggregate, sink), rules
// that prune columns and push filters into the scan, and the physical plan the
// runtime executes (which columns the decoder produces, what runs before and after
// the hash exchange, how many workers aggregate). It does no I/O.
package planner

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Physical is what exec runs for one query: a scan whose decoder produces only
// the needed columns, a filter and projection fused into the scan stage, then
// either a windowed hash aggregation (behind a hash exchange over Workers) or
// nothing, then the output stage (HAVING, SELECT, LIMIT) feeding the sink.
type Physical struct {
	// Source is the stream read; ScanColumns are the indexes in the stream's
	// Schema() (declared columns, then ROWTIME) that the decoder produces, in
	// this order: ScanSchema.
	Source      string
	ScanColumns []int
	ScanSchema  types.Schema
	// Filter is over ScanSchema; nil for none.
	Filter expr.Expr

	// Agg is nil for a non-aggregating query.
	Agg *AggregateStage
	// Over is nil unless the query has OVER windows (never with Agg).
	Over *OverStage

	// Output is over AggSchema (aggregating), OverSchema (with Over) or ScanSchema (otherwise).
	Having expr.Expr // nil for none; aggregating only
	Select []expr.Expr
	Output types.Schema
	Limit  int64 // -1 for none
}

// AggregateStage is a windowed hash aggregation. The scan stage evaluates
// KeyExprs and AggArgs over ScanSchema, routes each row by the hash of its key to
// one of Workers, and each worker keeps the windows of its keys.
type AggregateStage struct {
	Window     sql.Window
	TimeColumn int // in ScanSchema: the event-time column
	// WatermarkDelay is the bounded disorder of event time (0 for ROWTIME).
	WatermarkDelay time.Duration
	// AllowedLateness keeps a closed window's state this long: rows that
	// arrive within it update the window and its result is emitted again.
	// Rows later than that are late.
	AllowedLateness time.Duration
	// EmitEvery, when set, emits open windows' changed rows each time the
	// watermark enters a new period of this length, before the final row at
	// close.
	EmitEvery time.Duration
	EventTime bool // false when the time column is ROWTIME
	KeyExprs  []expr.Expr
	KeyNames  []string
	Aggs      []Aggregate
	Workers   int
	// AggSchema is the schema of fired windows: keys, window_start, window_end, aggregates.
	AggSchema types.Schema
}

// Updating says whether a window's row can be emitted more than once
// (allowed lateness or early results). The output is then a changelog: its
// last column, OpColumn, says whether a row is added or retracted.
func (a *AggregateStage) Updating() bool {
	return a != nil && (a.AllowedLateness > 0 || a.EmitEvery > 0)
}

// OpColumn is the last output column of an updating query. Its values are
// the row kinds of a changelog, as Flink names them: "+I" a new row, "-U" the
// earlier row of an update, "+U" its new row, "-D" a row withdrawn (a session
// merged into another or moved, or a group HAVING no longer keeps).
const OpColumn = "_op"

// Change kinds of OpColumn.
const (
	OpInsert       = "+I"
	OpUpdateBefore = "-U"
	OpUpdateAfter  = "+U"
	OpDelete       = "-D"
)

// Aggregate is one aggregate of the stage (see sql.Aggregate for Fn, Param
// and T); Arg is over ScanSchema (nil for count_star).
type Aggregate struct {
	Fn       string
	Arg      expr.Expr
	Distinct bool
	Param    float64
	T        types.Type
}

// OptAllowedLateness is the stream WITH option that keeps closed windows open
// for late rows, e.g. allowed_lateness = '30 seconds'. It belongs to the engine,
// not the connector.
const OptAllowedLateness = "allowed_lateness"

// OptEmitEvery is the stream WITH option for early results of long windows,
// e.g. emit_every = '10 seconds'.
const OptEmitEvery = "emit_every"

// EngineOptions are the stream WITH options the planner reads; connectors
// never see them.
func EngineOptions() []string { return []string{OptAllowedLateness, OptEmitEvery} }

// ParseDuration reads '30 seconds', '2 MINUTES', '500 ms' or a Go duration
// such as '1m30s'. It must not be negative.
func ParseDuration(v string) (time.Duration, error) {
	s := strings.TrimSpace(v)
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("a duration must not be negative")
		}
		return d, nil
	}
	num, unit, ok := strings.Cut(s, " ")
	if !ok {
		return 0, fmt.Errorf("not a duration: write e.g. '30 seconds' or '1m30s'")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a duration: %q is not a whole number of units", num)
	}
	units := map[string]time.Duration{"millisecond": time.Millisecond, "ms": time.Millisecond, "second": time.Second,
		"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	u, ok := units[strings.TrimSuffix(strings.ToLower(strings.TrimSpace(unit)), "s")]
	if !ok {
		u, ok = units[strings.ToLower(strings.TrimSpace(unit))]
	}
	if !ok {
		return 0, fmt.Errorf("unknown unit %q: use milliseconds, seconds, minutes, hours or days", unit)
	}
	return time.Duration(n) * u, nil
}

// Options tune planning.
type Options struct {
	// Workers is the number of aggregation workers (default GOMAXPROCS).
	Workers int
}

// Plan turns a checked query over the stream declared by def into a physical plan.
func Plan(q *sql.Query, def *sql.CreateStream, opts Options) (*Physical, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if q.Over != nil {
		return planOver(q, def, opts), nil
	}
	// Collect every input column any expression before the aggregation uses;
	// the scan decodes only those (projection pruning, pushed into the decoder).
	used := map[int]bool{}
	visitInput := func(e expr.Expr) {
		if e != nil {
			columnsOf(e, used)
		}
	}
	visitInput(q.Where)
	if q.Aggregating() {
		if !q.Window.ProcTime {
			used[q.TimeColumn] = true
		}
		for _, g := range q.GroupBy {
			visitInput(g)
		}
		for _, a := range q.Aggregates {
			visitInput(a.Arg)
		}
	} else {
		for _, s := range q.Select {
			visitInput(s)
		}
	}
	scanCols := make([]int, 0, len(used))
	for i := range q.Input {
		if used[i] {
			scanCols = append(scanCols, i)
		}
	}
	remap := make(map[int]int, len(scanCols))
	scanSchema := make(types.Schema, len(scanCols))
	for j, i := range scanCols {
		remap[i] = j
		scanSchema[j] = q.Input[i]
	}
	p := &Physical{
		Source:      q.Source,
		ScanColumns: scanCols,
		ScanSchema:  scanSchema,
		Filter:      remapColumns(q.Where, remap),
		Having:      q.Having,
		Output:      q.Output,
		Limit:       q.Limit,
	}
	if q.Aggregating() {
		agg := &AggregateStage{
			Window:     *q.Window,
			TimeColumn: timeColumnOf(q, remap),
			KeyNames:   q.GroupNames,
			Workers:    opts.Workers,
			AggSchema:  q.AggSchema(),
			EventTime:  def != nil && def.Watermark != nil && !q.Window.ProcTime,
		}
		if agg.EventTime {
			agg.WatermarkDelay = def.Watermark.Delay
		}
		if def != nil {
			if v, ok := def.With[OptAllowedLateness]; ok {
				d, err := ParseDuration(v)
				if err != nil {
					return nil, fmt.Errorf("stream %s: option %s = %q: %w", def.Name, OptAllowedLateness, v, err)
				}
				agg.AllowedLateness = d
			}
			if v, ok := def.With[OptEmitEvery]; ok {
				d, err := ParseDuration(v)
				if err != nil || d <= 0 {
					if err == nil {
						err = fmt.Errorf("the period must be positive")
					}
					return nil, fmt.Errorf("stream %s: option %s = %q: %w", def.Name, OptEmitEvery, v, err)
				}
				agg.EmitEvery = d
			}
		}
		for _, g := range q.GroupBy {
			agg.KeyExprs = append(agg.KeyExprs, remapColumns(g, remap))
		}
		for _, a := range q.Aggregates {
			agg.Aggs = append(agg.Aggs, Aggregate{Fn: a.Fn, Arg: remapColumns(a.Arg, remap), Distinct: a.Distinct, Param: a.Param, T: a.T})
		}
		p.Agg = agg
		p.Select = q.Select
		if agg.Updating() {
			if i := q.Output.Index(OpColumn); i >= 0 {
				return nil, fmt.Errorf("output column %s: the name %s is reserved for the change kind of a query with %s or %s; rename it with AS",
					q.Output[i].Name, OpColumn, OptAllowedLateness, OptEmitEvery)
			}
			p.Output = append(slices.Clip(q.Output), types.Column{Name: OpColumn, Type: types.VarcharType})
		}
	} else {
		for _, s := range q.Select {
			p.Select = append(p.Select, remapColumns(s, remap))
		}
	}
	return p, nil
}

// timeColumnOf is the scan position of the query's time column, or -1 for
// processing time (the runtime stamps rows with the wall clock).
func timeColumnOf(q *sql.Query, remap map[int]int) int {
	if q.Window.ProcTime {
		return -1
	}
	return remap[q.TimeColumn]
}

// columnsOf adds the input columns e reads to used.
func columnsOf(e expr.Expr, used map[int]bool) {
	switch x := e.(type) {
	case *expr.Column:
		used[x.Index] = true
	case *expr.Call:
		for _, a := range x.Args {
			columnsOf(a, used)
		}
	case *expr.Cast:
		columnsOf(x.X, used)
	}
}

// remapColumns rewrites column indexes through remap (input -> scan schema).
func remapColumns(e expr.Expr, remap map[int]int) expr.Expr {
	switch x := e.(type) {
	case nil:
		return nil
	case *expr.Column:
		return &expr.Column{Index: remap[x.Index], Name: x.Name, T: x.T}
	case *expr.Call:
		args := make([]expr.Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = remapColumns(a, remap)
		}
		return &expr.Call{Fn: x.Fn, Args: args, T: x.T}
	case *expr.Cast:
		return &expr.Cast{X: remapColumns(x.X, remap), T: x.T}
	}
	return e
}

func timeName(p *Physical, a *AggregateStage) string {
	if a.TimeColumn < 0 {
		return "PROCTIME()"
	}
	return p.ScanSchema[a.TimeColumn].Name
}

// Explain renders the plan, one stage per line, for `EXPLAIN` and for tests.
func (p *Physical) Explain() string {
	var b strings.Builder
	names := make([]string, len(p.ScanSchema))
	for i, c := range p.ScanSchema {
		names[i] = c.Name
	}
	fmt.Fprintf(&b, "Scan %s columns=[%s]\n", p.Source, strings.Join(names, ", "))
	if p.Filter != nil {
		fmt.Fprintf(&b, "  Filter %s\n", p.Filter)
	}
	if a := p.Agg; a != nil {
		keys := make([]string, len(a.KeyExprs))
		for i, k := range a.KeyExprs {
			keys[i] = k.String()
		}
		fmt.Fprintf(&b, "  Exchange hash(%s) workers=%d\n", strings.Join(keys, ", "), a.Workers)
		aggs := make([]string, len(a.Aggs))
		for i, g := range a.Aggs {
			arg := "*"
			if g.Arg != nil {
				arg = g.Arg.String()
			}
			if g.Distinct {
				arg = "DISTINCT " + arg
			}
			if g.Fn == "approx_percentile" || g.Fn == "top_k" {
				arg = fmt.Sprintf("%s, %v", arg, g.Param)
			}
			aggs[i] = fmt.Sprintf("%s(%s)", g.Fn, arg)
		}
		fmt.Fprintf(&b, "  WindowAggregate %s size=%s time=%s watermark_delay=%s aggs=[%s]\n", a.Window.Kind, a.Window.Size,
			timeName(p, a), a.WatermarkDelay, strings.Join(aggs, ", "))
	}
	if p.Over != nil {
		p.Over.explain(&b, p.ScanSchema)
	}
	if p.Having != nil {
		fmt.Fprintf(&b, "  Having %s\n", p.Having)
	}
	sel := make([]string, len(p.Select))
	for i, s := range p.Select {
		sel[i] = fmt.Sprintf("%s AS %s", s, p.Output[i].Name)
	}
	fmt.Fprintf(&b, "  Project %s\n", strings.Join(sel, ", "))
	if p.Limit >= 0 {
		fmt.Fprintf(&b, "  Limit %d\n", p.Limit)
	}
	return b.String()
}
