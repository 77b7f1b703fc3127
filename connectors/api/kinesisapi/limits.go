package kinesisapi

import (
	"sync"
	"time"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// Per-shard throughput limits of a provisioned Kinesis stream, emulated when
// Options.ShardLimits is set.
const (
	LimitWriteBytesPerSec   = 1 << 20 // data plus partition key bytes put
	LimitWriteRecordsPerSec = 1000    // records put
	LimitReadCallsPerSec    = 5       // GetRecords calls
	LimitReadBytesPerSec    = 2 << 20 // data bytes returned by GetRecords
)

// bucket is a token bucket refilling continuously at rate tokens a second up
// to one second's worth. Its tokens may go negative: a debt paid off by time.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) refill(now time.Time, rate float64) {
	if b.last.IsZero() {
		b.tokens, b.last = rate, now
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens += d.Seconds() * rate
		if b.tokens > rate {
			b.tokens = rate
		}
		b.last = now
	}
}

// shardBuckets are the buckets of one shard.
type shardBuckets struct {
	writeBytes, writeRecords, readCalls, readBytes bucket
}

type limitKey struct{ stream, shard string }

// limiter holds the buckets of every shard that has seen traffic.
type limiter struct {
	mu      sync.Mutex
	buckets map[limitKey]*shardBuckets
}

func (l *limiter) shard(stream, shard string) *shardBuckets {
	k := limitKey{stream, shard}
	b := l.buckets[k]
	if b == nil {
		if l.buckets == nil {
			l.buckets = map[limitKey]*shardBuckets{}
		}
		b = &shardBuckets{}
		l.buckets[k] = b
	}
	return b
}

// admitWrite takes one record of size bytes from the shard's write buckets,
// or reports false (taking nothing) when either is short.
func (l *limiter) admitWrite(now time.Time, stream, shard string, size int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.shard(stream, shard)
	b.writeBytes.refill(now, LimitWriteBytesPerSec)
	b.writeRecords.refill(now, LimitWriteRecordsPerSec)
	if b.writeRecords.tokens < 1 || b.writeBytes.tokens < float64(size) {
		return false
	}
	b.writeRecords.tokens--
	b.writeBytes.tokens -= float64(size)
	return true
}

// admitRead takes one GetRecords call from the shard's call bucket, or reports
// false when it is empty or the shard's read bytes are in debt. As in Kinesis,
// the call that crosses the bytes limit goes through (see chargeRead) and the
// following ones are throttled until the debt is paid off.
func (l *limiter) admitRead(now time.Time, stream, shard string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.shard(stream, shard)
	b.readCalls.refill(now, LimitReadCallsPerSec)
	b.readBytes.refill(now, LimitReadBytesPerSec)
	if b.readCalls.tokens < 1 || b.readBytes.tokens <= 0 {
		return false
	}
	b.readCalls.tokens--
	return true
}

// chargeRead takes the bytes a GetRecords call returned from the shard's read
// bytes bucket, possibly into debt.
func (l *limiter) chargeRead(now time.Time, stream, shard string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.shard(stream, shard)
	b.readBytes.refill(now, LimitReadBytesPerSec)
	b.readBytes.tokens -= float64(n)
}

// forget drops the buckets of a stream's shards.
func (l *limiter) forget(stream string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.buckets {
		if k.stream == stream {
			delete(l.buckets, k)
		}
	}
}

// throttleMessage is Kinesis' message for a shard over its limits.
func (h *Handler) throttleMessage(stream, shard string) string {
	return "Rate exceeded for shard " + shard + " in stream " + stream + " under account " + h.opts.AccountID + "."
}

func (h *Handler) throttled(stream, shard string) error {
	return awsproto.Errorf(errProvisionedExceed, "%s", h.throttleMessage(stream, shard))
}

// router maps records to the open shards of a stream, as the store routes them.
type router []streamstore.ShardDescription

// routerFor returns the open shards of stream, or false when it cannot be
// described (the store's put then reports why).
func (h *Handler) routerFor(stream string) (router, bool) {
	d, err := h.store.DescribeStream(stream)
	if err != nil {
		return nil, false
	}
	var r router
	for _, s := range d.Shards {
		if s.Open {
			r = append(r, s)
		}
	}
	return r, true
}

// shardOf is the open shard a record goes to, or "" when none is found.
func (r router) shardOf(partitionKey, explicitHashKey string) string {
	hk := streamstore.HashPartitionKey(partitionKey)
	if explicitHashKey != "" {
		k, err := streamstore.ParseHashKey(explicitHashKey)
		if err != nil {
			return ""
		}
		hk = k
	}
	for _, s := range r {
		if s.HashKeyRange.Contains(hk) {
			return s.ShardID
		}
	}
	return ""
}
