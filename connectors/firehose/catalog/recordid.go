package catalog

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// recordIDVersion starts every record id, so the encoding can change.
const recordIDVersion = "1"

// RecordID is the id PutRecord and PutRecordBatch answer for a record stored
// in a backing stream's shard at a sequence number. Clients treat it as
// opaque; the delivery runner maps it back with ParseRecordID.
func RecordID(shardID, sequenceNumber string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(recordIDVersion + ":" + shardID + ":" + sequenceNumber))
}

// ParseRecordID returns the shard and sequence number a RecordID encodes.
func ParseRecordID(id string) (shardID, sequenceNumber string, err error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(id)
	if err != nil {
		return "", "", fmt.Errorf("record id %q is not one eddy issued: %w", id, err)
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != recordIDVersion || parts[1] == "" || parts[2] == "" {
		return "", "", fmt.Errorf("record id %q is not one eddy issued", id)
	}
	return parts[1], parts[2], nil
}
