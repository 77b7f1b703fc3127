package eval

import (
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// failed marks a case whose row must be a row error (and NULL).
type failedT struct{}

var failed = failedT{}

type semCase struct {
	e    expr.Expr
	want any // Go value; DECIMAL results as their text; failed for a row error
}

func i64(v int64) *expr.Literal   { return lit(v, tInt) }
func f64(v float64) *expr.Literal { return lit(v, tDbl) }
func str(v string) *expr.Literal  { return lit(v, tStr) }
func boolean(v bool) *expr.Literal {
	return lit(v, tBool)
}
func null(t types.Type) *expr.Literal { return lit(nil, t) }
func decLit(s string, p, sc int32) *expr.Literal {
	return lit(dec(s, sc), tDec(p, sc))
}
func tsLit(s string) *expr.Literal {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return lit(t.UnixMilli(), tTs)
}
func ivLit(ms int64) *expr.Literal { return lit(ms, tIv) }
func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

// keepLiteral says whether argument k of fn must stay a literal.
func keepLiteral(fn string, k int) bool {
	switch fn {
	case "extract":
		return k == 0
	case "floor_time", "json_extract", "json_value":
		return k == 1
	}
	return false
}

// columnize replaces literals by columns of a one-row batch, so that a case
// runs through the vectorized kernels instead of constant folding.
func columnize(e expr.Expr, schema *types.Schema, row *[]any) expr.Expr {
	switch x := e.(type) {
	case *expr.Literal:
		*schema = append(*schema, types.Column{Name: "c", Type: x.T})
		*row = append(*row, x.Value)
		return col(len(*schema)-1, "c", x.T)
	case *expr.Cast:
		return castTo(columnize(x.X, schema, row), x.T)
	case *expr.Call:
		args := make([]expr.Expr, len(x.Args))
		for k, a := range x.Args {
			if keepLiteral(x.Fn, k) {
				args[k] = a
			} else {
				args[k] = columnize(a, schema, row)
			}
		}
		return call(x.Fn, x.T, args...)
	}
	return e
}

func runSemCases(t *testing.T, cases []semCase) {
	t.Helper()
	for _, c := range cases {
		// Folded at Compile (or evaluated over a dummy row when it fails).
		got, errs := eval1(t, c.e)
		checkSem(t, "constant", c, got, errs)
		// Through the kernels, with every literal a column.
		schema := types.Schema{{Name: "dummy", Type: tInt}}
		row := []any{int64(0)}
		ce := columnize(c.e, &schema, &row)
		cols := make([][]any, len(row))
		for k, v := range row {
			cols[k] = []any{v, v, nil} // a second row, and a NULL row
			if schema[k].Type.Kind == types.Null {
				cols[k] = []any{nil, nil, nil}
			}
		}
		vals, errs := evalExpr(t, ce, schema, cols)
		checkSem(t, "columns", semCase{ce, c.want}, vals[0], errs)
		if (len(errs) > 0 && errs[0].Row == 0) != (len(errs) > 1 && errs[1].Row == 1) {
			t.Errorf("%s: rows 0 and 1 disagree on errors: %v", ce, errs)
		}
	}
}

func checkSem(t *testing.T, mode string, c semCase, got any, errs []RowError) {
	t.Helper()
	hasErr := len(errs) > 0 && errs[0].Row == 0
	if c.want == failed {
		if !hasErr || got != nil {
			t.Errorf("%s %s: want a row error, got %v (errors %v)", mode, c.e, got, errs)
		}
		return
	}
	if hasErr {
		t.Errorf("%s %s: unexpected row error %v", mode, c.e, errs)
		return
	}
	want := c.want
	if d, ok := got.(decimal128.Num); ok {
		got = decString(d, c.e.Type().Scale)
	}
	if f, ok := want.(float64); ok && math.IsNaN(f) {
		if g, ok := got.(float64); ok && math.IsNaN(g) {
			return
		}
	}
	if got != want {
		t.Errorf("%s %s: got %#v, want %#v", mode, c.e, got, want)
	}
}

func TestNullLogic(t *testing.T) {
	T, F, N := boolean(true), boolean(false), null(tBool)
	and := func(a, b expr.Expr) expr.Expr { return call("and", tBool, a, b) }
	or := func(a, b expr.Expr) expr.Expr { return call("or", tBool, a, b) }
	div := call("/", tInt, i64(10), i64(0))
	gt := func(a, b expr.Expr) expr.Expr { return call(">", tBool, a, b) }
	runSemCases(t, []semCase{
		{and(N, F), false}, {and(F, N), false}, {and(N, T), nil}, {and(T, N), nil}, {and(N, N), nil}, {and(T, T), true},
		{or(N, T), true}, {or(T, N), true}, {or(N, F), nil}, {or(F, N), nil}, {or(F, F), false},
		{call("and", tBool, T, N, F), false}, {call("or", tBool, F, N, T), true}, {call("or", tBool, F, N, F), nil},
		{call("not", tBool, N), nil}, {call("not", tBool, F), true},
		{call("is_null", tBool, N), true}, {call("is_not_null", tBool, N), false}, {call("is_null", tBool, i64(1)), false},
		{call("is_true", tBool, N), false}, {call("is_false", tBool, N), false}, {call("is_false", tBool, F), true},
		{call("in", tBool, i64(1), i64(1), null(tInt)), true},
		{call("in", tBool, i64(2), i64(1), null(tInt)), nil},
		{call("in", tBool, i64(2), i64(1), i64(3)), false},
		{call("in", tBool, null(tInt), i64(1)), nil},
		{call("in", tBool, str("b"), str("a"), str("b")), true},
		{call("in", tBool, f64(math.NaN()), f64(math.NaN())), false},
		{call("in", tBool, decLit("1.50", 10, 2), decLit("1.5", 10, 2)), true},
		{call("=", tBool, i64(1), null(tInt)), nil},
		{call("<>", tBool, f64(math.NaN()), f64(math.NaN())), true},
		{call("=", tBool, f64(0), f64(math.Copysign(0, -1))), true},
		{call("<", tBool, F, T), true},
		{call("<", tBool, str("a"), str("b")), true},
		{call(">=", tBool, str("é"), str("z")), true}, // code point order
		// CASE picks the first TRUE condition; NULL is not TRUE.
		{call("case", tInt, N, i64(1), i64(2)), int64(2)},
		{call("case", tInt, F, i64(1), T, i64(2), i64(3)), int64(2)},
		{call("case", tInt, F, i64(1), null(tInt)), nil},
		// Branches not taken report no error.
		{call("case", tInt, F, div, i64(0)), int64(0)},
		{call("case", tInt, T, div, i64(0)), failed},
		{call("coalesce", tInt, null(tInt), i64(2), div), int64(2)},
		{call("coalesce", tInt, null(tInt), div, i64(3)), failed},
		{call("coalesce", tInt, null(tInt), null(tInt)), nil},
		// AND/OR skip the right side once decided (left to right).
		{and(F, gt(div, i64(1))), false},
		{or(T, gt(div, i64(1))), true},
		{and(T, gt(div, i64(1))), failed},
		// A row error makes the whole expression NULL.
		{call("is_null", tBool, div), failed},
		{call("in", tBool, i64(1), i64(1), div), failed},
	})
}

func TestLike(t *testing.T) {
	like := func(s, p string) expr.Expr { return call("like", tBool, str(s), str(p)) }
	likeEsc := func(s, p, e string) expr.Expr { return call("like", tBool, str(s), str(p), str(e)) }
	runSemCases(t, []semCase{
		{like("abc", "a%"), true}, {like("abc", "%c"), true}, {like("abc", "%b%"), true}, {like("abc", "abc"), true},
		{like("abc", "a_c"), true}, {like("ac", "a_c"), false}, {like("abcd", "a_c"), false},
		{like("", "%"), true}, {like("", "_"), false}, {like("", ""), true}, {like("a", ""), false},
		{like("日本語", "_本_"), true}, {like("日本語", "__"), false}, {like("héllo", "h_llo"), true},
		{like("abcabc", "%bc%bc"), true}, {like("abcab", "%bc%bc"), false},
		{like("mississippi", "%iss%ppi"), true}, {like("mississippi", "m%iss%i"), true},
		{like("aaa", "%a%a%a%a"), false}, {like("aaaa", "%a%a%a%a"), true},
		{like("a\nb", "a_b"), true}, {like("a\nb", "a%"), true},
		{like("ABC", "abc"), false}, // case-sensitive
		{like("a.c", "a.c"), true}, {like("abc", "a.c"), false}, {like("a*", "a*"), true},
		{like("xaby", "%a_y"), true}, {like("xabyz", "%a_y"), false},
		{likeEsc("a%c", "a!%c", "!"), true}, {likeEsc("abc", "a!%c", "!"), false},
		{likeEsc("a_b", `a\_b`, `\`), true}, {likeEsc("axb", `a\_b`, `\`), false},
		{likeEsc(`a\b`, `a\\b`, `\`), true},
		{likeEsc("a!", "a!!", "!"), true},
		{likeEsc("50%", "%0!%", "!"), true}, {likeEsc("500", "%0!%", "!"), false},
		{like(`a\_b`, `a\_b`), true}, // no escape character unless one is given
		{likeEsc("abc", "abc", ""), true},
		{call("like", tBool, null(tStr), str("%")), nil},
		{call("regexp", tBool, str("hello"), str("l+")), true},
		{call("regexp", tBool, str("hello"), str("^l")), false},
		{call("regexp", tBool, str("AAPL"), str("(?i)aapl")), true},
	})
	// Patterns that come from a column are checked per row.
	schema := types.Schema{{Name: "s", Type: tStr}, {Name: "p", Type: tStr}}
	vals, errs := evalExpr(t, call("like", tBool, col(0, "s", tStr), col(1, "p", tStr), str("!")), schema,
		[][]any{{"a", "a", "a!", "b"}, {"a", "a!", "a!!", "(%"}})
	if len(errs) != 1 || errs[0].Row != 1 || vals[0] != true || vals[1] != nil || vals[2] != true || vals[3] != false {
		t.Errorf("like over a pattern column: %v %v", vals, errs)
	}
	vals, errs = evalExpr(t, call("regexp", tBool, col(0, "s", tStr), col(1, "p", tStr)), schema,
		[][]any{{"a", "a", "b"}, {"a", "(", "a|b"}})
	if len(errs) != 1 || errs[0].Row != 1 || vals[0] != true || vals[1] != nil || vals[2] != true {
		t.Errorf("regexp over a pattern column: %v %v", vals, errs)
	}
}

func TestStringFunctions(t *testing.T) {
	sub := func(s string, args ...int64) expr.Expr {
		es := []expr.Expr{str(s)}
		for _, a := range args {
			es = append(es, i64(a))
		}
		return call("substring", tStr, es...)
	}
	trim := func(s, chars, mode string) expr.Expr { return call("trim", tStr, str(s), str(chars), str(mode)) }
	runSemCases(t, []semCase{
		{sub("hello", 2, 3), "ell"}, {sub("hello", 1, 5), "hello"}, {sub("hello", 0, 3), "he"},
		{sub("hello", -1, 3), "h"}, {sub("hello", -5, 3), ""}, {sub("hello", 4, 100), "lo"},
		{sub("hello", 6), ""}, {sub("hello", 5), "o"}, {sub("hello", 0), "hello"}, {sub("hello", -3), "hello"},
		{sub("héllo", 2, 2), "él"}, {sub("日本語", 2), "本語"}, {sub("hello", 2, 0), ""},
		{sub("hello", 2, -1), failed},
		{sub("hello", math.MaxInt64, math.MaxInt64), ""}, {sub("hello", 1, math.MaxInt64), "hello"},
		{sub("hello", math.MinInt64, math.MaxInt64), ""},
		{call("substring", tStr, str("x"), null(tInt)), nil},
		{trim("  a  ", " ", "BOTH"), "a"}, {trim("  a  ", " ", "LEADING"), "a  "}, {trim("  a  ", " ", "TRAILING"), "  a"},
		{trim("xxaxx", "x", "both"), "a"}, {trim("abcba", "ab", "BOTH"), "c"}, {trim("aaa", "", "BOTH"), "aaa"},
		{trim("ééaé", "é", "BOTH"), "a"}, {trim("aaa", "a", "BOTH"), ""},
		{call("trim", tStr, str("  a ")), "a"},
		{call("lower", tStr, str("HÉLLO World")), "héllo world"}, {call("upper", tStr, str("straße")), "STRAßE"},
		{call("upper", tStr, str("abc")), "ABC"},
		{call("char_length", tInt, str("héllo")), int64(5)}, {call("char_length", tInt, str("")), int64(0)},
		{call("concat", tStr, str("a"), str("b"), str("c")), "abc"},
		{call("concat", tStr, str("a"), null(tStr)), nil},
		{call("replace", tStr, str("banana"), str("an"), str("AN")), "bANANa"},
		{call("replace", tStr, str("banana"), str(""), str("x")), "banana"},
		{call("replace", tStr, str("aaa"), str("aa"), str("b")), "ba"},
		{call("regexp_replace", tStr, str("John Smith"), str(`(\w+) (\w+)`), str("$2, $1")), "Smith, John"},
		{call("regexp_replace", tStr, str("a1b22"), str(`[0-9]+`), str("#")), "a#b#"},
	})
}

func TestTrimModeFromColumn(t *testing.T) {
	schema := types.Schema{{Name: "s", Type: tStr}, {Name: "m", Type: tStr}}
	vals, errs := evalExpr(t, call("trim", tStr, col(0, "s", tStr), str("x"), col(1, "m", tStr)), schema,
		[][]any{{"xax", "xax", "xax"}, {"leading", "SIDEWAYS", nil}})
	if len(errs) != 1 || errs[0].Row != 1 || vals[0] != "ax" || vals[1] != nil || vals[2] != nil {
		t.Errorf("trim with a mode column: %v %v", vals, errs)
	}
}

func TestArithmetic(t *testing.T) {
	bin := func(op string, a, b int64) expr.Expr { return call(op, tInt, i64(a), i64(b)) }
	fbin := func(op string, a, b float64) expr.Expr { return call(op, tDbl, f64(a), f64(b)) }
	dbin := func(op string, a, b string, as, bs, p, s int32) expr.Expr {
		return call(op, tDec(p, s), decLit(a, 38, as), decLit(b, 38, bs))
	}
	runSemCases(t, []semCase{
		{bin("+", 1, 2), int64(3)}, {bin("+", math.MaxInt64, 1), failed}, {bin("-", math.MinInt64, 1), failed},
		{bin("-", 0, math.MinInt64), failed}, {bin("*", math.MaxInt64, 2), failed}, {bin("*", math.MinInt64, -1), failed},
		{bin("*", -1, math.MinInt64), failed}, {bin("*", 1<<31, 1<<31), int64(1 << 62)}, {bin("*", 1<<32, 1<<31), failed},
		{bin("/", 7, 2), int64(3)}, {bin("/", -7, 2), int64(-3)}, {bin("%", 7, -2), int64(1)}, {bin("%", -7, 2), int64(-1)},
		{bin("mod", -7, 2), int64(-1)},
		{bin("/", 1, 0), failed}, {bin("%", 1, 0), failed}, {bin("/", math.MinInt64, -1), failed},
		{bin("%", math.MinInt64, -1), int64(0)},
		{call("neg", tInt, i64(math.MinInt64)), failed}, {call("neg", tInt, i64(5)), int64(-5)},
		{call("abs", tInt, i64(math.MinInt64)), failed}, {call("abs", tInt, i64(-5)), int64(5)},
		{fbin("/", 1, 0), failed}, {fbin("%", 1, 0), failed}, {fbin("/", 1, 4), 0.25}, {fbin("%", -7.5, 2), -1.5},
		{fbin("*", 1e300, 1e300), math.Inf(1)}, {fbin("-", math.Inf(1), math.Inf(1)), math.NaN()},
		{call("+", tInt, i64(1), null(tInt)), nil},
		// DECIMAL: exact, then rounded half away from zero to the Call's scale.
		{dbin("+", "1.25", "0.0001", 2, 4, 11, 4), "1.2501"},
		{dbin("-", "1.25", "0.0001", 2, 4, 11, 4), "1.2499"},
		{dbin("*", "1.25", "1.25", 2, 2, 21, 4), "1.5625"},
		{dbin("*", "0.05", "0.5", 2, 1, 10, 2), "0.03"},
		{dbin("*", "-0.05", "0.5", 2, 1, 10, 2), "-0.03"},
		{dbin("/", "10.00", "3.00", 2, 2, 10, 4), "3.3333"},
		{dbin("/", "2.00", "3.00", 2, 2, 10, 4), "0.6667"},
		{dbin("/", "-2.00", "3.00", 2, 2, 10, 4), "-0.6667"},
		{dbin("/", "1", "8", 0, 0, 10, 2), "0.13"},
		{dbin("/", "1.00", "0.00", 2, 2, 10, 2), failed},
		{dbin("%", "7.5", "2", 1, 0, 10, 1), "1.5"}, {dbin("%", "-7.5", "2", 1, 0, 10, 1), "-1.5"},
		{dbin("%", "1", "0", 0, 0, 10, 0), failed},
		{dbin("+", "99999999999999999999999999999999999999", "1", 0, 0, 38, 0), failed},
		{dbin("*", "12345678901234567890.1234567890", "98765432109876543210.987654321", 10, 9, 38, 2), failed},
		{dbin("*", "1234567890.1234567890", "9876543210.987654321", 10, 9, 38, 6), "12193263113702179522.374638"},
		{dbin("/", "1", "3", 0, 0, 38, 37), "0.3333333333333333333333333333333333333"},
		{dbin("+", "999.99", "0.01", 2, 2, 5, 2), failed}, // 1000.00 needs precision 6
		{call("neg", tDec(10, 2), decLit("1.50", 10, 2)), "-1.50"},
		{call("abs", tDec(10, 2), decLit("-1.50", 10, 2)), "1.50"},
		// Timestamps and intervals.
		{call("+", tTs, tsLit("2024-02-28T12:00:00Z"), ivLit(86400000)), ms("2024-02-29T12:00:00Z")},
		{call("+", tTs, ivLit(1000), tsLit("2024-02-28T12:00:00Z")), ms("2024-02-28T12:00:01Z")},
		{call("-", tTs, tsLit("2024-03-01T00:00:00Z"), ivLit(1)), ms("2024-02-29T23:59:59.999Z")},
		{call("-", tIv, tsLit("2024-03-01T00:00:00Z"), tsLit("2024-02-28T00:00:00Z")), int64(2 * 86400000)},
		{call("+", tTs, lit(int64(math.MaxInt64), tTs), ivLit(1)), failed},
		{call("-", tIv, lit(int64(math.MinInt64), tTs), lit(int64(1), tTs)), failed},
	})
}

func TestMath(t *testing.T) {
	round := func(x expr.Expr, d ...int64) expr.Expr {
		args := []expr.Expr{x}
		for _, v := range d {
			args = append(args, i64(v))
		}
		return call("round", x.Type(), args...)
	}
	runSemCases(t, []semCase{
		{round(f64(2.5)), 3.0}, {round(f64(-2.5)), -3.0}, {round(f64(0.5)), 1.0}, {round(f64(-0.5)), -1.0},
		{round(f64(2.675), 2), 2.68}, {round(f64(1.005), 2), 1.01}, {round(f64(-1.005), 2), -1.01},
		{round(f64(1234.5678), -2), 1200.0}, {round(f64(1250), -2), 1300.0}, {round(f64(1234.5678), 1), 1234.6},
		{round(f64(0.285), 2), 0.29}, {round(f64(1e300), 2), 1e300}, {round(f64(1.5e-300), 300), 2e-300},
		{round(f64(123.456), 500), 123.456}, {round(f64(123.456), -500), 0.0},
		{round(f64(math.Inf(-1)), 2), math.Inf(-1)},
		{round(i64(1250), -2), int64(1300)}, {round(i64(-1250), -2), int64(-1300)}, {round(i64(1249), -2), int64(1200)},
		{round(i64(1249), 2), int64(1249)}, {round(i64(math.MaxInt64), -1), failed},
		{round(i64(math.MaxInt64), -19), failed}, {round(i64(4e18), -19), int64(0)}, {round(i64(math.MaxInt64), -20), int64(0)},
		{round(decLit("1.2345", 10, 4), 2), "1.2300"}, {round(decLit("-1.235", 10, 3), 2), "-1.240"},
		{round(decLit("1.5", 10, 1)), "2.0"}, {round(decLit("-1.5", 10, 1)), "-2.0"},
		{round(decLit("999", 3, 0), -1), failed}, {round(decLit("994", 3, 0), -1), "990"},
		{round(decLit("123.45", 10, 2), -100), "0.00"},
		{call("floor", tDec(5, 2), decLit("-1.25", 5, 2)), "-2.00"}, {call("ceil", tDec(5, 2), decLit("1.25", 5, 2)), "2.00"},
		{call("ceil", tDec(5, 2), decLit("-1.25", 5, 2)), "-1.00"}, {call("floor", tDec(5, 2), decLit("1.00", 5, 2)), "1.00"},
		{call("ceil", tDec(5, 2), decLit("999.99", 5, 2)), failed},
		{call("floor", tDbl, f64(-1.5)), -2.0}, {call("ceil", tDbl, f64(-1.5)), -1.0}, {call("floor", tInt, i64(7)), int64(7)},
		{call("sqrt", tDbl, f64(-1)), failed}, {call("sqrt", tDbl, f64(4)), 2.0},
		{call("ln", tDbl, f64(0)), failed}, {call("log10", tDbl, f64(-1)), failed}, {call("log10", tDbl, f64(1000)), 3.0},
		{call("power", tDbl, f64(2), f64(10)), 1024.0}, {call("power", tDbl, f64(-8), f64(1.0/3)), failed},
		{call("power", tDbl, f64(0), f64(-1)), failed}, {call("power", tDbl, f64(-2), f64(3)), -8.0},
	})
}

func TestTime(t *testing.T) {
	floor := func(ts, unit string) expr.Expr { return call("floor_time", tTs, tsLit(ts), str(unit)) }
	extract := func(unit, ts string) expr.Expr { return call("extract", tInt, str(unit), tsLit(ts)) }
	runSemCases(t, []semCase{
		{floor("2024-03-31T23:00:00Z", "MONTH"), ms("2024-03-01T00:00:00Z")},
		{floor("2024-03-31T23:00:00Z", "YEAR"), ms("2024-01-01T00:00:00Z")},
		{floor("2023-12-31T23:59:59.999Z", "MONTH"), ms("2023-12-01T00:00:00Z")},
		{floor("2023-12-31T23:59:59.999Z", "WEEK"), ms("2023-12-25T00:00:00Z")},
		{floor("2024-01-01T00:00:00Z", "WEEK"), ms("2024-01-01T00:00:00Z")},
		{floor("2024-01-07T23:59:59Z", "WEEK"), ms("2024-01-01T00:00:00Z")},
		{floor("1970-01-01T00:00:00Z", "WEEK"), ms("1969-12-29T00:00:00Z")},
		{floor("2024-05-15T10:00:00Z", "QUARTER"), ms("2024-04-01T00:00:00Z")},
		{floor("2024-02-29T12:34:56.789Z", "DAY"), ms("2024-02-29T00:00:00Z")},
		{floor("2024-02-29T12:34:56.789Z", "HOUR"), ms("2024-02-29T12:00:00Z")},
		{floor("2024-02-29T12:34:56.789Z", "minute"), ms("2024-02-29T12:34:00Z")},
		{floor("2024-02-29T12:34:56.789Z", "SECOND"), ms("2024-02-29T12:34:56Z")},
		{floor("1969-12-31T23:59:59.999Z", "HOUR"), ms("1969-12-31T23:00:00Z")},
		{floor("1969-12-31T23:59:59.999Z", "DAY"), ms("1969-12-31T00:00:00Z")},
		{floor("1969-12-31T23:59:59.999Z", "YEAR"), ms("1969-01-01T00:00:00Z")},
		{floor("1900-03-01T00:00:00Z", "MONTH"), ms("1900-03-01T00:00:00Z")},
		{call("floor_time", tTs, lit(int64(math.MinInt64), tTs), str("DAY")), failed},
		{call("floor_time", tTs, lit(int64(math.MinInt64), tTs), str("YEAR")), failed},
		{extract("YEAR", "2024-02-29T12:34:56.789Z"), int64(2024)}, {extract("QUARTER", "2024-02-29T12:34:56.789Z"), int64(1)},
		{extract("MONTH", "2024-02-29T12:34:56.789Z"), int64(2)}, {extract("DAY", "2024-02-29T12:34:56.789Z"), int64(29)},
		{extract("HOUR", "2024-02-29T12:34:56.789Z"), int64(12)}, {extract("MINUTE", "2024-02-29T12:34:56.789Z"), int64(34)},
		{extract("SECOND", "2024-02-29T12:34:56.789Z"), int64(56)}, {extract("MILLISECOND", "2024-02-29T12:34:56.789Z"), int64(789)},
		{extract("DAYOFWEEK", "2024-01-07T00:00:00Z"), int64(1)}, {extract("DAYOFWEEK", "2024-01-06T00:00:00Z"), int64(7)},
		{extract("DAYOFYEAR", "2024-12-31T00:00:00Z"), int64(366)}, {extract("DAYOFYEAR", "2023-12-31T00:00:00Z"), int64(365)},
		{extract("WEEK", "2021-01-03T00:00:00Z"), int64(53)}, {extract("WEEK", "2024-12-30T00:00:00Z"), int64(1)},
		{extract("WEEK", "2024-01-01T00:00:00Z"), int64(1)},
		{extract("EPOCH", "1969-12-31T23:59:59.999Z"), int64(-1)}, {extract("EPOCH", "2024-01-01T00:00:00Z"), int64(1704067200)},
		{extract("HOUR", "1969-12-31T23:59:59.999Z"), int64(23)},
		{call("unix_timestamp", tInt, tsLit("1969-12-31T23:59:59.999Z")), int64(-1)},
		{call("unix_timestamp", tInt, tsLit("2024-01-01T00:00:00.999Z")), int64(1704067200)},
		{call("from_unixtime", tTs, i64(1704067200)), ms("2024-01-01T00:00:00Z")},
		{call("from_unixtime", tTs, f64(1.2345)), int64(1235)},
		{call("from_unixtime", tTs, f64(-1.2345)), int64(-1235)},
		{call("from_unixtime", tTs, decLit("1.0005", 10, 4)), int64(1001)},
		{call("from_unixtime", tTs, i64(math.MaxInt64/100)), failed},
		{call("from_unixtime", tTs, f64(math.NaN())), failed},
	})
}

func TestJSON(t *testing.T) {
	ext := func(doc, path string) expr.Expr { return call("json_extract", tJSON, str(doc), str(path)) }
	val := func(doc, path string) expr.Expr { return call("json_value", tStr, str(doc), str(path)) }
	doc := `{"a": {"b": [1, 2.50, "x\"y"]}, "k y": true, "n": null, "e": {}, "u": "caf\u00e9"}`
	runSemCases(t, []semCase{
		{ext(doc, "$.a.b[1]"), "2.50"}, {ext(doc, "$.a"), `{"b":[1,2.50,"x\"y"]}`}, {ext(doc, "$.a.b[2]"), `"x\"y"`},
		{ext(doc, "$.a.b[3]"), nil}, {ext(doc, "$.missing"), nil}, {ext(doc, "$.a.b.c"), nil}, {ext(doc, "$.a[0]"), nil},
		{ext(doc, `$."k y"`), "true"}, {ext(doc, "$['k y']"), "true"}, {ext(doc, "$.n"), "null"}, {ext(doc, "$.e"), "{}"},
		{ext(`[10, [20, 30]]`, "$[1][0]"), "20"}, {ext(`"s"`, "$"), `"s"`}, {ext(` 5 `, "$"), "5"},
		{val(doc, "$.a.b[2]"), `x"y`}, {val(doc, "$.a.b[1]"), "2.50"}, {val(doc, `$."k y"`), "true"},
		{val(doc, "$.n"), nil}, {val(doc, "$.a"), `{"b":[1,2.50,"x\"y"]}`}, {val(doc, "$.u"), "café"},
		{val(`{"s": "\ud83d\ude00 \ud800"}`, "$.s"), "😀 \ufffd"},
		{ext(`{"a": 1`, "$.a"), failed}, {val(`not json`, "$"), failed}, {val(``, "$"), failed},
		{ext(`{"a": 1, "a": 2}`, "$.a"), "1"},
	})
	for _, p := range []string{"a", "$.", "$[x]", "$[-1]", "$.a[", "$.*", `$."a`} {
		if _, err := Compile(ext("{}", p), nil); err == nil {
			t.Errorf("path %q: want a Compile error", p)
		}
	}
}

func TestCasts(t *testing.T) {
	c := func(x expr.Expr, to types.Type) expr.Expr { return castTo(x, to) }
	runSemCases(t, []semCase{
		{c(str("abc"), tInt), failed}, {c(str(" 42 "), tInt), int64(42)}, {c(str("+7"), tInt), int64(7)},
		{c(str("1.5"), tInt), failed}, {c(str(""), tInt), failed}, {c(str("9223372036854775808"), tInt), failed},
		{c(str("-9223372036854775808"), tInt), int64(math.MinInt64)}, {c(str("1_000"), tInt), failed},
		{c(str("1e3"), tDbl), 1000.0}, {c(str(" -2.5 "), tDbl), -2.5}, {c(str(".5"), tDbl), 0.5}, {c(str("1e400"), tDbl), failed},
		{c(str("0x10"), tDbl), failed}, {c(str("abc"), tDbl), failed}, {c(str("-Infinity"), tDbl), math.Inf(-1)},
		{c(str("12.345"), tDec(5, 2)), "12.35"}, {c(str("-12.345"), tDec(5, 2)), "-12.35"}, {c(str("999.995"), tDec(5, 2)), failed},
		{c(str("1.5e2"), tDec(5, 2)), "150.00"}, {c(str("1e-9"), tDec(5, 2)), "0.00"}, {c(str("1e999"), tDec(5, 2)), failed},
		{c(str("12345678901234567890.123"), tDec(38, 10)), "12345678901234567890.1230000000"},
		{c(str("yes"), tBool), true}, {c(str(" FALSE "), tBool), false}, {c(str("0"), tBool), false}, {c(str("maybe"), tBool), failed},
		{c(str("2024-02-30"), tTs), failed}, {c(str("2024-01-02"), tTs), ms("2024-01-02T00:00:00Z")},
		{c(str("2024-01-02 03:04:05.123456"), tTs), ms("2024-01-02T03:04:05.123Z")},
		{c(str("2024-01-02T03:04:05+02:00"), tTs), ms("2024-01-02T01:04:05Z")},
		{c(str("2024-01-02T03:04:05-0130"), tTs), ms("2024-01-02T04:34:05Z")},
		{c(str("2024-01-02T03:04Z"), tTs), ms("2024-01-02T03:04:00Z")},
		{c(str(" 2024-01-02 03:04:05 "), tTs), ms("2024-01-02T03:04:05Z")},
		{c(str("1969-12-31 23:59:59.9"), tTs), ms("1969-12-31T23:59:59.900Z")},
		{c(str("2024-01-02 24:00:00"), tTs), failed}, {c(str("2024-01-02 03:04:60"), tTs), failed}, {c(str("20240102"), tTs), failed},
		{c(tsLit("2024-01-02T03:04:05Z"), tStr), "2024-01-02T03:04:05.000Z"},
		{c(lit(int64(-1), tTs), tStr), "1969-12-31T23:59:59.999Z"},
		{c(lit(int64(math.MaxInt64), tTs), tStr), failed},
		{c(tsLit("2024-01-02T03:04:05Z"), tJSON), `"2024-01-02T03:04:05.000Z"`},
		{c(f64(100), tStr), "100"}, {c(f64(0.1), tStr), "0.1"}, {c(f64(1e21), tStr), "1e+21"}, {c(f64(1.5e-8), tStr), "1.5e-8"},
		{c(f64(-2.5), tStr), "-2.5"}, {c(f64(math.NaN()), tStr), "NaN"}, {c(f64(math.Inf(-1)), tStr), "-Infinity"},
		{c(f64(math.Copysign(0, -1)), tStr), "0"}, {c(f64(123456789012), tStr), "123456789012"},
		{c(f64(math.NaN()), tJSON), failed},
		{c(f64(2.7), tInt), int64(2)}, {c(f64(-2.7), tInt), int64(-2)}, {c(f64(1e19), tInt), failed}, {c(f64(math.NaN()), tInt), failed},
		{c(f64(-9.2233720368547758e18), tInt), int64(math.MinInt64)},
		{c(f64(2.675), tDec(10, 2)), "2.68"}, {c(f64(0.1), tDec(10, 3)), "0.100"}, {c(f64(1e10), tDec(5, 0)), failed},
		{c(f64(math.Inf(1)), tDec(10, 2)), failed},
		{c(f64(1.5), tTs), int64(2)}, {c(f64(2.0), tBool), true}, {c(f64(math.NaN()), tBool), failed},
		{c(decLit("-2.7", 10, 1), tInt), int64(-2)}, {c(decLit("2.5", 10, 1), tTs), int64(3)},
		{c(decLit("1.25", 10, 2), tDec(10, 1)), "1.3"}, {c(decLit("-1.25", 10, 2), tDec(10, 1)), "-1.3"},
		{c(decLit("123.45", 10, 2), tDec(4, 2)), failed}, {c(decLit("0.1", 10, 1), tDbl), 0.1},
		{c(decLit("-0.50", 10, 2), tStr), "-0.50"}, {c(decLit("0", 10, 2), tStr), "0.00"}, {c(decLit("7", 10, 0), tStr), "7"},
		{c(decLit("0.00", 10, 2), tBool), false},
		{c(boolean(true), tStr), "true"}, {c(boolean(false), tInt), int64(0)}, {c(boolean(true), tDec(3, 2)), "1.00"},
		{c(boolean(true), tDec(2, 2)), failed},
		{c(i64(100), tDec(3, 1)), failed}, {c(i64(99), tDec(3, 1)), "99.0"}, {c(i64(-5), tStr), "-5"},
		{c(i64(1<<53+1), tDbl), float64(1<<53 + 1)}, {c(i64(1000), tTs), int64(1000)}, {c(i64(3), tBool), true},
		{c(str("{bad"), tJSON), failed}, {c(str(`{"a": 1}`), tJSON), `{"a": 1}`},
		{c(lit(`"42"`, tJSON), tInt), int64(42)}, {c(lit(`42`, tJSON), tInt), int64(42)},
		{c(lit(`null`, tJSON), tInt), nil}, {c(lit(`true`, tJSON), tBool), true}, {c(lit(`"2024-01-02"`, tJSON), tTs), ms("2024-01-02T00:00:00Z")},
		{c(lit(`[1]`, tJSON), tStr), `[1]`}, {c(lit(`{"a":1}`, tJSON), tInt), failed},
		{c(ivLit(90061001), tStr), "1 01:01:01.001"}, {c(ivLit(-1500), tStr), "-0 00:00:01.500"},
		{c(ivLit(60000), tInt), int64(60000)}, {c(i64(60000), tIv), int64(60000)},
		{c(i64(1), tJSON), "1"}, {c(boolean(true), tJSON), "true"}, {c(decLit("1.50", 10, 2), tJSON), "1.50"},
	})
}

func TestCompileErrors(t *testing.T) {
	schema := types.Schema{{Name: "x", Type: tInt}, {Name: "s", Type: tStr}, {Name: "ts", Type: tTs}}
	bad := []expr.Expr{
		call("nope", tInt, i64(1)),
		call("+", tInt, i64(1)),
		call("+", tInt, i64(1), f64(2)),
		call("+", tDbl, i64(1), i64(2)),
		call("like", tBool, str("a"), str(`a\`), str(`\`)),
		call("like", tBool, str("a"), str("a"), str("ab")),
		call("regexp", tBool, str("a"), str("(")),
		call("extract", tInt, col(1, "s", tStr), col(2, "ts", tTs)),
		call("extract", tInt, str("FORTNIGHT"), col(2, "ts", tTs)),
		call("floor_time", tTs, col(2, "ts", tTs), str("DECADE")),
		call("json_value", tStr, col(1, "s", tStr), col(1, "s", tStr)),
		call("trim", tStr, col(1, "s", tStr), str(" "), str("SIDEWAYS")),
		call("case", tInt, boolean(true), i64(1)),
		call("case", tInt, i64(1), i64(1), i64(2)),
		call("coalesce", tInt, i64(1), str("a")),
		castTo(col(2, "ts", tTs), tBool),
		castTo(str("1"), tIv),
		col(0, "x", tStr),
		col(5, "y", tInt),
		lit("1", tInt),
		lit(nil, types.NullType),
		call("and", tBool, i64(1), boolean(true)),
		&expr.Call{Fn: "+", Args: []expr.Expr{i64(1), nil}, T: tInt},
	}
	for _, e := range bad {
		if ev, err := Compile(e, schema); err == nil {
			t.Errorf("Compile(%s) = %v, want an error", e, ev)
		} else {
			t.Logf("%v", err)
		}
	}
}

// TestEveryFunctionCompiles checks that every Fn in expr.Functions has a
// builder, so a new function in the contract cannot be missed.
func TestEveryFunctionCompiles(t *testing.T) {
	for fn := range expr.Functions {
		if _, ok := builders[fn]; !ok {
			t.Errorf("function %q of expr.Functions has no evaluator", fn)
		}
	}
	for fn := range builders {
		if _, ok := expr.Functions[fn]; !ok {
			t.Errorf("evaluator function %q is not in expr.Functions", fn)
		}
	}
}
