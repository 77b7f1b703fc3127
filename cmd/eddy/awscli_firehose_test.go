package main_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestAWSCLIFirehoseAgainstServe drives eddy serve's Firehose API with the
// AWS CLI v2: create a delivery stream to a bucket, put records one and in a
// batch, describe, see the objects eddy serve delivers, delete.
func TestAWSCLIFirehoseAgainstServe(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("EDDY_REQUIRE_AWSCLI") == "1" {
			t.Fatalf("%s is missing: apt-get install awscli", awsCLI)
		}
		t.Skipf("%s is missing (apt-get install awscli); CI sets EDDY_REQUIRE_AWSCLI=1", awsCLI)
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	endpoint := serveEddy(t, dataDir, "--state-delay", "100ms")
	home := t.TempDir()
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=eddy", "AWS_SECRET_ACCESS_KEY=eddy-secret", "AWS_REGION=eu-west-1",
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_CONFIG_FILE="+filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"), "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "HOME="+home)
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", endpoint, "--output", "json", "firehose"}, args...)...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			return errb.Bytes(), err
		}
		return out.Bytes(), nil
	}
	aws := func(args ...string) map[string]any {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("aws firehose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var v map[string]any
		if len(out) > 0 {
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("aws firehose %s printed %q: %v", strings.Join(args, " "), out, err)
			}
		}
		return v
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

	created := aws("create-delivery-stream", "--delivery-stream-name", "clicks", "--delivery-stream-type", "DirectPut",
		"--extended-s3-destination-configuration", `{"RoleARN":"arn:aws:iam::000000000000:role/firehose","BucketARN":"arn:aws:s3:::lake",`+
			`"Prefix":"clicks/","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":900},"CompressionFormat":"UNCOMPRESSED",`+
			`"ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"AppendDelimiterToRecord"}]}}`)
	if arn, _ := created["DeliveryStreamARN"].(string); !strings.HasSuffix(arn, ":deliverystream/clicks") {
		t.Fatalf("create-delivery-stream answered %v", created)
	}
	if out, err := run("create-delivery-stream", "--delivery-stream-name", "clicks", "--extended-s3-destination-configuration",
		`{"RoleARN":"arn:aws:iam::000000000000:role/firehose","BucketARN":"arn:aws:s3:::lake"}`); err == nil || !strings.Contains(string(out), "ResourceInUseException") {
		t.Fatalf("a second create-delivery-stream: %v %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := aws("describe-delivery-stream", "--delivery-stream-name", "clicks")
		desc := d["DeliveryStreamDescription"].(map[string]any)
		if desc["DeliveryStreamStatus"] == "ACTIVE" {
			dests := desc["Destinations"].([]any)
			ext := dests[0].(map[string]any)["ExtendedS3DestinationDescription"].(map[string]any)
			if ext["BucketARN"] != "arn:aws:s3:::lake" || ext["Prefix"] != "clicks/" {
				t.Fatalf("describe-delivery-stream: %v", ext)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clicks never became ACTIVE: %v", desc)
		}
		time.Sleep(50 * time.Millisecond)
	}
	one := aws("put-record", "--delivery-stream-name", "clicks", "--record", "Data="+b64(`{"click":0}`))
	if one["RecordId"] == nil {
		t.Fatalf("put-record answered %v", one)
	}
	// 20 records of 55 KB fill the 1 MiB buffer (the CLI's model allows no
	// interval under 60 s), so eddy serve delivers them at once.
	pad := strings.Repeat("x", 55_000)
	var batch []string
	for i := 1; i <= 20; i++ {
		batch = append(batch, fmt.Sprintf(`{"Data":"%s"}`, b64(fmt.Sprintf(`{"click":%d,"pad":"%s"}`, i, pad))))
	}
	batchFile := filepath.Join(t.TempDir(), "batch.json")
	if err := os.WriteFile(batchFile, []byte("["+strings.Join(batch, ",")+"]"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := aws("put-record-batch", "--delivery-stream-name", "clicks", "--records", "file://"+batchFile)
	if res["FailedPutCount"] != float64(0) || len(res["RequestResponses"].([]any)) != 20 {
		t.Fatalf("put-record-batch answered %v", res)
	}
	list := aws("list-delivery-streams")
	if names := list["DeliveryStreamNames"].([]any); len(names) != 1 || names[0] != "clicks" {
		t.Fatalf("list-delivery-streams: %v", list)
	}

	// eddy serve delivers: with a 0 s interval, the records appear at once.
	var got []string
	deadline = time.Now().Add(20 * time.Second)
	for len(got) < 21 && time.Now().Before(deadline) {
		got = got[:0]
		for _, data := range bucketObjects(t, dataDir, "lake") {
			for _, line := range strings.Split(string(data), "\n") {
				var rec struct{ Click int }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("delivered %q: %v", line, err)
				}
				got = append(got, fmt.Sprint(rec.Click))
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	sort.Strings(got)
	var want []string
	for i := 0; i <= 20; i++ {
		want = append(want, fmt.Sprint(i))
	}
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("delivered %q, want %q", got, want)
	}

	aws("delete-delivery-stream", "--delivery-stream-name", "clicks")
	if out, err := run("describe-delivery-stream", "--delivery-stream-name", "clicks"); err == nil || !strings.Contains(string(out), "ResourceNotFoundException") {
		t.Fatalf("describe after delete: %v %s", err, out)
	}
}
