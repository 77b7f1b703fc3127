package sql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Forest is the anomaly-detection model of a RANDOM_CUT_FOREST call: KDA's
// parameters, with its defaults and ranges, plus eddy's bound on keyed forests.
type Forest struct {
	Trees       int    // numberOfTrees, 1-1000 (100)
	SampleSize  int    // subSampleSize, 10-1000 and < TimeDecay (256)
	TimeDecay   int64  // timeDecay, 1-2147483647 (100000)
	ShingleSize int    // shingleSize, 1-30 (1)
	MaxKeys     int    // forests each worker keeps with PARTITION BY, 1-1000000 (1000: ~1.7 GB at the defaults); the least recently used go
	Seed        uint64 // the forests' random seed (0)
}

// DefaultForest is KDA's defaults.
var DefaultForest = Forest{Trees: 100, SampleSize: 256, TimeDecay: 100000, ShingleSize: 1, MaxKeys: 1000}

// Forest functions' names, lower case.
const (
	FnForest            = "random_cut_forest"
	FnForestExplanation = "random_cut_forest_with_explanation"
)

// MaxForestColumns is how many numeric columns a forest takes, as in KDA.
const MaxForestColumns = 30

func (f Forest) String() string {
	return fmt.Sprintf("trees=%d, sample_size=%d, time_decay=%d, shingle_size=%d, max_keys=%d, seed=%d",
		f.Trees, f.SampleSize, f.TimeDecay, f.ShingleSize, f.MaxKeys, f.Seed)
}

// parseForestOptions reads 'name=value, ...'. Names are case-insensitive and
// may be KDA's (numberOfTrees, subSampleSize, timeDecay, shingleSize).
func parseForestOptions(text string) (Forest, error) {
	f := DefaultForest
	seen := map[string]bool{}
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return f, fmt.Errorf("option %q: write name=value, e.g. 'trees=50, shingle_size=4'", part)
		}
		name := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "_", "")
		v = strings.TrimSpace(v)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, fmt.Errorf("option %s = %q: a whole number is needed", strings.TrimSpace(k), v)
		}
		if seen[name] {
			return f, fmt.Errorf("option %s is given twice", strings.TrimSpace(k))
		}
		seen[name] = true
		rng := func(lo, hi int64) error {
			if n < lo || n > hi {
				return fmt.Errorf("option %s = %d: must be %d to %d", strings.TrimSpace(k), n, lo, hi)
			}
			return nil
		}
		switch name {
		case "trees", "numberoftrees":
			err, f.Trees = rng(1, 1000), int(n)
		case "samplesize", "subsamplesize":
			err, f.SampleSize = rng(10, 1000), int(n)
		case "timedecay":
			err, f.TimeDecay = rng(1, 2147483647), n
		case "shinglesize":
			err, f.ShingleSize = rng(1, 30), int(n)
		case "maxkeys":
			err, f.MaxKeys = rng(1, 1_000_000), int(n)
		case "seed":
			err, f.Seed = rng(0, 1<<62), uint64(n)
		default:
			return f, fmt.Errorf("unknown option %s: the options are trees, sample_size, time_decay, shingle_size, max_keys and seed", strings.TrimSpace(k))
		}
		if err != nil {
			return f, err
		}
	}
	if int64(f.SampleSize) >= f.TimeDecay {
		return f, fmt.Errorf("sample_size (%d) must be less than time_decay (%d)", f.SampleSize, f.TimeDecay)
	}
	return f, nil
}

// forestCall binds RANDOM_CUT_FOREST(col, ...[, 'options']) and
// RANDOM_CUT_FOREST_WITH_EXPLANATION(...), with an optional OVER (PARTITION BY
// ...) (rewritten into the call as __eddy_partition_by): a per-row function
// computed, like a window function, row by row in time order per partition.
func (b *binder) forestCall(x *ast.FuncCallExpr, off int, cl clause, display string) expr.Expr {
	o := b.over
	switch {
	case o == nil || cl.name != "SELECT":
		b.errorNode(off, "%s is only allowed in SELECT: it scores each row", display)
		return nil
	case o.inFunc != "":
		b.errorNode(off, "%s inside %s: window functions do not nest", display, o.inFunc)
		return nil
	case cl.inAgg != "":
		b.errorNode(off, "%s inside aggregate %s: compute the scores in one query and aggregate them in another", display, cl.inAgg)
		return nil
	case b.agg != nil:
		b.errorNode(off, "%s cannot be combined with GROUP BY: it scores rows one by one; aggregate the scores in another query", display)
		return nil
	}
	o.inFunc = display
	defer func() { o.inFunc = "" }()
	acl := clause{name: display, aggErr: fmt.Sprintf("aggregates are not allowed inside %s", display)}
	f := OverFunc{Fn: strings.ToLower(display), T: types.DoubleType, Forest: DefaultForest}
	if f.Fn == FnForestExplanation {
		f.T = types.JSONType
	}
	w := &overWindow{ok: true, anchor: b.m.orig(off)}
	args := x.Args
	optsAt := len(args) - 1 // where an options string may be: last, before a PARTITION BY
	if n := len(args); n > 0 {
		if call, ok := args[n-1].(*ast.FuncCallExpr); ok && call.FnName.L == fnPartitionBy {
			optsAt = n - 2
		}
	}
	for i, a := range args {
		at := childOff(a, off)
		if call, ok := a.(*ast.FuncCallExpr); ok && call.FnName.L == fnPartitionBy {
			for _, p := range call.Args {
				e := b.expr(p, at, acl)
				if e == nil {
					return nil
				}
				w.partition = append(w.partition, e)
			}
			w.hasPart = true
			continue
		}
		e := b.expr(a, off, acl)
		if e == nil {
			return nil
		}
		if lit, ok := e.(*expr.Literal); ok && lit.T.IsString() && i == optsAt {
			s, _ := lit.Value.(string)
			opts, err := parseForestOptions(s)
			if err != nil {
				b.errorNode(at, "%s: %v", display, err)
				return nil
			}
			f.Forest = opts
			continue
		}
		if !e.Type().IsNumeric() {
			b.errorNode(at, "%s takes numeric columns, got %s %s; options go last as one string, e.g. 'trees=50'", display, e.Type(), e)
			return nil
		}
		if e.Type().Kind != types.Double {
			e = castTo(e, types.DoubleType)
		}
		name := fmt.Sprintf("col%d", len(f.Args)+1)
		if c, ok := e.(*expr.Column); ok {
			name = c.Name
		} else if c, ok := e.(*expr.Cast); ok {
			if col, ok := c.X.(*expr.Column); ok {
				name = col.Name
			}
		}
		f.Args = append(f.Args, e)
		f.ArgNames = append(f.ArgNames, name)
	}
	if len(f.Args) == 0 || len(f.Args) > MaxForestColumns {
		b.errorNode(off, "%s takes 1 to %d numeric columns, got %d: %s(temperature, pressure[, 'trees=50'])", display, MaxForestColumns, len(f.Args), display)
		return nil
	}
	if len(f.Args)*f.Forest.ShingleSize > 1000 {
		b.errorNode(off, "%s: %d columns x shingle_size %d is more than 1000 dimensions", display, len(f.Args), f.Forest.ShingleSize)
		return nil
	}
	if !b.overPartition(w, w.anchor) {
		return nil
	}
	o.spec.Funcs = append(o.spec.Funcs, f)
	return &overRef{i: len(o.spec.Funcs) - 1, t: f.T}
}
