package exec

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/snapshot"
)

// The changelog in checkpoints: every remembered row as written, with its
// identity and window end, so that after a restore a "-U" or "-D" repeats
// exactly the row a consumer holds. The expiry heap is rebuilt from the ends:
// an identity includes its window's bounds, so the heap's entries of
// identities no longer remembered would expire nothing.

const changelogStateVersion = 1

// snapshot encodes the remembered rows (identities in order, then the rows
// column by column).
func (c *changelog) snapshot() []byte {
	var e snapshot.Encoder
	e.Uvarint(changelogStateVersion)
	ids := make([]string, 0, len(c.rows))
	for id := range c.rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	e.Uvarint(uint64(len(ids)))
	nCols := 0
	for _, id := range ids {
		e.String(id)
		e.Varint(c.rows[id].end)
		nCols = int(c.rows[id].row.NumCols())
	}
	e.Uvarint(uint64(nCols))
	for col := range nCols {
		for _, id := range ids {
			saveCell(&e, readCell(c.rows[id].row.Column(col), 0))
		}
	}
	return e.Data()
}

// restore replaces an empty changelog's rows with a snapshot's; sch is the
// schema of the rows written (the SELECT columns).
func (c *changelog) restore(b []byte, sch *arrow.Schema, mem memory.Allocator) error {
	d := snapshot.NewDecoder(b)
	if v := d.Uvarint(); v != changelogStateVersion {
		d.Fail("changelog state version %d, want %d", v, changelogStateVersion)
		return d.Err()
	}
	n := d.Count(2)
	ids := make([]string, n)
	ends := make([]int64, n)
	for i := range n {
		ids[i], ends[i] = d.String(), d.Varint()
		if i > 0 && d.Err() == nil && ids[i] <= ids[i-1] {
			d.Fail("changelog identities out of order")
		}
	}
	if nCols := d.Uvarint(); d.Err() == nil && n > 0 && nCols != uint64(sch.NumFields()) {
		d.Fail("changelog rows of %d columns, want %d", nCols, sch.NumFields())
	}
	if d.Err() != nil {
		return d.Err()
	}
	if n == 0 {
		return d.End()
	}
	cols := make([]arrow.Array, 0, sch.NumFields())
	defer func() {
		for _, col := range cols {
			col.Release()
		}
	}()
	for _, f := range sch.Fields() {
		cols = append(cols, loadColumn(d, f.Type, n, 0, mem))
	}
	if err := d.End(); err != nil {
		return err
	}
	rec := array.NewRecordBatch(sch, cols, int64(n))
	defer rec.Release()
	for i, id := range ids {
		c.rows[id] = &writtenRow{row: rec.NewSlice(int64(i), int64(i+1)), end: ends[i]}
		c.expiry.push(ends[i], id)
	}
	return nil
}
