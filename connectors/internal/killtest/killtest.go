// Package killtest runs a test of the calling test binary as a child process
// and kills it with SIGKILL at a chosen moment, for crash tests of
// connectors. The child prints a line starting with "RECOVERED" once it has
// recovered, and the delay before the kill counts from that line.
package killtest

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Run runs the test named child (a func TestX in the same binary) with env
// added to the environment. With kill >= 0 the child is killed that long
// after it reported recovery. It returns whether the kill landed before the
// child finished and the child's "RECOVERED" line (lower-cased); a child that
// fails, or ends without passing, fails t.
func Run(t *testing.T, child string, env []string, kill time.Duration) (killed bool, recovered string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	var log strings.Builder
	cmd.Stderr = &log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "RECOVERED") {
			recovered = strings.ToLower(lines.Text())
			break
		}
	}
	if kill >= 0 {
		time.Sleep(kill)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	for lines.Scan() {
		log.WriteString(lines.Text() + "\n")
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
		return true, recovered
	}
	if err != nil || !strings.Contains(log.String(), "--- PASS: "+child) {
		t.Fatalf("child %s: %v\n%s", child, err, log.String())
	}
	return false, recovered
}
