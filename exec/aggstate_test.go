package exec

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Unit tests of the aggregate states: each is driven directly with Arrow
// columns (NULLs included), groups that get no value, many groups, several
// updates per window, and merges (for session windows).

// column builds an Arrow column of t from Go values; nil is NULL. BIGINT and
// TIMESTAMP take int64, DOUBLE float64, DECIMAL a string, VARCHAR/JSON string.
func column(t *testing.T, mem memory.Allocator, typ types.Type, vals ...any) arrow.Array {
	t.Helper()
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
			n, err := decimal128.FromString(v.(string), typ.Precision, typ.Scale)
			if err != nil {
				t.Fatal(err)
			}
			bb.Append(n)
		case *array.StringBuilder:
			bb.Append(v.(string))
		case *array.BooleanBuilder:
			bb.Append(v.(bool))
		default:
			t.Fatalf("column: builder %T", b)
		}
	}
	return b.NewArray()
}

// aggFixture runs one aggregate's state over columns.
type aggFixture struct {
	t     *testing.T
	mem   *memory.CheckedAllocator
	state aggState
}

func newFixture(t *testing.T, a planner.Aggregate, groups int) *aggFixture {
	t.Helper()
	f, err := newAggState(a)
	if err != nil {
		t.Fatal(err)
	}
	fx := &aggFixture{t: t, mem: memory.NewCheckedAllocator(memory.DefaultAllocator), state: f()}
	for range groups {
		fx.state.addGroup()
	}
	t.Cleanup(func() { fx.mem.AssertSize(t, 0) })
	return fx
}

func agg(fn string, argT types.Type, param float64, resT types.Type) planner.Aggregate {
	return planner.Aggregate{Fn: fn, Arg: &expr.Column{Name: "x", T: argT}, Param: param, T: resT}
}

// feed updates the state with arr (released afterwards, so that states that
// keep values must have copied them), row i going to group gids[i], times[i]
// its event time (nil: all 0).
func (fx *aggFixture) feed(arr arrow.Array, gids []int32, times []int64) {
	defer arr.Release()
	rows := make([]int32, arr.Len())
	for i := range rows {
		rows[i] = int32(i)
	}
	if times == nil {
		times = make([]int64, arr.Len())
	}
	fx.state.update(arr, times, rows, gids)
}

// results builds the state and returns each group's value as text ("NULL" for null).
func (fx *aggFixture) results() []string {
	arr, errs := fx.state.build(fx.mem)
	defer arr.Release()
	if len(errs) > 0 {
		fx.t.Fatalf("build errors: %v", errs)
	}
	out := make([]string, arr.Len())
	for i := range out {
		if arr.IsNull(i) {
			out[i] = "NULL"
		} else {
			out[i] = arr.ValueStr(i)
		}
	}
	return out
}

func (fx *aggFixture) floats() []float64 {
	arr, _ := fx.state.build(fx.mem)
	defer arr.Release()
	out := make([]float64, arr.Len())
	for i := range out {
		out[i] = math.NaN()
		if arr.IsValid(i) {
			out[i] = arr.(*array.Float64).Value(i)
		}
	}
	return out
}

func gidsOf(gs ...int32) []int32 { return gs }

// exactVariance is the population (samp=false) or sample variance of xs,
// computed exactly with rationals and rounded once.
func exactVariance(xs []float64, samp bool) float64 {
	n := int64(len(xs))
	sum := new(big.Rat)
	for _, x := range xs {
		sum.Add(sum, new(big.Rat).SetFloat64(x))
	}
	mean := new(big.Rat).Quo(sum, big.NewRat(n, 1))
	ss := new(big.Rat)
	for _, x := range xs {
		d := new(big.Rat).Sub(new(big.Rat).SetFloat64(x), mean)
		ss.Add(ss, d.Mul(d, d))
	}
	if samp {
		n--
	}
	v, _ := ss.Quo(ss, big.NewRat(n, 1)).Float64()
	return v
}

func closeRel(got, want, rel float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-300)
}

func TestVarianceStates(t *testing.T) {
	// Groups: 0 two values, 1 only NULLs, 2 one value, 3 never updated, 4 many.
	fns := []string{"var_pop", "var_samp", "stddev_pop", "stddev_samp"}
	for _, fn := range fns {
		t.Run(fn, func(t *testing.T) {
			fx := newFixture(t, agg(fn, types.DoubleType, 0, types.DoubleType), 5)
			fx.feed(column(t, fx.mem, types.DoubleType, 1.0, nil, 7.5, 3.0, nil), gidsOf(0, 1, 2, 0, 1), nil)
			var many []float64
			rng := rand.New(rand.NewPCG(1, 1))
			for range 3 { // several updates to one group
				var vals []any
				var gids []int32
				for range 1000 {
					x := rng.NormFloat64()*3 + 10
					many = append(many, x)
					vals = append(vals, x)
					gids = append(gids, 4)
				}
				fx.feed(column(t, fx.mem, types.DoubleType, vals...), gids, nil)
			}
			got := fx.results()
			samp, sqrt := fn == "var_samp" || fn == "stddev_samp", fn[:3] == "std"
			want := func(xs []float64) string {
				if len(xs) == 0 || (samp && len(xs) == 1) {
					return "NULL"
				}
				v := exactVariance(xs, samp)
				if sqrt {
					v = math.Sqrt(v)
				}
				return fmt.Sprint(v)
			}
			for g, xs := range [][]float64{{1, 3}, nil, {7.5}, nil} {
				if w := want(xs); got[g] != w {
					t.Errorf("group %d %v: got %s, want %s", g, xs, got[g], w)
				}
			}
			var g4 float64
			fmt.Sscan(got[4], &g4)
			w4 := exactVariance(many, samp)
			if sqrt {
				w4 = math.Sqrt(w4)
			}
			if !closeRel(g4, w4, 1e-12) {
				t.Errorf("3000 values: got %v, exact %v", g4, w4)
			}
		})
	}
}

// Welford keeps full precision where the textbook sum-of-squares formula
// cancels catastrophically: values 1e9 + small noise.
func TestVarianceIsNumericallyStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, offset := range []float64{0, 1e6, 1e9, -1e12} {
		fx := newFixture(t, agg("var_samp", types.DoubleType, 0, types.DoubleType), 1)
		var xs []float64
		var vals []any
		for range 20000 {
			x := offset + rng.Float64()
			xs = append(xs, x)
			vals = append(vals, x)
		}
		fx.feed(column(t, fx.mem, types.DoubleType, vals...), make([]int32, len(vals)), nil)
		got, want := fx.floats()[0], exactVariance(xs, true)
		if !closeRel(got, want, 1e-9) {
			t.Errorf("offset %g: var_samp %v, exact %v (rel err %.2e)", offset, got, want, math.Abs(got-want)/want)
		}
		// The naive formula for comparison: it fails at large offsets.
		var s, ss float64
		for _, x := range xs {
			s += x
			ss += x * x
		}
		n := float64(len(xs))
		naive := (ss - s*s/n) / (n - 1)
		t.Logf("offset %g: welford rel err %.1e, naive sum of squares %.1e", offset, math.Abs(got-want)/want, math.Abs(naive-want)/want)
	}
}

func TestVarianceIntegerAndDecimal(t *testing.T) {
	fx := newFixture(t, agg("var_pop", types.BigIntType, 0, types.DoubleType), 2)
	fx.feed(column(t, fx.mem, types.BigIntType, int64(2), int64(4), nil, int64(4), int64(4), int64(5), int64(5), int64(7), int64(9)), gidsOf(0, 0, 0, 0, 0, 0, 0, 0, 0), nil)
	if got := fx.results(); got[0] != "4" || got[1] != "NULL" {
		t.Fatalf("VAR_POP(BIGINT) = %v, want [4 NULL]", got)
	}
	dt := types.DecimalType(10, 2)
	fx = newFixture(t, agg("stddev_samp", dt, 0, types.DoubleType), 1)
	fx.feed(column(t, fx.mem, dt, "1.50", "2.50", nil, "3.50"), gidsOf(0, 0, 0, 0), nil)
	if got := fx.results(); got[0] != "1" {
		t.Fatalf("STDDEV_SAMP(DECIMAL) = %v, want 1", got)
	}
}

func TestFirstLastValue(t *testing.T) {
	// Rows: (group, value, time). Ties at time 10 in group 0: FIRST keeps the
	// first to arrive (b), LAST the last (d); NULLs never count, even when
	// earliest; group 1 has only NULLs; group 2 gets nothing.
	type row struct {
		g  int32
		v  any
		ts int64
	}
	batches := [][]row{
		{{0, nil, 1}, {0, "a", 20}, {0, "b", 10}, {1, nil, 5}},
		{{0, "c", 10}, {0, nil, 30}, {0, "d", 20}, {3, "x", 7}},
		{{3, "y", 7}, {3, "z", 6}},
	}
	for _, last := range []bool{false, true} {
		fn := map[bool]string{false: "first_value", true: "last_value"}[last]
		t.Run(fn, func(t *testing.T) {
			fx := newFixture(t, agg(fn, types.VarcharType, 0, types.VarcharType), 4)
			for _, b := range batches {
				var vals []any
				var gids []int32
				var times []int64
				for _, r := range b {
					vals, gids, times = append(vals, r.v), append(gids, r.g), append(times, r.ts)
				}
				fx.feed(column(t, fx.mem, types.VarcharType, vals...), gids, times)
			}
			want := map[bool][]string{false: {"b", "NULL", "NULL", "z"}, true: {"d", "NULL", "NULL", "y"}}[last]
			if got := fx.results(); !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestFirstLastValueTypes(t *testing.T) {
	dt := types.DecimalType(12, 3)
	for _, tc := range []struct {
		t           types.Type
		vals        []any
		first, last string
	}{
		{types.BigIntType, []any{int64(5), nil, int64(-3)}, "5", "-3"},
		{types.DoubleType, []any{2.5, math.NaN(), nil}, "2.5", "NaN"},
		{dt, []any{"1.250", "-0.001", nil}, "1.25", "-0.001"},
		{types.BooleanType, []any{true, false, nil}, "true", "false"},
		{types.TimestampType, []any{int64(1000), int64(2000), nil}, "1970-01-01T00:00:01Z", "1970-01-01T00:00:02Z"},
		{types.JSONType, []any{`{"a":1}`, `[2]`, nil}, `{"a":1}`, `[2]`},
	} {
		for _, last := range []bool{false, true} {
			fn := map[bool]string{false: "first_value", true: "last_value"}[last]
			fx := newFixture(t, agg(fn, tc.t, 0, tc.t), 1)
			fx.feed(column(t, fx.mem, tc.t, tc.vals...), gidsOf(0, 0, 0), []int64{1, 2, 3})
			got := fx.results()[0]
			want := map[bool]string{false: tc.first, true: tc.last}[last]
			if got != want {
				t.Errorf("%s(%s) = %s, want %s", fn, tc.t, got, want)
			}
		}
	}
}

func TestApproxCountDistinctError(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	fx := newFixture(t, agg("approx_count_distinct", types.BigIntType, 0, types.BigIntType), 4)
	// group 0: 100,000 distinct values, each 1 to 3 times, in batches; group 1:
	// NULLs only; group 2: nothing; group 3: 7 values, one twice.
	next := int64(0)
	for range 50 {
		var vals []any
		var gids []int32
		for range 2000 {
			vals = append(vals, next)
			gids = append(gids, 0)
			for range rng.IntN(3) {
				vals = append(vals, next)
				gids = append(gids, 0)
			}
			next++
		}
		rng.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		vals = append(vals, nil, int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), int64(7))
		gids = append(gids, 1, 3, 3, 3, 3, 3, 3, 3, 3)
		fx.feed(column(t, fx.mem, types.BigIntType, vals...), gids, nil)
	}
	got := fx.results()
	var est float64
	fmt.Sscan(got[0], &est)
	relErr := math.Abs(est-100_000) / 100_000
	t.Logf("APPROX_COUNT_DISTINCT of 100,000 distinct values: %v (error %.2f%%)", got[0], relErr*100)
	if relErr > 0.02 {
		t.Errorf("estimate %v is more than 2%% from 100000", got[0])
	}
	if got[1] != "0" || got[2] != "0" || got[3] != "7" {
		t.Errorf("small groups: got %v, want [.. 0 0 7]", got)
	}
}

// The error over many cardinalities and seeds stays within the documented
// bounds: standard error 0.81%, none beyond 2.5% (3 sigma).
func TestApproxCountDistinctErrorDistribution(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	var sq float64
	worst := 0.0
	n := 0
	for seed := range 40 {
		card := 20_000 + seed*5_000
		fx := newFixture(t, agg("approx_count_distinct", types.VarcharType, 0, types.BigIntType), 1)
		b := array.NewStringBuilder(fx.mem)
		for i := range card {
			b.Append(fmt.Sprintf("user-%d-%d", seed, i))
		}
		fx.feed(b.NewArray(), make([]int32, card), nil)
		b.Release()
		var est float64
		fmt.Sscan(fx.results()[0], &est)
		e := (est - float64(card)) / float64(card)
		sq += e * e
		worst = max(worst, math.Abs(e))
		n++
	}
	rms := math.Sqrt(sq / float64(n))
	t.Logf("40 cardinalities 20k..215k: RMS relative error %.2f%%, worst %.2f%%", rms*100, worst*100)
	if rms > 0.0081*1.5 || worst > 0.025 {
		t.Errorf("RMS error %.3f%% or worst %.3f%% beyond the documented bounds", rms*100, worst*100)
	}
}

func TestApproxCountDistinctEquality(t *testing.T) {
	// 0 and -0 are one value, all NaNs one value; strings by bytes.
	fx := newFixture(t, agg("approx_count_distinct", types.DoubleType, 0, types.BigIntType), 1)
	fx.feed(column(t, fx.mem, types.DoubleType, 0.0, math.Copysign(0, -1), math.NaN(), -math.NaN(), 1.0, nil), make([]int32, 6), nil)
	if got := fx.results()[0]; got != "3" {
		t.Fatalf("APPROX_COUNT_DISTINCT(0, -0, NaN, NaN, 1, NULL) = %s, want 3", got)
	}
}

// exactPercentileOf is PERCENTILE_CONT(q) of xs.
func exactPercentileOf(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return exactPercentile(s, q)
}

// rankOf is the fraction of xs below v (the empirical CDF).
func rankOf(sorted []float64, v float64) float64 {
	return float64(sort.SearchFloat64s(sorted, v)) / float64(len(sorted))
}

func TestApproxPercentileAccuracy(t *testing.T) {
	asc, desc := 0.0, 0.0
	dists := []struct {
		name string
		gen  func(rng *rand.Rand) float64
	}{
		{"uniform", func(rng *rand.Rand) float64 { return rng.Float64() * 1000 }},
		{"normal", func(rng *rand.Rand) float64 { return rng.NormFloat64()*50 + 200 }},
		{"exponential", func(rng *rand.Rand) float64 { return rng.ExpFloat64() * 30 }},
		{"lognormal", func(rng *rand.Rand) float64 { return math.Exp(rng.NormFloat64() * 2) }},
		{"ascending", func(*rand.Rand) float64 { asc++; return asc }},                // a rising metric
		{"descending", func(*rand.Rand) float64 { desc--; return desc * 0.5 }},       // and a falling one
		{"few values", func(rng *rand.Rand) float64 { return float64(rng.IntN(7)) }}, // ties
	}
	qs := []float64{0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1}
	for seed, d := range dists {
		rng := rand.New(rand.NewPCG(4, uint64(seed)))
		xs := make([]float64, 100_000)
		vals := make([]any, len(xs))
		for i := range xs {
			xs[i] = d.gen(rng)
			vals[i] = xs[i]
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		worstMid, worstTail := 0.0, 0.0
		for _, q := range qs {
			fx := newFixture(t, agg("approx_percentile", types.DoubleType, q, types.DoubleType), 1)
			for i := 0; i < len(vals); i += 8192 {
				end := min(i+8192, len(vals))
				fx.feed(column(t, fx.mem, types.DoubleType, vals[i:end]...), make([]int32, end-i), nil)
			}
			got := fx.floats()[0]
			// The rank error: how far q is from the ranks the estimate has among
			// the true values (a run of ranks when values repeat; a value within
			// 1e-12 relative of a true value, as interpolation rounding gives,
			// counts as it).
			eps := 1e-12 * math.Abs(got)
			lo := rankOf(sorted, got-eps)
			hi := float64(sort.Search(len(sorted), func(i int) bool { return sorted[i] > got+eps })) / float64(len(sorted))
			rankErr := 0.0
			if q < lo {
				rankErr = lo - q
			} else if q > hi {
				rankErr = q - hi
			}
			bound := 0.001 // 0.1% of n for q in [0.05, 0.95], tighter at the tails
			if q < 0.05 || q > 0.95 {
				bound = 0.0005
			}
			if rankErr > bound {
				t.Errorf("%s q=%v: estimate %v (exact %v) has rank error %.4f > %v", d.name, q, got, exactPercentileOf(xs, q), rankErr, bound)
			}
			if bound == 0.001 {
				worstMid = max(worstMid, rankErr)
			} else {
				worstTail = max(worstTail, rankErr)
			}
		}
		t.Logf("%s, 100,000 values: worst rank error %.3f%% for q in [0.1, 0.9], %.3f%% at the tails", d.name, worstMid*100, worstTail*100)
	}
}

func TestApproxPercentileExactSmallGroups(t *testing.T) {
	// Up to percentileExact values the answer is PERCENTILE_CONT exactly.
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 2, 3, 10, 1000, percentileExact} {
		for _, q := range []float64{0, 0.3, 0.5, 0.95, 1} {
			fx := newFixture(t, agg("approx_percentile", types.BigIntType, q, types.DoubleType), 2)
			var xs []float64
			var vals []any
			var gids []int32
			for range n {
				x := rng.Int64N(1000) - 500
				xs, vals, gids = append(xs, float64(x)), append(vals, x), append(gids, 0)
				vals, gids = append(vals, nil), append(gids, 1)
			}
			fx.feed(column(t, fx.mem, types.BigIntType, vals...), gids, nil)
			got := fx.floats()
			if want := exactPercentileOf(xs, q); got[0] != want {
				t.Errorf("n=%d q=%v: got %v, want PERCENTILE_CONT %v", n, q, got[0], want)
			}
			if !math.IsNaN(got[1]) {
				t.Errorf("a group of NULLs gave %v, want NULL", got[1])
			}
		}
	}
}

func TestApproxPercentileNonFinite(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		vals []any
		q    float64
		want float64
	}{
		{[]any{1.0, 2.0, math.NaN()}, 1, math.NaN()}, // NaN sorts last
		{[]any{1.0, 2.0, math.NaN()}, 0.5, 2},
		{[]any{1.0, 2.0, math.NaN()}, 0.75, math.NaN()},
		{[]any{-inf, 1.0, 2.0, inf}, 0, -inf},
		{[]any{-inf, 1.0, 2.0, inf}, 0.2, -inf},
		{[]any{-inf, 1.0, 2.0, inf}, 0.5, 1.5},
		{[]any{-inf, 1.0, 2.0, inf}, 0.9, inf},
		{[]any{inf, inf}, 0.5, inf},
	} {
		fx := newFixture(t, agg("approx_percentile", types.DoubleType, tc.q, types.DoubleType), 1)
		fx.feed(column(t, fx.mem, types.DoubleType, tc.vals...), make([]int32, len(tc.vals)), nil)
		got := fx.floats()[0]
		if !(got == tc.want || (math.IsNaN(got) && math.IsNaN(tc.want))) {
			t.Errorf("%v q=%v: got %v, want %v", tc.vals, tc.q, got, tc.want)
		}
	}
	// The same with enough finite values to use the digest.
	var vals []any
	for i := range 5000 {
		vals = append(vals, float64(i))
	}
	vals = append(vals, -inf, inf, inf, math.NaN())
	for q, want := range map[float64]float64{0: -inf, 1: math.NaN()} {
		fx := newFixture(t, agg("approx_percentile", types.DoubleType, q, types.DoubleType), 1)
		fx.feed(column(t, fx.mem, types.DoubleType, vals...), make([]int32, len(vals)), nil)
		if got := fx.floats()[0]; !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("digest q=%v: got %v, want %v", q, got, want)
		}
	}
	fx := newFixture(t, agg("approx_percentile", types.DoubleType, 0.5, types.DoubleType), 1)
	fx.feed(column(t, fx.mem, types.DoubleType, vals...), make([]int32, len(vals)), nil)
	if got := fx.floats()[0]; math.Abs(got-2500) > 25 {
		t.Errorf("digest median of 0..4999 with infinities: %v", got)
	}
}

type topEntry struct {
	Value any   `json:"value"`
	Count int64 `json:"count"`
}

func TestTopK(t *testing.T) {
	fx := newFixture(t, agg("top_k", types.VarcharType, 3, types.JSONType), 4)
	fx.feed(column(t, fx.mem, types.VarcharType, "b", "a", nil, "c", "a", "b", "d", "x\"y", "x\"y"), gidsOf(0, 0, 0, 0, 0, 0, 0, 3, 3), nil)
	fx.feed(column(t, fx.mem, types.VarcharType, "c", "e", nil), gidsOf(0, 0, 1), nil)
	got := fx.results()
	// a:2 b:2 c:2 tie on count, broken by value; d and e (1 each) are cut.
	want := []string{`[{"value":"a","count":2},{"value":"b","count":2},{"value":"c","count":2}]`, "NULL", "NULL", `[{"value":"x\"y","count":2}]`}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	for _, g := range []int{0, 3} {
		var entries []topEntry
		if err := json.Unmarshal([]byte(got[g]), &entries); err != nil {
			t.Fatalf("TOP_K output %s is not JSON: %v", got[g], err)
		}
	}
}

func TestTopKTypes(t *testing.T) {
	dt := types.DecimalType(6, 2)
	for _, tc := range []struct {
		t    types.Type
		vals []any
		want string
	}{
		{types.BigIntType, []any{int64(-5), int64(10), int64(-5), int64(2), int64(10), int64(-7)},
			`[{"value":-5,"count":2},{"value":10,"count":2},{"value":-7,"count":1},{"value":2,"count":1}]`},
		{types.DoubleType, []any{math.NaN(), 1.5, math.Inf(-1), math.Copysign(0, -1), 0.0, math.NaN()},
			`[{"value":0,"count":2},{"value":"NaN","count":2},{"value":"-Infinity","count":1},{"value":1.5,"count":1}]`},
		{dt, []any{"-1.50", "2.25", "-1.50", "0.01"},
			`[{"value":-1.50,"count":2},{"value":0.01,"count":1},{"value":2.25,"count":1}]`},
		{types.BooleanType, []any{true, false, true, nil},
			`[{"value":true,"count":2},{"value":false,"count":1}]`},
		{types.TimestampType, []any{int64(1_767_225_600_000), int64(0)},
			`[{"value":"1970-01-01T00:00:00.000Z","count":1},{"value":"2026-01-01T00:00:00.000Z","count":1}]`},
		{types.JSONType, []any{`{"a": 1}`, `not json`, `{"a": 1}`},
			`[{"value":{"a": 1},"count":2},{"value":"not json","count":1}]`},
	} {
		fx := newFixture(t, agg("top_k", tc.t, 10, types.JSONType), 1)
		fx.feed(column(t, fx.mem, tc.t, tc.vals...), make([]int32, len(tc.vals)), nil)
		got := fx.results()[0]
		if got != tc.want {
			t.Errorf("TOP_K over %s:\n got %s\nwant %s", tc.t, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("TOP_K over %s: %s is not valid JSON", tc.t, got)
		}
	}
}

func TestDistinctAggregates(t *testing.T) {
	for _, tc := range []struct {
		fn   string
		argT types.Type
		resT types.Type
		vals []any
		want string
	}{
		{"sum", types.BigIntType, types.BigIntType, []any{int64(3), int64(3), nil, int64(4), int64(-3)}, "4"},
		{"avg", types.BigIntType, types.DoubleType, []any{int64(1), int64(1), int64(1), int64(4)}, "2.5"},
		{"sum", types.DoubleType, types.DoubleType, []any{0.0, math.Copysign(0, -1), 2.5, 2.5}, "2.5"},
		{"var_pop", types.DoubleType, types.DoubleType, []any{1.0, 1.0, 1.0, 3.0}, "1"},
		{"stddev_samp", types.BigIntType, types.DoubleType, []any{int64(5), int64(5)}, "NULL"},
		{"sum", types.DecimalType(5, 2), types.DecimalType(38, 2), []any{"1.10", "1.10", "2.20"}, "3.3"},
		{"avg", types.DecimalType(5, 2), types.DecimalType(38, 6), []any{"1.00", "1.00", "2.00"}, "1.5"},
		{"sum", types.BigIntType, types.BigIntType, []any{nil, nil}, "NULL"},
	} {
		a := agg(tc.fn, tc.argT, 0, tc.resT)
		a.Distinct = true
		fx := newFixture(t, a, 2)
		fx.feed(column(t, fx.mem, tc.argT, tc.vals...), make([]int32, len(tc.vals)), nil)
		got := fx.results()
		if got[0] != tc.want || got[1] != "NULL" {
			t.Errorf("%s(DISTINCT %v) = %v, want [%s NULL]", tc.fn, tc.vals, got, tc.want)
		}
	}
	if _, err := newAggState(planner.Aggregate{Fn: "top_k", Arg: &expr.Column{T: types.BigIntType}, Distinct: true, Param: 2, T: types.JSONType}); err == nil {
		t.Error("TOP_K(DISTINCT ...) was accepted")
	}
}

// Many groups, each fed in several updates with rows of other groups
// interleaved, give the same results as one state per group.
func TestManyGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	const groups = 500
	aggs := []planner.Aggregate{
		agg("stddev_samp", types.BigIntType, 0, types.DoubleType),
		agg("first_value", types.BigIntType, 0, types.BigIntType),
		agg("last_value", types.BigIntType, 0, types.BigIntType),
		agg("approx_count_distinct", types.BigIntType, 0, types.BigIntType),
		agg("approx_percentile", types.BigIntType, 0.9, types.DoubleType),
		agg("top_k", types.BigIntType, 2, types.JSONType),
	}
	type rowT struct {
		g  int32
		v  any
		ts int64
	}
	var batches [][]rowT
	for range 20 {
		var b []rowT
		for range 1000 {
			var v any = rng.Int64N(50)
			if rng.IntN(10) == 0 {
				v = nil
			}
			b = append(b, rowT{int32(rng.IntN(groups)), v, rng.Int64N(100)})
		}
		batches = append(batches, b)
	}
	for _, a := range aggs {
		all := newFixture(t, a, groups)
		one := make([]*aggFixture, groups)
		for g := range one {
			one[g] = newFixture(t, a, 1)
		}
		for _, b := range batches {
			var vals []any
			var gids []int32
			var times []int64
			per := map[int32][]rowT{}
			for _, r := range b {
				vals, gids, times = append(vals, r.v), append(gids, r.g), append(times, r.ts)
				per[r.g] = append(per[r.g], r)
			}
			all.feed(column(t, all.mem, types.BigIntType, vals...), gids, times)
			for g, rs := range per {
				var vs []any
				var ts []int64
				for _, r := range rs {
					vs, ts = append(vs, r.v), append(ts, r.ts)
				}
				one[g].feed(column(t, one[g].mem, types.BigIntType, vs...), make([]int32, len(vs)), ts)
			}
		}
		got := all.results()
		for g := range one {
			if w := one[g].results()[0]; got[g] != w {
				t.Fatalf("%s group %d: %s with %d groups, %s alone", a.Fn, g, got[g], groups, w)
			}
		}
	}
}

// mergeFrom (used when session windows merge) gives what one group fed with
// both groups' rows gives (for the sketches: within their error).
func TestMergeStates(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	aggs := []planner.Aggregate{
		agg("var_samp", types.DoubleType, 0, types.DoubleType),
		agg("stddev_pop", types.DoubleType, 0, types.DoubleType),
		agg("first_value", types.DoubleType, 0, types.DoubleType),
		agg("last_value", types.DoubleType, 0, types.DoubleType),
		agg("approx_count_distinct", types.DoubleType, 0, types.BigIntType),
		agg("approx_percentile", types.DoubleType, 0.5, types.DoubleType),
		agg("top_k", types.DoubleType, 3, types.JSONType),
		{Fn: "sum", Distinct: true, Arg: &expr.Column{T: types.DoubleType}, T: types.DoubleType},
	}
	for _, n := range []int{0, 1, 500, 3000} { // rows per part: exact and digest percentiles
		var parts [2][]any
		var ptimes [2][]int64
		for p := range parts {
			for range n {
				var v any = float64(rng.IntN(200))
				if rng.IntN(8) == 0 {
					v = nil
				}
				parts[p] = append(parts[p], v)
				ptimes[p] = append(ptimes[p], rng.Int64N(50))
			}
		}
		for _, a := range aggs {
			// merged: groups 0 and 1 of one state, then a fresh state takes both.
			m := newFixture(t, a, 2)
			m.feed(column(t, m.mem, types.DoubleType, parts[0]...), make([]int32, n), ptimes[0])
			g1 := make([]int32, n)
			for i := range g1 {
				g1[i] = 1
			}
			m.feed(column(t, m.mem, types.DoubleType, parts[1]...), g1, ptimes[1])
			fresh := newFixture(t, a, 1)
			ms := fresh.state.(interface {
				mergeFrom(dst int32, other aggState, src int32)
			})
			ms.mergeFrom(0, m.state, 0)
			ms.mergeFrom(0, m.state, 1)
			both := newFixture(t, a, 1)
			both.feed(column(t, both.mem, types.DoubleType, append(slices.Clone(parts[0]), parts[1]...)...),
				make([]int32, 2*n), append(slices.Clone(ptimes[0]), ptimes[1]...))
			got, want := fresh.results()[0], both.results()[0]
			m.results()
			if got == want {
				continue
			}
			var g, w float64
			_, e1 := fmt.Sscan(got, &g)
			_, e2 := fmt.Sscan(want, &w)
			tol := 1e-12
			if a.Fn == "approx_percentile" || a.Fn == "approx_count_distinct" {
				tol = 0.02
			}
			if e1 != nil || e2 != nil || !closeRel(g, w, tol) {
				t.Errorf("%s, %d rows per part: merged %s, fed together %s", a.Fn, n, got, want)
			}
		}
	}
}

// The bounded-heap selection of TOP_K agrees with sorting every value.
func TestTopKSelection(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, k := range []int{1, 5, 50} {
		fx := newFixture(t, agg("top_k", types.BigIntType, float64(k), types.JSONType), 1)
		counts := map[int64]int64{}
		var vals []any
		for range 20000 {
			v := int64(rng.NormFloat64() * 300)
			counts[v]++
			vals = append(vals, v)
		}
		fx.feed(column(t, fx.mem, types.BigIntType, vals...), make([]int32, len(vals)), nil)
		var distinct []int64
		for v := range counts {
			distinct = append(distinct, v)
		}
		slices.SortFunc(distinct, func(a, b int64) int {
			if counts[a] != counts[b] {
				return int(counts[b] - counts[a])
			}
			return int(a - b)
		})
		var want []topEntry
		for _, v := range distinct[:k] {
			want = append(want, topEntry{Value: float64(v), Count: counts[v]})
		}
		var got []topEntry
		if err := json.Unmarshal([]byte(fx.results()[0]), &got); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("k=%d:\n got %v\nwant %v", k, got, want)
		}
	}
}

// A window kept open for allowed lateness is built, updated by late rows and
// built again: building must not disturb the state.
func TestBuildThenUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, a := range []planner.Aggregate{
		agg("var_samp", types.DoubleType, 0, types.DoubleType),
		agg("first_value", types.DoubleType, 0, types.DoubleType),
		agg("last_value", types.DoubleType, 0, types.DoubleType),
		agg("approx_count_distinct", types.DoubleType, 0, types.BigIntType),
		agg("approx_percentile", types.DoubleType, 0.25, types.DoubleType),
		agg("top_k", types.DoubleType, 4, types.JSONType),
		{Fn: "avg", Distinct: true, Arg: &expr.Column{T: types.DoubleType}, T: types.DoubleType},
	} {
		for _, n := range []int{10, 2000} {
			var parts [2][]any
			var times [2][]int64
			for p := range parts {
				for range n {
					parts[p] = append(parts[p], float64(rng.IntN(300)))
					times[p] = append(times[p], rng.Int64N(100))
				}
			}
			twice := newFixture(t, a, 1)
			twice.feed(column(t, twice.mem, types.DoubleType, parts[0]...), make([]int32, n), times[0])
			twice.results()
			twice.feed(column(t, twice.mem, types.DoubleType, parts[1]...), make([]int32, n), times[1])
			once := newFixture(t, a, 1)
			once.feed(column(t, once.mem, types.DoubleType, parts[0]...), make([]int32, n), times[0])
			once.feed(column(t, once.mem, types.DoubleType, parts[1]...), make([]int32, n), times[1])
			if got, want := twice.results()[0], once.results()[0]; got != want {
				t.Errorf("%s, %d rows per part: built in between %s, not %s", a.Fn, n, got, want)
			}
		}
	}
}
