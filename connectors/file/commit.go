package file

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/exec"
)

var _ exec.CommittingSink = (*Sink)(nil)

// The files of a committing sink, beside the output DIR/NAME:
//
//	DIR/.NAME.inprogress       rows written since the last Prepare
//	DIR/.NAME.pending.ID.OFF   checkpoint ID's rows, prepared; Commit writes them at offset OFF of the output
//
// OFF is the output's length once every earlier checkpoint is committed, so a
// pending file says by itself where it belongs, and a redo of its commit
// truncates the output to OFF and appends it again.

const (
	inProgressSuffix = ".inprogress"
	pendingInfix     = ".pending."
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// committer is the part of a Sink that only the committing mode uses.
type committer struct {
	inprog    *os.File   // the in-progress file; nil once closed
	cw        *crcWriter // under s.w, over inprog
	committed int64      // the output's length with every committed checkpoint
	prepared  []prepared // prepared and not committed, oldest first
	lastID    int64      // the newest checkpoint prepared, committed or recovered
}

// prepared is one checkpoint's pending file.
type prepared struct {
	id     int64
	offset int64 // where in the output its bytes go
	bytes  int64
	crc    uint32
	path   string // "" when it holds nothing (no file)
}

// state is what Prepare returns, as JSON: where the checkpoint's bytes go and
// how to check them. Version 1.
type state struct {
	V      int    `json:"v"`
	ID     int64  `json:"id"`
	File   string `json:"file,omitempty"` // the pending file's name, beside the output; "" when empty
	Offset int64  `json:"offset"`         // the output's length before the checkpoint's bytes
	Bytes  int64  `json:"bytes"`
	CRC32C uint32 `json:"crc32c"`
}

// crcWriter counts and checksums what passes through it.
type crcWriter struct {
	w   io.Writer
	n   int64
	crc uint32
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	return n, err
}

func (s *Sink) hidden() string {
	return filepath.Join(filepath.Dir(s.cfg.Path), "."+filepath.Base(s.cfg.Path))
}

func (s *Sink) inProgressPath() string { return s.hidden() + inProgressSuffix }

func (s *Sink) pendingPath(id, offset int64) string {
	return s.hidden() + pendingInfix + strconv.FormatInt(id, 10) + "." + strconv.FormatInt(offset, 10)
}

// writing is the file that Write fills, for errors.
func (s *Sink) writing() string {
	if s.mode == modeCommitting {
		return s.inProgressPath()
	}
	return s.cfg.Path
}

func (s *Sink) errorf(format string, args ...any) error {
	return fmt.Errorf("file sink %s: "+format, append([]any{s.cfg.Name}, args...)...)
}

// Recover makes the sink committing: from now on rows go to the in-progress
// file and become visible at Commit. It finishes the commit of checkpoint id
// and of any earlier one that a crash interrupted, removes every pending file
// of a later checkpoint and the in-progress file, and truncates the output to
// its length once checkpoint id is committed (which drops a partial append of
// a later checkpoint). With id 0 and no state it only removes the pending and
// in-progress files, and truncates the output unless Append. It fails when the
// output is shorter than checkpoint id says it must be (changed by hand?):
// remove the application's checkpoints to start afresh.
func (s *Sink) Recover(ctx context.Context, id int64, stateBytes []byte) error {
	if s.f == nil {
		return ErrClosed
	}
	if s.mode != modeOpen {
		return s.errorf("Recover must come before the first Write, Flush or Recover")
	}
	var st state
	if id != 0 || stateBytes != nil {
		var err error
		if st, err = s.parseState(id, stateBytes); err != nil {
			return err
		}
	}
	if err := removeIfExists(s.inProgressPath()); err != nil {
		return s.errorf("%w", err)
	}
	pend, err := s.pendingFiles()
	if err != nil {
		return err
	}
	for _, p := range pend {
		if p.id > id {
			if err := removeIfExists(p.path); err != nil {
				return s.errorf("%w", err)
			}
			continue
		}
		if p.id == id {
			if p.offset != st.Offset || p.bytes != st.Bytes {
				return s.errorf("pending file %s holds %d bytes for offset %d; checkpoint %d's state says %d bytes for offset %d", p.path, p.bytes, p.offset, id, st.Bytes, st.Offset)
			}
			p.crc = st.CRC32C
			if err := s.checkPending(p); err != nil {
				return err
			}
		}
		if err := s.commitOne(p); err != nil {
			return err
		}
	}
	size, err := s.outputSize()
	if err != nil {
		return err
	}
	want := size
	if id == 0 {
		if !s.cfg.Append {
			want = 0
		}
	} else {
		want = st.Offset + st.Bytes
		if size < want {
			return s.errorf("output %s holds %d bytes, but checkpoint %d committed %d: was it changed or replaced? Remove the application's checkpoints to start afresh", s.cfg.Path, size, id, want)
		}
	}
	if size != want {
		if err := s.f.Truncate(want); err != nil {
			return s.errorf("truncate %s: %w", s.cfg.Path, err)
		}
	}
	if err := s.f.Sync(); err != nil {
		return s.errorf("sync %s: %w", s.cfg.Path, err)
	}
	if err := syncDir(filepath.Dir(s.cfg.Path)); err != nil {
		return s.errorf("%w", err)
	}
	s.mode = modeCommitting
	s.c.committed, s.c.lastID = want, id
	if err := s.openInProgress(); err != nil {
		return err
	}
	if h := s.enc.Header(); h != nil && want == 0 {
		s.w.Write(h)
		s.w.WriteByte('\n')
	}
	return nil
}

// Prepare makes the rows written since the last Prepare durable as checkpoint
// id's: it syncs the in-progress file and renames it to the checkpoint's
// pending file (none when no row was written). The state returned records the
// output offset where the rows go, their length and CRC-32C.
func (s *Sink) Prepare(ctx context.Context, id int64) ([]byte, error) {
	if s.f == nil {
		return nil, ErrClosed
	}
	if s.err != nil {
		return nil, s.err
	}
	if s.mode != modeCommitting {
		return nil, s.errorf("Prepare without Recover: a sink with checkpoints is recovered before its first Write")
	}
	if id <= s.c.lastID {
		return nil, s.errorf("Prepare(%d) after checkpoint %d", id, s.c.lastID)
	}
	if err := s.flushInProgress(); err != nil {
		return nil, err
	}
	p := prepared{id: id, offset: s.c.committed, bytes: s.c.cw.n, crc: s.c.cw.crc}
	for _, q := range s.c.prepared {
		p.offset += q.bytes
	}
	if p.bytes > 0 {
		p.path = s.pendingPath(id, p.offset)
		if err := s.c.inprog.Sync(); err != nil {
			s.err = s.errorf("sync %s: %w", s.inProgressPath(), err)
			return nil, s.err
		}
		if err := s.closeInProgressFile(); err != nil {
			return nil, err
		}
		if err := os.Rename(s.inProgressPath(), p.path); err != nil {
			s.err = s.errorf("%w", err)
			return nil, s.err
		}
		if err := syncDir(filepath.Dir(s.cfg.Path)); err != nil {
			s.err = s.errorf("%w", err)
			return nil, s.err
		}
		if err := s.openInProgress(); err != nil {
			return nil, err
		}
	}
	s.c.prepared = append(s.c.prepared, p)
	s.c.lastID = id
	st := state{V: 1, ID: id, Offset: p.offset, Bytes: p.bytes, CRC32C: p.crc}
	if p.path != "" {
		st.File = filepath.Base(p.path)
	}
	return json.Marshal(st)
}

// Commit appends the pending file of checkpoint id, and of every earlier
// checkpoint not committed yet, to the output, syncs it and removes the
// pending file. Committing a checkpoint again does nothing. Readers of the
// output may see part of an append while Commit runs (or after a crash in it,
// until Recover redoes it).
func (s *Sink) Commit(ctx context.Context, id int64, stateBytes []byte) error {
	if s.f == nil {
		return ErrClosed
	}
	if s.mode != modeCommitting {
		return s.errorf("Commit without Recover: a sink with checkpoints is recovered before its first Write")
	}
	if _, err := s.parseState(id, stateBytes); err != nil {
		return err
	}
	if id > s.c.lastID {
		return s.errorf("Commit(%d) of a checkpoint never prepared (the last is %d)", id, s.c.lastID)
	}
	for len(s.c.prepared) > 0 && s.c.prepared[0].id <= id {
		if err := s.commitOne(s.c.prepared[0]); err != nil {
			return err
		}
		s.c.prepared = s.c.prepared[1:]
	}
	return nil
}

// commitOne writes a pending file's bytes at its offset of the output, syncs
// the output and removes the pending file; a redo first truncates what an
// interrupted append left.
func (s *Sink) commitOne(p prepared) error {
	if p.path == "" {
		s.c.committed = p.offset + p.bytes
		return nil
	}
	size, err := s.outputSize()
	if err != nil {
		return err
	}
	pf, err := os.Open(p.path)
	if errors.Is(err, fs.ErrNotExist) && size >= p.offset+p.bytes {
		s.c.committed = p.offset + p.bytes // committed already (a Commit retried after an error)
		return nil
	}
	if err != nil {
		return s.errorf("%w", err)
	}
	defer pf.Close()
	if size < p.offset {
		return s.errorf("output %s holds %d bytes; checkpoint %d's rows go at offset %d: was it changed or replaced? Remove the application's checkpoints to start afresh", s.cfg.Path, size, p.id, p.offset)
	}
	if size > p.offset {
		if err := s.f.Truncate(p.offset); err != nil {
			return s.errorf("truncate %s: %w", s.cfg.Path, err)
		}
	}
	if _, err := s.f.Seek(p.offset, io.SeekStart); err != nil {
		return s.errorf("%w", err)
	}
	n, err := io.Copy(s.f, pf)
	if err != nil {
		return s.errorf("append %s to %s: %w", p.path, s.cfg.Path, err)
	}
	if n != p.bytes {
		return s.errorf("pending file %s holds %d bytes, not %d", p.path, n, p.bytes)
	}
	if err := s.f.Sync(); err != nil {
		return s.errorf("sync %s: %w", s.cfg.Path, err)
	}
	pf.Close()
	// The removal is made durable before a later commit appends: a pending file
	// that came back after a power loss would truncate that commit away.
	if err := os.Remove(p.path); err != nil {
		return s.errorf("%w", err)
	}
	if err := syncDir(filepath.Dir(s.cfg.Path)); err != nil {
		return s.errorf("%w", err)
	}
	s.c.committed = p.offset + p.bytes
	return nil
}

// checkPending verifies a pending file's CRC-32C.
func (s *Sink) checkPending(p prepared) error {
	f, err := os.Open(p.path)
	if err != nil {
		return s.errorf("%w", err)
	}
	defer f.Close()
	cw := &crcWriter{w: io.Discard}
	if _, err := io.Copy(cw, f); err != nil {
		return s.errorf("read %s: %w", p.path, err)
	}
	if cw.n != p.bytes || cw.crc != p.crc {
		return s.errorf("pending file %s is damaged: %d bytes with CRC-32C %08x, want %d bytes with %08x", p.path, cw.n, cw.crc, p.bytes, p.crc)
	}
	return nil
}

// pendingFiles lists the pending files beside the output, oldest checkpoint first.
func (s *Sink) pendingFiles() ([]prepared, error) {
	dir := filepath.Dir(s.cfg.Path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	prefix := "." + filepath.Base(s.cfg.Path) + pendingInfix
	var out []prepared
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		idText, offText, ok := strings.Cut(rest, ".")
		id, err1 := strconv.ParseInt(idText, 10, 64)
		off, err2 := strconv.ParseInt(offText, 10, 64)
		if !ok || err1 != nil || err2 != nil || id <= 0 || off < 0 {
			continue // not ours
		}
		fi, err := e.Info()
		if err != nil {
			return nil, s.errorf("%w", err)
		}
		out = append(out, prepared{id: id, offset: off, bytes: fi.Size(), path: filepath.Join(dir, e.Name())})
	}
	slices.SortFunc(out, func(a, b prepared) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}

func (s *Sink) parseState(id int64, b []byte) (state, error) {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return st, s.errorf("checkpoint %d: bad sink state %q: %w", id, b, err)
	}
	if st.V != 1 || st.ID != id || st.Offset < 0 || st.Bytes < 0 {
		return st, s.errorf("checkpoint %d: sink state %s is not a file sink's state for it", id, b)
	}
	if st.File != "" && st.File != filepath.Base(s.pendingPath(id, st.Offset)) {
		return st, s.errorf("checkpoint %d: sink state names %s, not a pending file of %s (was the path changed?)", id, st.File, s.cfg.Path)
	}
	return st, nil
}

func (s *Sink) outputSize() (int64, error) {
	fi, err := s.f.Stat()
	if err != nil {
		return 0, s.errorf("%w", err)
	}
	return fi.Size(), nil
}

// openInProgress creates an empty in-progress file and points the writer at it.
func (s *Sink) openInProgress() error {
	f, err := os.OpenFile(s.inProgressPath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		s.err = s.errorf("%w", err)
		return s.err
	}
	s.c.inprog = f
	s.c.cw = &crcWriter{w: f}
	s.w = bufio.NewWriterSize(s.c.cw, 256<<10)
	return nil
}

func (s *Sink) flushInProgress() error {
	if err := s.w.Flush(); err != nil {
		s.err = s.errorf("write %s: %w", s.inProgressPath(), err)
		return s.err
	}
	return nil
}

func (s *Sink) closeInProgressFile() error {
	f := s.c.inprog
	s.c.inprog = nil
	if err := f.Close(); err != nil {
		s.err = s.errorf("close %s: %w", f.Name(), err)
		return s.err
	}
	return nil
}

// closeInProgress closes and removes the in-progress file: no checkpoint
// covers its rows, so the next run would discard them anyway.
func (s *Sink) closeInProgress() error {
	if s.c.inprog == nil {
		return s.err
	}
	err := s.closeInProgressFile()
	if rerr := removeIfExists(s.inProgressPath()); err == nil && rerr != nil {
		err = s.errorf("%w", rerr)
	}
	return err
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir fsyncs a directory so that entries created, renamed or removed in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
