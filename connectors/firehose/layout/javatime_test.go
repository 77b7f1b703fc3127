package layout

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goFormat is the oracle: what one run of a Java pattern letter prints,
// computed with Go's own time layouts (and plain integer printing where Java
// does not pad), independently of javatime.go.
func goFormat(t time.Time, letter byte, count int) string {
	switch letter {
	case 'y':
		switch count {
		case 1:
			return strconv.Itoa(t.Year())
		case 2:
			return t.Format("06")
		case 4:
			return t.Format("2006")
		default:
			return fmt.Sprintf("%0*d", count, t.Year())
		}
	case 'M':
		return [...]string{"", t.Format("1"), t.Format("01"), t.Format("Jan"), t.Format("January"), t.Format("January")[:1]}[count]
	case 'd':
		return [...]string{"", t.Format("2"), t.Format("02")}[count]
	case 'H':
		return [...]string{"", strconv.Itoa(t.Hour()), t.Format("15")}[count]
	case 'm':
		return [...]string{"", t.Format("4"), t.Format("04")}[count]
	case 's':
		return [...]string{"", t.Format("5"), t.Format("05")}[count]
	case 'S':
		return t.Format(".000000000")[1 : 1+count]
	}
	panic("no oracle for " + string(letter))
}

func formatJava(t *testing.T, pattern string, at time.Time) string {
	t.Helper()
	p, err := compileTimePattern(pattern)
	if err != nil {
		t.Fatalf("compileTimePattern(%q): %v", pattern, err)
	}
	return string(p.appendTo(nil, at))
}

func TestJavaPatternLetters(t *testing.T) {
	times := []time.Time{
		time.Date(2018, 8, 3, 1, 2, 3, 4_000_000, time.UTC),
		time.Date(2024, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(987, 5, 9, 10, 11, 12, 123_456_789, time.UTC),
	}
	counts := map[byte]int{'y': 6, 'M': 5, 'd': 2, 'H': 2, 'm': 2, 's': 2, 'S': 9}
	for letter, maxCount := range counts {
		for count := 1; count <= maxCount; count++ {
			pattern := strings.Repeat(string(letter), count)
			for _, at := range times {
				if got, want := formatJava(t, pattern, at), goFormat(at, letter, count); got != want {
					t.Errorf("%s at %v = %q, want %q", pattern, at, got, want)
				}
			}
		}
	}
}

// Random patterns of supported letters, separators and quoted literals,
// against the oracle applied token by token.
func TestJavaPatternRandomDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	letters := []byte("yMdHmsS")
	maxCount := map[byte]int{'y': 4, 'M': 5, 'd': 2, 'H': 2, 'm': 2, 's': 2, 'S': 9}
	separators := []string{"/", "-", "_", "=", ".", " ", ":"}
	literals := []string{"year=", "T", "h", "it's", "/day="}
	for i := 0; i < 2000; i++ {
		at := time.Unix(r.Int64N(4_102_444_800), r.Int64N(1e9)).UTC() // 1970..2100
		var pattern, want strings.Builder
		for n := 1 + r.IntN(6); n > 0; n-- {
			switch r.IntN(3) {
			case 0:
				l := letters[r.IntN(len(letters))]
				c := 1 + r.IntN(maxCount[l])
				pattern.WriteString(strings.Repeat(string(l), c))
				want.WriteString(goFormat(at, l, c))
				// Separate runs so two of the same letter do not merge.
				pattern.WriteString("/")
				want.WriteString("/")
			case 1:
				s := separators[r.IntN(len(separators))]
				pattern.WriteString(s)
				want.WriteString(s)
			default:
				lit := literals[r.IntN(len(literals))]
				// A separator after the literal: two quoted literals side by
				// side are one literal with an escaped quote, as in Java.
				pattern.WriteString("'" + strings.ReplaceAll(lit, "'", "''") + "'-")
				want.WriteString(lit + "-")
			}
		}
		if got := formatJava(t, pattern.String(), at); got != want.String() {
			t.Fatalf("pattern %q at %v = %q, want %q", pattern.String(), at, got, want.String())
		}
	}
}

func TestJavaPatternLiterals(t *testing.T) {
	at := time.Date(2018, 7, 6, 23, 0, 0, 0, time.UTC)
	tests := map[string]string{
		"''":                   "'",
		"'o''clock' HH":        "o'clock 23",
		"'a''b'":               "a'b", // two quotes inside a literal are one quote
		"'a'''":                "a'",
		"yyyy[/MM]":            "2018/07",
		"[yyyy[-MM]]":          "2018-07",
		"yyyy/MM/dd/HH/":       "2018/07/06/23/",
		"'year='yyyy'/month='": "year=2018/month=",
	}
	for pattern, want := range tests {
		if got := formatJava(t, pattern, at); got != want {
			t.Errorf("%q = %q, want %q", pattern, got, want)
		}
	}
}

func TestJavaPatternRejects(t *testing.T) {
	for _, pattern := range []string{"EEE", "a", "hh", "YYYY", "DDD", "u", "z", "dd{", "}", "MMMMMM", "SSSSSSSSSS", "mmm", "'open", "]"} {
		if _, err := compileTimePattern(pattern); err == nil {
			t.Errorf("compileTimePattern(%q) accepted a pattern eddy does not support", pattern)
		}
	}
}
