package planner

import (
	"fmt"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// OverStage computes a query's window functions row by row. The scan stage
// evaluates KeyExprs and the functions' Args and Defaults over ScanSchema,
// sends late rows to the error stream and routes every other row by the hash
// of its key to one of Workers. A worker holds its partitions' frames,
// processes each partition's rows in (time, arrival) order once the watermark
// has passed them, and emits one row of OverSchema per input row: the Carry
// columns of the scan, then one column per function. SELECT (Physical.Select)
// is over OverSchema.
type OverStage struct {
	TimeColumn     int           // in ScanSchema
	WatermarkDelay time.Duration // bounded disorder of event time (0 for ROWTIME)
	EventTime      bool          // false when the time column is ROWTIME
	KeyExprs       []expr.Expr   // PARTITION BY, over ScanSchema; none for one partition
	KeyNames       []string
	Funcs          []OverFunc
	Carry          []int // the ScanSchema columns SELECT reads, in order
	Workers        int
	OverSchema     types.Schema
}

// OverFunc is one window function (see sql.OverFunc); Arg and Default are
// over ScanSchema.
type OverFunc struct {
	Fn      string
	Arg     expr.Expr
	Offset  int64
	Default expr.Expr
	Frame   sql.Frame
	T       types.Type
	// Forest functions (sql.FnForest, sql.FnForestExplanation): their
	// columns over ScanSchema, the columns' names and the model.
	Args     []expr.Expr
	ArgNames []string
	Forest   sql.Forest
}

// planOver plans a query with OVER windows: the scan decodes the columns that
// WHERE, PARTITION BY, the functions and SELECT read (and the time column).
func planOver(q *sql.Query, def *sql.CreateStream, opts Options) *Physical {
	nIn := len(q.Input)
	used := map[int]bool{q.TimeColumn: true}
	visit := func(e expr.Expr) {
		if e != nil {
			columnsOf(e, used)
		}
	}
	visit(q.Where)
	for _, k := range q.Over.PartitionBy {
		visit(k)
	}
	for _, f := range q.Over.Funcs {
		visit(f.Arg)
		visit(f.Default)
		for _, a := range f.Args {
			visit(a)
		}
	}
	selected := map[int]bool{}
	for _, s := range q.Select {
		columnsOf(s, selected)
	}
	for i := range selected {
		if i < nIn {
			used[i] = true
		}
	}
	var scanCols []int
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
	st := &OverStage{
		TimeColumn: remap[q.TimeColumn],
		EventTime:  def != nil && def.Watermark != nil,
		KeyNames:   q.Over.PartitionNames,
		Workers:    opts.Workers,
	}
	if st.EventTime {
		st.WatermarkDelay = def.Watermark.Delay
	}
	for _, k := range q.Over.PartitionBy {
		st.KeyExprs = append(st.KeyExprs, remapColumns(k, remap))
	}
	for _, f := range q.Over.Funcs {
		var args []expr.Expr
		for _, a := range f.Args {
			args = append(args, remapColumns(a, remap))
		}
		st.Funcs = append(st.Funcs, OverFunc{Fn: f.Fn, Arg: remapColumns(f.Arg, remap), Offset: f.Offset,
			Default: remapColumns(f.Default, remap), Frame: f.Frame, T: f.T, Args: args, ArgNames: f.ArgNames, Forest: f.Forest})
	}
	// SELECT reads OverSchema: the carried input columns, then the functions.
	outRemap := map[int]int{}
	for _, i := range scanCols {
		if selected[i] {
			outRemap[i] = len(st.Carry)
			st.Carry = append(st.Carry, remap[i])
			st.OverSchema = append(st.OverSchema, q.Input[i])
		}
	}
	for i, f := range q.Over.Funcs {
		outRemap[nIn+i] = len(st.Carry) + i
		st.OverSchema = append(st.OverSchema, types.Column{Name: sql.OverColumnName(i), Type: f.T})
	}
	p := &Physical{
		Source:      q.Source,
		ScanColumns: scanCols,
		ScanSchema:  scanSchema,
		Filter:      remapColumns(q.Where, remap),
		Over:        st,
		Output:      q.Output,
		Limit:       q.Limit,
	}
	for _, s := range q.Select {
		p.Select = append(p.Select, remapColumns(s, outRemap))
	}
	return p
}

func (st *OverStage) explain(b *strings.Builder, scan types.Schema) {
	keys := make([]string, len(st.KeyExprs))
	for i, k := range st.KeyExprs {
		keys[i] = k.String()
	}
	fmt.Fprintf(b, "  Exchange hash(%s) workers=%d\n", strings.Join(keys, ", "), st.Workers)
	fns := make([]string, len(st.Funcs))
	for i, f := range st.Funcs {
		fns[i] = sql.OverFunc{Fn: f.Fn, Arg: f.Arg, Offset: f.Offset, Default: f.Default, Frame: f.Frame, Args: f.Args, Forest: f.Forest}.String()
	}
	carry := make([]string, len(st.Carry))
	for i, c := range st.Carry {
		carry[i] = scan[c].Name
	}
	fmt.Fprintf(b, "  Over order=%s watermark_delay=%s carry=[%s] funcs=[%s]\n", scan[st.TimeColumn].Name, st.WatermarkDelay,
		strings.Join(carry, ", "), strings.Join(fns, ", "))
}
