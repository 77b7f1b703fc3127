package exec

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/axiomhq/hyperloglog"
	tdigest "github.com/caio/go-tdigest/v5"

	"github.com/eddy-streams/eddy/exec/snapshot"
	"github.com/eddy-streams/eddy/sql/types"
)

// Checkpointing of the aggregate states (aggState) and group key stores
// (keyStore) of a window.
//
// Every state writes a header, then its groups in id order:
//
//	format version (uvarint, 1), kind (uvarint, one per concrete type),
//	configuration (string: the function and types the maker fixed, e.g. "avg"),
//	number of groups (uvarint), then the kind's columns
//
// load checks the version, kind and configuration against the receiver (a
// fresh state of the same maker), so a checkpoint of another query shape is
// reported as damage rather than misread. Columns are written whole (all
// groups' counts, then all sums, ...) and booleans are packed 8 to a byte;
// values of groups that hold none (a MIN that saw only NULLs, a NULL key) are
// not written. Maps are written in key order, so that save of a restored state
// gives the same bytes (except APPROX_COUNT_DISTINCT: the library's sparse
// sketch encoding is not canonical).
//
// load reads everything before it touches the receiver: on damage the
// receiver keeps its content and the Decoder holds the error. It checks every
// count against the bytes left, enumerations, the invariants the states rely on
// (a group's TOP_K and DISTINCT keys are distinct and well-formed for their
// type, FIRST_VALUE's arrival numbers are below the next one, a t-digest's
// centroids are sorted), and sketch bytes through the libraries' own decoders.
// The caller checks Decoder.End after the last state of an operator.
//
// Restores are exact: a restored state builds the same results, bit for bit,
// as the state it was saved from, and keeps doing so under the same further
// updates and merges. For APPROX_PERCENTILE that needs the t-digests'
// centroids as float64 and the state of the random source that drives their
// merge choices; see percentileState.load for how a digest is rebuilt.

// snapshotter is a state that can be checkpointed. save writes the state of
// all groups; load replaces the receiver's content (a fresh state from the
// same maker) with what save wrote, reporting damage through d.
type snapshotter interface {
	save(e *snapshot.Encoder)
	load(d *snapshot.Decoder)
}

// Every aggregate state and key store is a snapshotter
// (TestAggStateSnapshotCoverage checks every state newAggState makes).
var (
	_ snapshotter = (*countState)(nil)
	_ snapshotter = (*countDistinctState)(nil)
	_ snapshotter = (*sumIntState)(nil)
	_ snapshotter = (*sumFloatState)(nil)
	_ snapshotter = (*sumDecimalState)(nil)
	_ snapshotter = (*minMaxIntState)(nil)
	_ snapshotter = (*minMaxFloatState)(nil)
	_ snapshotter = (*minMaxDecimalState)(nil)
	_ snapshotter = (*minMaxStringState)(nil)
	_ snapshotter = (*minMaxBoolState)(nil)
	_ snapshotter = (*distinctState[uint64])(nil)
	_ snapshotter = (*distinctState[string])(nil)
	_ snapshotter = (*firstLastState[int64])(nil)
	_ snapshotter = (*firstLastState[float64])(nil)
	_ snapshotter = (*firstLastState[decimal128.Num])(nil)
	_ snapshotter = (*firstLastState[string])(nil)
	_ snapshotter = (*firstLastState[bool])(nil)
	_ snapshotter = (*hllState)(nil)
	_ snapshotter = (*percentileState)(nil)
	_ snapshotter = (*varianceState)(nil)
	_ snapshotter = (*topKState[uint64])(nil)
	_ snapshotter = (*topKState[string])(nil)

	_ snapshotter = (*intKeys)(nil)
	_ snapshotter = (*floatKeys)(nil)
	_ snapshotter = (*stringKeys)(nil)
	_ snapshotter = (*decimalKeys)(nil)
	_ snapshotter = (*boolKeys)(nil)
)

// stateFormat is the version of the layout below.
const stateFormat = 1

// The kinds of state, written in the header. Never renumber.
const (
	kindCount uint64 = iota + 1
	kindCountDistinct
	kindSumInt
	kindSumFloat
	kindSumDecimal
	kindMinMaxInt
	kindMinMaxFloat
	kindMinMaxDecimal
	kindMinMaxString
	kindMinMaxBool
	kindDistinct
	kindFirstLast
	kindHLL
	kindPercentile
	kindVariance
	kindTopK
	kindIntKeys
	kindFloatKeys
	kindStringKeys
	kindDecimalKeys
	kindBoolKeys
)

// maxCount bounds the counters load accepts (rows of a group, TOP_K counts):
// 2^53, beyond any real stream, keeps their sums exact in int64 and float64.
const maxCount = 1 << 53

func putHeader(e *snapshot.Encoder, kind uint64, config string, groups int) {
	e.Uvarint(stateFormat)
	e.Uvarint(kind)
	e.String(config)
	e.Uvarint(uint64(groups))
}

// getHeader reads a header written by putHeader for a state of kind and
// config and returns its number of groups (0 after a failure). Every group of
// the kind takes at least minBits bits of what follows.
func getHeader(d *snapshot.Decoder, kind uint64, config string, minBits int) int {
	if v := d.Uvarint(); d.Err() == nil && v != stateFormat {
		d.Fail("state format %d, want %d", v, stateFormat)
	}
	if k := d.Uvarint(); d.Err() == nil && k != kind {
		d.Fail("state of kind %d, want kind %d", k, kind)
	}
	if c := d.String(); d.Err() == nil && c != config {
		d.Fail("state of %q loaded into %q", c, config)
	}
	n := d.Uvarint()
	if d.Err() == nil && (n > math.MaxInt32 || n > uint64(d.Remaining())*8/uint64(minBits)) {
		d.Fail("%d groups in %d bytes", n, d.Remaining())
	}
	if d.Err() != nil {
		return 0
	}
	return int(n)
}

func boolConfig(v bool, yes, no string) string {
	if v {
		return yes
	}
	return no
}

// putBits writes bits packed 8 to a byte, the first in the lowest bit.
func putBits(e *snapshot.Encoder, bits []bool) {
	packed := make([]byte, (len(bits)+7)/8)
	for i, b := range bits {
		if b {
			packed[i>>3] |= 1 << (i & 7)
		}
	}
	e.Bytes(packed)
}

// getBits reads n bits written by putBits.
func getBits(d *snapshot.Decoder, n int) []bool {
	packed := d.Bytes()
	if d.Err() != nil {
		return nil
	}
	if len(packed) != (n+7)/8 {
		d.Fail("%d bytes of bits for %d groups", len(packed), n)
		return nil
	}
	if n%8 != 0 && packed[len(packed)-1]>>(n%8) != 0 {
		d.Fail("bits set past group %d", n)
		return nil
	}
	bits := make([]bool, n)
	for i := range bits {
		bits[i] = packed[i>>3]>>(i&7)&1 == 1
	}
	return bits
}

// getInt64s reads a column of n int64s written by Encoder.Int64s.
func getInt64s(d *snapshot.Decoder, n int) []int64 {
	vs := d.Int64s()
	if d.Err() == nil && len(vs) != n {
		d.Fail("%d values for %d groups", len(vs), n)
	}
	return vs
}

// getCounts reads a column of n counts (0 <= count <= maxCount).
func getCounts(d *snapshot.Decoder, n int) []int64 {
	vs := getInt64s(d, n)
	for _, v := range vs {
		if d.Err() == nil && (v < 0 || v > maxCount) {
			d.Fail("count %d out of range", v)
		}
	}
	return vs
}

// getCount reads one count written with Uvarint (0 <= count <= maxCount).
func getCount(d *snapshot.Decoder) int64 {
	v := d.Uvarint()
	if d.Err() == nil && v > maxCount {
		d.Fail("count %d out of range", v)
		return 0
	}
	return int64(v)
}

// getFloat64s reads a column of n float64s written by Encoder.Float64s.
func getFloat64s(d *snapshot.Decoder, n int) []float64 {
	vs := d.Float64s()
	if d.Err() == nil && len(vs) != n {
		d.Fail("%d values for %d groups", len(vs), n)
	}
	return vs
}

func putNum(e *snapshot.Encoder, v decimal128.Num) {
	e.Varint(v.HighBits())
	e.Uvarint(v.LowBits())
}

func getNum(d *snapshot.Decoder) decimal128.Num {
	hi := d.Varint()
	lo := d.Uvarint()
	return decimal128.New(hi, lo)
}

// getFitNum reads a decimal that must fit the largest precision.
func getFitNum(d *snapshot.Decoder) decimal128.Num {
	v := getNum(d)
	if d.Err() == nil && !v.FitsInPrecision(types.MaxDecimalPrecision) {
		d.Fail("decimal %s has more than %d digits", v.BigInt(), types.MaxDecimalPrecision)
	}
	return v
}

// valueCodec writes and reads values of one Go type: the values of
// FIRST_VALUE and LAST_VALUE, and the keys of DISTINCT and TOP_K (uint64 is
// only ever a word key, see keyOps).
type valueCodec[T any] struct {
	put func(e *snapshot.Encoder, v T)
	get func(d *snapshot.Decoder) T
}

func valueCodecOf[T any]() valueCodec[T] {
	var c any
	switch any(*new(T)).(type) {
	case int64:
		c = valueCodec[int64]{put: (*snapshot.Encoder).Varint, get: (*snapshot.Decoder).Varint}
	case uint64:
		// A word key is a value with its sign bit flipped: flipped back, small
		// integers are short varints.
		c = valueCodec[uint64]{
			put: func(e *snapshot.Encoder, k uint64) { e.Varint(int64(k ^ signBit)) },
			get: func(d *snapshot.Decoder) uint64 { return uint64(d.Varint()) ^ signBit },
		}
	case float64:
		c = valueCodec[float64]{put: (*snapshot.Encoder).Float64, get: (*snapshot.Decoder).Float64}
	case decimal128.Num:
		c = valueCodec[decimal128.Num]{put: putNum, get: getFitNum}
	case string:
		c = valueCodec[string]{put: (*snapshot.Encoder).String, get: (*snapshot.Decoder).String}
	case bool:
		c = valueCodec[bool]{put: (*snapshot.Encoder).Bool, get: (*snapshot.Decoder).Bool}
	default:
		panic(fmt.Sprintf("exec: no snapshot encoding for %T", *new(T)))
	}
	return c.(valueCodec[T])
}

// keyCheck returns a function that says whether k is a key c can make.
func keyCheck[K cmp.Ordered](c keyCodec) func(k K) bool {
	var f any
	switch any(*new(K)).(type) {
	case uint64:
		f = func(k uint64) bool {
			// The DOUBLE keys are canonical: no -0, one NaN.
			return c.t.Kind != types.Double || floatKey(floatFromKey(k)) == k
		}
	case string:
		f = func(k string) bool {
			switch c.t.Kind {
			case types.Decimal:
				return len(k) == 16
			case types.Boolean:
				return len(k) == 1 && k[0] <= 1
			case types.Varchar, types.JSON:
				return true
			}
			return false
		}
	default:
		panic(fmt.Sprintf("exec: no key check for %T", *new(K)))
	}
	return f.(func(K) bool)
}

// --- COUNT, SUM, AVG, MIN, MAX ---

func (s *countState) save(e *snapshot.Encoder) {
	putHeader(e, kindCount, boolConfig(s.star, "count_star", "count"), len(s.n))
	e.Int64s(s.n)
}

func (s *countState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindCount, boolConfig(s.star, "count_star", "count"), 8)
	counts := getCounts(d, n)
	if d.Err() != nil {
		return
	}
	s.n = counts
}

// COUNT(DISTINCT x): per group the number of values, then the values in order.
func (s *countDistinctState) save(e *snapshot.Encoder) {
	putHeader(e, kindCountDistinct, "", len(s.sets))
	var vals []string
	for _, set := range s.sets {
		vals = vals[:0]
		for v := range set {
			vals = append(vals, v)
		}
		slices.Sort(vals)
		e.Strings(vals)
	}
}

func (s *countDistinctState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindCountDistinct, "", 8)
	sets := make([]map[string]struct{}, 0, min(n, d.Remaining()))
	for range n {
		vals := d.Strings()
		if d.Err() != nil {
			return
		}
		set := make(map[string]struct{}, len(vals))
		for _, v := range vals {
			set[v] = struct{}{}
		}
		if len(set) != len(vals) {
			d.Fail("a COUNT(DISTINCT) group holds a value twice")
			return
		}
		sets = append(sets, set)
	}
	if d.Err() != nil {
		return
	}
	s.sets = sets
}

// SUM, AVG over BIGINT: overflow bits, counts, sums.
func (s *sumIntState) save(e *snapshot.Encoder) {
	putHeader(e, kindSumInt, boolConfig(s.avg, "avg", "sum"), len(s.n))
	putBits(e, s.overflow)
	e.Int64s(s.n)
	e.Int64s(s.sum)
}

func (s *sumIntState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindSumInt, boolConfig(s.avg, "avg", "sum"), 8)
	overflow := getBits(d, n)
	counts := getCounts(d, n)
	sums := getInt64s(d, n)
	if d.Err() != nil {
		return
	}
	s.overflow, s.n, s.sum = overflow, counts, sums
}

// SUM, AVG over DOUBLE: counts, sums.
func (s *sumFloatState) save(e *snapshot.Encoder) {
	putHeader(e, kindSumFloat, boolConfig(s.avg, "avg", "sum"), len(s.n))
	e.Int64s(s.n)
	e.Float64s(s.sum)
}

func (s *sumFloatState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindSumFloat, boolConfig(s.avg, "avg", "sum"), 8)
	counts := getCounts(d, n)
	sums := getFloat64s(d, n)
	if d.Err() != nil {
		return
	}
	s.n, s.sum = counts, sums
}

// SUM, AVG over DECIMAL: overflow bits, counts, sums. A sum that did not
// overflow fits 38 digits.
func (s *sumDecimalState) config() string {
	return fmt.Sprintf("%s scale %d to %s", boolConfig(s.avg, "avg", "sum"), s.argScale, s.res)
}

func (s *sumDecimalState) save(e *snapshot.Encoder) {
	putHeader(e, kindSumDecimal, s.config(), len(s.n))
	putBits(e, s.overflow)
	e.Int64s(s.n)
	for _, v := range s.sum {
		putNum(e, v)
	}
}

func (s *sumDecimalState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindSumDecimal, s.config(), 8)
	overflow := getBits(d, n)
	counts := getCounts(d, n)
	if d.Err() != nil {
		return
	}
	sums := make([]decimal128.Num, n)
	for g := range sums {
		sums[g] = getNum(d)
		if d.Err() == nil && !overflow[g] && !sums[g].FitsInPrecision(types.MaxDecimalPrecision) {
			d.Fail("a DECIMAL sum of more than %d digits did not overflow", types.MaxDecimalPrecision)
		}
		if d.Err() != nil {
			return
		}
	}
	s.overflow, s.n, s.sum = overflow, counts, sums
}

// saveMinMax writes a MIN or MAX state: which groups have a value, then the
// values of those.
func saveMinMax[T any](e *snapshot.Encoder, kind uint64, config string, v []T, seen []bool) {
	putHeader(e, kind, config, len(v))
	putBits(e, seen)
	put := valueCodecOf[T]().put
	for g, x := range v {
		if seen[g] {
			put(e, x)
		}
	}
}

// loadMinMax reads what saveMinMax wrote; ok is false after a failure.
func loadMinMax[T any](d *snapshot.Decoder, kind uint64, config string) (v []T, seen []bool, ok bool) {
	n := getHeader(d, kind, config, 1)
	seen = getBits(d, n)
	if d.Err() != nil {
		return nil, nil, false
	}
	get := valueCodecOf[T]().get
	v = make([]T, n)
	for g := range v {
		if seen[g] {
			v[g] = get(d)
			if d.Err() != nil {
				return nil, nil, false
			}
		}
	}
	return v, seen, true
}

func (s *minMaxIntState) config() string {
	return fmt.Sprintf("%s %s", boolConfig(s.max, "max", "min"), s.t)
}

func (s *minMaxIntState) save(e *snapshot.Encoder) {
	saveMinMax(e, kindMinMaxInt, s.config(), s.v, s.seen)
}

func (s *minMaxIntState) load(d *snapshot.Decoder) {
	if v, seen, ok := loadMinMax[int64](d, kindMinMaxInt, s.config()); ok {
		s.v, s.seen = v, seen
	}
}

func (s *minMaxFloatState) save(e *snapshot.Encoder) {
	saveMinMax(e, kindMinMaxFloat, boolConfig(s.max, "max", "min"), s.v, s.seen)
}

func (s *minMaxFloatState) load(d *snapshot.Decoder) {
	if v, seen, ok := loadMinMax[float64](d, kindMinMaxFloat, boolConfig(s.max, "max", "min")); ok {
		s.v, s.seen = v, seen
	}
}

func (s *minMaxDecimalState) config() string {
	return fmt.Sprintf("%s %s", boolConfig(s.max, "max", "min"), s.t)
}

func (s *minMaxDecimalState) save(e *snapshot.Encoder) {
	saveMinMax(e, kindMinMaxDecimal, s.config(), s.v, s.seen)
}

func (s *minMaxDecimalState) load(d *snapshot.Decoder) {
	if v, seen, ok := loadMinMax[decimal128.Num](d, kindMinMaxDecimal, s.config()); ok {
		s.v, s.seen = v, seen
	}
}

func (s *minMaxStringState) save(e *snapshot.Encoder) {
	saveMinMax(e, kindMinMaxString, boolConfig(s.max, "max", "min"), s.v, s.seen)
}

func (s *minMaxStringState) load(d *snapshot.Decoder) {
	if v, seen, ok := loadMinMax[string](d, kindMinMaxString, boolConfig(s.max, "max", "min")); ok {
		s.v, s.seen = v, seen
	}
}

// MIN, MAX over BOOLEAN: which groups have a value, then the values as bits
// (false for the others).
func (s *minMaxBoolState) save(e *snapshot.Encoder) {
	putHeader(e, kindMinMaxBool, boolConfig(s.max, "max", "min"), len(s.v))
	putBits(e, s.seen)
	putBits(e, s.v)
}

func (s *minMaxBoolState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindMinMaxBool, boolConfig(s.max, "max", "min"), 2)
	seen := getBits(d, n)
	v := getBits(d, n)
	for g := range v {
		if d.Err() == nil && v[g] && !seen[g] {
			d.Fail("a MIN/MAX group without a value holds true")
		}
	}
	if d.Err() != nil {
		return
	}
	s.v, s.seen = v, seen
}

// --- DISTINCT, FIRST_VALUE, LAST_VALUE, TOP_K ---

// AGG(DISTINCT x): per group the number of keys, then the keys in order.
func (s *distinctState[K]) save(e *snapshot.Encoder) {
	putHeader(e, kindDistinct, s.codec.t.String(), len(s.seen))
	put := valueCodecOf[K]().put
	var keys []K
	for _, set := range s.seen {
		e.Uvarint(uint64(len(set)))
		keys = keys[:0]
		for k := range set {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			put(e, k)
		}
	}
}

func (s *distinctState[K]) load(d *snapshot.Decoder) {
	n := getHeader(d, kindDistinct, s.codec.t.String(), 8)
	get, valid := valueCodecOf[K]().get, keyCheck[K](s.codec)
	seen := make([]map[K]struct{}, 0, min(n, d.Remaining()))
	for range n {
		m := d.Count(1)
		var set map[K]struct{} // nil for a group without values, as addGroup leaves it
		if m > 0 {
			set = make(map[K]struct{}, m)
		}
		for range m {
			k := get(d)
			if d.Err() != nil {
				return
			}
			if !valid(k) || has(set, k) {
				d.Fail("bad or repeated %s key in a DISTINCT group", s.codec.t)
				return
			}
			set[k] = struct{}{}
		}
		if d.Err() != nil {
			return
		}
		seen = append(seen, set)
	}
	if d.Err() != nil {
		return
	}
	s.seen = seen
}

// FIRST_VALUE, LAST_VALUE: the next arrival number, which groups have a
// value, then the value, time and arrival number of those.
func (s *firstLastState[T]) config() string {
	return fmt.Sprintf("%s %s", boolConfig(s.last, "last_value", "first_value"), s.t)
}

func (s *firstLastState[T]) save(e *snapshot.Encoder) {
	putHeader(e, kindFirstLast, s.config(), len(s.v))
	e.Uvarint(s.next)
	putBits(e, s.seen)
	put := valueCodecOf[T]().put
	for g, v := range s.v {
		if s.seen[g] {
			put(e, v)
			e.Varint(s.at[g])
			e.Uvarint(s.seq[g])
		}
	}
}

func (s *firstLastState[T]) load(d *snapshot.Decoder) {
	n := getHeader(d, kindFirstLast, s.config(), 1)
	next := d.Uvarint()
	seen := getBits(d, n)
	if d.Err() != nil {
		return
	}
	get := valueCodecOf[T]().get
	v, at, seq := make([]T, n), make([]int64, n), make([]uint64, n)
	for g := range n {
		if !seen[g] {
			continue
		}
		v[g], at[g], seq[g] = get(d), d.Varint(), d.Uvarint()
		if d.Err() == nil && seq[g] >= next {
			d.Fail("arrival number %d is not below the next, %d", seq[g], next)
		}
		if d.Err() != nil {
			return
		}
	}
	pend := make([]int32, n)
	for g := range pend {
		pend[g] = -1
	}
	s.v, s.at, s.seq, s.seen, s.next, s.pend, s.touched = v, at, seq, seen, next, pend, nil
}

// TOP_K: per group the number of distinct values, then each value's key and
// count in the order the group met them.
func (s *topKState[K]) config() string { return fmt.Sprintf("top %d %s", s.k, s.codec.t) }

func (s *topKState[K]) save(e *snapshot.Encoder) {
	putHeader(e, kindTopK, s.config(), len(s.groups))
	put := valueCodecOf[K]().put
	for _, f := range s.groups {
		if f == nil {
			e.Uvarint(0)
			continue
		}
		e.Uvarint(uint64(len(f.keys)))
		for i, k := range f.keys {
			put(e, k)
			e.Uvarint(uint64(f.counts[i]))
		}
	}
}

func (s *topKState[K]) load(d *snapshot.Decoder) {
	n := getHeader(d, kindTopK, s.config(), 8)
	get, valid := valueCodecOf[K]().get, keyCheck[K](s.codec)
	groups := make([]*freqTable[K], 0, min(n, d.Remaining()))
	for range n {
		m := d.Count(2)
		if d.Err() != nil {
			return
		}
		var f *freqTable[K] // nil for a group without values, as addGroup leaves it
		if m > 0 {
			f = &freqTable[K]{index: make(map[K]int32, m), keys: make([]K, 0, m), counts: make([]int64, 0, m)}
		}
		for i := range m {
			k, c := get(d), getCount(d)
			if d.Err() != nil {
				return
			}
			if _, dup := f.index[k]; dup || !valid(k) || c == 0 {
				d.Fail("bad or repeated %s value in a TOP_K group", s.codec.t)
				return
			}
			f.index[k] = int32(i)
			f.keys, f.counts = append(f.keys, k), append(f.counts, c)
		}
		groups = append(groups, f)
	}
	if d.Err() != nil {
		return
	}
	s.groups = groups
}

// --- sketches and statistics ---

// APPROX_COUNT_DISTINCT: per group whether it has a sketch, then the sketch
// in the library's binary encoding (sparse or dense, as it is).
func (s *hllState) save(e *snapshot.Encoder) {
	putHeader(e, kindHLL, s.codec.t.String(), len(s.sketches))
	var buf []byte
	for _, sk := range s.sketches {
		e.Bool(sk != nil)
		if sk == nil {
			continue
		}
		var err error
		buf, err = sk.AppendBinary(buf[:0])
		if err != nil { // only for a sketch of no precision, which update never makes
			panic(fmt.Sprintf("exec: encoding a HyperLogLog sketch: %v", err))
		}
		e.Bytes(buf)
	}
}

func (s *hllState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindHLL, s.codec.t.String(), 8)
	sketches := make([]*hyperloglog.Sketch, 0, min(n, d.Remaining()))
	for range n {
		if !d.Bool() {
			sketches = append(sketches, nil)
			continue
		}
		b := d.Bytes()
		if d.Err() != nil {
			return
		}
		// Byte 1 of the encoding is the precision: sketches of another one
		// would not merge.
		if len(b) < 2 || b[1] != hllPrecision {
			d.Fail("HyperLogLog sketch not of precision %d", hllPrecision)
			return
		}
		sk := new(hyperloglog.Sketch)
		if err := sk.UnmarshalBinary(b); err != nil {
			d.Fail("HyperLogLog sketch: %v", err)
			return
		}
		sketches = append(sketches, sk)
	}
	if d.Err() != nil {
		return
	}
	s.sketches = sketches
}

// APPROX_PERCENTILE: the state of the digests' random source, then per group
// the counts of -Infinity, +Infinity and NaN, whether it has a digest, and
// either its exact values (in the order held) or the digest's centroids: their
// means (float64) and counts.
func (s *percentileState) config() string {
	return fmt.Sprintf("q %s scale %d", strconv.FormatFloat(s.q, 'g', -1, 64), s.scale)
}

func (s *percentileState) save(e *snapshot.Encoder) {
	putHeader(e, kindPercentile, s.config(), len(s.exact))
	rng, err := s.rng.pcg.MarshalBinary()
	if err != nil { // PCG.MarshalBinary never fails
		panic(fmt.Sprintf("exec: encoding a PCG: %v", err))
	}
	e.Bytes(rng)
	var means []float64
	for g := range s.exact {
		e.Uvarint(uint64(s.negInf[g]))
		e.Uvarint(uint64(s.posInf[g]))
		e.Uvarint(uint64(s.nan[g]))
		dg := s.digests[g]
		e.Bool(dg != nil)
		if dg == nil {
			e.Float64s(s.exact[g])
			continue
		}
		means = means[:0]
		dg.ForEachCentroid(func(mean float64, _ uint64) bool {
			means = append(means, mean)
			return true
		})
		e.Float64s(means)
		dg.ForEachCentroid(func(_ float64, count uint64) bool {
			e.Uvarint(count)
			return true
		})
	}
}

// load rebuilds each digest exactly. The library's own encoding (AsBytes,
// FromBytes) rounds the means to float32, and it has no other way in, so the
// centroids are added back one by one with AddWeighted, in order, to a digest
// whose random source never picks a merge candidate (appendRNG): each then
// becomes a centroid of its own, with its mean and count as saved. A digest
// never holds more than 20 x compression centroids (it compresses past that),
// so the rebuild never compresses. The rebuilt centroids are compared with the
// saved ones (so a change of the library's insertion shows as an error, not
// as different results) and copied by Merge, which clones them into an empty
// digest of the same compression, into a digest that uses the restored random
// source. Rebuilding costs O(c^2) for c centroids (AddWeighted sums the counts
// before its candidates): under 1 ms for 1,500 centroids (a digest holds at
// most 2,000).
//
// A centroid mean could only be NaN if the library's weighted average of two
// centroids of opposite signs overflowed (|mean| x count beyond MaxFloat64 on
// both sides; TestPercentileSnapshotExtremeValues did not make one): such a
// digest cannot be rebuilt, and load would report it as damage.
func (s *percentileState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindPercentile, s.config(), 8)
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(d.Bytes()); d.Err() == nil && err != nil {
		d.Fail("t-digest random source: %v", err)
	}
	if d.Err() != nil {
		return
	}
	rng := digestRNGOf(pcg)
	capN := min(n, d.Remaining())
	exact := make([][]float64, 0, capN)
	digests := make([]*tdigest.TDigest, 0, capN)
	negInf, posInf, nan := make([]int64, 0, capN), make([]int64, 0, capN), make([]int64, 0, capN)
	for range n {
		neg, pos, na := getCount(d), getCount(d), getCount(d)
		isDigest := d.Bool()
		if d.Err() != nil {
			return
		}
		var vals []float64
		var dg *tdigest.TDigest
		var finite int64
		if isDigest {
			dg = loadDigest(d, rng)
			if dg != nil {
				finite = int64(dg.Count())
			}
		} else {
			vals = d.Float64s()
			finite = int64(len(vals))
			if len(vals) > percentileExact {
				d.Fail("%d exact values, more than %d", len(vals), percentileExact)
			}
			for _, v := range vals {
				if d.Err() == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
					d.Fail("exact value %v is not finite", v)
				}
			}
			if len(vals) == 0 {
				vals = nil
			}
		}
		if d.Err() == nil && neg+pos+na+finite > maxCount {
			d.Fail("more than 2^53 values in a group")
		}
		if d.Err() != nil {
			return
		}
		exact, digests = append(exact, vals), append(digests, dg)
		negInf, posInf, nan = append(negInf, neg), append(posInf, pos), append(nan, na)
	}
	s.exact, s.digests, s.negInf, s.posInf, s.nan, s.rng = exact, digests, negInf, posInf, nan, rng
}

// loadDigest reads the centroids of one digest (see percentileState.load)
// and rebuilds it with random source rng; nil after a failure.
func loadDigest(d *snapshot.Decoder, rng tdigest.RNG) *tdigest.TDigest {
	means := d.Float64s()
	if d.Err() != nil {
		return nil
	}
	if len(means) == 0 || len(means) > 20*digestCompression {
		d.Fail("a t-digest of %d centroids", len(means))
		return nil
	}
	counts := make([]uint64, len(means))
	var total uint64
	for i := range counts {
		counts[i] = uint64(getCount(d))
		total += counts[i]
		switch {
		case d.Err() != nil:
			return nil
		case counts[i] == 0 || total > maxCount:
			d.Fail("t-digest centroid count %d (total %d)", counts[i], total)
		case math.IsNaN(means[i]) || math.IsInf(means[i], 0) || (i > 0 && means[i] < means[i-1]):
			d.Fail("t-digest centroid means not finite and ascending")
		}
		if d.Err() != nil {
			return nil
		}
	}
	rebuilt, _ := tdigest.New(tdigest.Compression(digestCompression), tdigest.RandomNumberGenerator(appendRNG{})) // valid options
	for i, m := range means {
		if err := rebuilt.AddWeighted(m, counts[i]); err != nil {
			d.Fail("t-digest: %v", err)
			return nil
		}
	}
	dg, _ := tdigest.New(tdigest.Compression(digestCompression), tdigest.RandomNumberGenerator(rng)) // valid options
	_ = dg.Merge(rebuilt)                                                                            // an empty digest clones the other's centroids
	i := 0
	dg.ForEachCentroid(func(m float64, c uint64) bool {
		if i >= len(means) || math.Float64bits(m) != math.Float64bits(means[i]) || c != counts[i] {
			i = -1
			return false
		}
		i++
		return true
	})
	if i != len(means) || dg.Count() != total {
		d.Fail("t-digest centroids did not rebuild exactly")
		return nil
	}
	return dg
}

// appendRNG is the random source of a t-digest being rebuilt: its Float32
// (1, outside [0, 1)) makes AddWeighted never pick a centroid to merge into.
type appendRNG struct{}

func (appendRNG) Float32() float32   { return 1 }
func (appendRNG) Intn(int) int       { return 0 }
func (appendRNG) Clone() tdigest.RNG { return appendRNG{} }

// VAR_*, STDDEV_*: the counts, then shift, mean and m2 of the groups with values.
func (s *varianceState) config() string {
	return fmt.Sprintf("samp %v sqrt %v scale %d", s.samp, s.sqrt, s.scale)
}

func (s *varianceState) save(e *snapshot.Encoder) {
	putHeader(e, kindVariance, s.config(), len(s.n))
	e.Int64s(s.n)
	for g, n := range s.n {
		if n > 0 {
			e.Float64(s.shift[g])
			e.Float64(s.mean[g])
			e.Float64(s.m2[g])
		}
	}
}

func (s *varianceState) load(d *snapshot.Decoder) {
	n := getHeader(d, kindVariance, s.config(), 8)
	counts := getCounts(d, n)
	if d.Err() != nil {
		return
	}
	shift, mean, m2 := make([]float64, n), make([]float64, n), make([]float64, n)
	for g, c := range counts {
		if c > 0 {
			shift[g], mean[g], m2[g] = d.Float64(), d.Float64(), d.Float64()
		}
	}
	if d.Err() != nil {
		return
	}
	s.n, s.shift, s.mean, s.m2 = counts, shift, mean, m2
}

// --- key stores: which keys are NULL, then the values of the others ---

// saveKeys writes a key store's keys.
func saveKeys[T any](e *snapshot.Encoder, kind uint64, config string, v []T, valid []bool) {
	saveMinMax(e, kind, config, v, valid) // the same layout
}

func loadKeys[T any](d *snapshot.Decoder, kind uint64, config string) (v []T, valid []bool, ok bool) {
	return loadMinMax[T](d, kind, config)
}

func (k *intKeys) save(e *snapshot.Encoder) {
	saveKeys(e, kindIntKeys, boolConfig(k.ts, "timestamp", "bigint"), k.v, k.valid)
}

func (k *intKeys) load(d *snapshot.Decoder) {
	if v, valid, ok := loadKeys[int64](d, kindIntKeys, boolConfig(k.ts, "timestamp", "bigint")); ok {
		k.v, k.valid = v, valid
	}
}

func (k *floatKeys) save(e *snapshot.Encoder) { saveKeys(e, kindFloatKeys, "", k.v, k.valid) }

func (k *floatKeys) load(d *snapshot.Decoder) {
	if v, valid, ok := loadKeys[float64](d, kindFloatKeys, ""); ok {
		k.v, k.valid = v, valid
	}
}

func (k *stringKeys) save(e *snapshot.Encoder) { saveKeys(e, kindStringKeys, "", k.v, k.valid) }

func (k *stringKeys) load(d *snapshot.Decoder) {
	if v, valid, ok := loadKeys[string](d, kindStringKeys, ""); ok {
		k.v, k.valid = v, valid
	}
}

func (k *decimalKeys) config() string {
	return fmt.Sprintf("decimal(%d,%d)", k.dt.Precision, k.dt.Scale)
}

func (k *decimalKeys) save(e *snapshot.Encoder) {
	saveKeys(e, kindDecimalKeys, k.config(), k.v, k.valid)
}

func (k *decimalKeys) load(d *snapshot.Decoder) {
	if v, valid, ok := loadKeys[decimal128.Num](d, kindDecimalKeys, k.config()); ok {
		k.v, k.valid = v, valid
	}
}

// BOOLEAN keys: which are NULL, then the values as bits (false for NULL).
func (k *boolKeys) save(e *snapshot.Encoder) {
	putHeader(e, kindBoolKeys, "", len(k.v))
	putBits(e, k.valid)
	putBits(e, k.v)
}

func (k *boolKeys) load(d *snapshot.Decoder) {
	n := getHeader(d, kindBoolKeys, "", 2)
	valid := getBits(d, n)
	v := getBits(d, n)
	for g := range v {
		if d.Err() == nil && v[g] && !valid[g] {
			d.Fail("a NULL BOOLEAN key holds true")
		}
	}
	if d.Err() != nil {
		return
	}
	k.v, k.valid = v, valid
}
