// Package firehoseapi serves the Amazon Data Firehose API (Firehose_20150804,
// AWS JSON 1.1 or CBOR over HTTP) over eddy's delivery stream catalog
// (connectors/firehose/catalog) and the ingest of direct puts into the
// embedded stream store, so AWS SDKs and the AWS CLI manage delivery streams
// and put records with --endpoint-url. It is a thin skin: definitions,
// versions, tags and encryption settings are the catalog's; this package maps
// the API's shapes, states and errors onto it. The wire protocol (routing,
// decoding, validation of the model's constraints, error envelopes) is
// awsproto's.
//
// Ingest: every DirectPut delivery stream has a backing stream in the store,
// catalog.BackingStream(name), created with it and deleted with it. It has one
// shard, so every record of the delivery stream keeps its arrival order for
// the runner, which reads from one position; a store shard takes far more than
// Firehose's 5 MiB/s per delivery stream. PutRecord and PutRecordBatch answer
// after the store's group-committed fsync, so an acknowledged record is
// durable. Each record gets a partition key from a counter (round robin), so
// records would spread evenly should the backing stream ever get more shards.
// RecordIds are catalog.RecordID(shard, sequence number).
//
// States: a new delivery stream is CREATING, and changed encryption ENABLING
// or DISABLING, for the catalog's StateDelay (catalog.Options).
package firehoseapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/api/sigv4"
	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// DefaultRegion is the region of ARNs when a request carries no SigV4 scope.
const DefaultRegion = "us-east-1"

// Limits of PutRecordBatch that the model does not state, as Firehose has them.
const (
	MaxBatchBytes = 4 << 20 // the whole request's data
)

// Options configure an API.
type Options struct {
	// Region is used in ARNs when a request carries no SigV4 credential scope
	// (default DefaultRegion); a signed request's scope names its region.
	Region string
	// Authenticate, when set, checks each request before it is decoded (see
	// awsproto.ServerOptions.Authenticate).
	Authenticate func(r *http.Request, body []byte) error
	// MaxBodyBytes bounds request bodies (default awsproto.DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Logger receives internal failures; nil discards.
	Logger *slog.Logger
}

// API is the Firehose API over a catalog and a store. It is an http.Handler,
// safe for concurrent use; it starts no goroutines. The account id of ARNs
// and messages is the catalog's.
type API struct {
	store *streamstore.Store
	cat   *catalog.Catalog
	opts  Options
	srv   *awsproto.Server
	keys  atomic.Uint64 // partition key counter of backing stream puts
}

// New returns the Firehose API over the delivery streams of cat, whose direct
// puts go to backing streams in store.
func New(store *streamstore.Store, cat *catalog.Catalog, opts Options) (*API, error) {
	if store == nil || cat == nil {
		return nil, errors.New("firehoseapi: New needs a store and a catalog")
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	svc, err := newModel()
	if err != nil {
		return nil, fmt.Errorf("firehose model: %w", err)
	}
	srv, err := awsproto.NewServer(svc, awsproto.ServerOptions{
		MaxBodyBytes: opts.MaxBodyBytes,
		Authenticate: opts.Authenticate,
		Logger:       opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	a := &API{store: store, cat: cat, opts: opts, srv: srv}
	a.register()
	if err := a.Reconcile(); err != nil && opts.Logger != nil {
		// The API still serves every other stream; the lost ones answer errors.
		opts.Logger.Error("firehose: backing streams do not match the catalog", "err", err)
	}
	return a, nil
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.srv.ServeHTTP(w, r) }

func (a *API) register() {
	s := a.srv
	awsproto.Handle(s, "CreateDeliveryStream", a.createDeliveryStream)
	awsproto.Handle(s, "DeleteDeliveryStream", a.deleteDeliveryStream)
	awsproto.Handle(s, "DescribeDeliveryStream", a.describeDeliveryStream)
	awsproto.Handle(s, "ListDeliveryStreams", a.listDeliveryStreams)
	awsproto.Handle(s, "UpdateDestination", a.updateDestination)
	awsproto.Handle(s, "PutRecord", a.putRecord)
	awsproto.Handle(s, "PutRecordBatch", a.putRecordBatch)
	awsproto.Handle(s, "TagDeliveryStream", a.tagDeliveryStream)
	awsproto.Handle(s, "UntagDeliveryStream", a.untagDeliveryStream)
	awsproto.Handle(s, "ListTagsForDeliveryStream", a.listTags)
	awsproto.Handle(s, "StartDeliveryStreamEncryption", a.startEncryption)
	awsproto.Handle(s, "StopDeliveryStreamEncryption", a.stopEncryption)
}

// region is the region of a request: its SigV4 credential scope's, or
// Options.Region. It checks nothing else.
func (a *API) region(r *http.Request) string {
	if au, err := sigv4.AuthorizationFromRequest(r); err == nil && au.Region != "" {
		return au.Region
	}
	return a.opts.Region
}

// Error types the handlers answer with (all in the Firehose model).
const (
	errInvalidArgument        = "InvalidArgumentException"
	errNotFound               = "ResourceNotFoundException"
	errInUse                  = "ResourceInUseException"
	errLimitExceeded          = "LimitExceededException"
	errConcurrentModification = "ConcurrentModificationException"
	errServiceUnavailable     = "ServiceUnavailableException"
)

// apiError maps a catalog or store error to the AWS error Firehose answers in
// its place; other errors are returned as they are (internal failures).
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := awsproto.AsError(err); ok {
		return err
	}
	msg := err.Error()
	if ce, ok := errors.AsType[*catalog.Error](err); ok {
		msg = ce.Msg
	} else if se, ok := errors.AsType[*streamstore.Error](err); ok {
		msg = se.Msg
	}
	switch {
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, streamstore.ErrNotFound):
		return awsproto.Errorf(errNotFound, "%s", msg)
	case errors.Is(err, catalog.ErrInUse), errors.Is(err, streamstore.ErrInUse):
		return awsproto.Errorf(errInUse, "%s", msg)
	case errors.Is(err, catalog.ErrInvalidArgument), errors.Is(err, streamstore.ErrInvalidArgument):
		return awsproto.Errorf(errInvalidArgument, "%s", msg)
	case errors.Is(err, catalog.ErrLimitExceeded), errors.Is(err, streamstore.ErrLimitExceeded):
		return awsproto.Errorf(errLimitExceeded, "%s", msg)
	case errors.Is(err, catalog.ErrConcurrentModification):
		return awsproto.Errorf(errConcurrentModification, "%s", msg)
	case errors.Is(err, streamstore.ErrLocked), errors.Is(err, streamstore.ErrClosed), errors.Is(err, streamstore.ErrReadOnly):
		return awsproto.Errorf(errServiceUnavailable, "The backing stream cannot be written: %s", msg)
	}
	return err
}
