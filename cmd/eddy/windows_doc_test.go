package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWindowDocExamples runs every worked example of docs/windows.md: its input
// lines go into a one-shard stream, the application runs bounded with JSON
// output, and the output must equal the documented block.
func TestWindowDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/windows.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- window-example: ([a-z-]+) -->\\s*```sql\\n(.*?)```\\s*```json\\n(.*?)```\\s*```output\\n(.*?)```")
	examples := re.FindAllStringSubmatch(string(doc), -1)
	if len(examples) < 5 {
		t.Fatalf("docs/windows.md has %d worked examples, want at least 5", len(examples))
	}
	for _, ex := range examples {
		name, app, input, want := ex[1], ex[2], ex[3], ex[4]
		t.Run(name, func(t *testing.T) {
			c := newCLI(t)
			c.ok(nil, "streams", "create", "events", "--shards", "1")
			c.ok([]byte(input), "put", "events", "--partition-key", "k")
			path := filepath.Join(t.TempDir(), name+".sql")
			os.WriteFile(path, []byte(app), 0o644)
			got := c.ok(nil, "run", path, "--bounded", "--format", "json")
			if strings.TrimSpace(got) != strings.TrimSpace(want) {
				t.Fatalf("example %s printed:\n%s\ndocs/windows.md says:\n%s", name, got, want)
			}
		})
	}
}
