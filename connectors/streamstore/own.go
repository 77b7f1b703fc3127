package streamstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Write ownership. Every stream has at most one writer, the Store that holds an
// exclusive flock(2) on streams/NAME.stream/LOCK. A Store takes it on its first
// write to the stream and keeps it until Close; CreateStream takes it before the
// stream's name appears. A flock belongs to an open file description, so two
// Stores of one process exclude each other just as two processes do, and the
// kernel releases it when its holder dies, however it dies.

// lockFile is the name of the lock files: DATA_DIR/LOCK and each stream's LOCK.
const lockFile = "LOCK"

// flock applies a flock(2) operation, again when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// pidText returns the pid a lock file holds, or "unknown".
func pidText(b []byte) string {
	if pid := strings.TrimSpace(string(b)); pid != "" {
		return pid
	}
	return "unknown"
}

// writePid records the holder of a lock in its file, for the error another
// process gets.
func writePid(f *os.File) error {
	b := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("write pid to %s: %w", f.Name(), err)
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		return fmt.Errorf("write pid to %s: %w", f.Name(), err)
	}
	return nil
}

// lockNewStream creates and locks the LOCK of a stream that is being built in dir.
func lockNewStream(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := writePid(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// lockStream takes the LOCK of the stream in dir. It fails with ErrLocked when
// another Store holds it and with ErrNotFound when the stream does not exist.
func (s *Store) lockStream(name, dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	notFound := errorf(ErrNotFound, "stream %q does not exist in %s", name, s.dir)
	for range 3 {
		// A stream made by an eddy that had no per-stream locks has no LOCK yet.
		// O_CREATE cannot make one in a stream being deleted: a delete holds the
		// LOCK, so it exists, until the directory has been renamed away.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, notFound
		}
		if err != nil {
			return nil, fmt.Errorf("lock stream %s: %w", name, err)
		}
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			f.Close()
			if !errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("lock stream %s: %w", name, err)
			}
			pid := pidText(b[:n])
			if pid == strconv.Itoa(os.Getpid()) {
				return nil, errorf(ErrLocked, "stream %s is being written by another Store of this process (pid %s); close it, or write through it", name, pid)
			}
			return nil, errorf(ErrLocked, "stream %s is being written by another eddy process (pid %s); stop it, or write through it", name, pid)
		}
		// Between the open and the flock the stream may have been deleted (its
		// directory renamed away), or deleted and created again: the lock counts
		// only if the file locked is still the one at the stream's path.
		held, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock stream %s: %w", name, err)
		}
		now, err := os.Stat(path)
		if err == nil && os.SameFile(held, now) {
			if err := writePid(f); err != nil {
				f.Close()
				return nil, fmt.Errorf("lock stream %s: %w", name, err)
			}
			return f, nil
		}
		f.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, notFound
		}
		if err != nil {
			return nil, fmt.Errorf("lock stream %s: %w", name, err)
		}
		// Created again under the same name: lock the new stream.
	}
	return nil, fmt.Errorf("lock stream %s: it was deleted and created again while we locked it, three times", name)
}

// Own makes this store the writer of a stream now, as its first write to it
// would: it takes the stream's LOCK (ErrLocked names the holder's pid when
// another Store has it), reloads the stream from disk for writing, repairing torn
// tails (see Repairs), and enforces its retention. A store keeps the streams it
// owns until Close. Own is how a program claims its output streams before it
// starts, so that it fails at once rather than at its first write.
func (s *Store) Own(name string) error {
	_, err := s.writeStream(name)
	return err
}

// Owns reports whether this store is the writer of a stream.
func (s *Store) Owns(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.streams[name]
	return !s.closed && st != nil && st.owned.Load()
}

// writeStream returns a stream to write, making this store its writer first.
// Once the stream is owned that costs a map lookup and an atomic load.
func (s *Store) writeStream(name string) (*stream, error) {
	if err := s.writable(); err != nil {
		return nil, err
	}
	st, err := s.stream(name)
	if err == nil && st.owned.Load() {
		return st, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	// Not found may only mean that another process created the stream since
	// this store last looked: acquire looks on disk.
	return s.acquire(name)
}

// acquire takes a stream's LOCK and reloads the stream from disk for writing:
// another process may have written it since this store loaded it. The reload
// keeps the stream and shard objects that readers of this store hold.
func (s *Store) acquire(name string) (*stream, error) {
	s.diskMu.Lock()
	defer s.diskMu.Unlock()
	s.mu.RLock()
	closed, cur := s.closed, s.streams[name]
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if cur != nil && cur.owned.Load() {
		return cur, nil
	}
	dir := filepath.Join(s.dir, "streams", name+streamDirSuffix)
	lock, err := s.lockStream(name, dir)
	if err != nil {
		if errors.Is(err, ErrNotFound) && cur != nil {
			s.dropStream(cur) // deleted by another process since this store last looked
		}
		return nil, err
	}
	fresh, repairs, err := s.openStream(dir, true)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("take over stream %s: %w", name, err)
	}
	st := fresh
	if cur != nil && cur.meta.Epoch == fresh.meta.Epoch {
		cur.adopt(fresh)
		st = cur
	} else {
		if cur != nil {
			s.dropStream(cur) // deleted and created again
		}
		s.mu.Lock()
		s.streams[name] = fresh
		s.mu.Unlock()
	}
	st.lock = lock
	st.owned.Store(true)
	if len(repairs) > 0 {
		s.mu.Lock()
		s.repairs = append(s.repairs, repairs...)
		s.mu.Unlock()
		for _, r := range repairs {
			s.log.Warn("streamstore repaired data when taking over a stream to write it", "repair", r.String())
		}
	}
	var rep RetentionReport
	if err := s.enforceStreamRetention(st, s.now(), &rep); err != nil {
		return nil, fmt.Errorf("take over stream %s: retention: %w", name, err)
	}
	if rep.SegmentsRemoved > 0 || len(rep.ShardsRemoved) > 0 {
		s.log.Info("streamstore retention", "stream", name, "segments_removed", rep.SegmentsRemoved, "shards_removed", rep.ShardsRemoved)
	}
	return st, nil
}

// adopt takes the state of fresh, this stream reloaded from disk for writing,
// while keeping the identity of the stream and of its shards, which readers hold.
func (st *stream) adopt(fresh *stream) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for idx, fsh := range fresh.shards {
		if sh := st.shards[idx]; sh != nil {
			sh.adopt(fsh)
		} else {
			st.shards[idx] = fsh
		}
	}
	for idx, sh := range st.shards {
		if _, ok := fresh.shards[idx]; !ok { // removed by retention since the last Refresh
			sh.close()
			delete(st.shards, idx)
		}
	}
	st.meta = fresh.meta
	st.metaStamp = fresh.metaStamp
	st.rebuildRouting()
}

// adopt takes the state of f, this shard reopened for writing. Segments it knew
// stay (with f's view of them) so that reads in progress go on; those that are
// gone are closed, and a read of one starts again from a new snapshot.
func (s *shard) adopt(f *shard) {
	s.mu.Lock()
	old := make(map[uint64]*segment, len(s.segs))
	for _, sg := range s.segs {
		old[sg.base] = sg
	}
	segs := make([]*segment, 0, len(f.segs))
	for _, sg := range f.segs {
		if o := old[sg.base]; o != nil && o.path == sg.path {
			o.stats = sg.stats
			delete(old, sg.base)
			sg = o
		}
		segs = append(segs, sg)
	}
	s.segs = segs
	s.epoch, s.next, s.durable, s.lastArrival = f.epoch, f.next, f.durable, f.lastArrival
	s.tailOpen, s.tailBase, s.tailSize, s.tailCount = f.tailOpen, f.tailBase, f.tailSize, f.tailCount
	s.w, s.dirMade = f.w, f.dirMade
	s.mu.Unlock()
	for _, sg := range old {
		sg.closeReader()
	}
}

// releaseLock gives up the stream's LOCK; the caller has closed its shards.
func (st *stream) releaseLock() {
	if st.lock != nil {
		st.lock.Close() // closing the descriptor releases the flock
		st.lock = nil
	}
}

// removeLeftover removes a .tmp-* or .deleted-* directory of streams/ that a
// create or delete left behind when its process died. Such a directory may also
// be a create or delete in progress in another process, which holds the
// directory's LOCK while it works; so it is removed only when no process holds
// its LOCK and nothing in it changed for opts.leftoverAge, since a create makes
// its directory a moment before it locks it. A leftover costs only disk space, so
// a failure is logged, not returned.
func (s *Store) removeLeftover(dir string) {
	removed, err := removeAbandoned(dir, s.opts.leftoverAge)
	if err != nil {
		s.log.Warn("streamstore could not remove what an interrupted create or delete left", "dir", dir, "err", err)
	} else if removed {
		s.log.Info("streamstore removed what an interrupted create or delete left", "dir", dir)
	}
}

func removeAbandoned(dir string, minAge time.Duration) (bool, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if time.Since(fi.ModTime()) < minAge {
		return false, nil
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR, 0)
	switch {
	case err == nil:
		defer f.Close()
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return false, nil // its creator or deleter is at work
			}
			return false, err
		}
	case errors.Is(err, fs.ErrNotExist):
		// Made before its LOCK, or a delete that removed its LOCK last: old
		// enough to be abandoned.
	default:
		return false, err
	}
	return true, removeLockedDir(dir)
}

// removeLockedDir removes a directory whose LOCK its remover holds: the LOCK goes
// last, so that until the rest is gone another store sees it held.
func removeLockedDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if e.Name() != lockFile {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, lockFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
