package exec

import (
	"fmt"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql/types"
)

// aggState holds one aggregate's state for every group of one window, indexed
// by group id. update folds the rows rows[k] (of arg, a column of the batch;
// nil for COUNT(*)) into groups gids[k]; rows and gids have equal length. Group
// ids are dense and grow one at a time. times holds the event time (ms) of
// every row of the batch (FIRST_VALUE and LAST_VALUE order by it).
//
// States are single-threaded (each window table belongs to one worker) and
// start no goroutines. Their data lives in plain fields (slices of numbers,
// strings, maps, or library sketches that have a binary encoding, noted where
// they are declared) so that issue 5 can checkpoint them.
type aggState interface {
	addGroup()
	update(arg arrow.Array, times []int64, rows, gids []int32)
	// build returns the result of every group in id order, and messages for
	// groups whose result failed (overflow), for the error stream.
	build(mem memory.Allocator) (arrow.Array, []string)
}

// newAggState returns a maker of the state of aggregate a (see sql.Aggregate
// for the functions and their result types).
func newAggState(a planner.Aggregate) (func() aggState, error) {
	fn, distinct, resT := a.Fn, a.Distinct, a.T
	argT := types.NullType
	if a.Arg != nil {
		argT = a.Arg.Type()
	}
	if distinct {
		switch fn {
		case "count":
			return func() aggState { return &countDistinctState{} }, nil
		case "min", "max", "first_value", "last_value":
			distinct = false // DISTINCT does not change them
		case "sum", "avg", "stddev_pop", "stddev_samp", "var_pop", "var_samp":
			inner := a
			inner.Distinct = false
			f, err := newAggState(inner)
			if err != nil {
				return nil, err
			}
			if _, err := newKeyCodec(argT); err != nil {
				return nil, err
			}
			return newDistinctState(f, argT), nil
		default:
			return nil, fmt.Errorf("%s(DISTINCT ...) is not supported", fn)
		}
	}
	switch fn {
	case "stddev_pop", "stddev_samp", "var_pop", "var_samp":
		if !argT.IsNumeric() {
			break
		}
		return func() aggState { return newVarianceState(fn, argT) }, nil
	case "first_value", "last_value":
		return newFirstLastState(argT, fn == "last_value")
	case "approx_count_distinct":
		if _, err := newKeyCodec(argT); err != nil {
			return nil, err
		}
		return func() aggState { return newHLLState(argT) }, nil
	case "approx_percentile":
		if !argT.IsNumeric() {
			break
		}
		if !(a.Param >= 0 && a.Param <= 1) {
			return nil, fmt.Errorf("approx_percentile: the percentile %v is not between 0 and 1", a.Param)
		}
		return func() aggState { return newPercentileState(argT, a.Param) }, nil
	case "top_k":
		if a.Param < 1 || a.Param != math.Trunc(a.Param) {
			return nil, fmt.Errorf("top_k: k = %v is not a whole number >= 1", a.Param)
		}
		if _, err := newKeyCodec(argT); err != nil {
			return nil, err
		}
		return newTopKState(argT, int(a.Param)), nil
	}
	switch fn {
	case "count_star":
		return func() aggState { return &countState{star: true} }, nil
	case "count":
		return func() aggState { return &countState{} }, nil
	case "sum", "avg":
		avg := fn == "avg"
		switch argT.Kind {
		case types.BigInt:
			return func() aggState { return &sumIntState{avg: avg} }, nil
		case types.Double:
			return func() aggState { return &sumFloatState{avg: avg} }, nil
		case types.Decimal:
			return func() aggState { return &sumDecimalState{avg: avg, argScale: argT.Scale, res: resT} }, nil
		}
	case "min", "max":
		isMax := fn == "max"
		switch argT.Kind {
		case types.BigInt, types.Timestamp, types.Interval:
			return func() aggState { return &minMaxIntState{max: isMax, t: resT} }, nil
		case types.Double:
			return func() aggState { return &minMaxFloatState{max: isMax} }, nil
		case types.Decimal:
			return func() aggState { return &minMaxDecimalState{max: isMax, t: resT} }, nil
		case types.Varchar, types.JSON:
			return func() aggState { return &minMaxStringState{max: isMax} }, nil
		case types.Boolean:
			return func() aggState { return &minMaxBoolState{max: isMax} }, nil
		}
	}
	return nil, fmt.Errorf("aggregate %s over %s is not supported", fn, argT)
}

// countState is COUNT(*) (star) or COUNT(x), which skips NULLs.
type countState struct {
	star bool
	n    []int64
}

func (s *countState) addGroup() { s.n = append(s.n, 0) }

func (s *countState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	if s.star || arg.NullN() == 0 {
		for _, g := range gids {
			s.n[g]++
		}
		return
	}
	for k, r := range rows {
		if arg.IsValid(int(r)) {
			s.n[gids[k]]++
		}
	}
}

func (s *countState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(s.n, nil)
	return b.NewArray(), nil
}

// countDistinctState is COUNT(DISTINCT x): a set of the values' text per group.
type countDistinctState struct {
	sets []map[string]struct{}
}

func (s *countDistinctState) addGroup() { s.sets = append(s.sets, map[string]struct{}{}) }

func (s *countDistinctState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	for k, r := range rows {
		if arg.IsValid(int(r)) {
			s.sets[gids[k]][arg.ValueStr(int(r))] = struct{}{}
		}
	}
}

func (s *countDistinctState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for _, set := range s.sets {
		b.Append(int64(len(set)))
	}
	return b.NewArray(), nil
}

// sumIntState is SUM or AVG over BIGINT. Overflow makes the group's SUM NULL and is reported.
type sumIntState struct {
	avg      bool
	sum      []int64
	n        []int64
	overflow []bool
}

func (s *sumIntState) addGroup() {
	s.sum = append(s.sum, 0)
	s.n = append(s.n, 0)
	s.overflow = append(s.overflow, false)
}

func (s *sumIntState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	a := arg.(*array.Int64)
	vals := a.Int64Values()
	noNulls := a.NullN() == 0
	for k, r := range rows {
		if !noNulls && a.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		v := vals[r]
		sum := s.sum[g] + v
		if (v > 0 && sum < s.sum[g]) || (v < 0 && sum > s.sum[g]) {
			s.overflow[g] = true
		}
		s.sum[g] = sum
		s.n[g]++
	}
}

func (s *sumIntState) build(mem memory.Allocator) (arrow.Array, []string) {
	var errs []string
	if s.avg {
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		for g, n := range s.n {
			switch {
			case n == 0:
				b.AppendNull()
			case s.overflow[g]:
				b.AppendNull()
				errs = append(errs, "AVG: the sum of the BIGINT values overflowed")
			default:
				b.Append(float64(s.sum[g]) / float64(n))
			}
		}
		return b.NewArray(), errs
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for g, n := range s.n {
		switch {
		case n == 0:
			b.AppendNull()
		case s.overflow[g]:
			b.AppendNull()
			errs = append(errs, "SUM: BIGINT overflow")
		default:
			b.Append(s.sum[g])
		}
	}
	return b.NewArray(), errs
}

// sumFloatState is SUM or AVG over DOUBLE.
type sumFloatState struct {
	avg bool
	sum []float64
	n   []int64
}

func (s *sumFloatState) addGroup() {
	s.sum = append(s.sum, 0)
	s.n = append(s.n, 0)
}

func (s *sumFloatState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	a := arg.(*array.Float64)
	vals := a.Float64Values()
	noNulls := a.NullN() == 0
	for k, r := range rows {
		if !noNulls && a.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		s.sum[g] += vals[r]
		s.n[g]++
	}
}

func (s *sumFloatState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	for g, n := range s.n {
		switch {
		case n == 0:
			b.AppendNull()
		case s.avg:
			b.Append(s.sum[g] / float64(n))
		default:
			b.Append(s.sum[g])
		}
	}
	return b.NewArray(), nil
}

// sumDecimalState is SUM or AVG over DECIMAL(p, argScale), exact.
type sumDecimalState struct {
	avg      bool
	argScale int32
	res      types.Type
	sum      []decimal128.Num
	n        []int64
	overflow []bool
}

func (s *sumDecimalState) addGroup() {
	s.sum = append(s.sum, decimal128.Num{})
	s.n = append(s.n, 0)
	s.overflow = append(s.overflow, false)
}

func (s *sumDecimalState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	a := arg.(*array.Decimal128)
	for k, r := range rows {
		if a.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		s.sum[g] = s.sum[g].Add(a.Value(int(r)))
		if !s.sum[g].FitsInPrecision(types.MaxDecimalPrecision) {
			s.overflow[g] = true
		}
		s.n[g]++
	}
}

func (s *sumDecimalState) build(mem memory.Allocator) (arrow.Array, []string) {
	var errs []string
	switch s.res.Kind {
	case types.Double: // AVG reported as DOUBLE
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		for g, n := range s.n {
			if n == 0 || s.overflow[g] {
				b.AppendNull()
				continue
			}
			b.Append(s.sum[g].ToFloat64(s.argScale) / float64(n))
		}
		return b.NewArray(), errs
	}
	b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: s.res.Precision, Scale: s.res.Scale})
	defer b.Release()
	for g, n := range s.n {
		switch {
		case n == 0:
			b.AppendNull()
		case s.overflow[g]:
			b.AppendNull()
			errs = append(errs, fmt.Sprintf("%s: DECIMAL overflow", map[bool]string{true: "AVG", false: "SUM"}[s.avg]))
		case s.avg:
			// Exact quotient at the result scale, rounded half away from zero;
			// at a larger scale than the sum's it may not fit 38 digits.
			q := divRoundBig(s.sum[g], s.argScale, n, s.res.Scale)
			if q.CmpAbs(maxDecimal) > 0 {
				b.AppendNull()
				errs = append(errs, "AVG: DECIMAL overflow")
				continue
			}
			b.Append(decimal128.FromBigInt(q))
		default:
			v, err := s.sum[g].Rescale(s.argScale, s.res.Scale)
			if err != nil {
				b.AppendNull()
				errs = append(errs, "SUM: DECIMAL overflow")
				continue
			}
			b.Append(v)
		}
	}
	return b.NewArray(), errs
}

// maxDecimal is the largest unscaled DECIMAL(38, s) value, 10^38 - 1.
var maxDecimal = new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(types.MaxDecimalPrecision), nil), big.NewInt(1))

// divRoundBig returns sum/n at scale resScale, where sum has scale sumScale,
// rounding half away from zero, of any size: callers check it fits.
func divRoundBig(sum decimal128.Num, sumScale int32, n int64, resScale int32) *big.Int {
	num := sum.BigInt()
	num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(resScale-sumScale+1)), nil))
	q := new(big.Int).Quo(num, big.NewInt(n)) // one extra digit for rounding
	r := new(big.Int)
	q.QuoRem(q, big.NewInt(10), r)
	if r.CmpAbs(big.NewInt(5)) >= 0 {
		if q.Sign() < 0 || (q.Sign() == 0 && r.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// minMaxIntState is MIN/MAX over int64-backed types (BIGINT, TIMESTAMP).
type minMaxIntState struct {
	max  bool
	t    types.Type
	v    []int64
	seen []bool
}

func (s *minMaxIntState) addGroup() {
	s.v = append(s.v, 0)
	s.seen = append(s.seen, false)
}

func (s *minMaxIntState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	var vals []int64
	switch a := arg.(type) {
	case *array.Int64:
		vals = a.Int64Values()
	case *array.Timestamp:
		vals = timestampsAsInt64(a)
	}
	noNulls := arg.NullN() == 0
	for k, r := range rows {
		if !noNulls && arg.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		v := vals[r]
		if !s.seen[g] || (s.max && v > s.v[g]) || (!s.max && v < s.v[g]) {
			s.v[g], s.seen[g] = v, true
		}
	}
}

func (s *minMaxIntState) build(mem memory.Allocator) (arrow.Array, []string) {
	if s.t.Kind == types.Timestamp {
		b := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
		defer b.Release()
		for g, v := range s.v {
			if !s.seen[g] {
				b.AppendNull()
			} else {
				b.Append(arrow.Timestamp(v))
			}
		}
		return b.NewArray(), nil
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(s.v, s.seen)
	return b.NewArray(), nil
}

// minMaxFloatState is MIN/MAX over DOUBLE. NaN is larger than every number, as in PostgreSQL.
type minMaxFloatState struct {
	max  bool
	v    []float64
	seen []bool
}

func (s *minMaxFloatState) addGroup() {
	s.v = append(s.v, 0)
	s.seen = append(s.seen, false)
}

func floatLess(a, b float64) bool {
	if math.IsNaN(a) {
		return false
	}
	return math.IsNaN(b) || a < b
}

func (s *minMaxFloatState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	a := arg.(*array.Float64)
	vals := a.Float64Values()
	noNulls := a.NullN() == 0
	for k, r := range rows {
		if !noNulls && a.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		v := vals[r]
		if !s.seen[g] || (s.max && floatLess(s.v[g], v)) || (!s.max && floatLess(v, s.v[g])) {
			s.v[g], s.seen[g] = v, true
		}
	}
}

func (s *minMaxFloatState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(s.v, s.seen)
	return b.NewArray(), nil
}

type minMaxDecimalState struct {
	max  bool
	t    types.Type
	v    []decimal128.Num
	seen []bool
}

func (s *minMaxDecimalState) addGroup() {
	s.v = append(s.v, decimal128.Num{})
	s.seen = append(s.seen, false)
}

func (s *minMaxDecimalState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	a := arg.(*array.Decimal128)
	for k, r := range rows {
		if a.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		v := a.Value(int(r))
		if !s.seen[g] || (s.max && v.Greater(s.v[g])) || (!s.max && v.Less(s.v[g])) {
			s.v[g], s.seen[g] = v, true
		}
	}
}

func (s *minMaxDecimalState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: s.t.Precision, Scale: s.t.Scale})
	defer b.Release()
	b.AppendValues(s.v, s.seen)
	return b.NewArray(), nil
}

type minMaxStringState struct {
	max  bool
	v    []string
	seen []bool
}

func (s *minMaxStringState) addGroup() {
	s.v = append(s.v, "")
	s.seen = append(s.seen, false)
}

func (s *minMaxStringState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	a := arg.(*array.String)
	for k, r := range rows {
		if a.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		v := a.Value(int(r))
		if !s.seen[g] || (s.max && v > s.v[g]) || (!s.max && v < s.v[g]) {
			s.v[g], s.seen[g] = string([]byte(v)), true // copy: the batch's buffer is released
		}
	}
}

func (s *minMaxStringState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(s.v, s.seen)
	return b.NewArray(), nil
}

type minMaxBoolState struct {
	max  bool
	v    []bool
	seen []bool
}

func (s *minMaxBoolState) addGroup() {
	s.v = append(s.v, false)
	s.seen = append(s.seen, false)
}

func (s *minMaxBoolState) update(arg arrow.Array, _ []int64, rows, gids []int32) {
	a := arg.(*array.Boolean)
	for k, r := range rows {
		if a.IsNull(int(r)) {
			continue
		}
		g := gids[k]
		v := a.Value(int(r))
		if !s.seen[g] || (s.max && v && !s.v[g]) || (!s.max && !v && s.v[g]) {
			s.v[g], s.seen[g] = v, true
		}
	}
}

func (s *minMaxBoolState) build(mem memory.Allocator) (arrow.Array, []string) {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.AppendValues(s.v, s.seen)
	return b.NewArray(), nil
}

// timestampsAsInt64 views a timestamp array's values as int64 milliseconds.
func timestampsAsInt64(a *array.Timestamp) []int64 {
	ts := a.TimestampValues()
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = int64(t)
	}
	return out
}
