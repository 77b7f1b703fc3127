package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func take(t *testing.T, s Store, app string, id int64, state string) {
	t.Helper()
	w, err := Begin(s, app, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile(context.Background(), "op0.state", []byte(state)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile(context.Background(), "op1.state", []byte(state+state)); err != nil {
		t.Fatal(err)
	}
	m := Manifest{Sources: map[string]Position{"q0/events": {After: map[string]string{"shardId-000000000000": fmt.Sprint(id)}}},
		Operators: []Operator{{Name: "window", Fingerprint: "f", Files: []string{"op0.state", "op1.state"}}}}
	if _, err := w.Complete(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func completeIDs(t *testing.T, s Store, app string) []int64 {
	t.Helper()
	ms, _, err := List(context.Background(), s, app)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestLatestRetainAndDamage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewDirStore(dir)
	for id := int64(1); id <= 5; id++ {
		take(t, s, "app", id, fmt.Sprintf("state %d", id))
	}
	// An incomplete checkpoint 6: files without a manifest (a crash mid-way).
	w, _ := Begin(s, "app", 6)
	w.AddFile(ctx, "op0.state", []byte("half"))
	if next, _ := NextID(ctx, s, "app"); next != 7 {
		t.Fatalf("next id %d, want 7 (6 was begun)", next)
	}
	c, warns, err := Latest(ctx, s, "app")
	if err != nil || c == nil || c.ID != 5 || len(warns) != 0 {
		t.Fatalf("latest: %v %v %v", c, warns, err)
	}
	if b, _ := c.File("op1.state"); string(b) != "state 5state 5" {
		t.Fatalf("op1.state of 5: %q", b)
	}
	if got := c.Sources["q0/events"].After["shardId-000000000000"]; got != "5" {
		t.Fatalf("position %q", got)
	}
	if err := Retain(ctx, s, "app", 3); err != nil {
		t.Fatal(err)
	}
	if got := completeIDs(t, s, "app"); !slices.Equal(got, []int64{5, 4, 3}) {
		t.Fatalf("after retain 3: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "app", "chk-0000000006", "op0.state")); err != nil {
		t.Fatalf("the incomplete checkpoint newer than every complete one must stay (it may be in progress): %v", err)
	}

	// Damage: a flipped byte in 5, a truncated file in 4: 3 is used, with warnings.
	p5 := filepath.Join(dir, "app", "chk-0000000005", "op1.state")
	b, _ := os.ReadFile(p5)
	b[0] ^= 1
	os.WriteFile(p5, b, 0o644)
	os.WriteFile(filepath.Join(dir, "app", "chk-0000000004", "op0.state"), []byte("sta"), 0o644)
	c, warns, err = Latest(ctx, s, "app")
	if err != nil || c == nil || c.ID != 3 {
		t.Fatalf("latest after damage: %v %v", c, err)
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "checkpoint 5 of app: file op1.state is damaged") ||
		!strings.Contains(warns[1], "checkpoint 4 of app: file op0.state has 3 bytes, the manifest says 7") {
		t.Fatalf("warnings %q", warns)
	}
	// A missing file and an unreadable manifest.
	os.Remove(filepath.Join(dir, "app", "chk-0000000003", "op0.state"))
	os.WriteFile(filepath.Join(dir, "app", "chk-0000000005", ManifestName), []byte("{"), 0o644)
	c, warns, err = Latest(ctx, s, "app")
	if err != nil || c != nil || len(warns) != 3 {
		t.Fatalf("nothing usable left: %v %q %v", c, warns, err)
	}
	if _, err := Load(ctx, s, "app", 3); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestNamesAndPaths(t *testing.T) {
	s := NewDirStore(t.TempDir())
	for _, bad := range []string{"", "a/b", "..", "x y", strings.Repeat("a", 129)} {
		if _, err := Begin(s, bad, 1); err == nil {
			t.Errorf("app name %q accepted", bad)
		}
	}
	w, _ := Begin(s, "app", 1)
	for _, bad := range []string{ManifestName, "a/b", ""} {
		if err := w.AddFile(context.Background(), bad, nil); err == nil {
			t.Errorf("file name %q accepted", bad)
		}
	}
	if err := s.Write(context.Background(), "../escape", nil); err == nil {
		t.Error("a path outside the folder was written")
	}
	if _, err := w.Complete(context.Background(), Manifest{Operators: []Operator{{Name: "x", Files: []string{"nope"}}}}); err == nil {
		t.Error("a manifest naming an unwritten file was written")
	}
	if c, _, err := Latest(context.Background(), s, "app"); c != nil || err != nil {
		t.Fatalf("no checkpoint yet: %v %v", c, err)
	}
}
