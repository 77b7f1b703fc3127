package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// RecordingStore is a checkpoint store that keeps a copy of every manifest
// written through it, so that a benchmark can report on every checkpoint
// taken, including those the store no longer keeps.
type RecordingStore struct {
	checkpoint.Store
	mu        sync.Mutex
	manifests []checkpoint.Manifest
	err       error
}

// NewRecordingStore records the manifests written to store.
func NewRecordingStore(store checkpoint.Store) *RecordingStore {
	return &RecordingStore{Store: store}
}

// Write stores data and, for a manifest, records it.
func (s *RecordingStore) Write(ctx context.Context, path string, data []byte) error {
	if err := s.Store.Write(ctx, path, data); err != nil {
		return err
	}
	if !strings.HasSuffix(path, "/"+checkpoint.ManifestName) {
		return nil
	}
	var m checkpoint.Manifest
	err := json.Unmarshal(data, &m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = fmt.Errorf("manifest %s: %w", path, err)
		return nil
	}
	s.manifests = append(s.manifests, m)
	return nil
}

// Manifests returns the manifests written, by id.
func (s *RecordingStore) Manifests() ([]checkpoint.Manifest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.manifests)
	slices.SortFunc(out, func(a, b checkpoint.Manifest) int { return int(a.ID - b.ID) })
	return out, s.err
}

// CheckpointStats summarises the metrics of some checkpoints.
type CheckpointStats struct {
	Count                       int
	MeanDuration, MaxDuration   time.Duration
	MeanAlignment, MaxAlignment time.Duration
	MeanBytes, MaxBytes         int64
}

// SummarizeCheckpoints summarises the metrics of ms.
func SummarizeCheckpoints(ms []checkpoint.Manifest) CheckpointStats {
	var s CheckpointStats
	if len(ms) == 0 {
		return s
	}
	var dur, align time.Duration
	var bytes int64
	for _, m := range ms {
		dur += m.Metrics.Duration
		align += m.Metrics.Alignment
		bytes += m.Metrics.Bytes
		s.MaxDuration = max(s.MaxDuration, m.Metrics.Duration)
		s.MaxAlignment = max(s.MaxAlignment, m.Metrics.Alignment)
		s.MaxBytes = max(s.MaxBytes, m.Metrics.Bytes)
	}
	s.Count = len(ms)
	n := time.Duration(len(ms))
	s.MeanDuration, s.MeanAlignment, s.MeanBytes = dur/n, align/n, bytes/int64(len(ms))
	return s
}

// String is one line: how long the checkpoints took and how big they were.
func (s CheckpointStats) String() string {
	return fmt.Sprintf("duration mean %s max %s (alignment mean %s max %s), size mean %s max %s",
		Millis(s.MeanDuration), Millis(s.MaxDuration), Millis(s.MeanAlignment), Millis(s.MaxAlignment), Size(s.MeanBytes), Size(s.MaxBytes))
}

// Millis formats a duration in milliseconds.
func Millis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// Size formats a byte count in KB or MB (decimal, as the table's MB).
func Size(n int64) string {
	if n < 1_000_000 {
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// CompareFiles checks that two files hold the same lines in the same order
// and returns how many; a difference is an error naming the first line that
// differs.
func CompareFiles(want, got string) (int64, error) {
	fw, err := os.Open(want)
	if err != nil {
		return 0, err
	}
	defer fw.Close()
	fg, err := os.Open(got)
	if err != nil {
		return 0, err
	}
	defer fg.Close()
	rw, rg := bufio.NewReaderSize(fw, 1<<20), bufio.NewReaderSize(fg, 1<<20)
	var n int64
	for {
		lw, errw := readLine(rw)
		lg, errg := readLine(rg)
		if errw != nil && errw != io.EOF {
			return n, errw
		}
		if errg != nil && errg != io.EOF {
			return n, errg
		}
		switch {
		case errw == io.EOF && errg == io.EOF:
			return n, nil
		case errw == io.EOF:
			return n, fmt.Errorf("%s has more lines than %s's %d: line %d is %s", got, want, n, n+1, lg)
		case errg == io.EOF:
			return n, fmt.Errorf("%s has only %d lines; %s goes on with line %d: %s", got, n, want, n+1, lw)
		}
		n++
		if !bytes.Equal(lw, lg) {
			return n, fmt.Errorf("line %d differs:\n  %s: %s\n  %s: %s", n, want, lw, got, lg)
		}
	}
}

// readLine returns the next line without its newline; the bytes are valid
// until the next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := slices.Clone(line)
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err == io.EOF && len(line) > 0 {
		err = nil
	}
	return bytes.TrimSuffix(line, []byte("\n")), err
}
