package kinesisapi

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
)

// sameJSON checks that a hand-written encoding says what encoding/json says.
func sameJSON(t *testing.T, v any, appended []byte) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(appended, &a); err != nil {
		t.Fatalf("AppendJSON wrote invalid JSON %q: %v", appended, err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", appended, want)
	}
}

func randomText(r *rand.Rand) string {
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "\n", "\t", "\x00", "\x1f", "<", "&", "é", "😀", "\u2028", "\u2029", "\xff", "\xe2\x82"}
	var s string
	for range r.IntN(12) {
		s += alphabet[r.IntN(len(alphabet))]
	}
	return s
}

func TestAppendJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var g getRecordsOutput
		g.Records = make([]recordOut, r.IntN(4))
		for i := range g.Records {
			data := make([]byte, r.IntN(40))
			for j := range data {
				data[j] = byte(r.IntN(256))
			}
			if r.IntN(5) == 0 {
				data = nil
			}
			g.Records[i] = recordOut{SequenceNumber: randomText(r), ApproximateArrivalTimestamp: awsproto.Timestamp(time.UnixMilli(r.Int64N(4e12))),
				Data: data, PartitionKey: randomText(r)}
			if r.IntN(3) == 0 {
				g.Records[i].EncryptionType = "KMS"
			}
		}
		if r.IntN(2) == 0 {
			g.NextShardIterator = randomText(r)
		}
		g.MillisBehindLatest = r.Int64N(1e9)
		if r.IntN(3) == 0 {
			g.ChildShards = []childShardOut{{ShardId: randomText(r), ParentShards: []string{randomText(r)}, HashKeyRange: hashKeyRange{StartingHashKey: "0", EndingHashKey: randomText(r)}}}
		}
		sameJSON(t, g, g.AppendJSON(nil))

		var p putRecordsOutput
		p.Records = make([]putRecordsResultEntry, r.IntN(4))
		for i := range p.Records {
			if r.IntN(3) == 0 {
				p.Records[i] = putRecordsResultEntry{ErrorCode: randomText(r), ErrorMessage: randomText(r)}
			} else {
				p.Records[i] = putRecordsResultEntry{SequenceNumber: randomText(r), ShardId: randomText(r)}
			}
		}
		p.FailedRecordCount = r.IntN(500)
		p.EncryptionType = randomText(r)
		sameJSON(t, p, p.AppendJSON(nil))
	}
}
