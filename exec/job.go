package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec/eval"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// JobOptions tune a running query.
type JobOptions struct {
	Mem memory.Allocator // default memory.DefaultAllocator
	// IdleTimeout: an event-time split with no rows for this long stops holding
	// the watermark back (default 5s; 0 keeps the default, negative disables).
	IdleTimeout time.Duration
	// SourceName is the SQL stream name, for error records.
	SourceName string
	// Checkpointing, when set, makes the job take part in its application's
	// checkpoints and resume from the one the coordinator restores.
	Checkpointing *Checkpointing
	// KeepOpenAtEnd ends a bounded run without closing its windows: the last
	// checkpoint keeps them (and the watermark) as they are, for the next run
	// to go on with. Without it the end of the input closes every window.
	KeepOpenAtEnd bool
	// FlushInterval is how often the sink is flushed while running (default 1s).
	FlushInterval time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

// Stats are a job's counters; read them with Job.Stats while it runs.
type Stats struct {
	RowsIn       int64 // decoded rows
	RowsOut      int64 // rows written to the sink
	DecodeErrors int64
	LateRows     int64
	EvalErrors   int64
	Watermark    int64 // ms; math.MinInt64 before the first
	// ForestEvictions counts RANDOM_CUT_FOREST ... OVER (PARTITION BY) forests
	// dropped, least recently used first, to keep at most max_keys.
	ForestEvictions int64
}

// Job runs one physical plan from a source to a sink.
type Job struct {
	plan  *planner.Physical
	src   Source
	sink  Sink
	errs  ErrorSink
	errMu sync.Mutex // the scan stage and aggregation workers both report errors
	opts  JobOptions
	mem   memory.Allocator
	log   *slog.Logger
	stats struct {
		rowsIn, rowsOut, decodeErrs, late, evalErrs, watermark, forestEvictions atomic.Int64
	}

	filter  *eval.Evaluator
	project []*eval.Evaluator // non-aggregating: SELECT over the scan schema
	keys    []*eval.Evaluator
	args    []*eval.Evaluator // nil for COUNT(*)
	timeCol int
	having  *eval.Evaluator
	final   []*eval.Evaluator // aggregating: SELECT over AggSchema
	outSch  *arrow.Schema
	selSch  *arrow.Schema // the SELECT columns: outSch, or outSch without OpColumn when updating
	changes *changelog    // updating queries only (changelog.go)
	spec    *aggSpec
	over    *overExec       // OVER windows (over.go)
	ck      *jobCheckpoints // nil without checkpoints (checkpointing.go)
}

// NewJob compiles the plan's expressions. errs may be nil when the caller
// does not keep an error stream (errors are then only counted and logged).
func NewJob(p *planner.Physical, src Source, sink Sink, errs ErrorSink, opts JobOptions) (*Job, error) {
	if opts.Mem == nil {
		opts.Mem = memory.DefaultAllocator
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 5 * time.Second
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	j := &Job{plan: p, src: src, sink: sink, errs: errs, opts: opts, mem: opts.Mem, log: opts.Logger, outSch: p.Output.Arrow()}
	j.selSch = j.outSch
	j.stats.watermark.Store(minTime)
	var err error
	if p.Filter != nil {
		if j.filter, err = eval.Compile(p.Filter, p.ScanSchema); err != nil {
			return nil, fmt.Errorf("WHERE: %w", err)
		}
	}
	if opts.Checkpointing != nil {
		if j.ck, err = newJobCheckpoints(opts.Checkpointing); err != nil {
			return nil, err
		}
		if sp, ok := src.(StartPositioner); ok {
			j.ck.start = sp.StartPositions()
		}
	}
	if p.Over != nil {
		if j.over, err = newOverExec(p); err != nil {
			return nil, err
		}
		if j.ck != nil {
			if err := checkCellSchema(j.over.spec.schema, "OVER"); err != nil {
				return nil, err
			}
			if err := j.ck.checkFingerprint(j); err != nil {
				return nil, err
			}
		}
		return j, nil
	}
	if p.Agg == nil {
		for i, e := range p.Select {
			ev, err := eval.Compile(e, p.ScanSchema)
			if err != nil {
				return nil, fmt.Errorf("SELECT %s: %w", p.Output[i].Name, err)
			}
			j.project = append(j.project, ev)
		}
		if j.ck != nil {
			if err := j.ck.checkFingerprint(j); err != nil {
				return nil, err
			}
		}
		return j, nil
	}
	a := p.Agg
	switch a.Window.Kind {
	case sql.Tumble:
	case sql.Hop:
		if a.Window.Slide <= 0 || a.Window.Slide > a.Window.Size {
			return nil, fmt.Errorf("HOP slide %s must be positive and at most the size %s", a.Window.Slide, a.Window.Size)
		}
	case sql.Session:
		if a.Window.Gap < time.Millisecond {
			return nil, fmt.Errorf("SESSION gap %s must be at least 1ms", a.Window.Gap)
		}
	case sql.Stagger:
	default:
		return nil, fmt.Errorf("%s windows are not supported; use TUMBLE, HOP, SESSION or STAGGER", a.Window.Kind)
	}
	if a.Window.Kind != sql.Session && a.Window.Size < time.Millisecond {
		return nil, fmt.Errorf("window size %s must be at least 1ms", a.Window.Size)
	}
	if j.spec, err = newAggSpec(a); err != nil {
		return nil, err
	}
	if j.dynamic() {
		if err := checkMergeable(j.spec, string(a.Window.Kind)); err != nil {
			return nil, err
		}
	}
	if a.AllowedLateness < 0 {
		return nil, fmt.Errorf("allowed lateness %s must not be negative", a.AllowedLateness)
	}
	if a.Updating() {
		if err := checkMergeable(j.spec, "windows with allowed lateness or emit_every"); err != nil {
			return nil, err
		}
		if len(p.Output) != len(p.Select)+1 || p.Output[len(p.Select)].Name != planner.OpColumn {
			return nil, fmt.Errorf("an updating query's output must end with the column %s", planner.OpColumn)
		}
		j.selSch = p.Output[:len(p.Select)].Arrow()
		j.changes = newChangelog(a)
		if j.ck != nil {
			if err := checkCellSchema(j.selSch, "output"); err != nil {
				return nil, err
			}
		}
	}
	j.timeCol = a.TimeColumn
	for i, k := range a.KeyExprs {
		ev, err := eval.Compile(k, p.ScanSchema)
		if err != nil {
			return nil, fmt.Errorf("GROUP BY %s: %w", a.KeyNames[i], err)
		}
		j.keys = append(j.keys, ev)
	}
	for _, g := range a.Aggs {
		if g.Arg == nil {
			j.args = append(j.args, nil)
			continue
		}
		ev, err := eval.Compile(g.Arg, p.ScanSchema)
		if err != nil {
			return nil, fmt.Errorf("%s(%s): %w", g.Fn, g.Arg, err)
		}
		j.args = append(j.args, ev)
	}
	if p.Having != nil {
		if j.having, err = eval.Compile(p.Having, a.AggSchema); err != nil {
			return nil, fmt.Errorf("HAVING: %w", err)
		}
	}
	for i, e := range p.Select {
		ev, err := eval.Compile(e, a.AggSchema)
		if err != nil {
			return nil, fmt.Errorf("SELECT %s: %w", p.Output[i].Name, err)
		}
		j.final = append(j.final, ev)
	}
	if j.ck != nil {
		if err := j.ck.checkFingerprint(j); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// Stats returns the job's counters so far.
func (j *Job) Stats() Stats {
	return Stats{
		RowsIn: j.stats.rowsIn.Load(), RowsOut: j.stats.rowsOut.Load(), DecodeErrors: j.stats.decodeErrs.Load(),
		LateRows: j.stats.late.Load(), EvalErrors: j.stats.evalErrs.Load(), Watermark: j.stats.watermark.Load(),
		ForestEvictions: j.stats.forestEvictions.Load(),
	}
}

// errLimitReached ends a job whose LIMIT has been met.
var errLimitReached = errors.New("limit reached")

// Run reads the source until it ends (a bounded source: every window is then
// closed and emitted) or ctx is cancelled (open windows are dropped; what was
// emitted is flushed), or LIMIT rows were written. The sink is flushed but not closed.
func (j *Job) Run(ctx context.Context) error {
	if err := j.recoverSink(ctx); err != nil {
		return err
	}
	if j.ck != nil {
		defer func() {
			clean := j.ck.final != 0 && j.ck.committed >= j.ck.final
			j.ck.c.jobEnded(j.ck.name, j.ck.lastAck, clean)
		}()
	}
	var err error
	if j.over != nil {
		err = j.runOver(ctx)
	} else if j.plan.Agg == nil {
		err = j.runProjection(ctx)
	} else {
		err = j.runAggregation(ctx)
	}
	if errors.Is(err, errLimitReached) || (err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		err = nil
	}
	if ferr := j.sink.Flush(context.WithoutCancel(ctx)); err == nil && ferr != nil {
		err = fmt.Errorf("flush sink: %w", ferr)
	}
	return err
}

// next reads the next source batch; io.EOF at the end of a bounded source, and
// ctx's error once it ends.
func (j *Job) next(ctx context.Context) (SourceBatch, error) {
	b, err := j.src.Next(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return b, ctx.Err()
		}
		if errors.Is(err, io.EOF) {
			return b, io.EOF
		}
		return b, fmt.Errorf("read source %s: %w", j.opts.SourceName, err)
	}
	j.stats.decodeErrs.Add(int64(len(b.Errors)))
	if len(b.Errors) > 0 {
		j.reportErrors(ctx, b.Errors)
	}
	if b.Record != nil {
		j.stats.rowsIn.Add(b.Record.NumRows())
	}
	return b, nil
}

func (j *Job) reportErrors(ctx context.Context, errs []ErrorRecord) {
	j.errMu.Lock()
	defer j.errMu.Unlock()
	if j.errs == nil {
		for _, e := range errs {
			j.log.Warn("row error", "kind", e.Kind, "source", e.Source, "shard", e.Split, "position", e.Position, "reason", e.Reason)
		}
		return
	}
	if err := j.errs.WriteErrors(ctx, errs); err != nil {
		j.log.Error("write error stream", "err", err)
	}
}

// rowErrors turns evaluator row errors into error records.
func (j *Job) rowErrors(ctx context.Context, b SourceBatch, rec arrow.RecordBatch, what string, rerrs []eval.RowError) {
	if len(rerrs) == 0 {
		return
	}
	j.stats.evalErrs.Add(int64(len(rerrs)))
	now := j.opts.Now()
	out := make([]ErrorRecord, len(rerrs))
	for i, e := range rerrs {
		out[i] = ErrorRecord{Kind: ErrorEval, Source: j.opts.SourceName, Split: b.Split, Position: b.Position,
			Raw: rowJSON(rec, e.Row), Reason: what + ": " + e.Reason, At: now}
	}
	j.reportErrors(ctx, out)
}

// filtered applies WHERE to a source batch. The result must be released.
func (j *Job) filtered(ctx context.Context, b SourceBatch) (arrow.RecordBatch, error) {
	if j.filter == nil {
		b.Record.Retain()
		return b.Record, nil
	}
	rec, rerrs, err := eval.Filter(b.Record, j.filter, j.mem)
	if err != nil {
		return nil, fmt.Errorf("WHERE: %w", err)
	}
	j.rowErrors(ctx, b, b.Record, "WHERE", rerrs)
	return rec, nil
}

func (j *Job) runProjection(ctx context.Context) error {
	written := int64(0)
	lastFlush := time.Now()
	for {
		if err := j.projectionCheckpoint(ctx, false); err != nil {
			return err
		}
		b, err := j.next(ctx)
		if err == io.EOF {
			return j.projectionCheckpoint(ctx, true)
		}
		if err != nil {
			return err
		}
		if j.ck != nil {
			j.ck.saw(b)
		}
		if b.Record == nil {
			continue
		}
		if b.Record.NumRows() == 0 {
			b.Record.Release()
			continue
		}
		rec, err := j.filtered(ctx, b)
		b.Record.Release()
		if err != nil {
			return err
		}
		out, rerrs, err := eval.Project(rec, j.project, j.outSch, j.mem)
		if err != nil {
			rec.Release()
			return fmt.Errorf("SELECT: %w", err)
		}
		j.rowErrors(ctx, b, rec, "SELECT", rerrs)
		rec.Release()
		done, err := j.write(ctx, out, &written)
		out.Release()
		if err != nil || done {
			return err
		}
		if time.Since(lastFlush) > j.opts.FlushInterval {
			if err := j.sink.Flush(ctx); err != nil {
				return fmt.Errorf("flush sink: %w", err)
			}
			lastFlush = time.Now()
		}
	}
}

// write sends rows to the sink, cutting at LIMIT. It reports whether the limit is met.
func (j *Job) write(ctx context.Context, rec arrow.RecordBatch, written *int64) (bool, error) {
	n := rec.NumRows()
	limit := j.plan.Limit
	if limit >= 0 && *written+n >= limit {
		n = limit - *written
	}
	if n > 0 {
		part := rec
		if n < rec.NumRows() {
			part = rec.NewSlice(0, n)
			defer part.Release()
		}
		if err := j.sink.Write(ctx, part); err != nil {
			return false, fmt.Errorf("write sink: %w", err)
		}
		*written += n
		j.stats.rowsOut.Add(n)
	}
	return limit >= 0 && *written >= limit, nil
}

// workerMsg is what the scan stage sends an aggregation worker: a chunk of rows,
// a watermark to fire windows up to, or a checkpoint barrier (epoch numbers
// watermarks and barriers).
type workerMsg struct {
	chunk     *aggChunk
	watermark int64
	epoch     int64
	barrier   int64
}

// firedMsg is a worker's answer to a watermark: the windows it closed and,
// for updating queries, the window identities it withdrew (keys and bounds).
type firedMsg struct {
	epoch     int64
	watermark int64
	recs      []arrow.RecordBatch
	withdrawn []arrow.RecordBatch
	errs      []string
	// At a barrier: the worker's index and state.
	barrier int64
	worker  int
	state   []byte
	at      time.Time // when the worker passed the barrier
}

func (j *Job) runAggregation(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := max(1, j.plan.Agg.Workers)
	in := make([]chan workerMsg, workers)
	fired := make(chan firedMsg, workers*4)
	var wg sync.WaitGroup
	aggs := make([]workerState, workers)
	for w := range aggs {
		if j.dynamic() {
			aggs[w] = newDynAggregator(j.spec)
		} else {
			aggs[w] = newWindowAggregator(j.spec)
		}
		if err := j.restoreWorker(w, aggs[w]); err != nil {
			return err
		}
	}
	if err := j.restoreChangelog(); err != nil {
		return err
	}
	for w, agg := range aggs {
		in[w] = make(chan workerMsg, 8)
		wg.Go(func() {
			if d, ok := agg.(*dynAggregator); ok {
				j.dynWorker(ctx, d, w, in[w], fired)
				return
			}
			agg := agg.(*windowAggregator)
			for m := range in[w] {
				switch {
				case m.chunk != nil:
					agg.add(m.chunk)
					m.chunk.done()
				case m.barrier != 0:
					fired <- firedMsg{epoch: m.epoch, barrier: m.barrier, worker: w, state: agg.snapshot(), at: time.Now()}
				default:
					recs, errs := agg.fire(m.watermark, j.mem)
					fired <- firedMsg{epoch: m.epoch, watermark: m.watermark, recs: recs, errs: errs}
				}
			}
		})
	}
	outDone := make(chan error, 1)
	go func() { outDone <- j.output(ctx, fired, workers, cancel) }()

	scanErr := j.scanForAggregation(ctx, in)
	return drainStages(ctx, scanErr, in, &wg, func() { close(fired) }, outDone)
}

// drainStages ends a scan -> workers -> output pipeline once the scan stage
// has returned: it closes the workers' inputs, waits for them, closes the
// output stage's input and waits for it. A LIMIT that was met is success;
// otherwise the scan's error comes first, then the output's.
func drainStages[M any](ctx context.Context, scanErr error, in []chan M, workers *sync.WaitGroup, closeOut func(), outDone <-chan error) error {
	for _, c := range in {
		close(c)
	}
	workers.Wait()
	closeOut()
	outErr := <-outDone
	if cause := context.Cause(ctx); errors.Is(cause, errLimitReached) {
		return nil
	}
	if scanErr != nil {
		return scanErr
	}
	return outErr
}

// scanForAggregation is the scan stage: read, filter, evaluate keys and
// arguments, decide lateness, route rows to workers, and send watermarks.
func (j *Job) scanForAggregation(ctx context.Context, in []chan workerMsg) error {
	a := j.plan.Agg
	assign := newAssigner(a.Window)
	// boundary counts the windows that may close at watermark w (start+size <= w).
	boundary := func(w int64) int64 {
		if w == maxTime || w == minTime || j.dynamic() || a.AllowedLateness > 0 || a.EmitEvery > 0 {
			return w // windows may close, or updated results go out, at any watermark
		}
		return floorDiv(w-assign.size-assign.offset, assign.slide)
	}
	wm := newWatermarker(a.WatermarkDelay, a.EventTime, j.opts.IdleTimeout)
	sentBoundary := int64(minTime)
	if err := j.restoreScan(wm, &sentBoundary, nil); err != nil {
		return err
	}
	lister, _ := j.src.(SplitLister)
	epoch := int64(0)
	sendWatermark := func(w int64) error {
		j.stats.watermark.Store(w)
		if b := boundary(w); b > sentBoundary {
			sentBoundary = b
			epoch++
			for _, c := range in {
				select {
				case c <- workerMsg{watermark: w, epoch: epoch}:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
		}
		return nil
	}
	sendBarrier := func(id int64) error {
		j.ck.recordBarrier(id, scanSnapshot(wm, sentBoundary, 0))
		epoch++
		for _, c := range in {
			select {
			case c <- workerMsg{barrier: id, epoch: epoch}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		return nil
	}
	var wmAt []int64
	for {
		b, err := j.next(ctx)
		if err == io.EOF {
			if !j.opts.KeepOpenAtEnd {
				if err := sendWatermark(wm.finish()); err != nil {
					return err
				}
			}
			if j.ck == nil {
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
				return nil // cancelled: drop open windows, keep what was emitted
			}
			return err
		}
		now := j.opts.Now()
		if lister != nil {
			wm.know(lister.ActiveSplits(), now)
		}
		if b.Record == nil || b.Record.NumRows() == 0 {
			wm.heartbeat(b.Split, b.Arrival, now)
			if b.Record != nil {
				b.Record.Release()
			}
		} else {
			err := j.route(ctx, b, in, wm, assign, &wmAt, now)
			b.Record.Release()
			if err != nil {
				return err
			}
		}
		if b.SplitDone {
			wm.done(b.Split, now)
		}
		if err := sendWatermark(wm.advance(now)); err != nil {
			return err
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

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// route evaluates one batch: its event times advance the watermark (all rows,
// before WHERE, so a filter that drops a split's rows does not stall time), the
// rows that pass WHERE are checked for lateness (late rows go to the error
// stream), and every worker gets the rows it owns.
func (j *Job) route(ctx context.Context, b SourceBatch, in []chan workerMsg, wm *watermarker,
	assign assigner, wmAtBuf *[]int64, now time.Time) error {
	rec := b.Record
	n := int(rec.NumRows())
	var times []int64
	valid := func(int) bool { return true }
	nullTimes := false
	if j.timeCol < 0 {
		// PROCTIME(): every row of the batch is stamped with the wall clock now.
		times = make([]int64, n)
		for i := range times {
			times[i] = now.UnixMilli()
		}
	} else {
		timeArr, ok := rec.Column(j.timeCol).(*array.Timestamp)
		if !ok {
			return fmt.Errorf("time column %s is not a TIMESTAMP", j.plan.ScanSchema[j.timeCol].Name)
		}
		times = timestampsAsInt64(timeArr)
		valid = timeArr.IsValid
		nullTimes = timeArr.NullN() > 0
	}
	if cap(*wmAtBuf) < n {
		*wmAtBuf = make([]int64, n)
	}
	wmAt := (*wmAtBuf)[:n]
	wm.observe(b.Split, times, valid, now, wmAt)
	lateness := j.plan.Agg.AllowedLateness.Milliseconds()

	var cols []arrow.Array
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	var keep *array.Boolean
	if j.filter != nil {
		arr, rerrs, err := j.filter.Eval(rec, j.mem)
		if err != nil {
			return fmt.Errorf("WHERE: %w", err)
		}
		j.rowErrors(ctx, b, rec, "WHERE", rerrs)
		cols = append(cols, arr)
		keep = arr.(*array.Boolean)
	}
	keys := make([]arrow.Array, len(j.keys))
	for i, k := range j.keys {
		arr, rerrs, err := k.Eval(rec, j.mem)
		if err != nil {
			release()
			return fmt.Errorf("GROUP BY %s: %w", j.plan.Agg.KeyNames[i], err)
		}
		j.rowErrors(ctx, b, rec, "GROUP BY "+j.plan.Agg.KeyNames[i], rerrs)
		keys[i] = arr
		cols = append(cols, arr)
	}
	args := make([]arrow.Array, len(j.args))
	for i, ev := range j.args {
		if ev == nil {
			continue
		}
		arr, rerrs, err := ev.Eval(rec, j.mem)
		if err != nil {
			release()
			return fmt.Errorf("aggregate argument: %w", err)
		}
		j.rowErrors(ctx, b, rec, "aggregate argument", rerrs)
		args[i] = arr
		cols = append(cols, arr)
	}

	hashes := make([]uint64, n)
	for i := range hashes {
		hashes[i] = hashSeed
	}
	for _, k := range keys {
		hashColumn(k, hashes)
	}
	starts := make([]int64, n)
	perWorker := make([][]int32, len(in))
	var rowErrs []ErrorRecord
	for i := range n {
		if keep != nil && (keep.IsNull(i) || !keep.Value(i)) {
			continue
		}
		if nullTimes && !valid(i) {
			j.stats.evalErrs.Add(1)
			rowErrs = append(rowErrs, ErrorRecord{Kind: ErrorEval, Source: j.opts.SourceName, Split: b.Split, Position: b.Position,
				Raw: rowJSON(rec, i), Reason: fmt.Sprintf("time column %s is NULL; the row cannot be placed in a window", j.plan.ScanSchema[j.timeCol].Name), At: now})
			continue
		}
		if j.dynamic() { // the worker that holds the key's windows decides lateness
			w := int(hashes[i] % uint64(len(in)))
			perWorker[w] = append(perWorker[w], int32(i))
			continue
		}
		last := assign.lastStart(times[i])
		openAt := wmAt[i] // windows still open for rows at this watermark
		if openAt != minTime {
			openAt -= lateness // (minTime - lateness would wrap around)
		}
		first := max(assign.firstStart(times[i]), assign.firstOpen(openAt))
		if first > last { // every window of the row had closed
			j.stats.late.Add(1)
			rowErrs = append(rowErrs, ErrorRecord{Kind: ErrorLate, Source: j.opts.SourceName, Split: b.Split, Position: b.Position,
				Raw: rowJSON(rec, i), At: now,
				Reason: fmt.Sprintf("event time %s is late: its window ending %s had closed (watermark %s)",
					fmtMillis(times[i]), fmtMillis(last+assign.size), fmtMillis(wmAt[i]))})
			continue
		}
		starts[i] = first
		w := int(hashes[i] % uint64(len(in)))
		perWorker[w] = append(perWorker[w], int32(i))
	}
	if len(rowErrs) > 0 {
		j.reportErrors(ctx, rowErrs)
	}
	var pending atomic.Int32
	for _, rows := range perWorker {
		if len(rows) > 0 {
			pending.Add(1)
		}
	}
	if pending.Load() == 0 {
		release()
		return nil
	}
	var rowWM []int64
	if j.dynamic() {
		// Workers read the watermark after each row; the scan reuses wmAt.
		rowWM = append([]int64(nil), wmAt...)
		rec.Retain() // late rows are rendered from it by the worker
		releaseCols := release
		release = func() {
			releaseCols()
			rec.Release()
		}
	}
	done := func() {
		if pending.Add(-1) == 0 {
			release()
		}
	}
	for w, rows := range perWorker {
		if len(rows) == 0 {
			continue
		}
		c := &aggChunk{keys: keys, args: args, starts: starts, times: times, wmAt: rowWM, rec: rec, hashes: hashes, rows: rows, done: done, split: b.Split, position: b.Position}
		select {
		case in[w] <- workerMsg{chunk: c}:
		case <-ctx.Done():
			for _, rest := range perWorker[w:] { // this chunk and every one not sent
				if len(rest) > 0 {
					done()
				}
			}
			return nil
		}
	}
	return nil
}

func fmtMillis(ms int64) string {
	switch ms {
	case minTime:
		return "-inf"
	case maxTime:
		return "+inf"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// output gathers each watermark epoch's closed windows from every worker, puts
// them in window and key order, applies HAVING and SELECT, and writes the sink.
func (j *Job) output(ctx context.Context, fired <-chan firedMsg, workers int, cancel context.CancelCauseFunc) error {
	if j.changes != nil {
		defer j.changes.release()
	}
	return gatherEpochs(ctx, j, fired, workers, cancel,
		func(m firedMsg) int64 { return m.epoch },
		func(ms []firedMsg, written *int64) (bool, error) {
			if len(ms) > 0 && ms[0].barrier != 0 {
				return false, j.outputBarrier(ctx, ms)
			}
			var recs, withdrawn []arrow.RecordBatch
			var errs []string
			for _, m := range ms {
				recs = append(recs, m.recs...)
				withdrawn = append(withdrawn, m.withdrawn...)
				errs = append(errs, m.errs...)
			}
			defer releaseAll(withdrawn)
			done, err := j.emit(ctx, recs, withdrawn, errs, written)
			if j.changes != nil && len(ms) > 0 {
				j.changes.expire(ms[0].watermark)
			}
			return done, err
		},
		func(m firedMsg) {
			releaseAll(m.recs)
			releaseAll(m.withdrawn)
		})
}

// emptyColumns returns a zero-length array per field of sch.
func emptyColumns(sch *arrow.Schema, mem memory.Allocator) []arrow.Array {
	cols := make([]arrow.Array, sch.NumFields())
	for i, f := range sch.Fields() {
		cols[i] = array.MakeArrayOfNull(mem, f.Type, 0)
	}
	return cols
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// epochOf collects the workers' messages of one epoch.
type epochOf[M any] struct {
	got int
	ms  []M
}

// gatherEpochs is the output stage of a workers pipeline: each worker answers
// every watermark epoch with one message; once all workers have answered an
// epoch, emit writes it (epochs in order), and the sink is flushed every
// FlushInterval. A failure or a met LIMIT cancels the pipeline; messages that
// arrive afterwards are released unread.
func gatherEpochs[M any](ctx context.Context, j *Job, in <-chan M, workers int, cancel context.CancelCauseFunc,
	epochNum func(M) int64, emit func(ms []M, written *int64) (bool, error), release func(M)) error {
	pending := map[int64]*epochOf[M]{}
	next := int64(1)
	written := int64(0)
	lastFlush := time.Now()
	var failed error
	var commits <-chan int64
	if j.ck != nil {
		commits = j.ck.link.commits
	}
	for {
		var m M
		select {
		case id := <-commits:
			if failed == nil {
				if err := j.commit(ctx, id); err != nil {
					failed = err
					cancel(failed)
				}
			}
			continue
		case msg, ok := <-in:
			if !ok {
				return finishEpochs(ctx, j, pending, release, failed)
			}
			m = msg
		}
		if failed != nil {
			release(m)
			continue
		}
		st := pending[epochNum(m)]
		if st == nil {
			st = &epochOf[M]{}
			pending[epochNum(m)] = st
		}
		st.got++
		st.ms = append(st.ms, m)
		for {
			st := pending[next]
			if st == nil || st.got < workers {
				break
			}
			delete(pending, next)
			next++
			done, err := emit(st.ms, &written)
			if err != nil || done {
				failed = err
				if done {
					failed = errLimitReached
				}
				cancel(failed)
				break
			}
		}
		if failed == nil && time.Since(lastFlush) > j.opts.FlushInterval {
			if err := j.sink.Flush(ctx); err != nil {
				failed = fmt.Errorf("flush sink: %w", err)
				cancel(failed)
			}
			lastFlush = time.Now()
		}
	}
}

// finishEpochs ends the output stage: it releases what never completed and,
// after the last checkpoint of a bounded run, waits until its output is
// committed.
func finishEpochs[M any, P comparable](ctx context.Context, j *Job, pending map[P]*epochOf[M], release func(M), failed error) error {
	for _, st := range pending {
		for _, m := range st.ms {
			release(m)
		}
	}
	if errors.Is(failed, errLimitReached) {
		return nil
	}
	if failed == nil && j.ck != nil && j.ck.final != 0 {
		return j.commitCompleted(ctx, true)
	}
	return failed
}

// emit writes one epoch's windows. It releases recs.
func (j *Job) emit(ctx context.Context, recs, withdrawn []arrow.RecordBatch, aggErrs []string, written *int64) (bool, error) {
	defer releaseAll(recs)
	if len(aggErrs) > 0 {
		j.stats.evalErrs.Add(int64(len(aggErrs)))
		errs := make([]ErrorRecord, len(aggErrs))
		for i, e := range aggErrs {
			errs[i] = ErrorRecord{Kind: ErrorEval, Source: j.opts.SourceName, Reason: e, At: j.opts.Now()}
		}
		j.reportErrors(ctx, errs)
	}
	var nonEmpty []arrow.RecordBatch
	for _, r := range recs {
		if r.NumRows() > 0 {
			nonEmpty = append(nonEmpty, r)
		}
	}
	if len(nonEmpty) == 0 {
		if j.changes != nil && len(withdrawn) > 0 {
			return j.emitChanges(ctx, nil, withdrawn, written)
		}
		return false, nil
	}
	merged, err := mergeWindows(nonEmpty, len(j.plan.Agg.KeyExprs), j.mem)
	if err != nil {
		return false, err
	}
	defer merged.Release()
	if j.changes != nil {
		return j.emitChanges(ctx, merged, withdrawn, written)
	}
	rows := merged
	if j.having != nil {
		kept, rerrs, err := eval.Filter(merged, j.having, j.mem)
		if err != nil {
			return false, fmt.Errorf("HAVING: %w", err)
		}
		j.rowErrors(ctx, SourceBatch{}, merged, "HAVING", rerrs)
		defer kept.Release()
		rows = kept
	}
	out, rerrs, err := eval.Project(rows, j.final, j.outSch, j.mem)
	if err != nil {
		return false, fmt.Errorf("SELECT: %w", err)
	}
	j.rowErrors(ctx, SourceBatch{}, rows, "SELECT", rerrs)
	defer out.Release()
	return j.write(ctx, out, written)
}

// emitChanges writes one epoch of an updating query as changes (changelog.go).
// merged may be nil when the epoch only withdrew windows.
func (j *Job) emitChanges(ctx context.Context, merged arrow.RecordBatch, withdrawn []arrow.RecordBatch, written *int64) (bool, error) {
	if merged == nil {
		merged = array.NewRecordBatch(j.spec.schema, emptyColumns(j.spec.schema, j.mem), 0)
		for _, c := range merged.Columns() {
			c.Release()
		}
		defer merged.Release()
	}
	n := int(merged.NumRows())
	kept := make([]bool, n)
	rows := merged
	if j.having != nil {
		arr, rerrs, err := j.having.Eval(merged, j.mem)
		if err != nil {
			return false, fmt.Errorf("HAVING: %w", err)
		}
		j.rowErrors(ctx, SourceBatch{}, merged, "HAVING", rerrs)
		mask := arr.(*array.Boolean)
		for i := range n {
			kept[i] = mask.IsValid(i) && mask.Value(i)
		}
		rows, err = eval.FilterBy(merged, mask, j.mem)
		arr.Release()
		if err != nil {
			return false, fmt.Errorf("HAVING: %w", err)
		}
		defer rows.Release()
	} else {
		for i := range kept {
			kept[i] = true
		}
	}
	out, rerrs, err := eval.Project(rows, j.final, j.selSch, j.mem)
	if err != nil {
		return false, fmt.Errorf("SELECT: %w", err)
	}
	j.rowErrors(ctx, SourceBatch{}, rows, "SELECT", rerrs)
	defer out.Release()
	changes, err := j.changes.apply(merged, kept, out, withdrawn, j.outSch, j.mem)
	if err != nil || changes == nil {
		return false, err
	}
	defer changes.Release()
	return j.write(ctx, changes, written)
}
