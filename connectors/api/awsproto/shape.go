package awsproto

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ShapeType is the type of a shape in an AWS service model.
type ShapeType int

// The shape types that AWS JSON 1.1 services use.
const (
	TypeString ShapeType = iota + 1
	TypeInteger
	TypeLong
	TypeBoolean
	TypeBlob
	TypeTimestamp
	TypeStructure
	TypeList
	TypeMap
	TypeDouble
)

func (t ShapeType) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInteger:
		return "integer"
	case TypeLong:
		return "long"
	case TypeBoolean:
		return "boolean"
	case TypeBlob:
		return "blob"
	case TypeTimestamp:
		return "timestamp"
	case TypeStructure:
		return "structure"
	case TypeList:
		return "list"
	case TypeMap:
		return "map"
	case TypeDouble:
		return "double"
	}
	return fmt.Sprintf("ShapeType(%d)", int(t))
}

// Shape is one shape of a service model with the constraints AWS validates
// before an operation runs: lengths (of strings, blobs, lists and maps), value
// ranges (of numbers), a pattern (strings), an enum (strings) and required
// members (structures). Shapes are generated from the model (see
// connectors/api/internal/gen) and never change once the Service is built.
type Shape struct {
	Name     string
	Type     ShapeType
	Min, Max int64 // valid when HasMin, HasMax
	HasMin   bool
	HasMax   bool
	// Pattern is the model's regular expression (Java syntax; the ones AWS uses
	// are also RE2). A value must match it whole.
	Pattern string
	Enum    []string
	// Members of a structure, in the model's order; Required names some of them.
	Members  []Member
	Required []string
	// Member is a list's element shape; Key and Value are a map's.
	Member     *Shape
	Key, Value *Shape

	re *regexp.Regexp
}

// Member is a named member of a structure.
type Member struct {
	Name  string
	Shape *Shape

	path string // Name with a lower-case first letter, as messages name it
}

func (m *Member) pathName() string {
	if m.path == "" {
		return lowerFirst(m.Name)
	}
	return m.path
}

// pathSeg is one step of a path into an input: a member or map key (name), or
// a list element (index, from 1).
type pathSeg struct {
	name  string
	index int
}

// pathStack is where a value lies in an input, outermost first. It is built as
// a decoder or validator descends and made a string only for a message:
// records.2.member.partitionKey.
type pathStack []pathSeg

func (p pathStack) String() string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		if s.index > 0 {
			b.WriteString(strconv.Itoa(s.index))
			b.WriteString(".member")
		} else {
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// Operation is an operation of a service: its name, the shape of its input
// (nil when it takes none) and whether it has an output.
type Operation struct {
	Name      string
	Input     *Shape
	HasOutput bool
}

// Service is what the protocol needs of a service model: the X-Amz-Target
// prefix and the operations.
type Service struct {
	TargetPrefix string
	Operations   map[string]*Operation
}

// Compile checks every shape reachable from the operations and compiles the
// patterns. A generated model calls it once when it is built.
func (svc *Service) Compile() error {
	seen := map[*Shape]bool{}
	var walk func(s *Shape) error
	walk = func(s *Shape) error {
		if s == nil || seen[s] {
			return nil
		}
		seen[s] = true
		if s.Pattern != "" {
			re, err := regexp.Compile(`^(?:` + s.Pattern + `)$`)
			if err != nil {
				return fmt.Errorf("shape %s: pattern %q: %w", s.Name, s.Pattern, err)
			}
			s.re = re
		}
		for i := range s.Members {
			m := &s.Members[i]
			m.path = lowerFirst(m.Name)
			if err := walk(m.Shape); err != nil {
				return err
			}
		}
		for _, c := range []*Shape{s.Member, s.Key, s.Value} {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for name, op := range svc.Operations {
		if err := walk(op.Input); err != nil {
			return fmt.Errorf("service %s operation %s: %w", svc.TargetPrefix, name, err)
		}
	}
	return nil
}
