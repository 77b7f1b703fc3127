package firehoseapi

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestModelUpToDate regenerates the Firehose model and compares it with the
// committed model_gen.go.
func TestModelUpToDate(t *testing.T) {
	model := filepath.Join("..", "..", "..", "..", "shared", "aws-models", "firehose-2015-08-04.json")
	if _, err := os.Stat(model); err != nil {
		t.Skipf("the Firehose model is not here: %v", err)
	}
	out := filepath.Join(t.TempDir(), "model_gen.go")
	cmd := exec.Command("go", "run", "../internal/gen", "-shapes", out, "-package", "firehoseapi", "-func", "newModel", model)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("model_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("model_gen.go is not what the generator writes from the Firehose model: run go generate ./connectors/api/...")
	}
}
