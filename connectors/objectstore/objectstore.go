// Package objectstore owns keeping checkpoints in a bucket of any S3 API
// (AWS S3, MinIO, versitygw, ...): S3Store, a checkpoint.Store over one
// bucket and key prefix with the same behaviour as checkpoint.DirStore, and
// Open, which makes one from an s3://BUCKET/PREFIX location with the AWS
// SDK's usual configuration (environment, shared profiles) and checks that
// the bucket can be reached, explaining what to fix when it cannot.
package objectstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// DefaultRegion is the region used when neither Options, the environment
// nor the profile name one.
const DefaultRegion = "us-east-1"

// Options configure Open. The zero value uses the AWS SDK's default
// configuration: credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
// a profile, SSO or instance roles; region from AWS_REGION or the profile.
type Options struct {
	// Endpoint is the base URL of the S3 API, e.g. http://127.0.0.1:7070.
	// Empty: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or the profile's
	// endpoint_url (the SDK reads them), else AWS S3.
	Endpoint string
	// Region signs the requests. Empty: AWS_REGION, AWS_DEFAULT_REGION or the
	// profile's, else us-east-1.
	Region string
	// PathStyle puts the bucket in the URL's path instead of its host name.
	// It is always used when an endpoint is set (here or in the
	// environment), as MinIO, versitygw and most S3 APIs other than AWS
	// need.
	PathStyle bool
	// Profile is the shared configuration profile. Empty: AWS_PROFILE, else
	// "default".
	Profile string
}

// ParseLocation splits s3://BUCKET[/PREFIX] into bucket and prefix (without
// leading or trailing "/").
func ParseLocation(location string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(location, "s3://")
	if !ok {
		return "", "", fmt.Errorf("checkpoint location %q: want s3://BUCKET or s3://BUCKET/PREFIX", location)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" || strings.ContainsAny(bucket, " \t\r\n?#\\") {
		return "", "", fmt.Errorf("checkpoint location %q: want s3://BUCKET or s3://BUCKET/PREFIX with a bucket name", location)
	}
	prefix, err = cleanPrefix(prefix)
	if err != nil {
		return "", "", fmt.Errorf("checkpoint location %q: %w", location, err)
	}
	return bucket, prefix, nil
}

func cleanPrefix(prefix string) (string, error) {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return "", nil
	}
	for seg := range strings.SplitSeq(prefix, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("prefix %q: empty, \".\" and \"..\" parts are not allowed", prefix)
		}
	}
	return prefix, nil
}

// Open returns the store at location, s3://BUCKET[/PREFIX] (a *S3Store),
// after checking that the bucket exists and the credentials may use it. Its
// errors say what failed, where, and how to fix it.
func Open(ctx context.Context, location string, opts Options) (checkpoint.Store, error) {
	bucket, prefix, err := ParseLocation(location)
	if err != nil {
		return nil, err
	}
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("open %s: endpoint %q: want a URL such as http://127.0.0.1:7070 or https://s3.example.com", location, opts.Endpoint)
		}
	}
	client, cfg, err := newClient(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", location, err)
	}
	s := New(client, bucket, prefix)
	if err := s.check(ctx, cfg); err != nil {
		s.CloseIdleConnections()
		return nil, fmt.Errorf("open %s: %w", s, err)
	}
	return s, nil
}

// newClient makes the client for opts from the SDK's default configuration,
// without contacting anything.
func newClient(ctx context.Context, opts Options) (*s3.Client, aws.Config, error) {
	var load []func(*config.LoadOptions) error
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	var noProfile config.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		return nil, cfg, fmt.Errorf("load the AWS configuration: %w; add profile %s to the shared config or credentials file (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws) or choose another", err, noProfile.Profile)
	}
	if err != nil {
		return nil, cfg, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		// o.BaseEndpoint already holds AWS_ENDPOINT_URL_S3 and the like.
		if opts.PathStyle || o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		// A built client with the SDK's settings, whose idle connections
		// CloseIdleConnections can close.
		if b, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = b.Freeze()
		}
	})
	return client, cfg, nil
}

// where names the S3 API a client talks to, for messages.
func where(o s3.Options) string {
	if o.BaseEndpoint != nil {
		return "endpoint " + *o.BaseEndpoint
	}
	return "AWS S3 in region " + o.Region
}

// check asks for the bucket (HeadBucket) and turns failures into advice.
func (s *S3Store) check(ctx context.Context, cfg aws.Config) error {
	o := s.client.Options()
	at := where(o)
	if cfg.Credentials == nil {
		return fmt.Errorf("no AWS credentials for %s; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with AWS_PROFILE", at)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("no AWS credentials for %s (%w); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with AWS_PROFILE", at, err)
	}
	_, err = s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("bucket %s at %s: %w", s.bucket, at, err)
	}
	var dns *net.DNSError
	var nerr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("nothing answers at %s: connection refused (%w); is the endpoint running, and is its address right?", at, err)
	case errors.As(err, &dns):
		return fmt.Errorf("cannot resolve the host of %s (%w); check the endpoint's address", at, err)
	case errors.As(err, &nerr) && nerr.Timeout():
		return fmt.Errorf("no answer from %s in time (%w); is the endpoint running and reachable?", at, err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		// The answer to a HEAD has no body, so no error code: a GET of the
		// bucket says more (NoSuchBucket, SignatureDoesNotMatch, ...).
		code := ""
		_, lerr := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), MaxKeys: aws.Int32(1)})
		var api smithy.APIError
		if errors.As(lerr, &api) {
			code, err = api.ErrorCode(), lerr
		}
		return s.explain(at, o.Region, creds.AccessKeyID, re, code, err)
	}
	return fmt.Errorf("cannot reach bucket %s at %s: %w", s.bucket, at, err)
}

// explain turns the S3 API's refusal of the bucket (the HEAD's answer re and
// the error code of a GET, when there was one) into what to do.
func (s *S3Store) explain(at, region, accessKey string, re *awshttp.ResponseError, code string, err error) error {
	denied := func(why string) error {
		return fmt.Errorf("access to bucket %s at %s denied for access key %s: %s (%w); check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile) and that they may use the bucket", s.bucket, at, accessKey, why, err)
	}
	status := re.HTTPStatusCode()
	switch code {
	case "NoSuchBucket":
		status = http.StatusNotFound
	case "InvalidAccessKeyId", "XAdminUserNotFound":
		return denied("the access key is not known there")
	case "SignatureDoesNotMatch":
		return denied("the secret key does not match the access key")
	case "ExpiredToken", "TokenRefreshRequired", "InvalidToken":
		return denied("the session token is expired or invalid")
	case "AccessDenied", "AllAccessDisabled":
		return denied("not permitted")
	case "AuthorizationHeaderMalformed", "PermanentRedirect", "IncorrectEndpoint":
		return fmt.Errorf("bucket %s at %s is not in region %s (%w); set the region (AWS_REGION or the region option)", s.bucket, at, region, err)
	case "RequestTimeTooSkewed":
		return fmt.Errorf("%s refuses requests from this machine's clock (%w); set the clock right", at, err)
	}
	switch status {
	case http.StatusNotFound:
		return fmt.Errorf("bucket %s does not exist at %s (%w); create it first", s.bucket, at, err)
	case http.StatusForbidden:
		return denied("refused")
	case http.StatusMovedPermanently:
		other := re.Response.Header.Get("X-Amz-Bucket-Region")
		if other == "" {
			other = "another region"
		}
		return fmt.Errorf("bucket %s is in %s, not %s (%w); set the region (AWS_REGION or the region option)", s.bucket, other, region, err)
	}
	return fmt.Errorf("cannot use bucket %s at %s (%w); check the endpoint, region and credentials", s.bucket, at, err)
}
