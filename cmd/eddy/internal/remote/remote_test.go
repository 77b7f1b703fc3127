package remote

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// TestPutRecordsRetriesFailedEntries answers PutRecords as a throttled Kinesis
// does, failing some entries, and checks that they are sent again until every
// record is stored, and that results come back in batch order.
func TestPutRecordsRetriesFailedEntries(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_PROFILE", "")
	var mu sync.Mutex
	calls, stored := 0, map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecords") {
			http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), 400)
			return
		}
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=eddy/") {
			t.Errorf("loopback request without credentials is not signed with the dummy ones: %q", r.Header.Get("Authorization"))
		}
		body, _ := io.ReadAll(r.Body)
		var in struct {
			Records []struct{ Data, PartitionKey string }
		}
		json.Unmarshal(body, &in)
		mu.Lock()
		defer mu.Unlock()
		calls++
		type entry struct {
			SequenceNumber, ShardId, ErrorCode, ErrorMessage string `json:",omitempty"`
		}
		var out struct {
			FailedRecordCount int
			Records           []entry
		}
		for i, rec := range in.Records {
			if calls < 3 && i%2 == 0 {
				out.FailedRecordCount++
				out.Records = append(out.Records, entry{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard"})
				continue
			}
			seq := fmt.Sprintf("%056d", len(stored))
			stored[rec.Data] = seq
			out.Records = append(out.Records, entry{SequenceNumber: seq, ShardId: "shardId-000000000000"})
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	c, err := New(context.Background(), Options{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var batch []streamstore.PutEntry
	for i := range 10 {
		batch = append(batch, streamstore.PutEntry{PartitionKey: "k", Data: []byte(fmt.Sprint(i))})
	}
	res, err := c.PutRecords(context.Background(), "s", batch)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 || len(stored) != 10 {
		t.Fatalf("%d calls stored %d records; want 3 calls and 10 records", calls, len(stored))
	}
	for i, r := range res {
		// Data is base64 on the wire; the fake keys what it stored by it.
		if want := stored[base64.StdEncoding.EncodeToString(batch[i].Data)]; r.ShardID != "shardId-000000000000" || r.SequenceNumber != want {
			t.Fatalf("result %d: %+v, want sequence number %s", i, r, want)
		}
	}
	seen := map[string]bool{}
	for _, r := range res {
		if seen[r.SequenceNumber] {
			t.Fatalf("sequence number %s given to two records", r.SequenceNumber)
		}
		seen[r.SequenceNumber] = true
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true, "10.0.0.1": false, "example.com": false} {
		if IsLoopback(host) != want {
			t.Errorf("IsLoopback(%q) = %v", host, !want)
		}
	}
}

// TestNonLoopbackNeedsCredentials: only a loopback endpoint gets dummy credentials.
func TestNonLoopbackNeedsCredentials(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	_, err := New(context.Background(), Options{Endpoint: "https://kinesis.invalid.example"})
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("err = %v, want no AWS credentials", err)
	}
	if _, err := New(context.Background(), Options{Endpoint: "ftp://x"}); err == nil {
		t.Fatal("ftp endpoint accepted")
	}
}
