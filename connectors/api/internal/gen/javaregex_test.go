package main

import (
	"regexp"
	"testing"
)

func TestRE2Pattern(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`[a-zA-Z0-9_.-]+`, `[a-zA-Z0-9_.-]+`},
		{`^(?!\s*$).+`, `^.+`},
		{`^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`, `^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`},
		{`jdbc:(redshift|postgresql)://((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+x`, `jdbc:(redshift|postgresql)://([A-Za-z0-9-]{1,63}\.)+x`},
		{`[\u0001-\uFFFF]*`, `[\x{0001}-\x{FFFF}]*`},
		{`(?!a\)b[)])c`, `c`},
		{`\\u0041`, `\\u0041`},
	} {
		got := re2Pattern(tc.in)
		if got != tc.want {
			t.Errorf("re2Pattern(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if _, err := regexp.Compile(got); err != nil {
			t.Errorf("re2Pattern(%q) = %q does not compile: %v", tc.in, got, err)
		}
	}
}
