package catalog

import "testing"

func TestRecordIDRoundTrip(t *testing.T) {
	id := RecordID("shardId-000000000000", "49650000000000000000000000000000000000000000000000000001")
	shard, seq, err := ParseRecordID(id)
	if err != nil || shard != "shardId-000000000000" || seq != "49650000000000000000000000000000000000000000000000000001" {
		t.Fatalf("ParseRecordID(%s) = %s %s %v", id, shard, seq, err)
	}
	for _, bad := range []string{"", "!!", RecordID("", "1"), "MjpzOjE"} { // the last is "2:s:1"
		if _, _, err := ParseRecordID(bad); err == nil {
			t.Errorf("ParseRecordID(%q) accepted", bad)
		}
	}
}

func FuzzParseRecordID(f *testing.F) {
	f.Add(RecordID("shardId-000000000001", "123"))
	f.Fuzz(func(t *testing.T, id string) {
		shard, seq, err := ParseRecordID(id)
		if err != nil {
			return
		}
		if RecordID(shard, seq) != id {
			t.Fatalf("%q parses to %q %q, which encode to %q", id, shard, seq, RecordID(shard, seq))
		}
	})
}
