package streamstore

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// SplitShard closes an open shard and opens two children: one for the hash keys
// below newStartingHashKey and one from it to the parent's end. The key must lie in
// (start, end] of the parent's range.
func (s *Store) SplitShard(streamName, shardID, newStartingHashKey string) error {
	idx, err := ParseShardID(shardID)
	if err != nil {
		return err
	}
	key, err := ParseHashKey(newStartingHashKey)
	if err != nil {
		return errorf(ErrInvalidArgument, "new starting %v", err)
	}
	return s.reshard(streamName, func(p *reshardPlan) error {
		parent, err := p.openShard(idx)
		if err != nil {
			return err
		}
		rng := parent.hashRange()
		if key.Cmp(rng.Start) <= 0 || key.Cmp(rng.End) > 0 {
			return errorf(ErrInvalidArgument, "new starting hash key %s is outside shard %s's range %s..%s; it must be greater than %s and at most %s",
				key, ShardID(idx), rng.Start, rng.End, rng.Start, rng.End)
		}
		p.close(idx)
		p.add(HashKeyRange{Start: rng.Start, End: key.Sub1()}, idx, nil)
		p.add(HashKeyRange{Start: key, End: rng.End}, idx, nil)
		return nil
	})
}

// MergeShards closes two open shards whose hash key ranges are adjacent and opens
// one child covering both. shardID becomes the child's parent and adjacentShardID
// its adjacent parent, as in Kinesis.
func (s *Store) MergeShards(streamName, shardID, adjacentShardID string) error {
	a, err := ParseShardID(shardID)
	if err != nil {
		return err
	}
	b, err := ParseShardID(adjacentShardID)
	if err != nil {
		return err
	}
	return s.reshard(streamName, func(p *reshardPlan) error {
		if a == b {
			return errorf(ErrInvalidArgument, "cannot merge shard %s with itself; give two adjacent shards", ShardID(a))
		}
		sa, err := p.openShard(a)
		if err != nil {
			return err
		}
		sb, err := p.openShard(b)
		if err != nil {
			return err
		}
		merged, ok := adjacentUnion(sa.hashRange(), sb.hashRange())
		if !ok {
			ra, rb := sa.hashRange(), sb.hashRange()
			return errorf(ErrInvalidArgument, "shards %s (%s..%s) and %s (%s..%s) are not adjacent; merge needs two shards whose hash key ranges touch",
				ShardID(a), ra.Start, ra.End, ShardID(b), rb.Start, rb.End)
		}
		p.close(a)
		p.close(b)
		p.add(merged, a, &b)
		return nil
	})
}

// UpdateShardCount reshapes the stream to target open shards of uniform hash key
// ranges (Kinesis' UNIFORM_SCALING): it splits open shards at the new boundaries,
// then merges the pieces that fall in one new range. Intermediate shards that
// these steps create and close at once hold no records.
func (s *Store) UpdateShardCount(streamName string, target int) error {
	if target < 1 || target > s.opts.MaxShardsPerStream {
		return errorf(ErrInvalidArgument, "target shard count %d is out of range; a stream has 1 to %d open shards", target, s.opts.MaxShardsPerStream)
	}
	return s.reshard(streamName, func(p *reshardPlan) error {
		ranges := UniformRanges(target)
		// Split every open shard at each new boundary strictly inside it.
		for _, r := range ranges[1:] {
			for _, sm := range p.openShards() {
				rng := sm.hashRange()
				if r.Start.Cmp(rng.Start) > 0 && r.Start.Cmp(rng.End) <= 0 {
					p.close(sm.Index)
					p.add(HashKeyRange{Start: rng.Start, End: r.Start.Sub1()}, sm.Index, nil)
					p.add(HashKeyRange{Start: r.Start, End: rng.End}, sm.Index, nil)
				}
			}
		}
		// Every open shard now lies inside one new range; merge each range's pieces
		// left to right until one shard covers it.
		for _, r := range ranges {
			for {
				var in []shardMeta
				for _, sm := range p.openShards() {
					if r.Contains(sm.hashRange().Start) {
						in = append(in, sm)
					}
				}
				if len(in) <= 1 {
					break
				}
				merged, _ := adjacentUnion(in[0].hashRange(), in[1].hashRange())
				p.close(in[0].Index)
				p.close(in[1].Index)
				adj := in[1].Index
				p.add(merged, in[0].Index, &adj)
			}
		}
		return nil
	})
}

// adjacentUnion returns the union of two ranges when one ends right before the other starts.
func adjacentUnion(a, b HashKeyRange) (HashKeyRange, bool) {
	if b.Start.Cmp(a.Start) < 0 {
		a, b = b, a
	}
	if a.End == maxHashKey || a.End.Add1() != b.Start {
		return HashKeyRange{}, false
	}
	return HashKeyRange{Start: a.Start, End: b.End}, true
}

// reshardPlan is a copy of a stream's metadata that a reshard edits. Nothing is
// visible until the edited metadata is written.
type reshardPlan struct {
	st    *stream
	meta  *streamMeta
	now   time.Time
	added []uint32
}

func (p *reshardPlan) find(idx uint32) int {
	return slices.IndexFunc(p.meta.Shards, func(sm shardMeta) bool { return sm.Index == idx })
}

func (p *reshardPlan) openShard(idx uint32) (shardMeta, error) {
	i := p.find(idx)
	if i < 0 {
		return shardMeta{}, errorf(ErrNotFound, "shard %s does not exist in stream %q (eddy streams describe %s lists its shards)", ShardID(idx), p.st.name, p.st.name)
	}
	sm := p.meta.Shards[i]
	if !sm.open() {
		return shardMeta{}, errorf(ErrInvalidArgument, "shard %s of stream %q was closed at %s by an earlier split or merge; only open shards can be resharded",
			ShardID(idx), p.st.name, sm.ClosedAt.Format(time.RFC3339))
	}
	return sm, nil
}

// openShards returns the open shards ordered by hash key.
func (p *reshardPlan) openShards() []shardMeta {
	var out []shardMeta
	for _, sm := range p.meta.Shards {
		if sm.open() {
			out = append(out, sm)
		}
	}
	slices.SortFunc(out, func(a, b shardMeta) int { return a.hashRange().Start.Cmp(b.hashRange().Start) })
	return out
}

// close marks a shard closed at its current end. The caller holds the stream's
// write lock, so no put can append to the shard after its pending records are
// committed here.
func (p *reshardPlan) close(idx uint32) {
	i := p.find(idx)
	sm := &p.meta.Shards[i]
	closedAt := p.now
	sm.ClosedAt = &closedAt
	if sh := p.st.shards[idx]; sh != nil {
		sh.mu.Lock()
		sm.EndOrdinal, sm.EndingArrivalNs = sh.next, sh.lastArrival
		sh.mu.Unlock()
	}
}

func (p *reshardPlan) add(rng HashKeyRange, parent uint32, adjacent *uint32) {
	idx := p.meta.NextShardIndex
	p.meta.NextShardIndex++
	par := parent
	p.meta.Shards = append(p.meta.Shards, shardMeta{Index: idx, Parent: &par, AdjacentParent: adjacent,
		StartHashKey: rng.Start.String(), EndHashKey: rng.End.String(), CreatedAt: p.now})
	p.added = append(p.added, idx)
}

// reshard runs edit on a copy of the stream's metadata under the stream's write
// lock, checks the result and publishes it with one atomic metadata write. Puts
// wait for the lock; a failed edit or write changes nothing. The store becomes the
// stream's writer first.
func (s *Store) reshard(streamName string, edit func(p *reshardPlan) error) error {
	st, err := s.writeStream(streamName)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.writableLocked(s); err != nil {
		return err
	}
	next := *st.meta
	next.Shards = slices.Clone(st.meta.Shards)
	p := &reshardPlan{st: st, meta: &next, now: s.now().UTC()}
	// Commit what is pending in every shard first: records acknowledged before the
	// reshard must fall inside the parent's ending sequence number.
	for _, sh := range st.shards {
		if err := sh.commit(sh.nextOrdinal()); err != nil {
			return fmt.Errorf("reshard %s: %w", streamName, err)
		}
	}
	if err := edit(p); err != nil {
		return err
	}
	if open := len(p.openShards()); open > s.opts.MaxShardsPerStream {
		return errorf(ErrLimitExceeded, "stream %q would have %d open shards; the limit is %d", streamName, open, s.opts.MaxShardsPerStream)
	}
	if next.NextShardIndex > maxShardIx+1 {
		return errorf(ErrLimitExceeded, "stream %q has used all %d shard ids; create a new stream", streamName, maxShardIx+1)
	}
	if err := writeMeta(st.dir, &next); err != nil {
		return fmt.Errorf("reshard %s: %w", streamName, err)
	}
	st.meta = &next
	for _, idx := range p.added {
		st.shards[idx] = newShard(filepath.Join(st.dir, ShardID(idx)), idx, next.Epoch, s.opts.SegmentBytes)
	}
	st.rebuildRouting()
	return nil
}
