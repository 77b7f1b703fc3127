package streamstore

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"
)

const metaVersion = 1

// streamMeta is the persisted description of a stream: its shards, their hash key
// ranges and lineage. It is rewritten atomically (temp + rename) on every change.
type streamMeta struct {
	Version        int         `json:"version"`
	Name           string      `json:"name"`
	Epoch          int64       `json:"epoch"` // creation time, Unix ms; part of every sequence number
	CreatedAt      time.Time   `json:"createdAt"`
	RetentionHours int         `json:"retentionHours"`
	NextShardIndex uint32      `json:"nextShardIndex"`
	Shards         []shardMeta `json:"shards"`
}

type shardMeta struct {
	Index          uint32     `json:"index"`
	Parent         *uint32    `json:"parent,omitempty"`
	AdjacentParent *uint32    `json:"adjacentParent,omitempty"`
	StartHashKey   string     `json:"startHashKey"`
	EndHashKey     string     `json:"endHashKey"`
	CreatedAt      time.Time  `json:"createdAt"`
	ClosedAt       *time.Time `json:"closedAt,omitempty"`
	// EndOrdinal is the number of records the shard holds once closed.
	EndOrdinal uint64 `json:"endOrdinal,omitempty"`
	// EndingArrivalNs is the arrival time of the shard's last record, for its ending sequence number.
	EndingArrivalNs int64 `json:"endingArrivalNs,omitempty"`
}

func (m shardMeta) hashRange() HashKeyRange {
	// Validated when the metadata is loaded.
	start, _ := ParseHashKey(m.StartHashKey)
	end, _ := ParseHashKey(m.EndHashKey)
	return HashKeyRange{Start: start, End: end}
}

func (m shardMeta) open() bool { return m.ClosedAt == nil }

const metaFile = "stream.json"

func writeMeta(dir string, m *streamMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stream %s metadata: %w", m.Name, err)
	}
	return writeFileAtomic(filepath.Join(dir, metaFile), append(b, '\n'))
}

func readMeta(dir string) (*streamMeta, error) {
	path := filepath.Join(dir, metaFile)
	b, err := readFull(path)
	if err != nil {
		return nil, err
	}
	var m streamMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Version != metaVersion {
		return nil, fmt.Errorf("%s: unsupported version %d (this eddy reads version %d)", path, m.Version, metaVersion)
	}
	for _, sh := range m.Shards {
		if _, err := ParseHashKey(sh.StartHashKey); err != nil {
			return nil, fmt.Errorf("%s: shard %d: %w", path, sh.Index, err)
		}
		if _, err := ParseHashKey(sh.EndHashKey); err != nil {
			return nil, fmt.Errorf("%s: shard %d: %w", path, sh.Index, err)
		}
	}
	return &m, nil
}
