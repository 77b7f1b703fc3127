package kinesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
)

// RemoteSink writes rows into a Kinesis stream of any endpoint (AWS, or eddy
// serve) through aws-sdk-go-v2, each row one JSON record as EmbeddedSink
// writes it, keyed by the partition_key column (a random key when unset, NULL
// or empty).
//
// Write puts every row before it returns, with PutRecords calls of up to 500
// records and 5 MiB, in row order. Entries a call reports as failed
// (throttling, internal failures) are put again, alone and in their order,
// after a backoff with jitter, until they all succeed or ctx ends; a call
// that fails whole is retried the same way (throttling for as long as ctx
// lasts, other transient failures up to 10 times in a row). Rows of one
// partition key keep their order as long as no entry fails: an entry put
// again lands after the later entries of its call that succeeded (Kinesis
// PutRecords promises no order within a call either way).
//
// It is an exec.Sink, not an exec.CommittingSink: Kinesis has no
// transactions, so rows are visible once put, and a run restored from a
// checkpoint puts again the rows computed after it. With checkpoints the
// output is at least once (Flush, called at each checkpoint, has nothing left
// to do since Write returns only once its rows are put).
type RemoteSink struct {
	client *awskinesis.Client
	rc     RemoteConfig
	cfg    SinkConfig
	enc    format.Encoder
	keyCol int
	rng    *rand.Rand
	keyBuf []byte
	batch  []ktypes.PutRecordsRequestEntry
	bytes  int

	retried int // entries put again after they failed (tests)
}

var _ exec.Sink = (*RemoteSink)(nil)

// NewRemoteSink checks that the stream exists at the endpoint and returns a sink.
func NewRemoteSink(ctx context.Context, cfg SinkConfig, rc RemoteConfig) (*RemoteSink, error) {
	if cfg.Stream == "" {
		return nil, fmt.Errorf("kinesis sink %s: option stream is required", cfg.Name)
	}
	rc.defaults()
	enc, err := format.NewEncoder("json", cfg.Schema, nil)
	if err != nil {
		return nil, fmt.Errorf("kinesis sink %s: %w", cfg.Name, err)
	}
	s := &RemoteSink{rc: rc, cfg: cfg, enc: enc, keyCol: -1, rng: newRand()}
	if cfg.PartitionKey != "" {
		s.keyCol = cfg.Schema.Index(cfg.PartitionKey)
		if s.keyCol < 0 {
			names := make([]string, len(cfg.Schema))
			for i, c := range cfg.Schema {
				names[i] = c.Name
			}
			return nil, fmt.Errorf("kinesis sink %s: option partition_key = %q is not a column of the output (%s)", cfg.Name, cfg.PartitionKey, strings.Join(names, ", "))
		}
	}
	if s.client, err = newRemoteClient(ctx, &s.rc); err != nil {
		return nil, fmt.Errorf("kinesis sink %s: %w", cfg.Name, err)
	}
	_, err = retryCall(ctx, s.rc.MaxBackoff, func() (*awskinesis.DescribeStreamSummaryOutput, error) {
		return s.client.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(cfg.Stream)})
	})
	if err != nil {
		return nil, fmt.Errorf("kinesis sink %s: stream %q at %s: %w", cfg.Name, cfg.Stream, s.rc.where(), err)
	}
	return s, nil
}

func (s *RemoteSink) partitionKey(rec arrow.RecordBatch, i int) string {
	if s.keyCol < 0 || rec.Column(s.keyCol).IsNull(i) {
		return randomKey(s.rng)
	}
	s.keyBuf = format.AppendText(s.keyBuf[:0], rec.Column(s.keyCol), i)
	if len(s.keyBuf) == 0 {
		return randomKey(s.rng)
	}
	return truncateKey(string(s.keyBuf))
}

// Write puts every row of rec as one record, and returns once all are put.
func (s *RemoteSink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	err := s.enc.EachRow(rec, func(i int, text []byte) error {
		key := s.partitionKey(rec, i)
		size := len(text) + len(key)
		if size > streamstore.MaxRecordBytes {
			return fmt.Errorf("kinesis sink %s: row %d encodes to %d bytes with its partition key; a record holds at most %d (1 MiB)", s.cfg.Name, i, size, streamstore.MaxRecordBytes)
		}
		if len(s.batch) == streamstore.MaxBatchRecords || s.bytes+size > streamstore.MaxBatchBytes {
			if err := s.put(ctx); err != nil {
				return err
			}
		}
		s.batch = append(s.batch, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: append([]byte(nil), text...)})
		s.bytes += size
		return nil
	})
	if err == nil {
		err = s.put(ctx)
	}
	if err != nil {
		clear(s.batch)
		s.batch, s.bytes = s.batch[:0], 0
	}
	return err
}

// put puts the batch, putting failed entries again until none is left.
func (s *RemoteSink) put(ctx context.Context) error {
	entries := s.batch
	total := len(entries)
	failures, throttles := 0, 0
	for len(entries) > 0 {
		out, err := s.client.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String(s.cfg.Stream), Records: entries})
		if err == nil && aws.ToInt32(out.FailedRecordCount) == 0 {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var why string
		switch {
		case err != nil && throttled(err):
			throttles++
			why = err.Error()
		case err != nil && transient(err) && failures < remoteMaxFailures:
			failures++
			why = err.Error()
		case err != nil:
			return fmt.Errorf("kinesis sink %s: put %d of %d records into stream %q at %s: %w", s.cfg.Name, len(entries), total, s.cfg.Stream, s.rc.where(), err)
		default:
			// Keep the failed entries, in order; the others are in.
			failed := entries[:0:0]
			for i, r := range out.Records {
				if r.ErrorCode != nil && i < len(entries) {
					failed = append(failed, entries[i])
					if why == "" {
						why = aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
					}
				}
			}
			if len(out.Records) != len(entries) {
				return fmt.Errorf("kinesis sink %s: stream %q at %s answered PutRecords of %d records with %d results", s.cfg.Name, s.cfg.Stream, s.rc.where(), len(entries), len(out.Records))
			}
			s.retried += len(failed)
			entries = failed
			throttles++
		}
		if err := sleepCtx(ctx, backoff(failures+throttles, s.rc.MaxBackoff)); err != nil {
			return fmt.Errorf("kinesis sink %s: %d records not put into stream %q (%s): %w", s.cfg.Name, len(entries), s.cfg.Stream, why, err)
		}
	}
	clear(s.batch)
	s.batch, s.bytes = s.batch[:0], 0
	return nil
}

// Flush does nothing: Write returns once its records are put.
func (s *RemoteSink) Flush(ctx context.Context) error { return nil }

// Close releases nothing: the client holds no open resources of its own.
func (s *RemoteSink) Close() error { return nil }
