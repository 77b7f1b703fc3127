package eval

// An independent, row-at-a-time reference interpreter of expr trees over Go
// values. It shares no code with the evaluator: it leans on math/big, time,
// regexp, strconv and encoding/json, and follows the semantics in doc.go
// literally (exact rationals for DECIMAL, time.Time for calendars, LIKE
// translated to a regular expression, JSON decoded to Go values).
//
// Values: nil, bool, int64 (BIGINT, TIMESTAMP, INTERVAL), float64, *big.Rat
// (DECIMAL), string (VARCHAR, JSON). A non-nil error is a row error: the
// whole expression is NULL at that row.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

var errRow = errors.New("row error")

func rowErrf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRow, fmt.Sprintf(format, args...))
}

func ratPow10(k int64) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs64(k)), nil)
	if k >= 0 {
		return new(big.Rat).SetInt(p)
	}
	return new(big.Rat).SetFrac(big.NewInt(1), p)
}

func abs64(k int64) int64 {
	if k < 0 {
		return -k
	}
	return k
}

func numToRat(d decimal128.Num, scale int32) *big.Rat {
	return new(big.Rat).Mul(new(big.Rat).SetInt(d.BigInt()), ratPow10(-int64(scale)))
}

// roundHalfAway rounds a rational to an integer, half away from zero.
func roundHalfAway(r *big.Rat) *big.Int {
	a := new(big.Rat).Abs(r)
	a.Add(a, big.NewRat(1, 2))
	q := new(big.Int).Quo(a.Num(), a.Denom()) // floor for positive
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

func truncRat(r *big.Rat) *big.Int { return new(big.Int).Quo(r.Num(), r.Denom()) }

func floorRat(r *big.Rat) *big.Int {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int)) // Euclidean: m >= 0
	_ = m
	return q
}

// toScale rounds r to type t (scale, then precision); error when it does not fit.
func toScale(r *big.Rat, t types.Type) (*big.Rat, error) {
	u := roundHalfAway(new(big.Rat).Mul(r, ratPow10(int64(t.Scale))))
	lim := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Precision)), nil)
	if new(big.Int).Abs(u).Cmp(lim) >= 0 {
		return nil, rowErrf("%s does not fit %s", r.RatString(), t)
	}
	return new(big.Rat).Mul(new(big.Rat).SetInt(u), ratPow10(-int64(t.Scale))), nil
}

var (
	bigMinInt64 = big.NewInt(math.MinInt64)
	bigMaxInt64 = big.NewInt(math.MaxInt64)
)

func int64Of(b *big.Int) (int64, error) {
	if b.Cmp(bigMinInt64) < 0 || b.Cmp(bigMaxInt64) > 0 {
		return 0, rowErrf("%s is out of the BIGINT range", b)
	}
	return b.Int64(), nil
}

func refEval(e expr.Expr, row []any, schema types.Schema) (any, error) {
	switch x := e.(type) {
	case *expr.Column:
		v := row[x.Index]
		if d, ok := v.(decimal128.Num); ok {
			return numToRat(d, x.T.Scale), nil
		}
		return v, nil
	case *expr.Literal:
		if d, ok := x.Value.(decimal128.Num); ok {
			return numToRat(d, x.T.Scale), nil
		}
		return x.Value, nil
	case *expr.Cast:
		v, err := refEval(x.X, row, schema)
		if err != nil || v == nil {
			return nil, err
		}
		return refCast(v, x.X.Type(), x.T)
	case *expr.Call:
		return refCall(x, row, schema)
	}
	panic(fmt.Sprintf("reference: unknown node %T", e))
}

func refCall(c *expr.Call, row []any, schema types.Schema) (any, error) {
	ev := func(i int) (any, error) { return refEval(c.Args[i], row, schema) }
	// Non-strict functions first.
	switch c.Fn {
	case "and", "or":
		isOr := c.Fn == "or"
		sawNull := false
		for i := range c.Args {
			v, err := ev(i)
			if err != nil {
				return nil, err
			}
			if v == nil {
				sawNull = true
				continue
			}
			if v.(bool) == isOr {
				return isOr, nil // decided: short circuit
			}
		}
		if sawNull {
			return nil, nil
		}
		return !isOr, nil
	case "is_null", "is_not_null", "is_true", "is_false":
		v, err := ev(0)
		if err != nil {
			return nil, err
		}
		switch c.Fn {
		case "is_null":
			return v == nil, nil
		case "is_not_null":
			return v != nil, nil
		case "is_true":
			return v != nil && v.(bool), nil
		}
		return v != nil && !v.(bool), nil
	case "coalesce":
		for i := range c.Args {
			v, err := ev(i)
			if err != nil || v != nil {
				return v, err
			}
		}
		return nil, nil
	case "case":
		n := len(c.Args)
		for i := 0; i+1 < n; i += 2 {
			cond, err := ev(i)
			if err != nil {
				return nil, err
			}
			if cond != nil && cond.(bool) {
				return ev(i + 1)
			}
		}
		return ev(n - 1)
	case "in":
		vals := make([]any, len(c.Args))
		for i := range c.Args {
			v, err := ev(i)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		if vals[0] == nil {
			return nil, nil
		}
		sawNull := false
		for k, v := range vals[1:] {
			if v == nil {
				sawNull = true
				continue
			}
			if refCompare(vals[0], v, c.Args[0].Type(), c.Args[k+1].Type()) == 0 && !isNaNValue(vals[0]) {
				return true, nil
			}
		}
		if sawNull {
			return nil, nil
		}
		return false, nil
	}
	// Strict functions: evaluate every argument, NULL if any is NULL.
	args := make([]any, len(c.Args))
	anyNull := false
	for i := range c.Args {
		v, err := ev(i)
		if err != nil {
			return nil, err
		}
		args[i] = v
		if v == nil {
			anyNull = true
		}
	}
	if anyNull {
		return nil, nil
	}
	at := func(i int) types.Type { return c.Args[i].Type() }
	switch c.Fn {
	case "+", "-", "*", "/", "%", "mod":
		return refArith(c, args, at(0), at(1))
	case "neg":
		switch v := args[0].(type) {
		case int64:
			return int64Of(new(big.Int).Neg(big.NewInt(v)))
		case float64:
			return -v, nil
		case *big.Rat:
			return new(big.Rat).Neg(v), nil
		}
	case "=", "<>", "<", "<=", ">", ">=":
		a, b := args[0], args[1]
		if fa, ok := a.(float64); ok { // IEEE
			fb := b.(float64)
			switch c.Fn {
			case "=":
				return fa == fb, nil
			case "<>":
				return fa != fb, nil
			case "<":
				return fa < fb, nil
			case "<=":
				return fa <= fb, nil
			case ">":
				return fa > fb, nil
			}
			return fa >= fb, nil
		}
		k := refCompare(a, b, at(0), at(1))
		switch c.Fn {
		case "=":
			return k == 0, nil
		case "<>":
			return k != 0, nil
		case "<":
			return k < 0, nil
		case "<=":
			return k <= 0, nil
		case ">":
			return k > 0, nil
		}
		return k >= 0, nil
	case "not":
		return !args[0].(bool), nil
	case "like":
		esc := ""
		if len(args) == 3 {
			esc = args[2].(string)
		}
		re, err := refLikeRegexp(args[1].(string), esc)
		if err != nil {
			return nil, err
		}
		return re.MatchString(args[0].(string)), nil
	case "regexp":
		re, err := regexp.Compile(args[1].(string))
		if err != nil {
			return nil, rowErrf("bad regexp")
		}
		return re.MatchString(args[0].(string)), nil
	case "lower":
		return strings.ToLower(args[0].(string)), nil
	case "upper":
		return strings.ToUpper(args[0].(string)), nil
	case "substring":
		return refSubstring(args)
	case "concat":
		var b strings.Builder
		for _, a := range args {
			b.WriteString(a.(string))
		}
		return b.String(), nil
	case "trim":
		return refTrim(args)
	case "char_length":
		return int64(len([]rune(args[0].(string)))), nil
	case "replace":
		s, from, to := args[0].(string), args[1].(string), args[2].(string)
		if from == "" {
			return s, nil
		}
		return strings.Replace(s, from, to, -1), nil
	case "regexp_replace":
		re, err := regexp.Compile(args[1].(string))
		if err != nil {
			return nil, rowErrf("bad regexp")
		}
		return re.ReplaceAllString(args[0].(string), args[2].(string)), nil
	case "abs":
		switch v := args[0].(type) {
		case int64:
			return int64Of(new(big.Int).Abs(big.NewInt(v)))
		case float64:
			return math.Abs(v), nil
		case *big.Rat:
			return toScale(new(big.Rat).Abs(v), c.T)
		}
	case "round":
		d := int64(0)
		if len(args) == 2 {
			d = args[1].(int64)
		}
		return refRound(args[0], d, c.T)
	case "floor", "ceil":
		switch v := args[0].(type) {
		case int64:
			return v, nil
		case float64:
			if c.Fn == "floor" {
				return math.Floor(v), nil
			}
			return math.Ceil(v), nil
		case *big.Rat:
			var q *big.Int
			if c.Fn == "floor" {
				q = floorRat(v)
			} else {
				q = new(big.Int).Neg(floorRat(new(big.Rat).Neg(v)))
			}
			return toScale(new(big.Rat).SetInt(q), c.T)
		}
	case "power":
		x, y := args[0].(float64), args[1].(float64)
		if x == 0 && y < 0 {
			return nil, rowErrf("0 to a negative power")
		}
		r := math.Pow(x, y)
		if math.IsNaN(r) && !math.IsNaN(x) && !math.IsNaN(y) {
			return nil, rowErrf("not real")
		}
		return r, nil
	case "sqrt":
		x := args[0].(float64)
		if x < 0 {
			return nil, rowErrf("sqrt of negative")
		}
		return math.Sqrt(x), nil
	case "ln", "log10":
		x := args[0].(float64)
		if x <= 0 {
			return nil, rowErrf("log of non-positive")
		}
		if c.Fn == "ln" {
			return math.Log(x), nil
		}
		return math.Log10(x), nil
	case "floor_time":
		return refFloorTime(args[0].(int64), args[1].(string))
	case "extract":
		return refExtract(args[0].(string), args[1].(int64)), nil
	case "unix_timestamp":
		return time.UnixMilli(args[0].(int64)).Unix(), nil
	case "from_unixtime":
		switch v := args[0].(type) {
		case int64:
			return int64Of(new(big.Int).Mul(big.NewInt(v), big.NewInt(1000)))
		case float64:
			return refFloatToMs(v * 1000)
		case *big.Rat:
			return int64Of(roundHalfAway(new(big.Rat).Mul(v, big.NewRat(1000, 1))))
		}
	case "json_extract", "json_value":
		return refJSON(c.Fn, args[0].(string), args[1].(string))
	}
	panic("reference: unhandled " + c.Fn)
}

func isNaNValue(v any) bool {
	f, ok := v.(float64)
	return ok && math.IsNaN(f)
}

// refCompare orders two non-NULL values of comparable types (not DOUBLE NaN).
func refCompare(a, b any, at, bt types.Type) int {
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		case x == y:
			return 0
		}
		return 2 // NaN: unordered, never equal
	case *big.Rat:
		return x.Cmp(b.(*big.Rat))
	case string:
		return strings.Compare(x, b.(string))
	}
	panic("refCompare")
}

func refArith(c *expr.Call, args []any, lt, rt types.Type) (any, error) {
	op := c.Fn
	if op == "mod" {
		op = "%"
	}
	switch x := args[0].(type) {
	case float64:
		y := args[1].(float64)
		switch op {
		case "+":
			return x + y, nil
		case "-":
			return x - y, nil
		case "*":
			return x * y, nil
		}
		if y == 0 {
			return nil, rowErrf("division by zero")
		}
		if op == "/" {
			return x / y, nil
		}
		return math.Mod(x, y), nil
	case int64:
		a, b := big.NewInt(x), big.NewInt(args[1].(int64))
		var r *big.Int
		switch op {
		case "+":
			r = new(big.Int).Add(a, b)
		case "-":
			r = new(big.Int).Sub(a, b)
		case "*":
			r = new(big.Int).Mul(a, b)
		default:
			if b.Sign() == 0 {
				return nil, rowErrf("division by zero")
			}
			if op == "/" {
				r = new(big.Int).Quo(a, b)
			} else {
				r = new(big.Int).Rem(a, b)
			}
		}
		return int64Of(r)
	case *big.Rat:
		y := args[1].(*big.Rat)
		var r *big.Rat
		switch op {
		case "+":
			r = new(big.Rat).Add(x, y)
		case "-":
			r = new(big.Rat).Sub(x, y)
		case "*":
			r = new(big.Rat).Mul(x, y)
		default:
			if y.Sign() == 0 {
				return nil, rowErrf("division by zero")
			}
			q := new(big.Rat).Quo(x, y)
			if op == "/" {
				r = q
			} else {
				r = new(big.Rat).Sub(x, new(big.Rat).Mul(y, new(big.Rat).SetInt(truncRat(q))))
			}
		}
		return toScale(r, c.T)
	}
	panic("refArith")
}

// refLikeRegexp translates a LIKE pattern into an anchored regular expression.
func refLikeRegexp(pattern, esc string) (*regexp.Regexp, error) {
	var escR rune = -1
	if esc != "" {
		if utf8.RuneCountInString(esc) != 1 {
			return nil, rowErrf("bad escape")
		}
		escR, _ = utf8.DecodeRuneInString(esc)
	}
	var b strings.Builder
	b.WriteString(`^(?s)`)
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == escR:
			if i+1 >= len(rs) {
				return nil, rowErrf("trailing escape")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case r == '%':
			b.WriteString(`.*`)
		case r == '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String()), nil
}

func refSubstring(args []any) (any, error) {
	rs := []rune(args[0].(string))
	start := big.NewInt(args[1].(int64))
	end := big.NewInt(math.MaxInt64)
	end.Mul(end, big.NewInt(4)) // "infinity"
	if len(args) == 3 {
		l := args[2].(int64)
		if l < 0 {
			return nil, rowErrf("negative length")
		}
		end = new(big.Int).Add(start, big.NewInt(l))
	}
	lo := start
	if lo.Cmp(big.NewInt(1)) < 0 {
		lo = big.NewInt(1)
	}
	hi := end
	if lim := big.NewInt(int64(len(rs) + 1)); hi.Cmp(lim) > 0 {
		hi = lim
	}
	if hi.Cmp(lo) <= 0 {
		return "", nil
	}
	return string(rs[lo.Int64()-1 : hi.Int64()-1]), nil
}

func refTrim(args []any) (any, error) {
	s := []rune(args[0].(string))
	chars := " "
	if len(args) > 1 {
		chars = args[1].(string)
	}
	mode := "BOTH"
	if len(args) > 2 {
		mode = strings.ToUpper(strings.TrimSpace(args[2].(string)))
	}
	in := func(r rune) bool { return strings.ContainsRune(chars, r) }
	lo, hi := 0, len(s)
	switch mode {
	case "BOTH", "LEADING", "TRAILING":
	default:
		return nil, rowErrf("bad trim mode")
	}
	if mode != "TRAILING" {
		for lo < hi && in(s[lo]) {
			lo++
		}
	}
	if mode != "LEADING" {
		for hi > lo && in(s[hi-1]) {
			hi--
		}
	}
	return string(s[lo:hi]), nil
}

func refRound(v any, d int64, t types.Type) (any, error) {
	switch x := v.(type) {
	case int64:
		if d >= 0 {
			return x, nil
		}
		if d < -30 {
			return int64(0), nil
		}
		r := new(big.Rat).Mul(new(big.Rat).SetInt64(x), ratPow10(d))
		q := new(big.Rat).SetInt(roundHalfAway(r))
		return int64Of(new(big.Rat).Mul(q, ratPow10(-d)).Num())
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 || d > 400 {
			return x, nil
		}
		if d < -400 {
			return math.Copysign(0, x), nil
		}
		r, ok := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
		if !ok {
			panic("rat")
		}
		q := new(big.Rat).SetInt(roundHalfAway(new(big.Rat).Mul(r, ratPow10(d))))
		f, _ := new(big.Rat).Mul(q, ratPow10(-d)).Float64()
		return math.Copysign(f, x), nil
	case *big.Rat:
		if d < -60 {
			return toScale(new(big.Rat), t)
		}
		q := new(big.Rat).SetInt(roundHalfAway(new(big.Rat).Mul(x, ratPow10(d))))
		return toScale(new(big.Rat).Mul(q, ratPow10(-d)), t)
	}
	panic("refRound")
}

func msOf(t time.Time) (int64, error) {
	b := new(big.Int).Mul(big.NewInt(t.Unix()), big.NewInt(1000))
	b.Add(b, big.NewInt(int64(t.Nanosecond()/1e6)))
	return int64Of(b)
}

func refFloorTime(ms int64, unit string) (any, error) {
	t := time.UnixMilli(ms).UTC()
	y, mo, d := t.Date()
	var f time.Time
	switch strings.ToUpper(unit) {
	case "MILLISECOND":
		return ms, nil
	case "SECOND":
		f = time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	case "MINUTE":
		f = time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, time.UTC)
	case "HOUR":
		f = time.Date(y, mo, d, t.Hour(), 0, 0, 0, time.UTC)
	case "DAY":
		f = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	case "WEEK":
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		f = time.Date(y, mo, d-back, 0, 0, 0, 0, time.UTC)
	case "MONTH":
		f = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	case "QUARTER":
		f = time.Date(y, (mo-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
	case "YEAR":
		f = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		panic("unit " + unit)
	}
	return msOf(f)
}

func refExtract(unit string, ms int64) int64 {
	t := time.UnixMilli(ms).UTC()
	switch strings.ToUpper(unit) {
	case "YEAR":
		return int64(t.Year())
	case "QUARTER":
		return int64((t.Month()-1)/3 + 1)
	case "MONTH":
		return int64(t.Month())
	case "WEEK":
		_, w := t.ISOWeek()
		return int64(w)
	case "DAY":
		return int64(t.Day())
	case "DAYOFWEEK":
		return int64(t.Weekday()) + 1
	case "DAYOFYEAR":
		return int64(t.YearDay())
	case "HOUR":
		return int64(t.Hour())
	case "MINUTE":
		return int64(t.Minute())
	case "SECOND":
		return int64(t.Second())
	case "MILLISECOND":
		return int64(t.Nanosecond() / 1e6)
	case "EPOCH":
		return t.Unix()
	}
	panic("unit " + unit)
}

func refFloatToMs(x float64) (any, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil, rowErrf("not finite")
	}
	bf, _ := new(big.Float).SetFloat64(math.Round(x)).Int(nil)
	return int64Of(bf)
}

// JSON, via encoding/json with an order-preserving decoder.

type jsonMember struct {
	key string
	val any
}

type jsonObject []jsonMember

func decodeJSONValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := jsonObject{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeJSONValue(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, jsonMember{kt.(string), v})
			}
			_, err := dec.Token()
			return obj, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeJSONValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
	}
	return tok, nil // string, json.Number, bool, nil
}

func refDecodeJSON(s string) (any, error) {
	if !json.Valid([]byte(s)) {
		return nil, rowErrf("invalid JSON")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeJSONValue(dec)
	if err != nil && err != io.EOF {
		return nil, rowErrf("invalid JSON: %v", err)
	}
	return v, nil
}

func encodeJSONValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		b.WriteString(string(x))
	case string:
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(x)
		b.Truncate(b.Len() - 1) // Encode adds a newline
	case jsonObject:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeJSONValue(b, m.key)
			b.WriteByte(':')
			encodeJSONValue(b, m.val)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeJSONValue(b, e)
		}
		b.WriteByte(']')
	}
}

// refJSONPath parses the documented path syntax with a regular expression.
var refPathStep = regexp.MustCompile(`^(?:\.([^.\[\]"' *]+)|\."([^"]*)"|\['([^']*)'\]|\["([^"]*)"\]|\[\s*([0-9]+)\s*\])`)

func refJSON(fn, doc, path string) (any, error) {
	v, err := refDecodeJSON(doc)
	if err != nil {
		return nil, err
	}
	p := strings.TrimSpace(path)
	if !strings.HasPrefix(p, "$") {
		panic("path " + path)
	}
	p = p[1:]
	for p != "" {
		m := refPathStep.FindStringSubmatch(p)
		if m == nil {
			panic("path " + path)
		}
		p = p[len(m[0]):]
		if m[5] != "" {
			idx, _ := strconv.Atoi(m[5])
			arr, ok := v.([]any)
			if !ok || idx >= len(arr) {
				return nil, nil
			}
			v = arr[idx]
			continue
		}
		key := m[1] + m[2] + m[3] + m[4]
		obj, ok := v.(jsonObject)
		if !ok {
			return nil, nil
		}
		found := false
		for _, mem := range obj {
			if mem.key == key {
				v, found = mem.val, true
				break
			}
		}
		if !found {
			return nil, nil
		}
	}
	if fn == "json_extract" {
		var b bytes.Buffer
		encodeJSONValue(&b, v)
		return b.String(), nil
	}
	return refJSONText(v), nil
}

// refJSONText is JSON_VALUE's view of a decoded value (nil for JSON null).
func refJSONText(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	}
	var b bytes.Buffer
	encodeJSONValue(&b, v)
	return b.String()
}

// Casts.

var (
	refIntText   = regexp.MustCompile(`^[+-]?[0-9]+$`)
	refFloatText = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	refFloatWord = regexp.MustCompile(`(?i)^[+-]?(inf|infinity|nan)$`)
	refExponent  = regexp.MustCompile(`[eE]([+-]?[0-9]+)$`)
)

func refCast(v any, from, to types.Type) (any, error) {
	if from == to {
		return v, nil
	}
	// JSON to a non-text type: take the scalar's text first.
	if from.Kind == types.JSON && !to.IsString() {
		d, err := refDecodeJSON(v.(string))
		if err != nil {
			return nil, err
		}
		switch d.(type) {
		case jsonObject, []any:
			return nil, rowErrf("not a scalar")
		}
		t := refJSONText(d)
		if t == nil {
			return nil, nil
		}
		return refCast(t, types.VarcharType, to)
	}
	switch to.Kind {
	case types.Boolean:
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case float64:
			if math.IsNaN(x) {
				return nil, rowErrf("NaN")
			}
			return x != 0, nil
		case *big.Rat:
			return x.Sign() != 0, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "t", "yes", "y", "on", "1":
				return true, nil
			case "false", "f", "no", "n", "off", "0":
				return false, nil
			}
			return nil, rowErrf("bad bool")
		}
	case types.BigInt, types.Interval:
		switch x := v.(type) {
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case int64:
			return x, nil
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, rowErrf("not finite")
			}
			b, _ := new(big.Float).SetFloat64(math.Trunc(x)).Int(nil)
			return int64Of(b)
		case *big.Rat:
			return int64Of(truncRat(x))
		case string:
			t := strings.TrimSpace(x)
			if !refIntText.MatchString(t) {
				return nil, rowErrf("bad int")
			}
			b, _ := new(big.Int).SetString(strings.TrimPrefix(t, "+"), 10)
			return int64Of(b)
		}
	case types.Double:
		switch x := v.(type) {
		case bool:
			if x {
				return 1.0, nil
			}
			return 0.0, nil
		case int64:
			f, _ := new(big.Rat).SetInt64(x).Float64()
			return f, nil
		case *big.Rat:
			f, _ := x.Float64()
			return f, nil
		case string:
			t := strings.TrimSpace(x)
			if !refFloatText.MatchString(t) && !refFloatWord.MatchString(t) {
				return nil, rowErrf("bad double")
			}
			f, err := strconv.ParseFloat(t, 64)
			if err != nil {
				return nil, rowErrf("bad double")
			}
			return f, nil
		}
	case types.Decimal:
		var r *big.Rat
		switch x := v.(type) {
		case bool:
			r = new(big.Rat)
			if x {
				r.SetInt64(1)
			}
		case int64:
			r = new(big.Rat).SetInt64(x)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, rowErrf("not finite")
			}
			r, _ = new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
		case *big.Rat:
			r = x
		case string:
			t := strings.TrimSpace(x)
			if !refFloatText.MatchString(t) {
				return nil, rowErrf("bad decimal")
			}
			// Huge exponents: decide without building the number.
			if m := refExponent.FindStringSubmatch(t); m != nil {
				e, err := strconv.ParseInt(m[1], 10, 64)
				mant, _ := new(big.Rat).SetString(t[:len(t)-len(m[0])])
				if mant.Sign() == 0 {
					return toScale(new(big.Rat), to)
				}
				if err != nil || e > 200 {
					if err == nil || !strings.HasPrefix(m[1], "-") {
						return nil, rowErrf("too big")
					}
				}
				if err != nil || e < -200 {
					return toScale(new(big.Rat), to)
				}
			}
			var ok bool
			r, ok = new(big.Rat).SetString(t)
			if !ok {
				return nil, rowErrf("bad decimal")
			}
		}
		return toScale(r, to)
	case types.Varchar, types.JSON:
		toJSON := to.Kind == types.JSON
		switch x := v.(type) {
		case bool:
			return strconv.FormatBool(x), nil
		case int64:
			switch from.Kind {
			case types.Timestamp:
				t := time.UnixMilli(x).UTC()
				if t.Year() < 0 || t.Year() > 9999 {
					return nil, rowErrf("year out of range")
				}
				s := t.Format("2006-01-02T15:04:05.000Z")
				if toJSON {
					s = `"` + s + `"`
				}
				return s, nil
			case types.Interval:
				u := uint64(x)
				sign := ""
				if x < 0 {
					sign, u = "-", -u
				}
				s := fmt.Sprintf("%s%d %02d:%02d:%02d.%03d", sign, u/86400000, u/3600000%24, u/60000%60, u/1000%60, u%1000)
				if toJSON {
					s = `"` + s + `"`
				}
				return s, nil
			}
			return strconv.FormatInt(x, 10), nil
		case float64:
			if toJSON && (math.IsNaN(x) || math.IsInf(x, 0)) {
				return nil, rowErrf("not finite")
			}
			return refFormatDouble(x), nil
		case *big.Rat:
			return x.FloatString(int(from.Scale)), nil
		case string:
			if toJSON && from.Kind == types.Varchar && !json.Valid([]byte(x)) {
				return nil, rowErrf("invalid JSON")
			}
			return x, nil
		}
	case types.Timestamp:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			return refFloatToMs(x)
		case *big.Rat:
			return int64Of(roundHalfAway(x))
		case string:
			return refParseTimestamp(x)
		}
	}
	panic(fmt.Sprintf("reference: cast %T from %s to %s", v, from, to))
}

func refFormatDouble(x float64) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	case x == 0:
		return "0"
	}
	if a := math.Abs(x); a >= 1e-7 && a < 1e21 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	s := strconv.FormatFloat(x, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	return fmt.Sprintf("%se%+d", mant, e)
}

var refTimestampLayouts = func() []string {
	var out []string
	for _, d := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		for _, z := range []string{"", "Z07:00", "-0700", "-07"} {
			out = append(out, d+z)
		}
	}
	return append(out, "2006-01-02")
}()

func refParseTimestamp(s string) (any, error) {
	t := strings.TrimSpace(s)
	// RFC 3339 allows a lowercase t and z.
	if len(t) > 10 && t[10] == 't' {
		t = t[:10] + "T" + t[11:]
	}
	if strings.HasSuffix(t, "z") {
		t = t[:len(t)-1] + "Z"
	}
	for _, layout := range refTimestampLayouts {
		if p, err := time.Parse(layout, t); err == nil {
			return p.UnixMilli(), nil
		}
	}
	return nil, rowErrf("bad timestamp")
}
