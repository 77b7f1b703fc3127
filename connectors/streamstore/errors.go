package streamstore

import (
	"errors"
	"fmt"
)

// Error kinds. Every error the store returns for bad input or a missing resource
// wraps exactly one of these, so callers (the CLI, the Kinesis API) can map them to
// exit codes and AWS error types with errors.Is.
var (
	// ErrNotFound: the stream or shard does not exist (ResourceNotFoundException).
	ErrNotFound = errors.New("not found")
	// ErrInvalidArgument: a request violates a rule (InvalidArgumentException).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInUse: the resource exists or is busy (ResourceInUseException).
	ErrInUse = errors.New("resource in use")
	// ErrLimitExceeded: a configured limit would be passed (LimitExceededException).
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrLocked: another Store, in another process or in this one, is the writer
	// of the stream (or an older eddy holds the whole data directory).
	ErrLocked = errors.New("locked by another writer")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrReadOnly: a write was attempted on a store opened read-only.
	ErrReadOnly = errors.New("store opened read-only")
)

// CorruptionError reports a damaged frame in a segment file: where it is and why.
type CorruptionError struct {
	Segment string // path of the segment file
	Offset  int64  // byte offset of the damaged frame
	Err     error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("corrupt segment %s at offset %d: %v", e.Segment, e.Offset, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// Repair describes data the store dropped when it became a stream's writer: a
// torn or corrupt tail that was truncated, or a stray file that was removed. Only records that were
// never acknowledged can be in a torn tail, because a put is acknowledged after fsync.
type Repair struct {
	Stream       string
	Shard        string
	Segment      string
	Offset       int64 // where the file was truncated
	DroppedBytes int64
	Reason       string
}

func (r Repair) String() string {
	if r.Shard == "" {
		return fmt.Sprintf("stream %s: %s", r.Stream, r.Reason)
	}
	if r.Offset == 0 && r.DroppedBytes == 0 {
		return fmt.Sprintf("stream %s shard %s: %s: %s", r.Stream, r.Shard, r.Segment, r.Reason)
	}
	return fmt.Sprintf("stream %s shard %s: truncated %s at offset %d, dropped %d bytes: %s",
		r.Stream, r.Shard, r.Segment, r.Offset, r.DroppedBytes, r.Reason)
}

// Error is a store error of one kind (ErrNotFound, ErrInvalidArgument, ...) with a
// message that names the value and the rule it broke. errors.Is(err, kind) holds.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
