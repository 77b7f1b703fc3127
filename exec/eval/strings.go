package eval

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// String functions. Positions and lengths count characters (UTF-8 code
// points), not bytes.

func wantStrings(args []node) error {
	for i, a := range args {
		if err := wantKind(argName(i), a, types.Varchar, types.JSON); err != nil {
			return err
		}
	}
	return nil
}

func newCaseMap(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	if err := wantStrings(args); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.Varchar, types.JSON); err != nil {
		return nil, err
	}
	upper := call.Fn == "upper"
	slow := &rowNode{args: args, t: call.T, str: func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
		return appendCaseMapped(dst, vs[0].str(i), upper), true
	}}
	return &caseMapNode{x: args[0], upper: upper, t: call.T, slow: slow}, nil
}

// caseMapNode is LOWER/UPPER: a column of ASCII text is mapped in one pass
// over its bytes, keeping its offsets; other text goes row by row.
type caseMapNode struct {
	x     node
	upper bool
	t     types.Type
	slow  *rowNode
}

func (n *caseMapNode) typ() types.Type { return n.t }

func (n *caseMapNode) eval(c *evalCtx) (arrow.Array, error) {
	v, err := c.operand(n.x)
	if err != nil {
		return nil, err
	}
	defer v.release()
	if v.constant || !isASCII(v.data[v.offs[0]:v.offs[c.n]]) {
		return n.slow.run(c, []*vec{v}), nil
	}
	base := v.offs[0]
	src := v.data[base:v.offs[c.n]]
	obuf := newBuffer(c.mem, (c.n+1)*4)
	offs := unsafe.Slice((*int32)(unsafe.Pointer(&obuf.Bytes()[0])), c.n+1)
	for i, o := range v.offs[:c.n+1] {
		offs[i] = o - base
	}
	dbuf := newBuffer(c.mem, len(src))
	out := dbuf.Bytes()
	copy(out, src)
	if n.upper {
		for k, ch := range out {
			if ch-'a' < 26 {
				out[k] = ch - 32
			}
		}
	} else {
		for k, ch := range out {
			if ch-'A' < 26 {
				out[k] = ch + 32
			}
		}
	}
	vbuf, _ := andValidity(c.mem, c.n, v)
	return finishArray(n.t.Arrow(), c.n, vbuf, obuf, dbuf), nil
}

// isASCII says whether s has only ASCII bytes, eight at a time.
func isASCII(s string) bool {
	k := 0
	for ; k+8 <= len(s); k += 8 {
		w := uint64(s[k]) | uint64(s[k+1])<<8 | uint64(s[k+2])<<16 | uint64(s[k+3])<<24 |
			uint64(s[k+4])<<32 | uint64(s[k+5])<<40 | uint64(s[k+6])<<48 | uint64(s[k+7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; k < len(s); k++ {
		if s[k] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendCaseMapped appends s in lower or upper case, with an ASCII fast path.
func appendCaseMapped(dst []byte, s string, upper bool) []byte {
	for k := 0; k < len(s); k++ {
		if s[k] >= utf8.RuneSelf {
			if upper {
				return append(dst, strings.ToUpper(s)...)
			}
			return append(dst, strings.ToLower(s)...)
		}
	}
	start := len(dst)
	dst = append(dst, s...)
	b := dst[start:]
	if upper {
		for k, ch := range b {
			if 'a' <= ch && ch <= 'z' {
				b[k] = ch - 32
			}
		}
	} else {
		for k, ch := range b {
			if 'A' <= ch && ch <= 'Z' {
				b[k] = ch + 32
			}
		}
	}
	return dst
}

// runeOffset returns the byte offset of the character at index k (0-based)
// of s, or len(s) when s has k characters or fewer.
func runeOffset(s string, k int64) int {
	p := 0
	for ; k > 0 && p < len(s); k-- {
		if s[p] < utf8.RuneSelf {
			p++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[p:])
		p += size
	}
	return p
}

func newSubstring(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, 3); err != nil {
		return nil, err
	}
	if err := wantStrings(args[:1]); err != nil {
		return nil, err
	}
	for i, a := range args[1:] {
		if err := wantKind(argName(i+1), a, types.BigInt); err != nil {
			return nil, err
		}
	}
	if err := wantResult(call, types.Varchar, types.JSON); err != nil {
		return nil, err
	}
	withLen := len(args) == 3
	return &rowNode{args: args, t: call.T, str: func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
		s, start := vs[0].str(i), vs[1].int(i)
		end := int64(math.MaxInt64) // exclusive, 1-based
		if withLen {
			l := vs[2].int(i)
			if l < 0 {
				c.rowErr(i, "substring: negative length %d", l)
				return dst, false
			}
			if start > 0 && l > math.MaxInt64-start {
				end = math.MaxInt64
			} else {
				end = start + l
			}
		}
		lo := max(start, 1)
		if end <= lo {
			return dst, true
		}
		from := runeOffset(s, lo-1)
		if end == math.MaxInt64 {
			return append(dst, s[from:]...), true
		}
		to := from + runeOffset(s[from:], end-lo)
		return append(dst, s[from:to]...), true
	}}, nil
}

func newConcat(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, -1); err != nil {
		return nil, err
	}
	if err := wantStrings(args); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.Varchar, types.JSON); err != nil {
		return nil, err
	}
	return &rowNode{args: args, t: call.T, str: func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
		for _, v := range vs {
			dst = append(dst, v.str(i)...)
		}
		return dst, true
	}}, nil
}

type trimMode uint8

const (
	trimBoth trimMode = iota
	trimLeading
	trimTrailing
)

func parseTrimMode(s string) (trimMode, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "BOTH":
		return trimBoth, true
	case "LEADING":
		return trimLeading, true
	case "TRAILING":
		return trimTrailing, true
	}
	return 0, false
}

func trimString(s, chars string, mode trimMode) string {
	switch mode {
	case trimLeading:
		return strings.TrimLeft(s, chars)
	case trimTrailing:
		return strings.TrimRight(s, chars)
	}
	return strings.Trim(s, chars)
}

// newTrim: TRIM(s[, chars[, mode]]); chars defaults to ' ', mode to BOTH.
func newTrim(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 3); err != nil {
		return nil, err
	}
	if err := wantStrings(args); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.Varchar, types.JSON); err != nil {
		return nil, err
	}
	fixedMode, modeConst := trimBoth, true
	if len(args) == 3 {
		var m string
		if m, modeConst = constString(args[2]); modeConst {
			var ok bool
			if fixedMode, ok = parseTrimMode(m); !ok {
				return nil, errors.New("the trim mode must be BOTH, LEADING or TRAILING, got '" + m + "'")
			}
		}
	}
	return &rowNode{args: args, t: call.T, str: func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
		chars := " "
		if len(vs) > 1 {
			chars = vs[1].str(i)
		}
		mode := fixedMode
		if !modeConst {
			var ok bool
			if mode, ok = parseTrimMode(vs[2].str(i)); !ok {
				c.rowErr(i, "trim: the mode must be BOTH, LEADING or TRAILING, got '%s'", vs[2].str(i))
				return dst, false
			}
		}
		return append(dst, trimString(vs[0].str(i), chars, mode)...), true
	}}, nil
}

func newCharLength(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	if err := wantStrings(args); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.BigInt); err != nil {
		return nil, err
	}
	return &rowNode{args: args, t: call.T, i64: func(c *evalCtx, vs []*vec, i int) (int64, bool) {
		return int64(utf8.RuneCountInString(vs[0].str(i))), true
	}}, nil
}

func newReplace(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 3, 3); err != nil {
		return nil, err
	}
	if err := wantStrings(args); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.Varchar, types.JSON); err != nil {
		return nil, err
	}
	return &rowNode{args: args, t: call.T, str: func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
		s, from, to := vs[0].str(i), vs[1].str(i), vs[2].str(i)
		if from == "" {
			return append(dst, s...), true
		}
		for {
			k := strings.Index(s, from)
			if k < 0 {
				return append(dst, s...), true
			}
			dst = append(dst, s[:k]...)
			dst = append(dst, to...)
			s = s[k+len(from):]
		}
	}}, nil
}

func newRegexpReplace(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 3, 3); err != nil {
		return nil, err
	}
	if err := wantStrings(args); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.Varchar, types.JSON); err != nil {
		return nil, err
	}
	var fixed *regexp.Regexp
	if p, ok := constString(args[1]); ok {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		fixed = re
	}
	return &rowNode{args: args, t: call.T, str: func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
		re := c.regexpAt(fixed, vs[1], i)
		if re == nil {
			return dst, false
		}
		return append(dst, re.ReplaceAllString(vs[0].str(i), vs[2].str(i))...), true
	}}, nil
}
