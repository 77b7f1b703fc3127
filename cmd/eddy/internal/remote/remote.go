// Package remote is what the eddy CLI uses to act on streams behind a Kinesis
// endpoint (eddy serve or AWS) instead of a data directory. It speaks the
// Kinesis API with aws-sdk-go-v2 and returns the stream store's own types and
// error kinds, so that the commands print the same text either way.
package remote

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// Options say which endpoint to use and how to sign for it.
type Options struct {
	Endpoint string // http(s)://host:port
	Region   string // empty: the SDK's (AWS_REGION, profile), else us-east-1
	Profile  string // empty: the SDK's default (AWS_PROFILE or "default")
}

// Client acts on the streams of one Kinesis endpoint.
type Client struct {
	k        *kinesis.Client
	endpoint string
	// wait bounds how long create, reshard and delete wait for the stream to settle.
	wait time.Duration
}

// New checks the endpoint and loads credentials from the SDK's default chain
// (environment, shared config and credentials files). When the endpoint is on
// loopback and no credentials are found, dummy ones are used: eddy serve
// without --credentials accepts any signature. On loopback the EC2 instance
// metadata service is never asked.
func New(ctx context.Context, o Options) (*Client, error) {
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--endpoint %q: give a URL such as http://127.0.0.1:4567", o.Endpoint)
	}
	loopback := IsLoopback(u.Hostname())
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if loopback {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for %s: %w", o.Endpoint, err)
	}
	// The SDK's own warnings (e.g. about a response body it could not drain)
	// would break the CLI's promise of one error line on stderr.
	cfg.Logger = logging.Nop{}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if !loopback {
			return nil, fmt.Errorf("no AWS credentials for %s (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --profile): %v", o.Endpoint, err)
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider("eddy", "eddy", "")
	}
	endpoint := strings.TrimSuffix(o.Endpoint, "/")
	k := kinesis.NewFromConfig(cfg, func(ko *kinesis.Options) { ko.BaseEndpoint = aws.String(endpoint) })
	return &Client{k: k, endpoint: endpoint, wait: 10 * time.Minute}, nil
}

// IsLoopback says whether host names this machine only.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Endpoint is the URL the client talks to.
func (c *Client) Endpoint() string { return c.endpoint }

var streamNotFound = regexp.MustCompile(`^Stream (\S+) under account \S+ not found\.?$`)
var shardNotFound = regexp.MustCompile(`^Could not find shard (\S+) in stream (\S+) under account \S+\.?$`)
var shardClosed = regexp.MustCompile(`^Shard (\S+) in stream (\S+) under account \S+ has already been merged or split`)
var streamExists = regexp.MustCompile(`^Stream (\S+) under account \S+ already exists\.?$`)

// mapError turns an API error into a store error of the same kind with, where
// the API's message allows, the words the embedded store uses.
func (c *Client) mapError(err error, stream string) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%s: %w", c.endpoint, err)
	}
	msg := ae.ErrorMessage()
	switch ae.ErrorCode() {
	case "ResourceNotFoundException":
		if m := shardNotFound.FindStringSubmatch(msg); m != nil {
			return &streamstore.Error{Kind: streamstore.ErrNotFound,
				Msg: fmt.Sprintf("shard %s does not exist in stream %q (eddy streams describe %s lists its shards)", m[1], m[2], m[2])}
		}
		if m := streamNotFound.FindStringSubmatch(msg); m != nil {
			stream = m[1]
		} else if msg != "" && !strings.HasPrefix(msg, "Stream ") {
			return &streamstore.Error{Kind: streamstore.ErrNotFound, Msg: msg}
		}
		return &streamstore.Error{Kind: streamstore.ErrNotFound, Msg: fmt.Sprintf("stream %q does not exist at %s", stream, c.endpoint)}
	case "ResourceInUseException":
		if m := streamExists.FindStringSubmatch(msg); m != nil {
			return &streamstore.Error{Kind: streamstore.ErrInUse, Msg: fmt.Sprintf("stream %q already exists", m[1])}
		}
		return &streamstore.Error{Kind: streamstore.ErrInUse, Msg: msg}
	case "InvalidArgumentException":
		if m := shardClosed.FindStringSubmatch(msg); m != nil {
			return &streamstore.Error{Kind: streamstore.ErrInvalidArgument,
				Msg: fmt.Sprintf("shard %s of stream %q was closed by an earlier split or merge; only open shards can be resharded", m[1], m[2])}
		}
		return &streamstore.Error{Kind: streamstore.ErrInvalidArgument, Msg: msg}
	case "LimitExceededException":
		return &streamstore.Error{Kind: streamstore.ErrLimitExceeded, Msg: msg}
	}
	if msg == "" {
		msg = ae.ErrorCode()
	} else {
		msg = ae.ErrorCode() + ": " + msg
	}
	return fmt.Errorf("%s: %s", c.endpoint, msg)
}

// settle waits until the stream is ACTIVE (gone, with gone), as a create,
// reshard or delete leaves it for a while on Kinesis.
func (c *Client) settle(ctx context.Context, name string, gone bool) error {
	deadline := time.Now().Add(c.wait)
	delay := 20 * time.Millisecond
	for {
		out, err := c.k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		err = c.mapError(err, name)
		switch {
		case gone && errors.Is(err, streamstore.ErrNotFound):
			return nil
		case err != nil:
			return err
		case !gone && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive:
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stream %s is still %s at %s after %s", name, out.StreamDescriptionSummary.StreamStatus, c.endpoint, c.wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// CreateStream creates a stream of shards uniform shards and waits until it is ACTIVE.
func (c *Client) CreateStream(ctx context.Context, name string, shards int) error {
	if err := streamstore.ValidateStreamName(name); err != nil {
		return err
	}
	_, err := c.k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))})
	if err != nil {
		return c.mapError(err, name)
	}
	return c.settle(ctx, name, false)
}

// DeleteStream deletes a stream and waits until it is gone.
func (c *Client) DeleteStream(ctx context.Context, name string) error {
	if _, err := c.k.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
		return c.mapError(err, name)
	}
	return c.settle(ctx, name, true)
}

// ListStreams returns every stream's name, in the endpoint's order.
func (c *Client) ListStreams(ctx context.Context) ([]string, error) {
	var names []string
	in := &kinesis.ListStreamsInput{}
	for {
		out, err := c.k.ListStreams(ctx, in)
		if err != nil {
			return nil, c.mapError(err, "")
		}
		names = append(names, out.StreamNames...)
		if !aws.ToBool(out.HasMoreStreams) || out.NextToken == nil {
			return names, nil
		}
		in = &kinesis.ListStreamsInput{NextToken: out.NextToken}
	}
}

// Summary describes a stream without its shards.
func (c *Client) Summary(ctx context.Context, name string) (streamstore.StreamDescription, error) {
	out, err := c.k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		return streamstore.StreamDescription{}, c.mapError(err, name)
	}
	s := out.StreamDescriptionSummary
	return streamstore.StreamDescription{
		Name:           aws.ToString(s.StreamName),
		Status:         string(s.StreamStatus),
		CreatedAt:      aws.ToTime(s.StreamCreationTimestamp),
		RetentionHours: int(aws.ToInt32(s.RetentionPeriodHours)),
		OpenShards:     int(aws.ToInt32(s.OpenShardCount)),
	}, nil
}

// DescribeStream describes a stream and its shards. What only a data directory
// knows is left zero: records, bytes and segments of a shard, and when it was
// closed. A shard's creation time is the one its starting sequence number holds.
func (c *Client) DescribeStream(ctx context.Context, name string) (streamstore.StreamDescription, error) {
	d, err := c.Summary(ctx, name)
	if err != nil {
		return d, err
	}
	shards, err := c.listShards(ctx, name)
	if err != nil {
		return d, err
	}
	for _, s := range shards {
		sd := streamstore.ShardDescription{
			ShardID:                aws.ToString(s.ShardId),
			ParentShardID:          aws.ToString(s.ParentShardId),
			AdjacentParentShardID:  aws.ToString(s.AdjacentParentShardId),
			StartingSequenceNumber: aws.ToString(s.SequenceNumberRange.StartingSequenceNumber),
			EndingSequenceNumber:   aws.ToString(s.SequenceNumberRange.EndingSequenceNumber),
		}
		sd.Open = sd.EndingSequenceNumber == ""
		if s.HashKeyRange != nil {
			if sd.HashKeyRange.Start, err = streamstore.ParseHashKey(aws.ToString(s.HashKeyRange.StartingHashKey)); err != nil {
				return d, fmt.Errorf("%s: shard %s: %w", c.endpoint, sd.ShardID, err)
			}
			if sd.HashKeyRange.End, err = streamstore.ParseHashKey(aws.ToString(s.HashKeyRange.EndingHashKey)); err != nil {
				return d, fmt.Errorf("%s: shard %s: %w", c.endpoint, sd.ShardID, err)
			}
		}
		if seq, err := streamstore.ParseSequenceNumber(sd.StartingSequenceNumber); err == nil {
			sd.CreatedAt = time.UnixMicro(seq.ArrivalMicros)
		}
		d.Shards = append(d.Shards, sd)
	}
	return d, nil
}

func (c *Client) listShards(ctx context.Context, name string) ([]types.Shard, error) {
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(name)}
	for {
		out, err := c.k.ListShards(ctx, in)
		if err != nil {
			return nil, c.mapError(err, name)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			return shards, nil
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// normShard turns a shard id or number into the full id, as the store accepts both.
func normShard(id string) (string, error) {
	ix, err := streamstore.ParseShardID(id)
	if err != nil {
		return "", err
	}
	return streamstore.ShardID(ix), nil
}

// SplitShard splits an open shard at hashKey and waits until the stream is ACTIVE.
func (c *Client) SplitShard(ctx context.Context, name, shard, hashKey string) error {
	id, err := normShard(shard)
	if err != nil {
		return err
	}
	if _, err := streamstore.ParseHashKey(hashKey); err != nil {
		return &streamstore.Error{Kind: streamstore.ErrInvalidArgument, Msg: "new starting " + err.Error()}
	}
	_, err = c.k.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(id), NewStartingHashKey: aws.String(hashKey)})
	if err != nil {
		return c.mapError(err, name)
	}
	return c.settle(ctx, name, false)
}

// MergeShards merges two adjacent open shards and waits until the stream is ACTIVE.
func (c *Client) MergeShards(ctx context.Context, name, shard, adjacent string) error {
	a, err := normShard(shard)
	if err != nil {
		return err
	}
	b, err := normShard(adjacent)
	if err != nil {
		return err
	}
	_, err = c.k.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: aws.String(a), AdjacentShardToMerge: aws.String(b)})
	if err != nil {
		return c.mapError(err, name)
	}
	return c.settle(ctx, name, false)
}

// UpdateShardCount reshapes the stream to n uniform open shards and waits until it is ACTIVE.
func (c *Client) UpdateShardCount(ctx context.Context, name string, n int) error {
	_, err := c.k.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(int32(n)),
		ScalingType: types.ScalingTypeUniformScaling})
	if err != nil {
		return c.mapError(err, name)
	}
	return c.settle(ctx, name, false)
}

// SetRetention sets the retention period, increasing or decreasing it as needed.
func (c *Client) SetRetention(ctx context.Context, name string, hours int) error {
	if hours < streamstore.MinRetentionHours || hours > streamstore.MaxRetentionHours {
		return &streamstore.Error{Kind: streamstore.ErrInvalidArgument, Msg: fmt.Sprintf("retention %d hours is out of range; it must be %d to %d hours",
			hours, streamstore.MinRetentionHours, streamstore.MaxRetentionHours)}
	}
	d, err := c.Summary(ctx, name)
	if err != nil {
		return err
	}
	switch {
	case hours > d.RetentionHours:
		_, err = c.k.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(int32(hours))})
	case hours < d.RetentionHours:
		_, err = c.k.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(int32(hours))})
	}
	return c.mapError(err, name)
}

// PutResult says where a record was stored.
type PutResult struct {
	ShardID, SequenceNumber string
}

// PutRecords stores a batch (at most 500 records and 5 MiB) and returns where
// each record went, in batch order. Entries the endpoint fails (throttling,
// internal failures) are sent again, with backoff, until all are stored;
// a retried record lands after the records of its batch that were stored
// before it, so order within a shard holds for batches that need no retry.
func (c *Client) PutRecords(ctx context.Context, name string, batch []streamstore.PutEntry) ([]PutResult, error) {
	res := make([]PutResult, len(batch))
	pending := make([]int, len(batch))
	for i := range pending {
		pending[i] = i
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		in := &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: make([]types.PutRecordsRequestEntry, len(pending))}
		for j, i := range pending {
			in.Records[j] = types.PutRecordsRequestEntry{PartitionKey: aws.String(batch[i].PartitionKey), Data: batch[i].Data}
			if batch[i].ExplicitHashKey != "" {
				in.Records[j].ExplicitHashKey = aws.String(batch[i].ExplicitHashKey)
			}
		}
		out, err := c.k.PutRecords(ctx, in)
		if err != nil {
			return nil, c.mapError(err, name)
		}
		if len(out.Records) != len(pending) {
			return nil, fmt.Errorf("%s: PutRecords answered %d results for %d records", c.endpoint, len(out.Records), len(pending))
		}
		var failed []int
		lastErr := ""
		for j, r := range out.Records {
			i := pending[j]
			if r.ErrorCode != nil {
				failed = append(failed, i)
				lastErr = aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
				continue
			}
			res[i] = PutResult{ShardID: aws.ToString(r.ShardId), SequenceNumber: aws.ToString(r.SequenceNumber)}
		}
		if len(failed) == 0 {
			return res, nil
		}
		if attempt == 30 {
			return nil, fmt.Errorf("%s: %d records still failed after %d attempts; last: %s", c.endpoint, len(failed), attempt, lastErr)
		}
		pending = failed
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}
