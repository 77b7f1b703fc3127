package exec

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/exec/checkpoint"
	"github.com/eddy-streams/eddy/exec/snapshot"
	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql/expr"
)

// Checkpointing puts a job in its application's checkpoints (coordinator.go).
type Checkpointing struct {
	Coordinator *Coordinator
	// Name is the job's name in the application (e.g. "q0"): its files and
	// source positions are recorded under it.
	Name string
}

// StartPositioner is implemented by sources that can say where each split
// starts ("" from its first record, else after that position), so that a
// checkpoint taken before a split produced anything still pins its start.
type StartPositioner interface {
	StartPositions() map[string]string
}

// workerState is an aggregation worker's state in checkpoints.
type workerState interface {
	snapshot() []byte
	restore(b []byte) error
}

// jobCheckpoints is a job's side of checkpoints.
type jobCheckpoints struct {
	c    *Coordinator
	name string
	link *jobLink

	// Scan stage: where each split stands after the batches processed.
	start map[string]string
	after map[string]string
	done  map[string]bool
	// barrier id -> what the scan stage recorded at it, for the output stage.
	mu     sync.Mutex
	atScan map[int64]scanAtBarrier

	// Output stage: prepared sink states by checkpoint, and the last ack.
	prepared  map[int64][]byte
	committed int64
	lastAck   *jobAck
	final     int64 // the barrier taken at the end of a bounded source

	// restore is the job's part of the checkpoint resumed from, or nil.
	restore *checkpoint.Checkpoint
	// fingerprint is the job's plan's (Job.fingerprint), set by NewJob.
	fingerprint string
}

type scanAtBarrier struct {
	position checkpoint.Position
	state    []byte // the scan stage's own state (watermarks)
}

func newJobCheckpoints(cfg *Checkpointing) (*jobCheckpoints, error) {
	link, err := cfg.Coordinator.register(cfg.Name)
	if err != nil {
		return nil, err
	}
	ck := &jobCheckpoints{c: cfg.Coordinator, name: cfg.Name, link: link, after: map[string]string{}, done: map[string]bool{},
		atScan: map[int64]scanAtBarrier{}, prepared: map[int64][]byte{}}
	if r, ok := cfg.Coordinator.restored(cfg.Name); ok {
		ck.restore = r
		pos := r.Sources[cfg.Name]
		maps.Copy(ck.after, pos.After)
		for _, s := range pos.Done {
			ck.done[s] = true
		}
	}
	return ck, nil
}

// fileName is the name of one of the job's state files.
func (ck *jobCheckpoints) fileName(part string) string { return ck.name + "." + part + ".state" }

// restored returns one of the job's state files from the checkpoint resumed
// from; ok is false when the job starts fresh.
func (ck *jobCheckpoints) restored(part string) ([]byte, bool, error) {
	if ck.restore == nil {
		return nil, false, nil
	}
	b, ok := ck.restore.File(ck.fileName(part))
	if !ok {
		return nil, false, fmt.Errorf("checkpoint %d has no state %s for query %s: the application changed since; its state cannot be restored",
			ck.restore.ID, part, ck.name)
	}
	return b, true, nil
}

// saw records a processed batch's position (scan stage).
func (ck *jobCheckpoints) saw(b SourceBatch) {
	if b.Position != "" {
		ck.after[b.Split] = b.Position
	}
	if b.SplitDone {
		ck.done[b.Split] = true
	}
}

// position is where the source resumes after what was processed.
func (ck *jobCheckpoints) position() checkpoint.Position {
	p := checkpoint.Position{After: map[string]string{}}
	maps.Copy(p.After, ck.start)
	maps.Copy(p.After, ck.after)
	for s := range ck.done {
		// The position stays: a bounded source also reports open shards done
		// at their bound, which a later run reads on from there.
		p.Done = append(p.Done, s)
	}
	slices.Sort(p.Done)
	return p
}

// pendingBarrier returns a barrier to inject now, or 0.
func (ck *jobCheckpoints) pendingBarrier() int64 {
	select {
	case id := <-ck.link.barriers:
		return id
	default:
		return 0
	}
}

// finalBarrier asks for a checkpoint at the end of a bounded source and
// returns its barrier, which covers everything the job read.
func (ck *jobCheckpoints) finalBarrier(ctx context.Context) (int64, error) {
	for {
		f := ck.c.trigger()
		if f == nil {
			return 0, fmt.Errorf("final checkpoint of %s: no job is running", ck.name)
		}
		select {
		case id := <-ck.link.barriers:
			return id, nil
		case <-f.done: // a checkpoint this job already answered ended: ask again
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
	}
}

// recordBarrier stores what the scan stage knows at barrier id.
func (ck *jobCheckpoints) recordBarrier(id int64, scanState []byte) {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	ck.atScan[id] = scanAtBarrier{position: ck.position(), state: scanState}
}

// barrierReached is called by the output stage with one epoch that is a
// barrier: every worker's state. It prepares the sink and acknowledges.
func (j *Job) barrierReached(ctx context.Context, id int64, workerStates [][]byte, outState []byte, first time.Time) error {
	ck := j.ck
	ck.mu.Lock()
	at := ck.atScan[id]
	delete(ck.atScan, id)
	ck.mu.Unlock()
	a := &jobAck{job: ck.name, id: id, files: map[string][]byte{}, position: at.position, alignment: time.Since(first)}
	op := checkpoint.Operator{Name: ck.name, Fingerprint: ck.fingerprint}
	add := func(part string, b []byte) {
		name := ck.fileName(part)
		a.files[name] = b
		op.Files = append(op.Files, name)
	}
	add("scan", at.state)
	for w, st := range workerStates {
		add(fmt.Sprintf("worker%d", w), st)
	}
	add("output", outState)
	a.operators = []checkpoint.Operator{op}
	if cs, ok := j.sink.(CommittingSink); ok {
		st, err := cs.Prepare(ctx, id)
		if err != nil {
			return fmt.Errorf("checkpoint %d: prepare sink: %w", id, err)
		}
		a.sink = st
		ck.prepared[id] = st
	} else if err := j.sink.Flush(ctx); err != nil {
		return fmt.Errorf("checkpoint %d: flush sink: %w", id, err)
	}
	ck.lastAck = a
	ck.c.ack(a)
	return nil
}

// commit makes the sink's output of every prepared checkpoint up to id
// visible (output stage).
func (j *Job) commit(ctx context.Context, id int64) error {
	ck := j.ck
	cs, ok := j.sink.(CommittingSink)
	for _, p := range slices.Sorted(maps.Keys(ck.prepared)) {
		if p > id {
			break
		}
		if ok {
			if err := cs.Commit(ctx, p, ck.prepared[p]); err != nil {
				return fmt.Errorf("checkpoint %d: commit sink: %w", p, err)
			}
		}
		delete(ck.prepared, p)
	}
	ck.committed = max(ck.committed, id)
	ck.c.committed(ck.name, ck.committed)
	return nil
}

// commitCompleted commits the checkpoints completed so far; with waitFinal
// it first waits until the last checkpoint of a bounded run is complete.
func (j *Job) commitCompleted(ctx context.Context, waitFinal bool) error {
	ck := j.ck
	for waitFinal && ck.committed < ck.final {
		select {
		case id := <-ck.link.commits:
			if err := j.commit(ctx, id); err != nil {
				return err
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	for {
		select {
		case id := <-ck.link.commits:
			if err := j.commit(ctx, id); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// recoverSink prepares a committing sink for the run: it finishes or discards
// what an earlier run left.
func (j *Job) recoverSink(ctx context.Context) error {
	cs, ok := j.sink.(CommittingSink)
	if !ok || j.ck == nil {
		return nil
	}
	var id int64
	var state []byte
	if r := j.ck.restore; r != nil {
		id, state = r.ID, r.Sinks[j.ck.name]
	}
	if err := cs.Recover(ctx, id, state); err != nil {
		return fmt.Errorf("recover sink from checkpoint %d: %w", id, err)
	}
	return nil
}

// fingerprintWorkers is the fingerprint field holding the worker count. Every
// fingerprint of a job with worker state has it, before any free text (such
// as a schema), so CheckpointedWorkers finds it as the first such field.
const fingerprintWorkers = " workers="

// CheckpointedWorkers returns the number of workers the state of query job in
// checkpoint c was taken with, read from its operator fingerprint: worker
// state is split by key hash over that many workers, so a restore must run
// with the same count. ok is false when the checkpoint does not hold the job
// or the job keeps no worker state.
func CheckpointedWorkers(c *checkpoint.Checkpoint, job string) (int, bool) {
	if c == nil {
		return 0, false
	}
	for _, op := range c.Operators {
		if op.Name != job {
			continue
		}
		_, rest, ok := strings.Cut(op.Fingerprint, fingerprintWorkers)
		if !ok {
			return 0, false
		}
		field, _, _ := strings.Cut(rest, " ")
		n, err := strconv.Atoi(field)
		if err != nil || n < 1 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// fingerprint says what the job's state means: a checkpoint of a query whose
// plan differs in what it keeps cannot be restored into it.
func (j *Job) fingerprint() string {
	p := j.plan
	if p.Over != nil {
		return overFingerprint(p.Over)
	}
	if p.Agg == nil {
		return "stateless"
	}
	a := p.Agg
	s := fmt.Sprintf("agg window=%v keys=%d"+fingerprintWorkers+"%d schema=%v lateness=%v emit=%v", a.Window, len(a.KeyExprs), max(1, a.Workers), a.AggSchema,
		a.AllowedLateness, a.EmitEvery)
	for _, g := range a.Aggs {
		s += fmt.Sprintf(" %s(%v,%v,%v)", g.Fn, g.Distinct, g.Param, g.T)
	}
	// What each key is computed from: a GROUP BY that changed its expression
	// but kept its name and type would otherwise restore foreign groups.
	// Column positions are left out, so a stream may gain columns.
	keys := make([]string, len(a.KeyExprs))
	for i, k := range a.KeyExprs {
		keys[i] = columnIndex.ReplaceAllString(k.String(), "")
	}
	return s + " by=[" + strings.Join(keys, ", ") + "]"
}

// columnIndex matches the position in a column reference's text (name#3).
var columnIndex = regexp.MustCompile(`#\d+`)

// overFingerprint covers what an OVER query's state holds: partitions by
// key (names and types), each function's state (its frame, argument,
// default and result), the carried columns of rows not yet emitted, and the
// workers the partitions are spread over.
func overFingerprint(st *planner.OverStage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "over keys=%d"+fingerprintWorkers+"%d partition=[", len(st.KeyExprs), max(1, st.Workers))
	for i, k := range st.KeyExprs {
		fmt.Fprintf(&b, " %s:%v", st.KeyNames[i], k.Type())
	}
	b.WriteString(" ] funcs=[")
	typeOf := func(e expr.Expr) string {
		if e == nil {
			return "-"
		}
		return e.Type().String()
	}
	for _, f := range st.Funcs {
		fmt.Fprintf(&b, " %s(%s,%d,%s)/%v/%v", f.Fn, typeOf(f.Arg), f.Offset, typeOf(f.Default), f.Frame, f.T)
		if len(f.Args) > 0 {
			// A forest's state is its columns' points under its parameters.
			fmt.Fprintf(&b, "/forest(%s)[%s]", strings.Join(f.ArgNames, ","), f.Forest)
		}
	}
	fmt.Fprintf(&b, " ] carry=%v", st.OverSchema[:len(st.Carry)])
	return b.String()
}

// checkFingerprint refuses a checkpoint of a different plan.
func (ck *jobCheckpoints) checkFingerprint(j *Job) error {
	ck.fingerprint = j.fingerprint()
	if ck.restore == nil {
		return nil
	}
	for _, op := range ck.restore.Operators {
		// (Checkpoints before projections recorded theirs have none.)
		if op.Name == ck.name && op.Fingerprint != ck.fingerprint && (op.Fingerprint != "" || ck.fingerprint != "stateless") {
			return fmt.Errorf("checkpoint %d: the state of query %s was kept by a different plan (%s; now %s), so it cannot be restored",
				ck.restore.ID, ck.name, op.Fingerprint, ck.fingerprint)
		}
	}
	return nil
}

// scanStateVersion is the scan stage's state format; version 1 was the
// watermarks alone.
const scanStateVersion = 2

// scanSnapshot encodes a scan stage's state: its watermarks, what it last
// sent the workers (a watermark, or a window boundary), so that a restored
// scan starts the next epoch exactly where an uninterrupted one would, and
// for OVER the next row's arrival number, which orders rows of equal time.
func scanSnapshot(wm *watermarker, sent, seq int64) []byte {
	var e snapshot.Encoder
	e.Uvarint(scanStateVersion)
	e.Varint(sent)
	e.Varint(seq)
	e.Bytes(wm.snapshot())
	return e.Data()
}

// restoreScan loads the scan stage's state from the checkpoint resumed from,
// if any, into wm, sent and seq (seq may be nil).
func (j *Job) restoreScan(wm *watermarker, sent, seq *int64) error {
	if j.ck == nil {
		return nil
	}
	b, ok, err := j.ck.restored("scan")
	if err != nil || !ok {
		return err
	}
	d := snapshot.NewDecoder(b)
	s, q, wms := *sent, int64(0), b
	switch v := d.Uvarint(); v {
	case 1: // the watermarks alone: nothing sent yet
	case scanStateVersion:
		s, q, wms = d.Varint(), d.Varint(), d.Bytes()
		err = d.End()
	default:
		d.Fail("scan state version %d, want %d", v, scanStateVersion)
		err = d.Err()
	}
	if err == nil {
		err = wm.restore(wms, j.opts.Now())
	}
	if err != nil {
		return fmt.Errorf("restore checkpoint %d: query %s: %w", j.ck.restore.ID, j.ck.name, err)
	}
	*sent = s
	if seq != nil {
		*seq = q
	}
	return nil
}

// snapshot encodes the scan stage's watermark state.
func (w *watermarker) snapshot() []byte {
	var e snapshot.Encoder
	e.Uvarint(1)
	e.Varint(w.current)
	ids := slices.Sorted(maps.Keys(w.splits))
	e.Uvarint(uint64(len(ids)))
	for _, id := range ids {
		c := w.splits[id]
		e.String(id)
		e.Varint(c.max)
		e.Bool(c.done)
	}
	return e.Data()
}

// restore replaces the watermark state; idle clocks restart at now.
func (w *watermarker) restore(b []byte, now time.Time) error {
	d := snapshot.NewDecoder(b)
	if v := d.Uvarint(); v != 1 {
		d.Fail("watermark state version %d", v)
	}
	w.current = d.Varint()
	n := d.Count(3)
	splits := map[string]*splitClock{}
	for range n {
		id := d.String()
		c := &splitClock{max: d.Varint(), done: d.Bool(), seenAt: now, lastData: now}
		splits[id] = c
	}
	if err := d.End(); err != nil {
		return fmt.Errorf("watermarks: %w", err)
	}
	w.splits = splits
	return nil
}

// barrierPart is a worker's answer to a barrier: its index and state.
type barrierPart struct {
	barrier int64
	worker  int
	state   []byte
	at      time.Time // when the worker passed the barrier
}

// outputBarrier handles a barrier epoch in the output stage of an
// aggregation: ms holds every worker's state.
func (j *Job) outputBarrier(ctx context.Context, ms []firedMsg) error {
	parts := make([]barrierPart, len(ms))
	for i, m := range ms {
		parts[i] = barrierPart{barrier: m.barrier, worker: m.worker, state: m.state, at: m.at}
	}
	var out []byte
	if j.changes != nil {
		out = j.changes.snapshot()
	}
	return j.alignedBarrier(ctx, parts, out)
}

// alignedBarrier acknowledges a barrier once every worker passed it, with
// their states and the output stage's.
func (j *Job) alignedBarrier(ctx context.Context, parts []barrierPart, outState []byte) error {
	states := make([][]byte, len(parts))
	first, last := parts[0].at, parts[0].at
	for _, p := range parts {
		states[p.worker] = p.state
		if p.at.Before(first) {
			first = p.at
		}
		if p.at.After(last) {
			last = p.at
		}
	}
	return j.barrierReached(ctx, parts[0].barrier, states, outState, time.Now().Add(-last.Sub(first)))
}

// restoreChangelog loads an updating query's changelog (the output stage's
// state) from the checkpoint resumed from.
func (j *Job) restoreChangelog() error {
	if j.ck == nil || j.changes == nil {
		return nil
	}
	b, ok, err := j.ck.restored("output")
	if err != nil || !ok {
		return err
	}
	if err := j.changes.restore(b, j.selSch, j.mem); err != nil {
		j.changes.release()
		return fmt.Errorf("restore checkpoint %d: query %s changelog: %w", j.ck.restore.ID, j.ck.name, err)
	}
	return nil
}

// restoreWorker loads worker w's state from the checkpoint resumed from.
func (j *Job) restoreWorker(w int, agg workerState) error {
	if j.ck == nil {
		return nil
	}
	b, ok, err := j.ck.restored(fmt.Sprintf("worker%d", w))
	if err != nil || !ok {
		return err
	}
	if err := agg.restore(b); err != nil {
		return fmt.Errorf("restore checkpoint %d: query %s worker %d: %w", j.ck.restore.ID, j.ck.name, w, err)
	}
	return nil
}

// projectionCheckpoint handles checkpoints in a query without state: a
// pending barrier is taken between two batches (at the end of a bounded
// source, a last one, whose commit the job waits for), and completed
// checkpoints are committed.
func (j *Job) projectionCheckpoint(ctx context.Context, end bool) error {
	ck := j.ck
	if ck == nil {
		return nil
	}
	id := ck.pendingBarrier()
	if end {
		var err error
		if id == 0 {
			if id, err = ck.finalBarrier(ctx); err != nil {
				return err
			}
		}
		ck.final = id
	}
	if id != 0 {
		ck.recordBarrier(id, nil)
		if err := j.barrierReached(ctx, id, nil, nil, time.Now()); err != nil {
			return err
		}
	}
	return j.commitCompleted(ctx, end)
}
