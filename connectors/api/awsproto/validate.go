package awsproto

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks a normalized input (see normalize) against its structure
// shape and returns every violated constraint in AWS's words, members in the
// model's order:
//
//	Value 'x!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+
//	Value null at 'shardId' failed to satisfy constraint: Member must not be null
//
// Paths name members with a lower-case first letter and list elements as
// records.1.member (counting from 1), as AWS does.
func Validate(s *Shape, in map[string]any) ValidationErrors {
	v := &validator{}
	v.structure(s, in)
	return v.errs
}

// validator collects violations; path is where the value being checked lies,
// made a string only for a message.
type validator struct {
	errs ValidationErrors
	path pathStack
}

func (v *validator) add(value, constraint string) {
	v.errs = append(v.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, v.path, constraint))
}

func (v *validator) structure(s *Shape, m map[string]any) {
	for i := range s.Members {
		mem := &s.Members[i]
		v.path = append(v.path, pathSeg{name: mem.pathName()})
		val, ok := m[mem.Name]
		if !ok {
			if slices.Contains(s.Required, mem.Name) {
				v.add("null", "Member must not be null")
			}
		} else {
			v.value(mem.Shape, val)
		}
		v.path = v.path[:len(v.path)-1]
	}
}

func (v *validator) value(s *Shape, val any) {
	quoted := func() string { return "'" + render(s, val) + "'" }
	if cs := constraintsOf(s, val); len(cs) > 0 {
		q := quoted()
		for _, c := range cs {
			v.add(q, c)
		}
	}
	switch s.Type {
	case TypeStructure:
		if m, ok := val.(map[string]any); ok {
			v.structure(s, m)
		}
	case TypeList:
		l, _ := val.([]any)
		for i, e := range l {
			v.path = append(v.path, pathSeg{index: i + 1})
			v.value(s.Member, e)
			v.path = v.path[:len(v.path)-1]
		}
	case TypeMap:
		m, _ := val.(map[string]any)
		keys := sortedKeys(m)
		var keyErrs, valErrs []string
		for _, k := range keys {
			keyErrs = appendNew(keyErrs, constraintsOf(s.Key, k)...)
			valErrs = appendNew(valErrs, constraintsOf(s.Value, m[k])...)
		}
		if len(keyErrs) > 0 {
			v.add(quoted(), "Map keys must satisfy constraint: ["+strings.Join(keyErrs, ", ")+"]")
		}
		if len(valErrs) > 0 {
			v.add(quoted(), "Map value must satisfy constraint: ["+strings.Join(valErrs, ", ")+"]")
		}
	}
}

func appendNew(dst []string, add ...string) []string {
	for _, a := range add {
		if !slices.Contains(dst, a) {
			dst = append(dst, a)
		}
	}
	return dst
}

// constraintsOf lists the constraints of s (not of its members) that val violates.
func constraintsOf(s *Shape, val any) []string {
	if s == nil {
		return nil
	}
	var out []string
	length := func(n int64) {
		if s.HasMin && n < s.Min {
			out = append(out, "Member must have length greater than or equal to "+strconv.FormatInt(s.Min, 10))
		}
		if s.HasMax && n > s.Max {
			out = append(out, "Member must have length less than or equal to "+strconv.FormatInt(s.Max, 10))
		}
	}
	switch x := val.(type) {
	case string:
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, x) {
			out = append(out, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
		if s.re != nil && !s.re.MatchString(x) {
			out = append(out, "Member must satisfy regular expression pattern: "+s.Pattern)
		}
		length(javaLength(x))
	case []byte:
		length(int64(len(x)))
	case []any:
		length(int64(len(x)))
	case map[string]any:
		if s.Type == TypeMap {
			length(int64(len(x)))
		}
	case int64:
		if s.HasMin && x < s.Min {
			out = append(out, "Member must have value greater than or equal to "+strconv.FormatInt(s.Min, 10))
		}
		if s.HasMax && x > s.Max {
			out = append(out, "Member must have value less than or equal to "+strconv.FormatInt(s.Max, 10))
		}
	case float64:
		if s.HasMin && x < float64(s.Min) {
			out = append(out, "Member must have value greater than or equal to "+strconv.FormatInt(s.Min, 10))
		}
		if s.HasMax && x > float64(s.Max) {
			out = append(out, "Member must have value less than or equal to "+strconv.FormatInt(s.Max, 10))
		}
	}
	return out
}

// javaLength is a string's length as Java counts it (UTF-16 code units), which
// is what AWS's length constraints count.
func javaLength(s string) int64 {
	n := int64(0)
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	if !utf8.ValidString(s) {
		return int64(len(s))
	}
	return n
}

// render writes a value as AWS's messages show it (Java's toString).
func render(s *Shape, val any) string {
	switch x := val.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		return fmt.Sprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len(x), len(x))
	case time.Time:
		return x.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			var es *Shape
			if s != nil {
				es = s.Member
			}
			parts[i] = render(es, e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if s != nil && s.Type == TypeStructure {
			var parts []string
			for _, m := range s.Members {
				if e, ok := x[m.Name]; ok {
					parts = append(parts, m.Name+": "+render(m.Shape, e))
				}
			}
			return "{" + strings.Join(parts, ", ") + "}"
		}
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			var vs *Shape
			if s != nil {
				vs = s.Value
			}
			parts = append(parts, k+"="+render(vs, x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(val)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
