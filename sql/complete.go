package sql

import "strings"

// Complete reports whether text ends a statement: its last character outside
// blanks and comments is a ';' that is not inside a string, quoted identifier or
// comment. A REPL reads lines until the buffer is Complete.
func Complete(text string) bool {
	ended := false
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\'' || c == '"':
			end := closeQuote(text, i)
			if end < 0 {
				return false
			}
			i, ended = end, false
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				return ended
			}
			i += end
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return false
			}
			i += 2 + end + 2
		case c == ';':
			ended = true
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			ended = false
			i++
		}
	}
	return ended
}
