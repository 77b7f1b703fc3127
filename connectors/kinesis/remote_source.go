package kinesis

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

// timestampMark starts a position of RemoteSource.StartPositions that is a
// time, not a sequence number: "@" and an RFC 3339 time means the shard's
// first record that arrived at or after it (AT_TIMESTAMP). Resume.After takes
// it as well.
const timestampMark = "@"

// RemoteSource reads a Kinesis stream of any endpoint (AWS, or eddy serve)
// through aws-sdk-go-v2, as an exec.Source with the semantics of
// EmbeddedSource: the same batches, lineage order (parents read to their end
// before their children, which GetRecords' ChildShards and ListShards
// reveal), SplitDone, StartPositions, Resume and Warnings. It starts no
// goroutines: Next calls GetRecords on the shards that are due, one after the
// other, round robin, and sleeps when none is.
//
// Each shard's GetRecords are paced to at most one per
// RemoteConfig.MinReadInterval (Kinesis allows 5 reads a second per shard);
// a shard with nothing new is asked again after the larger of that and
// PollInterval. Throttling (ProvisionedThroughputExceededException,
// LimitExceededException) backs the shard off exponentially with jitter;
// an expired iterator is renewed after the last record read (or at the
// shard's start when none was). The shards are listed again (ListShards,
// paged) when a shard ends and every RelistInterval.
//
// Differences from EmbeddedSource. ROWTIME and Arrival are the records'
// ApproximateArrivalTimestamp, in ms, on the endpoint's clock, while idle
// heartbeats carry SourceConfig.Now when the shard was asked: the two clocks
// should agree (same host, or NTP). Bounded reads a shard open at open up to
// the first GetRecords that says it is at the tip (MillisBehindLatest 0) or to
// the first record that arrived after open, whichever comes first. start =
// latest takes a LATEST iterator at open and reports the start position as the
// open time ("@" and RFC 3339), as start = timestamp does its timestamp. A
// Resume position whose following records retention removed is read from the
// first record kept, silently (Kinesis does not say); Warnings lists only
// checkpointed shards that no longer exist.
type RemoteSource struct {
	client *awskinesis.Client
	rc     RemoteConfig
	cfg    SourceConfig
	schema *arrow.Schema
	opened time.Time

	closeOnce sync.Once
	closed    chan struct{}

	starts   map[string]string
	skip     map[string]bool
	warnings []string

	mu          sync.Mutex
	shards      map[string]*remoteShard
	order       []string
	rr          int
	pending     []exec.SourceBatch
	relist      bool
	nextList    time.Time
	released    bool
	active      []string
	activeDirty bool

	// Counters, for tests and logs.
	renewals  int // iterators renewed after ExpiredIteratorException
	throttles int // calls answered with throttling
}

// remoteShard is the source's progress in one shard.
type remoteShard struct {
	id      string
	parents []string
	closed  bool // closed when the source learned of it: read to its end even when Bounded

	iter     *string // the shard iterator of the next read; nil: take one
	itype    ktypes.ShardIteratorType
	iseq     string    // AFTER_SEQUENCE_NUMBER
	its      time.Time // AT_TIMESTAMP
	ended    bool
	done     bool
	failures int // calls in a row throttled or failed

	rows        format.RowDecoder
	rowtime     []int64
	errs        []exec.ErrorRecord
	consumed    int
	firstRead   time.Time
	lastSeq     string
	lastArrival time.Time
	nextPoll    time.Time
	lastBatch   time.Time
	idle        bool
	lookedAt    time.Time
}

var (
	_ exec.Source          = (*RemoteSource)(nil)
	_ exec.SplitLister     = (*RemoteSource)(nil)
	_ exec.StartPositioner = (*RemoteSource)(nil)
)

// OpenRemoteSource opens a source over cfg.Stream at the endpoint rc names.
// It lists the shards and resolves every start position now.
func OpenRemoteSource(ctx context.Context, cfg SourceConfig, rc RemoteConfig) (*RemoteSource, error) {
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
	cfg.MaxRows = min(cfg.MaxRows, remoteMaxGetRecords*100)
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rc.defaults()
	probe, err := cfg.Decoder.Project(cfg.Columns)
	if err != nil {
		return nil, fmt.Errorf("kinesis source %s: %w", cfg.Name, err)
	}
	cols := probe.Schema()
	probe.Release()
	if cfg.Rowtime {
		cols = append(append(types.Schema{}, cols...), types.Column{Name: "ROWTIME", Type: types.TimestampType})
	}
	client, err := newRemoteClient(ctx, &rc)
	if err != nil {
		return nil, fmt.Errorf("kinesis source %s: %w", cfg.Name, err)
	}
	s := &RemoteSource{client: client, rc: rc, cfg: cfg, schema: cols.Arrow(), closed: make(chan struct{}),
		shards: map[string]*remoteShard{}, starts: map[string]string{}, skip: map[string]bool{}, opened: time.Now()}
	list, err := s.listShards(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkResume(list); err != nil {
		return nil, err
	}
	for _, sh := range list {
		if err := s.addShard(ctx, sh, true); err != nil {
			s.release()
			return nil, err
		}
	}
	s.nextList = time.Now().Add(rc.RelistInterval)
	return s, nil
}

func (s *RemoteSource) errorf(format string, args ...any) error {
	return fmt.Errorf("kinesis source %s: "+format, append([]any{s.cfg.Name}, args...)...)
}

// listShards lists every shard of the stream the endpoint still has, page by page.
func (s *RemoteSource) listShards(ctx context.Context) ([]ktypes.Shard, error) {
	var all []ktypes.Shard
	in := &awskinesis.ListShardsInput{StreamName: aws.String(s.cfg.Stream)}
	for {
		out, err := retryCall(ctx, s.rc.MaxBackoff, func() (*awskinesis.ListShardsOutput, error) {
			return s.client.ListShards(ctx, in)
		})
		if err != nil {
			return nil, s.errorf("list the shards of stream %q at %s: %w", s.cfg.Stream, s.rc.where(), err)
		}
		all = append(all, out.Shards...)
		if out.NextToken == nil || *out.NextToken == "" {
			return all, nil
		}
		in = &awskinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// checkResume validates cfg.Resume against the shards at open.
func (s *RemoteSource) checkResume(list []ktypes.Shard) error {
	r := s.cfg.Resume
	if r == nil {
		return nil
	}
	byID := map[string]ktypes.Shard{}
	for _, sh := range list {
		byID[aws.ToString(sh.ShardId)] = sh
	}
	for _, id := range r.Done {
		sh, ok := byID[id]
		_, hasPos := r.After[id]
		switch {
		case !ok, !hasPos && shardClosed(sh):
			s.skip[id] = true
		case !hasPos:
			return s.errorf("cannot resume shard %s: the checkpoint says it was read to its end, but it is still open in stream %q "+
				"and the checkpoint has no position for it, or the checkpoint is of another stream: restore another checkpoint or start without one",
				id, s.cfg.Stream)
		}
		// Done with a position: read on from it (a bounded run ended the
		// shard at its bound; a closed one ends at once if nothing is left).
	}
	for _, id := range slices.Sorted(maps.Keys(r.After)) {
		if _, ok := byID[id]; ok || s.skip[id] {
			continue
		}
		what := "whatever records it held"
		if seq := r.After[id]; seq != "" {
			what += " after position " + seq
		}
		s.warnings = append(s.warnings, fmt.Sprintf("kinesis source %s: shard %s of the checkpoint no longer exists in stream %q: retention removed it, with %s; reading goes on with its children",
			s.cfg.Name, id, s.cfg.Stream, what))
	}
	return nil
}

func shardClosed(sh ktypes.Shard) bool {
	return sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
}

// StartPositions returns where each shard known at open starts, as
// EmbeddedSource.StartPositions does: "" from its first record, a sequence
// number S after S, or "@" and an RFC 3339 time from the first record that
// arrived at or after it (start = latest: the open time; start = timestamp).
func (s *RemoteSource) StartPositions() map[string]string { return maps.Clone(s.starts) }

// Warnings returns the shards of Resume.After the stream no longer has.
func (s *RemoteSource) Warnings() []string { return slices.Clone(s.warnings) }

// Schema is the Arrow schema of the batches' records.
func (s *RemoteSource) Schema() *arrow.Schema { return s.schema }

// addShard starts tracking a shard; atOpen says it was listed at open.
func (s *RemoteSource) addShard(ctx context.Context, sh ktypes.Shard, atOpen bool) error {
	id := aws.ToString(sh.ShardId)
	if s.skip[id] {
		return nil
	}
	st := &remoteShard{id: id, closed: shardClosed(sh), itype: ktypes.ShardIteratorTypeTrimHorizon}
	for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
		if p != nil && *p != "" {
			st.parents = append(st.parents, *p)
		}
	}
	start := ""
	if s.cfg.Resume != nil {
		if after := s.cfg.Resume.After[id]; after != "" {
			if err := st.setPosition(after); err != nil {
				return s.errorf("cannot resume shard %s after %q: %v; the checkpoint is damaged: restore another checkpoint or start without one", id, after, err)
			}
			start = after
		}
	} else if atOpen {
		switch s.cfg.Start.Kind {
		case StartLatest:
			// Resolve now: a child waiting for its parents starts where the
			// shard was at open, as in the embedded store.
			now := time.Now()
			if err := s.takeIterator(ctx, st, ktypes.ShardIteratorTypeLatest); err != nil {
				return err
			}
			st.itype, st.its = ktypes.ShardIteratorTypeAtTimestamp, now
			start = timestampMark + now.UTC().Format(time.RFC3339Nano)
		case StartTimestamp:
			st.itype, st.its = ktypes.ShardIteratorTypeAtTimestamp, s.cfg.Start.Timestamp
			start = timestampMark + s.cfg.Start.Timestamp.UTC().Format(time.RFC3339Nano)
		}
	}
	if atOpen {
		s.starts[id] = start
	}
	rows, err := s.cfg.Decoder.Project(s.cfg.Columns)
	if err != nil {
		return s.errorf("%w", err)
	}
	st.rows = rows
	s.shards[id] = st
	s.order = append(s.order, id)
	s.activeDirty = true
	return nil
}

// setPosition makes the shard start at a position of Resume.After.
func (st *remoteShard) setPosition(pos string) error {
	if ts, ok := strings.CutPrefix(pos, timestampMark); ok {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return fmt.Errorf("not a time: %v", err)
		}
		st.itype, st.its = ktypes.ShardIteratorTypeAtTimestamp, t
		return nil
	}
	for _, c := range pos {
		if c < '0' || c > '9' {
			return fmt.Errorf("not a sequence number")
		}
	}
	st.itype, st.iseq = ktypes.ShardIteratorTypeAfterSequenceNumber, pos
	return nil
}

// takeIterator gets a shard iterator of type typ (or of the shard's start
// position when typ is "").
func (s *RemoteSource) takeIterator(ctx context.Context, st *remoteShard, typ ktypes.ShardIteratorType) error {
	in := &awskinesis.GetShardIteratorInput{StreamName: aws.String(s.cfg.Stream), ShardId: aws.String(st.id), ShardIteratorType: typ}
	switch {
	case typ != "":
	case st.lastSeq != "":
		in.ShardIteratorType, in.StartingSequenceNumber = ktypes.ShardIteratorTypeAfterSequenceNumber, aws.String(st.lastSeq)
	default:
		in.ShardIteratorType = st.itype
		switch st.itype {
		case ktypes.ShardIteratorTypeAfterSequenceNumber:
			in.StartingSequenceNumber = aws.String(st.iseq)
		case ktypes.ShardIteratorTypeAtTimestamp:
			in.Timestamp = aws.Time(st.its)
		}
	}
	out, err := retryCall(ctx, s.rc.MaxBackoff, func() (*awskinesis.GetShardIteratorOutput, error) {
		out, err := s.client.GetShardIterator(ctx, in)
		if throttled(err) {
			s.throttles++
		}
		return out, err
	})
	if err != nil {
		at := string(in.ShardIteratorType)
		if in.StartingSequenceNumber != nil {
			at += " " + *in.StartingSequenceNumber
		}
		return s.errorf("shard %s of stream %q: get a shard iterator at %s: %w", st.id, s.cfg.Stream, at, err)
	}
	st.iter = out.ShardIterator
	return nil
}

// learnShards lists the shards and adds those created since.
func (s *RemoteSource) learnShards(ctx context.Context) error {
	list, err := s.listShards(ctx)
	if err != nil {
		return err
	}
	s.nextList = time.Now().Add(s.rc.RelistInterval)
	if s.cfg.Bounded {
		return nil // a bounded source reads only the shards that existed at open
	}
	for _, sh := range list {
		if _, ok := s.shards[aws.ToString(sh.ShardId)]; !ok {
			if err := s.addShard(ctx, sh, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *RemoteSource) ready(st *remoteShard) bool {
	for _, p := range st.parents {
		if ps, ok := s.shards[p]; ok && !ps.done {
			return false
		}
	}
	return true
}

// ActiveSplits returns the shards being read now (see EmbeddedSource.ActiveSplits).
func (s *RemoteSource) ActiveSplits() []string {
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

// Next returns the next batch of any shard (see EmbeddedSource.Next).
func (s *RemoteSource) Next(ctx context.Context) (exec.SourceBatch, error) {
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
				if ctx.Err() != nil {
					return exec.SourceBatch{}, ctx.Err()
				}
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

func (s *RemoteSource) allDone() bool {
	for _, st := range s.shards {
		if !st.done {
			return false
		}
	}
	return true
}

// wake returns how long Next may sleep.
func (s *RemoteSource) wake(now time.Time) time.Duration {
	next := now.Add(s.cfg.PollInterval)
	if !s.cfg.Bounded && s.nextList.Before(next) {
		next = s.nextList
	}
	for _, st := range s.shards {
		if st.done || !s.ready(st) {
			continue
		}
		if st.ended {
			return 0
		}
		if st.nextPoll.Before(next) {
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

// step polls the shards that are due, round robin, until one has a batch.
func (s *RemoteSource) step(ctx context.Context) error {
	now := time.Now()
	if s.relist || (!s.cfg.Bounded && !now.Before(s.nextList)) {
		s.relist = false
		if err := s.learnShards(ctx); err != nil {
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
		if b, ok := s.batch(st, time.Now()); ok {
			s.pending = append(s.pending, b)
			s.rr = idx + 1
			return nil
		}
	}
	return nil
}

// poll calls GetRecords on a due shard, into its open batch.
func (s *RemoteSource) poll(ctx context.Context, st *remoteShard, now time.Time) error {
	if st.ended || now.Before(st.nextPoll) {
		return nil
	}
	limit := min(s.cfg.MaxRows-st.rows.Len(), remoteMaxGetRecords)
	if limit <= 0 {
		return nil
	}
	if st.iter == nil {
		if err := s.takeIterator(ctx, st, ""); err != nil {
			return err
		}
		if st.iter == nil {
			st.ended = true
			s.relist = true
			return nil
		}
	}
	lookedAt := s.cfg.Now()
	out, err := s.client.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: st.iter, Limit: aws.Int32(int32(limit))})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		switch code := errorCode(err); {
		case code == codeExpiredIterator:
			s.renewals++
			st.iter = nil // renewed after the last record read
			return nil
		case throttled(err):
			s.throttles++
			st.failures++
			st.nextPoll = now.Add(backoff(st.failures, s.rc.MaxBackoff))
			return nil
		case code == codeNotFound:
			// The shard or the stream is gone: listing says which.
			st.ended = true
			s.relist = true
			return nil
		case transient(err) && st.failures < remoteMaxFailures:
			st.failures++
			st.nextPoll = now.Add(backoff(st.failures, s.rc.MaxBackoff))
			return nil
		}
		return s.errorf("read shard %s of stream %q at %s: %w", st.id, s.cfg.Stream, s.rc.where(), err)
	}
	st.failures = 0
	st.lookedAt = lookedAt
	bounded := s.cfg.Bounded && !st.closed
	cut := false
	for i := range out.Records {
		r := &out.Records[i]
		if bounded && r.ApproximateArrivalTimestamp != nil && r.ApproximateArrivalTimestamp.After(s.opened) {
			cut = true // arrived after open: beyond a bounded read
			break
		}
		s.decode(st, r, now)
	}
	st.iter = out.NextShardIterator
	behind := aws.ToInt64(out.MillisBehindLatest)
	st.idle = len(out.Records) == 0
	st.nextPoll = now.Add(s.rc.MinReadInterval)
	switch {
	case st.iter == nil:
		st.ended = true // closed and read to its end: its children are ready
		if !s.cfg.Bounded {
			for _, c := range out.ChildShards {
				if _, ok := s.shards[aws.ToString(c.ShardId)]; !ok {
					s.relist = true
				}
			}
		}
	case cut || (bounded && behind == 0):
		st.ended = true
	case len(out.Records) < limit && behind == 0:
		st.nextPoll = now.Add(max(s.cfg.PollInterval, s.rc.MinReadInterval)) // caught up
	}
	return nil
}

// decode adds one record to the shard's open batch.
func (s *RemoteSource) decode(st *remoteShard, rec *ktypes.Record, now time.Time) {
	if st.consumed == 0 {
		st.firstRead = now
	}
	st.consumed++
	st.lastSeq = aws.ToString(rec.SequenceNumber)
	arrival := aws.ToTime(rec.ApproximateArrivalTimestamp).Truncate(time.Millisecond)
	st.lastArrival = arrival
	ok, err := st.rows.Append(rec.Data)
	if err != nil {
		st.errs = append(st.errs, exec.ErrorRecord{
			Kind:     exec.ErrorDecode,
			Source:   s.cfg.Name,
			Split:    st.id,
			Position: st.lastSeq,
			Raw:      bytes.Clone(rec.Data),
			Reason:   err.Error(),
			At:       st.lookedAt,
			Rowtime:  arrival,
		})
		return
	}
	if ok && s.cfg.Rowtime {
		st.rowtime = append(st.rowtime, arrival.UnixMilli())
	}
}

// batch returns the shard's batch if one is due (see EmbeddedSource.batch).
func (s *RemoteSource) batch(st *remoteShard, now time.Time) (exec.SourceBatch, bool) {
	b := exec.SourceBatch{Split: st.id, Position: st.lastSeq}
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

// Close releases the source. A Next blocked in another goroutine returns ErrClosed.
func (s *RemoteSource) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release()
	return nil
}

func (s *RemoteSource) release() {
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
