package catalog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// fileFormat is the version of stream.json files this package writes. A file
// of a newer version is reported damaged rather than misread.
const fileFormat = 1

const (
	streamFile = "stream.json"
	// deletingSuffix marks a directory being deleted; '~' cannot appear in a
	// delivery stream name, so it never collides with one.
	deletingSuffix = "~deleting"
)

// streamFileJSON is the content of DATA_DIR/firehose/NAME/stream.json.
type streamFileJSON struct {
	Format         int             `json:"format"`
	DeliveryStream *DeliveryStream `json:"deliveryStream"`
}

func dirOf(path string) string { return filepath.Dir(path) }

// writeStream publishes ds's file atomically: a temporary file in the stream's
// directory, fsync, rename over stream.json, fsync the directory (and, for a
// new directory, its parent).
func writeStream(root string, ds *DeliveryStream) error {
	dir := filepath.Join(root, ds.Name)
	created := false
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		created = true
	}
	b, err := json.MarshalIndent(streamFileJSON{Format: fileFormat, DeliveryStream: ds}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode delivery stream %s: %w", ds.Name, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, streamFile), append(b, '\n')); err != nil {
		return err
	}
	if created {
		return syncDir(root)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// removeStream deletes a stream's directory: renamed aside first (so a crash
// leaves either the whole stream or a leftover Open removes), then removed.
func removeStream(root, name string) error {
	dir := filepath.Join(root, name)
	aside := dir + deletingSuffix
	if err := os.Rename(dir, aside); err != nil {
		return fmt.Errorf("delete delivery stream %s: %w", name, err)
	}
	if err := syncDir(root); err != nil {
		return err
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("delete delivery stream %s: remove %s: %w", name, aside, err)
	}
	return nil
}

// readStream loads one stream's file and checks it names itself.
func readStream(root, name string) (*DeliveryStream, error) {
	path := filepath.Join(root, name, streamFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f streamFileJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if f.Format != fileFormat {
		return nil, fmt.Errorf("format %d is not one this eddy reads (it reads %d)", f.Format, fileFormat)
	}
	ds := f.DeliveryStream
	if ds == nil {
		return nil, fmt.Errorf("no deliveryStream object")
	}
	if ds.Name != name {
		return nil, fmt.Errorf("it defines delivery stream %q, not %q", ds.Name, name)
	}
	if v, err := strconv.ParseUint(ds.VersionID, 10, 64); err != nil || v == 0 {
		return nil, fmt.Errorf("version id %q is not a positive number", ds.VersionID)
	}
	if ds.ARN == "" || ds.Destination.ID == "" || (ds.Type != TypeDirectPut && ds.Type != TypeKinesisStreamAsSource) {
		return nil, fmt.Errorf("it lacks an ARN, a destination id or a known type")
	}
	if ds.Type == TypeKinesisStreamAsSource && ds.Source == nil {
		return nil, fmt.Errorf("a KinesisStreamAsSource delivery stream without a source")
	}
	return ds, nil
}

// isLeftover says whether a directory entry is what an interrupted delete left.
func isLeftover(name string) bool { return strings.HasSuffix(name, deletingSuffix) }
