package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// The checkpoints are written with package checkpoint, as `eddy run` writes
// them, and read back through the eddy binary.

var ckT0 = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// seq is a Kinesis-style sequence number.
func seq(shard, n int) string {
	return fmt.Sprintf("4965009328394670235354221728563037392613354012640449%04d%02d", n, shard)
}

// stateFile is deterministic filler of n bytes.
func stateFile(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// writeRidesCheckpoint writes checkpoint id of app "rides": two queries, one
// aggregating with two workers into a file sink, one stateless to stdout.
func writeRidesCheckpoint(t *testing.T, store checkpoint.Store, id int64, created time.Time) checkpoint.Manifest {
	t.Helper()
	ctx := context.Background()
	w, err := checkpoint.Begin(store, "rides", id)
	if err != nil {
		t.Fatal(err)
	}
	agg := checkpoint.Operator{Name: "q1_trips_per_zone",
		Fingerprint: "agg window=TUMBLE(1m0s) keys=1 workers=2 schema=[zone:STRING n:BIGINT] lateness=5s emit=0s COUNT(false,<nil>,BIGINT)"}
	stateless := checkpoint.Operator{Name: "q2_long_trips", Fingerprint: "stateless"}
	sizes := map[string]int{"scan": 96, "worker0": 40_000 + int(id)*1000, "worker1": 38_500, "output": 12}
	for _, op := range []*checkpoint.Operator{&agg, &stateless} {
		for i, part := range []string{"scan", "worker0", "worker1", "output"} {
			name := op.Name + "." + part + ".state"
			n := sizes[part]
			if op == &stateless && part != "scan" {
				n = 0
			}
			if err := w.AddFile(ctx, name, stateFile(uint64(id)*10+uint64(i), n)); err != nil {
				t.Fatal(err)
			}
			op.Files = append(op.Files, name)
		}
	}
	sinkState, _ := json.Marshal(map[string]any{"v": 1, "id": id, "file": fmt.Sprintf(".trips.json.chk-%d", id),
		"offset": 1000 * id, "bytes": 817, "crc32c": 3735928559})
	m, err := w.Complete(ctx, checkpoint.Manifest{
		Created: created,
		Sources: map[string]checkpoint.Position{
			"q1_trips_per_zone": {
				After: map[string]string{shardName(0): seq(0, int(id)), shardName(1): "", shardName(2): seq(2, 1), shardName(3): seq(3, int(id))},
				Done:  []string{shardName(2)},
			},
			"q2_long_trips": {After: map[string]string{shardName(0): seq(0, int(id)-1)}, Done: []string{shardName(1)}},
		},
		Sinks:     map[string][]byte{"q1_trips_per_zone": sinkState},
		Operators: []checkpoint.Operator{agg, stateless},
		Metrics:   checkpoint.Metrics{Duration: 45*time.Millisecond + time.Duration(id)*100*time.Microsecond, Alignment: 1200 * time.Microsecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	// What eddy shows is the manifest as stored: its Metrics.Bytes counts the
	// state files, while the one Complete returns also counts the manifest.
	data, err := store.Read(ctx, fmt.Sprintf("rides/chk-%010d/%s", id, checkpoint.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var stored checkpoint.Manifest
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.ID != m.ID || len(stored.Files) != len(m.Files) {
		t.Fatalf("stored manifest %+v, Complete returned %+v", stored, m)
	}
	return stored
}

// tableRows splits the lines of a table into whitespace-separated fields.
func tableRows(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }

func TestCheckpointsListAndDescribe(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "EDDY_NOW="+ckT0.Add(2*time.Minute+30*time.Second).Format(time.RFC3339Nano))
	dir := filepath.Join(c.dataDir, "checkpoints")
	store := checkpoint.NewDirStore(dir)
	ms := map[int64]checkpoint.Manifest{}
	for _, id := range []int64{3, 4, 5} {
		ms[id] = writeRidesCheckpoint(t, store, id, ckT0.Add(time.Duration(id-3)*time.Minute))
	}
	ctx := context.Background()
	// 2: a manifest that is not JSON; 6: state files but no manifest yet.
	if err := store.Write(ctx, "rides/chk-0000000002/"+checkpoint.ManifestName, []byte(`{"version": 1, "app": "ri`)); err != nil {
		t.Fatal(err)
	}
	if err := store.Write(ctx, "rides/chk-0000000006/q1_trips_per_zone.scan.state", []byte("partial")); err != nil {
		t.Fatal(err)
	}

	t.Run("list", func(t *testing.T) {
		r := c.run(nil, "checkpoints", "list", "rides")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		rows := tableRows(r.stdout)
		wantHeader := []string{"ID", "CREATED", "(UTC)", "AGE", "SIZE", "DURATION", "ALIGNMENT", "QUERIES", "OPERATORS"}
		if !slices.Equal(rows[0], wantHeader) {
			t.Fatalf("header %q, want %q\n%s", rows[0], wantHeader, r.stdout)
		}
		want := [][]string{
			{"5", "2026-03-14T09:28:53.589Z", "30s", kib(ms[5].Metrics.Bytes), "45.5ms", "1.2ms", "2", "2"},
			{"4", "2026-03-14T09:27:53.589Z", "1m30s", kib(ms[4].Metrics.Bytes), "45.4ms", "1.2ms", "2", "2"},
			{"3", "2026-03-14T09:26:53.589Z", "2m30s", kib(ms[3].Metrics.Bytes), "45.3ms", "1.2ms", "2", "2"},
		}
		if len(rows) != 1+len(want) {
			t.Fatalf("want %d rows, got:\n%s", len(want), r.stdout)
		}
		for i, w := range want {
			got := strings.Join(rows[1+i], " ")
			if got != strings.Join(w, " ") {
				t.Errorf("row %d:\n got %s\nwant %s", i+1, got, strings.Join(w, " "))
			}
		}
		// The damaged and the incomplete one, newest first, on stderr.
		for _, w := range []string{
			"2 checkpoints of rides cannot be used",
			"checkpoint 2 of rides: manifest is not valid JSON",
			"checkpoint 6 of rides is incomplete (no MANIFEST.json",
		} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
			}
		}
		if strings.Index(r.stderr, "checkpoint 2 ") > strings.Index(r.stderr, "checkpoint 6 ") {
			t.Errorf("warnings are not newest first:\n%s", r.stderr)
		}
		if strings.Contains(r.stdout, "warning") {
			t.Errorf("warnings on stdout:\n%s", r.stdout)
		}
	})

	t.Run("list json", func(t *testing.T) {
		var rows []struct {
			ID        int64     `json:"id"`
			App       string    `json:"app"`
			Created   time.Time `json:"created"`
			Bytes     int64     `json:"bytes"`
			Duration  int64     `json:"duration_ns"`
			Alignment int64     `json:"alignment_ns"`
			Queries   int       `json:"queries"`
			Operators int       `json:"operators"`
			Files     int       `json:"files"`
		}
		dec := json.NewDecoder(strings.NewReader(c.ok(nil, "checkpoints", "list", "rides", "--format", "json")))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 {
			t.Fatalf("%d rows, want 3: %+v", len(rows), rows)
		}
		for i, id := range []int64{5, 4, 3} {
			m, r := ms[id], rows[i]
			if r.ID != id || r.App != "rides" || !r.Created.Equal(m.Created) || r.Bytes != m.Metrics.Bytes ||
				r.Duration != int64(m.Metrics.Duration) || r.Alignment != int64(m.Metrics.Alignment) ||
				r.Queries != 2 || r.Operators != 2 || r.Files != 8 {
				t.Errorf("row %d: %+v, manifest %+v", i, r, m)
			}
		}
	})

	t.Run("describe", func(t *testing.T) {
		r := c.run(nil, "checkpoints", "describe", "rides", "4")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		out := r.stdout
		m := ms[4]
		wantLines := []string{
			`^checkpoint 4 of rides$`,
			`^  created +2026-03-14T09:27:53\.589Z \(1m30s ago\)$`,
			`^  stored in +` + regexp.QuoteMeta(dir) + `$`,
			`^  took +45\.4ms \(alignment 1\.2ms\)$`,
			fmt.Sprintf(`^  size +%s \(%d bytes\) in 8 state files$`, regexp.QuoteMeta(kib(m.Metrics.Bytes)), m.Metrics.Bytes),
			`^  verified +yes`,
			`^  QUERY +SHARD +RESUMES AFTER +READ TO THE END$`,
			`^  q1_trips_per_zone +shardId-000000000000 +` + seq(0, 4) + ` +-$`,
			`^ +shardId-000000000001 +from start +-$`,
			`^ +shardId-000000000002 +` + seq(2, 1) + ` +yes$`,
			`^ +shardId-000000000003 +` + seq(3, 4) + ` +-$`,
			`^  q2_long_trips +shardId-000000000000 +` + seq(0, 3) + ` +-$`,
			`^ +shardId-000000000001 +from start +yes$`,
			fmt.Sprintf(`^  q1_trips_per_zone +%d B +\{"bytes":817,"crc32c":3735928559,"file":".trips.json.chk-4","id":4,"offset":4000,"v":1\}$`, len(m.Sinks["q1_trips_per_zone"])),
			`^  q1_trips_per_zone$`,
			`^    fingerprint +` + regexp.QuoteMeta(m.Operators[0].Fingerprint) + `$`,
			`^    files +q1_trips_per_zone\.scan\.state, q1_trips_per_zone\.worker0\.state, q1_trips_per_zone\.worker1\.state, q1_trips_per_zone\.output\.state$`,
			`^    fingerprint +stateless$`,
		}
		for _, f := range m.Files {
			wantLines = append(wantLines, fmt.Sprintf(`^ +%s +[0-9.]+ (B|KiB) +%d +%08x$`, regexp.QuoteMeta(f.Name), f.Bytes, f.CRC32C))
		}
		for _, w := range wantLines {
			if !regexp.MustCompile(`(?m)` + w).MatchString(out) {
				t.Errorf("no line matches %s", w)
			}
		}
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
		// The ordering: sources before sinks before operators before files.
		last := -1
		for _, h := range []string{"\nsources:", "\nsinks:", "\noperators:", "\nfiles\n"} {
			i := strings.Index(out, h)
			if i <= last {
				t.Errorf("section %q missing or out of order", h)
			}
			last = i
		}
	})

	describeJSON := func(t *testing.T, code int, args ...string) (checkpoint.Manifest, bool, string, string) {
		t.Helper()
		r := c.run(nil, append([]string{"checkpoints", "describe"}, append(args, "--format", "json")...)...)
		if r.code != code {
			t.Fatalf("exit %d, want %d: %s", r.code, code, r.stderr)
		}
		var got struct {
			checkpoint.Manifest
			Verified *bool  `json:"verified"`
			Error    string `json:"error"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("%v:\n%s", err, r.stdout)
		}
		if got.Verified == nil {
			t.Fatalf("no verified field:\n%s", r.stdout)
		}
		return got.Manifest, *got.Verified, got.Error, r.stderr
	}
	sameManifest := func(t *testing.T, got, want checkpoint.Manifest) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Errorf("manifest\n got %s\nwant %s", g, w)
		}
	}

	t.Run("describe latest json", func(t *testing.T) {
		m, verified, errText, _ := describeJSON(t, 0, "rides", "latest")
		if !verified || errText != "" {
			t.Errorf("verified %v, error %q", verified, errText)
		}
		sameManifest(t, m, ms[5])
		m, _, _, _ = describeJSON(t, 0, "rides", "chk-0000000003")
		sameManifest(t, m, ms[3])
		out := c.ok(nil, "checkpoints", "describe", "rides", "latest")
		if !strings.HasPrefix(out, "checkpoint 5 of rides (latest") {
			t.Errorf("describe latest:\n%s", out)
		}
	})

	t.Run("missing or bad id", func(t *testing.T) {
		r := c.run(nil, "checkpoints", "describe", "rides", "99")
		if r.code == 0 || !strings.Contains(r.stderr, "no checkpoint 99 of rides in "+dir+"; it has 3 checkpoints: 5, 4, 3") {
			t.Errorf("exit %d, stderr %s", r.code, r.stderr)
		}
		r = c.run(nil, "checkpoints", "describe", "rides", "2")
		if r.code == 0 || !strings.Contains(r.stderr, "checkpoint 2 of rides: manifest is not valid JSON") {
			t.Errorf("exit %d, stderr %s", r.code, r.stderr)
		}
		r = c.run(nil, "checkpoints", "describe", "rides", "newest")
		if r.code == 0 || !strings.Contains(r.stderr, `checkpoint id "newest": use a number from 'eddy checkpoints list rides', or latest`) {
			t.Errorf("exit %d, stderr %s", r.code, r.stderr)
		}
		r = c.run(nil, "checkpoints", "list", "rides", "--format", "yaml")
		if r.code == 0 || !strings.Contains(r.stderr, `--format "yaml": use table or json`) {
			t.Errorf("exit %d, stderr %s", r.code, r.stderr)
		}
	})

	t.Run("damaged", func(t *testing.T) {
		// 5 loses its tail; 3 has a byte changed.
		truncated := filepath.Join(dir, "rides", "chk-0000000005", "q1_trips_per_zone.worker1.state")
		if err := os.Truncate(truncated, 30_000); err != nil {
			t.Fatal(err)
		}
		flipped := filepath.Join(dir, "rides", "chk-0000000003", "q1_trips_per_zone.worker0.state")
		data, err := os.ReadFile(flipped)
		if err != nil {
			t.Fatal(err)
		}
		data[1234] ^= 0x40
		if err := os.WriteFile(flipped, data, 0o644); err != nil {
			t.Fatal(err)
		}

		r := c.run(nil, "checkpoints", "describe", "rides", "5")
		wantErr := "checkpoint 5 of rides: file q1_trips_per_zone.worker1.state has 30000 bytes, the manifest says 38500"
		if r.code != 1 || !strings.Contains(r.stderr, wantErr) {
			t.Errorf("exit %d, stderr %s", r.code, r.stderr)
		}
		if !regexp.MustCompile(`(?m)^  verified +NO: `+regexp.QuoteMeta(wantErr)+`$`).MatchString(r.stdout) ||
			!strings.Contains(r.stdout, "q1_trips_per_zone.worker1.state") {
			t.Errorf("a damaged checkpoint is still described, with the file named:\n%s", r.stdout)
		}

		m, verified, errText, _ := describeJSON(t, 1, "rides", "3")
		sameManifest(t, m, ms[3])
		if verified || !strings.Contains(errText, "checkpoint 3 of rides: file q1_trips_per_zone.worker0.state is damaged (CRC-32C ") {
			t.Errorf("verified %v, error %q", verified, errText)
		}

		// latest is the newest that verifies, as a run would resume from.
		m, verified, _, stderr := describeJSON(t, 0, "rides", "latest")
		sameManifest(t, m, ms[4])
		if !verified || !strings.Contains(stderr, wantErr) {
			t.Errorf("verified %v; stderr should name the skipped newer checkpoint's file:\n%s", verified, stderr)
		}

		// list reads only manifests: all three are still listed.
		var ids []int64
		for _, row := range tableRows(c.ok(nil, "checkpoints", "list", "rides"))[1:] {
			var id int64
			fmt.Sscan(row[0], &id)
			ids = append(ids, id)
		}
		if !slices.Equal(ids, []int64{5, 4, 3}) {
			t.Errorf("listed %v", ids)
		}
	})
}

func TestCheckpointsLocationsAndNames(t *testing.T) {
	c := newCLI(t)
	c.env = append(c.env, "EDDY_NOW="+ckT0.Add(50*time.Hour).Format(time.RFC3339Nano))
	other := filepath.Join(t.TempDir(), "elsewhere")
	store := checkpoint.NewDirStore(other)
	m := writeRidesCheckpoint(t, store, 1, ckT0)
	def := filepath.Join(c.dataDir, "checkpoints")

	// Nothing in the data dir: the message, the hint, exit 0.
	r := c.run(nil, "checkpoints", "list", "rides")
	want := "no checkpoints of rides in " + def + " (the folder does not exist); 'eddy run rides.sql' takes one every --checkpoint-interval\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d\nstdout %q\nwant   %q\nstderr %s", r.code, r.stdout, want, r.stderr)
	}
	r = c.run(nil, "checkpoints", "list", "rides", "--format", "json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" || !strings.Contains(r.stderr, "no checkpoints of rides in "+def) {
		t.Errorf("exit %d\nstdout %q\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = c.run(nil, "checkpoints", "describe", "rides", "latest")
	if r.code != 1 || !strings.Contains(r.stderr, "no checkpoints of rides in "+def) {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}

	// --checkpoints finds them.
	rows := tableRows(c.ok(nil, "checkpoints", "list", "rides", "--checkpoints", other))
	if len(rows) != 2 || rows[1][0] != "1" || rows[1][1] != "2026-03-14T09:26:53.589Z" || rows[1][2] != "2d02h" {
		t.Errorf("list --checkpoints %s: %q", other, rows)
	}
	out := c.ok(nil, "checkpoints", "describe", "rides", "1", "--checkpoints", other)
	if !strings.Contains(out, "checkpoint 1 of rides\n") || !strings.Contains(out, fmt.Sprintf("(%d bytes)", m.Metrics.Bytes)) {
		t.Errorf("describe --checkpoints:\n%s", out)
	}

	// An unknown name says which applications the location has.
	r = c.run(nil, "checkpoints", "list", "taxis", "--checkpoints", other)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "no checkpoints of taxis in "+other+";") ||
		!strings.Contains(r.stdout, other+" has checkpoints of: rides") {
		t.Errorf("exit %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	r = c.run(nil, "checkpoints", "list", "rides.sql", "--checkpoints", other)
	if r.code != 0 || !strings.Contains(r.stdout, "try rides") {
		t.Errorf("exit %d, stdout %s", r.code, r.stdout)
	}
	r = c.run(nil, "checkpoints", "describe", "taxis", "1", "--checkpoints", other)
	if r.code != 1 || !strings.Contains(r.stderr, "no checkpoint 1: no checkpoints of taxis in "+other) {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}

	// An invalid name is refused before any reading.
	for _, name := range []string{"../etc", "a/b", ".."} {
		r = c.run(nil, "checkpoints", "list", name)
		if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("application name %q: use 1 to 128 letters", name)) {
			t.Errorf("list %s: exit %d, stderr %s", name, r.code, r.stderr)
		}
	}

	// A checksum computed here agrees with the one shown.
	data, err := os.ReadFile(filepath.Join(other, "rides", "chk-0000000001", "q1_trips_per_zone.scan.state"))
	if err != nil {
		t.Fatal(err)
	}
	sum := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^  q1_trips_per_zone\.scan\.state +96 B +96 +%08x$`, sum)).MatchString(out) {
		t.Errorf("no file line with CRC-32C %08x:\n%s", sum, out)
	}

	if help := c.ok(nil, "checkpoints", "--help"); !strings.Contains(help, "A checkpoint is a consistent snapshot") ||
		!strings.Contains(help, "DATA_DIR/checkpoints") {
		t.Errorf("help:\n%s", help)
	}
}
