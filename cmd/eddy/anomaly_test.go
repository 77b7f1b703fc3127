package main_test

import (
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
		if score <= 4.5 {
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
