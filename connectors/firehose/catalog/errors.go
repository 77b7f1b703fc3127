package catalog

import (
	"errors"
	"fmt"
)

// Error kinds. Every error the catalog returns for bad input or a missing or
// busy delivery stream wraps exactly one of these.
var (
	// ErrNotFound: no delivery stream of the name (ResourceNotFoundException).
	ErrNotFound = errors.New("not found")
	// ErrInUse: the name is taken or the stream is busy (ResourceInUseException).
	ErrInUse = errors.New("resource in use")
	// ErrInvalidArgument: the request breaks a rule (InvalidArgumentException).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrLimitExceeded: a quota would be passed (LimitExceededException).
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrConcurrentModification: the version id the caller read is no longer
	// current (ConcurrentModificationException).
	ErrConcurrentModification = errors.New("concurrent modification")
)

// Error is a catalog error of one kind with the message a client should see.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// DamagedError reports a delivery stream file that Open could not load. The
// name stays reserved (creating it again fails) until the file is repaired or
// its directory removed.
type DamagedError struct {
	Name string
	Path string
	Err  error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("delivery stream %s: %s is damaged (%v); repair it or remove its directory %s", e.Name, e.Path, e.Err, dirOf(e.Path))
}

func (e *DamagedError) Unwrap() error { return e.Err }
