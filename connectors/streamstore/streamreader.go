package streamstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReadOptions says which shards a StreamReader reads and from where.
type ReadOptions struct {
	// Shard limits the read to one shard and, following lineage, its descendants.
	// Empty reads every shard.
	Shard string
	// From is where reading starts. TRIM_HORIZON, LATEST and AT_TIMESTAMP apply
	// to every shard in scope that exists when the reader is created; AT_ and
	// AFTER_SEQUENCE_NUMBER apply to the shard the sequence number belongs to
	// (which, without Shard, is the scope's root). Shards created later, and the
	// descendants of a sequence number's shard, start at their beginning.
	From StartingPosition
	// Follow keeps reading new records until the context ends; otherwise Read
	// returns once every shard is read to its current tip.
	Follow bool
	// PollInterval is how long a following reader waits when no shard has new
	// records (default 200ms).
	PollInterval time.Duration
	// BatchSize is the limit of each GetRecords call (default 1000).
	BatchSize int
}

// errStopRead is returned by a callback to end Read early without error.
var errStopRead = errors.New("stop read")

// StopRead is what a Read callback returns to end the read early; Read then returns nil.
func StopRead() error { return errStopRead }

type readerShard struct {
	id      string
	parents []string
	cursor  Cursor
	started bool // cursor resolved
	done    bool // read to the end of a closed shard
	initial bool // known when the reader was created
}

// StreamReader reads a stream across its shards in lineage order: a shard is read
// only once its parents have been read to their end, so a reader that follows a
// partition key across a split or merge sees its records in order.
type StreamReader struct {
	store  *Store
	stream string
	opts   ReadOptions
	shards map[string]*readerShard
	order  []string // shard ids in index order
	root   string   // with opts.Shard: only this shard and its descendants
}

// NewStreamReader checks the stream and options and returns a reader.
func (s *Store) NewStreamReader(streamName string, opts ReadOptions) (*StreamReader, error) {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.From.Type == "" {
		opts.From.Type = TrimHorizon
	}
	r := &StreamReader{store: s, stream: streamName, opts: opts, shards: map[string]*readerShard{}}
	if opts.Shard != "" {
		idx, err := ParseShardID(opts.Shard)
		if err != nil {
			return nil, err
		}
		r.root = ShardID(idx)
	} else if opts.From.Type == AtSequenceNumber || opts.From.Type == AfterSequenceNumber {
		seq, err := ParseSequenceNumber(opts.From.SequenceNumber)
		if err != nil {
			return nil, err
		}
		r.root = ShardID(seq.Shard)
	}
	if err := r.refresh(); err != nil {
		return nil, err
	}
	for _, rs := range r.shards {
		rs.initial = true
	}
	if r.root != "" {
		if _, ok := r.shards[r.root]; !ok {
			return nil, errorf(ErrNotFound, "shard %s does not exist in stream %q (eddy streams describe %s lists its shards)", r.root, streamName, streamName)
		}
	}
	return r, nil
}

// refresh learns shards created since the last look.
func (r *StreamReader) refresh() error {
	d, err := r.store.DescribeStream(r.stream)
	if err != nil {
		return err
	}
	for _, sd := range d.Shards {
		if _, ok := r.shards[sd.ShardID]; ok {
			continue
		}
		rs := &readerShard{id: sd.ShardID}
		for _, p := range []string{sd.ParentShardID, sd.AdjacentParentShardID} {
			if p != "" {
				rs.parents = append(rs.parents, p)
			}
		}
		r.shards[sd.ShardID] = rs
		r.order = append(r.order, sd.ShardID)
	}
	return nil
}

// inScope says whether a shard is the root or descends from it.
func (r *StreamReader) inScope(id string) bool {
	if r.root == "" || id == r.root {
		return true
	}
	for _, p := range r.shards[id].parents {
		if _, known := r.shards[p]; known && r.inScope(p) {
			return true
		}
	}
	return false
}

// ready says whether every parent still in the store has been read to its end.
// A parent that retention removed no longer holds anything to read first.
func (r *StreamReader) ready(rs *readerShard) bool {
	for _, p := range rs.parents {
		if ps, ok := r.shards[p]; ok && r.inScope(p) && !ps.done {
			return false
		}
	}
	return true
}

// startsAtFrom says whether a shard starts at opts.From rather than at its
// beginning. A sequence number belongs to one shard, so only that shard starts
// there. TRIM_HORIZON, LATEST and AT_TIMESTAMP hold in every shard that existed
// when the reader was created: starting an open child of a split at its
// beginning would return, for LATEST, records put before the reader existed.
// Shards created later hold only newer records and start at their beginning.
func (r *StreamReader) startsAtFrom(rs *readerShard) bool {
	if r.opts.From.Type == AtSequenceNumber || r.opts.From.Type == AfterSequenceNumber {
		return rs.id == r.root
	}
	return rs.initial
}

// Read calls fn with every record in lineage order until every shard is read to
// its tip (or, with Follow, until ctx ends). fn may return StopRead() to end early.
func (r *StreamReader) Read(ctx context.Context, fn func(shardID string, rec Record) error) error {
	for {
		progressed := false
		for _, id := range r.order {
			rs := r.shards[id]
			if rs.done || !r.inScope(id) || !r.ready(rs) {
				continue
			}
			n, err := r.drain(ctx, rs, fn)
			if errors.Is(err, errStopRead) {
				return nil
			}
			if err != nil {
				return err
			}
			if n > 0 || rs.done {
				progressed = true
			}
		}
		if r.opts.Follow {
			// A store learns what other processes wrote only when asked.
			if err := r.store.Refresh(); err != nil {
				return err
			}
		}
		if err := r.refresh(); err != nil {
			return err
		}
		if progressed {
			continue
		}
		if !r.opts.Follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.opts.PollInterval):
		}
	}
}

// drain reads one shard to its current tip (or end) and returns how many records it passed to fn.
func (r *StreamReader) drain(ctx context.Context, rs *readerShard, fn func(string, Record) error) (int, error) {
	if !rs.started {
		from := StartingPosition{Type: TrimHorizon}
		if r.startsAtFrom(rs) {
			from = r.opts.From
		}
		c, err := r.store.Position(r.stream, rs.id, from)
		if errors.Is(err, ErrNotFound) {
			rs.done = true // removed by retention since the last look
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read shard %s: %w", rs.id, err)
		}
		rs.cursor, rs.started = c, true
	}
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, errStopRead
		}
		out, err := r.store.GetRecords(ctx, rs.cursor, r.opts.BatchSize)
		if errors.Is(err, ErrNotFound) {
			rs.done = true
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read shard %s: %w", rs.id, err)
		}
		for _, rec := range out.Records {
			if err := fn(rs.id, rec); err != nil {
				return total, err
			}
			total++
		}
		rs.cursor = out.Next
		if out.ShardEnd {
			rs.done = true
			return total, nil
		}
		if len(out.Records) == 0 {
			return total, nil
		}
	}
}
