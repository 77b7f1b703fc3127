package exec

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/snapshot"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Tests of checkpointing aggregate states and key stores (aggstate_snapshot.go):
// for every aggregate newAggState accepts, a state fed generated rows (NULLs,
// repeats, overflowing sums, NaN, infinities, -0, ties in time, merged
// groups) is saved and loaded into a fresh state; both must build the same
// results bit for bit and keep doing so under the same further updates and
// merges. Damaged input (every truncation, every flipped byte, random bytes)
// must fail with snapshot.ErrCorrupt and never panic.

// snapAggFns are the aggregate functions (sql.Aggregate), snapArgTypes the
// argument types tried with each; newAggState decides which pairs exist.
var (
	snapAggFns = []string{"count_star", "count", "sum", "avg", "min", "max", "first_value", "last_value",
		"approx_count_distinct", "approx_percentile", "top_k", "stddev_pop", "stddev_samp", "var_pop", "var_samp"}
	snapArgTypes = []types.Type{types.BooleanType, types.BigIntType, types.DoubleType, types.DecimalType(10, 2),
		types.DecimalType(38, 4), types.VarcharType, types.TimestampType, types.JSONType, types.IntervalType}
)

// snapResultType is the result type the binder gives fn over t (sql.Aggregate).
func snapResultType(fn string, t types.Type) types.Type {
	switch fn {
	case "count", "count_star", "approx_count_distinct":
		return types.BigIntType
	case "sum":
		if t.Kind == types.Decimal {
			return types.DecimalType(types.MaxDecimalPrecision, t.Scale)
		}
		return t
	case "avg":
		if t.Kind == types.Decimal {
			return types.DecimalType(types.MaxDecimalPrecision, max(t.Scale, 6))
		}
		return types.DoubleType
	case "stddev_pop", "stddev_samp", "var_pop", "var_samp", "approx_percentile":
		return types.DoubleType
	case "top_k":
		return types.JSONType
	}
	return t
}

type snapCase struct {
	name string
	a    planner.Aggregate
	argT types.Type // of the column fed (BIGINT for COUNT(*), which ignores it)
	mk   func() aggState
}

// snapCases is every aggregate newAggState accepts over snapArgTypes, with
// and without DISTINCT (those it accepts), APPROX_PERCENTILE at three
// percentiles and TOP_K at k = 1 and 3.
func snapCases(t testing.TB) []snapCase {
	var out []snapCase
	for _, fn := range snapAggFns {
		params := []float64{0}
		switch fn {
		case "approx_percentile":
			params = []float64{0, 0.5, 0.99}
		case "top_k":
			params = []float64{1, 3}
		}
		argTypes := snapArgTypes
		if fn == "count_star" {
			argTypes = []types.Type{types.BigIntType}
		}
		for _, argT := range argTypes {
			for _, distinct := range []bool{false, true} {
				for _, p := range params {
					a := planner.Aggregate{Fn: fn, Distinct: distinct, Param: p, T: snapResultType(fn, argT)}
					if fn != "count_star" {
						a.Arg = &expr.Column{Name: "x", T: argT}
					}
					mk, err := newAggState(a)
					if err != nil {
						continue
					}
					name := fn
					if distinct {
						name += "_distinct"
					}
					if fn != "count_star" {
						name += "/" + strings.NewReplacer("(", "", ")", "", ",", "_").Replace(argT.String())
					}
					if fn == "approx_percentile" || fn == "top_k" {
						name += fmt.Sprintf("/%v", p)
					}
					out = append(out, snapCase{name: name, a: a, argT: argT, mk: mk})
				}
			}
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d aggregate states to test", len(out))
	}
	return out
}

// Every state newAggState makes and every key store newKeyStore makes can be
// checkpointed.
func TestAggStateSnapshotCoverage(t *testing.T) {
	n := 0
	for _, fn := range snapAggFns {
		for _, argT := range append([]types.Type{types.NullType}, snapArgTypes...) {
			for _, distinct := range []bool{false, true} {
				for _, p := range []float64{0, 0.5, 1, 3} {
					a := planner.Aggregate{Fn: fn, Distinct: distinct, Param: p, T: snapResultType(fn, argT)}
					if argT.Kind != types.Null {
						a.Arg = &expr.Column{Name: "x", T: argT}
					}
					mk, err := newAggState(a)
					if err != nil {
						continue
					}
					n++
					if s, ok := mk().(snapshotter); !ok {
						t.Errorf("%s(DISTINCT %v) over %s: %T cannot be checkpointed", fn, distinct, argT, s)
					}
				}
			}
		}
	}
	t.Logf("%d aggregate, argument type and parameter combinations checked", n)
	for _, typ := range append([]types.Type{types.NullType}, snapArgTypes...) {
		mk, err := newKeyStore(typ)
		if err != nil {
			continue
		}
		if s, ok := mk().(snapshotter); !ok {
			t.Errorf("the key store of %s, %T, cannot be checkpointed", typ, s)
		}
	}
}

// snapGen generates argument values of one type: NULLs, repeated values,
// extremes that overflow sums, and the special doubles.
type snapGen struct {
	rng  *rand.Rand
	typ  types.Type
	wide bool // mostly distinct values
}

var (
	snapStrings = []string{"", "a", "b", "ab", "é", "日本", "x\"y", strings.Repeat("z", 300), "\x00", "\xff"}
	snapJSON    = []string{`{"a":1}`, `[1,2]`, `"s"`, `null`, `not json`, ` {"b": [true]} `, ``}
)

// snapDecimalLimits[p] is 10^p.
var snapDecimalLimits = func() map[int32]*big.Int {
	m := map[int32]*big.Int{}
	for p := range int32(types.MaxDecimalPrecision + 1) {
		m[p] = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	}
	return m
}()

func (g snapGen) value() any {
	r := g.rng
	if r.IntN(7) == 0 {
		return nil
	}
	pick := r.IntN(10)
	if g.wide {
		pick = 9
	}
	switch g.typ.Kind {
	case types.Boolean:
		return r.IntN(2) == 0
	case types.BigInt, types.Interval, types.Timestamp:
		switch {
		case pick < 6:
			return r.Int64N(20) - 10
		case pick < 8:
			if r.IntN(2) == 0 {
				return math.MaxInt64 - r.Int64N(1000)
			}
			return math.MinInt64 + r.Int64N(1000)
		}
		return r.Int64()
	case types.Double:
		switch pick {
		case 0, 1, 2:
			return float64(r.IntN(20) - 10)
		case 3:
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 5e-324}[r.IntN(6)]
		case 4:
			return math.MaxFloat64 * (r.Float64()*2 - 1)
		}
		return r.NormFloat64() * 1e3
	case types.Decimal:
		limit := snapDecimalLimits[g.typ.Precision]
		var v *big.Int
		switch {
		case pick < 6:
			v = big.NewInt(r.Int64N(2001) - 1000)
		case pick < 8: // near the largest value
			v = new(big.Int).Sub(limit, big.NewInt(1+r.Int64N(1000)))
			if r.IntN(2) == 0 {
				v.Neg(v)
			}
		default:
			v = new(big.Int).Lsh(new(big.Int).SetUint64(r.Uint64()), 64)
			v.Or(v, new(big.Int).SetUint64(r.Uint64()))
			v.Mod(v, limit)
			if r.IntN(2) == 0 {
				v.Neg(v)
			}
		}
		return decimal128.FromBigInt(v)
	case types.Varchar:
		if pick < 8 {
			return snapStrings[r.IntN(len(snapStrings))]
		}
		return fmt.Sprintf("s%d", r.Int64())
	case types.JSON:
		if pick < 8 {
			return snapJSON[r.IntN(len(snapJSON))]
		}
		return fmt.Sprintf(`{"n":%d}`, r.Int64())
	}
	panic(fmt.Sprintf("snapGen: %s", g.typ))
}

// snapColumn builds a column of typ from values (nil is NULL; DECIMAL as
// decimal128.Num).
func snapColumn(mem memory.Allocator, typ types.Type, vals []any) arrow.Array {
	b := array.NewBuilder(mem, typ.Arrow())
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch bb := b.(type) {
		case *array.Int64Builder:
			bb.Append(v.(int64))
		case *array.TimestampBuilder:
			bb.Append(arrow.Timestamp(v.(int64)))
		case *array.Float64Builder:
			bb.Append(v.(float64))
		case *array.Decimal128Builder:
			bb.Append(v.(decimal128.Num))
		case *array.StringBuilder:
			bb.Append(v.(string))
		case *array.BooleanBuilder:
			bb.Append(v.(bool))
		default:
			panic(fmt.Sprintf("snapColumn: builder %T", b))
		}
	}
	return b.NewArray()
}

// snapBatch is one update: a column, event times and target groups.
type snapBatch struct {
	arr   arrow.Array
	times []int64
	rows  []int32
	gids  []int32
}

func (g snapGen) batch(mem memory.Allocator, n, groups int) snapBatch {
	vals := make([]any, n)
	b := snapBatch{times: make([]int64, n), rows: make([]int32, n), gids: make([]int32, n)}
	for i := range vals {
		vals[i] = g.value()
		b.times[i] = g.rng.Int64N(40) // many ties
		b.rows[i] = int32(i)
		b.gids[i] = int32(g.rng.IntN(groups))
	}
	b.arr = snapColumn(mem, g.typ, vals)
	return b
}

// apply updates every state with the batch, then releases it.
func (b snapBatch) apply(states ...aggState) {
	defer b.arr.Release()
	for _, s := range states {
		s.update(b.arr, b.times, b.rows, b.gids)
	}
}

// snapSameArrays says how x and y differ: their types, lengths, validity, values
// (doubles by their bits).
func snapSameArrays(x, y arrow.Array) error {
	if !arrow.TypeEqual(x.DataType(), y.DataType()) || x.Len() != y.Len() {
		return fmt.Errorf("%s[%d] vs %s[%d]", x.DataType(), x.Len(), y.DataType(), y.Len())
	}
	for i := range x.Len() {
		switch {
		case x.IsNull(i) != y.IsNull(i):
			return fmt.Errorf("row %d: NULL %v vs %v", i, x.IsNull(i), y.IsNull(i))
		case x.IsNull(i):
		case x.DataType().ID() == arrow.FLOAT64:
			a, b := x.(*array.Float64).Value(i), y.(*array.Float64).Value(i)
			if math.Float64bits(a) != math.Float64bits(b) {
				return fmt.Errorf("row %d: %v vs %v", i, a, b)
			}
		case x.ValueStr(i) != y.ValueStr(i):
			return fmt.Errorf("row %d: %s vs %s", i, x.ValueStr(i), y.ValueStr(i))
		}
	}
	return nil
}

// snapSameBuild builds a and b and fails unless the results and error messages
// are identical.
func snapSameBuild(t *testing.T, mem memory.Allocator, what string, a, b aggState) {
	t.Helper()
	x, xerrs := a.build(mem)
	defer x.Release()
	y, yerrs := b.build(mem)
	defer y.Release()
	if err := snapSameArrays(x, y); err != nil {
		t.Fatalf("%s: results differ: %v", what, err)
	}
	if !slices.Equal(xerrs, yerrs) {
		t.Fatalf("%s: errors %q vs %q", what, xerrs, yerrs)
	}
}

func snapSave(s any) []byte {
	var e snapshot.Encoder
	s.(snapshotter).save(&e)
	return e.Data()
}

// snapLoad loads data into s and returns Decoder.End's error.
func snapLoad(s any, data []byte) error {
	d := snapshot.NewDecoder(data)
	s.(snapshotter).load(d)
	return d.End()
}

func snapSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// canonicalSave says whether saving a restored state of c gives the saved bytes.
func (c snapCase) canonicalSave() bool { return c.a.Fn != "approx_count_distinct" }

// fill makes a state of c with groups groups fed rounds batches of n rows,
// with merges if it is mergeable (from other groups, itself and a second state).
func (c snapCase) fill(mem memory.Allocator, rng *rand.Rand, groups, rounds, n int, wide bool) aggState {
	gen := snapGen{rng: rng, typ: c.argT, wide: wide}
	s, other := c.mk(), c.mk()
	for range groups {
		s.addGroup()
		other.addGroup()
	}
	for range rounds {
		gen.batch(mem, n, groups).apply(s)
		gen.batch(mem, n, groups).apply(other)
	}
	if m, ok := s.(mergeableState); ok {
		for range 3 {
			m.mergeFrom(int32(rng.IntN(groups)), other, int32(rng.IntN(groups)))
			m.mergeFrom(int32(rng.IntN(groups)), s, int32(rng.IntN(groups)))
		}
	}
	return s
}

// snapQuick says to try fewer seeds and damaged positions: under the race
// detector (see oracleEvents), which makes these tests ~10x slower, and -short.
func snapQuick() bool { return oracleEvents < 100_000 || testing.Short() }

func TestAggStateSnapshotRoundTrip(t *testing.T) {
	seeds := []int{0, 1, 2}
	if snapQuick() {
		seeds = []int{0, 2}
	}
	for _, c := range snapCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for _, seed := range seeds {
				mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
				rng := rand.New(rand.NewPCG(snapSeed(c.name), uint64(seed)))
				// Seeds 0, 1: up to 40 groups, some never updated; seed 2: a few
				// groups of thousands of mostly distinct values (t-digests;
				// TestHLLSnapshotDense has dense sketches).
				groups, rounds, n, wide := 1+rng.IntN(40), 3, 200, false
				switch {
				case seed == 2 && snapQuick():
					groups, rounds, n, wide = 2, 2, 1500, true // still > percentileExact values a group
				case seed == 2:
					groups, rounds, n, wide = 3, 3, 3000, true
				}
				snapRoundTrip(t, c, mem, rng, groups, rounds, n, wide)
				mem.AssertSize(t, 0)
			}
		})
	}
}

func snapRoundTrip(t *testing.T, c snapCase, mem memory.Allocator, rng *rand.Rand, groups, rounds, n int, wide bool) {
	a := c.fill(mem, rng, groups, rounds, n, wide)
	data := snapSave(a)
	b := c.mk()
	if err := snapLoad(b, data); err != nil {
		t.Fatalf("load: %v", err)
	}
	if c.canonicalSave() {
		if again := snapSave(b); !bytes.Equal(again, data) {
			t.Fatalf("the restored state saves %d bytes unlike the %d saved", len(again), len(data))
		}
	}
	snapSameBuild(t, mem, "restored", a, b)

	// The same further updates and merges keep them equal: restored and
	// uninterrupted runs give the same results.
	gen := snapGen{rng: rng, typ: c.argT, wide: wide}
	other := c.mk()
	for range groups + 2 {
		other.addGroup()
	}
	n = min(n, 1000)
	gen.batch(mem, n, groups+2).apply(other)
	for round := range 3 {
		a.addGroup()
		b.addGroup()
		groups++
		gen.batch(mem, n, groups).apply(a, b)
		if ma, ok := a.(mergeableState); ok {
			mb := b.(mergeableState)
			for range 2 {
				dst, src := int32(rng.IntN(groups)), int32(rng.IntN(groups))
				ma.mergeFrom(dst, a, src)
				mb.mergeFrom(dst, b, src)
				dst, src = int32(rng.IntN(groups)), int32(rng.IntN(groups-1))
				ma.mergeFrom(dst, other, src)
				mb.mergeFrom(dst, other, src)
			}
		}
		snapSameBuild(t, mem, fmt.Sprintf("round %d", round), a, b)
	}
	if _, ok := a.(mergeableState); ok {
		// The restored state as a merge source.
		fa, fb := c.mk().(mergeableState), c.mk().(mergeableState)
		fa.addGroup()
		fb.addGroup()
		for src := range groups {
			fa.mergeFrom(0, a, int32(src))
			fb.mergeFrom(0, b, int32(src))
		}
		snapSameBuild(t, mem, "all groups merged", fa, fb)
	}
	if c.canonicalSave() && !bytes.Equal(snapSave(a), snapSave(b)) {
		t.Fatal("after the same updates the states save different bytes")
	}
	// A save after those updates restores as well.
	b2 := c.mk()
	if err := snapLoad(b2, snapSave(b)); err != nil {
		t.Fatalf("second load: %v", err)
	}
	snapSameBuild(t, mem, "restored twice", a, b2)
}

// A restored APPROX_PERCENTILE answers exactly as the uninterrupted state,
// also once its groups have turned into t-digests that keep compressing and
// merging after the restore (the digests' random source is restored too).
func TestPercentileSnapshotExact(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	mk := func() aggState { return newPercentileState(types.DoubleType, 0.9) }
	rng := rand.New(rand.NewPCG(11, 11))
	gen := snapGen{rng: rng, typ: types.DoubleType, wide: true}
	a := mk()
	for range 4 {
		a.addGroup()
	}
	for range 10 {
		gen.batch(mem, 5000, 4).apply(a)
	}
	ps := a.(*percentileState)
	for g, d := range ps.digests {
		if d == nil {
			t.Fatalf("group %d has no digest", g)
		}
	}
	b := mk()
	if err := snapLoad(b, snapSave(a)); err != nil {
		t.Fatal(err)
	}
	for round := range 20 { // past several compressions
		gen.batch(mem, 5000, 4).apply(a, b)
		a.(mergeableState).mergeFrom(int32(round%4), a, int32((round+1)%4))
		b.(mergeableState).mergeFrom(int32(round%4), b, int32((round+1)%4))
		snapSameBuild(t, mem, fmt.Sprintf("round %d", round), a, b)
	}
}

// Overflowed sums stay overflowed, with their messages, after a restore; and
// AVG over DECIMAL(38, 4), whose DECIMAL(38, 6) result may not fit, reports
// overflow rather than panicking.
func TestSnapshotKeepsOverflow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dt := types.DecimalType(38, 4)
	big38 := "9999999999999999999999999999999999.0000" // 38 digits
	for _, tc := range []struct {
		a    planner.Aggregate
		vals []any
		want []string // build's errors
	}{
		{agg("sum", types.BigIntType, 0, types.BigIntType), []any{int64(math.MaxInt64), int64(1), int64(5)}, []string{"SUM: BIGINT overflow"}},
		{agg("avg", types.BigIntType, 0, types.DoubleType), []any{int64(math.MinInt64), int64(-1), int64(5)}, []string{"AVG: the sum of the BIGINT values overflowed"}},
		{agg("sum", dt, 0, types.DecimalType(38, 4)), []any{big38, big38, "1.0000"}, []string{"SUM: DECIMAL overflow"}},
		{agg("avg", dt, 0, types.DecimalType(38, 6)), []any{big38, nil, "1.0000"}, []string{"AVG: DECIMAL overflow"}},
	} {
		t.Run(tc.a.Fn+"/"+tc.a.Arg.Type().String(), func(t *testing.T) {
			fx := newFixture(t, tc.a, 2)
			fx.feed(column(t, fx.mem, tc.a.Arg.Type(), tc.vals...), gidsOf(0, 0, 1), nil)
			b := fx.state
			restored, err := newAggState(tc.a)
			if err != nil {
				t.Fatal(err)
			}
			r := restored()
			if err := snapLoad(r, snapSave(b)); err != nil {
				t.Fatal(err)
			}
			for _, s := range []aggState{b, r} {
				arr, errs := s.build(mem)
				if !arr.IsNull(0) || arr.IsNull(1) || !slices.Equal(errs, tc.want) {
					t.Errorf("%s: got %v with errors %q, want [NULL, 5 or 1] and %q", tc.a.Fn, arr, errs, tc.want)
				}
				arr.Release()
			}
		})
	}
}

// A sketch that turned dense restores exactly, and keeps counting the same.
func TestHLLSnapshotDense(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	mk := func() aggState { return newHLLState(types.VarcharType) }
	gen := snapGen{rng: rand.New(rand.NewPCG(16, 16)), typ: types.VarcharType, wide: true}
	a := mk()
	a.addGroup()
	a.addGroup()
	for range 4 {
		gen.batch(mem, 10_000, 2).apply(a)
	}
	for g, sk := range a.(*hllState).sketches {
		if enc, _ := sk.MarshalBinary(); enc[3] != 0 { // byte 3: 1 sparse, 0 dense
			t.Fatalf("group %d is still sparse", g)
		}
	}
	b := mk()
	if err := snapLoad(b, snapSave(a)); err != nil {
		t.Fatal(err)
	}
	snapSameBuild(t, mem, "dense", a, b)
	gen.batch(mem, 10_000, 2).apply(a, b)
	a.(mergeableState).mergeFrom(0, a, 1)
	b.(mergeableState).mergeFrom(0, b, 1)
	snapSameBuild(t, mem, "updated", a, b)
}

// Values near both ends of the double range in one digest: either the state
// round-trips exactly or load reports damage (a NaN centroid mean, see
// percentileState.load); it never panics.
func TestPercentileSnapshotExtremeValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(12, 12))
	for _, mag := range []float64{math.MaxFloat64, 8e307, 1e306, -math.MaxFloat64, -1e306} {
		// mag > 0: values near ±mag; mag < 0: uniform in [mag, -mag].
		label := fmt.Sprintf("near ±%g", mag)
		if mag < 0 {
			label = fmt.Sprintf("uniform in ±%g", -mag)
		}
		a := newPercentileState(types.DoubleType, 0.5)
		a.addGroup()
		for range 10 {
			vals := make([]any, 3000)
			for i := range vals {
				v := mag * (1 - rng.Float64()*1e-3)
				if mag < 0 {
					v = mag * (2*rng.Float64() - 1)
				} else if rng.IntN(2) == 0 {
					v = -v
				}
				vals[i] = v
			}
			b := snapBatch{arr: snapColumn(mem, types.DoubleType, vals), times: make([]int64, 3000), rows: make([]int32, 3000), gids: make([]int32, 3000)}
			for i := range b.rows {
				b.rows[i] = int32(i)
			}
			b.apply(a)
		}
		nanMeans, centroids := 0, 0
		a.digests[0].ForEachCentroid(func(m float64, _ uint64) bool {
			centroids++
			if math.IsNaN(m) {
				nanMeans++
			}
			return true
		})
		b := newPercentileState(types.DoubleType, 0.5)
		err := snapLoad(b, snapSave(a))
		switch {
		case nanMeans == 0 && err != nil:
			t.Fatalf("%s: load: %v", label, err)
		case nanMeans == 0:
			snapSameBuild(t, mem, "extreme values", a, b)
		case !errors.Is(err, snapshot.ErrCorrupt):
			t.Fatalf("%s: a digest with %d NaN means loaded with error %v", label, nanMeans, err)
		}
		t.Logf("%s: %d centroids, %d of them NaN; load: %v", label, centroids, nanMeans, err)
	}
}

// Every truncation of a saved state fails with ErrCorrupt, without a panic,
// and leaves the receiver as it was.
func TestAggStateSnapshotTruncated(t *testing.T) {
	for _, c := range snapCases(t) {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(snapSeed(c.name), 99))
			for _, size := range []struct{ groups, n int }{{5, 40}, {2, 1500}} {
				data := snapSave(c.fill(mem, rng, size.groups, 2, size.n, size.n > 1000))
				for _, l := range snapPositions(rng, len(data), 64) {
					snapCheckCorrupt(t, c.mk, data[:l], fmt.Sprintf("%d of %d bytes", l, len(data)))
				}
			}
		})
	}
}

// snapPositions are the positions of n bytes that the damage tests try:
// each of the first 256 (headers, first groups; 64 if snapQuick) and the
// last, and extra others (a quarter if snapQuick).
func snapPositions(rng *rand.Rand, n, extra int) []int {
	head := 256
	if snapQuick() {
		head, extra = 64, extra/4
	}
	if n <= head+extra {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, head+extra+1)
	for i := range head {
		out = append(out, i)
	}
	for range extra {
		out = append(out, head+rng.IntN(n-head))
	}
	return append(out, n-1)
}

// snapCheckCorrupt loads data, which must fail with ErrCorrupt, into a fresh
// state of mk with one group, which must keep its one group.
func snapCheckCorrupt(t *testing.T, mk func() aggState, data []byte, what string) {
	t.Helper()
	s := mk()
	s.addGroup()
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s: load panicked: %v", what, p)
			}
		}()
		err = snapLoad(s, data)
	}()
	if !errors.Is(err, snapshot.ErrCorrupt) {
		t.Fatalf("%s: load gave %v, not ErrCorrupt", what, err)
	}
	arr, _ := s.build(memory.DefaultAllocator)
	defer arr.Release()
	if arr.Len() != 1 {
		t.Fatalf("%s: a failed load changed the receiver to %d groups", what, arr.Len())
	}
}

// family is what a state of c holds: AGG(DISTINCT x) holds x's distinct
// values whatever AGG is (but COUNT), and DISTINCT does not change MIN, MAX,
// FIRST_VALUE and LAST_VALUE.
func (c snapCase) family() string {
	switch {
	case c.a.Distinct && c.a.Fn == "count":
		return "count_distinct"
	case c.a.Distinct && !slices.Contains([]string{"min", "max", "first_value", "last_value"}, c.a.Fn):
		return "distinct"
	}
	return c.a.Fn
}

// A state of another aggregate, or of the same one over DECIMALs of another
// scale, does not load; where the saved content means the same to the
// receiver (COUNT(x) of any x, APPROX_PERCENTILE over BIGINT or DOUBLE, which
// holds doubles) it may, and then the state works.
func TestAggStateSnapshotMismatch(t *testing.T) {
	cases := snapCases(t)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(13, 13))
	saved := make([][]byte, len(cases))
	for i, c := range cases {
		saved[i] = snapSave(c.fill(mem, rng, 3, 1, 30, false))
	}
	loaded := 0
	for i, c := range cases {
		for j, o := range cases {
			if i == j {
				continue
			}
			decimals := c.argT != o.argT && (c.argT.Kind == types.Decimal || o.argT.Kind == types.Decimal)
			mustFail := c.family() != o.family() || (decimals && c.a.Fn != "count")
			err := snapLoad(c.mk(), saved[j])
			switch {
			case err != nil && !errors.Is(err, snapshot.ErrCorrupt):
				t.Errorf("%s into %s: %v", o.name, c.name, err)
			case err == nil && mustFail:
				t.Errorf("a state of %s loaded into %s", o.name, c.name)
			case err == nil:
				loaded++
				snapExercise(t, c, mem, saved[j])
			}
		}
	}
	t.Logf("%d of %d pairs of different aggregates load", loaded, len(cases)*(len(cases)-1))
}

// Flipping any byte of a saved state either fails with ErrCorrupt or gives
// a state that builds, updates, merges and saves without a panic.
func TestAggStateSnapshotFlippedBytes(t *testing.T) {
	for _, c := range snapCases(t) {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(snapSeed(c.name), 7))
			data := snapSave(c.fill(memory.DefaultAllocator, rng, 4, 2, 30, false))
			for _, i := range snapPositions(rng, len(data), 128) {
				for _, x := range []byte{0xff, byte(1 + rng.IntN(255))} {
					bad := slices.Clone(data)
					bad[i] ^= x
					snapExercise(t, c, memory.DefaultAllocator, bad)
				}
			}
		})
	}
}

// snapExercise loads data into a fresh state of c; if that succeeds the state
// must work: build, add a group, update every group, merge, and round-trip.
func snapExercise(t testing.TB, c snapCase, mem memory.Allocator, data []byte) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s: %x: panic: %v", c.name, data, p)
		}
	}()
	s := c.mk()
	err := snapLoad(s, data)
	if err != nil {
		if !errors.Is(err, snapshot.ErrCorrupt) {
			t.Fatalf("%s: error %v does not wrap ErrCorrupt", c.name, err)
		}
		return
	}
	arr, _ := s.build(mem)
	groups := arr.Len()
	arr.Release()
	s.addGroup()
	groups++
	gen := snapGen{rng: rand.New(rand.NewPCG(1, 2)), typ: c.argT}
	gen.batch(mem, 50, groups).apply(s)
	if m, ok := s.(mergeableState); ok {
		m.mergeFrom(0, s, int32(groups-1))
		m.mergeFrom(int32(groups-1), s, 0)
	}
	again := c.mk()
	if err := snapLoad(again, snapSave(s)); err != nil {
		t.Fatalf("%s: a loaded state saved what it cannot load: %v", c.name, err)
	}
	x, _ := s.build(mem)
	defer x.Release()
	y, _ := again.build(mem)
	defer y.Release()
	if err := snapSameArrays(x, y); err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
}

// snapFuzzKinds are the states FuzzAggStateLoad loads into.
func snapFuzzKinds(t testing.TB) []snapCase {
	want := []string{"count", "sum/DECIMAL38_4", "avg/DOUBLE", "max/VARCHAR", "min/BOOLEAN", "sum_distinct/BIGINT",
		"avg_distinct/DECIMAL10_2", "count_distinct/VARCHAR", "first_value/DECIMAL10_2", "last_value/VARCHAR",
		"approx_count_distinct/VARCHAR", "approx_percentile/DOUBLE/0.5", "top_k/BIGINT/3", "top_k/BOOLEAN/3",
		"var_samp/DOUBLE"}
	var out []snapCase
	for _, c := range snapCases(t) {
		if slices.Contains(want, c.name) || c.name == "count/BIGINT" {
			out = append(out, c)
		}
	}
	if len(out) != len(want) {
		t.Fatalf("snapFuzzKinds: found %d of %d", len(out), len(want))
	}
	return out
}

// FuzzAggStateLoad loads random bytes into states of a few kinds: they must
// fail with ErrCorrupt or give a working state (snapExercise). The seeds are
// real saved states, so mutations reach past the header.
//
//	go test ./exec -run '^$' -fuzz FuzzAggStateLoad -fuzztime 1m
func FuzzAggStateLoad(f *testing.F) {
	kinds := snapFuzzKinds(f)
	rng := rand.New(rand.NewPCG(14, 14))
	for i, c := range kinds {
		for _, size := range []struct{ groups, n int }{{1, 5}, {3, 40}} {
			f.Add(uint8(i), snapSave(c.fill(memory.DefaultAllocator, rng, size.groups, 1, size.n, false)))
		}
	}
	f.Add(uint8(0), []byte{})
	f.Add(uint8(0), []byte{1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		snapExercise(t, kinds[int(kind)%len(kinds)], memory.DefaultAllocator, data)
	})
}

// --- key stores ---

// snapKeyTypes are the GROUP BY types with a key store.
var snapKeyTypes = []types.Type{types.BooleanType, types.BigIntType, types.IntervalType, types.TimestampType,
	types.DoubleType, types.DecimalType(12, 3), types.VarcharType, types.JSONType}

// snapKeyColumn makes n keys of typ: NULLs, repeats, and for DOUBLE NaN, -0 and
// infinities (whose bits the store keeps).
func snapKeyColumn(mem memory.Allocator, rng *rand.Rand, typ types.Type, n int) arrow.Array {
	gen := snapGen{rng: rng, typ: typ}
	vals := make([]any, n)
	for i := range vals {
		vals[i] = gen.value()
		if typ.Kind == types.Decimal && vals[i] != nil {
			v := vals[i].(decimal128.Num)
			if !v.FitsInPrecision(typ.Precision) {
				vals[i] = decimal128.FromI64(rng.Int64N(1e9))
			}
		}
	}
	return snapColumn(mem, typ, vals)
}

func snapBuildKeys(mem memory.Allocator, k keyStore) arrow.Array { return k.build(mem) }

func TestKeyStoreSnapshotRoundTrip(t *testing.T) {
	for _, typ := range snapKeyTypes {
		t.Run(typ.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			mk, err := newKeyStore(typ)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(snapSeed(typ.String()), 1))
			a := mk()
			arr := snapKeyColumn(mem, rng, typ, 80)
			defer arr.Release()
			for i := range arr.Len() {
				a.add(arr, i)
			}
			data := snapSave(a)
			b := mk()
			if err := snapLoad(b, data); err != nil {
				t.Fatal(err)
			}
			if again := snapSave(b); !bytes.Equal(again, data) {
				t.Fatal("the restored store saves other bytes")
			}
			check := func(what string, a, b keyStore) {
				t.Helper()
				x, y := snapBuildKeys(mem, a), snapBuildKeys(mem, b)
				defer x.Release()
				defer y.Release()
				if err := snapSameArrays(x, y); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				n := int32(x.Len())
				for g := range n {
					for h := range n {
						if a.compare(g, h) != b.compare(g, h) {
							t.Fatalf("%s: compare(%d, %d) differs", what, g, h)
						}
					}
					for row := range arr.Len() {
						if a.equal(arr, row, g) != b.equal(arr, row, g) {
							t.Fatalf("%s: equal(row %d, group %d) differs", what, row, g)
						}
					}
				}
			}
			check("restored", a, b)
			more := snapKeyColumn(mem, rng, typ, 30)
			defer more.Release()
			for i := range more.Len() {
				a.add(more, i)
				b.add(more, i)
			}
			check("more keys", a, b)
			ca, cb := mk(), mk()
			for g := range int32(110) {
				if g%3 != 0 {
					a.copyTo(ca, g)
					b.copyTo(cb, g)
				}
			}
			check("copied", ca, cb)

			for l := range len(data) {
				k := mk()
				d := snapshot.NewDecoder(data[:l])
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("%d of %d bytes: panic %v", l, len(data), p)
						}
					}()
					k.(snapshotter).load(d)
				}()
				if err := d.End(); !errors.Is(err, snapshot.ErrCorrupt) {
					t.Fatalf("%d of %d bytes: %v", l, len(data), err)
				}
				if x := snapBuildKeys(mem, k); x.Len() != 0 {
					x.Release()
					t.Fatalf("%d of %d bytes: a failed load changed the store", l, len(data))
				} else {
					x.Release()
				}
			}
			for i := range data {
				bad := slices.Clone(data)
				bad[i] ^= 0xff
				k := mk()
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("byte %d flipped: panic %v", i, p)
						}
					}()
					if err := snapLoad(k, bad); err == nil {
						x := snapBuildKeys(mem, k)
						for g := range int32(x.Len()) {
							k.compare(g, 0)
							k.equal(arr, 0, g)
						}
						x.Release()
					} else if !errors.Is(err, snapshot.ErrCorrupt) {
						t.Fatalf("byte %d flipped: %v", i, err)
					}
				}()
			}
		})
	}
}

// --- benchmark ---

// BenchmarkAggStateSnapshot saves and loads (one op: both) the state of one
// aggregate with 1,000,000 groups (3,000,000 rows fed: BIGINT in [0, 10,000),
// DOUBLE uniform in [0, 200)), as a checkpoint of a window of a million keys
// would; bytes/group is the size of the saved state per group.
//
//	go test ./exec -run '^$' -bench BenchmarkAggStateSnapshot -benchmem
func BenchmarkAggStateSnapshot(b *testing.B) {
	const groups, rows = 1_000_000, 3_000_000
	rng := rand.New(rand.NewPCG(15, 15))
	ints, floats := array.NewInt64Builder(memory.DefaultAllocator), array.NewFloat64Builder(memory.DefaultAllocator)
	rowIDs, gids := make([]int32, rows), make([]int32, rows)
	for i := range rows {
		ints.Append(rng.Int64N(10_000))
		floats.Append(rng.Float64() * 200)
		rowIDs[i], gids[i] = int32(i), int32(rng.IntN(groups))
	}
	intArr, floatArr := ints.NewArray(), floats.NewArray()
	defer intArr.Release()
	defer floatArr.Release()
	ints.Release()
	floats.Release()
	bigint := &expr.Column{Name: "v", T: types.BigIntType}
	double := &expr.Column{Name: "d", T: types.DoubleType}
	for _, c := range []struct {
		name string
		a    planner.Aggregate
		arg  arrow.Array
	}{
		{"count_star", planner.Aggregate{Fn: "count_star", T: types.BigIntType}, intArr},
		{"sum_bigint", planner.Aggregate{Fn: "sum", Arg: bigint, T: types.BigIntType}, intArr},
		{"avg_double", planner.Aggregate{Fn: "avg", Arg: double, T: types.DoubleType}, floatArr},
		{"max_bigint", planner.Aggregate{Fn: "max", Arg: bigint, T: types.BigIntType}, intArr},
	} {
		b.Run(c.name, func(b *testing.B) {
			mk, err := newAggState(c.a)
			if err != nil {
				b.Fatal(err)
			}
			s := mk()
			for range groups {
				s.addGroup()
			}
			s.update(c.arg, nil, rowIDs, gids)
			var size int
			var e snapshot.Encoder
			for b.Loop() {
				e = snapshot.Encoder{}
				s.(snapshotter).save(&e)
				size = e.Len()
				if err := snapLoad(mk(), e.Data()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/groups, "bytes/group")
		})
	}
}
