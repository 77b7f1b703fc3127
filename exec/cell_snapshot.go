package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/snapshot"
)

// Arrow values in checkpoints. Operators that remember rows (the changelog's
// written rows, OVER's waiting rows) keep a few values from many batches, so
// they are written value by value with the snapshot codec, column after
// column, rather than as Arrow IPC: that would first copy the rows into one
// batch, and it adds a schema and 8-byte aligned buffers per column, which
// outweigh a few rows; varints keep times and small integers to a byte or
// two, and the decoder's bounds checks cover them like every other state.
// A value goes through a cell (over_state.go), which holds every eddy type.

// cell flags: which fields follow.
const (
	cellOK = 1 << iota
	cellN
	cellHi
	cellS
	cellFlags = cellOK | cellN | cellHi | cellS
)

func saveCell(e *snapshot.Encoder, c cell) {
	if !c.ok {
		e.Uvarint(0)
		return
	}
	f := uint64(cellOK)
	if c.n != 0 {
		f |= cellN
	}
	if c.hi != 0 {
		f |= cellHi
	}
	if c.s != "" {
		f |= cellS
	}
	e.Uvarint(f)
	if c.n != 0 {
		e.Varint(c.n)
	}
	if c.hi != 0 {
		e.Varint(c.hi)
	}
	if c.s != "" {
		e.String(c.s)
	}
}

func loadCell(d *snapshot.Decoder) cell {
	f := d.Uvarint()
	if f&^cellFlags != 0 || (f != 0 && f&cellOK == 0) {
		d.Fail("value flags %#x", f)
		return cell{}
	}
	var c cell
	c.ok = f&cellOK != 0
	if f&cellN != 0 {
		c.n = d.Varint()
	}
	if f&cellHi != 0 {
		c.hi = d.Varint()
	}
	if f&cellS != 0 {
		c.s = d.String()
	}
	return c
}

// loadColumn reads n values of type dt written by saveCell, followed by pad
// NULLs. The result must be released.
func loadColumn(d *snapshot.Decoder, dt arrow.DataType, n, pad int, mem memory.Allocator) arrow.Array {
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	_, isNull := b.(*array.NullBuilder)
	if !isNull && !cellBuilder(b) {
		d.Fail("column of type %s cannot be restored", dt)
	}
	if d.Err() == nil {
		// Every value takes at least one byte: no larger reservation than the input holds.
		b.Reserve(min(n, d.Remaining()))
	}
	for range n {
		c := loadCell(d)
		if d.Err() != nil {
			break
		}
		if isNull && c.ok {
			d.Fail("a value in a column of type %s", dt)
			break
		}
		appendCell(b, c)
	}
	b.AppendNulls(pad)
	return b.NewArray()
}

// cellBuilder says whether appendCell writes to b.
func cellBuilder(b array.Builder) bool {
	switch b.(type) {
	case *array.Int64Builder, *array.TimestampBuilder, *array.Float64Builder, *array.Decimal128Builder,
		*array.StringBuilder, *array.BooleanBuilder:
		return true
	}
	return false
}

// checkCellSchema refuses, when a job starts, columns that saveCell cannot
// write, rather than failing at the first checkpoint.
func checkCellSchema(sch *arrow.Schema, what string) error {
	for _, f := range sch.Fields() {
		switch f.Type.ID() {
		case arrow.NULL, arrow.INT64, arrow.TIMESTAMP, arrow.FLOAT64, arrow.DECIMAL128, arrow.STRING, arrow.BOOL:
		default:
			return fmt.Errorf("checkpoints cannot hold %s column %s of type %s", what, f.Name, f.Type)
		}
	}
	return nil
}
