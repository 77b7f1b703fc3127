package eval

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eddy-streams/eddy/sql/types"
)

// vec is a read-only view of one operand over the rows of a batch: either an
// Arrow array or a constant broadcast to every row without being materialised.
// Typed accessors index with i&mask, where mask is 0 for a constant (whose
// value slices have one element) and -1 for an array, so the same loop serves
// both shapes.
type vec struct {
	constant bool
	null     bool // a constant NULL
	mask     int  // -1 for an array, 0 for a constant
	arr      arrow.Array

	valid []byte // validity bitmap, bit i+voff; nil when there is no NULL
	voff  int

	i64  []int64 // BIGINT, INTERVAL, TIMESTAMP
	f64  []float64
	dec  []decimal128.Num
	offs []int32 // VARCHAR/JSON: absolute offsets into data, len n+1
	data string  // VARCHAR/JSON bytes
	cs   string  // constant string
	bits []byte  // BOOLEAN values, bit i+boff
	boff int
	cb   bool // constant BOOLEAN
}

func (v *vec) release() {
	if v.arr != nil {
		v.arr.Release()
		v.arr = nil
	}
}

func (v *vec) isNull(i int) bool {
	if v.constant {
		return v.null
	}
	if v.valid == nil {
		return false
	}
	j := i + v.voff
	return v.valid[j>>3]&(1<<(j&7)) == 0
}

func (v *vec) int(i int) int64              { return v.i64[i&v.mask] }
func (v *vec) float(i int) float64          { return v.f64[i&v.mask] }
func (v *vec) decimal(i int) decimal128.Num { return v.dec[i&v.mask] }

func (v *vec) str(i int) string {
	if v.constant {
		return v.cs
	}
	return v.data[v.offs[i]:v.offs[i+1]]
}

func (v *vec) bool(i int) bool {
	if v.constant {
		return v.cb
	}
	j := i + v.boff
	return v.bits[j>>3]&(1<<(j&7)) != 0
}

// constVec builds the view of a constant value (Go value as in expr.Literal,
// nil for NULL).
func constVec(val any) *vec {
	v := &vec{constant: true, mask: 0}
	if val == nil {
		v.null = true
		// Keep the typed slices indexable so kernels that read values of
		// NULL rows (and ignore them) stay in bounds.
		v.i64 = []int64{0}
		v.f64 = []float64{0}
		v.dec = []decimal128.Num{{}}
		return v
	}
	v.i64 = []int64{0}
	v.f64 = []float64{0}
	v.dec = []decimal128.Num{{}}
	switch x := val.(type) {
	case bool:
		v.cb = x
	case int64:
		v.i64[0] = x
	case float64:
		v.f64[0] = x
	case decimal128.Num:
		v.dec[0] = x
	case string:
		v.cs = x
	}
	return v
}

// arrayVec wraps an array (taking over the caller's reference) in a view.
func arrayVec(arr arrow.Array) (*vec, error) {
	v := &vec{mask: -1, arr: arr}
	data := arr.Data()
	if arr.NullN() > 0 {
		v.valid = arr.NullBitmapBytes()
		v.voff = data.Offset()
	}
	switch a := arr.(type) {
	case *array.Int64:
		v.i64 = a.Int64Values()
	case *array.Timestamp:
		ts := a.TimestampValues()
		if len(ts) > 0 {
			v.i64 = unsafe.Slice((*int64)(unsafe.Pointer(&ts[0])), len(ts))
		}
	case *array.Float64:
		v.f64 = a.Float64Values()
	case *array.Decimal128:
		v.dec = a.Values()
	case *array.String:
		if data.Buffers()[1] == nil { // an empty array may have no offsets
			v.offs = []int32{0}
			break
		}
		v.offs = a.ValueOffsets()
		if b := data.Buffers()[2]; b != nil && b.Len() > 0 {
			bs := b.Bytes()
			v.data = unsafe.String(&bs[0], len(bs))
		}
	case *array.Boolean:
		if b := data.Buffers()[1]; b != nil {
			v.bits = b.Bytes()
		}
		v.boff = data.Offset()
	case *array.Null:
		v.valid = make([]byte, (arr.Len()+7)/8)
		v.voff = 0
	default:
		arr.Release()
		return nil, fmt.Errorf("eval: unsupported Arrow type %s", arr.DataType())
	}
	return v, nil
}

// constArray materialises a constant of type t as an array of n rows.
func constArray(mem memory.Allocator, t types.Type, val any, n int) arrow.Array {
	dt := t.Arrow()
	if val == nil {
		return array.MakeArrayOfNull(mem, dt, n)
	}
	switch x := val.(type) {
	case bool:
		o := newBoolOut(mem, n)
		if x {
			for i := range o.vals {
				o.vals[i] = 0xff
			}
		}
		return o.finish()
	case int64:
		o := newFixed[int64](mem, n)
		for i := range o.vals {
			o.vals[i] = x
		}
		return o.finish(dt)
	case float64:
		o := newFixed[float64](mem, n)
		for i := range o.vals {
			o.vals[i] = x
		}
		return o.finish(dt)
	case decimal128.Num:
		o := newFixed[decimal128.Num](mem, n)
		for i := range o.vals {
			o.vals[i] = x
		}
		return o.finish(dt)
	case string:
		o := newStrOut(mem, n, n*len(x))
		for i := 0; i < n; i++ {
			o.set(i, x)
		}
		return o.finish(dt)
	}
	return array.MakeArrayOfNull(mem, dt, n)
}
