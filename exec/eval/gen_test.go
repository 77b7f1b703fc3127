package eval

// Random typed expression trees that respect the binder's guarantees (arity,
// argument types, casts inserted), and random batches with NULLs.

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// genSchema is the input of the random tests: several columns of each type.
var genSchema = types.Schema{
	{Name: "b", Type: tBool},
	{Name: "i", Type: tInt},
	{Name: "j", Type: tInt},
	{Name: "d", Type: tDbl},
	{Name: "e", Type: tDbl},
	{Name: "m", Type: tDec(10, 2)},
	{Name: "n", Type: tDec(18, 4)},
	{Name: "w", Type: tDec(38, 10)},
	{Name: "s", Type: tStr},
	{Name: "u", Type: tStr},
	{Name: "num", Type: tStr}, // numbers, timestamps and junk as text
	{Name: "pat", Type: tStr}, // LIKE and regexp patterns, some invalid
	{Name: "js", Type: tJSON},
	{Name: "ts", Type: tTs},
	{Name: "ts2", Type: tTs},
	{Name: "iv", Type: tIv},
	{Name: "small", Type: tInt}, // small integers, for lengths and digits
}

// genDecimals are the DECIMAL types the generator uses.
var genDecimals = []types.Type{tDec(10, 2), tDec(18, 4), tDec(38, 10), tDec(5, 0), tDec(12, 6), tDec(38, 0)}

var genKinds = []types.Type{tBool, tInt, tDbl, tDec(10, 2), tStr, tJSON, tTs, tIv}

type gen struct {
	r *rand.Rand
}

func (g *gen) pick(n int) int        { return g.r.IntN(n) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) anyType() types.Type {
	t := genKinds[g.pick(len(genKinds))]
	if t.Kind == types.Decimal {
		return genDecimals[g.pick(len(genDecimals))]
	}
	return t
}

func (g *gen) decType() types.Type { return genDecimals[g.pick(len(genDecimals))] }

// column returns a column of type t, if the schema has one.
func (g *gen) column(t types.Type) expr.Expr {
	var idx []int
	for i, c := range genSchema {
		if c.Type == t || (t.IsString() && c.Type.Kind == t.Kind) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	i := idx[g.pick(len(idx))]
	return col(i, genSchema[i].Name, genSchema[i].Type)
}

// leaf is a column or a literal of type t.
func (g *gen) leaf(t types.Type) expr.Expr {
	if g.chance(0.6) {
		if c := g.column(t); c != nil {
			return c
		}
	}
	if g.chance(0.08) {
		return lit(nil, t)
	}
	return lit(g.value(t, -1), t)
}

// expr generates a tree of type t.
func (g *gen) expr(t types.Type, depth int) expr.Expr {
	if depth <= 0 || g.chance(0.2) {
		return g.leaf(t)
	}
	d := depth - 1
	// Shapes available for every type.
	switch g.pick(12) {
	case 0:
		n := 1 + g.pick(2)
		args := []expr.Expr{}
		for k := 0; k < n; k++ {
			args = append(args, g.expr(tBool, d), g.expr(t, d))
		}
		return call("case", t, append(args, g.expr(t, d))...)
	case 1:
		args := []expr.Expr{g.expr(t, d), g.expr(t, d)}
		if g.chance(0.5) {
			args = append(args, g.expr(t, d))
		}
		return call("coalesce", t, args...)
	case 2:
		if x := g.castTo(t, d); x != nil {
			return x
		}
	}
	switch t.Kind {
	case types.Boolean:
		return g.boolExpr(d)
	case types.BigInt:
		return g.intExpr(d)
	case types.Double:
		return g.doubleExpr(d)
	case types.Decimal:
		return g.decExpr(t, d)
	case types.Varchar:
		return g.strExpr(d)
	case types.JSON:
		if g.chance(0.5) {
			return call("json_extract", tJSON, g.expr(g.strType(), d), lit(g.jsonPath(), tStr))
		}
		return castTo(g.expr(tStr, d), tJSON)
	case types.Timestamp:
		return g.tsExpr(d)
	case types.Interval:
		switch g.pick(4) {
		case 0:
			return call("-", tIv, g.expr(tTs, d), g.expr(tTs, d))
		case 1:
			return call([]string{"+", "-"}[g.pick(2)], tIv, g.expr(tIv, d), g.expr(tIv, d))
		case 2:
			return call("neg", tIv, g.expr(tIv, d))
		}
		return castTo(g.expr(tInt, d), tIv)
	}
	return g.leaf(t)
}

func (g *gen) strType() types.Type {
	if g.chance(0.3) {
		return tJSON
	}
	return tStr
}

// castTo makes CAST(x AS t) from a random type that converts to t.
func (g *gen) castTo(t types.Type, d int) expr.Expr {
	var from []types.Type
	switch t.Kind {
	case types.Boolean:
		from = []types.Type{tInt, tDbl, g.decType(), tStr, tJSON}
	case types.BigInt:
		from = []types.Type{tBool, tDbl, g.decType(), tStr, tJSON, tTs, tIv}
	case types.Double:
		from = []types.Type{tBool, tInt, g.decType(), tStr, tJSON, tTs}
	case types.Decimal:
		from = []types.Type{tBool, tInt, tDbl, g.decType(), tStr, tJSON, tTs}
	case types.Varchar:
		from = []types.Type{tBool, tInt, tDbl, g.decType(), tJSON, tTs, tIv}
	case types.JSON:
		from = []types.Type{tBool, tInt, tDbl, g.decType(), tStr, tTs}
	case types.Timestamp:
		from = []types.Type{tInt, tDbl, g.decType(), tStr, tJSON}
	case types.Interval:
		from = []types.Type{tInt}
	}
	f := from[g.pick(len(from))]
	if f == t {
		return nil
	}
	var x expr.Expr
	if f.Kind == types.Varchar && g.chance(0.6) {
		x = col(10, "num", tStr) // text that often parses
	} else {
		x = g.expr(f, d)
	}
	return castTo(x, t)
}

func (g *gen) boolExpr(d int) expr.Expr {
	switch g.pick(11) {
	case 0, 1:
		t := g.anyType()
		op := []string{"=", "<>", "<", "<=", ">", ">="}[g.pick(6)]
		return call(op, tBool, g.expr(t, d), g.expr(t, d))
	case 2:
		n := 2 + g.pick(2)
		args := make([]expr.Expr, n)
		for k := range args {
			args[k] = g.expr(tBool, d)
		}
		return call([]string{"and", "or"}[g.pick(2)], tBool, args...)
	case 3:
		return call("not", tBool, g.expr(tBool, d))
	case 4:
		fn := []string{"is_null", "is_not_null", "is_true", "is_false"}[g.pick(4)]
		t := g.anyType()
		if fn == "is_true" || fn == "is_false" {
			t = tBool
		}
		return call(fn, tBool, g.expr(t, d))
	case 5:
		t := g.anyType()
		args := []expr.Expr{g.expr(t, d)}
		for k := 0; k < 1+g.pick(4); k++ {
			if g.chance(0.7) {
				args = append(args, g.leaf(t))
			} else {
				args = append(args, g.expr(t, d))
			}
		}
		return call("in", tBool, args...)
	case 6, 7:
		s := g.expr(g.strType(), d)
		if g.chance(0.3) {
			args := []expr.Expr{s, col(11, "pat", tStr)}
			if g.chance(0.5) {
				args = append(args, lit([]string{"\\", "!", "", "#"}[g.pick(4)], tStr))
			}
			return call("like", tBool, args...)
		}
		p, esc := g.likePattern()
		args := []expr.Expr{s, lit(p, tStr)}
		if esc != "" || g.chance(0.2) {
			args = append(args, lit(esc, tStr))
		}
		return call("like", tBool, args...)
	case 8:
		s := g.expr(g.strType(), d)
		if g.chance(0.3) {
			return call("regexp", tBool, s, col(11, "pat", tStr))
		}
		return call("regexp", tBool, s, lit(g.regexpPattern(), tStr))
	}
	t := g.anyType()
	return call([]string{"=", "<", ">="}[g.pick(3)], tBool, g.expr(t, d), g.leaf(t))
}

func (g *gen) intExpr(d int) expr.Expr {
	switch g.pick(10) {
	case 0, 1, 2:
		op := []string{"+", "-", "*", "/", "%", "mod"}[g.pick(6)]
		return call(op, tInt, g.expr(tInt, d), g.expr(tInt, d))
	case 3:
		return call([]string{"neg", "abs", "floor", "ceil"}[g.pick(4)], tInt, g.expr(tInt, d))
	case 4:
		args := []expr.Expr{g.expr(tInt, d)}
		if g.chance(0.7) {
			args = append(args, g.digits(d))
		}
		return call("round", tInt, args...)
	case 5:
		return call("char_length", tInt, g.expr(g.strType(), d))
	case 6:
		units := []string{"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "DAYOFWEEK", "DAYOFYEAR", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "EPOCH", "year"}
		return call("extract", tInt, lit(units[g.pick(len(units))], tStr), g.expr(tTs, d))
	case 7:
		return call("unix_timestamp", tInt, g.expr(tTs, d))
	}
	return g.leaf(tInt)
}

func (g *gen) digits(d int) expr.Expr {
	if g.chance(0.3) {
		return col(16, "small", tInt)
	}
	return lit(int64(g.pick(9)-4), tInt)
}

func (g *gen) doubleExpr(d int) expr.Expr {
	switch g.pick(9) {
	case 0, 1, 2:
		op := []string{"+", "-", "*", "/", "%"}[g.pick(5)]
		return call(op, tDbl, g.expr(tDbl, d), g.expr(tDbl, d))
	case 3:
		return call([]string{"neg", "abs", "floor", "ceil", "sqrt", "ln", "log10"}[g.pick(7)], tDbl, g.expr(tDbl, d))
	case 4:
		args := []expr.Expr{g.expr(tDbl, d)}
		if g.chance(0.7) {
			args = append(args, g.digits(d))
		}
		return call("round", tDbl, args...)
	case 5:
		return call("power", tDbl, g.expr(tDbl, d), g.expr(tDbl, d))
	}
	return g.leaf(tDbl)
}

func (g *gen) decExpr(t types.Type, d int) expr.Expr {
	switch g.pick(7) {
	case 0, 1, 2:
		op := []string{"+", "-", "*", "/", "%"}[g.pick(5)]
		return call(op, t, g.expr(g.decType(), d), g.expr(g.decType(), d))
	case 3:
		fn := []string{"abs", "floor", "ceil", "neg"}[g.pick(4)]
		return call(fn, t, g.expr(t, d))
	case 4:
		args := []expr.Expr{g.expr(t, d)}
		if g.chance(0.7) {
			args = append(args, g.digits(d))
		}
		return call("round", t, args...)
	}
	return g.leaf(t)
}

func (g *gen) strExpr(d int) expr.Expr {
	st := g.strType
	switch g.pick(11) {
	case 0:
		return call([]string{"lower", "upper"}[g.pick(2)], tStr, g.expr(st(), d))
	case 1, 2:
		args := []expr.Expr{g.expr(st(), d), g.lenArg(d)}
		if g.chance(0.6) {
			args = append(args, g.lenArg(d))
		}
		return call("substring", tStr, args...)
	case 3:
		n := 1 + g.pick(3)
		args := make([]expr.Expr, n)
		for k := range args {
			args[k] = g.expr(st(), d)
		}
		return call("concat", tStr, args...)
	case 4:
		args := []expr.Expr{g.expr(st(), d)}
		if g.chance(0.8) {
			args = append(args, lit([]string{" ", "ab", "x", "", " é", "%"}[g.pick(6)], tStr))
			if g.chance(0.8) {
				if g.chance(0.15) {
					args = append(args, col(8, "s", tStr))
				} else {
					args = append(args, lit([]string{"BOTH", "LEADING", "TRAILING", "leading"}[g.pick(4)], tStr))
				}
			}
		}
		return call("trim", tStr, args...)
	case 5:
		return call("replace", tStr, g.expr(st(), d), g.leaf(tStr), g.leaf(tStr))
	case 6:
		pat := expr.Expr(lit(g.regexpPattern(), tStr))
		if g.chance(0.2) {
			pat = col(11, "pat", tStr)
		}
		repl := []string{"", "x", "$1", "<$0>", "${1}z"}[g.pick(5)]
		return call("regexp_replace", tStr, g.expr(st(), d), pat, lit(repl, tStr))
	case 7:
		return call("json_value", tStr, g.expr(st(), d), lit(g.jsonPath(), tStr))
	}
	return g.leaf(tStr)
}

func (g *gen) lenArg(d int) expr.Expr {
	if g.chance(0.5) {
		return col(16, "small", tInt)
	}
	if g.chance(0.2) {
		return g.expr(tInt, d)
	}
	return lit(int64(g.pick(12)-3), tInt)
}

func (g *gen) tsExpr(d int) expr.Expr {
	switch g.pick(7) {
	case 0:
		return call([]string{"+", "-"}[g.pick(2)], tTs, g.expr(tTs, d), g.expr(tIv, d))
	case 1:
		return call("+", tTs, g.expr(tIv, d), g.expr(tTs, d))
	case 2, 3:
		units := []string{"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR", "month"}
		return call("floor_time", tTs, g.expr(tTs, d), lit(units[g.pick(len(units))], tStr))
	case 4:
		return call("from_unixtime", tTs, g.expr([]types.Type{tInt, tDbl, g.decType()}[g.pick(3)], d))
	}
	return g.leaf(tTs)
}

func (g *gen) likePattern() (pattern, esc string) {
	pats := []string{"%", "", "a%", "%a", "%a%", "a_c", "_", "%é%", "A%L", "%_%", "h_llo%", "%o w%d", "ab%cd%", "%%", "__%__", "日%"}
	p := pats[g.pick(len(pats))]
	if g.chance(0.2) {
		return strings.ReplaceAll(p, "%", "!%"), "!"
	}
	if g.chance(0.1) {
		return "a\\%b\\_", "\\"
	}
	return p, ""
}

func (g *gen) regexpPattern() string {
	pats := []string{"a", "^A", "l+", "(o)", "[0-9]+", "é", "^$", "(?i)aapl", ".", "x|y", "(\\w+) (\\w+)"}
	return pats[g.pick(len(pats))]
}

func (g *gen) jsonPath() string {
	paths := []string{"$", "$.a", "$.a.b", "$.arr[0]", "$.arr[2]", "$.x", "$[0]", `$."k y"`, "$['a']", "$.arr[1].c", "$.n", "$.t"}
	return paths[g.pick(len(paths))]
}

// value returns a random non-NULL value of type t; col selects column-
// specific pools (-1 for literals).
func (g *gen) value(t types.Type, col int) any {
	switch t.Kind {
	case types.Boolean:
		return g.chance(0.5)
	case types.BigInt:
		if col == 16 {
			return int64(g.pick(14) - 4)
		}
		pool := []int64{0, 1, -1, 2, 3, 7, 10, 100, -100, 1000, 86400, math.MaxInt64, math.MinInt64, 1 << 32, -(1 << 31), 1700000000, 5e18}
		if g.chance(0.6) {
			return pool[g.pick(len(pool))]
		}
		return g.r.Int64N(2001) - 1000
	case types.Double:
		pool := []float64{0, math.Copysign(0, -1), 1.5, -2.5, 2.675, 0.5, 100, 100.0001, 1e300, -1e-300, 0.1, 1e21, 1e-8, 123456.789, -7, 3, math.Inf(1), math.NaN(), 1700000000.123}
		if g.chance(0.5) {
			return pool[g.pick(len(pool))]
		}
		return math.Round((g.r.Float64()*2000-1000)*1000) / 1000
	case types.Decimal:
		lim := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Precision)), nil)
		var u *big.Int
		switch g.pick(5) {
		case 0:
			u = new(big.Int).Sub(lim, big.NewInt(1)) // the largest
			if g.chance(0.5) {
				u.Neg(u)
			}
		case 1:
			u = big.NewInt(g.r.Int64N(2001) - 1000)
		case 2:
			u = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil) // 1
			u.Mul(u, big.NewInt(int64(g.pick(5)-2)))
			u.Add(u, big.NewInt(int64(g.pick(3)-1)*5*int64(math.Pow10(int(max(t.Scale-1, 0))))))
		default:
			var digits strings.Builder
			for k := 1 + g.pick(int(t.Precision)); k > 0; k-- {
				digits.WriteByte(byte('0' + g.pick(10)))
			}
			u, _ = new(big.Int).SetString(digits.String(), 10)
			if g.chance(0.5) {
				u.Neg(u)
			}
		}
		if new(big.Int).Abs(u).Cmp(lim) >= 0 {
			u = big.NewInt(0)
		}
		return decimal128.FromBigInt(u)
	case types.Varchar:
		switch col {
		case 10:
			return g.numText()
		case 11:
			pats := []string{"%", "a%", "%l%", "_", "a!%", "abc!", "(", "[0-9]", "^h", "x*", "é_", "\\", "a\\_"}
			return pats[g.pick(len(pats))]
		}
		pool := []string{"", "a", "abc", "AAPL", "X", "héllo wörld", "  padded  ", "a%b_c", "日本語", "hello", "Hello World", "ab", "xyz", "aXbYc", "ba", "  ", "éé", "a_c", "abcabc"}
		if g.chance(0.15) {
			return g.jsonDoc()
		}
		if g.chance(0.1) {
			return g.numText()
		}
		return pool[g.pick(len(pool))]
	case types.JSON:
		return g.jsonDoc()
	case types.Timestamp:
		return g.timestamp()
	case types.Interval:
		pool := []int64{0, 1000, 60000, 3600000, 86400000, -86400000, 7 * 86400000, 90061001, -1}
		if g.chance(0.7) {
			return pool[g.pick(len(pool))]
		}
		return g.r.Int64N(1e11) - 5e10
	}
	panic("value " + t.String())
}

func (g *gen) timestamp() int64 {
	pool := []int64{
		0, -1, 1, 86399999, -86400000,
		time.Date(2023, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli(),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(2024, 2, 29, 12, 30, 15, 250e6, time.UTC).UnixMilli(),
		time.Date(2024, 3, 31, 23, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli(), // ISO week 53
		time.Date(2021, 1, 3, 0, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(1969, 12, 29, 0, 0, 0, 1, time.UTC).UnixMilli(),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli(),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(-5, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1000, math.MinInt64 + 5,
	}
	if g.chance(0.4) {
		return pool[g.pick(len(pool))]
	}
	base := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	return base + g.r.Int64N(100*365*86400000)
}

// numText is text for casts: numbers, booleans, timestamps and junk.
func (g *gen) numText() string {
	pool := []string{
		"42", " 42 ", "-7", "+3", "0", "1.5", "-2.675", "1e3", "1.5E-3", ".5", "5.", "abc", "", " ", "1,000",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e400", "NaN", "-Infinity", "inf",
		"0x10", "1_000", "12345678901234567890.123", "99999999.995", "true", "FALSE", "yes", "off", "t",
		"2024-01-02", "2024-01-02 03:04:05", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456+02:00",
		"2024-02-30", "2024-01-02 24:00:00", "2024-01-02T03:04", "  2023-12-31 23:59:59.999  ", "2024-01-02 03:04:05-0130",
		"2024-01-02T03:04:05+05", "2024-13-01", "1700000000", "0.0001", "-0.00005", "123.456e-2", "1e-400", "7e", "1.2.3",
	}
	return pool[g.pick(len(pool))]
}

func (g *gen) jsonDoc() string {
	docs := []any{
		map[string]any{"a": 1, "b": "x"},
		map[string]any{"a": map[string]any{"b": []any{1, 2, "three"}}, "arr": []any{10, "s", map[string]any{"c": true}}},
		[]any{"first", 2, nil},
		map[string]any{"arr": []any{}, "x": nil, "n": 1.5e3, "t": "héllo \"q\" \\ /"},
		"just a string",
		3.25,
		true,
		nil,
		map[string]any{"k y": "spaced", "a": "z"},
		map[string]any{"n": math.Copysign(0, -1), "t": "line\nbreak", "arr": []any{[]any{1}, map[string]any{}}},
	}
	if g.chance(0.08) {
		return []string{"{bad", "", "[1,2", "nul", "{\"a\":}", "  "}[g.pick(6)]
	}
	v := docs[g.pick(len(docs))]
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if g.chance(0.3) {
		enc.SetIndent(" ", "  ")
	}
	_ = enc.Encode(v)
	return strings.TrimRight(b.String(), "\n")
}

// batch makes n rows of genSchema with about nullRate NULLs.
func (g *gen) batch(n int, nullRate float64) [][]any {
	cols := make([][]any, len(genSchema))
	for c, sc := range genSchema {
		cols[c] = make([]any, n)
		for r := range cols[c] {
			if g.chance(nullRate) {
				continue
			}
			cols[c][r] = g.value(sc.Type, c)
		}
	}
	return cols
}
