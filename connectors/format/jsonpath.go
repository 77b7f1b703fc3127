package format

import (
	"fmt"
	"strconv"
	"strings"
)

// pathSeg is one step of a JSON path: a field name, or an array index when
// isIndex.
type pathSeg struct {
	name    string
	index   int
	isIndex bool
}

// parsePath reads a JSON path of the form $, $.a.b, $.items[0].sku,
// $["odd key"], $['odd key'] or $.a[2][0]. Field names after a dot run to the
// next '.' or '['.
func parsePath(p string) ([]pathSeg, error) {
	s := strings.TrimSpace(p)
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("JSON path %q must start with $", p)
	}
	var segs []pathSeg
	i := 1
	for i < len(s) {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("JSON path %q: empty field name at offset %d", p, i+1)
			}
			segs = append(segs, pathSeg{name: s[i+1 : j]})
			i = j
		case '[':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\'') {
				q := s[i+1]
				j := strings.IndexByte(s[i+2:], q)
				if j < 0 || i+2+j+1 >= len(s) || s[i+2+j+1] != ']' {
					return nil, fmt.Errorf("JSON path %q: unterminated [%c...%c] at offset %d", p, q, q, i)
				}
				segs = append(segs, pathSeg{name: s[i+2 : i+2+j]})
				i = i + 2 + j + 2
				continue
			}
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("JSON path %q: missing ] after offset %d", p, i)
			}
			n, err := strconv.Atoi(s[i+1 : i+j])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("JSON path %q: %q is not an array index (a number from 0)", p, s[i+1:i+j])
			}
			segs = append(segs, pathSeg{index: n, isIndex: true})
			i += j + 1
		default:
			return nil, fmt.Errorf("JSON path %q: unexpected %q at offset %d; use $.field or $.field[0]", p, s[i], i)
		}
	}
	return segs, nil
}

// pathNode is a node of the trie of the projected columns' paths: the columns
// read from the value at this point, and the steps deeper.
type pathNode struct {
	leaves   []int // projected column indexes whose value is this node's value
	fields   []fieldEdge
	fieldMap map[string]*pathNode // when there are many fields
	// fieldTab finds a field edge by a hash of the key's length and its first
	// and last bytes: 0 none, 255 several (search fields), else index+1.
	fieldTab *[64]uint8
	indexes  []indexEdge
}

type fieldEdge struct {
	name  string
	child *pathNode
}

type indexEdge struct {
	index int
	child *pathNode
}

// ciLeaf is a column read from the top-level field of its name, matched
// case-insensitively when no field has the exact name.
type ciLeaf struct {
	name []byte
	col  int
}

const fieldMapMin = 32

func keyHash(k string) int {
	if len(k) == 0 {
		return 0
	}
	return (len(k)*7 + int(k[0])*31 + int(k[len(k)-1])) & 63
}

func (n *pathNode) add(segs []pathSeg, col int) {
	if len(segs) == 0 {
		n.leaves = append(n.leaves, col)
		return
	}
	sg := segs[0]
	var child *pathNode
	if sg.isIndex {
		for _, e := range n.indexes {
			if e.index == sg.index {
				child = e.child
			}
		}
		if child == nil {
			child = &pathNode{}
			n.indexes = append(n.indexes, indexEdge{index: sg.index, child: child})
		}
	} else {
		for _, e := range n.fields {
			if e.name == sg.name {
				child = e.child
			}
		}
		if child == nil {
			child = &pathNode{}
			n.fields = append(n.fields, fieldEdge{name: sg.name, child: child})
		}
	}
	child.add(segs[1:], col)
}

// finish builds lookup maps for wide nodes.
func (n *pathNode) finish() {
	if len(n.fields) >= fieldMapMin {
		n.fieldMap = make(map[string]*pathNode, len(n.fields))
		for _, e := range n.fields {
			n.fieldMap[e.name] = e.child
		}
	} else if len(n.fields) > 0 {
		n.fieldTab = new([64]uint8)
		for i, e := range n.fields {
			h := keyHash(e.name)
			if n.fieldTab[h] == 0 {
				n.fieldTab[h] = uint8(i + 1)
			} else {
				n.fieldTab[h] = 255
			}
		}
	}
	for _, e := range n.fields {
		e.child.finish()
	}
	for _, e := range n.indexes {
		e.child.finish()
	}
}

// field returns the child for an exact field name, or nil.
func (n *pathNode) field(key []byte) *pathNode {
	if n.fieldTab != nil {
		switch v := n.fieldTab[keyHash(unsafeString(key))]; v {
		case 0:
			return nil
		case 255:
		default:
			if e := &n.fields[v-1]; e.name == string(key) {
				return e.child
			}
			return nil
		}
	} else if n.fieldMap != nil {
		return n.fieldMap[string(key)]
	}
	for i := range n.fields {
		if n.fields[i].name == string(key) {
			return n.fields[i].child
		}
	}
	return nil
}

func (n *pathNode) index(i int) *pathNode {
	for _, e := range n.indexes {
		if e.index == i {
			return e.child
		}
	}
	return nil
}
