package eval

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eddy-streams/eddy/sql/types"
)

// Filter keeps the rows of rec where predicate is TRUE (NULL counts as FALSE)
// and returns them as a new record that the caller releases (rec itself,
// retained, when every row passes). The row errors are the predicate's: those
// rows are NULL, so they are dropped, and the caller reports them.
func Filter(rec arrow.RecordBatch, predicate *Evaluator, mem memory.Allocator) (arrow.RecordBatch, []RowError, error) {
	if predicate.Type().Kind != types.Boolean {
		return nil, nil, fmt.Errorf("eval: filter predicate %s is %s, not BOOLEAN", predicate, predicate.Type())
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	pred, errs, err := predicate.Eval(rec, mem)
	if err != nil {
		return nil, nil, err
	}
	defer pred.Release()
	out, err := FilterBy(rec, pred.(*array.Boolean), mem)
	if err != nil {
		return nil, nil, err
	}
	return out, errs, nil
}

// FilterBy keeps the rows of rec where sel is TRUE (NULL counts as FALSE).
func FilterBy(rec arrow.RecordBatch, sel *array.Boolean, mem memory.Allocator) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if sel.Len() != n {
		return nil, fmt.Errorf("eval: filter: %d selection rows for a %d-row batch", sel.Len(), n)
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if n == 0 {
		rec.Retain()
		return rec, nil
	}
	off := sel.Data().Offset()
	sbits := alignedBits(sel.Data().Buffers()[1].Bytes(), off, n)
	if sel.NullN() > 0 {
		valid := alignedBits(sel.NullBitmapBytes(), off, n)
		and := make([]byte, len(sbits))
		for i := range and {
			and[i] = sbits[i] & valid[i]
		}
		sbits = and
	}
	count := bitutil.CountSetBits(sbits, 0, n)
	if count == n {
		rec.Retain()
		return rec, nil
	}
	idx := make([]int32, 0, count)
	for b, by := range sbits {
		if b == len(sbits)-1 && n&7 != 0 {
			by &= 1<<(n&7) - 1 // padding bits past n
		}
		for by != 0 {
			idx = append(idx, int32(b*8+bits.TrailingZeros8(by)))
			by &= by - 1
		}
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		c, err := Take(rec.Column(i), idx, mem)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return array.NewRecordBatch(rec.Schema(), cols, int64(count)), nil
}

// Take returns a new array with the rows of arr at idx, in that order.
func Take(arr arrow.Array, idx []int32, mem memory.Allocator) (arrow.Array, error) {
	data := arr.Data()
	off := data.Offset()
	n := len(idx)
	var vbuf *memory.Buffer
	if arr.NullN() > 0 {
		var valid []byte
		vbuf, valid = newBitmap(mem, n, false)
		src := arr.NullBitmapBytes()
		for k, i := range idx {
			j := off + int(i)
			if src[j>>3]&(1<<(j&7)) != 0 {
				valid[k>>3] |= 1 << (k & 7)
			}
		}
	}
	bufs := data.Buffers()
	switch arr.DataType().ID() {
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DATE64, arrow.DURATION:
		return takeFixed[uint64](arr.DataType(), bufs[1], off, idx, vbuf, mem), nil
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32:
		return takeFixed[uint32](arr.DataType(), bufs[1], off, idx, vbuf, mem), nil
	case arrow.DECIMAL128:
		return takeFixed[[2]uint64](arr.DataType(), bufs[1], off, idx, vbuf, mem), nil
	case arrow.BOOL:
		dbuf, out := newBitmap(mem, n, false)
		src := bufs[1].Bytes()
		for k, i := range idx {
			j := off + int(i)
			if src[j>>3]&(1<<(j&7)) != 0 {
				out[k>>3] |= 1 << (k & 7)
			}
		}
		return finishArray(arr.DataType(), n, vbuf, dbuf), nil
	case arrow.STRING, arrow.BINARY:
		return takeStrings(arr, idx, vbuf, mem), nil
	case arrow.NULL:
		return array.MakeArrayOfNull(mem, arr.DataType(), n), nil
	}
	if vbuf != nil {
		vbuf.Release()
	}
	return takeGeneric(arr, idx, mem)
}

func takeFixed[T uint32 | uint64 | [2]uint64](dt arrow.DataType, src *memory.Buffer, off int, idx []int32, vbuf *memory.Buffer, mem memory.Allocator) arrow.Array {
	var zero T
	size := int(unsafe.Sizeof(zero))
	n := len(idx)
	dbuf := newBuffer(mem, n*size)
	if n > 0 {
		in := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(src.Bytes()))), src.Len()/size)[off:]
		out := unsafe.Slice((*T)(unsafe.Pointer(&dbuf.Bytes()[0])), n)
		for k, i := range idx {
			out[k] = in[i]
		}
	}
	return finishArray(dt, n, vbuf, dbuf)
}

func takeStrings(arr arrow.Array, idx []int32, vbuf *memory.Buffer, mem memory.Allocator) arrow.Array {
	data := arr.Data()
	off := data.Offset()
	n := len(idx)
	bufs := data.Buffers()
	offs := arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())[off:]
	var src []byte
	if bufs[2] != nil {
		src = bufs[2].Buf() // the whole allocation: short copies may read past the end
	}
	total := 0
	for _, i := range idx {
		total += int(offs[i+1] - offs[i])
	}
	obuf := newBuffer(mem, (n+1)*4)
	outOffs := arrow.Int32Traits.CastFromBytes(obuf.Bytes())
	dbuf := memory.NewResizableBuffer(mem)
	dbuf.Reserve(total + 8)
	dbuf.ResizeNoShrink(total)
	out := dbuf.Buf()
	pos := int32(0)
	outOffs[0] = 0
	for k, i := range idx {
		s, e := offs[i], offs[i+1]
		if e-s <= 8 && int(s)+8 <= len(src) {
			// Short strings: one 8-byte move; the spare bytes are
			// overwritten by the next value or lie past the end.
			binary.LittleEndian.PutUint64(out[pos:], binary.LittleEndian.Uint64(src[s:]))
			pos += e - s
		} else {
			pos += int32(copy(out[pos:], src[s:e]))
		}
		outOffs[k+1] = pos
	}
	return finishArray(arr.DataType(), n, vbuf, obuf, dbuf)
}

// takeGeneric handles any other type by concatenating runs of slices.
func takeGeneric(arr arrow.Array, idx []int32, mem memory.Allocator) (arrow.Array, error) {
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for k := 0; k < len(idx); {
		j := k + 1
		for j < len(idx) && idx[j] == idx[j-1]+1 {
			j++
		}
		parts = append(parts, array.NewSlice(arr, int64(idx[k]), int64(idx[j-1])+1))
		k = j
	}
	if len(parts) == 0 {
		return array.MakeArrayOfNull(mem, arr.DataType(), 0), nil
	}
	return array.Concatenate(parts, mem)
}

// Project evaluates evals over rec into a new record of schema out (one field
// per evaluator, of the evaluator's Arrow type). The row errors of all the
// expressions are merged: ordered by row, at most one per row (the first
// expression's); the failing expression's column is NULL at that row.
func Project(rec arrow.RecordBatch, evals []*Evaluator, out *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, []RowError, error) {
	if out.NumFields() != len(evals) {
		return nil, nil, fmt.Errorf("eval: project: %d expressions for a %d-field schema", len(evals), out.NumFields())
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	for i, e := range evals {
		if f := out.Field(i); !arrow.TypeEqual(f.Type, e.DataType()) {
			return nil, nil, fmt.Errorf("eval: project: field %q is %s but %s gives %s", f.Name, f.Type, e, e.DataType())
		}
	}
	cols := make([]arrow.Array, len(evals))
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	var errs []RowError
	for i, e := range evals {
		arr, rowErrs, err := e.Eval(rec, mem)
		if err != nil {
			release()
			return nil, nil, err
		}
		cols[i] = arr
		errs = append(errs, rowErrs...)
	}
	if len(errs) > 0 {
		errs = dedupErrs(errs)
	}
	res := array.NewRecordBatch(out, cols, rec.NumRows())
	release()
	return res, errs, nil
}
