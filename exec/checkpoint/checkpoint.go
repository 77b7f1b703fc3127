// Package checkpoint owns how checkpoints are stored: one folder per
// checkpoint of an application, holding the operators' state files and a
// manifest written last, so a checkpoint exists only once it is complete. The
// manifest lists every file with its size and CRC-32C; a checkpoint whose
// files are missing, short or damaged is skipped in favour of the previous
// one, with a warning. It also keeps only the newest N checkpoints.
//
// Layout, under a Store's root:
//
//	APP/chk-0000000012/MANIFEST.json
//	APP/chk-0000000012/FILE...
//
// The package knows nothing of operators or sources: a manifest carries
// source positions, sink states and named state files as the engine gives
// them.
package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ManifestName is the object written last in a checkpoint's folder.
const ManifestName = "MANIFEST.json"

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// Manifest describes one complete checkpoint.
type Manifest struct {
	Version int       `json:"version"`
	App     string    `json:"app"`
	ID      int64     `json:"id"`
	Created time.Time `json:"created"`
	// Sources are the positions to resume from, by source name (e.g. the
	// query and its stream): for each shard the sequence number after which
	// to read ("" = from its first record), and the shards read to their end.
	Sources map[string]Position `json:"sources,omitempty"`
	// Sinks are the states the sinks returned when preparing this
	// checkpoint's output, by sink name.
	Sinks map[string][]byte `json:"sinks,omitempty"`
	// Operators are the stateful operators with the files of their state.
	Operators []Operator `json:"operators,omitempty"`
	// Files are every state file with its size and checksum.
	Files   []File  `json:"files"`
	Metrics Metrics `json:"metrics"`
}

// Position is where a source resumes.
type Position struct {
	After map[string]string `json:"after"`
	Done  []string          `json:"done,omitempty"`
}

// Operator is one stateful operator: its name in the plan, a fingerprint of
// what its state means (a changed query whose state no longer fits has a
// different one), and its state files.
type Operator struct {
	Name        string   `json:"name"`
	Fingerprint string   `json:"fingerprint"`
	Files       []string `json:"files"`
}

// File is one state file.
type File struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	CRC32C uint32 `json:"crc32c"`
}

// Metrics measure the taking of a checkpoint.
type Metrics struct {
	// Duration is from the barrier's injection to the manifest's write.
	Duration time.Duration `json:"duration_ns"`
	// Alignment is how long the output stage waited for the last worker's
	// barrier after the first's.
	Alignment time.Duration `json:"alignment_ns"`
	// Bytes is the size of the state files (the manifest not counted), the
	// same in the manifest and in what Complete returns.
	Bytes int64 `json:"bytes"`
}

// Store is where checkpoints are kept: a local folder or an object store.
// Paths use "/" and are relative to the store's root.
type Store interface {
	// Write stores data at path, replacing what was there, atomically: a
	// reader sees all of it or none.
	Write(ctx context.Context, path string, data []byte) error
	// Read returns the object at path; a missing one is an error satisfying
	// errors.Is(err, ErrNotFound).
	Read(ctx context.Context, path string) ([]byte, error)
	// List returns the paths of every object under prefix, in any order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes one object; a missing one is not an error.
	Delete(ctx context.Context, path string) error
	// DeleteAll removes every object under prefix.
	DeleteAll(ctx context.Context, prefix string) error
	// String names the store in messages (a folder or a bucket URL).
	String() string
}

// ErrNotFound is returned by Store.Read for a missing object.
var ErrNotFound = errors.New("not found")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var appName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// CheckAppName reports whether name can name an application's checkpoints.
func CheckAppName(name string) error {
	if !appName.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("application name %q: use 1 to 128 letters, digits, '_', '.' or '-'", name)
	}
	return nil
}

func folder(app string, id int64) string { return fmt.Sprintf("%s/chk-%010d/", app, id) }

// Writer collects the files of one checkpoint being taken.
type Writer struct {
	store Store
	app   string
	id    int64
	files []File
	bytes int64
}

// Begin starts checkpoint id of app. Files may be added from several
// goroutines only if the caller serialises AddFile.
func Begin(store Store, app string, id int64) (*Writer, error) {
	if err := CheckAppName(app); err != nil {
		return nil, err
	}
	if id <= 0 {
		return nil, fmt.Errorf("checkpoint id %d: ids start at 1", id)
	}
	return &Writer{store: store, app: app, id: id}, nil
}

// ID is the checkpoint's id.
func (w *Writer) ID() int64 { return w.id }

// AddFile stores one state file of the checkpoint.
func (w *Writer) AddFile(ctx context.Context, name string, data []byte) error {
	if name == ManifestName || name == "" || strings.ContainsAny(name, "/\\") || slices.ContainsFunc(w.files, func(f File) bool { return f.Name == name }) {
		return fmt.Errorf("checkpoint %d: bad or repeated file name %q", w.id, name)
	}
	if err := w.store.Write(ctx, folder(w.app, w.id)+name, data); err != nil {
		return fmt.Errorf("checkpoint %d: write %s: %w", w.id, name, err)
	}
	w.files = append(w.files, File{Name: name, Bytes: int64(len(data)), CRC32C: crc32.Checksum(data, castagnoli)})
	w.bytes += int64(len(data))
	return nil
}

// Complete writes the manifest, which makes the checkpoint exist. m's App,
// ID, Version, Files and Metrics.Bytes are filled in here.
func (w *Writer) Complete(ctx context.Context, m Manifest) (Manifest, error) {
	m.Version, m.App, m.ID, m.Files = FormatVersion, w.app, w.id, w.files
	m.Metrics.Bytes = w.bytes
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	for _, op := range m.Operators {
		for _, f := range op.Files {
			if !slices.ContainsFunc(w.files, func(x File) bool { return x.Name == f }) {
				return m, fmt.Errorf("checkpoint %d: operator %s lists file %s that was not written", w.id, op.Name, f)
			}
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := w.store.Write(ctx, folder(w.app, w.id)+ManifestName, data); err != nil {
		return m, fmt.Errorf("checkpoint %d: write manifest: %w", w.id, err)
	}
	return m, nil
}

// ids returns the checkpoint ids of app found in the store (complete or
// not), each with whether its manifest exists, newest first.
func ids(ctx context.Context, store Store, app string) ([]int64, map[int64]bool, error) {
	paths, err := store.List(ctx, app+"/")
	if err != nil {
		return nil, nil, fmt.Errorf("list checkpoints of %s in %s: %w", app, store, err)
	}
	seen := map[int64]bool{}
	for _, p := range paths {
		rest, ok := strings.CutPrefix(p, app+"/chk-")
		if !ok {
			continue
		}
		num, file, ok := strings.Cut(rest, "/")
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(num, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		seen[id] = seen[id] || file == ManifestName
	}
	var list []int64
	for id := range seen {
		list = append(list, id)
	}
	slices.Sort(list)
	slices.Reverse(list)
	return list, seen, nil
}

// NextID is the id for app's next checkpoint: one more than any found,
// complete or not, so a half-written checkpoint is never reused.
func NextID(ctx context.Context, store Store, app string) (int64, error) {
	list, _, err := ids(ctx, store, app)
	if err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 1, nil
	}
	return list[0] + 1, nil
}

// Checkpoint is a complete checkpoint whose files were read and verified.
type Checkpoint struct {
	Manifest
	files map[string][]byte
}

// File returns a state file's bytes.
func (c *Checkpoint) File(name string) ([]byte, bool) {
	b, ok := c.files[name]
	return b, ok
}

// List returns the manifests of app's complete checkpoints, newest first,
// without verifying their files. Unreadable manifests are reported in
// warnings and skipped.
func List(ctx context.Context, store Store, app string) ([]Manifest, []string, error) {
	list, complete, err := ids(ctx, store, app)
	if err != nil {
		return nil, nil, err
	}
	var out []Manifest
	var warnings []string
	for _, id := range list {
		if !complete[id] {
			continue
		}
		m, err := readManifest(ctx, store, app, id)
		if err != nil {
			warnings = append(warnings, err.Error())
			continue
		}
		out = append(out, m)
	}
	return out, warnings, nil
}

func readManifest(ctx context.Context, store Store, app string, id int64) (Manifest, error) {
	var m Manifest
	data, err := store.Read(ctx, folder(app, id)+ManifestName)
	if err != nil {
		return m, fmt.Errorf("checkpoint %d of %s: read manifest: %w", id, app, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("checkpoint %d of %s: manifest is not valid JSON: %w", id, app, err)
	}
	if m.Version != FormatVersion || m.ID != id || m.App != app {
		return m, fmt.Errorf("checkpoint %d of %s: manifest says version %d, app %q, id %d", id, app, m.Version, m.App, m.ID)
	}
	return m, nil
}

// Load reads and verifies checkpoint id of app.
func Load(ctx context.Context, store Store, app string, id int64) (*Checkpoint, error) {
	m, err := readManifest(ctx, store, app, id)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Manifest: m, files: map[string][]byte{}}
	for _, f := range m.Files {
		data, err := store.Read(ctx, folder(app, id)+f.Name)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %d of %s: read %s: %w", id, app, f.Name, err)
		}
		if int64(len(data)) != f.Bytes {
			return nil, fmt.Errorf("checkpoint %d of %s: file %s has %d bytes, the manifest says %d", id, app, f.Name, len(data), f.Bytes)
		}
		if sum := crc32.Checksum(data, castagnoli); sum != f.CRC32C {
			return nil, fmt.Errorf("checkpoint %d of %s: file %s is damaged (CRC-32C %08x, the manifest says %08x)", id, app, f.Name, sum, f.CRC32C)
		}
		c.files[f.Name] = data
	}
	return c, nil
}

// Latest loads app's newest complete checkpoint whose files verify; the
// newer ones that did not are reported in warnings. It returns nil when
// there is none.
func Latest(ctx context.Context, store Store, app string) (*Checkpoint, []string, error) {
	list, complete, err := ids(ctx, store, app)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	for _, id := range list {
		if !complete[id] {
			continue
		}
		c, err := Load(ctx, store, app, id)
		if err != nil {
			warnings = append(warnings, err.Error()+"; using an older checkpoint")
			continue
		}
		return c, warnings, nil
	}
	return nil, warnings, nil
}

// Retain deletes all but the newest keep complete checkpoints of app, and
// incomplete ones older than the newest complete one (a crash's leftovers).
// Checkpoints newer than the newest complete one are left alone: one may be
// being written.
func Retain(ctx context.Context, store Store, app string, keep int) error {
	list, complete, err := ids(ctx, store, app)
	if err != nil {
		return err
	}
	kept := 0
	newestComplete := int64(-1)
	for _, id := range list {
		if complete[id] {
			if newestComplete < 0 {
				newestComplete = id
			}
			if kept < keep {
				kept++
				continue
			}
		} else if newestComplete < 0 {
			continue // newer than every complete one: maybe in progress
		}
		// The manifest goes first: a half-deleted checkpoint is incomplete,
		// not damaged.
		if err := store.Delete(ctx, folder(app, id)+ManifestName); err != nil {
			return fmt.Errorf("delete checkpoint %d of %s: %w", id, app, err)
		}
		if err := store.DeleteAll(ctx, folder(app, id)); err != nil {
			return fmt.Errorf("delete checkpoint %d of %s: %w", id, app, err)
		}
	}
	return nil
}
