package snapshot

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func encodeAll(e *Encoder) {
	e.Uvarint(300)
	e.Varint(-5)
	e.Int(1 << 20)
	e.Bool(true)
	e.Float64(math.Copysign(0, -1))
	e.Float64(math.NaN())
	e.Bytes([]byte{0, 1, 2})
	e.String("héllo")
	e.Int64s([]int64{math.MinInt64, 0, math.MaxInt64})
	e.Int32s([]int32{-1, 7})
	e.Float64s([]float64{1.5, math.Inf(-1)})
	e.Bools([]bool{true, false})
	e.Strings([]string{"", "x"})
}

func TestRoundTrip(t *testing.T) {
	var e Encoder
	encodeAll(&e)
	d := NewDecoder(e.Data())
	if d.Uvarint() != 300 || d.Varint() != -5 || d.Int() != 1<<20 || !d.Bool() {
		t.Fatal("scalars")
	}
	if z := d.Float64(); z != 0 || !math.Signbit(z) {
		t.Fatalf("-0 came back as %v", z)
	}
	if !math.IsNaN(d.Float64()) {
		t.Fatal("NaN")
	}
	if !slices.Equal(d.Bytes(), []byte{0, 1, 2}) || d.String() != "héllo" {
		t.Fatal("bytes, string")
	}
	if !slices.Equal(d.Int64s(), []int64{math.MinInt64, 0, math.MaxInt64}) || !slices.Equal(d.Int32s(), []int32{-1, 7}) {
		t.Fatal("ints")
	}
	if !slices.Equal(d.Float64s(), []float64{1.5, math.Inf(-1)}) || !slices.Equal(d.Bools(), []bool{true, false}) ||
		!slices.Equal(d.Strings(), []string{"", "x"}) {
		t.Fatal("lists")
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
}

// Every truncation of a valid encoding fails cleanly, and a length larger
// than the input is refused before anything is allocated for it.
func TestDamage(t *testing.T) {
	var e Encoder
	encodeAll(&e)
	full := e.Data()
	for n := range len(full) {
		d := NewDecoder(full[:n])
		readAll(d)
		if err := d.End(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	var big Encoder
	big.Uvarint(1 << 40)
	d := NewDecoder(big.Data())
	if d.Float64s(); !errors.Is(d.Err(), ErrCorrupt) {
		t.Fatalf("huge length: %v", d.Err())
	}
}

func readAll(d *Decoder) {
	d.Uvarint()
	d.Varint()
	d.Int()
	d.Bool()
	d.Float64()
	d.Float64()
	d.Bytes()
	_ = d.String()
	d.Int64s()
	d.Int32s()
	d.Float64s()
	d.Bools()
	d.Strings()
}

func FuzzDecoder(f *testing.F) {
	var e Encoder
	encodeAll(&e)
	f.Add(e.Data())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		readAll(d)
		if d.Err() != nil && !errors.Is(d.Err(), ErrCorrupt) {
			t.Fatalf("error not ErrCorrupt: %v", d.Err())
		}
		if d.Remaining() < 0 {
			t.Fatal("read past the end")
		}
	})
}
