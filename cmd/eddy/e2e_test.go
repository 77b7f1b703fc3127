package main_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests in this file run the eddy binary, built once by TestMain, as a user would.

var eddyBin string // set once by TestMain before any test runs

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eddy-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eddyBin = filepath.Join(dir, "eddy")
	build := exec.Command("go", "build", "-o", eddyBin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build eddy:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs eddy commands against one data dir.
type cli struct {
	t       *testing.T
	dataDir string
	env     []string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, dataDir: filepath.Join(t.TempDir(), "data")}
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(stdin []byte, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(eddyBin, append(args, "--data-dir", c.dataDir)...)
	cmd.Env = append(os.Environ(), c.env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run eddy %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs a command that must succeed.
func (c *cli) ok(stdin []byte, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("eddy %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// putFile puts a file as stdin (a regular file, as `eddy put < file` gives it).
func (c *cli) putFile(path string, args ...string) string {
	c.t.Helper()
	f, err := os.Open(path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(eddyBin, append(append([]string{"put"}, args...), "--data-dir", c.dataDir)...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = f
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			c.t.Fatalf("eddy put %v: %v\nstderr: %s", args, err, ee.Stderr)
		}
		c.t.Fatal(err)
	}
	return string(out)
}

type gotRecord struct {
	ShardID                     string `json:"shardId"`
	SequenceNumber              string `json:"sequenceNumber"`
	PartitionKey                string `json:"partitionKey"`
	ApproximateArrivalTimestamp string `json:"approximateArrivalTimestamp"`
	Data                        string `json:"data"`
	Encoding                    string `json:"encoding"`
}

func (c *cli) get(args ...string) []gotRecord {
	c.t.Helper()
	out := c.ok(nil, append([]string{"get"}, args...)...)
	return parseRecords(c.t, out)
}

func parseRecords(t *testing.T, out string) []gotRecord {
	t.Helper()
	var recs []gotRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var r gotRecord
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("get printed a line that is not a record: %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

type describeOut struct {
	StreamName     string `json:"streamName"`
	RetentionHours int    `json:"retentionHours"`
	OpenShards     int    `json:"openShards"`
	Shards         []struct {
		ShardID               string `json:"shardId"`
		ParentShardID         string `json:"parentShardId"`
		AdjacentParentShardID string `json:"adjacentParentShardId"`
		HashKeyRange          struct {
			StartingHashKey string `json:"startingHashKey"`
			EndingHashKey   string `json:"endingHashKey"`
		} `json:"hashKeyRange"`
		SequenceNumberRange struct {
			StartingSequenceNumber string `json:"startingSequenceNumber"`
			EndingSequenceNumber   string `json:"endingSequenceNumber"`
		} `json:"sequenceNumberRange"`
		Status   string `json:"status"`
		Records  uint64 `json:"records"`
		Segments int    `json:"segments"`
	} `json:"shards"`
}

func (c *cli) describe(name string) describeOut {
	c.t.Helper()
	var d describeOut
	if err := json.Unmarshal([]byte(c.ok(nil, "streams", "describe", name, "--json")), &d); err != nil {
		c.t.Fatal(err)
	}
	return d
}

// shardOfKey is the test's own routing oracle: MD5 of the key as a 128-bit
// unsigned integer, in uniform ranges starting at floor(2^128/n)*i.
func shardOfKey(key string, n int) int {
	sum := md5.Sum([]byte(key))
	h := new(big.Int).SetBytes(sum[:])
	width := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(int64(n)))
	i := int(new(big.Int).Div(h, width).Int64())
	return min(i, n-1)
}

func shardName(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// seqLess compares sequence numbers numerically (they are decimal strings).
func seqLess(a, b string) bool {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y) < 0
}

type line struct {
	ID   int    `json:"id"`
	User string `json:"user"`
	Body string `json:"body"`
}

// writeLines writes n JSON lines with ids from first, keyed by one of users users.
func writeLines(t *testing.T, path string, first, n, users int) []string {
	t.Helper()
	var buf bytes.Buffer
	var out []string
	for i := first; i < first+n; i++ {
		b, _ := json.Marshal(line{ID: i, User: fmt.Sprintf("user-%d", i%users), Body: strings.Repeat("x", i%97)})
		out = append(out, string(b))
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutGetHundredThousand(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "streams", "create", "events", "--shards", "4")
	in := filepath.Join(t.TempDir(), "in.jsonl")
	const n = 100_000
	lines := writeLines(t, in, 0, n, 1000)
	summary := c.putFile(in, "events", "--partition-key-field", "user")
	if !strings.Contains(summary, "put 100000 records") {
		t.Fatalf("summary does not report 100000 records:\n%s", summary)
	}

	recs := c.get("events")
	if len(recs) != n {
		t.Fatalf("get returned %d records, want %d", len(recs), n)
	}
	want := map[string]bool{}
	for _, l := range lines {
		want[l] = true
	}
	perShard := map[string]int{}
	lastSeq := map[string]string{}
	lastID := map[string]int{} // per partition key: ids must come in put order
	for _, r := range recs {
		if !want[r.Data] {
			t.Fatalf("record %q was not put, or was returned twice", r.Data)
		}
		delete(want, r.Data)
		var l line
		if err := json.Unmarshal([]byte(r.Data), &l); err != nil {
			t.Fatal(err)
		}
		if r.PartitionKey != l.User {
			t.Fatalf("record %d has partition key %q, want %q", l.ID, r.PartitionKey, l.User)
		}
		if wantShard := shardName(shardOfKey(l.User, 4)); r.ShardID != wantShard {
			t.Fatalf("key %q landed in %s, MD5 routing says %s", l.User, r.ShardID, wantShard)
		}
		if len(r.SequenceNumber) != 56 {
			t.Fatalf("sequence number %q is not 56 digits", r.SequenceNumber)
		}
		if prev, ok := lastSeq[r.ShardID]; ok && !seqLess(prev, r.SequenceNumber) {
			t.Fatalf("shard %s: sequence number %s follows %s", r.ShardID, r.SequenceNumber, prev)
		}
		lastSeq[r.ShardID] = r.SequenceNumber
		if prev, ok := lastID[l.User]; ok && l.ID <= prev {
			t.Fatalf("key %s: id %d read after id %d", l.User, l.ID, prev)
		}
		lastID[l.User] = l.ID
		perShard[r.ShardID]++
		if _, err := time.Parse(time.RFC3339Nano, r.ApproximateArrivalTimestamp); err != nil {
			t.Fatalf("arrival timestamp %q: %v", r.ApproximateArrivalTimestamp, err)
		}
	}
	d := c.describe("events")
	for _, s := range d.Shards {
		if int(s.Records) != perShard[s.ShardID] {
			t.Errorf("describe says %s holds %d records, get read %d", s.ShardID, s.Records, perShard[s.ShardID])
		}
		if !strings.Contains(summary, fmt.Sprintf("%s  %d", s.ShardID, perShard[s.ShardID])) {
			t.Errorf("put summary lacks %s with %d records:\n%s", s.ShardID, perShard[s.ShardID], summary)
		}
	}

	// One shard alone, and positions within it.
	one := c.get("events", "--shard", "shardId-000000000002")
	if len(one) != perShard["shardId-000000000002"] {
		t.Fatalf("--shard read %d records, want %d", len(one), perShard["shardId-000000000002"])
	}
	mid := one[len(one)/2]
	at := c.get("events", "--shard", "2", "--from", "at:"+mid.SequenceNumber, "--limit", "3")
	after := c.get("events", "--shard", "2", "--from", "after:"+mid.SequenceNumber, "--limit", "2")
	if len(at) != 3 || at[0] != mid || at[1] != one[len(one)/2+1] {
		t.Fatalf("at:%s gave %v", mid.SequenceNumber, at)
	}
	if len(after) != 2 || after[0] != at[1] || after[1] != at[2] {
		t.Fatalf("after:%s gave %v, want %v", mid.SequenceNumber, after, at[1:])
	}
	if latest := c.get("events", "--from", "latest"); len(latest) != 0 {
		t.Fatalf("latest returned %d old records", len(latest))
	}
}

// TestBinaryRecordsAndKeys checks that data that is not UTF-8 comes back base64
// encoded, and that a fixed partition key sends everything to one shard.
func TestBinaryRecordsAndKeys(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "streams", "create", "bin", "--shards", "4")
	c.ok([]byte("plain\n\xff\xfe\x00raw\r\n\n"), "put", "bin", "--partition-key", "pk1")
	recs := c.get("bin")
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2 (the empty line is skipped): %v", len(recs), recs)
	}
	if recs[0].Data != "plain" || recs[0].Encoding != "" {
		t.Fatalf("first record %+v", recs[0])
	}
	if recs[1].Encoding != "base64" || recs[1].Data != "//4AcmF3" {
		t.Fatalf("binary record %+v, want base64 //4AcmF3", recs[1])
	}
	for _, r := range recs {
		if r.ShardID != "shardId-000000000003" { // AWS's vector: pk1 -> shard 3 of 4
			t.Fatalf("pk1 routed to %s", r.ShardID)
		}
	}
}

func TestSplitMergeLineage(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "streams", "create", "s", "--shards", "2")
	dir := t.TempDir()
	var all []string
	put := func(first int) {
		path := filepath.Join(dir, fmt.Sprintf("in-%d.jsonl", first))
		all = append(all, writeLines(t, path, first, 2000, 50)...)
		c.putFile(path, "s", "--partition-key-field", "user")
	}
	put(0)
	// Split shard 0 in the middle of its range: 2^126.
	mid := new(big.Int).Lsh(big.NewInt(1), 126).String()
	out := c.ok(nil, "streams", "split", "s", "shardId-000000000000", mid)
	if !strings.Contains(out, "3 open shards") {
		t.Fatalf("split output: %s", out)
	}
	put(2000)
	c.ok(nil, "streams", "merge", "s", "shardId-000000000003", "shardId-000000000001")
	put(4000)
	c.ok(nil, "streams", "scale", "s", "--shards", "3")
	put(6000)

	d := c.describe("s")
	if d.OpenShards != 3 {
		t.Fatalf("open shards %d, want 3", d.OpenShards)
	}
	parents := map[string][]string{}
	for _, s := range d.Shards {
		if s.ParentShardID != "" {
			parents[s.ShardID] = append(parents[s.ShardID], s.ParentShardID)
		}
		if s.AdjacentParentShardID != "" {
			parents[s.ShardID] = append(parents[s.ShardID], s.AdjacentParentShardID)
		}
		closed := s.Status == "CLOSED"
		if closed != (s.SequenceNumberRange.EndingSequenceNumber != "") {
			t.Fatalf("shard %s status %s with ending sequence number %q", s.ShardID, s.Status, s.SequenceNumberRange.EndingSequenceNumber)
		}
	}
	if p := parents["shardId-000000000002"]; len(p) != 1 || p[0] != "shardId-000000000000" {
		t.Fatalf("shard 2's parents %v, want [shardId-000000000000]", p)
	}
	if p := parents["shardId-000000000004"]; len(p) != 2 || p[0] != "shardId-000000000003" || p[1] != "shardId-000000000001" {
		t.Fatalf("merged shard 4's parents %v, want [3 1]", p)
	}

	recs := c.get("s")
	if len(recs) != len(all) {
		t.Fatalf("read %d records, want %d", len(recs), len(all))
	}
	// Every key's records arrive in put order across the reshards, and no shard's
	// record precedes the last record of any of its parents.
	lastID := map[string]int{}
	lastPos := map[string]int{}
	firstPos := map[string]int{}
	for i, r := range recs {
		var l line
		json.Unmarshal([]byte(r.Data), &l)
		if prev, ok := lastID[l.User]; ok && l.ID <= prev {
			t.Fatalf("key %s: id %d read after %d", l.User, l.ID, prev)
		}
		lastID[l.User] = l.ID
		if _, ok := firstPos[r.ShardID]; !ok {
			firstPos[r.ShardID] = i
		}
		lastPos[r.ShardID] = i
	}
	for child, ps := range parents {
		for _, p := range ps {
			if f, ok := firstPos[child]; ok && lastPos[p] > f {
				t.Fatalf("child %s's first record (#%d) precedes parent %s's last (#%d)", child, f, p, lastPos[p])
			}
		}
	}
	// Reading one shard follows its descendants.
	sub := c.get("s", "--shard", "shardId-000000000001")
	for _, r := range sub {
		if r.ShardID == "shardId-000000000000" || r.ShardID == "shardId-000000000002" || r.ShardID == "shardId-000000000003" {
			t.Fatalf("--shard 1 read unrelated shard %s", r.ShardID)
		}
	}
}

func TestRetentionWithInjectedClock(t *testing.T) {
	c := newCLI(t)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) { c.env = []string{"EDDY_NOW=" + t0.Add(d).Format(time.RFC3339)} }
	at(0)
	c.ok(nil, "streams", "create", "r", "--shards", "1", "--segment-bytes", "4096")
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "old.jsonl"), 0, 500, 5)
	fresh := writeLines(t, filepath.Join(dir, "new.jsonl"), 500, 300, 5)
	c.putFile(filepath.Join(dir, "old.jsonl"), "r", "--segment-bytes", "4096")
	at(20 * time.Hour)
	c.putFile(filepath.Join(dir, "new.jsonl"), "r", "--segment-bytes", "4096")
	before := c.describe("r").Shards[0]

	at(25 * time.Hour) // the first batch is now 25h old, past the default 24h
	recs := c.get("r")
	if len(recs) != len(fresh) || recs[0].Data != fresh[0] {
		t.Fatalf("after 25h read %d records starting %q; want the %d fresh ones", len(recs), recs[0].Data, len(fresh))
	}
	c.ok(nil, "streams", "retention", "r", "--hours", "24", "--segment-bytes", "4096")
	after := c.describe("r").Shards[0]
	if after.Segments >= before.Segments || after.Records >= before.Records || after.Records < uint64(len(fresh)) {
		t.Fatalf("retention left %d segments / %d records (before %d / %d); want whole old segments gone and every fresh record kept",
			after.Segments, after.Records, before.Segments, before.Records)
	}
	if got := c.get("r", "--from", "time:"+t0.Format(time.RFC3339)); len(got) != len(fresh) {
		t.Fatalf("time:%s read %d records, want %d", t0.Format(time.RFC3339), len(got), len(fresh))
	}
	// Longer retention keeps records that the default would drop.
	c.ok(nil, "streams", "retention", "r", "--hours", "48")
	at(60 * time.Hour)
	if got := c.get("r"); len(got) != len(fresh) {
		t.Fatalf("with 48h retention at +60h read %d, want %d", len(got), len(fresh))
	}
	at(69 * time.Hour)
	if got := c.get("r"); len(got) != 0 {
		t.Fatalf("at +69h (49h after the fresh batch) read %d, want 0", len(got))
	}
}

// snapshotDir returns every file's content under dir except the lock file.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() && fi.Name() != "LOCK" {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

func TestBadInputIsRejectedAndChangesNothing(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "streams", "create", "s", "--shards", "2")
	c.ok([]byte("a\nb\n"), "put", "s")
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	bigFile := filepath.Join(t.TempDir(), "big.txt")
	os.WriteFile(bigFile, append([]byte("ok line\n"), append(big, '\n')...), 0o644)
	noKeyFile := filepath.Join(t.TempDir(), "nokey.jsonl")
	os.WriteFile(noKeyFile, []byte("{\"user\":\"a\"}\n{\"other\":1}\n"), 0o644)

	cases := []struct {
		name    string
		args    []string
		stdin   string // a file path; empty for none
		mention []string
	}{
		{"unknown stream", []string{"put", "nope"}, "", []string{`"nope"`, "does not exist"}},
		{"unknown stream get", []string{"get", "nope"}, "", []string{`"nope"`}},
		{"bad shard id", []string{"get", "s", "--shard", "shard-7"}, "", []string{"shard-7"}},
		{"missing shard", []string{"get", "s", "--shard", "shardId-000000000009"}, "", []string{"shardId-000000000009", "does not exist"}},
		{"oversize record", []string{"put", "s"}, bigFile, []string{"line 2", "1 MiB", "nothing was stored"}},
		{"missing key field", []string{"put", "s", "--partition-key-field", "user"}, noKeyFile, []string{"line 2", "user", "missing"}},
		{"bad hash key", []string{"streams", "split", "s", "shardId-000000000000", "12x"}, "", []string{"12x"}},
		{"hash key too big", []string{"streams", "split", "s", "0", "340282366920938463463374607431768211456"}, "", []string{"340282366920938463463374607431768211456"}},
		{"split key outside shard", []string{"streams", "split", "s", "shardId-000000000000", "200000000000000000000000000000000000000"}, "", []string{"200000000000000000000000000000000000000", "outside"}},
		{"split at shard start", []string{"streams", "split", "s", "shardId-000000000001", "170141183460469231731687303715884105728"}, "", []string{"outside"}},
		{"invalid name", []string{"streams", "create", "bad/name", "--shards", "1"}, "", []string{"bad/name", "[a-zA-Z0-9_.-]"}},
		{"name too long", []string{"streams", "create", strings.Repeat("n", 129)}, "", []string{"128"}},
		{"too many shards", []string{"streams", "create", "x", "--shards", "501"}, "", []string{"501", "500"}},
		{"zero shards", []string{"streams", "create", "x", "--shards", "0"}, "", []string{"0"}},
		{"existing stream", []string{"streams", "create", "s", "--shards", "1"}, "", []string{`"s"`, "already exists"}},
		{"merge with itself", []string{"streams", "merge", "s", "0", "0"}, "", []string{"itself"}},
		{"merge unknown shard", []string{"streams", "merge", "s", "0", "7"}, "", []string{"shardId-000000000007"}},
		{"retention too short", []string{"streams", "retention", "s", "--hours", "23"}, "", []string{"23", "24 to 8760"}},
		{"retention too long", []string{"streams", "retention", "s", "--hours", "8761"}, "", []string{"8761"}},
		{"bad from", []string{"get", "s", "--from", "yesterday"}, "", []string{"yesterday", "trim_horizon"}},
		{"bad time", []string{"get", "s", "--from", "time:noon"}, "", []string{"time:noon", "RFC 3339"}},
		{"bad sequence", []string{"get", "s", "--from", "at:42"}, "", []string{"42", "56"}},
		{"scale to zero", []string{"streams", "scale", "s", "--shards", "0"}, "", []string{"0"}},
		{"unknown flag", []string{"streams", "list", "--bogus"}, "", []string{"--bogus"}},
		{"missing arg", []string{"streams", "describe"}, "", []string{"NAME"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshotDir(t, c.dataDir)
			var r result
			if tc.stdin != "" {
				f, _ := os.Open(tc.stdin)
				cmd := exec.Command(eddyBin, append(tc.args, "--data-dir", c.dataDir)...)
				cmd.Stdin = f
				var so, se bytes.Buffer
				cmd.Stdout, cmd.Stderr = &so, &se
				err := cmd.Run()
				f.Close()
				r = result{so.String(), se.String(), 0}
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					r.code = ee.ExitCode()
				}
			} else {
				r = c.run(nil, tc.args...)
			}
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
			}
			msg := strings.TrimSuffix(r.stderr, "\n")
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "eddy: ") {
				t.Fatalf("error is not one line starting with 'eddy: ': %q", r.stderr)
			}
			for _, m := range tc.mention {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not mention %q", msg, m)
				}
			}
			after := snapshotDir(t, c.dataDir)
			if len(after) != len(before) {
				t.Fatalf("files changed: %d before, %d after", len(before), len(after))
			}
			for p, b := range before {
				if after[p] != b {
					t.Fatalf("%s changed", p)
				}
			}
		})
	}
	if recs := c.get("s"); len(recs) != 2 {
		t.Fatalf("after the bad commands the stream holds %d records, want 2", len(recs))
	}
}

// TestSecondWriterGetsLockError checks per-stream write ownership between
// processes: while one `eddy put s` writes s, other writers of s fail with one
// line naming the stream and the writer's pid, and other streams are created
// and written beside it.
func TestSecondWriterGetsLockError(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "streams", "create", "s", "--shards", "1")
	// A put that waits on its stdin holds s from its first stored batch on:
	// with --batch-size 1 the second line sends the first.
	cmd := exec.Command(eddyBin, "put", "s", "--batch-size", "1", "--data-dir", c.dataDir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	fmt.Fprintln(stdin, "hello")
	fmt.Fprintln(stdin, "world")
	// The stream's lock file names its writer's pid once the put holds it.
	pid := fmt.Sprint(cmd.Process.Pid)
	waitFor(t, func() bool {
		b, _ := os.ReadFile(filepath.Join(c.dataDir, "streams", "s.stream", "LOCK"))
		return strings.TrimSpace(string(b)) == pid
	})
	for _, args := range [][]string{{"put", "s"}, {"streams", "split", "s", "0", "1000"}} {
		r := c.run([]byte("intruder\n"), args...)
		msg := strings.TrimSuffix(r.stderr, "\n")
		if r.code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, "stream s is being written by another eddy process (pid "+pid+")") {
			t.Fatalf("eddy %v beside the writer: exit %d stderr %q; want one line naming stream s and pid %s", args, r.code, r.stderr, pid)
		}
	}
	// Other streams are created and written beside it, and s is read.
	c.ok(nil, "streams", "create", "t", "--shards", "1")
	c.ok([]byte("beside\n"), "put", "t")
	if recs := c.get("t"); len(recs) != 1 || recs[0].Data != "beside" {
		t.Fatalf("t holds %v", recs)
	}
	if recs := c.get("s"); len(recs) != 1 || recs[0].Data != "hello" {
		t.Fatalf("s holds %v while the put runs; want its first line", recs)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("put: %v", err)
	}
	if recs := c.get("s"); len(recs) != 2 || recs[0].Data != "hello" || recs[1].Data != "world" {
		t.Fatalf("records %v", recs)
	}
	// Once the writer is gone, the split that was refused works.
	c.ok(nil, "streams", "split", "s", "0", "1000")
}

func TestGetFollowSeesConcurrentPuts(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "streams", "create", "f", "--shards", "2")
	follow := exec.Command(eddyBin, "get", "f", "--follow", "--data-dir", c.dataDir)
	out, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	follow.Stderr = &stderr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var sent []string
	for i := range 3 {
		var in strings.Builder
		for j := range 10 {
			s := fmt.Sprintf("round %d record %d", i, j)
			sent = append(sent, s)
			in.WriteString(s + "\n")
		}
		c.ok([]byte(in.String()), "put", "f", "--partition-key", fmt.Sprint(i))
		if i == 1 {
			c.ok(nil, "streams", "split", "f", "shardId-000000000000", "1000")
		}
	}
	got := map[string]bool{}
	timeout := time.After(15 * time.Second)
	for len(got) < len(sent) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("get --follow ended early: %s", stderr.String())
			}
			recs := parseRecords(t, l)
			got[recs[0].Data] = true
		case <-timeout:
			t.Fatalf("get --follow printed %d of %d records", len(got), len(sent))
		}
	}
	follow.Process.Signal(os.Interrupt)
	if err := follow.Wait(); err != nil {
		t.Fatalf("get --follow on interrupt: %v (%s)", err, stderr.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in 5s")
}
