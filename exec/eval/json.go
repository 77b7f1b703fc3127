package eval

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// JSON_EXTRACT and JSON_VALUE. A document is validated (encoding/json) and
// then walked without being decoded: keys are compared, other values skipped.

// pathStep is one step of a JSON path: an object key or an array index.
type pathStep struct {
	key   string
	index int
	isKey bool
}

// parseJSONPath reads $, .key, ."quoted key", ["key"], ['key'] and [n].
func parseJSONPath(p string) ([]pathStep, error) {
	bad := func(why string) ([]pathStep, error) {
		return nil, errors.New("invalid JSON path '" + p + "': " + why)
	}
	s := strings.TrimSpace(p)
	if !strings.HasPrefix(s, "$") {
		return bad("it must start with $")
	}
	s = s[1:]
	var steps []pathStep
	for s != "" {
		switch s[0] {
		case '.':
			s = s[1:]
			if s != "" && (s[0] == '"' || s[0] == '\'') {
				key, rest, ok := quotedPathKey(s)
				if !ok {
					return bad("unterminated quoted key")
				}
				steps = append(steps, pathStep{key: key, isKey: true})
				s = rest
				continue
			}
			k := strings.IndexAny(s, ".[")
			if k < 0 {
				k = len(s)
			}
			key := s[:k]
			if key == "" || strings.ContainsAny(key, " \t\n\r]\"'*") {
				return bad("a key after '.' must be a name or a quoted string")
			}
			steps = append(steps, pathStep{key: key, isKey: true})
			s = s[k:]
		case '[':
			s = s[1:]
			if s != "" && (s[0] == '"' || s[0] == '\'') {
				key, rest, ok := quotedPathKey(s)
				if !ok || !strings.HasPrefix(rest, "]") {
					return bad("unterminated ['key']")
				}
				steps = append(steps, pathStep{key: key, isKey: true})
				s = rest[1:]
				continue
			}
			k := strings.IndexByte(s, ']')
			if k < 0 {
				return bad("missing ]")
			}
			idx, err := strconv.Atoi(strings.TrimSpace(s[:k]))
			if err != nil || idx < 0 {
				return bad("an array index must be a non-negative integer")
			}
			steps = append(steps, pathStep{index: idx})
			s = s[k+1:]
		default:
			return bad("expected . or [ at '" + s + "'")
		}
	}
	return steps, nil
}

// quotedPathKey reads a key quoted with s[0], with backslash escapes.
func quotedPathKey(s string) (key, rest string, ok bool) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == q:
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at s[i] == '"'.
func skipString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// skipValue returns the index after the (valid) value starting at s[i].
func skipValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '"':
				i = skipString(s, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(s)
	}
	for i < len(s) && !strings.ContainsRune(",}] \t\n\r", rune(s[i])) {
		i++
	}
	return i
}

// jsonLookup finds the value at path in the valid document doc.
func jsonLookup(doc string, path []pathStep) (start, end int, found bool) {
	i := skipWS(doc, 0)
	for _, st := range path {
		if i >= len(doc) {
			return 0, 0, false
		}
		if st.isKey {
			if doc[i] != '{' {
				return 0, 0, false
			}
			i = skipWS(doc, i+1)
			for {
				if i >= len(doc) || doc[i] != '"' {
					return 0, 0, false // '}' or the end: no such key
				}
				ke := skipString(doc, i)
				key := doc[i:ke]
				match := key[1:len(key)-1] == st.key
				if !match && strings.IndexByte(key, '\\') >= 0 {
					u, _ := unquoteJSON(key)
					match = u == st.key
				}
				i = skipWS(doc, ke)
				i = skipWS(doc, i+1) // past ':'
				if match {
					break
				}
				i = skipWS(doc, skipValue(doc, i))
				if i >= len(doc) || doc[i] != ',' {
					return 0, 0, false
				}
				i = skipWS(doc, i+1)
			}
			continue
		}
		if doc[i] != '[' {
			return 0, 0, false
		}
		i = skipWS(doc, i+1)
		if i < len(doc) && doc[i] == ']' {
			return 0, 0, false
		}
		for k := 0; k < st.index; k++ {
			i = skipWS(doc, skipValue(doc, i))
			if i >= len(doc) || doc[i] != ',' {
				return 0, 0, false
			}
			i = skipWS(doc, i+1)
		}
	}
	if i >= len(doc) {
		return 0, 0, false
	}
	return i, skipValue(doc, i), true
}

// appendCompact appends valid JSON text without insignificant white space.
func appendCompact(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			e := skipString(s, i)
			dst = append(dst, s[i:e]...)
			i = e - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// unquoteJSON decodes a JSON string literal (with its quotes). Invalid
// surrogates become U+FFFD, as encoding/json does.
func unquoteJSON(q string) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	s := q[1 : len(q)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '"', '\\', '/':
			b.WriteByte(s[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok2 := hex4(s, i+3); ok2 && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b.WriteRune(dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), true
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

// jsonScalarText returns the text of a JSON value as JSON_VALUE sees it: a
// string unquoted, a number or boolean as written, an object or array as
// compact text; null is reported by isNull.
func jsonScalarText(raw string) (text string, isNull bool) {
	switch raw[0] {
	case '"':
		u, _ := unquoteJSON(raw)
		return u, false
	case 'n':
		return "", true
	case '{', '[':
		return string(appendCompact(nil, raw)), false
	}
	return raw, false
}

func newJSON(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, 2); err != nil {
		return nil, err
	}
	if err := wantStrings(args); err != nil {
		return nil, err
	}
	extract := call.Fn == "json_extract"
	if err := wantResult(call, types.Varchar, types.JSON); err != nil {
		return nil, err
	}
	p, ok := constString(args[1])
	if !ok {
		return nil, errors.New("the path must be a VARCHAR literal")
	}
	path, err := parseJSONPath(p)
	if err != nil {
		return nil, err
	}
	return &rowNode{args: args[:1], t: call.T, str: func(c *evalCtx, vs []*vec, i int, dst []byte) ([]byte, bool) {
		doc := vs[0].str(i)
		if !validJSON(doc) {
			c.rowErr(i, "%s: invalid JSON text %s", call.Fn, quoteForError(doc))
			return dst, false
		}
		s, e, found := jsonLookup(doc, path)
		if !found {
			return dst, false
		}
		raw := doc[s:e]
		if extract {
			return appendCompact(dst, raw), true
		}
		text, isNull := jsonScalarText(raw)
		if isNull {
			return dst, false
		}
		return append(dst, text...), true
	}}, nil
}

// validJSON checks JSON text without copying it.
func validJSON(s string) bool {
	return json.Valid(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// quoteForError renders a value for an error message, shortened.
func quoteForError(s string) string {
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}
