package sql

import "strings"

// rawStmt is one statement of an application's text: text[start:end] without
// its terminating ';'. code is the same span with every comment blanked out
// (each comment byte replaced by a space, newlines kept), so offsets into code
// are offsets into the text and no later stage has to know comment syntax.
type rawStmt struct {
	start, end int
	code       string
}

// split cuts text into statements at ';' outside strings ('...', with ”
// for a quote), quoted identifiers ("...", with "" for a quote), line
// comments (-- to the end of the line) and block comments (/* ... */). A
// final statement without ';' is allowed; statements holding only blanks and
// comments are dropped. Unterminated strings, identifiers and comments are
// reported to src and end the text.
func split(src *source) []rawStmt {
	text := src.text
	code := []byte(text)
	var out []rawStmt
	emit := func(start, end int) {
		c := string(code[start:end])
		lead := len(c) - len(strings.TrimLeft(c, " \t\r\n\f\v"))
		trail := len(strings.TrimRight(c, " \t\r\n\f\v"))
		if lead < trail {
			out = append(out, rawStmt{start: start + lead, end: start + trail, code: c[lead:trail]})
		}
	}
	blank := func(from, to int) {
		for i := from; i < to; i++ {
			if code[i] != '\n' {
				code[i] = ' '
			}
		}
	}
	start := 0
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\'' || c == '"':
			end := closeQuote(text, i)
			if end < 0 {
				what, fix := "string literal", "add the closing '"
				if c == '"' {
					what, fix = "quoted identifier", `add the closing "`
				}
				src.errorf(i, nearLine(text, i), "unterminated %s: %s", what, fix)
				return out
			}
			i = end
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			blank(i, i+end)
			i += end
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				src.errorf(i, "/*", "unterminated comment: add the closing */")
				return out
			}
			blank(i, i+2+end+2)
			i += 2 + end + 2
		case c == ';':
			emit(start, i)
			i++
			start = i
		default:
			i++
		}
	}
	emit(start, len(text))
	return out
}

// closeQuote returns the offset just past the quote that closes the quoted
// text starting at text[open], or -1. A doubled quote is an escaped quote.
func closeQuote(text string, open int) int {
	q := text[open]
	for i := open + 1; i < len(text); i++ {
		if text[i] != q {
			continue
		}
		if i+1 < len(text) && text[i+1] == q {
			i++
			continue
		}
		return i + 1
	}
	return -1
}

// nearLine returns the rest of the line from off, cut to a readable length.
func nearLine(text string, off int) string {
	s := text[off:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return clip(s)
}

// clip shortens s to at most 40 characters for an error's near text.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}
