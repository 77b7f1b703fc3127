package exec

import (
	"cmp"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/sql/types"
)

// Group keys are hashed column by column in the scan stage (the hash routes a
// row to its worker) and stored per window in typed key stores, which compare a
// row with a stored key without encoding either.

const (
	hashSeed = 0xcbf29ce484222325
	hashNull = 0x9e3779b97f4a7c15
)

func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func hashBytes(s string) uint64 {
	h := uint64(hashSeed)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

// hashColumn folds every row's value of arr into h.
func hashColumn(arr arrow.Array, h []uint64) {
	nulls := arr.NullN() > 0
	switch a := arr.(type) {
	case *array.Int64:
		for i, v := range a.Int64Values() {
			if nulls && a.IsNull(i) {
				h[i] = mix(h[i], hashNull)
			} else {
				h[i] = mix(h[i], uint64(v))
			}
		}
	case *array.Timestamp:
		for i, v := range a.TimestampValues() {
			if nulls && a.IsNull(i) {
				h[i] = mix(h[i], hashNull)
			} else {
				h[i] = mix(h[i], uint64(v))
			}
		}
	case *array.Float64:
		for i, v := range a.Float64Values() {
			if nulls && a.IsNull(i) {
				h[i] = mix(h[i], hashNull)
			} else {
				if v == 0 {
					v = 0 // -0 and +0 are one key
				}
				h[i] = mix(h[i], math.Float64bits(v))
			}
		}
	case *array.String:
		for i := range h {
			if nulls && a.IsNull(i) {
				h[i] = mix(h[i], hashNull)
			} else {
				h[i] = mix(h[i], hashBytes(a.Value(i)))
			}
		}
	case *array.Decimal128:
		for i := range h {
			if nulls && a.IsNull(i) {
				h[i] = mix(h[i], hashNull)
			} else {
				v := a.Value(i)
				h[i] = mix(mix(h[i], v.LowBits()), uint64(v.HighBits()))
			}
		}
	case *array.Boolean:
		for i := range h {
			switch {
			case nulls && a.IsNull(i):
				h[i] = mix(h[i], hashNull)
			case a.Value(i):
				h[i] = mix(h[i], 1)
			default:
				h[i] = mix(h[i], 2)
			}
		}
	default:
		panic(fmt.Sprintf("exec: no hash for %s", arr.DataType()))
	}
}

// keyStore keeps one key column's values of the groups of one window.
type keyStore interface {
	equal(arr arrow.Array, row int, g int32) bool
	add(arr arrow.Array, row int)
	build(mem memory.Allocator) arrow.Array
	// copyTo appends group g's key to dst, a store of the same type.
	copyTo(dst keyStore, g int32)
	// compare orders groups a and b by key, NULL first.
	compare(a, b int32) int
}

func newKeyStore(t types.Type) (func() keyStore, error) {
	switch t.Kind {
	case types.BigInt, types.Interval:
		return func() keyStore { return &intKeys{} }, nil
	case types.Timestamp:
		return func() keyStore { return &intKeys{ts: true} }, nil
	case types.Double:
		return func() keyStore { return &floatKeys{} }, nil
	case types.Varchar, types.JSON:
		return func() keyStore { return &stringKeys{} }, nil
	case types.Decimal:
		dt := &arrow.Decimal128Type{Precision: t.Precision, Scale: t.Scale}
		return func() keyStore { return &decimalKeys{dt: dt} }, nil
	case types.Boolean:
		return func() keyStore { return &boolKeys{} }, nil
	}
	return nil, fmt.Errorf("cannot group by a %s column", t)
}

type intKeys struct {
	ts    bool
	v     []int64
	valid []bool
}

func intAt(arr arrow.Array, row int) int64 {
	if a, ok := arr.(*array.Timestamp); ok {
		return int64(a.Value(row))
	}
	return arr.(*array.Int64).Value(row)
}

func (k *intKeys) equal(arr arrow.Array, row int, g int32) bool {
	if arr.IsNull(row) {
		return !k.valid[g]
	}
	return k.valid[g] && k.v[g] == intAt(arr, row)
}

func (k *intKeys) add(arr arrow.Array, row int) {
	if arr.IsNull(row) {
		k.v, k.valid = append(k.v, 0), append(k.valid, false)
		return
	}
	k.v, k.valid = append(k.v, intAt(arr, row)), append(k.valid, true)
}

func (k *intKeys) build(mem memory.Allocator) arrow.Array {
	if k.ts {
		b := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
		defer b.Release()
		for i, v := range k.v {
			if k.valid[i] {
				b.Append(arrow.Timestamp(v))
			} else {
				b.AppendNull()
			}
		}
		return b.NewArray()
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(k.v, k.valid)
	return b.NewArray()
}

type floatKeys struct {
	v     []float64
	valid []bool
}

func (k *floatKeys) equal(arr arrow.Array, row int, g int32) bool {
	if arr.IsNull(row) {
		return !k.valid[g]
	}
	v := arr.(*array.Float64).Value(row)
	return k.valid[g] && (k.v[g] == v || (math.IsNaN(v) && math.IsNaN(k.v[g])))
}

func (k *floatKeys) add(arr arrow.Array, row int) {
	if arr.IsNull(row) {
		k.v, k.valid = append(k.v, 0), append(k.valid, false)
		return
	}
	k.v, k.valid = append(k.v, arr.(*array.Float64).Value(row)), append(k.valid, true)
}

func (k *floatKeys) build(mem memory.Allocator) arrow.Array {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(k.v, k.valid)
	return b.NewArray()
}

type stringKeys struct {
	v     []string
	valid []bool
}

func (k *stringKeys) equal(arr arrow.Array, row int, g int32) bool {
	if arr.IsNull(row) {
		return !k.valid[g]
	}
	return k.valid[g] && k.v[g] == arr.(*array.String).Value(row)
}

func (k *stringKeys) add(arr arrow.Array, row int) {
	if arr.IsNull(row) {
		k.v, k.valid = append(k.v, ""), append(k.valid, false)
		return
	}
	// Copy: the batch's buffers are released once the batch is folded in.
	k.v, k.valid = append(k.v, string([]byte(arr.(*array.String).Value(row)))), append(k.valid, true)
}

func (k *stringKeys) build(mem memory.Allocator) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(k.v, k.valid)
	return b.NewArray()
}

type decimalKeys struct {
	dt    *arrow.Decimal128Type
	v     []decimal128.Num
	valid []bool
}

func (k *decimalKeys) equal(arr arrow.Array, row int, g int32) bool {
	if arr.IsNull(row) {
		return !k.valid[g]
	}
	return k.valid[g] && k.v[g] == arr.(*array.Decimal128).Value(row)
}

func (k *decimalKeys) add(arr arrow.Array, row int) {
	if arr.IsNull(row) {
		k.v, k.valid = append(k.v, decimal128.Num{}), append(k.valid, false)
		return
	}
	k.v, k.valid = append(k.v, arr.(*array.Decimal128).Value(row)), append(k.valid, true)
}

func (k *decimalKeys) build(mem memory.Allocator) arrow.Array {
	b := array.NewDecimal128Builder(mem, k.dt)
	defer b.Release()
	b.AppendValues(k.v, k.valid)
	return b.NewArray()
}

type boolKeys struct {
	v     []bool
	valid []bool
}

func (k *boolKeys) equal(arr arrow.Array, row int, g int32) bool {
	if arr.IsNull(row) {
		return !k.valid[g]
	}
	return k.valid[g] && k.v[g] == arr.(*array.Boolean).Value(row)
}

func (k *boolKeys) add(arr arrow.Array, row int) {
	if arr.IsNull(row) {
		k.v, k.valid = append(k.v, false), append(k.valid, false)
		return
	}
	k.v, k.valid = append(k.v, arr.(*array.Boolean).Value(row)), append(k.valid, true)
}

func (k *boolKeys) build(mem memory.Allocator) arrow.Array {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.AppendValues(k.v, k.valid)
	return b.NewArray()
}

func (k *intKeys) copyTo(dst keyStore, g int32) {
	d := dst.(*intKeys)
	d.v, d.valid = append(d.v, k.v[g]), append(d.valid, k.valid[g])
}

func (k *floatKeys) copyTo(dst keyStore, g int32) {
	d := dst.(*floatKeys)
	d.v, d.valid = append(d.v, k.v[g]), append(d.valid, k.valid[g])
}

func (k *stringKeys) copyTo(dst keyStore, g int32) {
	d := dst.(*stringKeys)
	d.v, d.valid = append(d.v, k.v[g]), append(d.valid, k.valid[g])
}

func (k *decimalKeys) copyTo(dst keyStore, g int32) {
	d := dst.(*decimalKeys)
	d.v, d.valid = append(d.v, k.v[g]), append(d.valid, k.valid[g])
}

func (k *boolKeys) copyTo(dst keyStore, g int32) {
	d := dst.(*boolKeys)
	d.v, d.valid = append(d.v, k.v[g]), append(d.valid, k.valid[g])
}

// compareNullable orders two possibly NULL values, NULL first.
func compareNullable(va, vb bool, cmpValues func() int) int {
	switch {
	case !va && !vb:
		return 0
	case !va:
		return -1
	case !vb:
		return 1
	}
	return cmpValues()
}

func (k *intKeys) compare(a, b int32) int {
	return compareNullable(k.valid[a], k.valid[b], func() int { return cmp.Compare(k.v[a], k.v[b]) })
}

func (k *floatKeys) compare(a, b int32) int {
	return compareNullable(k.valid[a], k.valid[b], func() int { return cmp.Compare(k.v[a], k.v[b]) })
}

func (k *stringKeys) compare(a, b int32) int {
	return compareNullable(k.valid[a], k.valid[b], func() int { return strings.Compare(k.v[a], k.v[b]) })
}

func (k *decimalKeys) compare(a, b int32) int {
	return compareNullable(k.valid[a], k.valid[b], func() int { return k.v[a].Cmp(k.v[b]) })
}

func (k *boolKeys) compare(a, b int32) int {
	return compareNullable(k.valid[a], k.valid[b], func() int {
		switch {
		case k.v[a] == k.v[b]:
			return 0
		case !k.v[a]:
			return -1
		}
		return 1
	})
}
