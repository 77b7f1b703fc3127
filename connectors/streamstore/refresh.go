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

// Refresh brings every stream this store does not write up to date with what
// other processes have stored since Open or the last Refresh: streams created
// and deleted, reshards, retention changes, and new records. The streams this
// store writes (see Own) are always current and are left alone. It is how `eddy
// get --follow` tails a stream that `eddy put` writes, and how a pipeline reads a
// stream that another process fills. It works on read-only and writable stores.
//
// Refresh is cheap when nothing changed, as followers call it every few hundred
// milliseconds: per stream it stats stream.json and, per shard, the newest
// segment, the name the next segment would have and the oldest segment; it reads
// a file only when one of them changed.
//
// A store sees the frames another process has written, which may be a moment
// before that writer's fsync acknowledges them.
func (s *Store) Refresh() error {
	s.diskMu.Lock()
	defer s.diskMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	streamsDir := filepath.Join(s.dir, "streams")
	entries, err := os.ReadDir(streamsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("refresh %s: %w", s.dir, err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), streamDirSuffix)
		if !e.IsDir() || !ok || strings.HasPrefix(name, ".") {
			continue
		}
		s.mu.RLock()
		st := s.streams[name]
		s.mu.RUnlock()
		if st != nil && st.owned.Load() {
			seen[name] = true
			continue
		}
		found, err := s.refreshStream(filepath.Join(streamsDir, e.Name()), st)
		if err != nil {
			return fmt.Errorf("refresh stream %s: %w", name, err)
		}
		if found {
			seen[name] = true
		}
	}
	s.mu.RLock()
	var gone []*stream
	for name, st := range s.streams {
		if !seen[name] && !st.owned.Load() {
			gone = append(gone, st)
		}
	}
	s.mu.RUnlock()
	for _, st := range gone {
		s.dropStream(st)
	}
	return nil
}

// refreshStream brings st, a stream this store does not write, up to date with
// dir, or loads the stream when st is nil. It reports false when the stream was
// deleted while it looked. The caller holds diskMu.
func (s *Store) refreshStream(dir string, st *stream) (bool, error) {
	stamp, err := os.Stat(filepath.Join(dir, metaFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // deleted while we looked
	}
	if err != nil {
		return false, err
	}
	if st != nil && sameStamp(st.metaStamp, stamp) {
		return true, st.refreshShards()
	}
	var meta *streamMeta
	if st != nil {
		meta, err = readMeta(dir)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if st.meta.Epoch != meta.Epoch {
			s.dropStream(st) // deleted and created again
			st = nil
		}
	}
	if st == nil {
		st, _, err = s.openStream(dir, false)
		if err != nil && !exists(filepath.Join(dir, metaFile)) {
			return false, nil // deleted while we loaded it
		}
		if err != nil {
			return false, err
		}
		s.mu.Lock()
		s.streams[st.name] = st
		s.mu.Unlock()
		return true, nil
	}
	return true, st.refresh(meta, stamp, s.opts.SegmentBytes)
}

// sameStamp says whether stream.json is the file it was when last read. The file
// is replaced by a rename on every change, so a change makes a new inode as well
// as, most often, a new size or modification time.
func sameStamp(old, cur os.FileInfo) bool {
	return old != nil && os.SameFile(old, cur) && old.Size() == cur.Size() && old.ModTime().Equal(cur.ModTime())
}

func (s *Store) dropStream(st *stream) {
	s.mu.Lock()
	if s.streams[st.name] == st {
		delete(s.streams, st.name)
	}
	s.mu.Unlock()
	st.markDeleted()
}

func (st *stream) markDeleted() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.deleted = true
	st.closeShards()
}

// refresh adopts metadata read from disk and catches up every shard. The metadata
// is read before the shards, so a shard it says is closed already holds all its records.
func (st *stream) refresh(meta *streamMeta, stamp os.FileInfo, segSize int64) error {
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
	st.metaStamp = stamp
	st.rebuildRouting()
	return nil
}

// refreshShards catches up the shards of a stream whose metadata did not change.
func (st *stream) refreshShards() error {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, sh := range st.shards {
		if err := sh.refreshReadOnly(); err != nil {
			return err
		}
	}
	return nil
}

// refreshReadOnly catches a shard this store does not write up to date with its
// files, when a few stats say that they changed.
func (s *shard) refreshReadOnly() error {
	if !s.changedOnDisk() {
		return nil
	}
	return s.rescan()
}

// changedOnDisk says whether the shard's files may differ from what the shard
// last loaded: the newest segment it knows changed size, a segment after it
// appeared, or retention removed the oldest (it removes the oldest first).
func (s *shard) changedOnDisk() bool {
	s.mu.Lock()
	var first, last *segment
	var lastStats segmentStats
	if n := len(s.segs); n > 0 {
		first, last, lastStats = s.segs[0], s.segs[n-1], s.segs[n-1].stats
	}
	s.mu.Unlock()
	if last == nil {
		_, err := os.Stat(s.dir) // made with the shard's first record
		return err == nil
	}
	fi, err := os.Stat(last.path)
	if err != nil || fi.Size() != lastStats.size {
		return true
	}
	if _, err := os.Stat(filepath.Join(s.dir, segmentName(last.base+lastStats.count))); !errors.Is(err, os.ErrNotExist) {
		return true
	}
	if first != last {
		if _, err := os.Stat(first.path); err != nil {
			return true
		}
	}
	return false
}

// rescan catches a shard this store does not write up with its files: segments
// that retention removed are dropped, the last known segment is scanned from where
// the previous look ended, and newer segments are loaded.
func (s *shard) rescan() error {
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
