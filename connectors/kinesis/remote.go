package kinesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"
)

// Defaults of RemoteConfig.
const (
	// DefaultMinReadInterval paces GetRecords to Kinesis' 5 reads per second
	// per shard.
	DefaultMinReadInterval = 200 * time.Millisecond
	// DefaultRelistInterval is how often a remote source lists the shards
	// again, besides when a shard ends, to find reshards it was not told of.
	DefaultRelistInterval = 30 * time.Second
	// DefaultMaxBackoff bounds the wait between retries of a throttled call.
	DefaultMaxBackoff = 5 * time.Second
	// remoteMaxGetRecords is the most records one GetRecords returns.
	remoteMaxGetRecords = 10000
	// remoteMaxFailures is how many calls in a row may fail with a transient
	// error (not throttling) before a source or sink gives up.
	remoteMaxFailures = 10
)

// RemoteConfig says how to reach a Kinesis endpoint through aws-sdk-go-v2.
// A source or sink with a RemoteConfig reads or writes that endpoint instead
// of the embedded store.
type RemoteConfig struct {
	// Endpoint is the endpoint's URL (such as http://127.0.0.1:4567 for eddy
	// serve); empty means the AWS endpoint of Region.
	Endpoint string
	// Region signs requests and picks the AWS endpoint; empty takes the SDK's
	// (AWS_REGION, the profile), else us-east-1 when Endpoint is set.
	Region string
	// Profile is a profile of the shared config and credentials files.
	Profile string
	// AccessKeyID and SecretAccessKey, when set, are static credentials that
	// replace the SDK's default chain (environment, profile, SSO, IMDS...).
	AccessKeyID     string
	SecretAccessKey string

	// MinReadInterval is the least time between two GetRecords of a shard
	// (default DefaultMinReadInterval).
	MinReadInterval time.Duration
	// RelistInterval is how often the shards are listed again (default
	// DefaultRelistInterval).
	RelistInterval time.Duration
	// MaxBackoff bounds retry waits (default DefaultMaxBackoff).
	MaxBackoff time.Duration
	// HTTPClient, when set, replaces the SDK's HTTP client (tests).
	HTTPClient *http.Client
}

func (rc *RemoteConfig) defaults() {
	if rc.MinReadInterval <= 0 {
		rc.MinReadInterval = DefaultMinReadInterval
	}
	if rc.RelistInterval <= 0 {
		rc.RelistInterval = DefaultRelistInterval
	}
	if rc.MaxBackoff <= 0 {
		rc.MaxBackoff = DefaultMaxBackoff
	}
}

// where names the endpoint in messages.
func (rc *RemoteConfig) where() string {
	if rc.Endpoint != "" {
		return rc.Endpoint
	}
	return "AWS region " + rc.Region
}

// newRemoteClient builds a Kinesis client for rc. The SDK's own retries are
// off: sources and sinks retry themselves, with backoff and jitter, and renew
// iterators.
func newRemoteClient(ctx context.Context, rc *RemoteConfig) (*awskinesis.Client, error) {
	var opts []func(*config.LoadOptions) error
	if rc.Region != "" {
		opts = append(opts, config.WithRegion(rc.Region))
	}
	if rc.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(rc.Profile))
	}
	if rc.AccessKeyID != "" || rc.SecretAccessKey != "" {
		if rc.AccessKeyID == "" || rc.SecretAccessKey == "" {
			return nil, fmt.Errorf("options %s and %s go together", OptAccessKeyID, OptSecretAccessKey)
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(rc.AccessKeyID, rc.SecretAccessKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if rc.Endpoint == "" {
			return nil, fmt.Errorf("no AWS region: set option %s (or AWS_REGION, or a region in the profile)", OptRegion)
		}
		cfg.Region = "us-east-1"
	}
	rc.Region = cfg.Region
	return awskinesis.NewFromConfig(cfg, func(o *awskinesis.Options) {
		if rc.Endpoint != "" {
			o.BaseEndpoint = aws.String(rc.Endpoint)
		}
		if rc.HTTPClient != nil {
			o.HTTPClient = rc.HTTPClient
		}
		o.Retryer = aws.NopRetryer{}
	}), nil
}

// Error codes the connector acts on.
const (
	codeThroughput      = "ProvisionedThroughputExceededException"
	codeLimitExceeded   = "LimitExceededException"
	codeExpiredIterator = "ExpiredIteratorException"
	codeNotFound        = "ResourceNotFoundException"
)

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// throttled says whether err asks the caller to slow down.
func throttled(err error) bool {
	switch errorCode(err) {
	case codeThroughput, codeLimitExceeded, "ThrottlingException", "KMSThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
		return true
	}
	return false
}

// transient says whether err may go away if the call is made again: a
// server-side failure or a network error.
func transient(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if ae.ErrorFault() == smithy.FaultServer {
			return true
		}
		switch ae.ErrorCode() {
		case "InternalFailure", "InternalFailureException", "ServiceUnavailable", "ServiceUnavailableException", "KMSInternalException":
			return true
		}
		return false
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || strings.Contains(err.Error(), "connection reset")
}

// backoff returns the wait before retry n (1, 2, ...): exponential from
// 50ms, capped at max, with full jitter over its upper half.
func backoff(n int, max time.Duration) time.Duration {
	d := 50 * time.Millisecond
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryCall runs call until it succeeds, retrying throttled calls for as long
// as ctx lasts and transient failures up to remoteMaxFailures times, with
// backoff.
func retryCall[T any](ctx context.Context, max time.Duration, call func() (T, error)) (T, error) {
	failures, throttles := 0, 0
	for {
		out, err := call()
		if err == nil {
			return out, nil
		}
		switch {
		case ctx.Err() != nil:
			return out, ctx.Err()
		case throttled(err):
			throttles++
		case transient(err) && failures < remoteMaxFailures:
			failures++
		default:
			return out, err
		}
		if err := sleepCtx(ctx, backoff(failures+throttles, max)); err != nil {
			return out, err
		}
	}
}
