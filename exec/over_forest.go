package exec

import (
	"cmp"
	"container/list"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/eddy-streams/eddy/exec/rcf"
	"github.com/eddy-streams/eddy/exec/snapshot"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// RANDOM_CUT_FOREST and RANDOM_CUT_FOREST_WITH_EXPLANATION as OVER functions:
// a partition (one for the whole stream without PARTITION BY) holds one
// forest, fed the partition's rows in (time, arrival) order, so a replay from
// a checkpoint scores every row as an uninterrupted run does. With PARTITION
// BY, each worker keeps at most MaxKeys forests and drops the least recently
// used one (counted in Stats.ForestEvictions); a key that comes back starts a
// new forest, which scores 0 while it warms up. The bound is per worker, not
// a share of a total: keys spread over workers by hash, unevenly, and a
// total split evenly would drop forests early on the busier workers; a bound
// that workers shared would depend on their timing, and replays would not
// score alike.

// forestArgs is implemented by states that take several columns.
type forestArgs interface {
	pushArgs(w *overWorker, r *overRow, f int, args []arrow.Array)
}

// forestSpec is what every partition's forest of one function shares.
type forestSpec struct {
	fn      planner.OverFunc
	cfg     rcf.Config
	explain bool
	perWork int // forests a worker keeps
}

func newForestSpec(f planner.OverFunc) (*forestSpec, error) {
	cfg := rcf.Config{Trees: f.Forest.Trees, SampleSize: f.Forest.SampleSize, TimeDecay: int(f.Forest.TimeDecay),
		ShingleSize: f.Forest.ShingleSize, Columns: len(f.Args), Seed: f.Forest.Seed}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Fn, err)
	}
	return &forestSpec{fn: f, cfg: cfg, explain: f.Fn == sql.FnForestExplanation, perWork: max(1, f.Forest.MaxKeys)}, nil
}

// forestLRU is a worker's forests of one function, most recently used first.
type forestLRU struct {
	order *list.List // of *forestState
}

// forestState is one partition's forest.
type forestState struct {
	spec   *forestSpec
	forest *rcf.Forest
	elem   *list.Element
	used   uint64 // the worker's forestTick when the forest last scored a row
	row    []float64
	attrs  []rcf.Attribution
}

func (s *forestState) push(*overWorker, *overRow, int, arrow.Array, arrow.Array) {
	panic("exec: a forest takes its columns through pushArgs")
}

func (s *forestState) lru(w *overWorker, f int) *forestLRU {
	if w.forests == nil {
		w.forests = map[int]*forestLRU{}
	}
	l := w.forests[f]
	if l == nil {
		l = &forestLRU{order: list.New()}
		w.forests[f] = l
	}
	return l
}

func (s *forestState) pushArgs(w *overWorker, r *overRow, f int, args []arrow.Array) {
	l := s.lru(w, f)
	w.forestTick++
	s.used = w.forestTick
	if s.forest == nil {
		fo, err := rcf.New(s.spec.cfg)
		if err != nil { // the config was validated when the query was planned
			panic(err)
		}
		s.forest = fo
		s.elem = l.order.PushFront(s)
		for l.order.Len() > s.spec.perWork {
			old := l.order.Remove(l.order.Back()).(*forestState)
			old.forest, old.elem = nil, nil
			if w.forestEvictions != nil {
				w.forestEvictions.Add(1)
			}
		}
	} else {
		l.order.MoveToFront(s.elem)
	}
	if s.row == nil {
		s.row = make([]float64, len(args))
	}
	for c, a := range args {
		fa := a.(*array.Float64)
		if fa.IsNull(int(r.row)) {
			s.row[c] = math.NaN() // a row with a NULL column scores 0 and is not learnt
		} else {
			s.row[c] = fa.Value(int(r.row))
		}
	}
	if !s.spec.explain {
		r.cells[f] = floatCell(s.forest.Update(s.row))
		return
	}
	if s.attrs == nil {
		s.attrs = make([]rcf.Attribution, len(args))
	}
	s.forest.UpdateExplain(s.row, s.attrs)
	r.cells[f] = cell{s: rcf.Explanation(s.spec.fn.ArgNames, s.attrs), ok: true}
}

func (s *forestState) expire(*overWorker, int64) {}

func (s *forestState) next() int64 { return maxTime }

func (s *forestState) empty() bool { return s.forest == nil }

func (s *forestState) save(e *snapshot.Encoder, _ map[*overRow]int) {
	if s.forest == nil {
		e.Bool(false)
		return
	}
	data, err := s.forest.MarshalBinary()
	if err != nil { // encoding a live forest does not fail
		panic(err)
	}
	e.Bool(true)
	e.Uvarint(s.used)
	e.Bytes(data)
}

func (s *forestState) load(d *snapshot.Decoder, _ []*overRow) {
	if !d.Bool() {
		return
	}
	s.used = d.Uvarint()
	data := d.Bytes()
	if d.Err() != nil {
		return
	}
	fo, err := rcf.New(s.spec.cfg)
	if err == nil {
		err = fo.UnmarshalBinary(data)
	}
	if err == nil && fo.Config() != s.spec.cfg {
		err = fmt.Errorf("forest parameters %+v, the query's %+v", fo.Config(), s.spec.cfg)
	}
	if err != nil {
		d.Fail("%s forest: %v", s.spec.fn.Fn, err)
		return
	}
	s.forest = fo
}

// relinkForests rebuilds a restored worker's LRU lists from the forests'
// last use, so that evictions after a restore are those of an uninterrupted run.
func (w *overWorker) relinkForests(parts []*overPart) {
	byFn := map[int][]*forestState{}
	for _, p := range parts {
		for f, st := range p.states {
			if fs, ok := st.(*forestState); ok && fs.forest != nil {
				byFn[f] = append(byFn[f], fs)
				w.forestTick = max(w.forestTick, fs.used)
			}
		}
	}
	for f, states := range byFn {
		slices.SortFunc(states, func(a, b *forestState) int { return cmp.Compare(a.used, b.used) })
		l := states[0].lru(w, f)
		for _, fs := range states {
			fs.elem = l.order.PushFront(fs)
		}
	}
}
