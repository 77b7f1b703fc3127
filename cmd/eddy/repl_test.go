package main_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestREPLThroughStdin drives the real binary's REPL through a pipe: a
// statement over several lines, SHOW STREAMS, DESCRIBE, an error that must not
// end the session, an ad hoc SELECT with LIMIT, and a windowed aggregate.
func TestREPLThroughStdin(t *testing.T) {
	c := newCLI(t)
	c.ok(nil, "streams", "create", "clicks", "--shards", "2")
	c.putFile("../../testdata/clicks.jsonl", "clicks", "--partition-key-field", "user")

	cmd := exec.Command(eddyBin, "repl", "--data-dir", c.dataDir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 1000)
	go func() {
		r := bufio.NewReader(stdout)
		for {
			s, err := r.ReadString('\n')
			if s != "" {
				out <- s
			}
			if err != nil {
				close(out)
				return
			}
		}
	}()
	// expect reads output until every want appears, in order.
	var seen strings.Builder
	expect := func(wants ...string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for _, w := range wants {
			for !strings.Contains(seen.String(), w) {
				select {
				case s, ok := <-out:
					if !ok {
						t.Fatalf("REPL ended before printing %q; it printed:\n%s", w, seen.String())
					}
					seen.WriteString(s)
				case <-deadline:
					t.Fatalf("REPL did not print %q in 20s; it printed:\n%s", w, seen.String())
				}
			}
			rest := seen.String()[strings.Index(seen.String(), w)+len(w):]
			seen.Reset()
			seen.WriteString(rest)
		}
	}
	send := func(s string) { io.WriteString(stdin, s) }

	expect("Statements end with ';'")
	send("CREATE STREAM clicks (\n  ts BIGINT,\n  \"user\" VARCHAR,\n  page VARCHAR,\n  ms BIGINT\n) WITH (connector = 'kinesis', stream = 'clicks');\n")
	expect("stream clicks: 4 columns")
	send("SHOW STREAMS;\n")
	expect("clicks", "store streams", "clicks")
	send("DESCRIBE clicks;\n")
	expect("page", "VARCHAR", "ROWTIME", "arrival time")
	send("SELECT page, mss FROM clicks;\n")
	expect("error: repl:1:14: unknown column mss")
	send("SELECT \"user\", page, ms FROM clicks\n  WHERE ms > 800 AND page LIKE '/%'\n  LIMIT 2;\n")
	expect("user", "page", "(2 rows)")
	send("SELECT COUNT(*) AS n, MAX(ms) AS slowest FROM clicks GROUP BY TUMBLE(ROWTIME, INTERVAL '1' SECOND) LIMIT 1;\n")
	expect("40", "(1 row)")
	send("\\q\n")
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("repl exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("REPL did not exit on \\q")
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "streams", "repl-errors.stream")); err != nil {
		t.Fatalf("the REPL's error stream was not created: %v", err)
	}
}
