package streamstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Refresh brings a read-only store up to date with what the process that writes
// the data directory has stored since Open or the last Refresh: streams created
// and deleted, reshards, retention, and new records. It is how `eddy get --follow`
// tails a stream while `eddy put` writes it. A writable store is always current,
// so Refresh does nothing there.
//
// A read-only store sees the frames a writer has written, which may be a moment
// before the writer's fsync acknowledges them.
func (s *Store) Refresh() error {
	if !s.opts.ReadOnly {
		return nil
	}
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	streamsDir := filepath.Join(s.dir, "streams")
	entries, err := os.ReadDir(streamsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("refresh %s: %w", s.dir, err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasSuffix(name, streamDirSuffix) || strings.HasPrefix(name, ".") {
			continue
		}
		dir := filepath.Join(streamsDir, name)
		meta, err := readMeta(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted while we looked
		}
		if err != nil {
			return fmt.Errorf("refresh: %w", err)
		}
		seen[meta.Name] = true
		s.mu.RLock()
		st := s.streams[meta.Name]
		s.mu.RUnlock()
		if st != nil && st.meta.Epoch != meta.Epoch {
			s.dropStream(st) // deleted and created again
			st = nil
		}
		if st == nil {
			st, err = s.openStream(dir)
			if err != nil {
				return fmt.Errorf("refresh: %w", err)
			}
			s.mu.Lock()
			s.streams[st.name] = st
			s.mu.Unlock()
			continue
		}
		if err := st.refresh(meta, s.opts.SegmentBytes); err != nil {
			return fmt.Errorf("refresh stream %s: %w", st.name, err)
		}
	}
	s.mu.RLock()
	var gone []*stream
	for name, st := range s.streams {
		if !seen[name] {
			gone = append(gone, st)
		}
	}
	s.mu.RUnlock()
	for _, st := range gone {
		s.dropStream(st)
	}
	return nil
}

func (s *Store) dropStream(st *stream) {
	s.mu.Lock()
	if s.streams[st.name] == st {
		delete(s.streams, st.name)
	}
	s.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.deleted = true
	st.closeShards()
}

// refresh adopts metadata read from disk and catches up every shard. The metadata
// is read before the shards, so a shard it says is closed already holds all its records.
func (st *stream) refresh(meta *streamMeta, segSize int64) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	keep := map[uint32]bool{}
	for _, sm := range meta.Shards {
		keep[sm.Index] = true
		if sh := st.shards[sm.Index]; sh != nil {
			if err := sh.refreshReadOnly(); err != nil {
				return err
			}
			continue
		}
		sh, _, err := openShard(filepath.Join(st.dir, ShardID(sm.Index)), sm.Index, meta.Epoch, segSize, true)
		if err != nil {
			return err
		}
		st.shards[sm.Index] = sh
	}
	for idx, sh := range st.shards {
		if !keep[idx] { // removed by retention
			sh.close()
			delete(st.shards, idx)
		}
	}
	st.meta = meta
	st.rebuildRouting()
	return nil
}

// refreshReadOnly catches a read-only shard up with its files: segments that
// retention removed are dropped, the last known segment is scanned from where the
// previous look ended, and newer segments are loaded.
func (s *shard) refreshReadOnly() error {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("refresh shard %s: %w", s.id, err)
	}
	present := map[uint64]bool{}
	var bases []uint64
	for _, e := range entries {
		if base, ok := parseSegmentName(e.Name()); ok {
			present[base] = true
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)

	s.mu.Lock()
	old := slices.Clone(s.segs)
	s.mu.Unlock()

	var segs []*segment
	for _, sg := range old {
		if present[sg.base] {
			segs = append(segs, sg)
		} else {
			sg.closeReader()
		}
	}
	type grown struct {
		sg    *segment
		stats segmentStats
	}
	var update *grown
	var lastBase uint64
	haveLast := len(segs) > 0
	if haveLast {
		last := segs[len(segs)-1]
		lastBase = last.base
		stats := last.stats
		if err := extendStats(last.path, last.base, &stats); err != nil {
			return fmt.Errorf("refresh shard %s: %w", s.id, err)
		}
		update = &grown{sg: last, stats: stats}
	}
	for i, base := range bases {
		if haveLast && base <= lastBase {
			continue
		}
		sg, _, err := loadSegment(filepath.Join(s.dir, segmentName(base)), base, s.index, i == len(bases)-1, true)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("refresh shard %s: %w", s.id, err)
		}
		if sg != nil {
			segs = append(segs, sg)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if update != nil {
		update.sg.stats = update.stats
	}
	s.segs = segs
	if n := len(segs); n > 0 {
		last := segs[n-1]
		s.next = last.base + last.stats.count
		s.lastArrival = last.stats.maxArrival
	}
	s.durable = s.next
	return nil
}

// extendStats scans the frames appended to a segment file since stats were taken.
// A partial frame at the end is a write in progress and is left for the next look.
func extendStats(path string, base uint64, stats *segmentStats) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() <= stats.size {
		return nil
	}
	buf := make([]byte, fi.Size()-stats.size)
	if _, err := f.ReadAt(buf, stats.size); err != nil && err != io.EOF {
		return err
	}
	scanFrames(buf, base, stats) // stops at a frame still being written
	return nil
}
