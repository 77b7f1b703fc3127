// Package sql owns the front end: it turns application text into checked
// statements. It splits statements, parses streaming DDL itself, parses queries
// and expressions with tidb's parser (rewriting tokens where tidb's grammar lacks a
// form), and binds names and types against a Catalog. It does no I/O. Errors carry
// the file, line and column of the offending text.
package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Pos is a position in an application's text. Line and Col are 1-based; Col
// counts characters (runes) from the start of the line.
type Pos struct {
	File   string
	Line   int
	Col    int
	Offset int // byte offset in the whole text
}

func (p Pos) String() string {
	file := p.File
	if file == "" {
		file = "<input>"
	}
	return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Col)
}

// Error is a front-end error at a position. Near is the offending text.
type Error struct {
	Pos  Pos
	Msg  string
	Near string
}

func (e *Error) Error() string {
	if e.Near == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s (near %q)", e.Pos, e.Msg, e.Near)
}

// ErrorList is every error found in one compile, in text order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Statement is one checked statement.
type Statement interface {
	Position() Pos
}

// RowtimeColumn is the name of the column every stream has: the record's arrival
// time in its source stream (the stored ApproximateArrivalTimestamp).
const RowtimeColumn = "ROWTIME"

// CreateStream declares a stream: its columns, how they map from the records,
// its event time and its connector.
type CreateStream struct {
	Pos  Pos
	Name string
	// Columns are the declared columns. Every stream also has ROWTIME, which
	// Schema appends.
	Columns types.Schema
	// Paths holds, per column, the JSON path it is read from ("$.quote.price"),
	// or "" to read the top-level field of the column's name.
	Paths []string
	// Watermark is nil when the stream's time is ROWTIME.
	Watermark *Watermark
	// With holds the WITH options; keys are lower case, values as written.
	With map[string]string
	// WithPos holds the position of each WITH option's key, so that a connector
	// that rejects an option can point at it.
	WithPos map[string]Pos
}

// Watermark declares event time: Column (an index into Columns, a TIMESTAMP)
// with a bounded disorder of Delay.
type Watermark struct {
	Column int
	Delay  time.Duration
}

// Schema returns the stream's columns followed by ROWTIME.
func (s *CreateStream) Schema() types.Schema {
	out := append(types.Schema{}, s.Columns...)
	return append(out, types.Column{Name: RowtimeColumn, Type: types.TimestampType})
}

// TimeColumn returns the index in Schema() of the stream's time column.
func (s *CreateStream) TimeColumn() int {
	if s.Watermark != nil {
		return s.Watermark.Column
	}
	return len(s.Columns)
}

// CreateSink declares a named output.
type CreateSink struct {
	Pos     Pos
	Name    string
	With    map[string]string
	WithPos map[string]Pos
}

// Insert runs Query continuously into Sink.
type Insert struct {
	Pos   Pos
	Sink  string
	Query *Query
}

// Select runs Query with results to the console (REPL, or eddy run without a sink).
type Select struct {
	Pos   Pos
	Query *Query
}

// ShowStreams lists the streams of the catalog (REPL).
type ShowStreams struct{ Pos Pos }

// Describe shows one stream's or sink's definition (REPL).
type Describe struct {
	Pos  Pos
	Name string
}

func (s *CreateStream) Position() Pos { return s.Pos }
func (s *CreateSink) Position() Pos   { return s.Pos }
func (s *Insert) Position() Pos       { return s.Pos }
func (s *Select) Position() Pos       { return s.Pos }
func (s *ShowStreams) Position() Pos  { return s.Pos }
func (s *Describe) Position() Pos     { return s.Pos }

// WindowKind names a window type.
type WindowKind string

// Window kinds. Issue 3 binds TUMBLE; the others follow with the window work.
const (
	Tumble  WindowKind = "TUMBLE"
	Hop     WindowKind = "HOP"
	Session WindowKind = "SESSION"
	Stagger WindowKind = "STAGGER"
)

// Window is the window of an aggregating query, over the query's TimeColumn.
type Window struct {
	Kind   WindowKind
	Size   time.Duration
	Slide  time.Duration // HOP
	Offset time.Duration // epoch alignment offset
	// ProcTime windows run on processing time, PROCTIME(): each row's time
	// is the wall clock when eddy reads it, not a column.
	ProcTime bool
	Gap      time.Duration // SESSION
}

// Aggregate is one aggregate call of a query. Arg is over Query.Input (nil for
// count_star). T is the result type. Fn and T, by function (sql/DIALECT.md has
// the user's view):
//
//	count, count_star                 BIGINT
//	sum                               BIGINT for BIGINT, DOUBLE for DOUBLE, DECIMAL(38,s) for DECIMAL(p,s)
//	avg                               DOUBLE (DECIMAL(38, max(s,6)) for DECIMAL input)
//	min, max                          the argument's type
//	stddev_pop, stddev_samp,
//	var_pop, var_samp                 DOUBLE (numeric argument)
//	first_value, last_value           the argument's type: the value of the row with the
//	                                  smallest / largest time (TimeColumn); ties: first / last to arrive
//	approx_count_distinct             BIGINT
//	approx_percentile                 DOUBLE (numeric argument); Param is the percentile q in [0, 1]
//	top_k                             JSON: [{"value":v,"count":n},...]; Param is k (a whole number >= 1)
//
// NULL arguments are ignored; a group with no non-NULL argument gives NULL
// (count and approx_count_distinct give 0). Distinct drops
// repeated argument values of a group before they reach the aggregate.
type Aggregate struct {
	Fn       string
	Arg      expr.Expr
	Distinct bool
	Param    float64 // the literal second argument of approx_percentile (q) and top_k (k); else 0
	T        types.Type
}

// Query is a checked single-source streaming query.
//
// Evaluation order: rows of Input -> Where -> (when aggregating) grouped by
// GroupBy and assigned to Window over TimeColumn, Aggregates computed, giving rows
// of AggSchema() -> Having -> Select, named and typed by Output -> Limit.
// A query with OVER windows (Over != nil; never aggregating) instead gives
// every row that passes Where the values of Over.Funcs, as rows of OverSchema().
type Query struct {
	Source     string       // the stream read (a CreateStream name)
	Input      types.Schema // the source's Schema(): declared columns, then ROWTIME
	TimeColumn int          // index in Input of the event-time column
	Where      expr.Expr    // over Input; nil when absent

	Window     *Window     // nil for a plain (non-aggregating) query
	GroupBy    []expr.Expr // over Input; the window is not among them
	GroupNames []string    // a column name per GroupBy entry, as AggSchema names them
	Aggregates []Aggregate // over Input
	Having     expr.Expr   // over AggSchema(); nil when absent

	Over *OverSpec // nil unless SELECT has window functions (OVER)

	Select []expr.Expr  // over AggSchema() when aggregating, OverSchema() with Over, else over Input
	Output types.Schema // one column per Select entry
	Limit  int64        // -1 when absent
}

// Aggregating says whether the query groups rows into windows.
func (q *Query) Aggregating() bool { return q.Window != nil }

// Window bounds in AggSchema.
const (
	WindowStartColumn = "window_start"
	WindowEndColumn   = "window_end"
)

// AggSchema is the schema of the rows an aggregating query's windows produce:
// the group keys, then window_start and window_end (TIMESTAMP), then one column
// per aggregate named agg0, agg1, ...
func (q *Query) AggSchema() types.Schema {
	var s types.Schema
	for i, g := range q.GroupBy {
		s = append(s, types.Column{Name: q.GroupNames[i], Type: g.Type()})
	}
	s = append(s, types.Column{Name: WindowStartColumn, Type: types.TimestampType},
		types.Column{Name: WindowEndColumn, Type: types.TimestampType})
	for i, a := range q.Aggregates {
		s = append(s, types.Column{Name: fmt.Sprintf("agg%d", i), Type: a.T})
	}
	return s
}
