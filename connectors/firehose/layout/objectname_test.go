package layout

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestObjectKey(t *testing.T) {
	stamp := time.Date(2019, 8, 9, 23, 55, 9, 0, time.UTC)
	id := "a9fa96af-e4e4-409f-bac3-1f804714faaa" // the docs' example id
	tests := []struct {
		cfg  Config
		want string
	}{
		// The docs' example key my-delivery-stream-2019-08-09-23-55-09-a9fa96af-...,
		// with the version the name format puts after the stream name.
		{Config{DeliveryStreamName: "my-delivery-stream", Version: 1}, "p/my-delivery-stream-1-2019-08-09-23-55-09-" + id},
		{Config{DeliveryStreamName: "s", Version: 12, Compression: Gzip}, "p/s-12-2019-08-09-23-55-09-" + id + ".gz"},
		{Config{DeliveryStreamName: "s", Version: 1, Compression: Zip}, "p/s-1-2019-08-09-23-55-09-" + id + ".zip"},
		{Config{DeliveryStreamName: "s", Version: 1, Compression: HadoopSnappy}, "p/s-1-2019-08-09-23-55-09-" + id + ".snappy"},
		{Config{DeliveryStreamName: "s", Version: 1, OutputFormat: Parquet}, "p/s-1-2019-08-09-23-55-09-" + id + ".parquet"},
		{Config{DeliveryStreamName: "s", Version: 1, OutputFormat: ORC, Compression: Uncompressed}, "p/s-1-2019-08-09-23-55-09-" + id + ".orc"},
		{Config{DeliveryStreamName: "s", Version: 1, Compression: Gzip, FileExtension: ".json.gz"}, "p/s-1-2019-08-09-23-55-09-" + id + ".json.gz"},
		{Config{DeliveryStreamName: "s", Version: 1, TimeZone: time.FixedZone("JST", 9*3600)}, "p/s-1-2019-08-10-08-55-09-" + id},
	}
	for _, tt := range tests {
		l := mustNew(t, tt.cfg)
		if got := l.ObjectKey("p/", stamp, id); got != tt.want {
			t.Errorf("%+v: ObjectKey = %q, want %q", tt.cfg, got, tt.want)
		}
	}
	l := mustNew(t, Config{OutputFormat: Parquet})
	if got := l.ErrorObjectKey("e/", stamp, id); got != "e/stream-1-2019-08-09-23-55-09-"+id {
		t.Errorf("ErrorObjectKey = %q: error records are JSON, not Parquet", got)
	}
}

func TestObjectID(t *testing.T) {
	base := ObjectID("orders", "shardId-000000000000", "49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692540925702759324208523137515618")
	if !uuidShape.MatchString(base) {
		t.Fatalf("ObjectID = %q, not shaped like Firehose's version 4 UUIDs", base)
	}
	if again := ObjectID("orders", "shardId-000000000000", "49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692540925702759324208523137515618"); again != base {
		t.Fatalf("the same range gave %q and %q", base, again)
	}
	// Every input matters, and moving text between fields is a different range.
	variants := [][4]string{
		{"orders2", "shardId-000000000000", "1", "2"},
		{"orders", "shardId-000000000001", "1", "2"},
		{"orders", "shardId-000000000000", "1", "3"},
		{"orders", "shardId-000000000000", "0", "2"},
		{"orders", "shardId-000000000000", "12", ""},
		{"orders", "shardId-000000000000", "1", "2"},
		{"orders", "shardId-000000000000", "", "12"},
	}
	seen := map[string][4]string{base: {}}
	for _, v := range variants {
		id := ObjectID(v[0], v[1], v[2], v[3])
		if prev, dup := seen[id]; dup {
			t.Fatalf("%v and %v share id %s", v, prev, id)
		}
		seen[id] = v
	}
	// Consecutive ranges of one shard, as a runner produces them, never collide.
	for i := 0; i < 20000; i++ {
		id := ObjectID("s", "shardId-000000000000", strconv.Itoa(i*100), strconv.Itoa(i*100+99))
		if _, dup := seen[id]; dup {
			t.Fatalf("range %d collides", i)
		}
		seen[id] = [4]string{}
	}
}

// Same configuration and same random source: the same keys and prefixes.
func TestLayoutDeterminism(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	build := func() (string, string) {
		l := mustNew(t, Config{
			Prefix:            "r=!{firehose:random-string}/!{timestamp:yyyy-MM-dd}/",
			ErrorOutputPrefix: "!{firehose:error-output-type}/!{firehose:random-string}/",
			Random:            &fixedRandom{[]byte("0123456789abcdefghijklmnop")},
		})
		p, err := l.Prefix(PrefixValues{Arrival: at})
		if err != nil {
			t.Fatal(err)
		}
		e, err := l.ErrorPrefix(ProcessingFailed, at)
		if err != nil {
			t.Fatal(err)
		}
		return l.ObjectKey(p, at, ObjectID("stream", "shardId-0", "1", "9")), e
	}
	k1, e1 := build()
	k2, e2 := build()
	if k1 != k2 || e1 != e2 {
		t.Fatalf("two identical layouts gave %q, %q and %q, %q", k1, e1, k2, e2)
	}
	if want := "r=30313233343/2024-05-06/stream-1-2024-05-06-07-08-09-"; k1[:len(want)] != want {
		t.Fatalf("key %q does not start with %q", k1, want)
	}
}
