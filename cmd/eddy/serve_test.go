package main_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

var serveURL = regexp.MustCompile(`Kinesis and Firehose APIs on (http://127\.0\.0\.1:\d+)`)

// startServe runs `eddy serve` on a free loopback port (port 0, read back from
// its first line) and returns its URL and the process; it is stopped, by
// SIGKILL if need be, at the end of the test.
func startServe(t *testing.T, dataDir string, extra ...string) (string, *exec.Cmd, *syncBuffer, chan error) {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, extra...)
	cmd := exec.Command(eddyBin, args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := serveURL.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], cmd, &stdout, exited
		}
		select {
		case err := <-exited:
			t.Fatalf("eddy serve exited (%v):\n%s%s", err, stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("eddy serve did not start:\n%s%s", stdout.String(), stderr.String())
		}
	}
}

func serveClient(url, key, secret string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "eu-central-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		Retryer:      closedConnRetryer(),
	})
}

// TestServeKinesisAPI starts the binary, uses it with an SDK client, then stops
// it with SIGTERM and checks that it shut down cleanly and kept the records.
func TestServeKinesisAPI(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	url, cmd, stdout, exited := startServe(t, dataDir, "--state-delay", "50ms", "--account-id", "111122223333")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := serveClient(url, "AKID", "anything")
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("events"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	w := kinesis.NewStreamExistsWaiter(c, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("events")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(sum.StreamDescriptionSummary.StreamARN); got != "arn:aws:kinesis:eu-central-1:111122223333:stream/events" {
		t.Fatalf("ARN %s", got)
	}
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("events"), PartitionKey: aws.String("k"), Data: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("events"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil || len(got.Records) != 1 || string(got.Records[0].Data) != "hello" {
		t.Fatalf("GetRecords: %v %+v", err, got)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("eddy serve exited with %v after SIGTERM:\n%s", err, stdout.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("eddy serve did not stop after SIGTERM")
	}
	if !strings.Contains(stdout.String(), "eddy serve: stopped") {
		t.Fatalf("output:\n%s", stdout.String())
	}
	out, err := exec.Command(eddyBin, "get", "events", "--data-dir", dataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"data":"hello"`) {
		t.Fatalf("eddy get after serve: %v\n%s", err, out)
	}
}

func TestServeVerifiesSignatures(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = EDDYKEY\naws_secret_access_key = right-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, _, _ := startServe(t, filepath.Join(dir, "data"), "--credentials", creds)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := serveClient(url, "EDDYKEY", "right-secret").ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Fatalf("correctly signed request refused: %v", err)
	}
	for _, tc := range []struct{ key, secret, code string }{
		{"EDDYKEY", "wrong-secret", "InvalidSignatureException"},
		{"OTHERKEY", "right-secret", "UnrecognizedClientException"},
	} {
		_, err := serveClient(url, tc.key, tc.secret).ListStreams(ctx, &kinesis.ListStreamsInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Fatalf("key %s secret %s: got %v, want %s", tc.key, tc.secret, err, tc.code)
		}
	}
}

func TestServeRefusesNonLoopbackWithoutAuth(t *testing.T) {
	out, err := exec.Command(eddyBin, "serve", "--listen", "0.0.0.0:0", "--data-dir", filepath.Join(t.TempDir(), "data")).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "not a loopback address") {
		t.Fatalf("eddy serve --listen 0.0.0.0:0: %v\n%s", err, out)
	}
}

// closedConnRetryer retries one failure only: a reply whose connection the
// client's own transport closed because the SDK closed the request body while
// the transport still checked it for extra bytes (aws-sdk-go-v2#2737, a race
// in the client that the SDK's default retryer retries too). Every other
// error surfaces at once, as with aws.NopRetryer.
func closedConnRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
	})
}
