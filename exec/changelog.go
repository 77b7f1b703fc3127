package exec

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/eval"
	"github.com/eddy-streams/eddy/planner"
)

// A changelog turns the window rows of an updating query (allowed lateness or
// emit_every) into changes a consumer can apply: the output stage remembers
// the last row it wrote for each window identity (keys, window_start,
// window_end) until the window can change no more, so that a new row for the
// same identity goes out as "-U" (the old row) then "+U", and a withdrawn
// identity as "-D" with the old row. Remembering output rows, rather than
// aggregate states, makes HAVING and SELECT apply to retractions exactly as
// they applied to the rows retracted.
type changelog struct {
	nKeys    int   // key columns of AggSchema; the identity is them plus the bounds
	lateness int64 // ms a window stays updatable after its end
	rows     map[string]*writtenRow
	expiry   timeHeap[string] // identities by window end
	buf      []byte
}

// writtenRow is one output row as written: a one-row slice of its batch.
type writtenRow struct {
	row arrow.RecordBatch
	end int64
}

func newChangelog(stage *planner.AggregateStage) *changelog {
	return &changelog{nKeys: len(stage.KeyExprs), lateness: stage.AllowedLateness.Milliseconds(), rows: map[string]*writtenRow{}}
}

// identity encodes row i's keys and window bounds (the first nKeys+2 columns).
func (c *changelog) identity(rec arrow.RecordBatch, i int) string {
	b := c.buf[:0]
	for col := range c.nKeys + 2 {
		arr := rec.Column(col)
		if arr.IsNull(i) {
			b = append(b, 0)
			continue
		}
		v := arr.ValueStr(i)
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	c.buf = b
	return string(b)
}

func windowEnd(rec arrow.RecordBatch, nKeys, i int) int64 {
	return int64(rec.Column(nKeys + 1).(*array.Timestamp).Value(i))
}

// change is one output row of an epoch: row of the new batch, or a
// remembered row.
type change struct {
	op   string
	idx  int // in the new batch, or -1
	prev arrow.RecordBatch
}

// apply turns one epoch into changes. rows are the fired windows (AggSchema,
// in window and key order), kept says which of them HAVING keeps, out is the
// SELECT of the kept rows (in order), withdrawn are identities (keys and
// bounds) the workers withdrew: sessions merged away or moved. It returns the
// changes as one batch of outSch (out's columns then OpColumn), or nil when
// nothing changed. It does not release its arguments.
func (c *changelog) apply(rows arrow.RecordBatch, kept []bool, out arrow.RecordBatch, withdrawn []arrow.RecordBatch,
	outSch *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	var changes []change
	var dropped []arrow.RecordBatch // released once the changes are built
	defer func() {
		for _, r := range dropped {
			r.Release()
		}
	}()
	forget := func(id string, w *writtenRow) {
		delete(c.rows, id)
		dropped = append(dropped, w.row)
	}
	for _, rec := range withdrawn {
		for i := range int(rec.NumRows()) {
			id := c.identity(rec, i)
			if w, ok := c.rows[id]; ok {
				changes = append(changes, change{op: planner.OpDelete, idx: -1, prev: w.row})
				forget(id, w)
			}
		}
	}
	o := 0
	for i := range int(rows.NumRows()) {
		id := c.identity(rows, i)
		w, had := c.rows[id]
		if !kept[i] {
			if had {
				changes = append(changes, change{op: planner.OpDelete, idx: -1, prev: w.row})
				forget(id, w)
			}
			continue
		}
		if had {
			changes = append(changes, change{op: planner.OpUpdateBefore, idx: -1, prev: w.row},
				change{op: planner.OpUpdateAfter, idx: o})
			dropped = append(dropped, w.row)
			w.row = out.NewSlice(int64(o), int64(o+1))
		} else {
			changes = append(changes, change{op: planner.OpInsert, idx: o})
			end := windowEnd(rows, c.nKeys, i)
			c.rows[id] = &writtenRow{row: out.NewSlice(int64(o), int64(o+1)), end: end}
			c.expiry.push(end, id)
		}
		o++
	}
	if len(changes) == 0 {
		return nil, nil
	}
	return buildChanges(changes, out, outSch, mem)
}

// buildChanges lays the changes out as one batch: the new rows and the
// remembered ones concatenated, then taken in change order, plus OpColumn.
func buildChanges(changes []change, out arrow.RecordBatch, outSch *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	parts := []arrow.RecordBatch{out}
	order := make([]int32, len(changes))
	base := int(out.NumRows())
	for i, ch := range changes {
		if ch.idx >= 0 {
			order[i] = int32(ch.idx)
			continue
		}
		order[i] = int32(base)
		base++
		parts = append(parts, ch.prev)
	}
	cols, err := concatColumns(parts, mem)
	if err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	defer func() {
		for _, col := range cols {
			col.Release()
		}
	}()
	res := make([]arrow.Array, 0, len(cols)+1)
	defer func() {
		for _, col := range res {
			col.Release()
		}
	}()
	for _, col := range cols {
		taken, err := eval.Take(col, order, mem)
		if err != nil {
			return nil, fmt.Errorf("changelog: %w", err)
		}
		res = append(res, taken)
	}
	ops := array.NewStringBuilder(mem)
	defer ops.Release()
	for _, ch := range changes {
		ops.Append(ch.op)
	}
	res = append(res, ops.NewArray())
	return array.NewRecordBatch(outSch, res, int64(len(changes))), nil
}

// expire forgets the windows that can change no more at this watermark.
func (c *changelog) expire(watermark int64) {
	for len(c.expiry) > 0 && c.expiry[0].at+c.lateness <= watermark {
		end, id := c.expiry.pop()
		if w, ok := c.rows[id]; ok && w.end == end {
			w.row.Release()
			delete(c.rows, id)
		}
	}
}

// release drops every remembered row.
func (c *changelog) release() {
	for id, w := range c.rows {
		w.row.Release()
		delete(c.rows, id)
	}
	c.expiry = nil
}

// held is the number of remembered rows, for memory tests.
func (c *changelog) held() int { return len(c.rows) }
