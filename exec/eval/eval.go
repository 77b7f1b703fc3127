package eval

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// RowError is a value-level failure at one row of a batch (a failed cast,
// division by zero, an overflow, ...). The expression's value at Row is NULL.
type RowError struct {
	Row    int
	Reason string
}

func (e RowError) String() string { return fmt.Sprintf("row %d: %s", e.Row, e.Reason) }

// Evaluator is a compiled expression. It is immutable and safe for concurrent
// use by several goroutines.
type Evaluator struct {
	src   expr.Expr
	root  node
	t     types.Type
	dt    arrow.DataType
	input types.Schema
}

// Type is the logical type of the expression's values.
func (e *Evaluator) Type() types.Type { return e.t }

// DataType is the Arrow type of the arrays Eval returns.
func (e *Evaluator) DataType() arrow.DataType { return e.dt }

// String renders the source expression.
func (e *Evaluator) String() string { return e.src.String() }

// node is one compiled expression. eval returns a new reference to an array
// of c.n rows (the caller releases it); value-level failures go to c.errs.
type node interface {
	typ() types.Type
	eval(c *evalCtx) (arrow.Array, error)
}

// evalCtx carries one Eval call's state.
type evalCtx struct {
	rec  arrow.RecordBatch
	mem  memory.Allocator
	n    int
	errs []RowError
	// Caches for patterns that come from columns, keyed by pattern text.
	regexps map[string]regexpEntry
	likes   map[likeKey]likeEntry
}

type regexpEntry struct {
	re  *regexp.Regexp
	err error
}

func (c *evalCtx) rowErr(i int, format string, args ...any) {
	c.errs = append(c.errs, RowError{Row: i, Reason: fmt.Sprintf(format, args...)})
}

// keepErrs drops the errors recorded since mark whose row is not selected by
// keep: errors of sub-expressions SQL does not evaluate at that row.
func (c *evalCtx) keepErrs(mark int, keep func(row int) bool) {
	if len(c.errs) == mark {
		return
	}
	kept := c.errs[:mark]
	for _, e := range c.errs[mark:] {
		if keep(e.Row) {
			kept = append(kept, e)
		}
	}
	c.errs = kept
}

// operand evaluates n as a view: constants are broadcast without being
// materialised. The caller releases the view.
func (c *evalCtx) operand(n node) (*vec, error) {
	if k, ok := n.(*constNode); ok {
		return k.vec, nil
	}
	arr, err := n.eval(c)
	if err != nil {
		return nil, err
	}
	if arr.Len() != c.n {
		arr.Release()
		return nil, fmt.Errorf("eval: internal error: %d rows from a sub-expression of a %d-row batch", arr.Len(), c.n)
	}
	return arrayVec(arr)
}

// operands evaluates several nodes; on error it releases what it made.
func (c *evalCtx) operands(ns []node) ([]*vec, error) {
	vs := make([]*vec, 0, len(ns))
	for _, n := range ns {
		v, err := c.operand(n)
		if err != nil {
			releaseAll(vs)
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

func releaseAll(vs []*vec) {
	for _, v := range vs {
		v.release()
	}
}

// Eval evaluates the expression over rec. It returns a new array (the caller
// releases it) of DataType() with rec.NumRows() rows, and the rows where the
// evaluation failed, ordered by row, at most one per row; those rows are NULL
// in the array. The error is for batches that do not match the schema the
// expression was compiled against.
func (e *Evaluator) Eval(rec arrow.RecordBatch, mem memory.Allocator) (arrow.Array, []RowError, error) {
	if rec == nil {
		return nil, nil, errors.New("eval: nil batch")
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	c := &evalCtx{rec: rec, mem: mem, n: int(rec.NumRows())}
	arr, err := e.root.eval(c)
	if err != nil {
		return nil, nil, err
	}
	if len(c.errs) == 0 {
		return arr, nil, nil
	}
	errs := dedupErrs(c.errs)
	out := nullRows(arr, errs, mem)
	arr.Release()
	return out, errs, nil
}

// dedupErrs orders errors by row, keeping the first error of each row.
func dedupErrs(errs []RowError) []RowError {
	slices.SortStableFunc(errs, func(a, b RowError) int { return a.Row - b.Row })
	out := errs[:0]
	for i, e := range errs {
		if i > 0 && e.Row == errs[i-1].Row {
			continue
		}
		out = append(out, e)
	}
	return slices.Clip(out)
}

// nullRows returns a copy of arr (sharing its value buffers) whose rows in
// errs are NULL.
func nullRows(arr arrow.Array, errs []RowError, mem memory.Allocator) arrow.Array {
	data := arr.Data()
	n, off := arr.Len(), data.Offset()
	vbuf, valid := newBitmap(mem, off+n, false)
	if arr.NullN() > 0 {
		bitutil.CopyBitmap(arr.NullBitmapBytes(), off, n, valid, off)
	} else {
		bitutil.SetBitsTo(valid, int64(off), int64(n), true)
	}
	for _, e := range errs {
		clearBit(valid, off+e.Row)
	}
	bufs := slices.Clone(data.Buffers())
	bufs[0] = vbuf
	nd := array.NewData(arr.DataType(), n, bufs, nil, array.UnknownNullCount, off)
	vbuf.Release()
	out := array.MakeFromData(nd)
	nd.Release()
	return out
}

// constNode is a constant: a literal or a folded literal-only subtree.
type constNode struct {
	t   types.Type
	val any // as in expr.Literal; nil is NULL
	vec *vec
}

func newConst(t types.Type, val any) *constNode {
	return &constNode{t: t, val: val, vec: constVec(val)}
}

func (k *constNode) typ() types.Type { return k.t }

func (k *constNode) eval(c *evalCtx) (arrow.Array, error) {
	return constArray(c.mem, k.t, k.val, c.n), nil
}

// colNode reads a column of the input batch.
type colNode struct {
	idx  int
	name string
	t    types.Type
}

func (k *colNode) typ() types.Type { return k.t }

func (k *colNode) eval(c *evalCtx) (arrow.Array, error) {
	if k.idx >= int(c.rec.NumCols()) {
		return nil, fmt.Errorf("eval: column %s#%d: the batch has only %d columns", k.name, k.idx, c.rec.NumCols())
	}
	arr := c.rec.Column(k.idx)
	if arr.Len() != c.n {
		return nil, fmt.Errorf("eval: column %s#%d has %d rows, the batch %d", k.name, k.idx, arr.Len(), c.n)
	}
	want := k.t.Arrow()
	if arrow.TypeEqual(arr.DataType(), want) {
		arr.Retain()
		return arr, nil
	}
	// Any millisecond timestamp holds the same values (ms since the epoch):
	// relabel it, without copying, as TIMESTAMP(3)'s canonical type.
	if ts, ok := arr.DataType().(*arrow.TimestampType); ok && k.t.Kind == types.Timestamp && ts.Unit == arrow.Millisecond {
		return newDataLike(arr.Data(), want), nil
	}
	return nil, fmt.Errorf("eval: column %s#%d: the batch holds %s, the expression was compiled for %s (%s)",
		k.name, k.idx, arr.DataType(), k.t, want)
}
