// Package transform owns eddy's SQL record transform for delivery streams,
// what eddy offers where Firehose would call a Lambda function: a SELECT over
// each JSON record, whose result row (as JSON) is delivered instead of the
// record. It lives beside the application wiring because it joins SQL to a
// connector: the delivery runner sees it only as a delivery.Transformer. Rows that WHERE filters out are dropped; a record that cannot be
// decoded with the declared columns, or whose expressions fail, goes to the
// error output as processing-failed with the reason. A transform is
// stateless and deterministic, so a replay transforms records alike.
package transform

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/connectors/firehose/delivery"
	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/exec/eval"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// Source is the name a transform's query reads.
const Source = "record"

// Definition renders the SQL that Compile reads from the declared columns
// ("id BIGINT, page VARCHAR") and the query ("SELECT ... FROM record ...").
func Definition(columns, query string) string {
	return fmt.Sprintf("CREATE STREAM %s (%s) WITH (connector = 'kinesis', stream = '%s');\n%s",
		Source, strings.TrimSpace(columns), Source, strings.TrimSuffix(strings.TrimSpace(query), ";"))
}

// Transform is a compiled transform. It is not safe for concurrent use.
type Transform struct {
	def     string
	dec     format.RowDecoder
	scan    *arrow.Schema
	filter  *eval.Evaluator
	project []*eval.Evaluator
	out     *arrow.Schema
	enc     format.Encoder
	mem     memory.Allocator
}

// Compile checks a definition (see Definition): a CREATE STREAM record with
// the record's columns, and one SELECT from it without windows, aggregates,
// OVER, LIMIT or ROWTIME.
func Compile(def string) (*Transform, error) {
	stmts, err := sql.Compile("transform", def, sql.NewCatalog())
	if err != nil {
		return nil, fmt.Errorf("SQL transform: %w", err)
	}
	var stream *sql.CreateStream
	var q *sql.Query
	for _, s := range stmts {
		switch st := s.(type) {
		case *sql.CreateStream:
			stream = st
		case *sql.Select:
			if q != nil {
				return nil, errors.New("SQL transform: give one SELECT")
			}
			q = st.Query
		default:
			return nil, fmt.Errorf("SQL transform: only the record's columns and one SELECT ... FROM %s", Source)
		}
	}
	if stream == nil || q == nil {
		return nil, fmt.Errorf("SQL transform: give the record's columns and a SELECT ... FROM %s", Source)
	}
	switch {
	case q.Window != nil || len(q.Aggregates) > 0:
		return nil, errors.New("SQL transform: it maps each record on its own: no GROUP BY windows or aggregates")
	case q.Over != nil:
		return nil, errors.New("SQL transform: it maps each record on its own: no OVER windows")
	case q.Limit >= 0:
		return nil, errors.New("SQL transform: no LIMIT")
	}
	p, err := planner.Plan(q, stream, planner.Options{Workers: 1})
	if err != nil {
		return nil, fmt.Errorf("SQL transform: %w", err)
	}
	for _, c := range p.ScanColumns {
		if c >= len(stream.Columns) {
			return nil, errors.New("SQL transform: ROWTIME is not available to a transform; add the arrival time in the query's result another way")
		}
	}
	dec, err := format.NewDecoder("json", stream.Columns, stream.Paths, nil)
	if err != nil {
		return nil, fmt.Errorf("SQL transform: %w", err)
	}
	rd, err := dec.Project(p.ScanColumns)
	if err != nil {
		return nil, fmt.Errorf("SQL transform: %w", err)
	}
	t := &Transform{def: def, dec: rd, scan: p.ScanSchema.Arrow(), out: p.Output.Arrow(), mem: memory.NewGoAllocator()}
	if p.Filter != nil {
		if t.filter, err = eval.Compile(p.Filter, p.ScanSchema); err != nil {
			return nil, fmt.Errorf("SQL transform: WHERE: %w", err)
		}
	}
	for i, e := range p.Select {
		ev, err := eval.Compile(e, p.ScanSchema)
		if err != nil {
			return nil, fmt.Errorf("SQL transform: %s: %w", p.Output[i].Name, err)
		}
		t.project = append(t.project, ev)
	}
	if t.enc, err = format.NewEncoder("json", p.Output, nil); err != nil {
		return nil, fmt.Errorf("SQL transform: %w", err)
	}
	return t, nil
}

// Apply transforms a batch of records.
func (t *Transform) Apply(records [][]byte) ([]delivery.TransformResult, error) {
	res := make([]delivery.TransformResult, len(records))
	rows := make([]int, 0, len(records)) // the record of each decoded row
	for i, r := range records {
		ok, err := t.dec.Append(r)
		if err != nil {
			res[i].Err = "the record does not fit the transform's columns: " + err.Error()
			continue
		}
		if !ok {
			res[i].Dropped = true
			continue
		}
		rows = append(rows, i)
	}
	cols := t.dec.NewArrays()
	rec := array.NewRecordBatch(t.scan, cols, int64(len(rows)))
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	if len(rows) == 0 {
		return res, nil
	}
	keep := make([]bool, len(rows))
	for k := range keep {
		keep[k] = true
	}
	if t.filter != nil {
		arr, rerrs, err := t.filter.Eval(rec, t.mem)
		if err != nil {
			return nil, fmt.Errorf("SQL transform WHERE: %w", err)
		}
		for _, re := range rerrs {
			res[rows[re.Row]].Err = "WHERE: " + re.Reason
			keep[re.Row] = false
		}
		b := arr.(*array.Boolean)
		for k := range keep {
			if keep[k] && (b.IsNull(k) || !b.Value(k)) {
				keep[k] = false
				res[rows[k]].Dropped = true
			}
		}
		arr.Release()
	}
	outCols := make([]arrow.Array, len(t.project))
	defer func() {
		for _, c := range outCols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for j, ev := range t.project {
		arr, rerrs, err := ev.Eval(rec, t.mem)
		if err != nil {
			return nil, fmt.Errorf("SQL transform %s: %w", t.out.Field(j).Name, err)
		}
		outCols[j] = arr
		for _, re := range rerrs {
			if keep[re.Row] {
				keep[re.Row] = false
				res[rows[re.Row]].Err = t.out.Field(j).Name + ": " + re.Reason
			}
		}
	}
	out := array.NewRecordBatch(t.out, outCols, int64(len(rows)))
	defer out.Release()
	err := t.enc.EachRow(out, func(k int, text []byte) error {
		if keep[k] {
			res[rows[k]].Data = append([]byte(nil), text...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("SQL transform: encode: %w", err)
	}
	return res, nil
}
