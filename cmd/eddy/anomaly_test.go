package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDemoAnomalies runs eddy demo --anomalies briefly: the injected price
// spikes (every 997th trade, 1.5x-2.5x the ticker's price) are flagged live,
// and little else is.
func TestDemoAnomalies(t *testing.T) {
	c := newCLI(t)
	r := c.run(nil, "demo", "--anomalies", "--duration", "8s", "--rate", "4000")
	if r.code != 0 {
		t.Fatalf("demo --anomalies: exit %d\n%s", r.code, r.stderr)
	}
	m := regexp.MustCompile(`printed (\d+) anomalous trades \((\d+) spikes injected\)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no summary:\n%s", r.stderr)
	}
	printed, spikes := atoi(t, m[1]), atoi(t, m[2])
	rows := 0
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 || strings.TrimSpace(f[0]) == "ticker" {
			continue
		}
		score, err := strconv.ParseFloat(strings.TrimSpace(f[3]), 64)
		if err != nil {
			continue
		}
		if score < 4.5 { // scores print rounded to 2 decimals: 4.503 prints as 4.5
			t.Errorf("printed a trade scoring %v: %s", score, line)
		}
		rows++
	}
	// The first spikes come before the tickers' forests are warm; most later
	// ones must be caught, with few false alarms.
	if spikes < 20 || rows != printed || rows < spikes/2 || rows > spikes*2 {
		t.Fatalf("%d spikes injected, %d trades flagged (%d printed):\n%s\n%s", spikes, rows, printed, r.stdout, r.stderr)
	}
	t.Logf("%d spikes injected, %d trades flagged", spikes, rows)
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestForestMaxKeys: with PARTITION BY, at most max_keys forests are kept.
// Three keys taking turns (one row each per batch and per event-time second)
// under max_keys=2 evict each other on every row, so no forest ever warms up
// and every score is 0, and the summary counts the evictions; with
// max_keys=3 every forest warms up and scores.
func TestForestMaxKeys(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	c.ok(nil, "streams", "create", "m", "--shards", "1")
	var in strings.Builder
	for i := range 300 {
		fmt.Fprintf(&in, `{"k":"k%d","v":%d,"ts":%d}`+"\n", i%3, i%7, 1767225600000+int64(i/3)*1000)
	}
	c.ok([]byte(in.String()), "put", "m")
	for _, tc := range []struct {
		maxKeys     int
		wantScored  bool
		wantEvicted bool
	}{{2, false, true}, {3, true, false}} {
		app := filepath.Join(dir, fmt.Sprintf("m%d.sql", tc.maxKeys))
		if err := os.WriteFile(app, fmt.Appendf(nil, `CREATE STREAM m (k VARCHAR, v DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
  WITH (connector = 'kinesis', stream = 'm', max_batch_rows = '3', timestamp_unit = 'ms');
SELECT k, RANDOM_CUT_FOREST(v, 'trees=5, sample_size=10, max_keys=%d') OVER (PARTITION BY k) AS score FROM m;`, tc.maxKeys), 0o644); err != nil {
			t.Fatal(err)
		}
		r := c.run(nil, "run", app, "--bounded", "--no-checkpoints", "--workers", "1", "--format", "json")
		if r.code != 0 {
			t.Fatalf("max_keys=%d: %s", tc.maxKeys, r.stderr)
		}
		scored := strings.Count(r.stdout, `"score":`) - strings.Count(r.stdout, `"score":0}`)
		evicted := strings.Contains(r.stderr, "anomaly forests dropped")
		if (scored > 0) != tc.wantScored || evicted != tc.wantEvicted || strings.Count(r.stdout, `"score":`) != 300 {
			t.Fatalf("max_keys=%d: %d rows scored, evictions reported %v:\n%s", tc.maxKeys, scored, evicted, r.stderr)
		}
	}
}
