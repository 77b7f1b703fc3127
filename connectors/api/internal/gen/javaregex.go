package main

import (
	"strings"
)

// re2Pattern turns a model's pattern (Java regular expression syntax) into
// one Go's regexp (RE2) compiles, for the constructs AWS models use that RE2
// lacks; a pattern without them is returned unchanged:
//
//   - negative lookarounds (?!X) and (?<!X) are dropped: they only narrow what
//     a pattern accepts, so the result accepts a little more than AWS
//     (Firehose's NonEmptyString '^(?!\s*$).+' accepts blank strings, its
//     TagKey '^(?!aws:)...' keys starting with aws:) and services check those
//     cases themselves;
//   - \uXXXX becomes \x{XXXX}.
func re2Pattern(p string) string {
	if !strings.Contains(p, "(?!") && !strings.Contains(p, "(?<!") && !strings.Contains(p, `\u`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		switch {
		case p[i] == '\\' && i+5 < len(p) && p[i+1] == 'u' && isHex4(p[i+2:min(i+6, len(p))]):
			b.WriteString(`\x{` + p[i+2:i+6] + `}`)
			i += 6
		case p[i] == '\\' && i+1 < len(p):
			b.WriteString(p[i : i+2])
			i += 2
		case strings.HasPrefix(p[i:], "(?!") || strings.HasPrefix(p[i:], "(?<!"):
			i = skipGroup(p, i)
		default:
			b.WriteByte(p[i])
			i++
		}
	}
	return b.String()
}

func isHex4(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// skipGroup returns the index just past the group that opens at p[i],
// honouring escapes and character classes.
func skipGroup(p string, i int) int {
	depth, inClass := 0, false
	for ; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(p)
}
