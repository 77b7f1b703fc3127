package remote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/connectors/streamstore"
)

type readerShard struct {
	id       string
	parents  []string
	iterator string
	lastSeq  string // last record passed on, for renewing an expired iterator
	started  bool
	done     bool
	initial  bool
}

// StreamReader reads a stream across its shards in lineage order, as the
// store's StreamReader does: a shard is read only once its parents have been
// read to their end (GetRecords answers no next iterator), and shards that
// appear while following (ListShards) start at their beginning.
type StreamReader struct {
	c      *Client
	stream string
	opts   streamstore.ReadOptions
	shards map[string]*readerShard
	order  []string
	root   string
}

// NewStreamReader checks the stream and options and returns a reader.
func (c *Client) NewStreamReader(ctx context.Context, stream string, opts streamstore.ReadOptions) (*StreamReader, error) {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = streamstore.MaxGetRecords
	}
	if opts.From.Type == "" {
		opts.From.Type = streamstore.TrimHorizon
	}
	r := &StreamReader{c: c, stream: stream, opts: opts, shards: map[string]*readerShard{}}
	if opts.Shard != "" {
		id, err := normShard(opts.Shard)
		if err != nil {
			return nil, err
		}
		r.root = id
	} else if opts.From.Type == streamstore.AtSequenceNumber || opts.From.Type == streamstore.AfterSequenceNumber {
		seq, err := streamstore.ParseSequenceNumber(opts.From.SequenceNumber)
		if err != nil {
			return nil, err
		}
		r.root = streamstore.ShardID(seq.Shard)
	}
	if err := r.refresh(ctx); err != nil {
		return nil, err
	}
	for _, rs := range r.shards {
		rs.initial = true
	}
	if r.root != "" {
		if _, ok := r.shards[r.root]; !ok {
			return nil, &streamstore.Error{Kind: streamstore.ErrNotFound,
				Msg: fmt.Sprintf("shard %s does not exist in stream %q (eddy streams describe %s lists its shards)", r.root, stream, stream)}
		}
	}
	return r, nil
}

func (r *StreamReader) refresh(ctx context.Context) error {
	shards, err := r.c.listShards(ctx, r.stream)
	if err != nil {
		return err
	}
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		if _, ok := r.shards[id]; ok {
			continue
		}
		rs := &readerShard{id: id}
		for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
			if aws.ToString(p) != "" {
				rs.parents = append(rs.parents, *p)
			}
		}
		r.shards[id] = rs
		r.order = append(r.order, id)
	}
	return nil
}

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

func (r *StreamReader) ready(rs *readerShard) bool {
	for _, p := range rs.parents {
		if ps, ok := r.shards[p]; ok && r.inScope(p) && !ps.done {
			return false
		}
	}
	return true
}

func (r *StreamReader) startsAtFrom(rs *readerShard) bool {
	if r.opts.From.Type == streamstore.AtSequenceNumber || r.opts.From.Type == streamstore.AfterSequenceNumber {
		return rs.id == r.root
	}
	return rs.initial
}

var errStop = errors.New("stop")

// Record is one record read from an endpoint.
type Record struct {
	SequenceNumber string
	PartitionKey   string
	Data           []byte
	ArrivalTime    time.Time // to the millisecond, as the API carries it
}

// Read calls fn with every record in lineage order until every shard is read
// to its tip (or, with Follow, until ctx ends). fn may return
// streamstore.StopRead() to end early.
func (r *StreamReader) Read(ctx context.Context, fn func(shardID string, rec Record) error) error {
	stop := streamstore.StopRead()
	for {
		progressed := false
		for _, id := range r.order {
			rs := r.shards[id]
			if rs.done || !r.inScope(id) || !r.ready(rs) {
				continue
			}
			n, err := r.drain(ctx, rs, fn)
			if errors.Is(err, stop) || errors.Is(err, errStop) {
				return nil
			}
			if err != nil {
				return err
			}
			if n > 0 || rs.done {
				progressed = true
			}
		}
		if err := r.refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
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

func (r *StreamReader) iterator(ctx context.Context, rs *readerShard, from streamstore.StartingPosition) (string, error) {
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(r.stream), ShardId: aws.String(rs.id),
		ShardIteratorType: types.ShardIteratorType(from.Type)}
	switch from.Type {
	case streamstore.AtSequenceNumber, streamstore.AfterSequenceNumber:
		in.StartingSequenceNumber = aws.String(from.SequenceNumber)
	case streamstore.AtTimestamp:
		in.Timestamp = aws.Time(from.Timestamp)
	}
	out, err := r.c.k.GetShardIterator(ctx, in)
	if err != nil {
		return "", r.c.mapError(err, r.stream)
	}
	return aws.ToString(out.ShardIterator), nil
}

func (r *StreamReader) drain(ctx context.Context, rs *readerShard, fn func(string, Record) error) (int, error) {
	if !rs.started {
		from := streamstore.StartingPosition{Type: streamstore.TrimHorizon}
		if r.startsAtFrom(rs) {
			from = r.opts.From
		}
		it, err := r.iterator(ctx, rs, from)
		if errors.Is(err, streamstore.ErrNotFound) && rs.id != r.root {
			rs.done = true // removed by retention since the last look
			return 0, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return 0, errStop
			}
			return 0, fmt.Errorf("read shard %s: %w", rs.id, err)
		}
		rs.iterator, rs.started = it, true
	}
	total := 0
	for {
		if ctx.Err() != nil {
			return total, errStop
		}
		out, err := r.c.k.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(rs.iterator), Limit: aws.Int32(int32(r.opts.BatchSize))})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ExpiredIteratorException" {
			from := streamstore.StartingPosition{Type: streamstore.AfterSequenceNumber, SequenceNumber: rs.lastSeq}
			if rs.lastSeq == "" {
				rs.started = false
				return total, nil
			}
			if rs.iterator, err = r.iterator(ctx, rs, from); err != nil {
				return total, fmt.Errorf("read shard %s: %w", rs.id, err)
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return total, errStop
			}
			err = r.c.mapError(err, r.stream)
			if errors.Is(err, streamstore.ErrNotFound) {
				rs.done = true
				return total, nil
			}
			return total, fmt.Errorf("read shard %s: %w", rs.id, err)
		}
		for _, rec := range out.Records {
			if err := fn(rs.id, Record{SequenceNumber: aws.ToString(rec.SequenceNumber), PartitionKey: aws.ToString(rec.PartitionKey), Data: rec.Data,
				ArrivalTime: aws.ToTime(rec.ApproximateArrivalTimestamp).Round(time.Millisecond)}); err != nil {
				return total, err
			}
			rs.lastSeq = aws.ToString(rec.SequenceNumber)
			total++
		}
		if out.NextShardIterator == nil {
			rs.done = true
			return total, nil
		}
		rs.iterator = aws.ToString(out.NextShardIterator)
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
			return total, nil
		}
		if len(out.Records) == 0 {
			// Behind the tip with nothing returned (AWS does this): go on after a pause.
			select {
			case <-ctx.Done():
				return total, errStop
			case <-time.After(r.opts.PollInterval):
			}
		}
	}
}
