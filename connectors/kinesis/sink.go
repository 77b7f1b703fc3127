package kinesis

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

// SinkConfig configures an EmbeddedSink.
type SinkConfig struct {
	// Name is the SQL sink's name, for errors.
	Name string
	// Stream is the store stream written; it must exist.
	Stream string
	// Schema is the rows' schema.
	Schema types.Schema
	// PartitionKey names the column whose value is each record's partition key
	// (its text as the CSV encoder writes it). Empty, or a NULL or empty
	// value, means a random key, which spreads rows over the shards.
	PartitionKey string
}

// EmbeddedSink writes rows into a stream of the embedded store, each row one
// JSON record (format.Encoder's json form), as an exec.Sink and an
// exec.CommittingSink.
//
// Without checkpoints (the engine never calls Recover) Write puts all its rows
// before it returns, in PutRecords batches of up to 500 records and 5 MiB;
// records are durable once put, so Flush has nothing left to do. After a crash
// the stream keeps what was put, and a restarted run puts again whatever it
// recomputes, so rows may repeat.
//
// With checkpoints every row reaches the stream exactly once. Recover, called
// before the first Write, makes the sink committing; it owns its stream
// (Store.Own) and takes DATA_DIR/sinks/STREAM.sink/LOCK, so one committing
// sink writes a stream. Write then appends each record (partition key and
// data) to DATA_DIR/sinks/STREAM.sink/inprogress and puts nothing: no record
// reaches the stream before Commit. Prepare(id) syncs that file and renames it
// to ID.pending; its state is the records' count, length and CRC-32C. Commit(id)
// first writes ID.commit, the stream's epoch and the next ordinal (how many
// records it ever held) of every open shard, then puts the pending records in
// order, then removes the pending file and the marker. A Commit interrupted
// by a crash is finished by Recover (or by a Commit retried after an error):
// since the sink is the stream's only writer, a shard's records after the
// marker's ordinal are a prefix of the pending records routed to it by the
// marker's layout; the redo checks them against the pending ones and puts
// only the rest, in order. Recover(id) finishes the commits of id and every
// earlier checkpoint, and removes the pending files of later ones and the
// in-progress file; Recover(0, nil) only removes. Commit(id) commits every
// checkpoint up to id, so prepared, uncommitted checkpoints may pile up
// (Prepare(id+1) before Commit(id)). Readers see a checkpoint's records
// appear while its Commit runs, and after a crash in one see part of them
// until Recover puts the rest.
//
// Limits. A reshard of the stream while a Commit runs (possible only through
// the sink's own store, which holds the stream's lock) makes a redo of that
// commit put again what went to the new shards; a reshard between a crash and
// Recover is fine, as the redo routes by the marker's layout, unless retention
// has removed the closed shards it names, when Recover fails. A stream deleted
// and created again between a crash and Recover receives the whole
// checkpoint. Records put by another writer after a crash, into the shards a
// commit was filling, make Recover fail rather than guess. A stream cannot
// take records back: if the engine restores a checkpoint older than one
// already committed, the newer one's records stay.
type EmbeddedSink struct {
	store  *streamstore.Store
	cfg    SinkConfig
	enc    format.Encoder
	keyCol int // -1: random keys
	rng    *rand.Rand
	batch  []streamstore.PutEntry
	bytes  int
	keyBuf []byte

	direct bool           // Write has put rows: no Recover now
	c      *sinkCommitter // set by Recover: the committing mode
	// putHook, when set, puts a commit's batches instead of the store (tests
	// simulate crashes with it).
	putHook func(ctx context.Context, entries []streamstore.PutEntry) error
}

var (
	_ exec.Sink      = (*EmbeddedSink)(nil)
	_ exec.ErrorSink = (*EmbeddedErrorSink)(nil)
)

// NewEmbeddedSink checks the stream and the partition key column and returns a sink.
func NewEmbeddedSink(store *streamstore.Store, cfg SinkConfig) (*EmbeddedSink, error) {
	if cfg.Stream == "" {
		return nil, fmt.Errorf("kinesis sink %s: option stream is required", cfg.Name)
	}
	if _, err := store.DescribeStream(cfg.Stream); err != nil {
		return nil, fmt.Errorf("kinesis sink %s: stream %q: %w", cfg.Name, cfg.Stream, err)
	}
	enc, err := format.NewEncoder("json", cfg.Schema, nil)
	if err != nil {
		return nil, fmt.Errorf("kinesis sink %s: %w", cfg.Name, err)
	}
	s := &EmbeddedSink{store: store, cfg: cfg, enc: enc, keyCol: -1, rng: newRand()}
	if cfg.PartitionKey != "" {
		s.keyCol = cfg.Schema.Index(cfg.PartitionKey)
		if s.keyCol < 0 {
			names := make([]string, len(cfg.Schema))
			for i, c := range cfg.Schema {
				names[i] = c.Name
			}
			return nil, fmt.Errorf("kinesis sink %s: option partition_key = %q is not a column of the output (%s)", cfg.Name, cfg.PartitionKey, strings.Join(names, ", "))
		}
	}
	return s, nil
}

func newRand() *rand.Rand {
	now := uint64(time.Now().UnixNano())
	return rand.New(rand.NewPCG(now, now>>17^0x9e3779b97f4a7c15))
}

// randomKey returns a random 16-hex-digit partition key.
func randomKey(r *rand.Rand) string {
	var b [8]byte
	v := r.Uint64()
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// partitionKey returns the key of row i.
func (s *EmbeddedSink) partitionKey(rec arrow.RecordBatch, i int) string {
	if s.keyCol < 0 || rec.Column(s.keyCol).IsNull(i) {
		return randomKey(s.rng)
	}
	s.keyBuf = format.AppendText(s.keyBuf[:0], rec.Column(s.keyCol), i)
	if len(s.keyBuf) == 0 {
		return randomKey(s.rng)
	}
	return truncateKey(string(s.keyBuf))
}

// truncateKey cuts a key to the 256 characters Kinesis allows, and makes it
// valid UTF-8.
func truncateKey(k string) string {
	if !utf8.ValidString(k) {
		k = strings.ToValidUTF8(k, "\uFFFD")
	}
	if utf8.RuneCountInString(k) <= streamstore.MaxPartitionKeyChars {
		return k
	}
	n := 0
	for i := range k {
		if n == streamstore.MaxPartitionKeyChars {
			return k[:i]
		}
		n++
	}
	return k
}

// Write puts every row of rec as one record; a committing sink keeps them
// for Prepare and Commit.
func (s *EmbeddedSink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.c != nil {
		return s.writePending(rec)
	}
	s.direct = true
	err := s.enc.EachRow(rec, func(i int, text []byte) error {
		key := s.partitionKey(rec, i)
		size := len(text) + len(key)
		if size > streamstore.MaxRecordBytes {
			return fmt.Errorf("kinesis sink %s: row %d encodes to %d bytes with its partition key; a record holds at most %d (1 MiB)", s.cfg.Name, i, size, streamstore.MaxRecordBytes)
		}
		if len(s.batch) == streamstore.MaxBatchRecords || s.bytes+size > streamstore.MaxBatchBytes {
			if err := s.put(ctx); err != nil {
				return err
			}
		}
		s.batch = append(s.batch, streamstore.PutEntry{PartitionKey: key, Data: append([]byte(nil), text...)})
		s.bytes += size
		return nil
	})
	if err == nil {
		err = s.put(ctx)
	}
	if err != nil {
		s.batch, s.bytes = s.batch[:0], 0
	}
	return err
}

func (s *EmbeddedSink) put(ctx context.Context) error {
	if len(s.batch) == 0 {
		return nil
	}
	if _, err := s.store.PutRecords(ctx, s.cfg.Stream, s.batch); err != nil {
		return fmt.Errorf("kinesis sink %s: put %d records into stream %q: %w", s.cfg.Name, len(s.batch), s.cfg.Stream, err)
	}
	clear(s.batch)
	s.batch, s.bytes = s.batch[:0], 0
	return nil
}

// Flush does nothing: Write returns once its records are durable. A
// committing sink hands its buffer to the in-progress file, and makes nothing
// visible.
func (s *EmbeddedSink) Flush(ctx context.Context) error {
	if s.c != nil {
		return s.flushInProgress()
	}
	return nil
}

// Close releases nothing but, when committing, the sink's files: it removes
// the in-progress file, whose records no checkpoint covers, and leaves
// prepared checkpoints to Commit or the next Recover. The store belongs to the
// caller.
func (s *EmbeddedSink) Close() error {
	if s.c != nil {
		if err := s.c.close(); err != nil {
			return s.errorf("close: %w", err)
		}
	}
	return nil
}

// EmbeddedErrorSink writes error records into a stream of the embedded store,
// each as one JSON record (format.AppendErrorRecord), keyed by its shard.
type EmbeddedErrorSink struct {
	store  *streamstore.Store
	stream string
	rng    *rand.Rand
}

// NewEmbeddedErrorSink checks that stream exists and returns an error sink.
func NewEmbeddedErrorSink(store *streamstore.Store, stream string) (*EmbeddedErrorSink, error) {
	if _, err := store.DescribeStream(stream); err != nil {
		return nil, fmt.Errorf("kinesis error sink: stream %q: %w", stream, err)
	}
	return &EmbeddedErrorSink{store: store, stream: stream, rng: newRand()}, nil
}

// WriteErrors puts one record per error. An error whose record would pass 1
// MiB (its raw bytes in base64) keeps only the first part of Raw, and its
// reason says so.
func (s *EmbeddedErrorSink) WriteErrors(ctx context.Context, errs []exec.ErrorRecord) error {
	var batch []streamstore.PutEntry
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := s.store.PutRecords(ctx, s.stream, batch); err != nil {
			return fmt.Errorf("kinesis error sink: put %d records into stream %q: %w", len(batch), s.stream, err)
		}
		batch, size = batch[:0], 0
		return nil
	}
	for _, e := range errs {
		key := e.Split
		if key == "" {
			key = e.Source
		}
		if key == "" {
			key = randomKey(s.rng)
		}
		key = truncateKey(key)
		data := format.AppendErrorRecord(nil, e)
		for keep := len(e.Raw) / 2; len(data)+len(key) > streamstore.MaxRecordBytes; keep /= 2 {
			cut := e
			cut.Raw = e.Raw[:keep]
			cut.Reason = fmt.Sprintf("%s (raw cut to its first %d of %d bytes)", e.Reason, keep, len(e.Raw))
			data = format.AppendErrorRecord(nil, cut)
		}
		if len(batch) == streamstore.MaxBatchRecords || size+len(data)+len(key) > streamstore.MaxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, streamstore.PutEntry{PartitionKey: key, Data: data})
		size += len(data) + len(key)
	}
	return flush()
}
