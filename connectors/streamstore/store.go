// Package streamstore is eddy's embedded Kinesis Data Streams: durable streams of
// shards in a data directory. It owns the shard logs (append-only segment files
// with CRC32C framing and group-commit fsync), partition key routing, sequence
// numbers, positions for readers, resharding (split, merge, uniform scaling) with
// shard lineage, and retention. It knows nothing of SQL or HTTP; the Kinesis API
// and the SQL source are thin layers over it.
//
// A Store is safe for concurrent use by many producers and consumers in one
// process. Many processes may open one data directory at once. Each stream has
// at most one writer: the first write to a stream (a put, a reshard, a retention
// change, a delete) makes the Store its writer by taking an exclusive flock on
// the stream's LOCK file, which it keeps until Close. A write to a stream that
// another Store writes fails with ErrLocked naming the holder's pid; other
// streams, and reads of every stream, are unaffected. Streams a Store does not
// write are loaded as a reader would load them (nothing is repaired or deleted)
// and are brought up to date by Refresh; the streams it writes are always
// current. A Store opened ReadOnly takes no lock and refuses every write.
package streamstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options configure a Store. Start from DefaultOptions.
type Options struct {
	// SegmentBytes is the size at which a shard starts a new segment file.
	SegmentBytes int64
	// MaxShardsPerStream bounds the open shards of one stream (Kinesis' default quota is 500).
	MaxShardsPerStream int
	// Now is the store's clock, for arrival times and retention. Tests inject one.
	Now func() time.Time
	// ReadOnly opens without taking any lock: every write fails with ErrReadOnly,
	// and nothing on disk is repaired or deleted.
	ReadOnly bool
	// Logger receives repairs and retention activity; nil discards.
	Logger *slog.Logger

	// leftoverAge is how long a .tmp-* or .deleted-* directory must have been
	// left unchanged before Open removes it (default: defaultLeftoverAge).
	// Tests shorten it; a negative value removes leftovers of any age.
	leftoverAge time.Duration
}

// defaultLeftoverAge is how old an unlocked leftover of a create or delete must
// be before Open removes it: the creator or deleter holds the directory's LOCK
// while it works, but a create makes its directory a moment before it locks it.
const defaultLeftoverAge = time.Minute

// DefaultOptions returns the options eddy uses unless told otherwise.
func DefaultOptions() Options {
	return Options{SegmentBytes: 64 << 20, MaxShardsPerStream: 500, Now: time.Now}
}

// Limits of Kinesis Data Streams that the store enforces.
const (
	MaxRecordBytes        = 1 << 20 // data plus partition key of one record
	MaxBatchRecords       = 500
	MaxBatchBytes         = 5 << 20
	MaxPartitionKeyChars  = 256
	MinRetentionHours     = 24
	MaxRetentionHours     = 8760
	DefaultRetentionHours = 24
	MaxGetRecords         = 10000
	MaxGetBytes           = 10 << 20
	maxStreamNameLen      = 128
	streamDirSuffix       = ".stream"
)

// Store is a data directory of streams.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File // DATA_DIR/LOCK, flocked shared by a writable store

	// diskMu serialises what changes which streams the store knows or owns:
	// Refresh, taking ownership of a stream, CreateStream, DeleteStream and Close.
	// It is taken before mu.
	diskMu sync.Mutex

	mu      sync.RWMutex
	streams map[string]*stream
	closed  bool
	repairs []Repair
}

type stream struct {
	name string
	dir  string

	// owned is set once this store holds the stream's LOCK and has reloaded it
	// for writing; it stays set until Close. Puts read it on every call.
	owned atomic.Bool
	lock  *os.File // the flocked LOCK file while owned; guarded by Store.diskMu
	// metaStamp is stream.json as last read, so Refresh can skip re-reading an
	// unchanged file; guarded by Store.diskMu.
	metaStamp os.FileInfo

	mu      sync.RWMutex // write-locked for metadata changes; read-locked by puts while they append
	meta    *streamMeta
	shards  map[uint32]*shard
	routing []route // open shards by hash key range
	deleted bool
	closed  bool // set by Close, which then releases the LOCK: no more metadata writes
}

type route struct {
	rng HashKeyRange
	sh  *shard
}

// Open opens (creating if needed) the data directory dir. It loads every stream
// as a reader would, repairing and deleting nothing: a stream is repaired (torn
// tails truncated, reported in Repairs) and its retention enforced when this
// store becomes its writer. Unless opts.ReadOnly, Open takes DATA_DIR/LOCK shared,
// which only keeps out eddy versions that wrote a whole data directory alone, and
// removes what a create or delete that died left behind (see removeLeftover).
func Open(dir string, opts Options) (*Store, error) {
	def := DefaultOptions()
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = def.SegmentBytes
	}
	if opts.MaxShardsPerStream <= 0 {
		opts.MaxShardsPerStream = def.MaxShardsPerStream
	}
	if opts.Now == nil {
		opts.Now = def.Now
	}
	if opts.leftoverAge == 0 {
		opts.leftoverAge = defaultLeftoverAge
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, opts: opts, log: log, streams: map[string]*stream{}}
	streamsDir := filepath.Join(dir, "streams")
	if !opts.ReadOnly {
		if err := os.MkdirAll(streamsDir, 0o755); err != nil {
			return nil, fmt.Errorf("open data dir %s: %w", dir, err)
		}
		if err := s.takeDirLock(); err != nil {
			return nil, err
		}
	}
	if err := s.load(streamsDir); err != nil {
		for _, st := range s.streams { // the streams opened before the failure
			st.closeShards()
		}
		s.releaseDirLock()
		return nil, err
	}
	return s, nil
}

// takeDirLock takes DATA_DIR/LOCK shared. Every writable store of this version
// holds it shared, so they coexist; eddy versions that allowed one writer per data
// directory held it exclusively, and must not run beside per-stream writers.
func (s *Store) takeDirLock() error {
	path := filepath.Join(s.dir, lockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open data dir %s: lock file: %w", s.dir, err)
	}
	if err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b, _ := os.ReadFile(path)
			return errorf(ErrLocked, "data dir %s is held exclusively by an older eddy process (pid %s) that writes the whole directory alone; stop it first",
				s.dir, pidText(b))
		}
		return fmt.Errorf("open data dir %s: lock %s: %w", s.dir, path, err)
	}
	s.lock = f
	return nil
}

func (s *Store) releaseDirLock() {
	if s.lock != nil {
		s.lock.Close() // closing the descriptor releases the flock
		s.lock = nil
	}
}

func (s *Store) load(streamsDir string) error {
	entries, err := os.ReadDir(streamsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open data dir %s: %w", s.dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") || strings.HasPrefix(name, ".deleted-") {
			if !s.opts.ReadOnly && e.IsDir() {
				s.removeLeftover(filepath.Join(streamsDir, name))
			}
			continue
		}
		if !e.IsDir() || !strings.HasSuffix(name, streamDirSuffix) {
			continue
		}
		st, _, err := s.openStream(filepath.Join(streamsDir, name), false)
		if errors.Is(err, os.ErrNotExist) && !exists(filepath.Join(streamsDir, name)) {
			continue // deleted by another process while we looked
		}
		if err != nil {
			return err
		}
		s.streams[st.name] = st
	}
	return nil
}

// openStream loads the stream in dir. For a writer (writable) it opens the shards
// for appending, truncates torn tails, rebuilds missing indexes and removes shard
// directories the metadata does not name, and returns what it repaired; for a
// reader it changes nothing on disk.
func (s *Store) openStream(dir string, writable bool) (*stream, []Repair, error) {
	stamp, err := os.Stat(filepath.Join(dir, metaFile)) // before the read: a later change shows as a new stamp
	if err != nil {
		return nil, nil, fmt.Errorf("open stream in %s: %w", dir, err)
	}
	meta, err := readMeta(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open stream in %s: %w", dir, err)
	}
	st := &stream{name: meta.Name, dir: dir, meta: meta, shards: map[uint32]*shard{}, metaStamp: stamp}
	var repairs []Repair
	known := map[string]bool{}
	for _, sm := range meta.Shards {
		id := ShardID(sm.Index)
		known[id] = true
		sh, reps, err := openShard(filepath.Join(dir, id), sm.Index, meta.Epoch, s.opts.SegmentBytes, !writable)
		if err != nil {
			st.closeShards()
			return nil, nil, fmt.Errorf("open stream %s: %w", meta.Name, err)
		}
		for i := range reps {
			reps[i].Stream = meta.Name
		}
		repairs = append(repairs, reps...)
		st.shards[sm.Index] = sh
	}
	// Shard directories that the metadata does not name were made by a reshard
	// that a crash interrupted before it published; they hold no acknowledged
	// record. Only the stream's writer may remove them.
	if entries, err := os.ReadDir(dir); err == nil && writable {
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), "shardId-") && !known[e.Name()] {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					st.closeShards()
					return nil, nil, fmt.Errorf("open stream %s: remove shard directory left by an interrupted reshard: %w", meta.Name, err)
				}
				repairs = append(repairs, Repair{Stream: meta.Name, Reason: "removed shard directory " + e.Name() + " left by an interrupted reshard"})
			}
		}
	}
	st.rebuildRouting()
	return st, repairs, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (st *stream) rebuildRouting() {
	st.routing = st.routing[:0]
	for _, sm := range st.meta.Shards {
		if sm.open() {
			st.routing = append(st.routing, route{rng: sm.hashRange(), sh: st.shards[sm.Index]})
		}
	}
	sort.Slice(st.routing, func(i, j int) bool { return st.routing[i].rng.Start.Cmp(st.routing[j].rng.Start) < 0 })
}

// route returns the open shard whose hash key range holds k.
func (st *stream) route(k HashKey) *shard {
	i := sort.Search(len(st.routing), func(i int) bool { return st.routing[i].rng.End.Cmp(k) >= 0 })
	return st.routing[i].sh // the open ranges always cover the whole key space
}

func (st *stream) closeShards() {
	for _, sh := range st.shards {
		sh.close()
	}
}

// Close flushes pending records, closes every file and releases the locks: the
// streams this store wrote may then be written by another.
func (s *Store) Close() error {
	s.diskMu.Lock()
	defer s.diskMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, st := range s.streams {
		st.mu.Lock()
		for _, sh := range st.shards {
			if err := sh.close(); err != nil && !errors.Is(err, ErrClosed) {
				errs = append(errs, err)
			}
		}
		st.closed = true
		st.mu.Unlock()
		// Only once every pending record is written may another writer append.
		st.releaseLock()
	}
	s.releaseDirLock()
	return errors.Join(errs...)
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Repairs lists what the store truncated or removed on disk: a stream is
// repaired when the store becomes its writer (see Own), not by Open.
func (s *Store) Repairs() []Repair {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Repair(nil), s.repairs...)
}

func (s *Store) now() time.Time { return s.opts.Now() }

// ValidateStreamName checks a stream name against Kinesis' rule: 1 to 128
// characters from [a-zA-Z0-9_.-].
func ValidateStreamName(name string) error {
	if len(name) < 1 || len(name) > maxStreamNameLen {
		return errorf(ErrInvalidArgument, "stream name %q is %d characters; it must be 1 to %d characters of [a-zA-Z0-9_.-]", name, len(name), maxStreamNameLen)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return errorf(ErrInvalidArgument, "stream name %q contains %q; it must be 1 to %d characters of [a-zA-Z0-9_.-]", name, c, maxStreamNameLen)
		}
	}
	return nil
}

// stream returns a live stream or ErrNotFound.
func (s *Store) stream(name string) (*stream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	st, ok := s.streams[name]
	if !ok {
		if err := ValidateStreamName(name); err != nil {
			return nil, err
		}
		return nil, errorf(ErrNotFound, "stream %q does not exist in %s", name, s.dir)
	}
	return st, nil
}

func (s *Store) writable() error {
	if s.opts.ReadOnly {
		return errorf(ErrReadOnly, "data dir %s is open read-only", s.dir)
	}
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// CreateStream creates a stream of shardCount shards with uniform hash key ranges
// and makes this store its writer. It fails with ErrInUse when a stream of that
// name exists, whichever process created it. CreateStreamWith also sets a
// capacity mode and tags.
func (s *Store) CreateStream(name string, shardCount int) error {
	return s.CreateStreamWith(name, StreamOptions{Shards: shardCount})
}

// createStream creates a stream of checked name and shard count; attrs sets
// the attributes of its metadata.
func (s *Store) createStream(name string, shardCount int, attrs func(m *streamMeta)) error {
	s.diskMu.Lock()
	defer s.diskMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	streamsDir := filepath.Join(s.dir, "streams")
	dir := filepath.Join(streamsDir, name+streamDirSuffix)
	alreadyExists := errorf(ErrInUse, "stream %q already exists", name)
	if exists(dir) {
		return alreadyExists
	}
	now := s.now().UTC()
	epoch := now.UnixMilli()
	meta := &streamMeta{Version: metaVersion, Name: name, Epoch: epoch, CreatedAt: now,
		RetentionHours: DefaultRetentionHours, NextShardIndex: uint32(shardCount)}
	for i, rng := range UniformRanges(shardCount) {
		meta.Shards = append(meta.Shards, shardMeta{Index: uint32(i), StartHashKey: rng.Start.String(), EndHashKey: rng.End.String(), CreatedAt: now})
	}
	attrs(meta)
	// Build the stream in a temp dir and rename it into place, so a crash leaves
	// either no stream or a whole one. The stream's LOCK is taken inside the temp
	// dir, so the stream is owned from the moment its name appears (a flock
	// belongs to the file, which the rename moves), and a store cleaning up
	// leftovers sees that the temp dir is in use.
	tmp, err := os.MkdirTemp(streamsDir, ".tmp-")
	if err != nil {
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	lock, err := lockNewStream(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	fail := func(err error) error {
		lock.Close()
		os.RemoveAll(tmp)
		return err
	}
	if err := writeMeta(tmp, meta); err != nil {
		return fail(fmt.Errorf("create stream %s: %w", name, err))
	}
	stamp, err := os.Stat(filepath.Join(tmp, metaFile))
	if err != nil {
		return fail(fmt.Errorf("create stream %s: %w", name, err))
	}
	// rename(2) replaces only an empty directory: a stream directory always holds
	// stream.json, so when two processes create one name, exactly one wins.
	if err := os.Rename(tmp, dir); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return fail(alreadyExists)
		}
		return fail(fmt.Errorf("create stream %s: %w", name, err))
	}
	if err := syncDir(streamsDir); err != nil {
		lock.Close()
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	st := &stream{name: name, dir: dir, meta: meta, shards: map[uint32]*shard{}, lock: lock, metaStamp: stamp}
	for _, sm := range meta.Shards {
		st.shards[sm.Index] = newShard(filepath.Join(dir, ShardID(sm.Index)), sm.Index, epoch, s.opts.SegmentBytes)
	}
	st.rebuildRouting()
	st.owned.Store(true)
	s.mu.Lock()
	stale := s.streams[name] // a stream of this name that another process deleted
	s.streams[name] = st
	s.mu.Unlock()
	if stale != nil {
		stale.markDeleted()
		stale.releaseLock()
	}
	return nil
}

// DeleteStream removes a stream and all its records, and its consumers,
// becoming its writer first. Puts and reads in flight fail; other processes see
// the stream vanish when they Refresh.
func (s *Store) DeleteStream(name string) error {
	return s.DeleteStreamWith(name, DeleteOptions{EnforceConsumerDeletion: true})
}

// DeleteStreamWith deletes a stream as DeleteStream does; without
// o.EnforceConsumerDeletion it fails with ErrInUse, deleting nothing, when the
// stream has registered consumers.
func (s *Store) DeleteStreamWith(name string, o DeleteOptions) error {
	st, err := s.writeStream(name)
	if err != nil {
		return err
	}
	s.diskMu.Lock()
	defer s.diskMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	// The stream is marked deleted, under its lock, before it leaves s.streams:
	// the consumer check and the deletion are one step for every other change.
	st.mu.Lock()
	if err := st.writableLocked(s); err != nil {
		st.mu.Unlock()
		return err
	}
	if n := len(st.meta.Consumers); n > 0 && !o.EnforceConsumerDeletion {
		st.mu.Unlock()
		return errorf(ErrInUse, "Stream %s has %d registered consumers; deregister them first, or delete it with EnforceConsumerDeletion.", name, n)
	}
	st.deleted = true
	st.closeShards()
	st.mu.Unlock()
	s.mu.Lock()
	if s.streams[name] == st {
		delete(s.streams, name)
	}
	s.mu.Unlock()
	// The LOCK stays held until the files are gone, so a store cleaning up
	// leftovers leaves a delete in progress alone.
	defer st.releaseLock()
	streamsDir := filepath.Join(s.dir, "streams")
	gone := filepath.Join(streamsDir, fmt.Sprintf(".deleted-%s-%d-%d", name, os.Getpid(), time.Now().UnixNano()))
	if err := os.Rename(st.dir, gone); err != nil {
		return fmt.Errorf("delete stream %s: %w", name, err)
	}
	// A rename leaves the directory's mtime as it was; the age of a leftover is
	// judged by it.
	now := time.Now()
	if err := os.Chtimes(gone, now, now); err != nil {
		return fmt.Errorf("delete stream %s: %w", name, err)
	}
	if err := syncDir(streamsDir); err != nil {
		return fmt.Errorf("delete stream %s: %w", name, err)
	}
	if err := removeLockedDir(gone); err != nil {
		return fmt.Errorf("delete stream %s: %w", name, err)
	}
	return nil
}

// ListStreams returns the stream names in order.
func (s *Store) ListStreams() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.streams))
	for n := range s.streams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// StreamDescription describes a stream, its attributes and every shard it
// still has.
type StreamDescription struct {
	Name           string
	Status         string    // ACTIVE
	CreatedAt      time.Time // StreamCreationTimestamp
	RetentionHours int
	Epoch          int64
	OpenShards     int
	Shards         []ShardDescription

	Mode            string            // ModeProvisioned or ModeOnDemand
	EncryptionType  string            // EncryptionNone or EncryptionKMS
	KeyID           string            // the KMS key with EncryptionKMS, else ""
	EnhancedMetrics []string          // enabled shard-level metrics in AllMetrics' order; nil when none
	Tags            map[string]string // nil when none
	Consumers       []Consumer        // in registration order; nil when none
}

// ShardDescription describes one shard, as Kinesis' Shard shape does, plus what
// the store holds in it.
type ShardDescription struct {
	ShardID                string
	ParentShardID          string // "" when none
	AdjacentParentShardID  string // "" when none
	HashKeyRange           HashKeyRange
	StartingSequenceNumber string
	EndingSequenceNumber   string // "" while the shard is open
	Open                   bool
	CreatedAt              time.Time
	ClosedAt               time.Time // zero while open
	Records                uint64    // records retained on disk
	Bytes                  int64     // bytes of segment files
	Segments               int
}

// DescribeStream returns the stream's shards in index order.
func (s *Store) DescribeStream(name string) (StreamDescription, error) {
	st, err := s.stream(name)
	if err != nil {
		return StreamDescription{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.deleted {
		return StreamDescription{}, errorf(ErrNotFound, "stream %q does not exist in %s", name, s.dir)
	}
	d := StreamDescription{Name: st.name, Status: "ACTIVE", CreatedAt: st.meta.CreatedAt, RetentionHours: st.meta.RetentionHours, Epoch: st.meta.Epoch}
	describeAttrs(&d, st.meta)
	for _, sm := range st.meta.Shards {
		d.Shards = append(d.Shards, st.describeShard(sm))
		if sm.open() {
			d.OpenShards++
		}
	}
	return d, nil
}

func (st *stream) describeShard(sm shardMeta) ShardDescription {
	sd := ShardDescription{
		ShardID:                ShardID(sm.Index),
		HashKeyRange:           sm.hashRange(),
		StartingSequenceNumber: SequenceNumber{Epoch: st.meta.Epoch, Shard: sm.Index, ArrivalMicros: sm.CreatedAt.UnixMicro()}.String(),
		Open:                   sm.open(),
		CreatedAt:              sm.CreatedAt,
	}
	if sm.Parent != nil {
		sd.ParentShardID = ShardID(*sm.Parent)
	}
	if sm.AdjacentParent != nil {
		sd.AdjacentParentShardID = ShardID(*sm.AdjacentParent)
	}
	if !sm.open() {
		sd.ClosedAt = *sm.ClosedAt
		sd.EndingSequenceNumber = sd.StartingSequenceNumber
		if sm.EndOrdinal > 0 {
			sd.EndingSequenceNumber = SequenceNumber{Epoch: st.meta.Epoch, Shard: sm.Index, Ordinal: sm.EndOrdinal - 1, ArrivalMicros: sm.EndingArrivalNs / 1000}.String()
		}
	}
	if sh := st.shards[sm.Index]; sh != nil {
		views, _ := sh.snapshot()
		for _, v := range views {
			sd.Records += v.stats.count
			sd.Bytes += v.stats.size
		}
		sd.Segments = len(views)
	}
	return sd
}

// SetRetention changes how long records are kept, in hours (24 to 8760). The
// store becomes the stream's writer.
func (s *Store) SetRetention(name string, hours int) error {
	if err := s.writable(); err != nil {
		return err
	}
	if hours < MinRetentionHours || hours > MaxRetentionHours {
		return errorf(ErrInvalidArgument, "retention %d hours is out of range; it must be %d to %d hours", hours, MinRetentionHours, MaxRetentionHours)
	}
	st, err := s.writeStream(name)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.writableLocked(s); err != nil {
		return err
	}
	next := *st.meta
	next.RetentionHours = hours
	if err := writeMeta(st.dir, &next); err != nil {
		return fmt.Errorf("set retention of %s: %w", name, err)
	}
	st.meta = &next
	return nil
}

// RetentionReport says what EnforceRetention removed.
type RetentionReport struct {
	SegmentsRemoved int
	ShardsRemoved   []string // closed shards whose every record expired
}

// EnforceRetention deletes, in every stream this store writes (owns), whole
// segments whose records are all older than the stream's retention, and closed
// shards that hold nothing within it. Streams written by other processes are
// left to their writers, which enforce retention when they take a stream over
// and whenever they call EnforceRetention. Reads never return expired records
// whether or not their segment is gone yet.
func (s *Store) EnforceRetention() (RetentionReport, error) {
	var rep RetentionReport
	if err := s.writable(); err != nil {
		return rep, err
	}
	s.mu.RLock()
	streams := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		if st.owned.Load() {
			streams = append(streams, st)
		}
	}
	s.mu.RUnlock()
	now := s.now()
	for _, st := range streams {
		if err := s.enforceStreamRetention(st, now, &rep); err != nil {
			return rep, err
		}
	}
	if rep.SegmentsRemoved > 0 || len(rep.ShardsRemoved) > 0 {
		s.log.Info("streamstore retention", "segments_removed", rep.SegmentsRemoved, "shards_removed", rep.ShardsRemoved)
	}
	return rep, nil
}

func (s *Store) enforceStreamRetention(st *stream, now time.Time, rep *RetentionReport) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.deleted || st.closed {
		return nil
	}
	cutoff := now.Add(-time.Duration(st.meta.RetentionHours) * time.Hour)
	for _, sh := range st.shards {
		n, err := sh.trimSegments(cutoff.UnixNano())
		if err != nil {
			return fmt.Errorf("stream %s: %w", st.name, err)
		}
		rep.SegmentsRemoved += n
	}
	// A closed shard goes once it was closed longer ago than the retention period:
	// by then every record in it has expired, as Kinesis drops closed shards.
	next := *st.meta
	next.Shards = next.Shards[:0:0]
	var removed []*shard
	for _, sm := range st.meta.Shards {
		if !sm.open() && sm.ClosedAt.Before(cutoff) {
			removed = append(removed, st.shards[sm.Index])
			rep.ShardsRemoved = append(rep.ShardsRemoved, ShardID(sm.Index))
			continue
		}
		next.Shards = append(next.Shards, sm)
	}
	if len(removed) == 0 {
		return nil
	}
	if err := writeMeta(st.dir, &next); err != nil {
		return fmt.Errorf("stream %s: %w", st.name, err)
	}
	st.meta = &next
	for _, sh := range removed {
		sh.close()
		delete(st.shards, sh.index)
		if err := os.RemoveAll(sh.dir); err != nil {
			return fmt.Errorf("stream %s: remove expired shard %s: %w", st.name, sh.id, err)
		}
	}
	return nil
}
