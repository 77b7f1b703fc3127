package kinesis

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
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
	"syscall"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
)

var _ exec.CommittingSink = (*EmbeddedSink)(nil)

// The files of a committing EmbeddedSink, in DATA_DIR/sinks/STREAM.sink/ (the
// store's data directory; the store itself only reads DATA_DIR/streams/):
//
//	LOCK        flocked while a committing sink writes the stream
//	inprogress  records written since the last Prepare
//	ID.pending  checkpoint ID's records, prepared
//	ID.commit   written by Commit(ID) before its first put: the stream's epoch
//	            and the next ordinal of each open shard then
//
// A pending file is a run of records, each the uvarint length of its
// partition key, the key, the uvarint length of its data, the data. It is
// synced before it is renamed into place, so it is never torn.
const (
	sinksDir       = "sinks"
	sinkDirSuffix  = ".sink"
	sinkLockFile   = "LOCK"
	inProgressFile = "inprogress"
	pendingSuffix  = ".pending"
	markerSuffix   = ".commit"
)

var sinkCRCTable = crc32.MakeTable(crc32.Castagnoli)

// errSinkClosed is returned by a committing sink used after Close.
var errSinkClosed = errors.New("kinesis sink closed")

// sinkCommitter is the part of an EmbeddedSink that only the committing mode uses.
type sinkCommitter struct {
	dir      string
	lock     *os.File // dir/LOCK, flocked
	inprog   *os.File // nil after a failed Prepare
	cw       *crcWriter
	w        *bufio.Writer
	records  int64 // in the in-progress file
	prepared []pendingFile
	lastID   int64 // the newest checkpoint prepared, committed or recovered
	frame    []byte
	err      error // the first failure to write the in-progress file; the sink is broken after it
}

// pendingFile is one checkpoint's prepared records.
type pendingFile struct {
	id      int64
	path    string // "" when it holds nothing (no file)
	records int64
	bytes   int64
	crc     uint32
	known   bool // records, bytes and crc are known (from Prepare or the state), to check the file
}

// sinkState is what Prepare returns, as JSON. Version 1.
type sinkState struct {
	V       int    `json:"v"`
	ID      int64  `json:"id"`
	Stream  string `json:"stream"`
	Records int64  `json:"records"` // in the checkpoint's pending file
	Bytes   int64  `json:"bytes"`
	CRC32C  uint32 `json:"crc32c"`
}

// commitMarker is what Commit records before it puts a checkpoint's records:
// what the stream held then, so that a redo puts only what is missing.
type commitMarker struct {
	V      int           `json:"v"`
	Epoch  int64         `json:"epoch"`
	Shards []markerShard `json:"shards"` // the open shards
}

type markerShard struct {
	ID   string `json:"id"`
	Next uint64 `json:"next"` // the ordinal the shard's next record gets
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
	c.crc = crc32.Update(c.crc, sinkCRCTable, p[:n])
	return n, err
}

func (s *EmbeddedSink) errorf(format string, args ...any) error {
	return fmt.Errorf("kinesis sink %s: "+format, append([]any{s.cfg.Name}, args...)...)
}

func (c *sinkCommitter) pendingPath(id int64) string {
	return filepath.Join(c.dir, fmt.Sprintf("%020d%s", id, pendingSuffix))
}

func (c *sinkCommitter) markerPath(id int64) string {
	return filepath.Join(c.dir, fmt.Sprintf("%020d%s", id, markerSuffix))
}

// Recover makes the sink committing: from now on Write keeps records in the
// sink's in-progress file and Commit puts them. It takes the stream (Own) and
// the sink directory's LOCK (one committing sink per stream), finishes the
// commits of checkpoint id and of every earlier one that a crash interrupted,
// putting only the records the stream lacks, and removes the pending files of
// later checkpoints and the in-progress file. Recover(0, nil) only removes.
func (s *EmbeddedSink) Recover(ctx context.Context, id int64, state []byte) error {
	if s.c != nil || s.direct {
		return s.errorf("Recover must come before the first Write and only once")
	}
	var st sinkState
	if id != 0 || state != nil {
		var err error
		if st, err = s.parseState(id, state); err != nil {
			return err
		}
	}
	if err := s.store.Own(s.cfg.Stream); err != nil {
		return s.errorf("%w", err)
	}
	c := &sinkCommitter{dir: filepath.Join(s.store.Dir(), sinksDir, s.cfg.Stream+sinkDirSuffix)}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return s.errorf("%w", err)
	}
	lock, err := os.OpenFile(filepath.Join(c.dir, sinkLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return s.errorf("%w", err)
	}
	if err := sinkFlock(lock, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return s.errorf("another sink writes stream %q with checkpoints; a stream takes one", s.cfg.Stream)
		}
		return s.errorf("lock %s: %w", lock.Name(), err)
	}
	c.lock = lock
	if err := s.recover(ctx, c, id, st); err != nil {
		c.close()
		return err
	}
	s.c = c
	return nil
}

func (s *EmbeddedSink) recover(ctx context.Context, c *sinkCommitter, id int64, st sinkState) error {
	if err := sinkRemove(filepath.Join(c.dir, inProgressFile)); err != nil {
		return s.errorf("%w", err)
	}
	pending, markers, err := c.list()
	if err != nil {
		return s.errorf("%w", err)
	}
	for _, pid := range pending {
		if pid > id {
			// A later checkpoint's: its rows will be written again. (Had its
			// commit begun, which a later complete checkpoint implies, the
			// records it put stay in the stream, which cannot take them back.)
			if err := sinkRemove(c.pendingPath(pid)); err != nil {
				return s.errorf("%w", err)
			}
			continue
		}
		p := pendingFile{id: pid, path: c.pendingPath(pid)}
		if pid == id {
			p.records, p.bytes, p.crc, p.known = st.Records, st.Bytes, st.CRC32C, true
		}
		if err := s.commitOne(ctx, c, p); err != nil {
			return err
		}
	}
	for _, mid := range markers {
		if err := sinkRemove(c.markerPath(mid)); err != nil {
			return s.errorf("%w", err)
		}
	}
	if err := sinkSyncDir(c.dir); err != nil {
		return s.errorf("%w", err)
	}
	c.lastID = id
	return s.openInProgress(c)
}

// Prepare makes the records written since the last Prepare durable as
// checkpoint id's: it syncs the in-progress file and renames it to the
// checkpoint's pending file (none when no row was written). The state
// returned records their count, length and CRC-32C.
func (s *EmbeddedSink) Prepare(ctx context.Context, id int64) ([]byte, error) {
	c := s.c
	if c == nil {
		return nil, s.errorf("Prepare without Recover: a sink with checkpoints is recovered before its first Write")
	}
	if c.err != nil {
		return nil, c.err
	}
	if id <= c.lastID {
		return nil, s.errorf("Prepare(%d) after checkpoint %d", id, c.lastID)
	}
	if err := s.flushInProgress(); err != nil {
		return nil, err
	}
	p := pendingFile{id: id, records: c.records, bytes: c.cw.n, crc: c.cw.crc, known: true}
	if p.records > 0 {
		p.path = c.pendingPath(id)
		fail := func(err error) ([]byte, error) {
			c.err = s.errorf("prepare checkpoint %d: %w", id, err)
			return nil, c.err
		}
		if err := c.inprog.Sync(); err != nil {
			return fail(err)
		}
		err := c.inprog.Close()
		c.inprog = nil
		if err != nil {
			return fail(err)
		}
		if err := os.Rename(filepath.Join(c.dir, inProgressFile), p.path); err != nil {
			return fail(err)
		}
		if err := sinkSyncDir(c.dir); err != nil {
			return fail(err)
		}
		if err := s.openInProgress(c); err != nil {
			return nil, err
		}
	}
	c.prepared = append(c.prepared, p)
	c.lastID = id
	return json.Marshal(sinkState{V: 1, ID: id, Stream: s.cfg.Stream, Records: p.records, Bytes: p.bytes, CRC32C: p.crc})
}

// Commit puts the records of checkpoint id, and of every earlier checkpoint
// not committed yet, into the stream, in the order they were written.
// Committing a checkpoint again does nothing; a Commit that failed halfway
// may be called again and puts only what is missing.
func (s *EmbeddedSink) Commit(ctx context.Context, id int64, state []byte) error {
	c := s.c
	if c == nil {
		return s.errorf("Commit without Recover: a sink with checkpoints is recovered before its first Write")
	}
	if c.lock == nil {
		return errSinkClosed
	}
	if _, err := s.parseState(id, state); err != nil {
		return err
	}
	if id > c.lastID {
		return s.errorf("Commit(%d) of a checkpoint never prepared (the last is %d)", id, c.lastID)
	}
	for len(c.prepared) > 0 && c.prepared[0].id <= id {
		if err := s.commitOne(ctx, c, c.prepared[0]); err != nil {
			return err
		}
		c.prepared = c.prepared[1:]
	}
	return nil
}

// commitOne puts a pending file's records and removes it. Before the first put
// it records the next ordinal of every open shard in the checkpoint's marker;
// when a marker is there already, an earlier attempt was interrupted, and the
// redo puts only the records the stream lacks.
func (s *EmbeddedSink) commitOne(ctx context.Context, c *sinkCommitter, p pendingFile) error {
	if p.path == "" {
		return nil
	}
	if _, err := os.Stat(p.path); errors.Is(err, fs.ErrNotExist) {
		return nil // committed already
	} else if err != nil {
		return s.errorf("%w", err)
	}
	if err := s.checkPending(p); err != nil {
		return err
	}
	markerPath := c.markerPath(p.id)
	b, err := os.ReadFile(markerPath)
	switch {
	case err == nil:
		var m commitMarker
		if err := json.Unmarshal(b, &m); err != nil || m.V != 1 {
			return s.errorf("commit marker %s is damaged: %q", markerPath, b)
		}
		err = s.redo(ctx, p, m)
		if err != nil {
			return err
		}
	case errors.Is(err, fs.ErrNotExist):
		m, err := s.snapshotShards()
		if err != nil {
			return err
		}
		b, err := json.Marshal(m)
		if err == nil {
			err = sinkWriteFileAtomic(markerPath, b)
		}
		if err != nil {
			return s.errorf("%w", err)
		}
		var batch putBatch
		err = eachRecord(p.path, func(key string, data []byte) error {
			return s.add(ctx, &batch, key, data)
		})
		if err == nil {
			err = s.putBatch(ctx, &batch)
		}
		if err != nil {
			return s.errorf("commit checkpoint %d: %w", p.id, err)
		}
	default:
		return s.errorf("%w", err)
	}
	// The pending file goes first, durably: a marker without its pending file
	// is a finished commit, but a pending file without its marker would be put
	// again whole.
	if err := os.Remove(p.path); err != nil {
		return s.errorf("%w", err)
	}
	if err := sinkSyncDir(c.dir); err != nil {
		return s.errorf("%w", err)
	}
	if err := sinkRemove(markerPath); err != nil {
		return s.errorf("%w", err)
	}
	return nil
}

// snapshotShards records the stream's epoch and the next ordinal of each open
// shard. The sink's store owns the stream, so nothing else puts meanwhile.
func (s *EmbeddedSink) snapshotShards() (commitMarker, error) {
	if err := s.store.Own(s.cfg.Stream); err != nil {
		return commitMarker{}, s.errorf("%w", err)
	}
	d, err := s.store.DescribeStream(s.cfg.Stream)
	if err != nil {
		return commitMarker{}, s.errorf("%w", err)
	}
	m := commitMarker{V: 1, Epoch: d.Epoch}
	for _, sd := range d.Shards {
		if !sd.Open {
			continue
		}
		cur, err := s.store.Position(s.cfg.Stream, sd.ShardID, streamstore.StartingPosition{Type: streamstore.Latest})
		if err != nil {
			return commitMarker{}, s.errorf("%w", err)
		}
		m.Shards = append(m.Shards, markerShard{ID: sd.ShardID, Next: cur.Ordinal})
	}
	return m, nil
}

// redo finishes a commit that was interrupted: each record of the pending file
// went, when it was put, to the shard of the marker's layout whose range holds
// its hash key, after the records before it there; so the shard's records
// since the marker are a prefix of the pending records routed to it, and the
// rest are missing. It checks that prefix against what the shard holds and
// puts the rest, in order.
func (s *EmbeddedSink) redo(ctx context.Context, p pendingFile, m commitMarker) error {
	fail := func(format string, args ...any) error {
		return s.errorf("redo the commit of checkpoint %d: "+format, append([]any{p.id}, args...)...)
	}
	if err := s.store.Own(s.cfg.Stream); err != nil {
		return s.errorf("%w", err)
	}
	d, err := s.store.DescribeStream(s.cfg.Stream)
	if err != nil {
		return s.errorf("%w", err)
	}
	var batch putBatch
	if d.Epoch != m.Epoch {
		// The stream was deleted and created again: nothing of ours is in it.
		err := eachRecord(p.path, func(key string, data []byte) error { return s.add(ctx, &batch, key, data) })
		if err == nil {
			err = s.putBatch(ctx, &batch)
		}
		if err != nil {
			return fail("%w", err)
		}
		return nil
	}
	n := len(m.Shards)
	ranges := make([]streamstore.HashKeyRange, n)
	present := make([]uint64, n)
	tails := make([]*shardTail, n)
	for i, ms := range m.Shards {
		j := slices.IndexFunc(d.Shards, func(sd streamstore.ShardDescription) bool { return sd.ShardID == ms.ID })
		if j < 0 {
			return fail("shard %s of stream %q is gone (removed by retention?), so which records reached it is unknown", ms.ID, s.cfg.Stream)
		}
		ranges[i] = d.Shards[j].HashKeyRange
		cur, err := s.store.Position(s.cfg.Stream, ms.ID, streamstore.StartingPosition{Type: streamstore.Latest})
		if err != nil {
			return s.errorf("%w", err)
		}
		if cur.Ordinal < ms.Next {
			return fail("shard %s holds fewer records than when the commit began", ms.ID)
		}
		present[i] = cur.Ordinal - ms.Next
		tails[i] = &shardTail{c: streamstore.Cursor{Stream: s.cfg.Stream, Epoch: m.Epoch, ShardID: ms.ID, Ordinal: ms.Next}}
	}
	route := func(key string) (int, error) {
		k := streamstore.HashPartitionKey(key)
		for i, r := range ranges {
			if r.Contains(k) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("no shard of the commit's layout holds the hash key of partition key %q", key)
	}
	routed := make([]uint64, n)
	err = eachRecord(p.path, func(key string, _ []byte) error {
		i, err := route(key)
		routed[i]++
		return err
	})
	if err != nil {
		return fail("%w", err)
	}
	for i := range n {
		if present[i] > routed[i] {
			return fail("shard %s gained %d records since the commit began, more than the %d this sink routed to it: another writer?", m.Shards[i].ID, present[i], routed[i])
		}
	}
	seen := make([]uint64, n)
	err = eachRecord(p.path, func(key string, data []byte) error {
		i, _ := route(key)
		if seen[i] < present[i] {
			ord := m.Shards[i].Next + seen[i]
			seen[i]++
			if err := tails[i].check(ctx, s.store, ord, key, data); err != nil {
				return err
			}
			return nil
		}
		return s.add(ctx, &batch, key, data)
	})
	if err == nil {
		err = s.putBatch(ctx, &batch)
	}
	if err != nil {
		return fail("%w", err)
	}
	return nil
}

// shardTail reads a shard from where a commit began, to check the records a
// redo finds there.
type shardTail struct {
	c    streamstore.Cursor
	buf  []streamstore.Record
	done bool
}

// check compares the shard's record at ordinal ord with the one expected. A
// record that retention already removed goes unchecked.
func (t *shardTail) check(ctx context.Context, store *streamstore.Store, ord uint64, key string, data []byte) error {
	for {
		if len(t.buf) == 0 {
			if t.done {
				return nil
			}
			out, err := store.GetRecords(ctx, t.c, 1000)
			if err != nil {
				return err
			}
			t.buf, t.c, t.done = out.Records, out.Next, out.ShardEnd || len(out.Records) == 0
			continue
		}
		rec := t.buf[0]
		if rec.SequenceNumber.Ordinal > ord {
			return nil
		}
		t.buf = t.buf[1:]
		if rec.SequenceNumber.Ordinal < ord {
			continue
		}
		if rec.PartitionKey != key || !bytes.Equal(rec.Data, data) {
			return fmt.Errorf("record %s of shard %s is not the one this sink put there (key %q, %d bytes; want key %q, %d bytes): another writer?",
				rec.SequenceNumber, t.c.ShardID, rec.PartitionKey, len(rec.Data), key, len(data))
		}
		return nil
	}
}

// putBatch is a PutRecords batch being filled.
type putBatch struct {
	entries []streamstore.PutEntry
	bytes   int
}

// add appends a record to the batch, putting the batch first when it is full.
func (s *EmbeddedSink) add(ctx context.Context, b *putBatch, key string, data []byte) error {
	size := len(key) + len(data)
	if len(b.entries) == streamstore.MaxBatchRecords || b.bytes+size > streamstore.MaxBatchBytes {
		if err := s.putBatch(ctx, b); err != nil {
			return err
		}
	}
	b.entries = append(b.entries, streamstore.PutEntry{PartitionKey: key, Data: bytes.Clone(data)})
	b.bytes += size
	return nil
}

func (s *EmbeddedSink) putBatch(ctx context.Context, b *putBatch) error {
	if len(b.entries) == 0 {
		return nil
	}
	var err error
	if s.putHook != nil {
		err = s.putHook(ctx, b.entries)
	} else {
		_, err = s.store.PutRecords(ctx, s.cfg.Stream, b.entries)
	}
	if err != nil {
		return fmt.Errorf("put %d records into stream %q: %w", len(b.entries), s.cfg.Stream, err)
	}
	b.entries, b.bytes = b.entries[:0], 0
	return nil
}

// eachPendingRecord calls fn with every record of a pending file, in order,
// and returns how many there are and the file's length and CRC-32C. fn must
// not keep data.
func eachPendingRecord(path string, fn func(key string, data []byte) error) (records, size int64, crc uint32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	cw := &crcWriter{w: io.Discard}
	r := bufio.NewReaderSize(io.TeeReader(f, cw), 256<<10)
	var data []byte
	for {
		kn, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return records, cw.n, cw.crc, nil
		}
		if err != nil || kn > streamstore.MaxRecordBytes {
			return records, 0, 0, fmt.Errorf("%s: bad record framing after %d records: %v", path, records, err)
		}
		key := make([]byte, kn)
		if _, err := io.ReadFull(r, key); err != nil {
			return records, 0, 0, fmt.Errorf("%s: %w", path, err)
		}
		dn, err := binary.ReadUvarint(r)
		if err != nil || dn > streamstore.MaxRecordBytes {
			return records, 0, 0, fmt.Errorf("%s: bad record framing after %d records: %v", path, records, err)
		}
		data = slices.Grow(data[:0], int(dn))[:dn]
		if _, err := io.ReadFull(r, data); err != nil {
			return records, 0, 0, fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(string(key), data); err != nil {
			return records, 0, 0, err
		}
		records++
	}
}

// eachRecord calls fn with every record of a pending file, in order.
func eachRecord(path string, fn func(key string, data []byte) error) error {
	_, _, _, err := eachPendingRecord(path, fn)
	return err
}

// checkPending reads a pending file through: its framing must hold, and when
// its count, length and CRC-32C are known they must match.
func (s *EmbeddedSink) checkPending(p pendingFile) error {
	records, size, crc, err := eachPendingRecord(p.path, func(string, []byte) error { return nil })
	if err != nil {
		return s.errorf("pending file is damaged: %w", err)
	}
	if p.known && (records != p.records || size != p.bytes || crc != p.crc) {
		return s.errorf("pending file %s is damaged: %d records, %d bytes, CRC-32C %08x; checkpoint %d's state says %d records, %d bytes, %08x",
			p.path, records, size, crc, p.id, p.records, p.bytes, p.crc)
	}
	return nil
}

// writePending appends rec's rows to the in-progress file.
func (s *EmbeddedSink) writePending(rec arrow.RecordBatch) error {
	c := s.c
	if c.err != nil {
		return c.err
	}
	return s.enc.EachRow(rec, func(i int, text []byte) error {
		key := s.partitionKey(rec, i)
		size := len(text) + len(key)
		if size > streamstore.MaxRecordBytes {
			return fmt.Errorf("kinesis sink %s: row %d encodes to %d bytes with its partition key; a record holds at most %d (1 MiB)", s.cfg.Name, i, size, streamstore.MaxRecordBytes)
		}
		c.frame = binary.AppendUvarint(c.frame[:0], uint64(len(key)))
		c.frame = append(c.frame, key...)
		c.frame = binary.AppendUvarint(c.frame, uint64(len(text)))
		c.frame = append(c.frame, text...)
		if _, err := c.w.Write(c.frame); err != nil {
			c.err = s.errorf("write %s: %w", filepath.Join(c.dir, inProgressFile), err)
			return c.err
		}
		c.records++
		return nil
	})
}

// openInProgress creates an empty in-progress file.
func (s *EmbeddedSink) openInProgress(c *sinkCommitter) error {
	f, err := os.OpenFile(filepath.Join(c.dir, inProgressFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		c.err = s.errorf("%w", err)
		return c.err
	}
	c.inprog, c.records = f, 0
	c.cw = &crcWriter{w: f}
	c.w = bufio.NewWriterSize(c.cw, 256<<10)
	return nil
}

func (s *EmbeddedSink) flushInProgress() error {
	c := s.c
	if c.err != nil {
		return c.err
	}
	if err := c.w.Flush(); err != nil {
		c.err = s.errorf("write %s: %w", filepath.Join(c.dir, inProgressFile), err)
		return c.err
	}
	return nil
}

// close removes the in-progress file (no checkpoint covers its records) and
// releases the LOCK; prepared checkpoints stay for Commit or the next Recover.
func (c *sinkCommitter) close() error {
	if c.err == nil {
		c.err = errSinkClosed
	}
	var err error
	if c.inprog != nil {
		err = c.inprog.Close()
		c.inprog = nil
		if rerr := sinkRemove(filepath.Join(c.dir, inProgressFile)); err == nil {
			err = rerr
		}
	}
	if c.lock != nil {
		c.lock.Close() // closing the descriptor releases the flock
		c.lock = nil
	}
	return err
}

// list returns the checkpoint ids of the pending files and of the commit
// markers in the sink's directory, in order.
func (c *sinkCommitter) list() (pending, markers []int64, err error) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		for suffix, ids := range map[string]*[]int64{pendingSuffix: &pending, markerSuffix: &markers} {
			if digits, ok := strings.CutSuffix(name, suffix); ok {
				if id, err := strconv.ParseInt(digits, 10, 64); err == nil && id > 0 {
					*ids = append(*ids, id)
				}
			}
		}
	}
	slices.SortFunc(pending, cmp.Compare)
	slices.SortFunc(markers, cmp.Compare)
	return pending, markers, nil
}

func (s *EmbeddedSink) parseState(id int64, b []byte) (sinkState, error) {
	var st sinkState
	if err := json.Unmarshal(b, &st); err != nil {
		return st, s.errorf("checkpoint %d: bad sink state %q: %w", id, b, err)
	}
	if st.V != 1 || st.ID != id || st.Records < 0 || st.Bytes < 0 {
		return st, s.errorf("checkpoint %d: sink state %s is not a kinesis sink's state for it", id, b)
	}
	if st.Stream != s.cfg.Stream {
		return st, s.errorf("checkpoint %d: the sink wrote stream %q then, not %q; a changed sink starts from no checkpoint", id, st.Stream, s.cfg.Stream)
	}
	return st, nil
}

// sinkFlock applies a sinkFlock(2) operation, again when a signal interrupts it.
func sinkFlock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func sinkRemove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// sinkWriteFileAtomic publishes data at path: a temp file, synced, renamed over
// path, the directory synced.
func sinkWriteFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return sinkSyncDir(filepath.Dir(path))
}

// sinkSyncDir fsyncs a directory so that entries created, renamed or removed in it are durable.
func sinkSyncDir(dir string) error {
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
