package main_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsCLI is Debian's AWS CLI v2 (apt-get install awscli); an older v1 may
// shadow it on PATH, so it is taken by its path.
const awsCLI = "/usr/bin/aws"

// serveEddy starts `eddy serve` on a free loopback port and returns its URL;
// the server is stopped at the end of the test.
func serveEddy(t *testing.T, dataDir string, extra ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"serve", "--listen", addr, "--data-dir", dataDir}, extra...)
	cmd := exec.CommandContext(ctx, eddyBin, args...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		select {
		case <-exited:
			t.Fatalf("eddy serve exited:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("eddy serve did not listen on %s:\n%s", addr, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAWSCLIAgainstServe drives `eddy serve` with the AWS CLI v2, as a user
// pointing their scripts at eddy with --endpoint-url would.
func TestAWSCLIAgainstServe(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("EDDY_REQUIRE_AWSCLI") == "1" {
			t.Fatalf("%s is missing: apt-get install awscli", awsCLI)
		}
		t.Skipf("%s is missing (apt-get install awscli); CI sets EDDY_REQUIRE_AWSCLI=1", awsCLI)
	}
	endpoint := serveEddy(t, filepath.Join(t.TempDir(), "data"), "--state-delay", "100ms")
	home := t.TempDir()
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=eddy", "AWS_SECRET_ACCESS_KEY=eddy-secret", "AWS_REGION=eu-west-1",
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_CONFIG_FILE="+filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"), "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "HOME="+home)
	aws := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", endpoint, "--output", "json", "kinesis"}, args...)...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws kinesis %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		var v map[string]any
		if out.Len() > 0 {
			if err := json.Unmarshal(out.Bytes(), &v); err != nil {
				t.Fatalf("aws kinesis %s printed %q: %v", strings.Join(args, " "), out.String(), err)
			}
		}
		return v
	}
	awsFails := func(want string, args ...string) {
		t.Helper()
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", endpoint, "kinesis"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Fatalf("aws kinesis %s: want a failure with %q, got %v:\n%s", strings.Join(args, " "), want, err, out)
		}
	}

	aws("create-stream", "--stream-name", "orders", "--shard-count", "2")
	aws("wait", "stream-exists", "--stream-name", "orders")
	put := aws("put-record", "--stream-name", "orders", "--partition-key", "user-1", "--data", base64.StdEncoding.EncodeToString([]byte(`{"id":1}`)))
	if put["ShardId"] == nil || put["SequenceNumber"] == nil {
		t.Fatalf("put-record answered %v", put)
	}
	recs := aws("put-records", "--stream-name", "orders", "--records",
		`[{"Data":"eyJpZCI6Mn0=","PartitionKey":"user-2"},{"Data":"eyJpZCI6M30=","PartitionKey":"user-1"}]`)
	if recs["FailedRecordCount"].(float64) != 0 || len(recs["Records"].([]any)) != 2 {
		t.Fatalf("put-records answered %v", recs)
	}
	// Read back the shard user-1 went to: both of its records, in order.
	shard := put["ShardId"].(string)
	it := aws("get-shard-iterator", "--stream-name", "orders", "--shard-id", shard, "--shard-iterator-type", "TRIM_HORIZON")
	got := aws("get-records", "--shard-iterator", it["ShardIterator"].(string))
	var ids []string
	for _, r := range got["Records"].([]any) {
		rec := r.(map[string]any)
		if rec["PartitionKey"] == "user-1" {
			data, _ := base64.StdEncoding.DecodeString(rec["Data"].(string))
			ids = append(ids, string(data))
		}
	}
	if strings.Join(ids, ",") != `{"id":1},{"id":3}` {
		t.Fatalf("get-records on %s gave user-1's records %v", shard, ids)
	}

	shards := aws("list-shards", "--stream-name", "orders")["Shards"].([]any)
	first := shards[0].(map[string]any)
	hk := first["HashKeyRange"].(map[string]any)
	aws("split-shard", "--stream-name", "orders", "--shard-to-split", first["ShardId"].(string),
		"--new-starting-hash-key", midHashKey(t, hk["StartingHashKey"].(string), hk["EndingHashKey"].(string)))
	aws("wait", "stream-exists", "--stream-name", "orders")
	if n := len(aws("list-shards", "--stream-name", "orders")["Shards"].([]any)); n != 4 {
		t.Fatalf("after split-shard list-shards shows %d shards, want 4 (2 + 2 children)", n)
	}

	aws("add-tags-to-stream", "--stream-name", "orders", "--tags", "team=data,env=test")
	tags := aws("list-tags-for-stream", "--stream-name", "orders")["Tags"].([]any)
	if len(tags) != 2 {
		t.Fatalf("list-tags-for-stream: %v", tags)
	}
	aws("increase-stream-retention-period", "--stream-name", "orders", "--retention-period-hours", "48")
	summary := aws("describe-stream-summary", "--stream-name", "orders")["StreamDescriptionSummary"].(map[string]any)
	if summary["RetentionPeriodHours"].(float64) != 48 || summary["StreamARN"] != "arn:aws:kinesis:eu-west-1:000000000000:stream/orders" {
		t.Fatalf("describe-stream-summary: %v", summary)
	}
	awsFails("ResourceNotFoundException", "describe-stream", "--stream-name", "nope")
	awsFails("Stream nope under account 000000000000 not found", "describe-stream", "--stream-name", "nope")

	aws("delete-stream", "--stream-name", "orders")
	aws("wait", "stream-not-exists", "--stream-name", "orders")
	if names := aws("list-streams")["StreamNames"].([]any); len(names) != 0 {
		t.Fatalf("after delete-stream list-streams shows %v", names)
	}
}
