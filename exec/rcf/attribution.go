package rcf

import (
	"strconv"
	"unicode/utf8"
)

// Direction says whether a column's value is anomalous for being above
// (High) or below (Low) the values the forest has seen.
type Direction uint8

const (
	Low Direction = iota
	High
)

func (d Direction) String() string {
	if d == High {
		return "HIGH"
	}
	return "LOW"
}

// Attribution is one column's part of an anomaly score.
type Attribution struct {
	// Score is the column's share of the anomaly score, >= 0; the shares of all
	// columns add up to the score.
	Score float64
	// Direction is High when the column contributes more by being above the
	// data than below it.
	Direction Direction
	// Strength, in [0, 1], is how one-sided the contribution is:
	// |high - low| / (high + low). 1 means all of the column's score comes from
	// one direction, 0 that it is split evenly (or that there is no score).
	Strength float64
}

// AppendExplanation appends KDA's ANOMALY_EXPLANATION JSON for the columns
// named names (in order) to dst:
//
//	{"Systolic":{"DIRECTION":"LOW","STRENGTH":"0.0922","ATTRIBUTION_SCORE":"0.3792"},...}
//
// with numbers as strings with 4 decimals. It panics if the lengths differ.
func AppendExplanation(dst []byte, names []string, attrs []Attribution) []byte {
	if len(names) != len(attrs) {
		panic("rcf: AppendExplanation: names and attributions differ in length")
	}
	dst = append(dst, '{')
	for i, a := range attrs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, names[i])
		dst = append(dst, `:{"DIRECTION":"`...)
		dst = append(dst, a.Direction.String()...)
		dst = append(dst, `","STRENGTH":"`...)
		dst = strconv.AppendFloat(dst, a.Strength, 'f', 4, 64)
		dst = append(dst, `","ATTRIBUTION_SCORE":"`...)
		dst = strconv.AppendFloat(dst, a.Score, 'f', 4, 64)
		dst = append(dst, `"}`...)
	}
	return append(dst, '}')
}

// Explanation is AppendExplanation as a string.
func Explanation(names []string, attrs []Attribution) string {
	return string(AppendExplanation(nil, names, attrs))
}

// appendJSONString quotes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\ufffd"...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}
