package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DirStore keeps checkpoints in a local folder. Writes go to a temporary file
// that is synced and renamed into place, then the folder is synced, so an
// object is whole or absent after a crash.
type DirStore struct {
	root string
}

// NewDirStore returns a store rooted at dir (created when needed).
func NewDirStore(dir string) *DirStore { return &DirStore{root: dir} }

func (s *DirStore) String() string { return s.root }

func (s *DirStore) path(p string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(p))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q leaves the checkpoint folder", p)
	}
	return filepath.Join(s.root, clean), nil
}

func (s *DirStore) Write(_ context.Context, p string, data []byte) error {
	full, err := s.path(p)
	if err != nil {
		return err
	}
	dir := filepath.Dir(full)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), full)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *DirStore) Read(_ context.Context, p string) ([]byte, error) {
	full, err := s.path(p)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(full)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", p, ErrNotFound)
	}
	return data, err
}

func (s *DirStore) List(_ context.Context, prefix string) ([]string, error) {
	full, err := s.path(prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	err = filepath.WalkDir(full, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out, err
}

func (s *DirStore) Delete(_ context.Context, p string) error {
	full, err := s.path(p)
	if err != nil {
		return err
	}
	if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *DirStore) DeleteAll(_ context.Context, prefix string) error {
	full, err := s.path(prefix)
	if err != nil {
		return err
	}
	if full == filepath.Clean(s.root) {
		return fmt.Errorf("refusing to delete the whole checkpoint folder %s", s.root)
	}
	return os.RemoveAll(full)
}
