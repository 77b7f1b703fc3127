package streamstore

import (
	"context"
	"errors"
	"time"
	"unsafe"
)

// PositionType says where a reader starts in a shard, as Kinesis' ShardIteratorType.
type PositionType string

// The starting positions of Kinesis.
const (
	TrimHorizon         PositionType = "TRIM_HORIZON"
	Latest              PositionType = "LATEST"
	AtSequenceNumber    PositionType = "AT_SEQUENCE_NUMBER"
	AfterSequenceNumber PositionType = "AFTER_SEQUENCE_NUMBER"
	AtTimestamp         PositionType = "AT_TIMESTAMP"
)

// StartingPosition is a PositionType with its argument.
type StartingPosition struct {
	Type           PositionType
	SequenceNumber string    // for AT_ and AFTER_SEQUENCE_NUMBER
	Timestamp      time.Time // for AT_TIMESTAMP
}

// Cursor is a resolved position in one shard: the next record to read is the
// first one at or after Ordinal. It is plain data so that it can be encoded into
// a shard iterator or a checkpoint.
type Cursor struct {
	Stream  string
	Epoch   int64 // the stream's epoch, so a cursor into a deleted stream of the same name fails
	ShardID string
	Ordinal uint64
}

// Record is one record read from a shard. The caller owns Data.
type Record struct {
	SequenceNumber SequenceNumber
	PartitionKey   string
	Data           []byte
	ArrivalTime    time.Time // ApproximateArrivalTimestamp
}

// ChildShard names a shard that continues a closed one.
type ChildShard struct {
	ShardID      string
	ParentShards []string
	HashKeyRange HashKeyRange
}

// GetRecordsOutput is the result of one read.
type GetRecordsOutput struct {
	Records []Record
	// Next is where the following read starts. It is meaningless when ShardEnd is set.
	Next Cursor
	// ShardEnd is set when the shard is closed and every record in it was read;
	// ChildShards then lists the shards that continue it.
	ShardEnd    bool
	ChildShards []ChildShard
	// MillisBehindLatest is how far the last returned record is behind the tip of
	// the shard (0 when the read reached the tip).
	MillisBehindLatest int64
}

// shardView is what a read needs of a stream's metadata, copied under its lock:
// a reshard or a read-only Refresh replaces st.meta while reads run.
type shardView struct {
	st             *stream
	sh             *shard
	sm             shardMeta
	epoch          int64
	retentionHours int
}

// shardFor returns the stream, the shard and its metadata, read-locked state copied.
func (s *Store) shardFor(streamName, shardID string) (shardView, error) {
	st, err := s.stream(streamName)
	if err != nil {
		return shardView{}, err
	}
	idx, err := ParseShardID(shardID)
	if err != nil {
		return shardView{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.deleted {
		return shardView{}, errorf(ErrNotFound, "stream %q does not exist in %s", streamName, s.dir)
	}
	for _, sm := range st.meta.Shards {
		if sm.Index == idx {
			return shardView{st: st, sh: st.shards[idx], sm: sm, epoch: st.meta.Epoch, retentionHours: st.meta.RetentionHours}, nil
		}
	}
	return shardView{}, errorf(ErrNotFound, "shard %s does not exist in stream %q (eddy streams describe %s lists its shards)", ShardID(idx), streamName, streamName)
}

// Position resolves a starting position in a shard to a cursor.
func (s *Store) Position(streamName, shardID string, pos StartingPosition) (Cursor, error) {
	v, err := s.shardFor(streamName, shardID)
	if err != nil {
		return Cursor{}, err
	}
	sh := v.sh
	c := Cursor{Stream: streamName, Epoch: v.epoch, ShardID: sh.id}
	views, durable := sh.snapshot()
	switch pos.Type {
	case TrimHorizon:
		c.Ordinal = 0 // reads clamp to the oldest retained record
	case Latest:
		// Just after the newest durable record: a put still in flight is
		// acknowledged after this position was taken, so its records follow it.
		c.Ordinal = durable
	case AtSequenceNumber, AfterSequenceNumber:
		seq, err := ParseSequenceNumber(pos.SequenceNumber)
		if err != nil {
			return Cursor{}, err
		}
		if seq.Epoch != v.epoch || seq.Shard != sh.index {
			return Cursor{}, errorf(ErrInvalidArgument, "sequence number %s belongs to shard %s of a stream created at %s, not to shard %s of stream %q",
				pos.SequenceNumber, ShardID(seq.Shard), time.UnixMilli(seq.Epoch).UTC().Format(time.RFC3339), sh.id, streamName)
		}
		next := sh.nextOrdinal()
		c.Ordinal = seq.Ordinal
		if pos.Type == AfterSequenceNumber {
			c.Ordinal++
		}
		if c.Ordinal > next {
			return Cursor{}, errorf(ErrInvalidArgument, "sequence number %s is past the end of shard %s (its next record will have ordinal %d)", pos.SequenceNumber, sh.id, next)
		}
	case AtTimestamp:
		if pos.Timestamp.IsZero() {
			return Cursor{}, errorf(ErrInvalidArgument, "AT_TIMESTAMP needs a timestamp")
		}
		ord, err := ordinalAt(views, durable, pos.Timestamp.UnixNano())
		for attempt := 1; errors.Is(err, errSegmentRemoved) && attempt < maxRemovedRetries; attempt++ {
			views, durable = sh.snapshot()
			ord, err = ordinalAt(views, durable, pos.Timestamp.UnixNano())
		}
		if err != nil {
			return Cursor{}, err
		}
		c.Ordinal = ord
	default:
		return Cursor{}, errorf(ErrInvalidArgument, "starting position %q is not one of TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP", pos.Type)
	}
	return c, nil
}

// GetRecords reads up to limit records (at most 10,000 and 10 MiB) from the
// cursor. It never blocks waiting for new records and never returns a record that
// is not yet durable or that is older than the stream's retention.
func (s *Store) GetRecords(ctx context.Context, c Cursor, limit int) (GetRecordsOutput, error) {
	if limit <= 0 || limit > MaxGetRecords {
		return GetRecordsOutput{}, errorf(ErrInvalidArgument, "limit %d is out of range; it must be 1 to %d", limit, MaxGetRecords)
	}
	if err := ctx.Err(); err != nil {
		return GetRecordsOutput{}, err
	}
	v, err := s.shardFor(c.Stream, c.ShardID)
	if err != nil {
		return GetRecordsOutput{}, err
	}
	st, sh, sm, epoch := v.st, v.sh, v.sm, v.epoch
	if c.Epoch != epoch {
		return GetRecordsOutput{}, errorf(ErrNotFound, "stream %q was deleted and created again since this position was taken", c.Stream)
	}
	retention := time.Duration(v.retentionHours) * time.Hour
	// Retention may remove the oldest segment between the snapshot and the read;
	// it never removes a shard's newest one, so a fresh snapshot gets past it.
	for attempt := 1; ; attempt++ {
		out, err := s.getRecords(c, limit, st, sh, sm, epoch, retention)
		if errors.Is(err, errSegmentRemoved) && attempt < maxRemovedRetries {
			continue
		}
		return out, err
	}
}

// maxRemovedRetries bounds how often a read starts again because retention
// removed a segment under it.
const maxRemovedRetries = 10

func (s *Store) getRecords(c Cursor, limit int, st *stream, sh *shard, sm shardMeta, epoch int64, retention time.Duration) (GetRecordsOutput, error) {
	views, durable := sh.snapshot()
	now := s.now()
	ord := max(c.Ordinal, firstOrdinal(views, durable))
	if cutoff := now.Add(-retention).UnixNano(); len(views) > 0 && views[0].stats.minArrival < cutoff {
		trim, err := ordinalAt(views, durable, cutoff)
		if err != nil {
			return GetRecordsOutput{}, err
		}
		ord = max(ord, trim)
	}

	// Size the result once: at most limit records, and no more than the shard holds.
	out := GetRecordsOutput{Records: make([]Record, 0, min(uint64(limit), durable-min(ord, durable)))}
	bytes := 0
	hint := estimateBytes(views, limit)
	err := scanFrom(views, ord, hint, func(f frame) bool {
		out.Records = append(out.Records, Record{
			SequenceNumber: SequenceNumber{Epoch: epoch, Shard: sh.index, Ordinal: f.ordinal, ArrivalMicros: f.arrivalNs / 1000},
			PartitionKey:   keyString(f.key),
			Data:           f.data[:len(f.data):len(f.data)], // an append by the caller must not run into the next record
			ArrivalTime:    time.Unix(0, f.arrivalNs),
		})
		bytes += len(f.data) + len(f.key)
		return len(out.Records) < limit && bytes < MaxGetBytes
	})
	if err != nil && len(out.Records) == 0 {
		return GetRecordsOutput{}, err
	}
	next := ord
	if n := len(out.Records); n > 0 {
		next = out.Records[n-1].SequenceNumber.Ordinal + 1
		if next < durable {
			// Zero means caught up, so a reader with records left to read is at
			// least 1ms behind even when they arrived within the same millisecond.
			out.MillisBehindLatest = max(1, now.Sub(out.Records[n-1].ArrivalTime).Milliseconds())
		}
	}
	out.Next = Cursor{Stream: c.Stream, Epoch: epoch, ShardID: sh.id, Ordinal: next}
	if !sm.open() && next >= sm.EndOrdinal {
		out.ShardEnd = true
		out.ChildShards = s.childShards(st, sm.Index)
	}
	return out, nil
}

// estimateBytes sizes the first read of a scan from the records' average size.
func estimateBytes(views []segView, limit int) int {
	var n uint64
	var b int64
	for _, v := range views {
		n += v.stats.count
		b += v.stats.size
	}
	if n == 0 {
		return 64 << 10
	}
	return int(min(int64(limit)*(b/int64(n)+1), 4<<20))
}

func (s *Store) childShards(st *stream, parent uint32) []ChildShard {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []ChildShard
	for _, sm := range st.meta.Shards {
		if (sm.Parent != nil && *sm.Parent == parent) || (sm.AdjacentParent != nil && *sm.AdjacentParent == parent) {
			cs := ChildShard{ShardID: ShardID(sm.Index), HashKeyRange: sm.hashRange()}
			if sm.Parent != nil {
				cs.ParentShards = append(cs.ParentShards, ShardID(*sm.Parent))
			}
			if sm.AdjacentParent != nil {
				cs.ParentShards = append(cs.ParentShards, ShardID(*sm.AdjacentParent))
			}
			out = append(out, cs)
		}
	}
	return out
}

// keyString returns a record's partition key as a string that shares the read
// buffer instead of copying it. That is safe because scanFrom reads every chunk
// into a fresh buffer that nothing writes again, and the records' Data slices,
// which the caller may change, never reach the key bytes: a key lies before its
// data, and Data's capacity ends with the data.
func keyString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
