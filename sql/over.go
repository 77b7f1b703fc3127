package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// OverSpec is what a query with OVER windows computes per row: every input
// row that passes WHERE gets the value of each window function in Funcs,
// giving a row of the query's OverSchema(), and SELECT is over that schema.
//
// Every window function of a query shares one PARTITION BY (PartitionBy, over
// Input; empty for one partition holding every row) and orders its partition
// by the stream's time column (Query.TimeColumn), ties by arrival. Frames may
// differ per function. sql/DIALECT.md ("OVER windows") has the user's view.
type OverSpec struct {
	PartitionBy    []expr.Expr
	PartitionNames []string // a name per PartitionBy entry: the column's, else key<i>
	Funcs          []OverFunc
}

// OverFunc is one window function of a query. Fn is
//
//	row_number            BIGINT: the row's position in its partition, from 1
//	lag, lead             the value of Arg in the Offset-th row before (lag) or
//	                      after (lead) the current one in the partition, or
//	                      Default (nil: NULL) when there is no such row or it is
//	                      outside Frame (when Frame.Kind is not FrameNone)
//	an aggregate          the aggregate (Agg: Fn, Arg, T as for GROUP BY; never
//	                      Distinct) over the rows of Frame
//
// Arg and Default are over Query.Input; T is the result type.
type OverFunc struct {
	// Fn is also FnForest or FnForestExplanation: the anomaly score (DOUBLE)
	// or KDA's explanation (JSON) of Args by a random cut forest per partition.
	Fn      string
	Agg     Aggregate // aggregates only (Agg.Fn == Fn)
	Arg     expr.Expr // nil for row_number and count_star
	Offset  int64     // lag, lead: 0 to MaxOverOffset
	Default expr.Expr // lag, lead: nil for NULL; of type T
	Frame   Frame
	T       types.Type
	// Forest functions: the numeric columns (DOUBLE), their names in the
	// explanation, and the model's parameters.
	Args     []expr.Expr
	ArgNames []string
	Forest   Forest
}

// FrameKind is how a window frame is measured.
type FrameKind uint8

// Frame kinds.
const (
	FrameNone  FrameKind = iota // no frame: LAG, LEAD, ROW_NUMBER without one
	FrameRows                   // Preceding and Following count rows of the partition
	FrameRange                  // Preceding and Following are milliseconds of time
)

// Frame is the set of rows of the partition, relative to the current row
// (time t, position i in the partition's order), that a window function sees:
//
//	FrameRows:  positions i-Preceding .. i+Following
//	FrameRange: rows at or before i in order with time >= t-Preceding, and rows
//	            after i with time <= t+Following
//
// Rows with the current row's time that arrive after it come after it in
// order, so a RANGE frame ending at the current row does not hold them.
// Aggregates have Following = 0 and a Kind other than FrameNone.
type Frame struct {
	Kind      FrameKind
	Preceding int64
	Following int64
}

// Limits of OVER windows: LAG/LEAD offsets and ROWS frames, which state
// holds per partition.
const (
	MaxOverOffset = 1000
	MaxOverRows   = 1_000_000
)

func (f Frame) String() string {
	bound := func(n int64, dir string) string {
		if n == 0 {
			return "CURRENT ROW"
		}
		if f.Kind == FrameRange {
			return fmt.Sprintf("%v %s", time.Duration(n)*time.Millisecond, dir)
		}
		return fmt.Sprintf("%d %s", n, dir)
	}
	kind := "ROWS"
	switch f.Kind {
	case FrameNone:
		return "no frame"
	case FrameRange:
		kind = "RANGE"
	}
	if f.Following == 0 {
		return kind + " " + bound(f.Preceding, "PRECEDING")
	}
	return fmt.Sprintf("%s BETWEEN %s AND %s", kind, bound(f.Preceding, "PRECEDING"), bound(f.Following, "FOLLOWING"))
}

func (f OverFunc) String() string {
	var args []string
	if f.Fn == FnForest || f.Fn == FnForestExplanation {
		for _, a := range f.Args {
			args = append(args, a.String())
		}
		return fmt.Sprintf("%s(%s, '%s')", f.Fn, strings.Join(args, ", "), f.Forest)
	}
	if f.Arg != nil {
		args = append(args, f.Arg.String())
	}
	if f.Fn == "lag" || f.Fn == "lead" {
		args = append(args, fmt.Sprint(f.Offset))
		if f.Default != nil {
			args = append(args, f.Default.String())
		}
	}
	return fmt.Sprintf("%s(%s) %s", f.Fn, strings.Join(args, ", "), f.Frame)
}

// OverColumnName names window function i's column in OverSchema.
func OverColumnName(i int) string { return fmt.Sprintf("over%d", i) }

// OverSchema is the schema of the rows a query with OVER windows produces
// before SELECT: the columns of Input, then one column per window function,
// named over0, over1, ... Without OVER windows it is nil.
func (q *Query) OverSchema() types.Schema {
	if q.Over == nil {
		return nil
	}
	s := append(types.Schema{}, q.Input...)
	for i, f := range q.Over.Funcs {
		s = append(s, types.Column{Name: OverColumnName(i), Type: f.T})
	}
	return s
}
