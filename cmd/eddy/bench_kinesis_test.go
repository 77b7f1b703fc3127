package main_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var kinesisBenchRow = regexp.MustCompile(`(?m)^\s*eddy\s+(PutRecords|GetRecords)\s+(\d+)\s+(\d+)\s+(\d+)\s+[0-9.]+\s+([0-9.]+)\s+[0-9.]+\s+[0-9.]+\s*$`)

// TestBenchKinesis runs `eddy bench kinesis` against its in-process server and
// checks that it reports a put and a get row for 1 and 8 clients, that each
// put phase put what was asked, and that each get phase read everything put.
func TestBenchKinesis(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "TMPDIR="+t.TempDir())
	out := c.ok(nil, "bench", "kinesis", "--records", "20000", "--shards", "2")
	t.Logf("eddy bench kinesis:\n%s", out)

	rows := kinesisBenchRow.FindAllStringSubmatch(out, -1)
	seen := map[string]bool{}
	for _, r := range rows {
		op, clients := r[1], r[2]
		n, _ := strconv.ParseInt(r[3], 10, 64)
		rate, _ := strconv.ParseFloat(r[5], 64)
		want := int64(20000)
		if op == "GetRecords" {
			want = 2 * 20000 // everything both put phases wrote
		}
		if n != want {
			t.Errorf("%s from %s clients: %d records, want %d", op, clients, n, want)
		}
		if rate <= 0 {
			t.Errorf("%s from %s clients: %v records/s", op, clients, rate)
		}
		seen[op+"/"+clients] = true
	}
	for _, k := range []string{"PutRecords/1", "PutRecords/8", "GetRecords/1", "GetRecords/8"} {
		if !seen[k] {
			t.Errorf("no row for %s clients", strings.Replace(k, "/", " from ", 1))
		}
	}
	if len(rows) != 4 {
		t.Errorf("%d rows, want 4", len(rows))
	}
	if !strings.Contains(out, "checked eddy: 40000 records put, every PutRecords answered FailedRecordCount 0; each GetRecords phase read all 40000") {
		t.Errorf("the report does not say the counts were checked:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^machine: .*\d+ cores`).MatchString(out) {
		t.Errorf("the report does not name the machine:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^CPU s of this process: [0-9.]+ in all`).MatchString(out) {
		t.Errorf("the report does not give the process's CPU seconds:\n%s", out)
	}

	// Nothing but loopback is ever contacted.
	r := c.run(nil, "bench", "kinesis", "--records", "1000", "--endpoint", "http://192.0.2.1:4567")
	if r.code == 0 || !strings.Contains(r.stderr, "only measures endpoints on loopback") {
		t.Errorf("a non-loopback --endpoint: exit %d, stderr %s", r.code, r.stderr)
	}
}
