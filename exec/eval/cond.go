package eval

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// CASE and COALESCE: each row picks one of several operands. Operands are
// evaluated over the whole batch (only when some row needs them), and the row
// errors of an operand count only at the rows that pick it.

type caseNode struct {
	conds []node
	vals  []node // len(conds)+1: the last one is the ELSE
	t     types.Type
}

func (n *caseNode) typ() types.Type { return n.t }

func newCase(call *expr.Call, args []node) (node, error) {
	if len(args) < 1 || len(args)%2 != 1 {
		return nil, errors.New("takes (cond, value, ..., else): an odd number of arguments")
	}
	n := &caseNode{t: call.T}
	for i := 0; i+1 < len(args); i += 2 {
		if err := wantKind("condition "+itoa(int64(i/2+1)), args[i], types.Boolean); err != nil {
			return nil, err
		}
		n.conds = append(n.conds, args[i])
		n.vals = append(n.vals, args[i+1])
	}
	n.vals = append(n.vals, args[len(args)-1])
	for _, v := range n.vals {
		if !sameType(v.typ(), call.T) {
			return nil, errors.New("every value must have the result type " + call.T.String() + ", got " + v.typ().String())
		}
	}
	return n, nil
}

const pending = -2

func (n *caseNode) eval(c *evalCtx) (arrow.Array, error) {
	choice := make([]int32, c.n)
	for i := range choice {
		choice[i] = pending
	}
	open := c.n
	for k, cond := range n.conds {
		if open == 0 {
			break
		}
		mark := len(c.errs)
		v, err := c.operand(cond)
		if err != nil {
			return nil, err
		}
		c.keepErrs(mark, func(row int) bool { return choice[row] == pending })
		for i := range choice {
			if choice[i] == pending && !v.isNull(i) && v.bool(i) {
				choice[i] = int32(k)
				open--
			}
		}
		v.release()
	}
	elseIdx := int32(len(n.conds))
	for i := range choice {
		if choice[i] == pending {
			choice[i] = elseIdx
		}
	}
	return pick(c, n.t, n.vals, choice)
}

// pick evaluates the operands some row chooses (choice[i] indexes ops, -1 is
// NULL), keeps each operand's errors at its rows, and gathers the values.
func pick(c *evalCtx, t types.Type, ops []node, choice []int32) (arrow.Array, error) {
	used := make([]bool, len(ops))
	for _, k := range choice {
		if k >= 0 {
			used[k] = true
		}
	}
	srcs := make([]*vec, len(ops))
	defer func() {
		for _, v := range srcs {
			if v != nil {
				v.release()
			}
		}
	}()
	for k, op := range ops {
		if !used[k] {
			continue
		}
		mark := len(c.errs)
		v, err := c.operand(op)
		if err != nil {
			return nil, err
		}
		srcs[k] = v
		kk := int32(k)
		c.keepErrs(mark, func(row int) bool { return choice[row] == kk })
	}
	return gather(c, t, choice, srcs), nil
}

// gather builds the array whose row i is srcs[choice[i]] at row i (NULL when
// choice[i] < 0).
func gather(c *evalCtx, t types.Type, choice []int32, srcs []*vec) arrow.Array {
	src := func(i int) *vec {
		k := choice[i]
		if k < 0 || srcs[k].isNull(i) {
			return nil
		}
		return srcs[k]
	}
	switch t.Kind {
	case types.Boolean:
		o := newBoolOut(c.mem, c.n)
		o.allNull()
		for i := range choice {
			if v := src(i); v != nil {
				o.set(i, v.bool(i))
			}
		}
		return o.finish()
	case types.Double:
		o := newFixed[float64](c.mem, c.n)
		o.allNull()
		for i := range choice {
			if v := src(i); v != nil {
				o.set(i, v.float(i))
			}
		}
		return o.finish(t.Arrow())
	case types.Decimal:
		o := newFixed[decimal128.Num](c.mem, c.n)
		o.allNull()
		for i := range choice {
			if v := src(i); v != nil {
				o.set(i, v.decimal(i))
			}
		}
		return o.finish(t.Arrow())
	case types.Varchar, types.JSON:
		o := newStrOut(c.mem, c.n, 0)
		for i := range choice {
			if v := src(i); v != nil {
				o.set(i, v.str(i))
			}
		}
		return o.finish(t.Arrow())
	}
	o := newFixed[int64](c.mem, c.n)
	o.allNull()
	for i := range choice {
		if v := src(i); v != nil {
			o.set(i, v.int(i))
		}
	}
	return o.finish(t.Arrow())
}

type coalesceNode struct {
	args []node
	t    types.Type
}

func (n *coalesceNode) typ() types.Type { return n.t }

func newCoalesce(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, -1); err != nil {
		return nil, err
	}
	for _, a := range args {
		if !sameType(a.typ(), call.T) {
			return nil, errors.New("every argument must have the result type " + call.T.String() + ", got " + a.typ().String())
		}
	}
	return &coalesceNode{args: args, t: call.T}, nil
}

// eval picks, per row, the first non-NULL argument; an argument is evaluated
// only when some row is still NULL, and its errors count only at those rows.
func (n *coalesceNode) eval(c *evalCtx) (arrow.Array, error) {
	choice := make([]int32, c.n)
	for i := range choice {
		choice[i] = pending
	}
	srcs := make([]*vec, len(n.args))
	defer func() {
		for _, v := range srcs {
			if v != nil {
				v.release()
			}
		}
	}()
	open := c.n
	for k, a := range n.args {
		if open == 0 {
			break
		}
		mark := len(c.errs)
		v, err := c.operand(a)
		if err != nil {
			return nil, err
		}
		srcs[k] = v
		c.keepErrs(mark, func(row int) bool { return choice[row] == pending })
		for i := range choice {
			if choice[i] == pending && !v.isNull(i) {
				choice[i] = int32(k)
				open--
			}
		}
	}
	for i := range choice {
		if choice[i] == pending {
			choice[i] = -1
		}
	}
	return gather(c, n.t, choice, srcs), nil
}
