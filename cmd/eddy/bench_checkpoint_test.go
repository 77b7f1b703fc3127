package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	benchRatio     = regexp.MustCompile(`(?m)^with checkpoints every (\S+): ([0-9.]+) of the events/s per core without them`)
	benchTaken     = regexp.MustCompile(`(?m)^checkpoints: (\d+) taken, (\d+) every \S+ and 1 at the end of the input$`)
	benchSize      = regexp.MustCompile(`(?:size (?:mean )?|max )([0-9.]+) (KB|MB)`)
	benchIdentical = regexp.MustCompile(`(?m)^committed output with checkpoints: identical to the run without \((\d+) rows\)$`)
	benchKept      = regexp.MustCompile(`data dir kept at (\S+)`)
)

// benchCheckpointed runs `eddy bench pipeline` with --checkpoint-interval and
// checks its report: both SQL rows, the ratio, the checkpoints with their
// sizes, the bench's own verdict that both runs committed the same output,
// and that output, compared here again. It returns how many checkpoints were
// taken at the interval.
func benchCheckpointed(t *testing.T, interval string, args ...string) int {
	t.Helper()
	c := newCLI(t)
	tmp := t.TempDir()
	c.env = append(c.env, "TMPDIR="+tmp) // --keep leaves the bench's folder here
	args = append([]string{"bench", "pipeline", "--checkpoint-interval", interval, "--keep"}, args...)
	r := c.run(nil, args...)
	if r.code != 0 {
		t.Fatalf("eddy %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	out := r.stdout
	t.Logf("eddy %s:\n%s", strings.Join(args, " "), out)

	plainRow := regexp.MustCompile(`(?m)^\s*decode -> filter -> tumble \(SQL, bounded\)\s+\d+\s`)
	ckRow := regexp.MustCompile(`(?m)^\s*decode -> filter -> tumble \(SQL, bounded\), checkpoints every ` + regexp.QuoteMeta(interval) + `\s+\d+\s`)
	if !plainRow.MatchString(out) || !ckRow.MatchString(out) {
		t.Fatalf("the report lacks the SQL row without checkpoints or the one with them:\n%s", out)
	}
	m := benchRatio.FindStringSubmatch(out)
	if m == nil || m[1] != interval {
		t.Fatalf("the report lacks the ratio for checkpoints every %s:\n%s", interval, out)
	}
	if ratio, err := strconv.ParseFloat(m[2], 64); err != nil || ratio <= 0 {
		t.Fatalf("ratio %q: want a positive number", m[2])
	}
	m = benchTaken.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the report does not say how many checkpoints were taken:\n%s", out)
	}
	taken, _ := strconv.Atoi(m[1])
	periodic, _ := strconv.Atoi(m[2])
	if taken < 1 || taken != periodic+1 {
		t.Fatalf("%d checkpoints taken, %d at the interval: want at least the one at the end", taken, periodic)
	}
	sizes := benchSize.FindAllStringSubmatch(out, -1)
	if want := min(periodic, 1)*2 + 1; len(sizes) != want { // mean and max at the interval, then the last one
		t.Fatalf("the report gives %d checkpoint sizes, want %d:\n%s", len(sizes), want, out)
	}
	for _, s := range sizes {
		if v, err := strconv.ParseFloat(s[1], 64); err != nil || v <= 0 {
			t.Fatalf("checkpoint size %q: want more than nothing", s[0])
		}
	}
	m = benchIdentical.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the report does not say that both runs wrote the same output:\n%s", out)
	}
	rows, _ := strconv.ParseInt(m[1], 10, 64)
	if rows < 1 {
		t.Fatalf("both runs wrote %d rows", rows)
	}

	// The bench compared the outputs; compare them again.
	k := benchKept.FindStringSubmatch(r.stderr)
	if k == nil {
		t.Fatalf("--keep did not say where the data dir is:\n%s", r.stderr)
	}
	plain, err := os.ReadFile(filepath.Join(k[1], "out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	checkpointed, err := os.ReadFile(filepath.Join(k[1], "out-checkpointed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(bytes.Count(plain, []byte("\n"))); n != rows {
		t.Fatalf("the output without checkpoints has %d rows, the report says %d", n, rows)
	}
	if !bytes.Equal(plain, checkpointed) {
		t.Fatalf("the outputs differ: %d bytes without checkpoints, %d with", len(plain), len(checkpointed))
	}
	return periodic
}

// TestBenchPipelineCheckpoints measures the SQL stage without and with
// checkpoints over many keys; a bounded run takes at least the checkpoint at
// the end of its input.
func TestBenchPipelineCheckpoints(t *testing.T) {
	benchCheckpointed(t, "100ms", "--events", "20000", "--keys", "5000")
}

// TestBenchPipelineCheckpointsAtInterval runs long enough for checkpoints at
// the interval, with windows open, and still gets the same output.
func TestBenchPipelineCheckpointsAtInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of benchmark")
	}
	if periodic := benchCheckpointed(t, "20ms", "--events", "200000", "--keys", "2000"); periodic < 1 {
		t.Fatal("no checkpoint was taken at the interval")
	}
}
