package eval

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Output builders. Each one owns freshly allocated buffers, so kernels may
// write them in place; finish hands them to a new array and drops the
// builder's references.

func bitmapBytes(n int) int { return (n + 7) / 8 }

func newBuffer(mem memory.Allocator, size int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(size)
	return b
}

// newBitmap allocates a bitmap of n bits, all set or all clear.
func newBitmap(mem memory.Allocator, n int, set bool) (*memory.Buffer, []byte) {
	b := newBuffer(mem, bitmapBytes(n))
	bs := b.Bytes()
	fill := byte(0)
	if set {
		fill = 0xff
	}
	for i := range bs {
		bs[i] = fill
	}
	return b, bs
}

// alignedBits returns n bits of bm starting at bit off as a bitmap starting
// at bit 0, copying only when off is not a multiple of 8.
func alignedBits(bm []byte, off, n int) []byte {
	if off&7 == 0 {
		return bm[off>>3 : off>>3+bitmapBytes(n)]
	}
	out := make([]byte, bitmapBytes(n))
	bitutil.CopyBitmap(bm, off, n, out, 0)
	return out
}

// validityOf returns the validity of v as an aligned bitmap, or nil when v
// has no NULL. For a constant NULL it returns an all-clear bitmap.
func validityOf(v *vec, n int) []byte {
	if v.constant {
		if v.null {
			return make([]byte, bitmapBytes(n))
		}
		return nil
	}
	if v.valid == nil {
		return nil
	}
	return alignedBits(v.valid, v.voff, n)
}

// andValidity allocates the AND of the operands' validity bitmaps, or returns
// nil when no operand has a NULL.
func andValidity(mem memory.Allocator, n int, vs ...*vec) (*memory.Buffer, []byte) {
	var buf *memory.Buffer
	var out []byte
	for _, v := range vs {
		src := validityOf(v, n)
		if src == nil {
			continue
		}
		if buf == nil {
			buf = newBuffer(mem, bitmapBytes(n))
			out = buf.Bytes()
			copy(out, src)
			continue
		}
		for i := range out {
			out[i] &= src[i]
		}
	}
	return buf, out
}

func bitSet(bm []byte, i int) bool { return bm[i>>3]&(1<<(i&7)) != 0 }
func setBit(bm []byte, i int)      { bm[i>>3] |= 1 << (i & 7) }
func clearBit(bm []byte, i int)    { bm[i>>3] &^= 1 << (i & 7) }

// finishArray assembles an array of type dt from a validity bitmap (nil: no
// NULL) and the other buffers, and releases the caller's buffer references.
func finishArray(dt arrow.DataType, n int, validity *memory.Buffer, bufs ...*memory.Buffer) arrow.Array {
	nulls := 0
	if validity != nil {
		nulls = n - bitutil.CountSetBits(validity.Bytes(), 0, n)
		if nulls == 0 {
			validity.Release()
			validity = nil
		}
	}
	all := append([]*memory.Buffer{validity}, bufs...)
	data := array.NewData(dt, n, all, nil, nulls, 0)
	for _, b := range all {
		if b != nil {
			b.Release()
		}
	}
	arr := array.MakeFromData(data)
	data.Release()
	return arr
}

type fixedValue interface {
	int64 | float64 | decimal128.Num
}

// fixedOut builds an array of a fixed-width type. Validity starts either as
// the AND of the inputs (fast kernels that write every row; errors clear
// bits) or all NULL (row loops that call set for each valid result).
type fixedOut[T fixedValue] struct {
	n     int
	mem   memory.Allocator
	dbuf  *memory.Buffer
	vals  []T
	vbuf  *memory.Buffer // nil: every row valid
	valid []byte
}

func newFixed[T fixedValue](mem memory.Allocator, n int) *fixedOut[T] {
	var zero T
	size := int(unsafe.Sizeof(zero))
	o := &fixedOut[T]{n: n, mem: mem, dbuf: newBuffer(mem, n*size)}
	if n > 0 {
		o.vals = unsafe.Slice((*T)(unsafe.Pointer(&o.dbuf.Bytes()[0])), n)
	}
	return o
}

// validFrom sets the validity to the AND of the operands' validity.
func (o *fixedOut[T]) validFrom(vs ...*vec) {
	o.vbuf, o.valid = andValidity(o.mem, o.n, vs...)
}

// allNull starts with every row NULL (and zero values); set marks rows valid.
func (o *fixedOut[T]) allNull() {
	clear(o.vals)
	o.vbuf, o.valid = newBitmap(o.mem, o.n, false)
}

func (o *fixedOut[T]) set(i int, v T) {
	o.vals[i] = v
	setBit(o.valid, i)
}

func (o *fixedOut[T]) isValid(i int) bool { return o.valid == nil || bitSet(o.valid, i) }

func (o *fixedOut[T]) setNull(i int) {
	if o.vbuf == nil {
		o.vbuf, o.valid = newBitmap(o.mem, o.n, true)
	}
	clearBit(o.valid, i)
}

func (o *fixedOut[T]) finish(dt arrow.DataType) arrow.Array {
	return finishArray(dt, o.n, o.vbuf, o.dbuf)
}

// boolOut builds a BOOLEAN array, with the same two validity modes.
type boolOut struct {
	n     int
	mem   memory.Allocator
	dbuf  *memory.Buffer
	vals  []byte
	vbuf  *memory.Buffer
	valid []byte
}

func newBoolOut(mem memory.Allocator, n int) *boolOut {
	b, bs := newBitmap(mem, n, false)
	return &boolOut{n: n, mem: mem, dbuf: b, vals: bs}
}

func (o *boolOut) validFrom(vs ...*vec) { o.vbuf, o.valid = andValidity(o.mem, o.n, vs...) }

func (o *boolOut) allNull() { o.vbuf, o.valid = newBitmap(o.mem, o.n, false) }

func (o *boolOut) set(i int, b bool) {
	if b {
		setBit(o.vals, i)
	} else {
		clearBit(o.vals, i)
	}
	if o.valid != nil {
		setBit(o.valid, i)
	}
}

func (o *boolOut) isValid(i int) bool { return o.valid == nil || bitSet(o.valid, i) }

func (o *boolOut) setNull(i int) {
	if o.vbuf == nil {
		o.vbuf, o.valid = newBitmap(o.mem, o.n, true)
	}
	clearBit(o.valid, i)
}

func (o *boolOut) finish() arrow.Array {
	return finishArray(arrow.FixedWidthTypes.Boolean, o.n, o.vbuf, o.dbuf)
}

// strOut builds a VARCHAR/JSON array. Rows are set in increasing order; rows
// never set are NULL.
type strOut struct {
	n     int
	mem   memory.Allocator
	obuf  *memory.Buffer
	offs  []int32
	data  []byte
	vbuf  *memory.Buffer
	valid []byte
	next  int // the first row whose offset is not yet written
}

func newStrOut(mem memory.Allocator, n int, sizeHint int) *strOut {
	o := &strOut{n: n, mem: mem, obuf: newBuffer(mem, (n+1)*4)}
	o.offs = unsafe.Slice((*int32)(unsafe.Pointer(&o.obuf.Bytes()[0])), n+1)
	o.offs[0] = 0
	o.vbuf, o.valid = newBitmap(mem, n, false)
	o.data = make([]byte, 0, sizeHint)
	return o
}

func (o *strOut) fill(i int) {
	end := int32(len(o.data))
	for ; o.next < i; o.next++ {
		o.offs[o.next+1] = end
	}
}

func (o *strOut) set(i int, s string) {
	o.fill(i)
	o.data = append(o.data, s...)
	o.offs[i+1] = int32(len(o.data))
	setBit(o.valid, i)
	o.next = i + 1
}

func (o *strOut) finish(dt arrow.DataType) arrow.Array {
	o.fill(o.n)
	dbuf := newBuffer(o.mem, len(o.data))
	copy(dbuf.Bytes(), o.data)
	return finishArray(dt, o.n, o.vbuf, o.obuf, dbuf)
}
