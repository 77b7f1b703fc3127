package delivery

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// stateFormat is the version of state.json.
const stateFormat = 1

// StateFile is where a delivery stream's progress is kept, beside its
// definition: DATA_DIR/firehose/NAME/delivery.json.
func StateFile(dataDir, name string) string {
	return filepath.Join(dataDir, "firehose", name, "delivery.json")
}

// state is how far a delivery stream got, per shard of its source.
type state struct {
	Format int `json:"format"`
	// Source is the stream read; a state for another stream is not used.
	Source string                 `json:"source"`
	Shards map[string]*shardState `json:"shards"`
	// Intents are the objects being written: their ranges must be cut the same
	// way on a replay.
	Intents []intent `json:"intents,omitempty"`
	Metrics Metrics  `json:"metrics"`
}

// shardState is the progress in one shard.
type shardState struct {
	// After is the sequence number of the last record such that it and every
	// record before it are delivered; empty: none yet.
	After string `json:"after,omitempty"`
	// Delivered holds, per partition, the last record delivered when that is
	// past After (partitions deliver independently).
	Delivered map[string]string `json:"delivered,omitempty"`
	// Done is set when the shard is closed and all of it is delivered.
	Done bool `json:"done,omitempty"`
}

// intent is an object about to be written: the records of partition in shard
// from First to Last (sequence numbers, inclusive).
type intent struct {
	Shard     string `json:"shard"`
	Partition string `json:"partition"`
	First     string `json:"first"`
	Last      string `json:"last"`
}

// Metrics count what a delivery stream did; they are kept in its state file,
// so they survive restarts and `eddy firehose describe` shows them.
type Metrics struct {
	RecordsIn        int64 `json:"recordsIn"`
	BytesIn          int64 `json:"bytesIn"`
	RecordsDelivered int64 `json:"recordsDelivered"`
	// RecordsDropped counts records the SQL transform's WHERE filtered out.
	RecordsDropped     int64 `json:"recordsDropped"`
	ObjectsWritten     int64 `json:"objectsWritten"`
	BytesWritten       int64 `json:"bytesWritten"`
	ConversionFailures int64 `json:"conversionFailures"`
	PartitionFailures  int64 `json:"partitionFailures"`
	ErrorObjects       int64 `json:"errorObjects"`
	// LastDelivery is when the last object was written.
	LastDelivery time.Time `json:"lastDelivery,omitzero"`
	// FreshnessSeconds is the age of the oldest record not yet delivered, at
	// the last delivery (Firehose's DeliveryToS3.DataFreshness).
	FreshnessSeconds float64 `json:"freshnessSeconds"`
}

// loadState reads a state file; a missing file is a fresh state.
func loadState(path, source string) (*state, error) {
	st := &state{Format: stateFormat, Source: source, Shards: map[string]*shardState{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read delivery state: %w", err)
	}
	var got state
	if err := json.Unmarshal(data, &got); err != nil {
		return nil, fmt.Errorf("delivery state %s is damaged (%v): move it away to deliver the source again from its start", path, err)
	}
	if got.Format != stateFormat {
		return nil, fmt.Errorf("delivery state %s has format %d; this eddy reads format %d", path, got.Format, stateFormat)
	}
	if got.Source != source {
		// The delivery stream now reads another stream (its source was
		// replaced): positions in the old one mean nothing there.
		return st, nil
	}
	if got.Shards == nil {
		got.Shards = map[string]*shardState{}
	}
	return &got, nil
}

// save writes the state atomically and durably: temp file, fsync, rename, fsync dir.
func (st *state) save(path string) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode delivery state: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save delivery state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".delivery-*.tmp")
	if err != nil {
		return fmt.Errorf("save delivery state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save delivery state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save delivery state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save delivery state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save delivery state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("save delivery state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("save delivery state: sync %s: %w", dir, err)
	}
	return nil
}

// ReadMetrics returns the metrics kept in a delivery stream's state file
// (zero when it has not delivered yet).
func ReadMetrics(dataDir, name string) (Metrics, error) {
	data, err := os.ReadFile(StateFile(dataDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return Metrics{}, nil
	}
	if err != nil {
		return Metrics{}, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return Metrics{}, fmt.Errorf("delivery state of %s is damaged: %w", name, err)
	}
	return st.Metrics, nil
}
