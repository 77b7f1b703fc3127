package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashLine is one input line of the crash test; (It, N) identifies it.
type crashLine struct {
	It  int    `json:"it"`
	N   int    `json:"n"`
	Key string `json:"k"`
	Pad string `json:"pad"`
}

func crashInput(it, n int) ([]byte, []string) {
	var buf bytes.Buffer
	lines := make([]string, n)
	for j := range n {
		b, _ := json.Marshal(crashLine{It: it, N: j, Key: fmt.Sprintf("key-%d", j%257), Pad: strings.Repeat("p", (j*7)%61)})
		lines[j] = string(b)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), lines
}

type ack struct {
	shard, seq string
}

// readAcks parses an --ack-log; a last line cut short by the kill is ignored.
func readAcks(t *testing.T, path string) map[int]ack {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	acks := map[int]ack{}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		f := strings.Split(string(b[:i]), "\t")
		b = b[i+1:]
		if len(f) != 3 {
			t.Fatalf("bad ack line %q", f)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatal(err)
		}
		acks[n] = ack{f[1], f[2]}
	}
	return acks
}

// TestCrashKillNineKeepsAcknowledgedRecords starts `eddy put` on a large input
// again and again, kills it with SIGKILL at a random moment, and then proves that
// every record whose put was acknowledged is stored exactly once, where the ack
// said, and that nothing corrupt is ever read back.
func TestCrashKillNineKeepsAcknowledgedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 25 processes")
	}
	c := newCLI(t)
	// Small segments, so kills also land in segment rotation and index writes.
	seg := []string{"--segment-bytes", "262144"}
	c.ok(nil, append([]string{"streams", "create", "crash", "--shards", "4"}, seg...)...)
	dir := t.TempDir()
	const perRun = 20_000
	const kills = 25
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("kill schedule seed %d", seed) // the schedule varies from run to run

	// Time one uninterrupted run so the kills spread over a whole put.
	input, _ := crashInput(-1, perRun)
	start := time.Now()
	putPipe(t, c, input, filepath.Join(dir, "ack--1.log"), seg, -1)
	full := time.Since(start)
	t.Logf("an uninterrupted put of %d records takes %v", perRun, full)

	inputs := map[int][]string{}
	_, inputs[-1] = crashInput(-1, perRun)
	partial, repaired := 0, 0
	for it := range kills {
		in, lines := crashInput(it, perRun)
		inputs[it] = lines
		delay := time.Duration(rng.Int64N(int64(full + full/5)))
		stderr, killed := putPipe(t, c, in, filepath.Join(dir, fmt.Sprintf("ack-%d.log", it)), seg, delay)
		acks := readAcks(t, filepath.Join(dir, fmt.Sprintf("ack-%d.log", it)))
		if killed && len(acks) > 0 && len(acks) < perRun {
			partial++
		}
		if strings.Contains(stderr, "repaired") {
			repaired++
		}
	}
	t.Logf("%d kills, %d of them mid-put with some records acknowledged; %d opens repaired a torn tail", kills, partial, repaired)
	if partial < kills/3 {
		t.Fatalf("only %d of %d kills landed while records were being acknowledged; the test did not exercise crashes", partial, kills)
	}

	// A writable open repairs the last torn tail; then read everything.
	c.ok(nil, append([]string{"streams", "retention", "crash", "--hours", "24"}, seg...)...)
	recs := c.get("crash")
	seen := map[[2]int]gotRecord{}
	for _, r := range recs {
		var l crashLine
		if err := json.Unmarshal([]byte(r.Data), &l); err != nil {
			t.Fatalf("read a record that is not a line we put: %q", r.Data)
		}
		want := inputs[l.It]
		if l.N < 0 || l.N >= len(want) || want[l.N] != r.Data {
			t.Fatalf("record %q differs from line %d of run %d", r.Data, l.N, l.It)
		}
		id := [2]int{l.It, l.N}
		if prev, dup := seen[id]; dup {
			t.Fatalf("run %d line %d stored twice: %s and %s", l.It, l.N, prev.SequenceNumber, r.SequenceNumber)
		}
		seen[id] = r
	}
	ackedTotal := 0
	for it := -1; it < kills; it++ {
		acks := readAcks(t, filepath.Join(dir, fmt.Sprintf("ack-%d.log", it)))
		ackedTotal += len(acks)
		for lineNo, a := range acks {
			r, ok := seen[[2]int{it, lineNo - 1}]
			if !ok {
				t.Fatalf("run %d line %d was acknowledged (%s %s) but is not stored", it, lineNo, a.shard, a.seq)
			}
			if r.ShardID != a.shard || r.SequenceNumber != a.seq {
				t.Fatalf("run %d line %d acknowledged as %s %s, stored as %s %s", it, lineNo, a.shard, a.seq, r.ShardID, r.SequenceNumber)
			}
		}
	}
	t.Logf("%d records stored, %d acknowledged, all acknowledged present exactly once", len(seen), ackedTotal)
}

// putPipe runs `eddy put` with input on a pipe and, when killAfter >= 0, kills it
// with SIGKILL after that long. It returns stderr and whether the kill happened
// before the put finished.
func putPipe(t *testing.T, c *cli, input []byte, ackLog string, extra []string, killAfter time.Duration) (string, bool) {
	t.Helper()
	args := append([]string{"put", "crash", "--partition-key-field", "k", "--ack-log", ackLog, "--data-dir", c.dataDir}, extra...)
	cmd := exec.Command(eddyBin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		w.Write(input) // fails with EPIPE once the process is killed
		w.Flush()
		stdin.Close()
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if killAfter < 0 {
		if err := <-done; err != nil {
			t.Fatalf("put: %v: %s", err, stderr.String())
		}
		return stderr.String(), false
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("put exited before the kill: %v: %s", err, stderr.String())
		}
		return stderr.String(), false
	case <-time.After(killAfter):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err = <-done
	return stderr.String(), err != nil
}
