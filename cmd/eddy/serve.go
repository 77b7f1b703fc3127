package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/api/firehoseapi"
	"github.com/eddy-streams/eddy/connectors/api/kinesisapi"
	"github.com/eddy-streams/eddy/connectors/api/sigv4"
	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/firehose/delivery"
	"github.com/eddy-streams/eddy/connectors/objectstore"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

type serveFlags struct {
	listen         string
	accountID      string
	region         string
	stateDelay     time.Duration
	insecureNoAuth bool
	shardLimits    bool
	credentials    string
	tlsCert        string
	s3Endpoint     string
	tlsKey         string
}

func (a *invocation) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:4567]",
		Short: "Serve the Kinesis Data Streams API over the data directory",
		Long: `Serve hosts the Kinesis Data Streams API (AWS JSON 1.1 and CBOR over HTTP) over the
streams of the data directory, so AWS SDKs, the AWS CLI, the KPL and the KCL work
against eddy with --endpoint-url http://127.0.0.1:4567. It listens on loopback unless
told otherwise, and stops gracefully on Ctrl-C or SIGTERM: requests in flight finish,
then the store is closed.

Streams report CREATING after CreateStream and UPDATING after a reshard for
--state-delay, as Kinesis does for a while. ARNs name --account-id and the region of
each request's SigV4 credential scope (us-east-1 when unsigned).

With --credentials FILE (an AWS shared credentials file, or ACCESS_KEY:SECRET lines)
or --credentials env (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), every request must
carry a valid SigV4 signature by one of those keys. Without credentials any signature
is accepted, which is only allowed on loopback unless --insecure-no-auth is given.
--tls-cert and --tls-key serve HTTPS.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.serve(cmd.Context(), f)
		},
	}
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:4567", "address to listen on (port 0 picks a free one)")
	cmd.Flags().StringVar(&f.accountID, "account-id", kinesisapi.DefaultAccountID, "account id in ARNs and messages (12 digits)")
	cmd.Flags().StringVar(&f.region, "region", kinesisapi.DefaultRegion, "region in ARNs of requests that carry no SigV4 credential scope")
	cmd.Flags().DurationVar(&f.stateDelay, "state-delay", kinesisapi.DefaultStateDelay, "how long new streams stay CREATING and resharded ones UPDATING (0s: not at all)")
	cmd.Flags().BoolVar(&f.shardLimits, "shard-limits", false, "emulate Kinesis' per-shard throughput limits (writes: 1 MiB/s and 1,000 records/s; reads: 5 GetRecords calls/s and 2 MiB/s), answering ProvisionedThroughputExceededException, to test producers' and consumers' retries")
	cmd.Flags().BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "allow listening on a non-loopback address without --credentials")
	cmd.Flags().StringVar(&f.credentials, "credentials", "", "verify SigV4 signatures against the keys of this file, or of the environment with 'env'")
	cmd.Flags().StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; needs --tls-key)")
	cmd.Flags().StringVar(&f.tlsKey, "tls-key", "", "private key of --tls-cert (PEM)")
	cmd.Flags().StringVar(&f.s3Endpoint, "s3-endpoint", "", "deliver delivery streams' objects to this S3 API (credentials from the AWS SDK's environment) instead of DATA_DIR/buckets/BUCKET")
	return cmd
}

func (a *invocation) serve(ctx context.Context, f serveFlags) error {
	if len(f.accountID) != 12 || !allDigits(f.accountID) {
		return fmt.Errorf("--account-id %q: an account id is 12 digits", f.accountID)
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", f.listen, err)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	authenticate, err := a.serveAuthenticator(f.credentials)
	if err != nil {
		return err
	}
	if !isLoopback(host) && authenticate == nil && !f.insecureNoAuth {
		return fmt.Errorf("--listen %s is not a loopback address, and without --credentials this server authenticates no request: anyone who can reach it could read and delete every stream; give --credentials, listen on 127.0.0.1, or pass --insecure-no-auth", f.listen)
	}
	delay := f.stateDelay
	if delay == 0 {
		delay = -1 // the flag's 0 means none; the handler's 0 means its default
	}
	serverGC()
	st, err := a.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	log := a.logger()
	kh, err := kinesisapi.New(st, kinesisapi.Options{AccountID: f.accountID, Region: f.region, StateDelay: delay, Logger: log, Authenticate: authenticate, ShardLimits: f.shardLimits})
	if err != nil {
		return err
	}
	cat, err := catalog.Open(a.dataDir, catalog.Options{AccountID: f.accountID, Region: f.region, StateDelay: delay, Logger: log})
	if err != nil {
		return err
	}
	fh, err := firehoseapi.New(st, cat, firehoseapi.Options{Region: f.region, Authenticate: authenticate, Logger: log})
	if err != nil {
		return err
	}
	h := routeByTarget(kh, fh)
	bucket, err := a.serveBuckets(f.s3Endpoint)
	if err != nil {
		return err
	}
	deliverCtx, stopDelivery := context.WithCancel(ctx)
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		_ = delivery.NewService(a.deliveryOptions(st, bucket), cat).Run(deliverCtx, nil)
	}()
	defer func() {
		stopDelivery()
		<-delivered
	}()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("eddy serve: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: nil}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	auth := "any signature accepted"
	if authenticate != nil {
		auth = "SigV4 signatures verified"
	}
	fmt.Fprintf(a.stdout, "eddy serve: Kinesis and Firehose APIs on %s://%s (data dir %s; %s)\n", scheme, ln.Addr(), a.dataDir, auth)

	served := make(chan error, 1)
	go func() {
		if f.tlsCert != "" {
			served <- srv.ServeTLS(ln, f.tlsCert, f.tlsKey)
			return
		}
		served <- srv.Serve(ln)
	}()

	// Streams created or changed by other processes (eddy put, eddy run) appear
	// on Refresh; retention is enforced on the streams this server writes.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastRetention := time.Now()
	for {
		select {
		case err := <-served:
			return fmt.Errorf("eddy serve: %w", err)
		case <-tick.C:
			if err := st.Refresh(); err != nil {
				log.Warn("refresh streams", "err", err)
			}
			if time.Since(lastRetention) >= time.Minute {
				lastRetention = time.Now()
				if _, err := st.EnforceRetention(); err != nil {
					log.Warn("enforce retention", "err", err)
				}
			}
			continue
		case <-ctx.Done():
		}
		break
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("eddy serve: shut down: %w", err)
	}
	fmt.Fprintln(a.stdout, "eddy serve: stopped")
	return nil
}

// serveAuthenticator returns the check of SigV4 signatures against the keys of
// --credentials (a file, or "env"), or nil when none are given.
func (a *invocation) serveAuthenticator(from string) (func(r *http.Request, body []byte) error, error) {
	var creds map[string]string
	var err error
	switch from {
	case "":
		return nil, nil
	case "env":
		creds, err = sigv4.CredentialsFromEnv(a.getenv)
		if err == nil && len(creds) == 0 {
			err = fmt.Errorf("--credentials env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
		}
	default:
		creds, err = sigv4.LoadCredentials(from)
	}
	if err != nil {
		return nil, fmt.Errorf("--credentials %s: %w", from, err)
	}
	v := &sigv4.Verifier{Credentials: creds, Service: "kinesis"}
	return func(r *http.Request, body []byte) error {
		if _, err := v.Verify(r, body); err != nil {
			var se *sigv4.Error
			if errors.As(err, &se) {
				return &awsproto.Error{Type: se.Code, Message: se.Message}
			}
			return err
		}
		return nil
	}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// serverGCPercent is the collector's target for eddy serve unless GOGC says
// otherwise. A server's live heap is small (streams live on disk) while every
// PutRecords allocates its ~140 KB body's worth of short-lived values, so the
// default of 100 collects several hundred times a second; at 400 the
// collector's share of the CPU falls by about two thirds for a few MB of heap.
const serverGCPercent = 400

// serverGC applies serverGCPercent unless the user set GOGC.
func serverGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
}

// routeByTarget sends Firehose calls (X-Amz-Target: Firehose_20150804.*) to
// the Firehose API and everything else to the Kinesis API, which answers
// unknown targets in AWS's words.
func routeByTarget(kinesisH, firehoseH http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Firehose_20150804.") {
			firehoseH.ServeHTTP(w, r)
			return
		}
		kinesisH.ServeHTTP(w, r)
	})
}

// serveBuckets returns where delivered objects go: nil (DATA_DIR/buckets) or
// the buckets of an S3 API.
func (a *invocation) serveBuckets(endpoint string) (func(ctx context.Context, bucket string) (checkpoint.Store, error), error) {
	if endpoint == "" {
		return nil, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--s3-endpoint %q: want a URL such as http://127.0.0.1:7070", endpoint)
	}
	return func(ctx context.Context, bucket string) (checkpoint.Store, error) {
		return objectstore.Open(ctx, "s3://"+bucket, objectstore.Options{Endpoint: endpoint})
	}, nil
}
