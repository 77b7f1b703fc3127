// Package snapshot owns the binary encoding of operator state in checkpoints:
// an Encoder that appends values to a byte slice and a Decoder that reads them
// back in the same order. The format has no field names or types; each
// operator writes a version number first and reads what it wrote. A Decoder
// never panics and never allocates more than its input can hold: damaged
// input gives an error (the checkpoint's checksums catch damage first; this is
// the second line).
package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Encoder appends values. The zero value is ready to use.
type Encoder struct {
	buf []byte
}

// Data returns the bytes encoded so far.
func (e *Encoder) Data() []byte { return e.buf }

// Len is the number of bytes encoded so far.
func (e *Encoder) Len() int { return len(e.buf) }

func (e *Encoder) Uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *Encoder) Varint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *Encoder) Int(v int)        { e.Varint(int64(v)) }

func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Float64 is written as its 8 IEEE 754 bytes, so every value (NaN, -0)
// survives exactly.
func (e *Encoder) Float64(v float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v))
}

// Bytes writes a length-prefixed byte string.
func (e *Encoder) Bytes(b []byte) {
	e.Uvarint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

func (e *Encoder) String(s string) {
	e.Uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *Encoder) Int64s(vs []int64) {
	e.Uvarint(uint64(len(vs)))
	for _, v := range vs {
		e.Varint(v)
	}
}

func (e *Encoder) Int32s(vs []int32) {
	e.Uvarint(uint64(len(vs)))
	for _, v := range vs {
		e.Varint(int64(v))
	}
}

func (e *Encoder) Float64s(vs []float64) {
	e.Uvarint(uint64(len(vs)))
	for _, v := range vs {
		e.Float64(v)
	}
}

// Bools writes a length then one byte per value.
func (e *Encoder) Bools(vs []bool) {
	e.Uvarint(uint64(len(vs)))
	for _, v := range vs {
		e.Bool(v)
	}
}

func (e *Encoder) Strings(vs []string) {
	e.Uvarint(uint64(len(vs)))
	for _, v := range vs {
		e.String(v)
	}
}

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt state")

// Decoder reads values in the order they were encoded. The first failure is
// sticky: later reads return zero values, and Err reports it.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder reads b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err is the first failure, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining is the number of bytes not read yet.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Fail records a failure found by the caller (a bad version, an impossible
// value), so that it is reported like damage.
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", ErrCorrupt, d.off, fmt.Sprintf(format, args...))
	}
}

// End fails unless every byte was read.
func (d *Decoder) End() error {
	if d.err == nil && d.off != len(d.buf) {
		d.Fail("%d bytes left over", len(d.buf)-d.off)
	}
	return d.err
}

func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.Fail("bad unsigned varint")
		return 0
	}
	d.off += n
	return v
}

func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		d.Fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// Int reads a Varint that must fit an int32-sized count or index.
func (d *Decoder) Int() int {
	v := d.Varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.Fail("integer %d out of range", v)
		return 0
	}
	return int(v)
}

func (d *Decoder) Bool() bool {
	if d.err != nil {
		return false
	}
	if d.off >= len(d.buf) {
		d.Fail("unexpected end")
		return false
	}
	b := d.buf[d.off]
	d.off++
	if b > 1 {
		d.Fail("bad bool %d", b)
		return false
	}
	return b == 1
}

func (d *Decoder) Float64() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.buf)-d.off < 8 {
		d.Fail("unexpected end")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.buf[d.off:]))
	d.off += 8
	return v
}

// count reads a length whose items take at least minSize bytes each, and
// fails rather than allocate for more items than the rest could hold.
func (d *Decoder) count(minSize int) int {
	n := d.Uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(d.Remaining()/minSize) {
		d.Fail("length %d exceeds the %d bytes left", n, d.Remaining())
		return 0
	}
	return int(n)
}

// Count reads a length written with Uvarint for a list whose items each take
// at least minSize (>= 1) encoded bytes.
func (d *Decoder) Count(minSize int) int { return d.count(max(1, minSize)) }

// Bytes returns a copy.
func (d *Decoder) Bytes() []byte {
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	b := append([]byte(nil), d.buf[d.off:d.off+n]...)
	d.off += n
	return b
}

func (d *Decoder) String() string {
	n := d.count(1)
	if d.err != nil {
		return ""
	}
	s := string(d.buf[d.off : d.off+n])
	d.off += n
	return s
}

func (d *Decoder) Int64s() []int64 {
	n := d.count(1)
	vs := make([]int64, n)
	for i := range vs {
		vs[i] = d.Varint()
	}
	return vs
}

func (d *Decoder) Int32s() []int32 {
	n := d.count(1)
	vs := make([]int32, n)
	for i := range vs {
		v := d.Varint()
		if v < math.MinInt32 || v > math.MaxInt32 {
			d.Fail("int32 %d out of range", v)
			return nil
		}
		vs[i] = int32(v)
	}
	return vs
}

func (d *Decoder) Float64s() []float64 {
	n := d.count(8)
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = d.Float64()
	}
	return vs
}

func (d *Decoder) Bools() []bool {
	n := d.count(1)
	vs := make([]bool, n)
	for i := range vs {
		vs[i] = d.Bool()
	}
	return vs
}

func (d *Decoder) Strings() []string {
	n := d.count(1)
	vs := make([]string, n)
	for i := range vs {
		vs[i] = d.String()
	}
	return vs
}
