package eval

import (
	"errors"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Three-valued logic over bitmaps: AND, OR, NOT, IS [NOT] NULL, IS TRUE,
// IS FALSE; and IN.

type andOrNode struct {
	or   bool
	args []node
}

func (n *andOrNode) typ() types.Type { return types.BooleanType }

func newAndOr(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, -1); err != nil {
		return nil, err
	}
	for i, a := range args {
		if err := wantKind(argName(i), a, types.Boolean); err != nil {
			return nil, err
		}
	}
	if call.T.Kind != types.Boolean {
		return nil, errors.New("returns BOOLEAN")
	}
	return &andOrNode{or: call.Fn == "or", args: args}, nil
}

func argName(i int) string {
	return "argument " + itoa(int64(i+1))
}

// eval combines the arguments left to right. An argument's row errors count
// only at rows where the result is still open (not FALSE for AND, not TRUE for
// OR), and once no row is open the remaining arguments are not evaluated.
func (n *andOrNode) eval(c *evalCtx) (arrow.Array, error) {
	o := newBoolOut(c.mem, c.n)
	nb := bitmapBytes(c.n)
	first, err := c.operand(n.args[0])
	if err != nil {
		o.release()
		return nil, err
	}
	copy(o.vals, boolBits(first, c.n))
	if v := validityOf(first, c.n); v != nil {
		o.vbuf, o.valid = newBitmap(c.mem, c.n, true)
		copy(o.valid, v)
	}
	first.release()
	// decided: a bit per row that is FALSE (AND) / TRUE (OR) already.
	decided := make([]byte, nb)
	for _, arg := range n.args[1:] {
		anyOpen := false
		for i := range decided {
			var d byte
			if n.or {
				d = o.vals[i]
			} else {
				d = ^o.vals[i]
			}
			if o.valid != nil {
				d &= o.valid[i]
			}
			decided[i] = d
			if d != 0xff {
				anyOpen = true
			}
		}
		if !anyOpen {
			break
		}
		mark := len(c.errs)
		b, err := c.operand(arg)
		if err != nil {
			o.release()
			return nil, err
		}
		c.keepErrs(mark, func(row int) bool { return !bitSet(decided, row) })
		bv := boolBits(b, c.n)
		bvalid := validityOf(b, c.n)
		b.release()
		if o.valid == nil && bvalid == nil {
			for i := range o.vals {
				if n.or {
					o.vals[i] |= bv[i]
				} else {
					o.vals[i] &= bv[i]
				}
			}
			continue
		}
		if o.valid == nil {
			o.vbuf, o.valid = newBitmap(c.mem, c.n, true)
		}
		for i := range o.vals {
			av, aval := o.vals[i], o.valid[i]
			bval := byte(0xff)
			if bvalid != nil {
				bval = bvalid[i]
			}
			aT, aF := aval&av, aval&^av
			bT, bF := bval&bv[i], bval&^bv[i]
			var t, f byte
			if n.or {
				t, f = aT|bT, aF&bF
			} else {
				t, f = aT&bT, aF|bF
			}
			o.vals[i] = t
			o.valid[i] = t | f
		}
	}
	return o.finish(), nil
}

// release drops the builder's buffers without making an array.
func (o *boolOut) release() {
	o.dbuf.Release()
	if o.vbuf != nil {
		o.vbuf.Release()
	}
}

type notNode struct{ x node }

func (n *notNode) typ() types.Type { return types.BooleanType }

func newNot(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	if err := wantKind("the operand", args[0], types.Boolean); err != nil {
		return nil, err
	}
	return &notNode{x: args[0]}, nil
}

func (n *notNode) eval(c *evalCtx) (arrow.Array, error) {
	a, err := c.operand(n.x)
	if err != nil {
		return nil, err
	}
	defer a.release()
	o := newBoolOut(c.mem, c.n)
	o.validFrom(a)
	for i, b := range boolBits(a, c.n) {
		o.vals[i] = ^b
	}
	return o.finish(), nil
}

type isKind uint8

const (
	isNull isKind = iota
	isNotNull
	isTrue
	isFalse
)

// isNode is IS [NOT] NULL, IS TRUE, IS FALSE: never NULL.
type isNode struct {
	kind isKind
	x    node
}

func (n *isNode) typ() types.Type { return types.BooleanType }

func newIs(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	n := &isNode{x: args[0]}
	switch call.Fn {
	case "is_null":
		n.kind = isNull
	case "is_not_null":
		n.kind = isNotNull
	case "is_true", "is_false":
		if err := wantKind("the operand", args[0], types.Boolean); err != nil {
			return nil, err
		}
		n.kind = isTrue
		if call.Fn == "is_false" {
			n.kind = isFalse
		}
	}
	return n, nil
}

func (n *isNode) eval(c *evalCtx) (arrow.Array, error) {
	a, err := c.operand(n.x)
	if err != nil {
		return nil, err
	}
	defer a.release()
	o := newBoolOut(c.mem, c.n)
	valid := validityOf(a, c.n)
	var vals []byte
	if n.kind == isTrue || n.kind == isFalse {
		vals = boolBits(a, c.n)
	}
	for i := range o.vals {
		v := byte(0xff)
		if valid != nil {
			v = valid[i]
		}
		switch n.kind {
		case isNull:
			o.vals[i] = ^v
		case isNotNull:
			o.vals[i] = v
		case isTrue:
			o.vals[i] = v & vals[i]
		case isFalse:
			o.vals[i] = v &^ vals[i]
		}
	}
	return o.finish(), nil
}

// inNode is x IN (v1, ..., vn): TRUE when x equals a candidate, NULL when x
// is NULL or when nothing matches and a candidate is NULL, FALSE otherwise.
// Every operand is evaluated (no short circuit). Lists of constants are
// looked up in a set built at Compile.
type inNode struct {
	x    node
	list []node
	// For constant lists:
	constant bool
	hasNull  bool
	ints     map[int64]struct{}
	floats   map[float64]struct{}
	strs     map[string]struct{}
	bools    [2]bool
	decs     []decimal128.Num // at x's scale
	// Small lists are scanned, which beats hashing.
	strList   []string
	intList   []int64
	shortKeys []shortKey // strList as words, when every entry fits 8 bytes
}

type shortKey struct {
	len  int
	word uint64
}

const smallIn = 8

func (n *inNode) typ() types.Type { return types.BooleanType }

func newIn(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, -1); err != nil {
		return nil, err
	}
	if call.T.Kind != types.Boolean {
		return nil, errors.New("returns BOOLEAN")
	}
	xt := args[0].typ()
	for i, a := range args[1:] {
		if !comparable(xt, a.typ()) {
			return nil, errors.New(argName(i+1) + " must have the type of the tested value " + xt.String())
		}
	}
	n := &inNode{x: args[0], list: args[1:], constant: true}
	for _, a := range n.list {
		if !isConst(a) {
			n.constant = false
		}
	}
	if !n.constant {
		return n, nil
	}
	for _, a := range n.list {
		k := a.(*constNode)
		if k.val == nil {
			n.hasNull = true
			continue
		}
		switch v := k.val.(type) {
		case int64:
			if n.ints == nil {
				n.ints = map[int64]struct{}{}
			}
			n.ints[v] = struct{}{}
		case float64:
			if n.floats == nil {
				n.floats = map[float64]struct{}{}
			}
			if !math.IsNaN(v) {
				n.floats[v] = struct{}{}
			}
		case string:
			if n.strs == nil {
				n.strs = map[string]struct{}{}
			}
			n.strs[v] = struct{}{}
		case bool:
			n.bools[b2u(v)] = true
		case decimal128.Num:
			// Keep candidates that have an exact value at x's scale; others
			// can never be equal.
			if d, ok := rescaleExact(v, k.t.Scale, xt.Scale); ok {
				n.decs = append(n.decs, d)
			}
		}
	}
	if len(n.strs) <= smallIn {
		short := true
		for k := range n.strs {
			n.strList = append(n.strList, k)
			short = short && len(k) <= 8
		}
		if short {
			for _, k := range n.strList {
				n.shortKeys = append(n.shortKeys, shortKey{len(k), load8(k, 0, len(k))})
			}
		}
	}
	if len(n.ints) <= smallIn {
		for k := range n.ints {
			n.intList = append(n.intList, k)
		}
	}
	return n, nil
}

// rescaleExact changes the scale only when no digit is lost.
func rescaleExact(d decimal128.Num, from, to int32) (decimal128.Num, bool) {
	if to >= from {
		return mulPow10(d, to-from)
	}
	if cmpDec(divPow10Trunc(d, from-to), to, d, from) != 0 {
		return decimal128.Num{}, false
	}
	return divPow10Trunc(d, from-to), true
}

// divPow10Trunc divides by 10^k truncating toward zero.
func divPow10Trunc(d decimal128.Num, k int32) decimal128.Num {
	m, neg := magnitude(d)
	for k > 0 {
		step := min(k, 19)
		m, _ = divU128By64(m, pow10u64[step])
		k -= step
	}
	out, _ := signed(m, neg)
	return out
}

func (n *inNode) eval(c *evalCtx) (arrow.Array, error) {
	x, err := c.operand(n.x)
	if err != nil {
		return nil, err
	}
	defer x.release()
	o := newBoolOut(c.mem, c.n)
	if n.constant && n.strList != nil && !n.hasNull && !x.constant {
		// The common x IN ('a', 'b', ...) over a column: no per-row NULL
		// logic beyond x's own validity.
		o.validFrom(x)
		offs, data := x.offs[:c.n+1], x.data
		if n.shortKeys != nil {
			// Every candidate fits 8 bytes: compare (length, word) pairs.
			for i := 0; i < c.n; i++ {
				s, l := int(offs[i]), int(offs[i+1]-offs[i])
				if l > 8 {
					continue
				}
				w := load8(data, s, l)
				for _, k := range n.shortKeys {
					if k.len == l && k.word == w {
						o.vals[i>>3] |= 1 << (i & 7)
						break
					}
				}
			}
			return o.finish(), nil
		}
		for i := 0; i < c.n; i++ {
			v := data[offs[i]:offs[i+1]]
			for _, k := range n.strList {
				if len(k) == len(v) && k == v {
					o.vals[i>>3] |= 1 << (i & 7)
					break
				}
			}
		}
		return o.finish(), nil
	}
	o.allNull()
	if n.constant {
		xt := n.x.typ()
		for i := 0; i < c.n; i++ {
			if x.isNull(i) {
				continue
			}
			var hit bool
			switch {
			case xt.IsString() && n.strList != nil:
				v := x.str(i)
				for _, k := range n.strList {
					if len(k) == len(v) && k == v {
						hit = true
						break
					}
				}
			case xt.IsString():
				_, hit = n.strs[x.str(i)]
			case n.intList != nil:
				v := x.int(i)
				for _, k := range n.intList {
					if k == v {
						hit = true
						break
					}
				}
			case xt.Kind == types.Double:
				_, hit = n.floats[x.float(i)]
			case xt.Kind == types.Boolean:
				hit = n.bools[b2u(x.bool(i))]
			case xt.Kind == types.Decimal:
				d := x.decimal(i)
				for _, e := range n.decs {
					if e == d {
						hit = true
						break
					}
				}
			default:
				_, hit = n.ints[x.int(i)]
			}
			if hit || !n.hasNull {
				o.set(i, hit)
			}
		}
		return o.finish(), nil
	}
	vs, err := c.operands(n.list)
	if err != nil {
		o.release()
		return nil, err
	}
	defer releaseAll(vs)
	for i := 0; i < c.n; i++ {
		if x.isNull(i) {
			continue
		}
		sawNull, hit := false, false
		for k, v := range vs {
			if v.isNull(i) {
				sawNull = true
				continue
			}
			if equalAt(n.x.typ(), x, n.list[k].typ(), v, i) {
				hit = true
				break
			}
		}
		if hit || !sawNull {
			o.set(i, hit)
		}
	}
	return o.finish(), nil
}

// equalAt says whether two non-NULL values of comparable types are equal at
// row i (IEEE equality for DOUBLE).
func equalAt(at types.Type, a *vec, bt types.Type, b *vec, i int) bool {
	switch {
	case at.IsString():
		return a.str(i) == b.str(i)
	case at.Kind == types.Double:
		return a.float(i) == b.float(i)
	case at.Kind == types.Boolean:
		return a.bool(i) == b.bool(i)
	case at.Kind == types.Decimal:
		return cmpDec(a.decimal(i), at.Scale, b.decimal(i), bt.Scale) == 0
	}
	return a.int(i) == b.int(i)
}
