package kinesis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

// Start is where a source begins reading the shards that exist when it opens.
type Start struct {
	Kind      string    // StartTrimHorizon, StartLatest or StartTimestamp
	Timestamp time.Time // for StartTimestamp
}

// Defaults of SourceConfig.
const (
	DefaultMaxRows      = 8192
	DefaultMaxDelay     = 50 * time.Millisecond
	DefaultPollInterval = 25 * time.Millisecond
	// maxBatchBytes flushes a batch early when its decoded data grows large.
	maxBatchBytes = 64 << 20
)

// Resume is where a source restored from a checkpoint starts, shard by shard.
// A checkpoint builds it from the source's StartPositions at open, overridden
// by the Position of the last batch of each shard that was fully processed
// (After), and the shards whose SplitDone batch was processed (Done).
//
//   - A shard in Done is not read at all, and its children are read as if it
//     had been read to its end. But a bounded source ends every shard with
//     SplitDone, open ones at their bound, after which they may get more
//     records: so a shard of Done that is also in After is skipped only when
//     it is closed and its position is its last record; else it is read from
//     that position. An open shard in Done alone is an error.
//   - A shard in After is read after the given sequence number; "" reads it
//     from its first record still kept, as trim_horizon does.
//   - A shard in neither (created since the checkpoint by a split or merge, or
//     a child that was waiting for its parents) is read from its beginning.
//
// Parents are still read to their end before their children. A sequence
// number that cannot belong to the shard (a stream deleted and created again
// since the checkpoint, another shard's number, past the shard's end) makes
// OpenEmbeddedSource fail with an error naming the shard and the position. A
// position whose following records retention removed before they were read is
// not an error: the shard starts at the first record still kept, and
// EmbeddedSource.Warnings says so, as it does for a shard of After that
// retention removed whole.
type Resume struct {
	After map[string]string // shard id -> sequence number of the last record processed, or ""
	Done  []string          // closed shards read to their end
}

// SourceConfig configures an EmbeddedSource.
type SourceConfig struct {
	// Name is the SQL stream's name, for error records.
	Name string
	// Stream is the stream's name in the store.
	Stream string
	// Start is where the shards that exist at open are read from (the zero
	// value means trim_horizon). Shards created later (children after a
	// reshard) are read from their beginning. Ignored when Resume is set.
	Start Start
	// Resume, when set, restores the source from a checkpoint and replaces
	// Start (see Resume).
	Resume *Resume
	// Decoder decodes records into the stream's columns.
	Decoder format.Decoder
	// Columns are the indexes (into Decoder.Columns()) of the columns the
	// query needs, in the order of the batches' columns; nil means all.
	Columns []int
	// Rowtime appends ROWTIME (the record's arrival time, truncated to ms) as
	// the batches' last column.
	Rowtime bool
	// MaxRows bounds a batch's rows (default 8192).
	MaxRows int
	// MaxDelay bounds how long rows read from a shard wait for more before
	// their batch is returned (default 50ms).
	MaxDelay time.Duration
	// PollInterval is how often a shard with nothing new is asked again, and
	// how often at most an idle shard sends a heartbeat (default 25ms).
	PollInterval time.Duration
	// Bounded reads every shard that exists at open up to its end as of open,
	// then Next returns io.EOF. Every split then ends with SplitDone.
	Bounded bool
	// Now is the store's clock (the streamstore.Options.Now the store was
	// opened with), for heartbeats' Arrival and errors' At: an idle heartbeat
	// promises that later records arrive after it, which holds only on the
	// clock that stamps arrivals. Default time.Now. Polling and batching
	// deadlines always run on the wall clock.
	Now func() time.Time
}

// SetScanColumns sets Columns and Rowtime from a scan's column indexes into
// the stream's Schema() — the declared columns, then ROWTIME at index
// len(Decoder.Columns()) — as the planner's Physical.ScanColumns gives them.
// ROWTIME, when present, must come last.
func (c *SourceConfig) SetScanColumns(scan []int) error {
	if c.Decoder == nil {
		return fmt.Errorf("kinesis source %s: no decoder", c.Name)
	}
	rowtime := len(c.Decoder.Columns())
	c.Columns, c.Rowtime = make([]int, 0, len(scan)), false
	for i, k := range scan {
		switch {
		case k == rowtime && i == len(scan)-1:
			c.Rowtime = true
		case k == rowtime:
			return fmt.Errorf("kinesis source %s: ROWTIME must be the last scan column", c.Name)
		case k < 0 || k > rowtime:
			return fmt.Errorf("kinesis source %s: scan column %d is out of range: the stream has %d columns and ROWTIME", c.Name, k, rowtime)
		default:
			c.Columns = append(c.Columns, k)
		}
	}
	return nil
}

// EmbeddedSource reads a stream of the embedded store as an exec.Source. It
// starts no goroutines: Next polls the shards itself, round robin, and sleeps
// until a shard is due when none has anything.
//
// Shards are read in lineage order: a shard is read only after every parent
// the store still has was read to its end (after a split or merge), so rows of
// one partition key arrive in order. Each SourceBatch is a run of records of
// one shard. Records that do not decode become the batch's Errors and never
// stop the source.
type EmbeddedSource struct {
	store  *streamstore.Store
	cfg    SourceConfig
	schema *arrow.Schema // projected columns, then ROWTIME when asked
	epoch  int64

	closeOnce sync.Once
	closed    chan struct{}

	// Set by OpenEmbeddedSource and never changed after.
	starts   map[string]string // StartPositions
	skip     map[string]bool   // Resume.Done: shards never read
	warnings []string

	mu          sync.Mutex // held by Next except while it sleeps, and by Close
	shards      map[string]*shardState
	order       []string // shard ids in the order DescribeStream lists them
	rr          int      // where the next round starts in order
	pending     []exec.SourceBatch
	describe    bool      // learn new shards before the next poll
	nextRefresh time.Time // read-only store: when to look for new data again
	released    bool
	active      []string // ActiveSplits, recomputed when activeDirty
	activeDirty bool
}

// shardState is the source's progress in one shard.
type shardState struct {
	id      string
	parents []string
	cursor  streamstore.Cursor
	bound   uint64 // Bounded: the ordinal the shard had at open
	ended   bool   // nothing more to read: closed and read, or bound reached
	done    bool   // SplitDone returned

	rows    format.RowDecoder
	rowtime []int64
	errs    []exec.ErrorRecord
	// consumed counts the records read since the last batch, decoded or not.
	consumed    int
	firstRead   time.Time // when the oldest record of the open batch was read
	lastSeq     streamstore.SequenceNumber
	hasSeq      bool
	lastArrival time.Time
	nextPoll    time.Time
	lastBatch   time.Time // when a batch or heartbeat last left for this shard
	idle        bool      // the last poll found nothing new
	lookedAt    time.Time // the store clock when the last poll began
}

// OpenEmbeddedSource opens a source over cfg.Stream in store. It resolves the
// start position of every shard now, so a later start of a child shard misses
// nothing.
func OpenEmbeddedSource(store *streamstore.Store, cfg SourceConfig) (*EmbeddedSource, error) {
	if cfg.Decoder == nil {
		return nil, fmt.Errorf("kinesis source %s: no decoder", cfg.Name)
	}
	if cfg.Stream == "" {
		return nil, fmt.Errorf("kinesis source %s: option stream is required", cfg.Name)
	}
	switch cfg.Start.Kind {
	case "":
		cfg.Start.Kind = StartTrimHorizon
	case StartTrimHorizon, StartLatest:
	case StartTimestamp:
		if cfg.Start.Timestamp.IsZero() {
			return nil, fmt.Errorf("kinesis source %s: start = 'timestamp' needs start_timestamp", cfg.Name)
		}
	default:
		return nil, fmt.Errorf("kinesis source %s: option start = %q: must be trim_horizon, latest or timestamp", cfg.Name, cfg.Start.Kind)
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	probe, err := cfg.Decoder.Project(cfg.Columns)
	if err != nil {
		return nil, fmt.Errorf("kinesis source %s: %w", cfg.Name, err)
	}
	cols := probe.Schema()
	probe.Release()
	if cfg.Rowtime {
		cols = append(append(types.Schema{}, cols...), types.Column{Name: "ROWTIME", Type: types.TimestampType})
	}
	s := &EmbeddedSource{store: store, cfg: cfg, schema: cols.Arrow(), closed: make(chan struct{}), shards: map[string]*shardState{},
		starts: map[string]string{}, skip: map[string]bool{}}
	if err := store.Refresh(); err != nil {
		return nil, fmt.Errorf("kinesis source %s: %w", cfg.Name, err)
	}
	d, err := store.DescribeStream(cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("kinesis source %s: stream %q: %w", cfg.Name, cfg.Stream, err)
	}
	s.epoch = d.Epoch
	if err := s.checkResume(d); err != nil {
		return nil, err
	}
	for _, sd := range d.Shards {
		if err := s.addShard(sd, true); err != nil {
			s.release()
			return nil, err
		}
	}
	return s, nil
}

// StartPositions returns, for every shard the source reads or will read as
// of its open (children waiting for their parents included; shards of
// Resume.Done and shards a reshard creates later excluded, the latter being
// read from their beginning), where it starts, resolved at open to a concrete
// position: "" means from the shard's first record (trim horizon), a sequence
// number S means right after S. start = latest resolves to the shard's last
// sequence number at open (so a restore does not jump to a later tip), start =
// timestamp to the last record before the timestamp, Resume to the positions
// given. A start with no record before it that is still kept (the shard's
// first record, or everything before it removed by retention) is "", which
// reads from the same place. Every value is valid in Resume.After.
//
// A checkpoint's Resume.After is this map overridden, shard by shard, by the
// Position of the last batch processed, and its Resume.Done lists the shards
// whose SplitDone was processed. A source restored from a checkpoint does not
// list the shards of its Resume.Done it skips: the caller carries them into
// its next checkpoint. The map is the caller's.
func (s *EmbeddedSource) StartPositions() map[string]string {
	return maps.Clone(s.starts)
}

// Warnings returns what the source found at open that lost records: a
// Resume position whose following records retention removed before they
// were read (the shard then starts at the first record still kept), or a
// shard of Resume.After that retention removed whole. Each names the shard
// and the position. Nil when nothing was lost.
func (s *EmbeddedSource) Warnings() []string {
	return slices.Clone(s.warnings)
}

// checkResume validates cfg.Resume against the stream as it is at open, and
// notes what it finds lost: shards of After the stream no longer has.
func (s *EmbeddedSource) checkResume(d streamstore.StreamDescription) error {
	r := s.cfg.Resume
	if r == nil {
		return nil
	}
	byID := map[string]streamstore.ShardDescription{}
	for _, sd := range d.Shards {
		byID[sd.ShardID] = sd
	}
	for _, id := range r.Done {
		sd, ok := byID[id]
		pos, hasPos := r.After[id]
		switch {
		case !ok:
			s.skip[id] = true // removed by retention since
		case !hasPos && sd.Open:
			return fmt.Errorf("kinesis source %s: cannot resume shard %s: the checkpoint says it was read to its end, but it is still open in stream %q "+
				"and the checkpoint has no position for it (a bounded source ends an open shard with SplitDone at its bound: "+
				"keep its last position in Resume.After as well), or the checkpoint is of another stream: restore another checkpoint or start without one",
				s.cfg.Name, id, s.cfg.Stream)
		case !hasPos:
			s.skip[id] = true
		case !sd.Open:
			// Done at a bounded run's bound, the shard may have had records
			// since, before a reshard closed it.
			end, err := s.atEnd(id, pos)
			if err != nil {
				return err
			}
			s.skip[id] = end
		}
	}
	ids := slices.Sorted(maps.Keys(r.After))
	for _, id := range ids {
		seq := r.After[id]
		if err := s.checkPosition(id, seq); err != nil {
			return err
		}
		if _, ok := byID[id]; ok || s.skip[id] {
			continue
		}
		s.warnGone(id, seq) // only retention removes a shard from a stream of the same epoch
	}
	return nil
}

// atEnd says whether position pos of Resume.After is at the end of the closed
// shard id: its last record, or "" when it holds none.
func (s *EmbeddedSource) atEnd(id, pos string) (bool, error) {
	if err := s.checkPosition(id, pos); err != nil {
		return false, err
	}
	end, err := s.store.Position(s.cfg.Stream, id, streamstore.StartingPosition{Type: streamstore.Latest})
	if errors.Is(err, streamstore.ErrNotFound) {
		return true, nil // removed by retention since DescribeStream
	}
	if err != nil {
		return false, fmt.Errorf("kinesis source %s: shard %s: %w", s.cfg.Name, id, err)
	}
	if end.Ordinal == 0 || pos == "" {
		return end.Ordinal == 0, nil
	}
	sn, _ := streamstore.ParseSequenceNumber(pos) // checked above
	return sn.Ordinal+1 >= end.Ordinal, nil
}

// warnGone notes that a shard of Resume.After no longer exists.
func (s *EmbeddedSource) warnGone(id, seq string) {
	what := "whatever records it held"
	if seq != "" {
		what += " after sequence number " + seq
	}
	s.warn("shard %s of the checkpoint no longer exists in stream %q: retention removed it, with %s; reading goes on with its children", id, s.cfg.Stream, what)
}

// checkPosition checks that a Resume position can belong to shard id of the
// stream the source opened.
func (s *EmbeddedSource) checkPosition(id, seq string) error {
	fail := func(why, what string) error {
		at := "from its beginning"
		if seq != "" {
			at = "after sequence number " + seq
		}
		return fmt.Errorf("kinesis source %s: cannot resume shard %s %s: %s; %s", s.cfg.Name, id, at, why, what)
	}
	idx, err := streamstore.ParseShardID(id)
	if err == nil && streamstore.ShardID(idx) != id {
		err = fmt.Errorf("shard id %q is not in the form shardId-000000000000", id)
	}
	if err != nil {
		return fail(err.Error(), "the checkpoint is damaged: restore another checkpoint or start without one")
	}
	if seq == "" {
		return nil
	}
	sn, err := streamstore.ParseSequenceNumber(seq)
	if err != nil {
		return fail(err.Error(), "the checkpoint is damaged: restore another checkpoint or start without one")
	}
	if sn.Epoch != s.epoch {
		return fail(fmt.Sprintf("the position belongs to a stream %q created at %s, deleted since; the stream now was created at %s",
			s.cfg.Stream, time.UnixMilli(sn.Epoch).UTC().Format(time.RFC3339Nano), time.UnixMilli(s.epoch).UTC().Format(time.RFC3339Nano)),
			"its records are gone: start the application without its checkpoint to read the new stream from its start option")
	}
	if sn.Shard != idx {
		return fail(fmt.Sprintf("the position belongs to shard %s", streamstore.ShardID(sn.Shard)),
			"the checkpoint is damaged: restore another checkpoint or start without one")
	}
	return nil
}

func (s *EmbeddedSource) warn(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf("kinesis source %s: ", s.cfg.Name)+fmt.Sprintf(format, args...))
}

// Schema is the Arrow schema of the batches' records.
func (s *EmbeddedSource) Schema() *arrow.Schema { return s.schema }

// addShard starts tracking a shard; atOpen says it existed when the source
// opened, and then records where it starts in starts.
func (s *EmbeddedSource) addShard(sd streamstore.ShardDescription, atOpen bool) error {
	if s.skip[sd.ShardID] {
		return nil // done before the checkpoint
	}
	st := &shardState{id: sd.ShardID}
	for _, p := range []string{sd.ParentShardID, sd.AdjacentParentShardID} {
		if p != "" {
			st.parents = append(st.parents, p)
		}
	}
	pos := streamstore.StartingPosition{Type: streamstore.TrimHorizon}
	after, resumed := "", false
	if s.cfg.Resume != nil {
		after, resumed = s.cfg.Resume.After[sd.ShardID]
		if after != "" {
			pos = streamstore.StartingPosition{Type: streamstore.AfterSequenceNumber, SequenceNumber: after}
		}
	} else if atOpen {
		switch s.cfg.Start.Kind {
		case StartLatest:
			pos.Type = streamstore.Latest
		case StartTimestamp:
			pos = streamstore.StartingPosition{Type: streamstore.AtTimestamp, Timestamp: s.cfg.Start.Timestamp}
		}
	}
	c, err := s.store.Position(s.cfg.Stream, sd.ShardID, pos)
	if err != nil && after != "" && !errors.Is(err, streamstore.ErrNotFound) {
		return fmt.Errorf("kinesis source %s: cannot resume shard %s after sequence number %s: %w; the checkpoint does not match the stream's records: restore another checkpoint or start without one",
			s.cfg.Name, sd.ShardID, after, err)
	}
	start := after
	if err == nil && after != "" {
		// Records right after the position may have expired since.
		var first uint64
		var rec *streamstore.Record
		if first, rec, err = s.firstKept(c); err == nil && first > c.Ordinal && atOpen {
			at := "at its end: every record after it expired"
			if rec != nil {
				at = "at the first record still kept, sequence number " + rec.SequenceNumber.String()
			}
			s.warn("shard %s: retention removed the %d records after sequence number %s before they were read; reading resumes %s", sd.ShardID, first-c.Ordinal, after, at)
			c.Ordinal = first
			start = "" // nothing before first is kept
		}
	} else if err == nil && atOpen && c.Ordinal > 0 {
		start, err = s.seqBefore(c)
	}
	if errors.Is(err, streamstore.ErrNotFound) {
		// Removed by retention since DescribeStream.
		if resumed && atOpen {
			s.warnGone(sd.ShardID, after)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("kinesis source %s: shard %s: %w", s.cfg.Name, sd.ShardID, err)
	}
	if atOpen {
		s.starts[sd.ShardID] = start
	}
	st.cursor = c
	if s.cfg.Bounded {
		end, err := s.store.Position(s.cfg.Stream, sd.ShardID, streamstore.StartingPosition{Type: streamstore.Latest})
		if err != nil {
			return fmt.Errorf("kinesis source %s: shard %s: %w", s.cfg.Name, sd.ShardID, err)
		}
		st.bound = end.Ordinal
		if !sd.Open {
			st.bound = ^uint64(0) // read to ShardEnd
		}
	}
	rows, err := s.cfg.Decoder.Project(s.cfg.Columns)
	if err != nil {
		return fmt.Errorf("kinesis source %s: %w", s.cfg.Name, err)
	}
	st.rows = rows
	s.shards[sd.ShardID] = st
	s.order = append(s.order, sd.ShardID)
	s.activeDirty = true
	return nil
}

// firstKept returns the ordinal of the first record a read from c gets, and
// that record; when none is left to read, the shard's end.
func (s *EmbeddedSource) firstKept(c streamstore.Cursor) (uint64, *streamstore.Record, error) {
	// The end is taken first: a record put after it is no record lost.
	end, err := s.store.Position(c.Stream, c.ShardID, streamstore.StartingPosition{Type: streamstore.Latest})
	if err != nil {
		return 0, nil, err
	}
	out, err := s.store.GetRecords(context.Background(), c, 1)
	if err != nil {
		return 0, nil, err
	}
	if len(out.Records) > 0 {
		return out.Records[0].SequenceNumber.Ordinal, &out.Records[0], nil
	}
	return max(end.Ordinal, c.Ordinal), nil, nil
}

// seqBefore returns the sequence number of the record just before cursor c,
// "" when retention removed it (no record before c is kept).
func (s *EmbeddedSource) seqBefore(c streamstore.Cursor) (string, error) {
	prev := c
	prev.Ordinal--
	out, err := s.store.GetRecords(context.Background(), prev, 1)
	if err != nil {
		return "", err
	}
	if len(out.Records) > 0 && out.Records[0].SequenceNumber.Ordinal == prev.Ordinal {
		return out.Records[0].SequenceNumber.String(), nil
	}
	return "", nil
}

// learnShards adds shards created since the last look (children after a reshard).
func (s *EmbeddedSource) learnShards() error {
	d, err := s.store.DescribeStream(s.cfg.Stream)
	if err != nil {
		return fmt.Errorf("kinesis source %s: stream %q: %w", s.cfg.Name, s.cfg.Stream, err)
	}
	if d.Epoch != s.epoch {
		return fmt.Errorf("kinesis source %s: stream %q was deleted and created again while it was read", s.cfg.Name, s.cfg.Stream)
	}
	if s.cfg.Bounded {
		return nil // a bounded source reads only the shards that existed at open
	}
	for _, sd := range d.Shards {
		if _, ok := s.shards[sd.ShardID]; !ok {
			if err := s.addShard(sd, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// ready says whether every parent the source knows has been read to its end.
func (s *EmbeddedSource) ready(st *shardState) bool {
	for _, p := range st.parents {
		if ps, ok := s.shards[p]; ok && !ps.done {
			return false
		}
	}
	return true
}

var (
	_ exec.Source      = (*EmbeddedSource)(nil)
	_ exec.SplitLister = (*EmbeddedSource)(nil)
)

// ActiveSplits returns the shards being read now: those not yet read to their
// end whose parents are (a child waiting for its parent is not active yet).
// The slice must not be modified.
func (s *EmbeddedSource) ActiveSplits() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.activeDirty {
		s.active = make([]string, 0, len(s.order))
		for _, id := range s.order {
			if st := s.shards[id]; !st.done && s.ready(st) {
				s.active = append(s.active, id)
			}
		}
		s.activeDirty = false
	}
	return s.active
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("kinesis source closed")

// Next returns the next batch of any shard. It blocks until one is due, ctx
// ends, or, when Bounded, every shard is read to its bound (io.EOF).
func (s *EmbeddedSource) Next(ctx context.Context) (exec.SourceBatch, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return exec.SourceBatch{}, err
		}
		s.mu.Lock()
		if s.released {
			s.mu.Unlock()
			return exec.SourceBatch{}, ErrClosed
		}
		if len(s.pending) == 0 {
			if err := s.step(ctx); err != nil {
				s.mu.Unlock()
				return exec.SourceBatch{}, err
			}
		}
		if len(s.pending) > 0 {
			b := s.pending[0]
			s.pending = s.pending[1:]
			s.mu.Unlock()
			return b, nil
		}
		if s.cfg.Bounded && s.allDone() {
			s.mu.Unlock()
			return exec.SourceBatch{}, io.EOF
		}
		wait := s.wake(time.Now())
		s.mu.Unlock()
		if wait <= 0 {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return exec.SourceBatch{}, ctx.Err()
		case <-s.closed:
			return exec.SourceBatch{}, ErrClosed
		case <-timer.C:
		}
	}
}

func (s *EmbeddedSource) allDone() bool {
	for _, st := range s.shards {
		if !st.done {
			return false
		}
	}
	return true
}

// wake returns how long Next may sleep: until the first shard is due to be
// polled, or a held batch is due; 0 when one is due now.
func (s *EmbeddedSource) wake(now time.Time) time.Duration {
	next := now.Add(s.cfg.PollInterval)
	for _, st := range s.shards {
		if st.done || !s.ready(st) {
			continue
		}
		if st.ended {
			return 0
		}
		if !st.ended && st.nextPoll.Before(next) {
			next = st.nextPoll
		}
		if st.consumed > 0 {
			if due := st.firstRead.Add(s.cfg.MaxDelay); due.Before(next) {
				next = due
			}
		}
	}
	return max(next.Sub(now), 0)
}

// step polls the shards that are due, round robin, until one has a batch to
// return or every shard was visited once.
func (s *EmbeddedSource) step(ctx context.Context) error {
	now := time.Now()
	if !s.cfg.Bounded && !now.Before(s.nextRefresh) {
		// A read-only store learns what another process wrote only when asked.
		if err := s.store.Refresh(); err != nil {
			return fmt.Errorf("kinesis source %s: %w", s.cfg.Name, err)
		}
		s.nextRefresh = now.Add(s.cfg.PollInterval)
	}
	if s.describe {
		s.describe = false
		if err := s.learnShards(); err != nil {
			return err
		}
	}
	n := len(s.order)
	for i := range n {
		idx := (s.rr + i) % n
		st := s.shards[s.order[idx]]
		if st.done || !s.ready(st) {
			continue
		}
		if err := s.poll(ctx, st, now); err != nil {
			return err
		}
		if b, ok := s.batch(st, now); ok {
			s.pending = append(s.pending, b)
			s.rr = idx + 1
			return nil
		}
	}
	return nil
}

// poll reads what a due shard has, into its open batch.
func (s *EmbeddedSource) poll(ctx context.Context, st *shardState, now time.Time) error {
	if st.ended || now.Before(st.nextPoll) {
		return nil
	}
	if s.cfg.Bounded && st.cursor.Ordinal >= st.bound {
		st.ended = true
		return nil
	}
	limit := min(s.cfg.MaxRows-st.rows.Len(), streamstore.MaxGetRecords)
	if s.cfg.Bounded && st.bound-st.cursor.Ordinal < uint64(limit) {
		limit = int(st.bound - st.cursor.Ordinal)
	}
	if limit <= 0 {
		return nil
	}
	st.lookedAt = s.cfg.Now()
	out, err := s.store.GetRecords(ctx, st.cursor, limit)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, streamstore.ErrNotFound) {
		// The shard is gone (retention), or the whole stream is: learnShards says which.
		st.ended = true
		s.describe = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("kinesis source %s: read shard %s: %w", s.cfg.Name, st.id, err)
	}
	for i := range out.Records {
		s.decode(st, &out.Records[i], now)
	}
	st.cursor = out.Next
	st.idle = len(out.Records) == 0
	switch {
	case out.ShardEnd:
		st.ended = true
		s.describe = true // its children are ready now
	case s.cfg.Bounded && st.cursor.Ordinal >= st.bound:
		st.ended = true
	case len(out.Records) < limit && out.MillisBehindLatest == 0:
		st.nextPoll = now.Add(s.cfg.PollInterval) // caught up: ask again later
	default:
		st.nextPoll = now // more is waiting
	}
	return nil
}

// decode adds one record to the shard's open batch.
func (s *EmbeddedSource) decode(st *shardState, rec *streamstore.Record, now time.Time) {
	if st.consumed == 0 {
		st.firstRead = now
	}
	st.consumed++
	st.lastSeq, st.hasSeq = rec.SequenceNumber, true
	st.lastArrival = rec.ArrivalTime
	ok, err := st.rows.Append(rec.Data)
	if err != nil {
		st.errs = append(st.errs, exec.ErrorRecord{
			Kind:     exec.ErrorDecode,
			Source:   s.cfg.Name,
			Split:    st.id,
			Position: rec.SequenceNumber.String(),
			Raw:      bytes.Clone(rec.Data),
			Reason:   err.Error(),
			At:       st.lookedAt,
			Rowtime:  rec.ArrivalTime.Truncate(time.Millisecond),
		})
		return
	}
	if ok && s.cfg.Rowtime {
		st.rowtime = append(st.rowtime, rec.ArrivalTime.UnixMilli())
	}
}

// batch returns the shard's batch if one is due: the open batch when it is
// full, held long enough, or the shard has ended; else a heartbeat when the
// shard is idle.
func (s *EmbeddedSource) batch(st *shardState, now time.Time) (exec.SourceBatch, bool) {
	b := exec.SourceBatch{Split: st.id}
	if st.hasSeq {
		b.Position = st.lastSeq.String()
	}
	if st.consumed == 0 {
		if st.lookedAt.IsZero() {
			st.lookedAt = s.cfg.Now()
		}
		switch {
		case st.ended:
			st.done, s.activeDirty = true, true
			b.SplitDone = true
			b.Arrival = st.lookedAt
			st.lastBatch = now
			return b, true
		case st.idle && !s.cfg.Bounded && now.Sub(st.lastBatch) >= s.cfg.PollInterval:
			b.Arrival = st.lookedAt
			st.lastBatch = now
			return b, true
		}
		return b, false
	}
	due := st.ended || st.rows.Len() >= s.cfg.MaxRows || now.Sub(st.firstRead) >= s.cfg.MaxDelay || st.rows.Size() >= maxBatchBytes
	if !due {
		return b, false
	}
	if n := st.rows.Len(); n > 0 {
		cols := st.rows.NewArrays()
		if s.cfg.Rowtime {
			cols = append(cols, rowtimeArray(st.rowtime))
			st.rowtime = st.rowtime[:0:0]
		}
		b.Record = array.NewRecordBatch(s.schema, cols, int64(n))
		for _, c := range cols {
			c.Release()
		}
	}
	b.Errors, st.errs = st.errs, nil
	b.Arrival = st.lastArrival
	b.SplitDone = st.ended
	st.done = st.ended
	s.activeDirty = s.activeDirty || st.ended
	st.consumed = 0
	st.lastBatch = now
	return b, true
}

func rowtimeArray(ms []int64) arrow.Array {
	data := array.NewData(types.TimestampType.Arrow(), len(ms),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(ms))}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// Close releases the source. A Next blocked in another goroutine returns ErrClosed.
func (s *EmbeddedSource) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release()
	return nil
}

func (s *EmbeddedSource) release() {
	if s.released {
		return
	}
	s.released = true
	for _, st := range s.shards {
		st.rows.Release()
	}
	for _, b := range s.pending {
		if b.Record != nil {
			b.Record.Release()
		}
	}
	s.pending = nil
}
