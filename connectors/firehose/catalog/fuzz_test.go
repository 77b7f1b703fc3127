package catalog

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzOpenDamagedFile opens a catalog whose one stream file holds arbitrary
// bytes: Open never fails or panics for it; the stream is either loaded
// (and then reads back as it names itself) or reported damaged.
func FuzzOpenDamagedFile(f *testing.F) {
	dir := f.TempDir()
	c, err := Open(dir, Options{StateDelay: -1, Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := c.Create(CreateInput{Name: "s", Destination: s3Config(), Tags: []Tag{{"k", "v"}}}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "firehose", "s", streamFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":1,"deliveryStream":null}`))
	f.Add([]byte(`{"format":1,"deliveryStream":{"name":"s","arn":"a","type":"DirectPut","versionId":"x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "firehose", "s", streamFile)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Open(dir, Options{StateDelay: -1})
		if err != nil {
			t.Fatalf("Open failed for one bad file: %v", err)
		}
		ds, err := c.Get("s")
		if err == nil {
			if ds.Name != "s" || len(c.Damaged()) != 0 {
				t.Fatalf("loaded %+v with damaged %v", ds, c.Damaged())
			}
			return
		}
		if len(c.Damaged()) != 1 || c.Damaged()[0].Name != "s" {
			t.Fatalf("not loaded (%v) and not reported damaged: %v", err, c.Damaged())
		}
	})
}
