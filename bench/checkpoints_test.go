package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/exec/checkpoint"
)

func TestCompareFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	long := strings.Repeat("x", 3<<20) // longer than the reader's buffer
	want := write("want", "a\nb\n"+long+"\nc\n")
	for _, tc := range []struct {
		name, text string
		rows       int64
		err        string // "" for equal
	}{
		{"same", "a\nb\n" + long + "\nc\n", 4, ""},
		{"no final newline", "a\nb\n" + long + "\nc", 4, ""},
		{"line differs", "a\nB\n" + long + "\nc\n", 2, "line 2 differs"},
		{"long line differs", "a\nb\n" + long + "y\nc\n", 3, "line 3 differs"},
		{"shorter", "a\nb\n", 2, "has only 2 lines"},
		{"longer", "a\nb\n" + long + "\nc\nd\n", 4, "more lines"},
		{"empty", "", 0, "has only 0 lines"},
	} {
		got := write(tc.name, tc.text)
		rows, err := CompareFiles(want, got)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
		if rows != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.name, rows, tc.rows)
		}
	}
}

func TestRecordingStore(t *testing.T) {
	ctx := t.Context()
	store := NewRecordingStore(checkpoint.NewDirStore(t.TempDir()))
	for id := int64(1); id <= 4; id++ {
		w, err := checkpoint.Begin(store, "app", id)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddFile(ctx, "state", make([]byte, 100*id)); err != nil {
			t.Fatal(err)
		}
		m := checkpoint.Manifest{Metrics: checkpoint.Metrics{Duration: time.Duration(id) * time.Millisecond}}
		if _, err := w.Complete(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := checkpoint.Retain(ctx, store, "app", 2); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Manifests()
	if err != nil || len(got) != 4 {
		t.Fatalf("%d manifests recorded (%v), want all 4", len(got), err)
	}
	kept, _, err := checkpoint.List(ctx, store, "app")
	if err != nil || len(kept) != 2 || kept[0].ID != 4 || kept[0].Metrics != got[3].Metrics {
		t.Fatalf("kept %+v (%v), want checkpoints 4 and 3 as recorded", kept, err)
	}
	s := SummarizeCheckpoints(got)
	if s.Count != 4 || s.MaxDuration != 4*time.Millisecond || s.MeanDuration != 2500*time.Microsecond || s.MaxBytes != got[3].Metrics.Bytes || s.MaxBytes < 400 {
		t.Fatalf("summary %+v", s)
	}
}
