package sql

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// source is the text of one application with what it takes to turn byte
// offsets into positions and to collect errors against it.
type source struct {
	file       string
	text       string
	lineStarts []int // byte offset of the first byte of each line
	errs       ErrorList
}

func newSource(file, text string) *source {
	s := &source{file: file, text: text, lineStarts: []int{0}}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			s.lineStarts = append(s.lineStarts, i+1)
		}
	}
	return s
}

// pos returns the position of byte offset off of the text.
func (s *source) pos(off int) Pos {
	off = max(0, min(off, len(s.text)))
	line := sort.Search(len(s.lineStarts), func(i int) bool { return s.lineStarts[i] > off }) - 1
	start := s.lineStarts[line]
	return Pos{File: s.file, Line: line + 1, Col: utf8.RuneCountInString(s.text[start:off]) + 1, Offset: off}
}

// errorf records an error at byte offset off with near as the offending text.
func (s *source) errorf(off int, near, format string, args ...any) {
	s.errs = append(s.errs, &Error{Pos: s.pos(off), Msg: fmt.Sprintf(format, args...), Near: near})
}
