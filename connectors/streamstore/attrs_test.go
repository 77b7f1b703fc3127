package streamstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustTags(t testing.TB, s *Store, stream string) map[string]string {
	t.Helper()
	tags, err := s.Tags(stream)
	mustOK(t, err)
	return tags
}

func tagN(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("k%02d", i)] = fmt.Sprint("v", i)
	}
	return m
}

func sameConsumer(a, b Consumer) bool {
	return a.Name == b.Name && a.Status == b.Status && a.CreatedAt.Equal(b.CreatedAt) && a.ARNSuffix == b.ARNSuffix && maps.Equal(a.Tags, b.Tags)
}

// metaVersionOnDisk reads the version field of a stream's stream.json.
func metaVersionOnDisk(t testing.TB, s *Store, stream string) int {
	t.Helper()
	var v struct{ Version int }
	mustOK(t, json.Unmarshal(mustReadFile(t, filepath.Join(s.Dir(), "streams", stream+streamDirSuffix, metaFile)), &v))
	return v.Version
}

func TestTags(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, DefaultOptions())
	mustOK(t, s.CreateStream("t", 1))
	if got := mustTags(t, s, "t"); got == nil || len(got) != 0 {
		t.Fatalf("a new stream has tags %v, want an empty map", got)
	}
	if v := metaVersionOnDisk(t, s, "t"); v != metaVersion {
		t.Fatalf("a stream without attributes is written as version %d, want %d", v, metaVersion)
	}
	mustOK(t, s.AddTags("t", map[string]string{"team": "core", "env": "", "Ünïcode key 9": "a b/c=d+e-f@g:h_i.j"}))
	mustOK(t, s.AddTags("t", map[string]string{"team": "edge"})) // overwrites
	want := map[string]string{"team": "edge", "env": "", "Ünïcode key 9": "a b/c=d+e-f@g:h_i.j"}
	if got := mustTags(t, s, "t"); !maps.Equal(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	if v := metaVersionOnDisk(t, s, "t"); v != metaVersionAttrs {
		t.Fatalf("a stream with tags is written as version %d, want %d", v, metaVersionAttrs)
	}
	// The caller's map is copied in and out.
	got := mustTags(t, s, "t")
	got["team"] = "changed"
	if mustTags(t, s, "t")["team"] != "edge" {
		t.Fatal("changing the map Tags returned changed the stream's tags")
	}

	// Every refused call changes nothing.
	bad := []struct {
		what string
		tags map[string]string
	}{
		{"no tags", map[string]string{}},
		{"empty key", map[string]string{"": "v"}},
		{"129-character key", map[string]string{strings.Repeat("é", 129): "v"}},
		{"257-character value", map[string]string{"k": strings.Repeat("é", 257)}},
		{"percent in key", map[string]string{"50%": "v"}},
		{"percent in value", map[string]string{"k": "50%"}},
		{"comma", map[string]string{"a,b": "v"}},
		{"tab", map[string]string{"a\tb": "v"}},
		{"aws: prefix", map[string]string{"AWS:cloudformation": "v"}},
		{"invalid UTF-8", map[string]string{"k\xff": "v"}},
		{"201 tags in one call", tagN(201)},
	}
	for _, b := range bad {
		wantKind(t, s.AddTags("t", b.tags), ErrInvalidArgument, "AddTags with "+b.what)
	}
	okEdge := map[string]string{strings.Repeat("é", 128): strings.Repeat("ü", 256)}
	mustOK(t, s.AddTags("t", okEdge))
	mustOK(t, s.RemoveTags("t", slices.Collect(maps.Keys(okEdge))))
	if got := mustTags(t, s, "t"); !maps.Equal(got, want) {
		t.Fatalf("after refused calls tags are %v, want %v", got, want)
	}

	// 50 tags per stream; the 51st is refused as Kinesis refuses it, with
	// InvalidArgumentException.
	fill := tagN(47)
	mustOK(t, s.AddTags("t", fill))
	err := s.AddTags("t", map[string]string{"one": "more"})
	wantKind(t, err, ErrInvalidArgument, "a 51st tag")
	if !strings.Contains(err.Error(), "cannot have more than 50 tags") {
		t.Fatalf("the 51st tag's error %q does not state the limit", err)
	}
	mustOK(t, s.AddTags("t", map[string]string{"k00": "replacing does not add"}))
	if n := len(mustTags(t, s, "t")); n != 50 {
		t.Fatalf("stream has %d tags, want 50", n)
	}

	// Removal ignores keys the stream does not have; at most 50 keys per call.
	mustOK(t, s.RemoveTags("t", []string{"team", "nope"}))
	wantKind(t, s.RemoveTags("t", nil), ErrInvalidArgument, "RemoveTags with no keys")
	wantKind(t, s.RemoveTags("t", slices.Collect(maps.Keys(tagN(51)))), ErrInvalidArgument, "RemoveTags with 51 keys")
	wantKind(t, s.RemoveTags("t", []string{""}), ErrInvalidArgument, "RemoveTags of an empty key")
	_, err = s.Tags("nope")
	wantKind(t, err, ErrNotFound, "Tags of a missing stream")
	wantKind(t, s.AddTags("nope", map[string]string{"k": "v"}), ErrNotFound, "AddTags to a missing stream")
	wantKind(t, s.AddTags("bad name", map[string]string{"k": "v"}), ErrInvalidArgument, "AddTags to a bad stream name")

	want = mustTags(t, s, "t")
	mustOK(t, s.Close())
	s2 := openStore(t, dir, DefaultOptions())
	if got := mustTags(t, s2, "t"); !maps.Equal(got, want) {
		t.Fatalf("after reopening tags are %v, want %v", got, want)
	}
	ro := openStore(t, dir, Options{ReadOnly: true})
	wantKind(t, ro.AddTags("t", map[string]string{"k": "v"}), ErrReadOnly, "AddTags on a read-only store")
	if got := mustTags(t, ro, "t"); !maps.Equal(got, want) {
		t.Fatalf("a read-only store sees tags %v, want %v", got, want)
	}
}

func TestCreateStreamWith(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxShardsPerStream = 10
	s := openStore(t, t.TempDir(), opts)
	mustOK(t, s.CreateStreamWith("od", StreamOptions{Mode: ModeOnDemand, Tags: map[string]string{"a": "1"}}))
	d, err := s.DescribeStream("od")
	mustOK(t, err)
	if d.Mode != ModeOnDemand || d.OpenShards != DefaultOnDemandShards || !maps.Equal(d.Tags, map[string]string{"a": "1"}) {
		t.Fatalf("on-demand stream: mode %s, %d open shards, tags %v", d.Mode, d.OpenShards, d.Tags)
	}
	mustOK(t, s.CreateStreamWith("od3", StreamOptions{Mode: ModeOnDemand, Shards: 3}))
	mustOK(t, s.CreateStreamWith("prov", StreamOptions{Mode: ModeProvisioned, Shards: 2}))
	for name, want := range map[string]int{"od3": 3, "prov": 2} {
		d, err := s.DescribeStream(name)
		mustOK(t, err)
		if d.OpenShards != want {
			t.Fatalf("%s has %d open shards, want %d", name, d.OpenShards, want)
		}
	}
	d, err = s.DescribeStream("prov")
	mustOK(t, err)
	if d.Mode != ModeProvisioned || d.EncryptionType != EncryptionNone || d.KeyID != "" || d.Tags != nil || d.Consumers != nil || d.EnhancedMetrics != nil {
		t.Fatalf("a stream without attributes describes as %+v", d)
	}
	if v := metaVersionOnDisk(t, s, "prov"); v != metaVersion {
		t.Fatalf("a stream created without attributes is version %d", v)
	}

	wantKind(t, s.CreateStreamWith("x", StreamOptions{}), ErrInvalidArgument, "a provisioned stream without shards")
	wantKind(t, s.CreateStreamWith("x", StreamOptions{Shards: 1, Mode: "on_demand"}), ErrInvalidArgument, "a bad mode")
	wantKind(t, s.CreateStreamWith("x", StreamOptions{Shards: 1, Tags: map[string]string{"a%": "b"}}), ErrInvalidArgument, "a bad tag")
	wantKind(t, s.CreateStreamWith("x", StreamOptions{Shards: 1, Tags: tagN(51)}), ErrInvalidArgument, "51 tags")
	wantKind(t, s.CreateStreamWith("od", StreamOptions{Shards: 1}), ErrInUse, "an existing name")
	if got := s.ListStreams(); slices.Contains(got, "x") {
		t.Fatalf("refused creates made a stream: %v", got)
	}
	mustOK(t, s.CreateStreamWith("x", StreamOptions{Shards: 1, Tags: tagN(50)}))
}

func TestModeEncryptionMonitoring(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, DefaultOptions())
	mustOK(t, s.CreateStream("m", 2))

	mustOK(t, s.SetStreamMode("m", ModeOnDemand))
	mustOK(t, s.SetStreamMode("m", ModeOnDemand)) // no change
	wantKind(t, s.SetStreamMode("m", "AUTO"), ErrInvalidArgument, "a bad mode")
	d, err := s.DescribeStream("m")
	mustOK(t, err)
	if d.Mode != ModeOnDemand || d.OpenShards != 2 {
		t.Fatalf("mode %s with %d open shards, want ON_DEMAND with the 2 the stream has", d.Mode, d.OpenShards)
	}

	mustOK(t, s.SetEncryption("m", EncryptionKMS, "alias/aws/kinesis"))
	wantKind(t, s.SetEncryption("m", EncryptionKMS, ""), ErrInvalidArgument, "KMS without a key")
	wantKind(t, s.SetEncryption("m", EncryptionKMS, strings.Repeat("k", MaxKeyIDChars+1)), ErrInvalidArgument, "a key id too long")
	wantKind(t, s.SetEncryption("m", "AES", "k"), ErrInvalidArgument, "a bad encryption type")
	if d, _ := s.DescribeStream("m"); d.EncryptionType != EncryptionKMS || d.KeyID != "alias/aws/kinesis" {
		t.Fatalf("encryption %s key %q", d.EncryptionType, d.KeyID)
	}

	cur, des, err := s.EnableEnhancedMonitoring("m", []string{"OutgoingBytes", "IncomingBytes", "IncomingBytes"})
	mustOK(t, err)
	if len(cur) != 0 || cur == nil || !slices.Equal(des, []string{"IncomingBytes", "OutgoingBytes"}) {
		t.Fatalf("enable: current %v, desired %v", cur, des)
	}
	cur, des, err = s.EnableEnhancedMonitoring("m", []string{MetricAll})
	mustOK(t, err)
	if !slices.Equal(cur, []string{"IncomingBytes", "OutgoingBytes"}) || !slices.Equal(des, AllMetrics) {
		t.Fatalf("enable ALL: current %v, desired %v", cur, des)
	}
	cur, des, err = s.DisableEnhancedMonitoring("m", []string{"IteratorAgeMilliseconds", "IncomingRecords"})
	mustOK(t, err)
	wantDes := []string{"IncomingBytes", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded"}
	if !slices.Equal(cur, AllMetrics) || !slices.Equal(des, wantDes) {
		t.Fatalf("disable: current %v, desired %v", cur, des)
	}
	for _, bad := range [][]string{nil, {"Bytes"}, {"ALL", "all"}, append(slices.Clone(AllMetrics), "ALL")} {
		_, _, err := s.EnableEnhancedMonitoring("m", bad)
		wantKind(t, err, ErrInvalidArgument, fmt.Sprintf("enable %v", bad))
	}
	_, _, err = s.DisableEnhancedMonitoring("nope", []string{MetricAll})
	wantKind(t, err, ErrNotFound, "disable on a missing stream")

	// Everything survives a reopen, and a reshard or a retention change keeps it.
	mustOK(t, s.UpdateShardCount("m", 3))
	mustOK(t, s.SetRetention("m", 48))
	want, err := s.DescribeStream("m")
	mustOK(t, err)
	mustOK(t, s.Close())
	s = openStore(t, dir, DefaultOptions())
	d, err = s.DescribeStream("m")
	mustOK(t, err)
	if d.Mode != ModeOnDemand || d.EncryptionType != EncryptionKMS || d.KeyID != "alias/aws/kinesis" ||
		!slices.Equal(d.EnhancedMetrics, wantDes) || d.OpenShards != 3 || d.RetentionHours != 48 || !d.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("after reopening: %+v", d)
	}

	cur, des, err = s.DisableEnhancedMonitoring("m", []string{MetricAll})
	mustOK(t, err)
	if !slices.Equal(cur, wantDes) || des == nil || len(des) != 0 {
		t.Fatalf("disable ALL: current %v, desired %v", cur, des)
	}
	mustOK(t, s.SetEncryption("m", EncryptionNone, "ignored"))
	mustOK(t, s.SetStreamMode("m", ModeProvisioned))
	if v := metaVersionOnDisk(t, s, "m"); v != metaVersion {
		t.Fatalf("a stream whose attributes are all back to their defaults is version %d, want %d", v, metaVersion)
	}
	d, err = s.DescribeStream("m")
	mustOK(t, err)
	if d.Mode != ModeProvisioned || d.EncryptionType != EncryptionNone || d.KeyID != "" || d.EnhancedMetrics != nil {
		t.Fatalf("after resetting: %+v", d)
	}
}

func TestConsumers(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock()
	s := openStore(t, dir, testOptions(clk, 0))
	mustOK(t, s.CreateStream("c", 1))
	a, err := s.RegisterConsumer("c", "app-a")
	mustOK(t, err)
	if a.Name != "app-a" || a.Status != ConsumerActive || !a.CreatedAt.Equal(clk.Now()) || a.ARNSuffix != clk.Now().Unix() {
		t.Fatalf("registered %+v", a)
	}
	const streamARN = "arn:aws:kinesis:us-east-1:123456789012:stream/c"
	if got, want := a.ARN(streamARN), fmt.Sprintf("%s/consumer/app-a:%d", streamARN, clk.Now().Unix()); got != want {
		t.Fatalf("ARN %s, want %s", got, want)
	}
	_, err = s.RegisterConsumer("c", "app-a")
	wantKind(t, err, ErrInUse, "registering a name twice")
	for _, bad := range []string{"", "a b", "a/b", strings.Repeat("n", 129), "é"} {
		_, err := s.RegisterConsumer("c", bad)
		wantKind(t, err, ErrInvalidArgument, fmt.Sprintf("consumer name %q", bad))
	}
	_, err = s.RegisterConsumer("nope", "x")
	wantKind(t, err, ErrNotFound, "registering with a missing stream")

	// In one second, ARN suffixes still differ, also for a name registered again.
	mustOK(t, s.DeregisterConsumer("c", "app-a"))
	a2, err := s.RegisterConsumer("c", "app-a")
	mustOK(t, err)
	if a2.ARNSuffix <= a.ARNSuffix {
		t.Fatalf("registered again in the same second with ARN suffix %d, the first had %d", a2.ARNSuffix, a.ARNSuffix)
	}
	names := []string{"app-a"}
	for i := 1; i < MaxConsumersPerStream; i++ {
		clk.Advance(time.Second / 3)
		name := fmt.Sprint("c", i)
		_, err := s.RegisterConsumerWith("c", name, map[string]string{"n": fmt.Sprint(i)})
		mustOK(t, err)
		names = append(names, name)
	}
	_, err = s.RegisterConsumer("c", "one-too-many")
	wantKind(t, err, ErrLimitExceeded, "a 21st consumer")
	_, err = s.RegisterConsumer("c", "c5")
	wantKind(t, err, ErrInUse, "a taken name when the stream is full")
	list, err := s.ListConsumers("c")
	mustOK(t, err)
	var got []string
	suffixes := map[int64]bool{}
	for _, c := range list {
		got = append(got, c.Name)
		suffixes[c.ARNSuffix] = true
	}
	if !slices.Equal(got, names) || len(suffixes) != MaxConsumersPerStream {
		t.Fatalf("ListConsumers: %v with %d distinct ARN suffixes, want %v", got, len(suffixes), names)
	}
	c5, err := s.DescribeConsumer("c", "c5")
	mustOK(t, err)
	if c5.Tags["n"] != "5" || !sameConsumer(c5, list[5]) {
		t.Fatalf("DescribeConsumer(c5) = %+v, listed %+v", c5, list[5])
	}
	_, err = s.DescribeConsumer("c", "gone")
	wantKind(t, err, ErrNotFound, "describing a missing consumer")
	wantKind(t, s.DeregisterConsumer("c", "gone"), ErrNotFound, "deregistering a missing consumer")

	// Consumer tags follow the stream's tag rules.
	mustOK(t, s.AddConsumerTags("c", "c5", map[string]string{"team": "x"}))
	mustOK(t, s.RemoveConsumerTags("c", "c5", []string{"n"}))
	wantKind(t, s.AddConsumerTags("c", "c5", map[string]string{"a%": "x"}), ErrInvalidArgument, "a bad consumer tag")
	wantKind(t, s.AddConsumerTags("c", "gone", map[string]string{"a": "x"}), ErrNotFound, "tagging a missing consumer")
	wantKind(t, s.AddConsumerTags("c", "c5", tagN(50)), ErrInvalidArgument, "a consumer's 51st tag")
	if c5, _ := s.DescribeConsumer("c", "c5"); !maps.Equal(c5.Tags, map[string]string{"team": "x"}) {
		t.Fatalf("consumer tags %v", c5.Tags)
	}

	// Consumers survive a reopen and are reported in DescribeStream.
	mustOK(t, s.Close())
	s = openStore(t, dir, testOptions(clk, 0))
	d, err := s.DescribeStream("c")
	mustOK(t, err)
	if len(d.Consumers) != MaxConsumersPerStream || !sameConsumer(d.Consumers[0], a2) || !maps.Equal(d.Consumers[5].Tags, map[string]string{"team": "x"}) {
		t.Fatalf("after reopening DescribeStream has consumers %+v", d.Consumers)
	}

	// A stream with consumers is deleted only when told to delete them.
	err = s.DeleteStreamWith("c", DeleteOptions{})
	wantKind(t, err, ErrInUse, "deleting a stream with consumers")
	if _, err := s.DescribeStream("c"); err != nil {
		t.Fatalf("a refused delete removed the stream: %v", err)
	}
	mustOK(t, s.DeleteStreamWith("c", DeleteOptions{EnforceConsumerDeletion: true}))
	_, err = s.ListConsumers("c")
	wantKind(t, err, ErrNotFound, "consumers of a deleted stream")
	mustOK(t, s.CreateStream("c", 1))
	if list, err := s.ListConsumers("c"); err != nil || len(list) != 0 {
		t.Fatalf("a stream created again under the name has consumers %v (%v)", list, err)
	}
	mustOK(t, s.DeleteStreamWith("c", DeleteOptions{}))
}

// TestAttributesAcrossProcesses changes attributes in one store while another
// reads: the reader sees each change after Refresh, cannot change a stream the
// first one writes, and takes the stream over with its attributes once the
// first closes.
func TestAttributesAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	w := openStore(t, dir, DefaultOptions())
	r := openStore(t, dir, DefaultOptions())
	mustOK(t, w.CreateStream("x", 1))
	mustOK(t, r.Refresh())
	mustOK(t, w.AddTags("x", map[string]string{"a": "1"}))
	_, err := w.RegisterConsumer("x", "reader")
	mustOK(t, err)
	_, _, err = w.EnableEnhancedMonitoring("x", []string{"IncomingBytes"})
	mustOK(t, err)
	if got := mustTags(t, r, "x"); len(got) != 0 {
		t.Fatalf("before Refresh the reader sees tags %v", got)
	}
	mustOK(t, r.Refresh())
	d, err := r.DescribeStream("x")
	mustOK(t, err)
	if !maps.Equal(d.Tags, map[string]string{"a": "1"}) || len(d.Consumers) != 1 || !slices.Equal(d.EnhancedMetrics, []string{"IncomingBytes"}) {
		t.Fatalf("after Refresh the reader sees %+v", d)
	}
	wantKind(t, r.AddTags("x", map[string]string{"b": "2"}), ErrLocked, "tagging a stream another store writes")
	_, err = r.RegisterConsumer("x", "two")
	wantKind(t, err, ErrLocked, "registering with a stream another store writes")
	wantKind(t, r.DeleteStreamWith("x", DeleteOptions{}), ErrLocked, "deleting a stream another store writes")

	mustOK(t, w.Close())
	wantKind(t, w.AddTags("x", map[string]string{"b": "2"}), ErrClosed, "tagging through a closed store")
	mustOK(t, r.AddTags("x", map[string]string{"b": "2"}))
	want := map[string]string{"a": "1", "b": "2"}
	if got := mustTags(t, r, "x"); !maps.Equal(got, want) {
		t.Fatalf("after taking the stream over the tags are %v, want %v", got, want)
	}
	if c, err := r.DescribeConsumer("x", "reader"); err != nil || c.Name != "reader" {
		t.Fatalf("after taking the stream over DescribeConsumer = %+v, %v", c, err)
	}
}

// TestMetaVersions: a version 1 stream.json (no attributes) and a version 2 one
// load; version 1 with attributes, version 3 and bad attribute values do not.
func TestMetaVersions(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, DefaultOptions())
	mustOK(t, s.CreateStream("v", 1))
	mustOK(t, s.AddTags("v", map[string]string{"a": "1"}))
	mustOK(t, s.Close())
	path := filepath.Join(dir, "streams", "v"+streamDirSuffix, metaFile)
	good := mustReadFile(t, path)
	for _, c := range []struct{ from, to string }{
		{`"version": 2`, `"version": 1`},
		{`"version": 2`, `"version": 3`},
		{`"tags"`, `"mode": "AUTO", "tags"`},
		{`"tags"`, `"encryptionType": "AES", "tags"`},
		{`"tags"`, `"enhancedMetrics": ["Bytes"], "tags"`},
		{`"tags"`, `"consumers": [{"name": "a"}, {"name": "a"}], "tags"`},
	} {
		bad := strings.Replace(string(good), c.from, c.to, 1)
		if bad == string(good) {
			t.Fatalf("%s not found in %s", c.from, good)
		}
		mustOK(t, os.WriteFile(path, []byte(bad), 0o644))
		if s, err := Open(dir, DefaultOptions()); err == nil {
			s.Close()
			t.Fatalf("Open accepted stream.json with %s", c.to)
		}
	}
	mustOK(t, os.WriteFile(path, good, 0o644))
	s = openStore(t, dir, DefaultOptions())
	if got := mustTags(t, s, "v"); got["a"] != "1" {
		t.Fatalf("tags %v", got)
	}
}

// TestAttributesDuringPutsAndReshards changes attributes from several goroutines
// while producers put, a resharder reshards, readers describe and read, and a
// second store refreshes: every acknowledged record reads back once, no change
// is lost, and the attributes and records survive a reopen.
func TestAttributesDuringPutsAndReshards(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.SegmentBytes = 16 << 10
	s := openStore(t, dir, opts)
	mustOK(t, s.CreateStreamWith("a", StreamOptions{Shards: 2, Tags: map[string]string{"fixed": "yes"}}))
	follower := openStore(t, dir, DefaultOptions())

	const producers, batches, changers, rounds = 4, 40, 3, 30
	errs := make(chan error, 100)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	var puts sync.Mutex
	var acked []put
	var work, readers sync.WaitGroup
	for p := range producers {
		work.Go(func() {
			for b := range batches {
				var batch []PutEntry
				for i := range 1 + b%9 {
					batch = append(batch, entry(fmt.Sprintf("p%d-%d", p, i), fmt.Sprintf("p%d-b%d-%d", p, b, i)))
				}
				res, err := s.PutRecords(context.Background(), "a", batch)
				if err != nil {
					fail(fmt.Errorf("producer %d: %w", p, err))
					return
				}
				puts.Lock()
				for i, e := range batch {
					acked = append(acked, put{key: e.PartitionKey, data: string(e.Data), shard: res[i].ShardID, seq: res[i].SequenceNumber})
				}
				puts.Unlock()
			}
		})
	}
	work.Go(func() {
		for i := range 12 {
			if err := s.UpdateShardCount("a", 1+i%4); err != nil {
				fail(fmt.Errorf("reshard %d: %w", i, err))
				return
			}
		}
	})
	// Each changer owns its tag keys and consumer names, so what the stream
	// must hold at the end is known whatever the interleaving.
	wantTags := make([]map[string]string, changers)
	wantConsumers := make([][]string, changers)
	for c := range changers {
		work.Go(func() {
			tags := map[string]string{}
			var cons []string
			for r := range rounds {
				key := fmt.Sprintf("c%d-%d", c, r%7)
				if r%3 == 2 {
					if err := s.RemoveTags("a", []string{key}); err != nil {
						fail(err)
						return
					}
					delete(tags, key)
				} else {
					if err := s.AddTags("a", map[string]string{key: fmt.Sprint(r)}); err != nil {
						fail(err)
						return
					}
					tags[key] = fmt.Sprint(r)
				}
				name := fmt.Sprintf("c%d-%d", c, r%5)
				if i := slices.Index(cons, name); i >= 0 {
					if err := s.DeregisterConsumer("a", name); err != nil {
						fail(err)
						return
					}
					cons = slices.Delete(cons, i, i+1)
				} else {
					if _, err := s.RegisterConsumer("a", name); err != nil {
						fail(err)
						return
					}
					cons = append(cons, name)
				}
				if _, _, err := s.EnableEnhancedMonitoring("a", []string{AllMetrics[(c+r)%len(AllMetrics)]}); err != nil {
					fail(err)
					return
				}
				if err := s.SetStreamMode("a", []string{ModeOnDemand, ModeProvisioned}[r%2]); err != nil {
					fail(err)
					return
				}
			}
			wantTags[c], wantConsumers[c] = tags, cons
		})
	}
	stop := make(chan struct{})
	check := func(who string, d StreamDescription) error {
		if d.Tags["fixed"] != "yes" || len(d.Tags) > 1+changers*7 || len(d.Consumers) > changers*5 {
			return fmt.Errorf("%s: %d tags (fixed=%q), %d consumers", who, len(d.Tags), d.Tags["fixed"], len(d.Consumers))
		}
		seen := map[string]bool{}
		for _, c := range d.Consumers {
			if seen[c.Name] {
				return fmt.Errorf("%s: consumer %s twice", who, c.Name)
			}
			seen[c.Name] = true
		}
		return nil
	}
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			d, err := s.DescribeStream("a")
			if err == nil {
				err = check("writer", d)
			}
			if err == nil {
				_, err = s.ListConsumers("a")
			}
			if err == nil {
				_, err = s.NewStreamReader("a", ReadOptions{})
			}
			if err != nil {
				fail(err)
				return
			}
		}
	})
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			err := follower.Refresh()
			var d StreamDescription
			if err == nil {
				d, err = follower.DescribeStream("a")
			}
			if err == nil {
				err = check("follower", d)
			}
			if err != nil {
				fail(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	work.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	tags := map[string]string{"fixed": "yes"}
	var names []string
	for c := range changers {
		maps.Copy(tags, wantTags[c])
		names = append(names, wantConsumers[c]...)
	}
	slices.Sort(names)
	verify := func(s *Store, who string) {
		t.Helper()
		d := describe(t, s, "a")
		var got []string
		for _, c := range d.Consumers {
			got = append(got, c.Name)
		}
		slices.Sort(got)
		if !maps.Equal(d.Tags, tags) || !slices.Equal(got, names) || d.Mode != ModeProvisioned || d.OpenShards != 4 {
			t.Fatalf("%s: tags %v, consumers %v, mode %s, %d open shards; want tags %v, consumers %v, PROVISIONED, 4",
				who, d.Tags, got, d.Mode, d.OpenShards, tags, names)
		}
		checkLineage(t, s, "a", readLineage(t, s, "a", ReadOptions{BatchSize: 100}), acked)
	}
	verify(s, "writer")
	mustOK(t, follower.Refresh())
	verify(follower, "follower")
	mustOK(t, s.Close())
	verify(openStore(t, dir, opts), "reopened")
}
