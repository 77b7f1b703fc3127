package streamstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

var errSegmentRemoved = errors.New("segment removed by retention")

// segment is one segment file of a shard. base and path never change; stats are
// guarded by the shard's mutex and replaced wholesale when a flush publishes.
type segment struct {
	path      string
	base      uint64
	createdNs int64
	stats     segmentStats

	// The read handle is opened on first use and closed when retention removes the file.
	fmu      sync.RWMutex
	openOnce sync.Once
	f        *os.File
	openErr  error
	removed  bool
}

func (sg *segment) readAt(p []byte, off int64) error {
	sg.fmu.RLock()
	defer sg.fmu.RUnlock()
	if sg.removed {
		return errSegmentRemoved
	}
	sg.openOnce.Do(func() { sg.f, sg.openErr = os.Open(sg.path) })
	if sg.openErr != nil {
		return sg.openErr
	}
	_, err := sg.f.ReadAt(p, off)
	return err
}

// remove deletes the segment file and its index once no read is in progress.
func (sg *segment) remove() error {
	sg.fmu.Lock()
	defer sg.fmu.Unlock()
	sg.removed = true
	if sg.f != nil {
		sg.f.Close()
	}
	if err := os.Remove(sg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Remove(indexPath(sg.path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (sg *segment) closeReader() {
	sg.fmu.Lock()
	defer sg.fmu.Unlock()
	if sg.f != nil {
		sg.f.Close()
		sg.f = nil
	}
	sg.removed = true
}

func indexPath(segPath string) string {
	return strings.TrimSuffix(segPath, segmentExt) + indexExt
}

// pendingChunk holds encoded frames that were appended but not yet written.
type pendingChunk struct {
	base      uint64 // the segment the frames belong to
	create    bool   // the segment must be created before writing
	createdNs int64
	buf       []byte
	end       uint64       // ordinal after the last frame in buf
	delta     segmentStats // what buf adds to the segment (size unused)
}

// shard is the log of one shard: segment files, the append buffer and the group
// commit. Appends assign ordinals under mu; a put then waits in commit until a
// flush has written and fsynced its frames. One flush runs at a time and takes
// every pending frame, so concurrent puts share one fsync.
type shard struct {
	id      string
	index   uint32
	dir     string
	epoch   int64
	segSize int64

	mu          sync.Mutex
	cond        sync.Cond
	segs        []*segment // by base; appends go to the last
	next        uint64     // next ordinal to assign
	durable     uint64     // ordinals below are fsynced and readable
	lastArrival int64      // arrival of ordinal next-1; arrivals never decrease
	pending     []*pendingChunk
	flushing    bool
	failed      error
	dirMade     bool
	// spare holds append buffers of flushed chunks for reuse: a busy shard
	// would otherwise allocate (and the collector clear) a new buffer for
	// every group commit.
	spare [][]byte

	// Where the next append lands, including segments still pending creation.
	tailOpen  bool
	tailBase  uint64
	tailSize  int64
	tailCount uint64

	w *os.File // append handle on the last segment; used only by the flusher
}

func newShard(dir string, index uint32, epoch int64, segSize int64) *shard {
	s := &shard{id: ShardID(index), index: index, dir: dir, epoch: epoch, segSize: segSize}
	s.cond.L = &s.mu
	return s
}

// appendLocked encodes one record into the pending buffer and returns its ordinal.
// The caller holds s.mu and has validated the record. sizeHint is how many bytes
// of frames the caller is about to append in all, so the buffer grows once.
func (s *shard) appendLocked(key string, data []byte, arrivalNs int64, sizeHint int) uint64 {
	if arrivalNs < s.lastArrival {
		arrivalNs = s.lastArrival
	}
	fl := int64(frameLen(len(key), len(data)))
	var c *pendingChunk
	if !s.tailOpen || (s.tailCount > 0 && s.tailSize+fl > s.segSize) {
		c = &pendingChunk{base: s.next, create: true, createdNs: arrivalNs, buf: s.takeSpare()}
		s.pending = append(s.pending, c)
		s.tailOpen, s.tailBase, s.tailSize, s.tailCount = true, s.next, segmentHdrLen, 0
	} else if len(s.pending) == 0 {
		c = &pendingChunk{base: s.tailBase, buf: s.takeSpare()}
		s.pending = append(s.pending, c)
	} else {
		c = s.pending[len(s.pending)-1]
	}
	ord := s.next
	c.delta.add(ord-c.base, s.tailSize, arrivalNs)
	if cap(c.buf)-len(c.buf) < int(fl) {
		c.buf = slices.Grow(c.buf, max(int(fl), sizeHint))
	}
	c.buf = appendFrame(c.buf, ord, arrivalNs, key, data)
	c.end = ord + 1
	s.tailSize += fl
	s.tailCount++
	s.next++
	s.lastArrival = arrivalNs
	return ord
}

// Bounds of shard.spare.
const (
	maxSpareBuffers     = 2
	maxSpareBufferBytes = 8 << 20
)

// takeSpare returns a reusable append buffer, or nil. The caller holds s.mu.
func (s *shard) takeSpare() []byte {
	n := len(s.spare)
	if n == 0 {
		return nil
	}
	b := s.spare[n-1]
	s.spare[n-1] = nil
	s.spare = s.spare[:n-1]
	return b
}

// commit blocks until every ordinal below target is durable.
func (s *shard) commit(target uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.durable < target {
		if s.failed != nil {
			return s.failed
		}
		if s.flushing {
			s.cond.Wait()
			continue
		}
		if len(s.pending) == 0 {
			return fmt.Errorf("shard %s: ordinal %d was never appended", s.id, target-1)
		}
		s.flushLocked()
	}
	return nil
}

// flushLocked writes and fsyncs every pending chunk, releasing s.mu during I/O.
func (s *shard) flushLocked() {
	chunks := s.pending
	s.pending = nil
	s.flushing = true
	var tail *segment
	var tailStats segmentStats
	if n := len(s.segs); n > 0 {
		tail, tailStats = s.segs[n-1], s.segs[n-1].stats
	}
	s.mu.Unlock()
	updates, err := s.writeChunks(tail, tailStats, chunks)
	s.mu.Lock()
	s.flushing = false
	if err != nil {
		// The frames of these chunks were never acknowledged. Appending after a
		// failed write could leave a hole, so the shard refuses writes until the
		// store is reopened, which truncates whatever partial frame is on disk.
		s.failed = fmt.Errorf("shard %s: write failed, reopen the store to recover: %w", s.id, err)
	} else {
		for _, u := range updates {
			if u.isNew {
				s.segs = append(s.segs, u.seg)
			}
			u.seg.stats = u.stats
		}
		s.durable = chunks[len(chunks)-1].end
		for _, c := range chunks {
			if len(s.spare) < maxSpareBuffers && cap(c.buf) <= maxSpareBufferBytes {
				s.spare = append(s.spare, c.buf[:0])
			}
		}
	}
	s.cond.Broadcast()
}

type segmentUpdate struct {
	seg   *segment
	stats segmentStats
	isNew bool
}

func (s *shard) writeChunks(tail *segment, tailStats segmentStats, chunks []*pendingChunk) ([]segmentUpdate, error) {
	var updates []segmentUpdate
	tailIsNew, created := false, false
	for _, c := range chunks {
		if c.create {
			if tail != nil {
				if err := s.w.Sync(); err != nil {
					return nil, fmt.Errorf("sync %s: %w", tail.path, err)
				}
				if err := writeFileAtomic(indexPath(tail.path), encodeIndex(tail.base, tailStats)); err != nil {
					return nil, err
				}
				if err := s.w.Close(); err != nil {
					return nil, fmt.Errorf("close %s: %w", tail.path, err)
				}
				s.w = nil
				updates = append(updates, segmentUpdate{seg: tail, stats: tailStats, isNew: tailIsNew})
			}
			if !s.dirMade {
				if err := os.MkdirAll(s.dir, 0o755); err != nil {
					return nil, fmt.Errorf("create shard dir: %w", err)
				}
				if err := syncDir(filepath.Dir(s.dir)); err != nil {
					return nil, err
				}
				s.dirMade = true
			}
			path := filepath.Join(s.dir, segmentName(c.base))
			f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return nil, fmt.Errorf("create segment: %w", err)
			}
			s.w = f
			hdr := segmentHeader{base: c.base, createdNs: c.createdNs, shardIndex: s.index}
			if _, err := f.Write(hdr.encode()); err != nil {
				return nil, fmt.Errorf("write %s: %w", path, err)
			}
			tail = &segment{path: path, base: c.base, createdNs: c.createdNs}
			tailStats = segmentStats{size: segmentHdrLen}
			tailIsNew, created = true, true
		}
		if _, err := s.w.Write(c.buf); err != nil {
			return nil, fmt.Errorf("write %s: %w", tail.path, err)
		}
		tailStats.merge(c.delta, len(c.buf))
	}
	if err := s.w.Sync(); err != nil {
		return nil, fmt.Errorf("sync %s: %w", tail.path, err)
	}
	if created {
		if err := syncDir(s.dir); err != nil {
			return nil, err
		}
	}
	return append(updates, segmentUpdate{seg: tail, stats: tailStats, isNew: tailIsNew}), nil
}

// merge adds a pending chunk's records (bytes long) to st. Appending to sparse
// never disturbs readers: they hold a slice of the old length.
func (st *segmentStats) merge(d segmentStats, bytes int) {
	if d.count == 0 {
		return
	}
	if st.count == 0 {
		st.minArrival = d.minArrival
	}
	st.maxArrival = d.maxArrival
	st.count += d.count
	st.size += int64(bytes)
	st.sparse = append(st.sparse, d.sparse...)
}

// close flushes pending records and releases file handles.
func (s *shard) close() error {
	err := s.commit(s.nextOrdinal())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		if cerr := s.w.Close(); cerr != nil && err == nil {
			err = cerr
		}
		s.w = nil
	}
	for _, sg := range s.segs {
		sg.closeReader()
	}
	if s.failed == nil {
		s.failed = fmt.Errorf("shard %s: %w", s.id, ErrClosed)
	}
	s.cond.Broadcast()
	return err
}

func (s *shard) nextOrdinal() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// openShard recovers a shard from its directory: it loads sealed segments from
// their index (or rescans them), scans the last segment frame by frame, and, unless
// readOnly, truncates a torn or corrupt tail and reports what it dropped.
func openShard(dir string, index uint32, epoch int64, segSize int64, readOnly bool) (*shard, []Repair, error) {
	s := newShard(dir, index, epoch, segSize)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open shard %s: %w", s.id, err)
	}
	s.dirMade = true
	var repairs []Repair
	var bases []uint64
	for _, e := range entries {
		name := e.Name()
		if base, ok := parseSegmentName(name); ok {
			bases = append(bases, base)
		} else if strings.Contains(name, ".tmp-") && !readOnly {
			os.Remove(filepath.Join(dir, name)) // an index write cut short
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	for i, base := range bases {
		path := filepath.Join(dir, segmentName(base))
		isLast := i == len(bases)-1
		sg, rep, err := loadSegment(path, base, index, isLast, readOnly)
		if err != nil {
			return nil, nil, fmt.Errorf("open shard %s: %w", s.id, err)
		}
		if rep != nil {
			rep.Shard = s.id
			repairs = append(repairs, *rep)
		}
		if sg == nil {
			continue // removed: nothing in it could be read
		}
		if n := len(s.segs); n > 0 {
			prev := s.segs[n-1]
			if sg.base < prev.base+prev.stats.count {
				return nil, nil, fmt.Errorf("open shard %s: segment %s overlaps %s: %w",
					s.id, filepath.Base(path), filepath.Base(prev.path), &CorruptionError{Segment: path, Err: errBadOrdinal})
			}
		}
		s.segs = append(s.segs, sg)
	}
	if n := len(s.segs); n > 0 {
		last := s.segs[n-1]
		s.next = last.base + last.stats.count
		s.lastArrival = last.stats.maxArrival
		s.tailOpen, s.tailBase, s.tailSize, s.tailCount = true, last.base, last.stats.size, last.stats.count
		if !readOnly {
			w, err := os.OpenFile(last.path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return nil, nil, fmt.Errorf("open shard %s: %w", s.id, err)
			}
			s.w = w
		}
	}
	s.durable = s.next
	return s, repairs, nil
}

// loadSegment recovers one segment. It returns a nil segment when the file had to
// be removed (a header that never made it to disk).
func loadSegment(path string, base uint64, shardIndex uint32, isLast, readOnly bool) (*segment, *Repair, error) {
	var idxErr error
	if !isLast {
		st, err := loadIndex(path, base)
		if err == nil {
			return &segment{path: path, base: base, stats: st}, nil, nil
		}
		idxErr = err
	}
	data, err := readFull(path)
	if err != nil {
		return nil, nil, err
	}
	res := scanSegment(data)
	if res.err == nil && (res.header.base != base || res.header.shardIndex != shardIndex) {
		res = scanResult{err: fmt.Errorf("segment header names base %d shard %d, file name says base %d shard %d",
			res.header.base, res.header.shardIndex, base, shardIndex)}
	}
	if res.stats.size == 0 { // the header itself is bad: nothing in the file is usable
		rep := &Repair{Segment: filepath.Base(path), DroppedBytes: int64(len(data)), Reason: fmt.Sprintf("removed segment: %v", res.err)}
		if readOnly {
			return nil, nil, nil
		}
		if err := os.Remove(path); err != nil {
			return nil, nil, err
		}
		os.Remove(indexPath(path))
		return nil, rep, syncDir(filepath.Dir(path))
	}
	sg := &segment{path: path, base: base, createdNs: res.header.createdNs, stats: res.stats}
	var rep *Repair
	if res.err != nil {
		rep = &Repair{Segment: filepath.Base(path), Offset: res.stats.size, DroppedBytes: int64(len(data)) - res.stats.size,
			Reason: (&CorruptionError{Segment: path, Offset: res.stats.size, Err: res.err}).Error()}
		if !readOnly {
			if err := truncateFile(path, res.stats.size); err != nil {
				return nil, nil, err
			}
		}
	}
	if !isLast && !readOnly {
		if err := writeFileAtomic(indexPath(path), encodeIndex(base, res.stats)); err != nil {
			return nil, nil, err
		}
		if rep == nil {
			// No record was lost, but a sealed segment's index is written before
			// the next segment is created, so a missing or bad one is damage
			// that an operator should hear of.
			rep = &Repair{Segment: filepath.Base(indexPath(path)), Reason: fmt.Sprintf("rebuilt index from its segment: %v", idxErr)}
		}
	}
	return sg, rep, nil
}

func loadIndex(segPath string, base uint64) (segmentStats, error) {
	fi, err := os.Stat(segPath)
	if err != nil {
		return segmentStats{}, err
	}
	b, err := readFull(indexPath(segPath))
	if err != nil {
		return segmentStats{}, err
	}
	return decodeIndex(b, base, fi.Size())
}

func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("truncate %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// segView is a reader's snapshot of one segment.
type segView struct {
	seg   *segment
	stats segmentStats
}

func (v segView) end() uint64 { return v.seg.base + v.stats.count }

// snapshot returns the durable segments as they are now.
func (s *shard) snapshot() ([]segView, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	views := make([]segView, 0, len(s.segs))
	for _, sg := range s.segs {
		if sg.stats.count > 0 {
			views = append(views, segView{seg: sg, stats: sg.stats})
		}
	}
	return views, s.durable
}

// firstOrdinal returns the ordinal of the oldest record still on disk, or the next
// ordinal when the shard holds none.
func firstOrdinal(views []segView, durable uint64) uint64 {
	if len(views) == 0 {
		return durable
	}
	return views[0].seg.base
}

// scanFrom calls fn for every durable frame at or after ordinal ord, in order,
// until fn returns false. readHint sizes the first read. Frames whose CRC fails
// are never passed to fn: scanning stops with a *CorruptionError.
func scanFrom(views []segView, ord uint64, readHint int, fn func(f frame) bool) error {
	i := sort.Search(len(views), func(i int) bool { return views[i].end() > ord })
	for ; i < len(views); i++ {
		v := views[i]
		if ord < v.seg.base {
			ord = v.seg.base // a gap left by repair, or records trimmed by retention
		}
		// Start at the sparse index entry at or before ord and skip the records
		// before it; pos counts the frames decoded, so it must start at the entry.
		target := ord - v.seg.base
		entry := v.stats.sparse[target/sparseEvery]
		pos := entry.pos
		skip := target - entry.pos
		off := entry.offset
		// The first read also covers the records skipped to reach ord; later ones
		// finish what it fell short of, so they need not be as large.
		chunk := readHint + int(skip)*int((v.stats.size-segmentHdrLen)/int64(v.stats.count))
		for off < v.stats.size {
			n := min(v.stats.size-off, int64(max(chunk, 64<<10)))
			buf := make([]byte, n)
			if err := v.seg.readAt(buf, off); err != nil {
				return fmt.Errorf("read %s: %w", v.seg.path, err)
			}
			chunk = readHint / 8
			consumed := 0
			for consumed < len(buf) {
				f, fl, err := decodeFrame(buf[consumed:])
				if errors.Is(err, errShortFrame) && consumed > 0 {
					break // read the rest of this frame with the next chunk
				}
				if errors.Is(err, errShortFrame) && len(buf) >= frameHdrLen {
					// The frame is larger than the chunk: size the next read to it.
					chunk = frameHdrLen + int(uint32(buf[0])|uint32(buf[1])<<8|uint32(buf[2])<<16|uint32(buf[3])<<24)
					if int64(chunk) <= n || int64(chunk) > v.stats.size-off {
						return &CorruptionError{Segment: v.seg.path, Offset: off, Err: errBadLength}
					}
					break
				}
				if err != nil {
					return &CorruptionError{Segment: v.seg.path, Offset: off + int64(consumed), Err: err}
				}
				if f.ordinal != v.seg.base+pos {
					return &CorruptionError{Segment: v.seg.path, Offset: off + int64(consumed), Err: errBadOrdinal}
				}
				consumed += fl
				pos++
				if skip > 0 {
					skip--
					continue
				}
				if !fn(f) {
					return nil
				}
				if pos >= v.stats.count {
					break
				}
			}
			off += int64(consumed)
			if pos >= v.stats.count {
				break
			}
		}
		ord = v.seg.base + pos
	}
	return nil
}

// ordinalAt returns the ordinal of the first durable record that arrived at or
// after tNs, or durable when there is none. Arrival times never decrease within a
// shard, so the search is a binary search over segments and their sparse index.
func ordinalAt(views []segView, durable uint64, tNs int64) (uint64, error) {
	i := sort.Search(len(views), func(i int) bool { return views[i].stats.maxArrival >= tNs })
	if i == len(views) {
		return durable, nil
	}
	v := views[i]
	if v.stats.minArrival >= tNs {
		return v.seg.base, nil
	}
	j := sort.Search(len(v.stats.sparse), func(j int) bool { return v.stats.sparse[j].arrivalNs >= tNs })
	start := v.seg.base + v.stats.sparse[max(j-1, 0)].pos
	found := v.end()
	err := scanFrom(views[i:i+1], start, 4<<10, func(f frame) bool {
		if f.arrivalNs >= tNs {
			found = f.ordinal
			return false
		}
		return true
	})
	return found, err
}

// trimSegments removes whole segments, except the newest, whose newest record
// arrived before cutoffNs. It returns how many it removed.
func (s *shard) trimSegments(cutoffNs int64) (int, error) {
	s.mu.Lock()
	var doomed []*segment
	for len(s.segs) > 1 && s.segs[0].stats.maxArrival < cutoffNs {
		doomed = append(doomed, s.segs[0])
		s.segs = slices.Clone(s.segs[1:])
	}
	s.mu.Unlock()
	for _, sg := range doomed {
		if err := sg.remove(); err != nil {
			return 0, fmt.Errorf("shard %s: remove expired segment: %w", s.id, err)
		}
	}
	if len(doomed) > 0 {
		return len(doomed), syncDir(s.dir)
	}
	return 0, nil
}
