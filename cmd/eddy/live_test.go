package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunFollowsLivePuts runs an unbounded application while another process
// puts records into its stream: rows appear as the records arrive, a ROWTIME
// window closes on its own once time passes it, and Ctrl-C (SIGINT) ends the
// run cleanly with exit 0.
func TestRunFollowsLivePuts(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "streams", "create", "live", "--shards", "2")
	app := filepath.Join(t.TempDir(), "live.sql")
	os.WriteFile(app, []byte(`
CREATE STREAM live (n BIGINT, k VARCHAR) WITH (connector = 'kinesis', stream = 'live', start = 'latest');
SELECT n, UPPER(k) AS k FROM live WHERE n % 2 = 0;
SELECT COUNT(*) AS c, SUM(n) AS total FROM live GROUP BY TUMBLE(ROWTIME, INTERVAL '1' SECOND);
`), 0o644)
	run := exec.Command(eddyBin, "run", app, "--format", "json", "--data-dir", c.dataDir)
	stdout, _ := run.StdoutPipe()
	var stderr bytes.Buffer
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer run.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(300 * time.Millisecond) // let the source take its LATEST positions

	var in strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&in, `{"n":%d,"k":"key%d"}`+"\n", i, i)
	}
	// A separate process writes the stream while the run reads it.
	c.ok([]byte(in.String()), "put", "live")

	evens := map[int]bool{}
	windowTotal := 0
	deadline := time.After(20 * time.Second)
	for len(evens) < 5 || windowTotal < 55 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("run ended early: %s", stderr.String())
			}
			var r map[string]any
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("run printed %q: %v", l, err)
			}
			if n, ok := r["n"].(float64); ok {
				if int(n)%2 != 0 || r["k"] != fmt.Sprintf("KEY%d", int(n)) {
					t.Fatalf("unexpected row %s", l)
				}
				evens[int(n)] = true
			}
			if total, ok := r["total"].(float64); ok {
				windowTotal += int(total)
			}
		case <-deadline:
			t.Fatalf("after 20s saw evens %v and window total %d (want 5 evens, total 55); stderr: %s", evens, windowTotal, stderr.String())
		}
	}
	run.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after SIGINT: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop within 10s of SIGINT")
	}
	if !strings.Contains(stderr.String(), "10 rows in") {
		t.Fatalf("run summary: %s", stderr.String())
	}
}
