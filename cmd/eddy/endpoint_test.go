package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests in this file run the same commands against a data directory and,
// with --endpoint, against `eddy serve` over another data directory, and
// compare what they print. Nothing but 127.0.0.1 is contacted.

// side runs eddy commands on one side: a data dir, or an endpoint.
type side struct {
	t        *testing.T
	dataDir  string
	endpoint string // "" for the data dir side
}

// endpointEnv keeps the AWS SDK from finding credentials or asking the
// instance metadata service: the CLI must fall back to dummy credentials.
func endpointEnv(t *testing.T) []string {
	none := filepath.Join(t.TempDir(), "none")
	env := []string{"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

func (s *side) run(stdinPath string, args ...string) result {
	s.t.Helper()
	if s.endpoint != "" {
		args = append(args, "--endpoint", s.endpoint)
	} else {
		args = append(args, "--data-dir", s.dataDir)
	}
	cmd := exec.Command(eddyBin, args...)
	cmd.Env = endpointEnv(s.t)
	if stdinPath != "" {
		f, err := os.Open(stdinPath)
		if err != nil {
			s.t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("run eddy %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

var (
	seqRE  = regexp.MustCompile(`\b\d{56}\b`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	rateRE = regexp.MustCompile(`in \d+\.\d\ds(, \d+ records/s)?`)
	secRE  = regexp.MustCompile(`"seconds": [0-9.e+-]+`)
)

// norm removes what differs between two stores of the same history: sequence
// numbers (they hold creation times), times, rates and where the streams live.
func (s *side) norm(out string) string {
	where := s.dataDir
	if s.endpoint != "" {
		where = s.endpoint
	}
	out = strings.ReplaceAll(out, where, "WHERE")
	out = strings.ReplaceAll(out, " at WHERE", " in WHERE")
	out = seqRE.ReplaceAllString(out, "SEQ")
	out = timeRE.ReplaceAllString(out, "TIME")
	out = rateRE.ReplaceAllString(out, "in Ts")
	return secRE.ReplaceAllString(out, `"seconds": S`)
}

// pair runs each command on both sides and compares the normalized outputs.
type pair struct {
	t            *testing.T
	local, remot *side
}

func newPair(t *testing.T, serveExtra ...string) *pair {
	remoteDir := filepath.Join(t.TempDir(), "served")
	url := serveEddy(t, remoteDir, append([]string{"--state-delay", "50ms"}, serveExtra...)...)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("serveEddy listens on %s, not loopback", url)
	}
	return &pair{t: t, local: &side{t: t, dataDir: filepath.Join(t.TempDir(), "local")}, remot: &side{t: t, dataDir: remoteDir, endpoint: url}}
}

// same runs args on both sides, requires the same exit status and normalized
// stdout and stderr, and returns the local result.
func (p *pair) same(stdinPath string, args ...string) result {
	p.t.Helper()
	l := p.local.run(stdinPath, args...)
	r := p.remot.run(stdinPath, args...)
	if l.code != r.code {
		p.t.Fatalf("eddy %s: exit %d locally, %d over --endpoint\nlocal stderr: %s\nremote stderr: %s", strings.Join(args, " "), l.code, r.code, l.stderr, r.stderr)
	}
	if a, b := p.local.norm(l.stdout), p.remot.norm(r.stdout); a != b {
		p.t.Fatalf("eddy %s: stdout differs\nlocal:\n%s\nremote:\n%s", strings.Join(args, " "), a, b)
	}
	if a, b := p.local.norm(l.stderr), p.remot.norm(r.stderr); a != b {
		p.t.Fatalf("eddy %s: stderr differs\nlocal:  %s\nremote: %s", strings.Join(args, " "), a, b)
	}
	return l
}

// describeBoth compares describe's text and JSON. Records, bytes and segments
// of a shard, and when it closed, only a data directory knows.
func (p *pair) describeBoth(name string) {
	p.t.Helper()
	l, r := p.local.run("", "streams", "describe", name), p.remot.run("", "streams", "describe", name)
	if l.code != 0 || r.code != 0 {
		p.t.Fatalf("describe %s: exit %d and %d: %s %s", name, l.code, r.code, l.stderr, r.stderr)
	}
	fields := func(out string, local bool) [][]string {
		var rows [][]string
		for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if i >= 3 && len(f) == 9 { // shard rows: RECORDS and BYTES are columns 5 and 6
				if !local && (f[5] != "-" || f[6] != "-") {
					p.t.Fatalf("remote describe shows records/bytes %s %s", f[5], f[6])
				}
				f[5], f[6] = "-", "-"
			}
			rows = append(rows, f)
		}
		return rows
	}
	a, _ := json.Marshal(fields(p.local.norm(l.stdout), true))
	b, _ := json.Marshal(fields(p.remot.norm(r.stdout), false))
	if string(a) != string(b) {
		p.t.Fatalf("describe %s differs\nlocal:\n%s\nremote:\n%s", name, l.stdout, r.stdout)
	}
	l, r = p.local.run("", "streams", "describe", name, "--json"), p.remot.run("", "streams", "describe", name, "--json")
	strip := func(out string, local bool) string {
		var d map[string]any
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			p.t.Fatalf("describe --json: %v\n%s", err, out)
		}
		for _, sh := range d["shards"].([]any) {
			m := sh.(map[string]any)
			for _, k := range []string{"records", "bytes", "segments", "closedAt"} {
				if _, ok := m[k]; !ok && local && (k != "closedAt" || m["status"] == "CLOSED") {
					p.t.Fatalf("local describe --json lacks %s", k)
				}
				delete(m, k)
			}
		}
		b, _ := json.MarshalIndent(d, "", "  ")
		return timeRE.ReplaceAllString(seqRE.ReplaceAllString(string(b), "SEQ"), "TIME")
	}
	if a, b := strip(l.stdout, true), strip(r.stdout, false); a != b {
		p.t.Fatalf("describe --json %s differs\nlocal:\n%s\nremote:\n%s", name, a, b)
	}
}

// TestEndpointMatchesDataDir runs a stream's life with and without --endpoint:
// create, put 10,000 keyed records from a file, get them back, describe,
// split, merge, scale, retention, list and delete.
func TestEndpointMatchesDataDir(t *testing.T) {
	p := newPair(t)
	start := time.Now()
	p.same("", "streams", "list")
	p.same("", "streams", "list", "--json")
	p.same("", "streams", "create", "s", "--shards", "4")
	p.same("", "streams", "create", "s", "--if-not-exists")
	p.same("", "streams", "create", "other", "--shards", "1")
	p.describeBoth("s")

	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	lines := writeLines(t, in, 0, 10000, 97)
	p.same(in, "put", "s", "--partition-key-field", "user")
	p.same(in, "put", "s", "--partition-key-field", "user", "--json", "--batch-size", "137")

	// The ack logs name the same lines and shards.
	for _, s := range []*side{p.local, p.remot} {
		s.run(in, "put", "other", "--partition-key", "k", "--ack-log", filepath.Join(s.dataDir+"-ack"))
	}
	la, _ := os.ReadFile(p.local.dataDir + "-ack")
	ra, _ := os.ReadFile(p.remot.dataDir + "-ack")
	if a, b := seqRE.ReplaceAll(la, nil), seqRE.ReplaceAll(ra, nil); !bytes.Equal(a, b) || bytes.Count(la, []byte("\n")) != 10000 {
		t.Fatalf("ack logs differ: %d and %d bytes", len(la), len(ra))
	}

	out := p.same("", "get", "s").stdout
	recs := parseRecords(t, out)
	if len(recs) != 20000 {
		t.Fatalf("get read %d records, want 20000", len(recs))
	}
	checkPerShardOrder(t, recs, lines)
	p.same("", "get", "s", "--limit", "7")
	p.same("", "get", "s", "--shard", "2")
	p.same("", "get", "s", "--from", "latest")
	p.same("", "get", "s", "--from", "time:2000-01-01T00:00:00Z", "--limit", "3")
	p.describeBoth("s")
	t.Logf("create, 3 puts of 10,000 and gets on both sides: %v", time.Since(start).Round(time.Millisecond))

	// Sequence-number positions name each side's own records.
	for _, s := range []*side{p.local, p.remot} {
		got := parseRecords(t, s.run("", "get", "s", "--shard", "1", "--limit", "5").stdout)
		after := parseRecords(t, s.run("", "get", "s", "--from", "after:"+got[2].SequenceNumber, "--limit", "2").stdout)
		at := parseRecords(t, s.run("", "get", "s", "--from", "at:"+got[3].SequenceNumber, "--limit", "1").stdout)
		if len(after) != 2 || after[0].SequenceNumber != got[3].SequenceNumber || len(at) != 1 || at[0].SequenceNumber != got[3].SequenceNumber {
			t.Fatalf("after:/at: positions (endpoint %q) read %v and %v", s.endpoint, after, at)
		}
	}

	mid := new(big.Int).Lsh(big.NewInt(1), 125).String()
	p.same("", "streams", "split", "s", "shardId-000000000000", mid)
	p.same(in, "put", "s", "--partition-key-field", "user")
	p.same("", "streams", "merge", "s", "5", "1")
	p.same(in, "put", "s", "--partition-key-field", "user")
	p.same("", "streams", "scale", "s", "--shards", "3")
	p.same("", "streams", "retention", "s", "--hours", "48")
	p.same("", "streams", "retention", "s", "--hours", "24")
	p.describeBoth("s")
	p.same("", "streams", "list")
	p.same("", "streams", "list", "--json")
	recs = parseRecords(t, p.same("", "get", "s").stdout)
	if len(recs) != 40000 {
		t.Fatalf("get read %d records after resharding, want 40000", len(recs))
	}
	p.same("", "get", "s", "--shard", "0")
	p.same("", "streams", "delete", "s")
	p.same("", "streams", "list")
	t.Logf("whole sequence: %v", time.Since(start).Round(time.Millisecond))
}

// checkPerShardOrder checks that each shard holds its lines in input order,
// every put of the file once.
func checkPerShardOrder(t *testing.T, recs []gotRecord, lines []string) {
	t.Helper()
	index := map[string]int{}
	for i, l := range lines {
		index[l] = i
	}
	byShard := map[string][]int{}
	for _, r := range recs {
		if _, ok := index[r.Data]; !ok {
			t.Fatalf("unknown record %q", r.Data)
		}
		byShard[r.ShardID] = append(byShard[r.ShardID], index[r.Data])
	}
	for shard, ix := range byShard {
		wraps := 0
		for j := 1; j < len(ix); j++ {
			if ix[j] <= ix[j-1] {
				wraps++
			}
		}
		if wraps > 1 { // two puts of the file: at most one restart
			t.Fatalf("shard %s holds lines out of order (%d restarts)", shard, wraps)
		}
	}
}

// TestEndpointErrorsMatchDataDir checks bad input gets the same one-line error
// and exit status with and without --endpoint.
func TestEndpointErrorsMatchDataDir(t *testing.T) {
	p := newPair(t)
	p.same("", "streams", "create", "s", "--shards", "2")
	dir := t.TempDir()
	big := filepath.Join(dir, "big.txt")
	os.WriteFile(big, append([]byte("ok line\n"), append(bytes.Repeat([]byte("x"), 1<<20+1), '\n')...), 0o644)
	noKey := filepath.Join(dir, "nokey.jsonl")
	os.WriteFile(noKey, []byte("{\"user\":\"a\"}\n{\"other\":1}\n"), 0o644)
	two := filepath.Join(dir, "two.txt")
	os.WriteFile(two, []byte("a\n\nb\n"), 0o644)
	p.same(two, "put", "s", "--partition-key", "k")

	cases := []struct {
		stdin string
		args  []string
	}{
		{"", []string{"streams", "describe", "nope"}},
		{"", []string{"streams", "describe", "nope", "--json"}},
		{"", []string{"streams", "delete", "nope"}},
		{"", []string{"streams", "split", "nope", "0", "5"}},
		{"", []string{"streams", "merge", "nope", "0", "1"}},
		{"", []string{"streams", "scale", "nope", "--shards", "2"}},
		{"", []string{"streams", "retention", "nope", "--hours", "48"}},
		{two, []string{"put", "nope"}},
		{"", []string{"get", "nope"}},
		{"", []string{"get", "s", "--shard", "shard-7"}},
		{"", []string{"get", "s", "--shard", "shardId-000000000009"}},
		{big, []string{"put", "s", "--partition-key", "k"}},
		{noKey, []string{"put", "s", "--partition-key-field", "user"}},
		{two, []string{"put", "s", "--partition-key", "a", "--partition-key-field", "b"}},
		{two, []string{"put", "s", "--batch-size", "501"}},
		{"", []string{"streams", "split", "s", "shardId-000000000000", "12x"}},
		{"", []string{"streams", "split", "s", "0", "340282366920938463463374607431768211456"}},
		{"", []string{"streams", "split", "s", "shardId-000000000000", "200000000000000000000000000000000000000"}},
		{"", []string{"streams", "split", "s", "shardId-000000000001", "170141183460469231731687303715884105728"}},
		{"", []string{"streams", "split", "s", "shard-x", "5"}},
		{"", []string{"streams", "create", "bad/name", "--shards", "1"}},
		{"", []string{"streams", "create", strings.Repeat("n", 129)}},
		{"", []string{"streams", "create", "x", "--shards", "0"}},
		{"", []string{"streams", "create", "s", "--shards", "1"}},
		{"", []string{"streams", "merge", "s", "0", "0"}},
		{"", []string{"streams", "merge", "s", "0", "7"}},
		{"", []string{"streams", "retention", "s", "--hours", "23"}},
		{"", []string{"streams", "retention", "s", "--hours", "8761"}},
		{"", []string{"streams", "retention", "s"}},
		{"", []string{"get", "s", "--from", "yesterday"}},
		{"", []string{"get", "s", "--from", "time:noon"}},
		{"", []string{"get", "s", "--from", "at:42"}},
		{"", []string{"get", "s", "--limit", "-1"}},
		{"", []string{"streams", "scale", "s", "--shards", "0"}},
		{"", []string{"streams", "scale", "s"}},
		{"", []string{"streams", "list", "--bogus"}},
		{"", []string{"streams", "describe"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			p := &pair{t: t, local: &side{t: t, dataDir: p.local.dataDir}, remot: &side{t: t, dataDir: p.remot.dataDir, endpoint: p.remot.endpoint}}
			r := p.same(tc.stdin, tc.args...)
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "eddy: ") {
				t.Fatalf("exit %d, stderr %q: want 1 and one line", r.code, r.stderr)
			}
		})
	}
	if recs := parseRecords(t, p.same("", "get", "s").stdout); len(recs) != 2 {
		t.Fatalf("after the bad commands the stream holds %d records, want 2", len(recs))
	}
}

// TestEndpointGetFollow tails a stream over --endpoint while records are put
// and the stream is split: the children's records follow their parent's.
func TestEndpointGetFollow(t *testing.T) {
	p := newPair(t)
	r := p.remot
	r.run("", "streams", "create", "f", "--shards", "1")
	cmd := exec.Command(eddyBin, "get", "f", "--follow", "--endpoint", r.endpoint)
	cmd.Env = endpointEnv(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	dir := t.TempDir()
	want := 0
	put := func(first int) {
		path := filepath.Join(dir, fmt.Sprintf("f-%d", first))
		writeLines(t, path, first, 10, 3)
		if res := r.run(path, "put", "f", "--partition-key-field", "user"); res.code != 0 {
			t.Fatalf("put: %s", res.stderr)
		}
		want += 10
	}
	put(0)
	if res := r.run("", "streams", "split", "f", "0", new(big.Int).Lsh(big.NewInt(1), 127).String()); res.code != 0 {
		t.Fatalf("split: %s", res.stderr)
	}
	put(10)
	var got []gotRecord
	timeout := time.After(20 * time.Second)
	for len(got) < want {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("get --follow ended after %d records: %s", len(got), stderr.String())
			}
			got = append(got, parseRecords(t, l)...)
		case <-timeout:
			t.Fatalf("get --follow printed %d records of %d: %s", len(got), want, stderr.String())
		}
	}
	shards := map[string]bool{}
	for i, rec := range got {
		var l line
		json.Unmarshal([]byte(rec.Data), &l)
		if i < 10 && (rec.ShardID != "shardId-000000000000" || l.ID != i) {
			t.Fatalf("record %d: %s %s; the parent's records come first, in order", i, rec.ShardID, rec.Data)
		}
		shards[rec.ShardID] = true
	}
	if len(shards) != 3 {
		t.Fatalf("records came from %d shards, want the parent and both children", len(shards))
	}
}
