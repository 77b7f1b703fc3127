package awsproto

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxBodyBytes bounds a request body; the server reads no more than
// this. It is derived from the largest request the Kinesis model allows:
// PutRecords with 10 MiB of data (Data max 10485760, its 10 MiB request limit),
// base64 in JSON (4/3: 13,981,016 bytes), plus 500 partition keys of 256
// characters each escaped as \uXXXX (768,000 bytes), explicit hash keys and
// framing: under 15 MB, so 16 MiB. CBOR bodies carry raw bytes and are smaller.
// (The store itself accepts 5 MiB per batch and 1 MiB per record and answers
// larger ones with InvalidArgumentException; the wire limit only keeps a
// client from making the server read without end.)
const DefaultMaxBodyBytes = 16 << 20

// ServerOptions configure a Server.
type ServerOptions struct {
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes). A larger
	// body is refused with RequestEntityTooLargeException (413) before it is decoded.
	MaxBodyBytes int64
	// InternalErrorType is the error type of unexpected failures and panics
	// (default InternalFailure; Kinesis' model calls it InternalFailureException).
	InternalErrorType string
	// Authenticate, when set, checks every request before its body is decoded; it
	// sees the raw body, for the payload hash of a signature. An error it returns
	// is answered as it is (an *Error keeps its type).
	Authenticate func(r *http.Request, body []byte) error
	// Logger receives internal failures; nil discards.
	Logger *slog.Logger
}

// Request is one decoded call of an operation.
type Request struct {
	HTTP      *http.Request
	Operation string
	RequestID string
	Encoding  Encoding
	// Input is the normalized input (see Bind), already validated against the
	// model's constraints.
	Input map[string]any
}

// Streamer is the output of an operation that answers with a stream (an
// event stream, as SubscribeToShard's): Stream writes the whole response,
// status and headers included, encoding payloads with encode (the request's
// encoding), until it is done or the client goes away.
type Streamer interface {
	Stream(w http.ResponseWriter, r *http.Request, encode func(any) ([]byte, error))
}

// HandlerFunc runs an operation. It returns the output (nil for operations with
// no output: the client gets an empty structure) or an error (an *Error chooses
// the type the client sees; any other error is an internal failure).
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// Server serves an AWS JSON 1.1 service over HTTP: it routes by X-Amz-Target,
// reads bodies through a size limit, decodes JSON or CBOR, validates the input
// against the model, calls the operation's handler and answers in the
// request's encoding, errors as AWS sends them. Operations of the model with no
// handler answer UnsupportedOperationException.
type Server struct {
	svc      *Service
	opts     ServerOptions
	log      *slog.Logger
	codec    codec
	handlers map[string]HandlerFunc
	// fast holds the fast paths of operations (see HandleFast).
	fast map[string]func(ctx context.Context, req *Request, body []byte) (out any, ok bool, err error)
	// bodies recycles request body buffers: a PutRecords body is ~140 KB, and
	// nothing decoded from it aliases it (strings are copied, blobs are carved
	// from the decoder's own arena), so it can be reused once the call returns.
	bodies sync.Pool
}

// NewServer returns a server for svc with no handlers; add them with Handle
// before serving.
func NewServer(svc *Service, opts ServerOptions) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.InternalErrorType == "" {
		opts.InternalErrorType = ErrInternalFailure
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := newCodec()
	if err != nil {
		return nil, err
	}
	srv := &Server{svc: svc, opts: opts, log: log, codec: c, handlers: map[string]HandlerFunc{},
		fast: map[string]func(context.Context, *Request, []byte) (any, bool, error){}}
	srv.bodies.New = func() any { return new([]byte) }
	return srv, nil
}

// Handle sets the handler of an operation of the model. It panics on a name the
// model does not have, which is a programming error.
func (s *Server) Handle(op string, fn HandlerFunc) {
	if _, ok := s.svc.Operations[op]; !ok {
		panic(fmt.Sprintf("awsproto: %s has no operation %s", s.svc.TargetPrefix, op))
	}
	s.handlers[op] = fn
}

// Handle sets a handler that receives the input bound to an *In (see Bind).
// The binding of In is compiled once, here; Handle panics when In cannot be
// bound (see Bind), which is a programming error.
func Handle[In any](s *Server, op string, fn func(ctx context.Context, req *Request, in *In) (any, error)) {
	b, err := compileBinder(reflect.TypeFor[In](), map[reflect.Type]*binder{})
	if err != nil {
		panic(fmt.Sprintf("awsproto: input of %s: %v", op, err))
	}
	s.Handle(op, func(ctx context.Context, req *Request) (any, error) {
		in := new(In)
		if err := b.bind(reflect.ValueOf(in).Elem(), req.Input); err != nil {
			return nil, serializationError("%v", err)
		}
		return fn(ctx, req, in)
	})
}

// Handled says whether op has a handler.
// HandleFast registers op's handler, as Handle does, with a fast path for
// the common shape of its JSON input: when fast accepts a body, the generic
// decoding into a tree, the model's validation and the binding are skipped
// and fn gets fast's value. fast must accept only bodies that the generic
// path accepts and decode them to the same value (a differential fuzz test
// should hold it to that); anything else it leaves (ok false) to the generic
// path, which words the errors.
func HandleFast[In any](s *Server, op string, fast func(body []byte) (*In, bool), fn func(ctx context.Context, req *Request, in *In) (any, error)) {
	Handle(s, op, fn)
	s.fast[op] = func(ctx context.Context, req *Request, body []byte) (any, bool, error) {
		in, ok := fast(body)
		if !ok {
			return nil, false, nil
		}
		out, err := fn(ctx, req, in)
		return out, true, err
	}
}

func (s *Server) Handled(op string) bool {
	_, ok := s.handlers[op]
	return ok
}

// NewRequestID returns a random request id in the UUID form AWS uses.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := NewRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	enc := EncodingOf(r.Header.Get("Content-Type"))
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "request_id", reqID, "target", r.Header.Get("X-Amz-Target"), "panic", p, "stack", string(debug.Stack()))
			s.writeError(w, enc, Errorf(s.opts.InternalErrorType, "Internal service failure."))
		}
	}()
	out, err := s.serve(w, r, reqID, enc)
	if err != nil {
		s.writeError(w, enc, s.asAWSError(err, reqID, r))
		return
	}
	if st, ok := out.(Streamer); ok {
		st.Stream(w, r, func(v any) ([]byte, error) { return s.codec.encode(enc, v) })
		return
	}
	body, err := s.codec.encode(enc, out)
	if err != nil {
		s.writeError(w, enc, s.asAWSError(err, reqID, r))
		return
	}
	w.Header().Set("Content-Type", enc.ContentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, reqID string, enc Encoding) (any, error) {
	target := r.Header.Get("X-Amz-Target")
	prefix, opName, ok := strings.Cut(target, ".")
	op := s.svc.Operations[opName]
	if !ok || prefix != s.svc.TargetPrefix || op == nil || r.Method != http.MethodPost {
		if target == "" {
			return nil, Errorf(ErrUnknownOperation, "The request has no X-Amz-Target header; it must name an operation as %s.OperationName.", s.svc.TargetPrefix)
		}
		return nil, Errorf(ErrUnknownOperation, "Operation %s is not known to this service (%s).", target, s.svc.TargetPrefix)
	}
	buf := s.bodies.Get().(*[]byte)
	defer s.bodies.Put(buf)
	body, err := readBody(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes), r.ContentLength, s.opts.MaxBodyBytes, (*buf)[:0])
	if cap(body) <= maxPooledBody {
		*buf = body[:0]
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, Errorf(ErrRequestTooLarge, "Request body is larger than %d bytes.", tooLarge.Limit)
		}
		return nil, serializationError("reading the request body: %v", err)
	}
	if s.opts.Authenticate != nil {
		if err := s.opts.Authenticate(r, body); err != nil {
			return nil, err
		}
	}
	fn, ok := s.handlers[opName]
	if !ok {
		return nil, Errorf(ErrUnsupportedOperation, "eddy does not implement %s yet.", opName)
	}
	if f := s.fast[opName]; f != nil && enc == EncodingJSON {
		if out, ok, err := f(r.Context(), &Request{HTTP: r, Operation: opName, RequestID: reqID, Encoding: enc}, body); ok {
			return out, err
		}
	}
	in, err := s.codec.decodeInput(enc, op.Input, body)
	if err != nil {
		return nil, err
	}
	if op.Input != nil {
		if err := Validate(op.Input, in).Err(); err != nil {
			return nil, err
		}
	}
	return fn(r.Context(), &Request{HTTP: r, Operation: opName, RequestID: reqID, Encoding: enc, Input: in})
}

// asAWSError returns the *Error in err's chain or, for any other error, logs it
// and returns an internal failure that does not leak its text.
func (s *Server) asAWSError(err error, reqID string, r *http.Request) *Error {
	if e, ok := AsError(err); ok {
		return e
	}
	s.log.Error("request failed", "request_id", reqID, "target", r.Header.Get("X-Amz-Target"), "err", err)
	return Errorf(s.opts.InternalErrorType, "Internal service failure.")
}

// errorBody is an error as AWS JSON services write it.
type errorBody struct {
	Type    string `json:"__type" cbor:"__type"`
	Message string `json:"message,omitempty" cbor:"message,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, enc Encoding, e *Error) {
	t := LookupErrorType(e.Type)
	// Messages may quote what the client sent; CBOR text must be valid UTF-8.
	body, err := s.codec.encode(enc, errorBody{Type: e.Type, Message: strings.ToValidUTF8(e.Message, "\uFFFD")})
	if err != nil { // a struct of two strings always encodes
		body = []byte(`{"__type":"InternalFailure"}`)
		enc = EncodingJSON
	}
	h := w.Header()
	h.Set("Content-Type", enc.ContentType())
	h.Set("x-amzn-ErrorType", e.Type)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(t.Status)
	_, _ = w.Write(body)
}

// WriteError answers an AWS error outside a Server's routing (for example from
// an authentication layer in front of it), in the request's encoding, with a
// new request id.
func WriteError(w http.ResponseWriter, r *http.Request, e *Error) {
	w.Header().Set("x-amzn-RequestId", NewRequestID())
	c, err := newCodec()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	(&Server{codec: c}).writeError(w, EncodingOf(r.Header.Get("Content-Type")), e)
}

// maxPooledBody is the largest body buffer kept for reuse; larger ones (rare:
// only PutRecords near its 5 MiB limit) are left to the collector.
const maxPooledBody = 1 << 20

// readBody reads a whole body into buf. With a declared Content-Length it reads
// exactly that much into a buffer of that size (no doubling and copying as
// io.ReadAll does for a 140 KB PutRecords), still bounded by limit.
func readBody(r io.Reader, contentLength, limit int64, buf []byte) ([]byte, error) {
	if contentLength < 0 || contentLength > limit {
		if contentLength > limit {
			return buf, &http.MaxBytesError{Limit: limit}
		}
		b := bytes.NewBuffer(buf)
		_, err := b.ReadFrom(r)
		return b.Bytes(), err
	}
	n := int(contentLength)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("the body ended before its Content-Length of %d bytes: %w", n, err)
		}
		return nil, err
	}
	return buf, nil
}
