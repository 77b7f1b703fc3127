package exec

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/eval"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/expr"
)

// OVER windows (planner.OverStage): one output row per input row.
//
// The scan stage reads a batch, advances the watermark row by row, applies
// WHERE, evaluates the partition keys and the functions' arguments, sends rows
// whose time is below the watermark as it stood when they arrived to the error
// stream (ErrorLate: the rows around their time have already been emitted),
// numbers the others in arrival order and routes them by key hash to the
// workers, each message carrying the watermark after the batch. A worker
// processes each partition's rows in (time, arrival) order once the
// watermark has reached their time (under ROWTIME, with its zero delay, that
// is as soon as every shard has reached it), so a frame ending at the
// current row is complete when its row is processed; a row with a LEAD waits
// for its following rows, or for the watermark or the end of the input to
// show there are none. The output stage merges the workers' rows of each
// watermark in (time, arrival) order, applies SELECT and writes the sink.

// overSpec is the compiled stage that every worker shares (read-only).
type overSpec struct {
	stage     *planner.OverStage
	makers    []func() fnState // per function; nil for ROW_NUMBER
	keepParts bool             // ROW_NUMBER: a partition's count lives as long as the query
	hasLead   bool             // rows may wait for LEAD values beyond their watermark
	schema    *arrow.Schema    // OverSchema
}

// overExec is a Job's OVER stage.
type overExec struct {
	spec  *overSpec
	keys  []*eval.Evaluator
	args  []*eval.Evaluator   // per function; nil for none
	defs  []*eval.Evaluator   // per function; nil for none
	extra [][]*eval.Evaluator // per function: a forest's columns
	final []*eval.Evaluator   // SELECT over OverSchema
}

func newOverExec(p *planner.Physical) (*overExec, error) {
	st := p.Over
	spec := &overSpec{stage: st, schema: st.OverSchema.Arrow()}
	o := &overExec{spec: spec}
	for i, k := range st.KeyExprs {
		if _, err := newKeyStore(k.Type()); err != nil {
			return nil, fmt.Errorf("PARTITION BY %s: %w", st.KeyNames[i], err)
		}
		ev, err := eval.Compile(k, p.ScanSchema)
		if err != nil {
			return nil, fmt.Errorf("PARTITION BY %s: %w", st.KeyNames[i], err)
		}
		o.keys = append(o.keys, ev)
	}
	compile := func(e expr.Expr, what string) (*eval.Evaluator, error) {
		if e == nil {
			return nil, nil
		}
		ev, err := eval.Compile(e, p.ScanSchema)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return ev, nil
	}
	for i, f := range st.Funcs {
		var mk func() fnState
		var err error
		var extra []*eval.Evaluator
		if f.Fn == sql.FnForest || f.Fn == sql.FnForestExplanation {
			fs, err := newForestSpec(f)
			if err != nil {
				return nil, err
			}
			mk = func() fnState { return &forestState{spec: fs} }
			for k, a := range f.Args {
				ev, err := compile(a, fmt.Sprintf("%s column %s", f.Fn, f.ArgNames[k]))
				if err != nil {
					return nil, err
				}
				extra = append(extra, ev)
			}
		} else if mk, err = newFnState(f, i); err != nil {
			return nil, err
		}
		o.extra = append(o.extra, extra)
		spec.keepParts = spec.keepParts || f.Fn == "row_number"
		spec.hasLead = spec.hasLead || f.Fn == "lead"
		if f.Fn == "lag" || f.Fn == "lead" {
			if f.Offset < 0 || f.Offset > sql.MaxOverOffset {
				return nil, fmt.Errorf("%s offset %d is not between 0 and %d", f.Fn, f.Offset, sql.MaxOverOffset)
			}
		}
		if f.Frame.Kind == sql.FrameRows && (f.Frame.Preceding > sql.MaxOverRows || f.Frame.Following > sql.MaxOverRows) {
			return nil, fmt.Errorf("%s: a ROWS frame holds at most %d rows", f.Fn, sql.MaxOverRows)
		}
		spec.makers = append(spec.makers, mk)
		arg, err := compile(f.Arg, f.Fn+" argument")
		if err != nil {
			return nil, err
		}
		def, err := compile(f.Default, f.Fn+" default")
		if err != nil {
			return nil, err
		}
		o.args, o.defs = append(o.args, arg), append(o.defs, def)
	}
	for i, e := range p.Select {
		ev, err := eval.Compile(e, st.OverSchema)
		if err != nil {
			return nil, fmt.Errorf("SELECT %s: %w", p.Output[i].Name, err)
		}
		o.final = append(o.final, ev)
	}
	return o, nil
}

func (j *Job) runOver(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := max(1, j.plan.Over.Workers)
	in := make([]chan overMsg, workers)
	out := make(chan overOut, workers*4)
	var wg sync.WaitGroup
	ows := make([]*overWorker, workers)
	for w := range ows {
		ows[w] = newOverWorker(j.over.spec, j.mem)
		ows[w].forestEvictions = &j.stats.forestEvictions
		if err := j.restoreWorker(w, ows[w]); err != nil {
			for _, ow := range ows[:w] {
				ow.close() // restored rows hold memory
			}
			return err
		}
	}
	for w, ow := range ows {
		in[w] = make(chan overMsg, 8)
		wg.Go(func() {
			defer ow.close()
			for m := range in[w] {
				if m.barrier != 0 {
					out <- overOut{epoch: m.epoch, barrierPart: barrierPart{barrier: m.barrier, worker: w, state: ow.snapshot(), at: time.Now()}}
					continue
				}
				out <- ow.handle(m)
			}
		})
	}
	outDone := make(chan error, 1)
	go func() { outDone <- j.overOutput(ctx, out, workers, cancel) }()

	scanErr := j.scanOver(ctx, in)
	return drainStages(ctx, scanErr, in, &wg, func() { close(out) }, outDone)
}

// scanOver is the scan stage of an OVER query.
func (j *Job) scanOver(ctx context.Context, in []chan overMsg) error {
	st := j.plan.Over
	wm := newWatermarker(st.WatermarkDelay, st.EventTime, j.opts.IdleTimeout)
	sent := int64(minTime)
	seq := int64(0)
	if err := j.restoreScan(wm, &sent, &seq); err != nil {
		return err
	}
	lister, _ := j.src.(SplitLister)
	epoch := int64(0)
	var wmAt []int64
	send := func(c *overChunk, perWorker [][]int32) error {
		epoch++
		for w, ch := range in {
			m := overMsg{wm: sent, epoch: epoch}
			if c != nil && len(perWorker[w]) > 0 {
				m.chunk, m.rows = c, perWorker[w]
			}
			select {
			case ch <- m:
			case <-ctx.Done():
				for _, rest := range perWorker[w:] { // this share and every one not sent
					if c != nil && len(rest) > 0 {
						c.release()
					}
				}
				return nil
			}
		}
		return nil
	}
	// A barrier follows the rows before it to every worker.
	sendBarrier := func(id int64) error {
		j.ck.recordBarrier(id, scanSnapshot(wm, sent, seq))
		epoch++
		for _, ch := range in {
			select {
			case ch <- overMsg{barrier: id, epoch: epoch}:
			case <-ctx.Done():
				return nil
			}
		}
		return nil
	}
	for {
		b, err := j.next(ctx)
		if err == io.EOF {
			if !j.opts.KeepOpenAtEnd {
				sent = wm.finish()
				j.stats.watermark.Store(sent)
				if err := send(nil, nil); err != nil {
					return err
				}
			}
			if j.ck == nil || ctx.Err() != nil {
				return nil
			}
			// The end of a bounded source: a last checkpoint covers all of it,
			// and the job ends once its output is committed.
			id, err := j.ck.finalBarrier(ctx)
			if err != nil {
				return err
			}
			j.ck.final = id
			return sendBarrier(id)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // cancelled: rows not emitted yet are dropped
			}
			return err
		}
		now := j.opts.Now()
		if lister != nil {
			wm.know(lister.ActiveSplits(), now)
		}
		var c *overChunk
		var perWorker [][]int32
		if b.Record == nil || b.Record.NumRows() == 0 {
			wm.heartbeat(b.Split, b.Arrival, now)
			if b.Record != nil {
				b.Record.Release()
			}
		} else {
			c, perWorker, err = j.overRoute(ctx, b, wm, now, &seq, len(in), &wmAt)
			b.Record.Release()
			if err != nil {
				return err
			}
		}
		if b.SplitDone {
			wm.done(b.Split, now)
		}
		advanced := false
		if w := wm.advance(now); w > sent {
			sent, advanced = w, true
			j.stats.watermark.Store(w)
		}
		if c != nil || advanced {
			if err := send(c, perWorker); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if j.ck != nil {
			j.ck.saw(b)
			if id := j.ck.pendingBarrier(); id != 0 {
				if err := sendBarrier(id); err != nil {
					return err
				}
			}
		}
	}
}

// overRoute evaluates one batch for the OVER workers. It returns the chunk
// (nil when no row is routed) and each worker's rows.
func (j *Job) overRoute(ctx context.Context, b SourceBatch, wm *watermarker, now time.Time, seq *int64, workers int,
	wmAtBuf *[]int64) (*overChunk, [][]int32, error) {
	st := j.plan.Over
	o := j.over
	rec := b.Record
	n := int(rec.NumRows())
	timeArr, ok := rec.Column(st.TimeColumn).(*array.Timestamp)
	if !ok {
		return nil, nil, fmt.Errorf("time column %s is not a TIMESTAMP", j.plan.ScanSchema[st.TimeColumn].Name)
	}
	times := timestampsAsInt64(timeArr)
	if cap(*wmAtBuf) < n {
		*wmAtBuf = make([]int64, n)
	}
	wmAt := (*wmAtBuf)[:n]
	wm.observe(b.Split, times, timeArr.IsValid, now, wmAt)
	seq0 := *seq
	*seq += int64(n)

	c := &overChunk{times: times, seq0: seq0}
	releaseAll := func() {
		for _, a := range c.cols {
			a.Release()
		}
	}
	eval1 := func(ev *eval.Evaluator, what string) (arrow.Array, error) {
		arr, rerrs, err := ev.Eval(rec, j.mem)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		j.rowErrors(ctx, b, rec, what, rerrs)
		c.cols = append(c.cols, arr)
		return arr, nil
	}
	var keep *array.Boolean
	if j.filter != nil {
		arr, err := eval1(j.filter, "WHERE")
		if err != nil {
			releaseAll()
			return nil, nil, err
		}
		keep = arr.(*array.Boolean)
	}
	for i, ev := range o.keys {
		arr, err := eval1(ev, "PARTITION BY "+st.KeyNames[i])
		if err != nil {
			releaseAll()
			return nil, nil, err
		}
		c.keys = append(c.keys, arr)
	}
	for i, f := range st.Funcs {
		var arg, def arrow.Array
		var err error
		if o.args[i] != nil {
			if arg, err = eval1(o.args[i], f.Fn+" argument"); err != nil {
				releaseAll()
				return nil, nil, err
			}
		}
		if o.defs[i] != nil {
			if def, err = eval1(o.defs[i], f.Fn+" default"); err != nil {
				releaseAll()
				return nil, nil, err
			}
		}
		c.args, c.defs = append(c.args, arg), append(c.defs, def)
		var extra []arrow.Array
		for k, ev := range o.extra[i] {
			arr, err := eval1(ev, fmt.Sprintf("%s column %s", f.Fn, f.ArgNames[k]))
			if err != nil {
				releaseAll()
				return nil, nil, err
			}
			extra = append(extra, arr)
		}
		c.extra = append(c.extra, extra)
	}
	for _, k := range st.Carry {
		col := rec.Column(k)
		col.Retain()
		c.cols = append(c.cols, col)
		c.carry = append(c.carry, col)
	}
	c.hashes = make([]uint64, n)
	for i := range c.hashes {
		c.hashes[i] = hashSeed
	}
	for _, k := range c.keys {
		hashColumn(k, c.hashes)
	}
	perWorker := make([][]int32, workers)
	var rowErrs []ErrorRecord
	nullTimes := timeArr.NullN() > 0
	for i := range n {
		if keep != nil && (keep.IsNull(i) || !keep.Value(i)) {
			continue
		}
		if nullTimes && timeArr.IsNull(i) {
			j.stats.evalErrs.Add(1)
			rowErrs = append(rowErrs, ErrorRecord{Kind: ErrorEval, Source: j.opts.SourceName, Split: b.Split, Position: b.Position,
				Raw: rowJSON(rec, i), At: now,
				Reason: fmt.Sprintf("time column %s is NULL; the row has no place in its partition's order", j.plan.ScanSchema[st.TimeColumn].Name)})
			continue
		}
		// The watermark as it stood when the row arrived: rows up to it have
		// been processed, so a row before it would change emitted results.
		// (wmAt[i] counts row i itself, which raises it to at most its own time.)
		if times[i] < wmAt[i] {
			j.stats.late.Add(1)
			rowErrs = append(rowErrs, ErrorRecord{Kind: ErrorLate, Source: j.opts.SourceName, Split: b.Split, Position: b.Position,
				Raw: rowJSON(rec, i), At: now,
				Reason: fmt.Sprintf("event time %s is late: the watermark had reached %s, and the OVER results of the rows up to it were emitted",
					fmtMillis(times[i]), fmtMillis(wmAt[i]))})
			continue
		}
		w := 0
		if workers > 1 {
			w = int(c.hashes[i] % uint64(workers))
		}
		perWorker[w] = append(perWorker[w], int32(i))
	}
	if len(rowErrs) > 0 {
		j.reportErrors(ctx, rowErrs)
	}
	shares := int32(0)
	for _, rows := range perWorker {
		if len(rows) > 0 {
			shares++
		}
	}
	if shares == 0 {
		releaseAll()
		return nil, nil, nil
	}
	c.refs.Store(shares)
	return c, perWorker, nil
}

// overOutput gathers each watermark's rows from every worker, merges them in
// (time, arrival) order, applies SELECT and writes the sink.
func (j *Job) overOutput(ctx context.Context, out <-chan overOut, workers int, cancel context.CancelCauseFunc) error {
	return gatherEpochs(ctx, j, out, workers, cancel,
		func(m overOut) int64 { return m.epoch },
		func(ms []overOut, written *int64) (bool, error) {
			if len(ms) > 0 && ms[0].barrier != 0 {
				parts := make([]barrierPart, len(ms))
				for i, m := range ms {
					parts[i] = m.barrierPart
				}
				return false, j.alignedBarrier(ctx, parts, nil)
			}
			return j.overEmit(ctx, ms, written)
		},
		func(m overOut) {
			if m.rec != nil {
				m.rec.Release()
			}
		})
}

// overEmit writes one watermark's rows. It releases the records.
func (j *Job) overEmit(ctx context.Context, outs []overOut, written *int64) (bool, error) {
	var recs []arrow.RecordBatch
	var times, seqs [][]int64
	var msgs []string
	for _, m := range outs {
		msgs = append(msgs, m.errs...)
		if m.rec != nil {
			recs = append(recs, m.rec)
			times, seqs = append(times, m.times), append(seqs, m.seqs)
		}
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if len(msgs) > 0 {
		j.stats.evalErrs.Add(int64(len(msgs)))
		errs := make([]ErrorRecord, len(msgs))
		for i, e := range msgs {
			errs[i] = ErrorRecord{Kind: ErrorEval, Source: j.opts.SourceName, Reason: e, At: j.opts.Now()}
		}
		j.reportErrors(ctx, errs)
	}
	if len(recs) == 0 {
		return false, nil
	}
	merged, err := mergeByTime(recs, times, seqs, j.mem)
	if err != nil {
		return false, err
	}
	defer merged.Release()
	res, rerrs, err := eval.Project(merged, j.over.final, j.outSch, j.mem)
	if err != nil {
		return false, fmt.Errorf("SELECT: %w", err)
	}
	j.rowErrors(ctx, SourceBatch{}, merged, "SELECT", rerrs)
	defer res.Release()
	return j.write(ctx, res, written)
}

// mergeByTime merges records each sorted by (times, seqs) into one record in
// that order. The result is a new reference.
func mergeByTime(recs []arrow.RecordBatch, times, seqs [][]int64, mem memory.Allocator) (arrow.RecordBatch, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	// The merged order as indexes into the concatenation.
	offs := make([]int, len(recs))
	total := 0
	for i, t := range times {
		offs[i] = total
		total += len(t)
	}
	pos := make([]int, len(recs))
	order := make([]int64, 0, total)
	inOrder := true
	for len(order) < total {
		best := -1
		for i := range recs {
			if pos[i] == len(times[i]) {
				continue
			}
			if best < 0 || times[i][pos[i]] < times[best][pos[best]] ||
				(times[i][pos[i]] == times[best][pos[best]] && seqs[i][pos[i]] < seqs[best][pos[best]]) {
				best = i
			}
		}
		idx := int64(offs[best] + pos[best])
		inOrder = inOrder && idx == int64(len(order))
		order = append(order, idx)
		pos[best]++
	}
	schema := recs[0].Schema()
	cols, err := concatColumns(recs, mem)
	if err != nil {
		return nil, fmt.Errorf("merge OVER rows: %w", err)
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	if inOrder {
		return array.NewRecordBatch(schema, cols, int64(total)), nil
	}
	ib := array.NewInt64Builder(mem)
	ib.AppendValues(order, nil)
	idx := ib.NewArray()
	ib.Release()
	defer idx.Release()
	taken := make([]arrow.Array, len(cols))
	for c, col := range cols {
		t, err := compute.TakeArray(compute.WithAllocator(context.Background(), mem), col, idx)
		if err != nil {
			for _, x := range taken[:c] {
				x.Release()
			}
			return nil, fmt.Errorf("merge OVER rows: %w", err)
		}
		taken[c] = t
	}
	rec := array.NewRecordBatch(schema, taken, int64(total))
	for _, t := range taken {
		t.Release()
	}
	return rec, nil
}
