package awsproto

//go:generate go run ../internal/gen -errors errors_gen.go ../../../../shared/aws-models/kinesis-2013-12-02.json

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Fault says who AWS blames for an error: the caller (4xx) or the service (5xx).
type Fault int

// The faults of AWS error types.
const (
	FaultClient Fault = iota + 1
	FaultServer
)

func (f Fault) String() string {
	if f == FaultServer {
		return "Server"
	}
	return "Client"
}

// ErrorType is an AWS error type: the name AWS puts in __type and
// x-amzn-ErrorType, its HTTP status and fault. The table of them is generated from
// the service models (errors_gen.go).
type ErrorType struct {
	Name   string
	Status int
	Fault  Fault
}

// LookupErrorType returns the error type named name. A name that no model and
// no protocol rule defines is a client error with status 400, as AWS SDKs
// treat an unknown 4xx.
func LookupErrorType(name string) ErrorType {
	if t, ok := errorTypeTable(name); ok {
		return t
	}
	return ErrorType{Name: name, Status: 400, Fault: FaultClient}
}

// KnownErrorType says whether name is in the generated table.
func KnownErrorType(name string) bool {
	_, ok := errorTypeTable(name)
	return ok
}

// ErrorTypes lists the error types of the table, by name.
func ErrorTypes() []ErrorType {
	names := errorTypeNames()
	out := make([]ErrorType, len(names))
	for i, n := range names {
		out[i], _ = errorTypeTable(n)
	}
	return out
}

// Names of the error types this package itself answers with.
const (
	ErrUnknownOperation     = "UnknownOperationException"
	ErrSerialization        = "SerializationException"
	ErrValidation           = "ValidationException"
	ErrUnsupportedOperation = "UnsupportedOperationException"
	ErrRequestTooLarge      = "RequestEntityTooLargeException"
	ErrInternalFailure      = "InternalFailure"
)

// Error is an error as an AWS service answers it: a type from the table and a
// message. Handlers return *Error (or wrap one) to choose what the client sees;
// any other error is answered as InternalFailure.
type Error struct {
	Type    string
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// Status is the HTTP status of the error's type.
func (e *Error) Status() int { return LookupErrorType(e.Type).Status }

// Errorf returns an *Error of type typ with a formatted message.
func Errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ValidationErrors collects the constraint violations of one request and
// formats them as AWS does: "1 validation error detected: X" or "N validation
// errors detected: X; Y".
type ValidationErrors []string

// Err returns the ValidationException for the collected violations, or nil.
func (v ValidationErrors) Err() error {
	if len(v) == 0 {
		return nil
	}
	head := "1 validation error detected: "
	if len(v) > 1 {
		head = strconv.Itoa(len(v)) + " validation errors detected: "
	}
	return &Error{Type: ErrValidation, Message: head + strings.Join(v, "; ")}
}
