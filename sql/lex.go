package sql

import (
	"reflect"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/mysql"
)

// sqlMode is the tidb SQL mode eddy parses with: "..." quotes identifiers,
// || concatenates, and a backslash in a string is an ordinary character (as in
// standard SQL, so regular expressions such as '\d+' need no doubling).
const sqlMode = mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes

// tokKind classifies a token by its text.
type tokKind uint8

const (
	tokWord   tokKind = iota // identifier or keyword
	tokQIdent                // "quoted identifier" or `quoted identifier`
	tokString                // 'string'
	tokNumber                // 1, 1.5, 1e3
	tokPunct                 // operators and punctuation
)

// token is one token of a statement, as tidb's lexer sees it. start and end
// are byte offsets in the lexed text; val is the identifier or the string
// value with quotes removed and escapes resolved, else the text.
type token struct {
	kind       tokKind
	start, end int
	text       string
	val        string
}

// is says whether t is the word w (case-insensitive) or the punctuation w.
func (t token) is(w string) bool {
	if t.kind == tokWord {
		return strings.EqualFold(t.text, w)
	}
	return t.kind == tokPunct && t.text == w
}

// name is the identifier t names (quoted or not), and whether t is one.
func (t token) name() (string, bool) {
	switch t.kind {
	case tokWord:
		return t.text, true
	case tokQIdent:
		return t.val, true
	}
	return "", false
}

// lex splits code into tokens with tidb's own lexer, so statement rewriting
// and DDL parsing see exactly the tokens tidb's parser sees.
//
// tidb exports Scanner.Lex, but its argument type (yySymType) and the
// scanner's reading position are unexported, so they are reached by
// reflection: Lex is called with a freshly allocated yySymType and the start
// (yySymType.offset), value (yySymType.ident) and end (Scanner.r.p.Offset) of
// each token are read back. The tidb version is pinned in go.mod and
// TestLexer fails loudly if these internals move.
func lex(code string) []token {
	sc := parser.NewScanner(code)
	sc.SetSQLMode(sqlMode)
	lexFn := reflect.ValueOf(sc).MethodByName("Lex")
	symType := lexFn.Type().In(0).Elem()
	readPos := reflect.ValueOf(sc).Elem().FieldByName("r").FieldByName("p").FieldByName("Offset")
	var out []token
	last := -1
	for {
		sym := reflect.New(symType)
		if lexFn.Call([]reflect.Value{sym})[0].Int() == 0 {
			return out
		}
		start := int(sym.Elem().FieldByName("offset").Int())
		end := int(readPos.Int())
		if end <= last || start >= end || end > len(code) {
			// A token tidb cannot scan (it reports those to its parser): take
			// the rest of the text as one token so that lexing ends.
			if last < len(code) {
				out = append(out, token{kind: tokPunct, start: max(last, 0), end: len(code), text: code[max(last, 0):]})
			}
			return out
		}
		last = end
		t := token{start: start, end: end, text: code[start:end], val: sym.Elem().FieldByName("ident").String()}
		switch c := code[start]; {
		case c == '\'':
			t.kind = tokString
		case c == '"' || c == '`':
			t.kind = tokQIdent
		case c >= '0' && c <= '9' || c == '.' && len(t.text) > 1:
			t.kind = tokNumber
		case c == '_' || c == '$' || c >= 0x80 || c|0x20 >= 'a' && c|0x20 <= 'z':
			t.kind = tokWord
		default:
			t.kind = tokPunct
		}
		if t.kind != tokString && t.kind != tokQIdent {
			t.val = t.text
		}
		out = append(out, t)
	}
}
