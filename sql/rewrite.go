package sql

import (
	"sort"
	"strings"
)

// Names of the functions the rewriter introduces for forms tidb's grammar
// lacks. The binder knows them and names the original form in its errors.
const (
	fnInterval = "__eddy_interval" // INTERVAL 'n' UNIT -> __eddy_interval('n', 'UNIT')
	fnFloorTo  = "__eddy_floor_to" // FLOOR(ts TO UNIT) -> __eddy_floor_to(ts, 'UNIT')
	fnCast     = "__eddy_cast"     // CAST(x AS type)   -> __eddy_cast(x, 'type')
	fnStep     = "__eddy_step"     // STEP(ts BY i)     -> __eddy_step(ts, i)
	fnSession  = "__eddy_session"  // SESSION(...)      -> __eddy_session(...) (SESSION is a keyword to tidb)
	// frameIntervalUnit marks a window frame bound INTERVAL 'n' UNIT, rewritten to
	// INTERVAL __eddy_interval('n', 'UNIT') MICROSECOND (tidb has no MILLISECOND).
	frameIntervalUnit = "MICROSECOND"
	// FIRST_VALUE(x) and LAST_VALUE(x) without OVER are eddy's aggregates; tidb's
	// grammar has them only as window functions.
	fnFirstValue = "__eddy_first_value"
	fnLastValue  = "__eddy_last_value"
	// fnPartitionBy carries the PARTITION BY of RANDOM_CUT_FOREST(...) OVER
	// (PARTITION BY k) into the call, as tidb's grammar has OVER only for its
	// own window functions.
	fnPartitionBy = "__eddy_partition_by"
)

// segment maps a run of rewritten text to the original text. A verbatim
// segment is copied byte for byte; any other maps every offset inside it to
// the start of the original tokens it replaced.
type segment struct {
	newStart, newEnd   int
	origStart, origEnd int
	verbatim           bool
}

// offsetMap maps offsets in rewritten text back to the original text.
type offsetMap []segment

// orig returns the original offset of rewritten offset n.
func (m offsetMap) orig(n int) int {
	i := sort.Search(len(m), func(i int) bool { return m[i].newEnd > n })
	if i == len(m) {
		if len(m) == 0 {
			return n
		}
		last := m[len(m)-1]
		return last.origEnd + (n - last.newEnd)
	}
	s := m[i]
	if s.verbatim {
		return s.origStart + (n - s.newStart)
	}
	return s.origStart
}

// origEnd returns the original offset of the end n (exclusive) of a span of
// rewritten text: the end of the original tokens a replacement stands for.
func (m offsetMap) origEnd(n int) int {
	if n <= 0 {
		return m.orig(n)
	}
	i := sort.Search(len(m), func(i int) bool { return m[i].newEnd >= n })
	if i == len(m) {
		return m.orig(n)
	}
	s := m[i]
	if s.verbatim {
		return s.origStart + (n - s.newStart)
	}
	return s.origEnd
}

// replacement replaces the tokens toks[from..to] (inclusive) with text.
type replacement struct {
	from, to int
	text     string
}

// rewrite turns the tokens of a query into text tidb's parser accepts,
// rewriting the forms its grammar lacks, and returns the text with the map
// back to offsets in code:
//
//	INTERVAL 'n' UNIT     -> __eddy_interval('n', 'UNIT')  (also as a function argument)
//	FLOOR(x TO UNIT)      -> __eddy_floor_to(x, 'UNIT')
//	CAST(x AS type ...)   -> __eddy_cast(x, 'type ...')    (any eddy type name)
//	STEP(x BY i)          -> __eddy_step(x, i)
//	SESSION(...)          -> __eddy_session(...)
//	FIRST_VALUE(x)        -> __eddy_first_value(x)         (not followed by OVER; LAST_VALUE likewise)
//	SELECT STREAM ...     -> SELECT ...                    (KDA)
//	INTERVAL 'n' UNIT PRECEDING -> INTERVAL __eddy_interval('n', 'UNIT') MICROSECOND PRECEDING
//	                               (a window frame bound; FOLLOWING likewise)
//	RANDOM_CUT_FOREST(a) OVER (PARTITION BY k) -> RANDOM_CUT_FOREST(a, __eddy_partition_by(k))
//	                               (and RANDOM_CUT_FOREST_WITH_EXPLANATION; OVER () drops)
//
// Only whole tokens are replaced; everything else is copied verbatim.
func rewrite(code string, toks []token) (string, offsetMap) {
	var reps []replacement
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		next := func(k int) token {
			if i+k < len(toks) {
				return toks[i+k]
			}
			return token{kind: tokPunct}
		}
		switch {
		case t.is("INTERVAL") && !next(1).is("(") && (next(1).kind == tokString || next(1).kind == tokNumber) &&
			next(2).kind == tokWord:
			open, closing := fnInterval+"(", ", "+quote(strings.ToUpper(next(2).text))+")"
			if next(3).is("PRECEDING") || next(3).is("FOLLOWING") {
				// A window frame bound: tidb's grammar wants INTERVAL expr unit there.
				open, closing = "INTERVAL "+open, closing+" "+frameIntervalUnit
			}
			reps = append(reps, replacement{i, i, open}, replacement{i + 2, i + 2, closing})
			i += 2
		case t.is("SELECT") && next(1).is("STREAM") && next(2).kind != tokPunct && !next(2).is("FROM") && !next(2).is("AS"):
			reps = append(reps, replacement{i + 1, i + 1, ""})
		case t.is("SESSION") && next(1).is("("):
			reps = append(reps, replacement{i, i, fnSession})
		case (t.is("FLOOR") || t.is("CAST") || t.is("STEP")) && next(1).is("("):
			reps = append(reps, rewriteCall(code, toks, i)...)
		case (t.is("RANDOM_CUT_FOREST") || t.is("RANDOM_CUT_FOREST_WITH_EXPLANATION")) && next(1).is("("):
			reps = append(reps, rewriteForestOver(toks, i)...)
		case (t.is("FIRST_VALUE") || t.is("LAST_VALUE")) && next(1).is("(") && !windowCall(toks, i+1):
			reps = append(reps, replacement{i, i, pick(t.is("FIRST_VALUE"), fnFirstValue, fnLastValue)})
		}
	}
	return apply(code, toks, reps)
}

// rewriteCall rewrites FLOOR(x TO u), CAST(x AS t) or STEP(x BY i) whose name
// is toks[i], when the keyword is at the call's own parenthesis depth.
func rewriteCall(code string, toks []token, i int) []replacement {
	kw, fn := "TO", fnFloorTo
	switch {
	case toks[i].is("CAST"):
		kw, fn = "AS", fnCast
	case toks[i].is("STEP"):
		kw, fn = "BY", fnStep
	}
	depth, at := 0, -1
	for j := i + 1; j < len(toks); j++ {
		switch {
		case toks[j].is("("):
			depth++
		case toks[j].is(")"):
			depth--
			if depth == 0 {
				if at < 0 || at == j-1 {
					return nil
				}
				reps := []replacement{{i, i, fn}}
				switch kw {
				case "BY":
					return append(reps, replacement{at, at, ","})
				case "TO":
					if at != j-2 || toks[at+1].kind != tokWord {
						return nil
					}
					return append(reps, replacement{at, at, ","}, replacement{at + 1, at + 1, quote(strings.ToUpper(toks[at+1].text))})
				}
				typ := code[toks[at+1].start:toks[j-1].end]
				return append(reps, replacement{at, at, ","}, replacement{at + 1, j - 1, quote(strings.Join(strings.Fields(typ), " "))})
			}
		case depth == 1 && at < 0 && toks[j].is(kw):
			at = j
		}
	}
	return nil
}

// rewriteForestOver moves the OVER (PARTITION BY ...) after a forest call,
// whose name is toks[i], into the call as __eddy_partition_by(...). A window
// with anything but PARTITION BY is left for tidb to refuse.
func rewriteForestOver(toks []token, i int) []replacement {
	closeAt := matching(toks, i+1)
	if closeAt < 0 || closeAt+2 >= len(toks) || !toks[closeAt+1].is("OVER") || !toks[closeAt+2].is("(") {
		return nil
	}
	overClose := matching(toks, closeAt+2)
	if overClose < 0 {
		return nil
	}
	if overClose == closeAt+3 { // OVER (): one forest for every row
		return []replacement{{closeAt + 1, overClose, ""}}
	}
	if overClose < closeAt+5 || !toks[closeAt+3].is("PARTITION") || !toks[closeAt+4].is("BY") {
		return nil
	}
	sep := ", " + fnPartitionBy + "("
	if closeAt == i+2 { // no arguments before the partition
		sep = fnPartitionBy + "("
	}
	return []replacement{{closeAt, closeAt, sep}, {closeAt + 1, closeAt + 4, ""}, {overClose, overClose, "))"}}
}

// matching returns the index of the ")" closing the "(" at toks[open], or -1.
func matching(toks []token, open int) int {
	depth := 0
	for j := open; j < len(toks); j++ {
		switch {
		case toks[j].is("("):
			depth++
		case toks[j].is(")"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// windowCall says whether the call whose "(" is toks[open] is followed by a
// window (OVER, or IGNORE/RESPECT NULLS before it), or is unbalanced; either
// way it is left to tidb.
func windowCall(toks []token, open int) bool {
	j := matching(toks, open)
	if j < 0 {
		return true
	}
	return j+1 < len(toks) && (toks[j+1].is("OVER") || toks[j+1].is("IGNORE") || toks[j+1].is("RESPECT"))
}

// apply builds the rewritten text from the replacements, in token order.
func apply(code string, toks []token, reps []replacement) (string, offsetMap) {
	sort.Slice(reps, func(a, b int) bool { return reps[a].from < reps[b].from })
	var b strings.Builder
	var m offsetMap
	copyTo := func(origStart, origEnd int) {
		if origEnd > origStart {
			m = append(m, segment{b.Len(), b.Len() + origEnd - origStart, origStart, origEnd, true})
			b.WriteString(code[origStart:origEnd])
		}
	}
	at := 0
	for _, r := range reps {
		start, end := toks[r.from].start, toks[r.to].end
		if start < at {
			continue // overlapping rewrites: keep the first
		}
		copyTo(at, start)
		if r.text != "" {
			m = append(m, segment{b.Len(), b.Len() + len(r.text), start, end, false})
			b.WriteString(r.text)
		}
		at = end
	}
	copyTo(at, len(code))
	return b.String(), m
}

// quote renders s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
