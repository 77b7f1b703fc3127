package sql

import "strings"

// Set is an application setting, Flink's SET 'key' = 'value': e.g.
// SET application_name = 'clicks' or SET 'checkpoint.interval' = '10 seconds'.
// The statement only checks the form; what runs the application knows the
// keys and checks the values.
type Set struct {
	Pos      Pos
	Key      string // lower case, as written otherwise
	Value    string
	ValuePos Pos
}

// Position returns where the statement starts.
func (s *Set) Position() Pos { return s.Pos }

// set parses SET key = value, where key is a name, a dotted name or a string
// and value a string, a number or a word (TRUE, FALSE).
func (c *stmtCtx) set() Statement {
	const form = "SET key = 'value', e.g. SET checkpoint_interval = '10 seconds'"
	i := 1
	var key string
	switch t := c.tok(i); {
	case t.kind == tokString:
		key = t.val
		i++
	case t.kind == tokWord || t.kind == tokQIdent:
		for {
			part, ok := c.tok(i).name()
			if !ok {
				c.errorTok(c.tok(i), "expected a setting name: %s", form)
				return nil
			}
			key += part
			i++
			if !c.tok(i).is(".") {
				break
			}
			key += "."
			i++
		}
	default:
		c.errorTok(t, "expected a setting name after SET: %s", form)
		return nil
	}
	if !c.tok(i).is("=") {
		c.errorTok(c.tok(i), "expected = after SET %s: %s", key, form)
		return nil
	}
	i++
	v := c.tok(i)
	var value string
	switch v.kind {
	case tokString:
		value = v.val
	case tokNumber, tokWord:
		value = v.text
	default:
		c.errorTok(v, "expected the value of %s after =: %s", key, form)
		return nil
	}
	if i+1 < len(c.toks) {
		c.errorTok(c.toks[i+1], "unexpected text after SET %s = %s: one setting per SET statement", key, v.text)
		return nil
	}
	return &Set{Pos: c.src.pos(c.raw.start), Key: strings.ToLower(key), Value: value, ValuePos: c.src.pos(c.raw.start + v.start)}
}
