// Package kinesisapi serves the Kinesis Data Streams API (Kinesis_20131202, AWS
// JSON 1.1 or CBOR over HTTP) over an embedded streamstore.Store, so AWS SDKs,
// the AWS CLI, the KPL and the KCL work against eddy with --endpoint-url. It is
// a thin skin: streams, shards, records, resharding and retention are the
// store's; this package maps the API's shapes, names (StreamName or StreamARN),
// states and errors onto it. The wire protocol (routing, decoding, validation
// of the model's constraints, error envelopes) is awsproto's.
//
// What the store does at once, Kinesis does over seconds: a new stream is
// reported CREATING, and a resharded one UPDATING, for Options.StateDelay, and
// the calls Kinesis refuses in those states are refused in the same words.
package kinesisapi

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/api/sigv4"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// Defaults of Options.
const (
	DefaultAccountID  = "000000000000"
	DefaultRegion     = "us-east-1"
	DefaultStateDelay = 300 * time.Millisecond
	// IteratorLifetime is how long a shard iterator stays valid, as in Kinesis.
	IteratorLifetime = 5 * time.Minute
	// NextTokenLifetime is how long a ListShards NextToken stays valid.
	NextTokenLifetime = 5 * time.Minute
	// DefaultShardLimit is the account's shard quota Kinesis starts with in
	// us-east-1 (and the store's default per stream).
	DefaultShardLimit = 500
)

// Options configure a Handler.
type Options struct {
	// AccountID appears in ARNs and messages (default DefaultAccountID).
	AccountID string
	// Region is used in ARNs when a request carries no SigV4 credential scope
	// (default DefaultRegion); a signed request's scope names its region.
	Region string
	// StateDelay is how long a created stream stays CREATING and a resharded
	// one UPDATING (default DefaultStateDelay; negative: no delay).
	StateDelay time.Duration
	// ShardLimit bounds the open shards of a stream (default DefaultShardLimit);
	// it must not exceed the store's MaxShardsPerStream.
	ShardLimit int
	// Now is the clock of stream states and iterator expiry (default time.Now).
	Now func() time.Time
	// IteratorKey keys the HMAC that protects shard iterators and NextTokens
	// from tampering (default: 32 random bytes, so tokens do not survive a
	// restart, as an iterator does not outlive five minutes anyway).
	IteratorKey []byte
	// Authenticate, when set, checks each request before it is decoded (see
	// awsproto.ServerOptions.Authenticate).
	Authenticate func(r *http.Request, body []byte) error
	// MaxBodyBytes bounds request bodies (default awsproto.DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Logger receives internal failures; nil discards.
	Logger *slog.Logger
	// ShardLimits emulates Kinesis' per-shard throughput limits, so producers'
	// and consumers' retries can be tested: writes of more than 1 MiB or 1,000
	// records a second, and more than 5 GetRecords calls or 2 MiB read a
	// second, are refused with ProvisionedThroughputExceededException.
	ShardLimits bool
}

// Handler is the Kinesis API over a store. It is an http.Handler, safe for
// concurrent use; it starts no goroutines.
type Handler struct {
	store *streamstore.Store
	opts  Options
	srv   *awsproto.Server
	key   []byte

	mu     sync.Mutex
	states map[string]transient // streams in CREATING or UPDATING, by name

	limits limiter // per-shard token buckets, with Options.ShardLimits
	subs   subscriptions
}

// transient is a state a stream shows until a time.
type transient struct {
	status string
	until  time.Time
	epoch  int64 // the stream it belongs to, so a new stream of the name starts afresh
}

// Stream statuses.
const (
	statusCreating = "CREATING"
	statusUpdating = "UPDATING"
	statusActive   = "ACTIVE"
)

// New returns the Kinesis API over store.
func New(store *streamstore.Store, opts Options) (*Handler, error) {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.StateDelay == 0 {
		opts.StateDelay = DefaultStateDelay
	}
	if opts.ShardLimit <= 0 {
		opts.ShardLimit = DefaultShardLimit
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	key := opts.IteratorKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
	}
	svc, err := newModel()
	if err != nil {
		return nil, fmt.Errorf("kinesis model: %w", err)
	}
	srv, err := awsproto.NewServer(svc, awsproto.ServerOptions{
		MaxBodyBytes:      opts.MaxBodyBytes,
		InternalErrorType: "InternalFailureException",
		Authenticate:      opts.Authenticate,
		Logger:            opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	h := &Handler{store: store, opts: opts, srv: srv, key: key, states: map[string]transient{}}
	h.register()
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.srv.ServeHTTP(w, r) }

func (h *Handler) register() {
	s := h.srv
	awsproto.Handle(s, "CreateStream", h.createStream)
	awsproto.Handle(s, "DeleteStream", h.deleteStream)
	awsproto.Handle(s, "DescribeStream", h.describeStream)
	awsproto.Handle(s, "DescribeStreamSummary", h.describeStreamSummary)
	awsproto.Handle(s, "ListStreams", h.listStreams)
	awsproto.Handle(s, "ListShards", h.listShards)
	awsproto.Handle(s, "PutRecord", h.putRecord)
	awsproto.HandleFast(s, "PutRecords", fastPutRecords, h.putRecords)
	awsproto.Handle(s, "GetShardIterator", h.getShardIterator)
	awsproto.Handle(s, "GetRecords", h.getRecords)
	awsproto.Handle(s, "SplitShard", h.splitShard)
	awsproto.Handle(s, "MergeShards", h.mergeShards)
	awsproto.Handle(s, "UpdateShardCount", h.updateShardCount)
	awsproto.Handle(s, "IncreaseStreamRetentionPeriod", h.increaseRetention)
	awsproto.Handle(s, "DecreaseStreamRetentionPeriod", h.decreaseRetention)
	h.registerAttrs()
}

// region is the region of a request: the one in its SigV4 credential scope
// (Authorization header or presigned query), or Options.Region. It checks
// nothing else: verifying signatures is Options.Authenticate's.
func (h *Handler) region(r *http.Request) string {
	if a, err := sigv4.AuthorizationFromRequest(r); err == nil && a.Region != "" {
		return a.Region
	}
	return h.opts.Region
}

// streamARN is the ARN of a stream in the request's region.
func (h *Handler) streamARN(r *http.Request, name string) string {
	return "arn:aws:kinesis:" + h.region(r) + ":" + h.opts.AccountID + ":stream/" + name
}

// resolve returns the stream a request names by StreamName, StreamARN or both.
func (h *Handler) resolve(name, arn string) (string, error) {
	if arn != "" {
		n, err := h.nameFromARN(arn)
		if err != nil {
			return "", err
		}
		if name != "" && name != n {
			return "", awsproto.Errorf(errInvalidArgument, "StreamARN %s and StreamName %s name different streams.", arn, name)
		}
		return n, nil
	}
	if name == "" {
		return "", awsproto.Errorf(errInvalidArgument, "Either StreamName or StreamARN must be provided.")
	}
	return name, nil
}

// nameFromARN parses arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME.
func (h *Handler) nameFromARN(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kinesis" || !strings.HasPrefix(parts[5], "stream/") {
		return "", awsproto.Errorf(errInvalidArgument, "StreamARN %s is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).", arn)
	}
	name := strings.TrimPrefix(parts[5], "stream/")
	if i := strings.IndexByte(name, '/'); i >= 0 { // a consumer ARN: STREAM_ARN/consumer/NAME:N
		name = name[:i]
	}
	if err := streamstore.ValidateStreamName(name); err != nil {
		return "", awsproto.Errorf(errInvalidArgument, "StreamARN %s does not name a valid stream: the name must be 1 to 128 characters of [a-zA-Z0-9_.-].", arn)
	}
	if parts[4] != h.opts.AccountID {
		return "", notFound(name, parts[4])
	}
	return name, nil
}

// Error types the handlers answer with (all in the Kinesis model).
const (
	errInvalidArgument   = "InvalidArgumentException"
	errNotFound          = "ResourceNotFoundException"
	errInUse             = "ResourceInUseException"
	errLimitExceeded     = "LimitExceededException"
	errExpiredIterator   = "ExpiredIteratorException"
	errExpiredNextToken  = "ExpiredNextTokenException"
	errInternalFailure   = "InternalFailureException"
	errValidation        = "ValidationException"
	errProvisionedExceed = "ProvisionedThroughputExceededException"
)

func notFound(stream, account string) error {
	return awsproto.Errorf(errNotFound, "Stream %s under account %s not found.", stream, account)
}

func (h *Handler) notFound(stream string) error { return notFound(stream, h.opts.AccountID) }

func (h *Handler) shardNotFound(stream, shard string) error {
	return awsproto.Errorf(errNotFound, "Shard %s in stream %s under account %s does not exist", shard, stream, h.opts.AccountID)
}

// storeError maps a store error to the AWS error Kinesis answers in its place.
// Errors of no kind the API knows are returned as they are, and answered as
// internal failures.
func (h *Handler) storeError(err error, stream string) error {
	if err == nil {
		return nil
	}
	if _, ok := awsproto.AsError(err); ok {
		return err
	}
	msg := err.Error()
	var se *streamstore.Error
	if errors.As(err, &se) {
		msg = se.Msg
	}
	switch {
	case errors.Is(err, streamstore.ErrNotFound):
		if strings.HasPrefix(msg, "shard ") || strings.HasPrefix(msg, "Consumer ") {
			return awsproto.Errorf(errNotFound, "%s", msg)
		}
		return h.notFound(stream)
	case errors.Is(err, streamstore.ErrInvalidArgument):
		return awsproto.Errorf(errInvalidArgument, "%s", msg)
	case errors.Is(err, streamstore.ErrInUse):
		return awsproto.Errorf(errInUse, "%s", msg)
	case errors.Is(err, streamstore.ErrLimitExceeded):
		return awsproto.Errorf(errLimitExceeded, "%s", msg)
	case errors.Is(err, streamstore.ErrLocked):
		return awsproto.Errorf(errInUse, "Stream %s under account %s is being written by another eddy process: %s", stream, h.opts.AccountID, msg)
	case errors.Is(err, streamstore.ErrReadOnly):
		return awsproto.Errorf(errInternalFailure, "The data directory is open read-only.")
	}
	return fmt.Errorf("stream %s: %w", stream, err)
}

// status returns the stream's state now.
func (h *Handler) status(name string, epoch int64) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.states[name]
	if !ok {
		return statusActive
	}
	if t.epoch != epoch || !h.opts.Now().Before(t.until) {
		delete(h.states, name)
		return statusActive
	}
	return t.status
}

// enter puts a stream in a transient state for StateDelay.
func (h *Handler) enter(name string, epoch int64, status string) {
	if h.opts.StateDelay < 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.states[name] = transient{status: status, until: h.opts.Now().Add(h.opts.StateDelay), epoch: epoch}
}

// describe returns a stream's description and its state, or ResourceNotFoundException.
func (h *Handler) describe(name string) (streamstore.StreamDescription, string, error) {
	d, err := h.store.DescribeStream(name)
	if err != nil {
		return d, "", h.storeError(err, name)
	}
	return d, h.status(name, d.Epoch), nil
}

// requireActive refuses a change to a stream that is CREATING or UPDATING, as
// Kinesis does.
func (h *Handler) requireActive(name string) (streamstore.StreamDescription, error) {
	d, status, err := h.describe(name)
	if err != nil {
		return d, err
	}
	if status != statusActive {
		return d, awsproto.Errorf(errInUse, "Stream %s under account %s not ACTIVE, instead in state %s", name, h.opts.AccountID, status)
	}
	return d, nil
}

// requireReadable refuses data-plane calls to a stream still CREATING: Kinesis
// answers them as if it did not exist yet. It costs one map look-up unless the
// stream was created within StateDelay.
func (h *Handler) requireReadable(name string) error {
	h.mu.Lock()
	t, ok := h.states[name]
	h.mu.Unlock()
	if !ok || t.status != statusCreating {
		return nil
	}
	_, status, err := h.describe(name)
	if err != nil {
		return err
	}
	if status == statusCreating {
		return h.notFound(name)
	}
	return nil
}
