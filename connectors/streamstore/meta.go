package streamstore

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"
)

// Metadata versions. Version 2 adds the stream's attributes (mode, tags,
// consumers, encryption, enhanced monitoring). A stream that has none of them is
// still written as version 1, which eddy versions before attributes read; one
// that has any is written as version 2, which they refuse rather than rewrite
// without the attributes.
const (
	metaVersion      = 1
	metaVersionAttrs = 2
)

// streamMeta is the persisted description of a stream: its shards, their hash key
// ranges and lineage, and its attributes. It is rewritten atomically (temp +
// rename) on every change.
//
// A published streamMeta is never modified: a change copies it (next :=
// *st.meta) and replaces, never edits in place, each map or slice it changes,
// since the copy shares them with the published one.
type streamMeta struct {
	Version        int         `json:"version"`
	Name           string      `json:"name"`
	Epoch          int64       `json:"epoch"` // creation time, Unix ms; part of every sequence number
	CreatedAt      time.Time   `json:"createdAt"`
	RetentionHours int         `json:"retentionHours"`
	NextShardIndex uint32      `json:"nextShardIndex"`
	Shards         []shardMeta `json:"shards"`

	// Attributes (version 2); see attrs.go. Absent means the default.
	Mode            string            `json:"mode,omitempty"` // ModeOnDemand; absent: PROVISIONED
	Tags            map[string]string `json:"tags,omitempty"`
	Consumers       []consumerMeta    `json:"consumers,omitempty"` // in registration order
	LastConsumerARN int64             `json:"lastConsumerArnSuffix,omitempty"`
	EncryptionType  string            `json:"encryptionType,omitempty"` // EncryptionKMS; absent: NONE
	KeyID           string            `json:"keyId,omitempty"`
	EnhancedMetrics []string          `json:"enhancedMetrics,omitempty"` // in the order of AllMetrics
}

// consumerMeta is an enhanced fan-out consumer registered with the stream.
type consumerMeta struct {
	Name      string            `json:"name"`
	CreatedAt time.Time         `json:"createdAt"`
	ARNSuffix int64             `json:"arnSuffix"`
	Tags      map[string]string `json:"tags,omitempty"`
}

// hasAttrs says whether the metadata holds anything version 1 cannot.
func (m *streamMeta) hasAttrs() bool {
	return m.Mode != "" || len(m.Tags) > 0 || len(m.Consumers) > 0 || m.LastConsumerARN != 0 ||
		m.EncryptionType != "" || m.KeyID != "" || len(m.EnhancedMetrics) > 0
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
	m.Version = metaVersion
	if m.hasAttrs() {
		m.Version = metaVersionAttrs
	}
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
	if m.Version != metaVersion && m.Version != metaVersionAttrs {
		return nil, fmt.Errorf("%s: unsupported version %d (this eddy reads versions %d and %d)", path, m.Version, metaVersion, metaVersionAttrs)
	}
	if m.Version == metaVersion && m.hasAttrs() {
		return nil, fmt.Errorf("%s: version %d holds attributes of version %d", path, m.Version, metaVersionAttrs)
	}
	if err := m.checkAttrs(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
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
