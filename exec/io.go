package exec

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Source produces decoded batches from a connector, shard by shard. Exec knows
// sources only through this interface, so the embedded store, a Kinesis endpoint
// and real AWS are interchangeable by configuration.
type Source interface {
	// Next returns the next batch from any split. It blocks until data is
	// available, ctx ends, or (for a bounded source) every split has reached the
	// end it had when the source was opened, when it returns io.EOF. A source
	// returns a batch with a nil Record now and then when a split is idle, so the
	// runtime can tell idleness from slowness.
	Next(ctx context.Context) (SourceBatch, error)
	// Close releases the source.
	Close() error
}

// SplitLister is implemented by sources that know their splits before reading
// them. The runtime holds the event-time watermark back until every listed split
// has produced data or gone idle, so a shard that is read later than another does
// not find its windows already closed.
type SplitLister interface {
	// ActiveSplits returns the splits being read now (cheap; called per batch).
	ActiveSplits() []string
}

// SourceBatch is a run of consecutive records of one split (shard), decoded.
type SourceBatch struct {
	Split string // the shard id
	// Record holds the decoded rows in the source's projected schema (the
	// columns the query needs, ROWTIME included when needed). May be nil.
	// The runtime owns it and releases it once the batch is processed.
	Record arrow.RecordBatch
	// Errors are the records of this run that failed to decode.
	Errors []ErrorRecord
	// Position is the sequence number of the last record of the run (decoded
	// or not), where a checkpoint resumes after.
	Position string
	// SplitDone is set when the split is closed and read to its end; splits
	// that continue it (children after a reshard) then appear.
	SplitDone bool
	// Arrival is the arrival time of the newest record of the run, or, for an
	// idle heartbeat, the time the source last looked.
	Arrival time.Time
}

// Error kinds of the error stream.
const (
	ErrorDecode = "decode" // the record could not be decoded into the stream's columns
	ErrorLate   = "late"   // the row's event time was behind the watermark
	ErrorEval   = "eval"   // an expression failed on the row (a bad cast, division by zero)
)

// ErrorRecord is one entry of an application's error stream: a record or row
// that could not be processed, with where it came from and why. Nothing is
// dropped silently.
type ErrorRecord struct {
	Kind     string    // ErrorDecode, ErrorLate, ErrorEval
	Source   string    // the SQL stream name
	Split    string    // shard id
	Position string    // sequence number of the record
	Raw      []byte    // the record's bytes as stored (for decode errors), or the row as JSON
	Reason   string    // what went wrong, naming the column and value
	At       time.Time // when the error was detected
	Rowtime  time.Time // the record's arrival time
}

// Sink consumes result batches. Exec calls Write from one goroutine.
type Sink interface {
	// Write consumes rows of the query's output schema. The sink must not
	// retain rec after returning unless it calls rec.Retain.
	Write(ctx context.Context, rec arrow.RecordBatch) error
	// Flush makes everything written so far visible (files synced, records put).
	Flush(ctx context.Context) error
	// Close flushes and releases the sink.
	Close() error
}

// CommittingSink is a sink whose rows become visible only once the
// checkpoint that covers them is complete, which makes its output exactly
// once across crashes. Exec calls these from the goroutine that calls Write.
type CommittingSink interface {
	Sink
	// Prepare makes the rows written since the last Prepare durable, as
	// checkpoint id's, without making them visible, and returns a small state
	// (stored in the checkpoint) that lets Commit or Recover finish the job
	// after a crash.
	Prepare(ctx context.Context, id int64) ([]byte, error)
	// Commit makes the rows prepared for checkpoint id visible, once its
	// checkpoint is complete. Committing again is harmless.
	Commit(ctx context.Context, id int64, state []byte) error
	// Recover runs once before the first Write of a run restored from
	// checkpoint id (state is what Prepare returned for it): it commits that
	// checkpoint's rows unless already done, and discards every row prepared
	// or written after it. id 0 with nil state is a run from no checkpoint:
	// discard whatever was never committed.
	Recover(ctx context.Context, id int64, state []byte) error
}

// ErrorSink receives error records.
type ErrorSink interface {
	WriteErrors(ctx context.Context, errs []ErrorRecord) error
}
