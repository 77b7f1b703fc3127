package streamstore

import (
	"context"
	"sync"
	"unicode/utf8"
)

// PutEntry is one record to put.
type PutEntry struct {
	PartitionKey string
	// ExplicitHashKey, when set, routes the record instead of the partition key's
	// MD5 (a decimal in [0, 2^128-1]).
	ExplicitHashKey string
	Data            []byte
}

// PutResult says where a record was stored.
type PutResult struct {
	ShardID        string
	SequenceNumber SequenceNumber
}

// PutRecord stores one record and returns once it is durable.
func (s *Store) PutRecord(ctx context.Context, stream string, e PutEntry) (PutResult, error) {
	res, err := s.PutRecords(ctx, stream, []PutEntry{e})
	if err != nil {
		return PutResult{}, err
	}
	return res[0], nil
}

// PutRecords stores a batch of up to 500 records (5 MiB) and returns once all of
// them are durable (fsynced), one result per entry in order. The batch is checked
// whole before anything is stored: a bad entry fails the call and stores nothing.
// Records of one batch that land in one shard keep their order there. Concurrent
// calls share fsyncs (group commit). The first put to a stream makes the store its
// writer (see Own); after that a put checks ownership with one atomic load.
func (s *Store) PutRecords(ctx context.Context, stream string, entries []PutEntry) ([]PutResult, error) {
	if err := s.writable(); err != nil {
		return nil, err
	}
	keys, err := validateBatch(entries)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := s.writeStream(stream)
	if err != nil {
		return nil, err
	}
	results := make([]PutResult, len(entries))
	targets, err := st.append(entries, keys, s.now().UnixNano(), results)
	if err != nil {
		return nil, err
	}
	if err := commitAll(targets); err != nil {
		return nil, err
	}
	return results, nil
}

// validateBatch checks every rule on a batch and returns each entry's hash key.
func validateBatch(entries []PutEntry) ([]HashKey, error) {
	if len(entries) == 0 || len(entries) > MaxBatchRecords {
		return nil, errorf(ErrInvalidArgument, "a batch has %d records; it must have 1 to %d", len(entries), MaxBatchRecords)
	}
	keys := make([]HashKey, len(entries))
	total := 0
	for i, e := range entries {
		n := utf8.RuneCountInString(e.PartitionKey)
		if n < 1 || n > MaxPartitionKeyChars {
			return nil, errorf(ErrInvalidArgument, "record %d: partition key is %d characters; it must be 1 to %d", i, n, MaxPartitionKeyChars)
		}
		if !utf8.ValidString(e.PartitionKey) {
			return nil, errorf(ErrInvalidArgument, "record %d: partition key %q is not valid UTF-8", i, e.PartitionKey)
		}
		size := len(e.Data) + len(e.PartitionKey)
		if size > MaxRecordBytes {
			return nil, errorf(ErrInvalidArgument, "record %d: data plus partition key is %d bytes; a record holds at most %d (1 MiB)", i, size, MaxRecordBytes)
		}
		total += size
		if e.ExplicitHashKey != "" {
			k, err := ParseHashKey(e.ExplicitHashKey)
			if err != nil {
				return nil, errorf(ErrInvalidArgument, "record %d: explicit %v", i, err)
			}
			keys[i] = k
		} else {
			keys[i] = HashPartitionKey(e.PartitionKey)
		}
	}
	if total > MaxBatchBytes {
		return nil, errorf(ErrInvalidArgument, "a batch holds %d bytes of data and partition keys; it may hold at most %d (5 MiB)", total, MaxBatchBytes)
	}
	return keys, nil
}

type commitTarget struct {
	sh  *shard
	end uint64 // ordinal after the batch's last record in sh
}

// append routes and appends a validated batch under the stream's read lock, so a
// reshard cannot close a shard between routing and appending. It fills results
// and returns, per shard touched, the ordinal the caller must wait for.
func (st *stream) append(entries []PutEntry, keys []HashKey, nowNs int64, results []PutResult) ([]commitTarget, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.deleted {
		return nil, errorf(ErrNotFound, "stream %q does not exist", st.name)
	}
	order := make(map[*shard][]int, len(st.routing))
	var touched []*shard
	for i, k := range keys {
		sh := st.route(k)
		if _, ok := order[sh]; !ok {
			touched = append(touched, sh)
		}
		order[sh] = append(order[sh], i)
	}
	targets := make([]commitTarget, 0, len(touched))
	for _, sh := range touched {
		sh.mu.Lock()
		if sh.failed != nil {
			err := sh.failed
			sh.mu.Unlock()
			return nil, err
		}
		remaining := 0
		for _, i := range order[sh] {
			remaining += frameLen(len(entries[i].PartitionKey), len(entries[i].Data))
		}
		for _, i := range order[sh] {
			ord := sh.appendLocked(entries[i].PartitionKey, entries[i].Data, nowNs, remaining)
			remaining -= frameLen(len(entries[i].PartitionKey), len(entries[i].Data))
			results[i] = PutResult{ShardID: sh.id, SequenceNumber: SequenceNumber{
				Epoch: st.meta.Epoch, Shard: sh.index, Ordinal: ord, ArrivalMicros: sh.lastArrival / 1000}}
		}
		targets = append(targets, commitTarget{sh: sh, end: sh.next})
		sh.mu.Unlock()
	}
	return targets, nil
}

// commitAll waits until every target is durable, fsyncing shards in parallel.
func commitAll(targets []commitTarget) error {
	if len(targets) == 1 {
		return targets[0].sh.commit(targets[0].end)
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { errs[i] = t.sh.commit(t.end) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
