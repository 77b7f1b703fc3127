package streamstore

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPutAndReadBackAcrossShards(t *testing.T) {
	clk := newFakeClock()
	s := openStore(t, t.TempDir(), testOptions(clk, 8<<10))
	if err := s.CreateStream("orders", 4); err != nil {
		t.Fatal(err)
	}
	var m model
	for b := range 20 {
		var batch []PutEntry
		for i := range 37 {
			batch = append(batch, entry(fmt.Sprintf("key-%d", (b*37+i)%23), fmt.Sprintf("b%02d-r%02d-%s", b, i, strings.Repeat("z", (b*i)%300))))
		}
		mustPut(t, s, "orders", &m, clk.Now(), batch...)
		clk.Advance(time.Millisecond)
	}
	if len(m.shardIDs()) != 4 {
		t.Fatalf("23 partition keys landed on %d of 4 shards", len(m.shardIDs()))
	}
	// Sequence numbers: 56 digits, and per shard strictly increasing in
	// acknowledgement order, which is also the string order.
	last := map[string]string{}
	for _, p := range m.puts {
		sn := p.seq.String()
		if len(sn) != 56 {
			t.Fatalf("sequence number %q is not 56 digits", sn)
		}
		if prev, ok := last[p.shard]; ok && sn <= prev {
			t.Fatalf("shard %s: sequence number %s after %s", p.shard, sn, prev)
		}
		last[p.shard] = sn
	}
	checkAll(t, s, "orders", &m)
	for _, limit := range []int{1, 7, 100} {
		for _, id := range m.shardIDs() {
			got := readShard(t, s, "orders", id, StartingPosition{Type: TrimHorizon}, limit)
			checkRecords(t, fmt.Sprintf("shard %s limit %d", id, limit), got, m.shard(id))
		}
	}
	if n := totalRecords(t, s, "orders"); n != uint64(len(m.puts)) {
		t.Fatalf("describe counts %d records, put %d", n, len(m.puts))
	}
}

func TestBatchKeepsOrderPerShard(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("o", 3); err != nil {
		t.Fatal(err)
	}
	var batch []PutEntry
	for i := range MaxBatchRecords {
		batch = append(batch, entry([]string{"x", "y", "z", "w"}[i%4], fmt.Sprint(i)))
	}
	var m model
	res := mustPut(t, s, "o", &m, time.Time{}, batch...)
	lastOrd := map[string]uint64{}
	for i, r := range res {
		if prev, ok := lastOrd[r.ShardID]; ok && r.SequenceNumber.Ordinal != prev+1 {
			t.Fatalf("record %d got ordinal %d in %s after %d: a batch's records in one shard must be consecutive and in order",
				i, r.SequenceNumber.Ordinal, r.ShardID, prev)
		}
		lastOrd[r.ShardID] = r.SequenceNumber.Ordinal
	}
	for _, id := range m.shardIDs() {
		got := readShard(t, s, "o", id, StartingPosition{Type: TrimHorizon}, MaxGetRecords)
		want := m.shard(id)
		checkRecords(t, id, got, want)
		// and in batch order, by the payload which is the batch index
		prev := -1
		for _, r := range got {
			var n int
			fmt.Sscan(string(r.Data), &n)
			if n <= prev {
				t.Fatalf("shard %s: batch index %d read after %d", id, n, prev)
			}
			prev = n
		}
	}
}

func TestPutCopiesCallerData(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("c", 1); err != nil {
		t.Fatal(err)
	}
	buf := []byte("original")
	if _, err := s.PutRecord(context.Background(), "c", PutEntry{PartitionKey: "k", Data: buf}); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	got := readShard(t, s, "c", ShardID(0), StartingPosition{Type: TrimHorizon}, 10)
	if len(got) != 1 || string(got[0].Data) != "original" {
		t.Fatalf("read %q after the caller reused its buffer", got)
	}
	// The reader owns Data: changing one record must not change another read.
	got[0].Data[0] = 'Z'
	again := readShard(t, s, "c", ShardID(0), StartingPosition{Type: TrimHorizon}, 10)
	if string(again[0].Data) != "original" {
		t.Fatalf("a reader's change leaked into the store: %q", again[0].Data)
	}
	// Nor may appending to one record's Data overwrite the records after it.
	mustPut(t, s, "c", nil, time.Time{}, entry("k2", "second"), entry("k3", "third"))
	recs := readShard(t, s, "c", ShardID(0), StartingPosition{Type: TrimHorizon}, 10)
	if len(recs) != 3 {
		t.Fatalf("read %d records", len(recs))
	}
	for i := range recs {
		recs[i].Data = append(recs[i].Data, bytes.Repeat([]byte{'!'}, 30)...)
	}
	for i, want := range []struct{ key, data string }{{"k", "original"}, {"k2", "second"}, {"k3", "third"}} {
		if recs[i].PartitionKey != want.key || string(recs[i].Data[:len(want.data)]) != want.data {
			t.Fatalf("after appending to every record's Data, record %d is (%q, %q)", i, recs[i].PartitionKey, recs[i].Data)
		}
	}
}

func TestStartingPositions(t *testing.T) {
	clk := newFakeClock()
	// Small segments so that positions cross segment and sparse index boundaries.
	s := openStore(t, t.TempDir(), testOptions(clk, 4<<10))
	if err := s.CreateStream("pos", 1); err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	var m model
	for i := range 300 {
		// Several records per clock tick, and ticks of varying size.
		var batch []PutEntry
		for j := range 1 + i%3 {
			batch = append(batch, entry("k", fmt.Sprintf("%d.%d", i, j)))
		}
		mustPut(t, s, "pos", &m, clk.Now(), batch...)
		clk.Advance(time.Duration(1+i%5) * time.Second)
	}
	recs := m.shard(ShardID(0))
	if n := len(segmentFiles(t, shardDir(s, "pos", ShardID(0)))); n < 5 {
		t.Fatalf("only %d segments; the test wants several", n)
	}
	id := ShardID(0)
	th := readShard(t, s, "pos", id, StartingPosition{Type: TrimHorizon}, 50)
	checkRecords(t, "TRIM_HORIZON", th, recs)

	// LATEST sees nothing now, then exactly what is put afterwards.
	c, err := s.Position("pos", id, StartingPosition{Type: Latest})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.GetRecords(context.Background(), c, 100)
	if err != nil || len(out.Records) != 0 || out.MillisBehindLatest != 0 {
		t.Fatalf("LATEST read before new puts: %d records, behind %d, %v", len(out.Records), out.MillisBehindLatest, err)
	}
	var later model
	mustPut(t, s, "pos", &later, clk.Now(), entry("k", "after-latest-1"), entry("k", "after-latest-2"))
	out, err = s.GetRecords(context.Background(), out.Next, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "LATEST", out.Records, later.puts)
	all := append(append([]put(nil), recs...), later.puts...)

	for _, i := range []int{0, 1, 63, 64, 65, 127, 128, 200, len(all) - 2, len(all) - 1} {
		at := readShard(t, s, "pos", id, StartingPosition{Type: AtSequenceNumber, SequenceNumber: all[i].seq.String()}, 33)
		checkRecords(t, fmt.Sprintf("AT_SEQUENCE_NUMBER %d", i), at, all[i:])
		after := readShard(t, s, "pos", id, StartingPosition{Type: AfterSequenceNumber, SequenceNumber: all[i].seq.String()}, 33)
		checkRecords(t, fmt.Sprintf("AFTER_SEQUENCE_NUMBER %d", i), after, all[i+1:])
	}

	// AT_TIMESTAMP: the first record that arrived at or after the time, by brute force.
	end := clk.Now()
	for ts := start.Add(-time.Second); !ts.After(end.Add(time.Second)); ts = ts.Add(1700 * time.Millisecond) {
		want := len(all)
		for i, p := range all {
			if !p.at.Before(ts) {
				want = i
				break
			}
		}
		got := readShard(t, s, "pos", id, StartingPosition{Type: AtTimestamp, Timestamp: ts}, 1000)
		checkRecords(t, "AT_TIMESTAMP "+ts.Sub(start).String(), got, all[want:])
	}
	for _, p := range []int{5, 64, 250} { // exactly at an arrival time
		got := readShard(t, s, "pos", id, StartingPosition{Type: AtTimestamp, Timestamp: all[p].at}, 1000)
		first := p
		for first > 0 && all[first-1].at.Equal(all[p].at) {
			first--
		}
		checkRecords(t, "AT_TIMESTAMP exact", got, all[first:])
	}
}

func TestPositionErrors(t *testing.T) {
	clk := newFakeClock()
	s := openStore(t, t.TempDir(), testOptions(clk, 0))
	for _, n := range []string{"a", "b"} {
		if err := s.CreateStream(n, 2); err != nil {
			t.Fatal(err)
		}
	}
	var m model
	mustPut(t, s, "a", &m, time.Time{}, PutEntry{PartitionKey: "k", ExplicitHashKey: "0", Data: []byte("1")},
		PutEntry{PartitionKey: "k", ExplicitHashKey: "0", Data: []byte("2")})
	seq0 := m.puts[0].seq.String()
	cases := []struct {
		name, stream, shard string
		pos                 StartingPosition
		kind                error
	}{
		{"unknown stream", "nope", ShardID(0), StartingPosition{Type: TrimHorizon}, ErrNotFound},
		{"bad stream name", "no/pe", ShardID(0), StartingPosition{Type: TrimHorizon}, ErrInvalidArgument},
		{"unknown shard", "a", ShardID(9), StartingPosition{Type: TrimHorizon}, ErrNotFound},
		{"bad shard id", "a", "shard-zero", StartingPosition{Type: TrimHorizon}, ErrInvalidArgument},
		{"bad type", "a", ShardID(0), StartingPosition{Type: "SOMEWHERE"}, ErrInvalidArgument},
		{"bad sequence number", "a", ShardID(0), StartingPosition{Type: AtSequenceNumber, SequenceNumber: "12"}, ErrInvalidArgument},
		{"other shard's sequence number", "a", ShardID(1), StartingPosition{Type: AtSequenceNumber, SequenceNumber: seq0}, ErrInvalidArgument},
		{"other stream's sequence number", "b", ShardID(0), StartingPosition{Type: AfterSequenceNumber, SequenceNumber: seq0}, ErrInvalidArgument},
		{"past the end", "a", ShardID(0), StartingPosition{Type: AtSequenceNumber, SequenceNumber: SequenceNumber{Epoch: m.puts[0].seq.Epoch, Ordinal: 3}.String()}, ErrInvalidArgument},
		{"no timestamp", "a", ShardID(0), StartingPosition{Type: AtTimestamp}, ErrInvalidArgument},
	}
	for _, tc := range cases {
		_, err := s.Position(tc.stream, tc.shard, tc.pos)
		wantKind(t, err, tc.kind, tc.name)
	}
	// "b" was created at the same millisecond as "a"; recreate "a" later so the
	// epochs differ and old cursors and sequence numbers are refused.
	c, err := s.Position("a", ShardID(0), StartingPosition{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStream("a"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetRecords(context.Background(), c, 10)
	wantKind(t, err, ErrNotFound, "read of a deleted stream")
	clk.Advance(time.Second)
	if err := s.CreateStream("a", 2); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetRecords(context.Background(), c, 10)
	wantKind(t, err, ErrNotFound, "cursor into the previous stream of the same name")
	_, err = s.Position("a", ShardID(0), StartingPosition{Type: AtSequenceNumber, SequenceNumber: seq0})
	wantKind(t, err, ErrInvalidArgument, "sequence number of the previous stream of the same name")
	for _, limit := range []int{0, -1, MaxGetRecords + 1} {
		c, _ := s.Position("a", ShardID(0), StartingPosition{Type: TrimHorizon})
		_, err := s.GetRecords(context.Background(), c, limit)
		wantKind(t, err, ErrInvalidArgument, fmt.Sprintf("limit %d", limit))
	}
}

func TestGetRecordsLimitsAndLag(t *testing.T) {
	clk := newFakeClock()
	s := openStore(t, t.TempDir(), testOptions(clk, 0))
	if err := s.CreateStream("lag", 1); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 10 {
		mustPut(t, s, "lag", &m, clk.Now(), entry("k", fmt.Sprint(i)))
		clk.Advance(time.Second)
	}
	clk.Advance(100 * time.Second) // now = arrival of record 9 + 101s
	c, err := s.Position("lag", ShardID(0), StartingPosition{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.GetRecords(context.Background(), c, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "first 3", out.Records, m.puts[:3])
	if want := clk.Now().Sub(m.puts[2].at).Milliseconds(); out.MillisBehindLatest != want {
		t.Fatalf("MillisBehindLatest = %d behind the tip, want %d", out.MillisBehindLatest, want)
	}
	if out.Next.Ordinal != m.puts[2].seq.Ordinal+1 || out.ShardEnd {
		t.Fatalf("Next = %+v, ShardEnd = %v", out.Next, out.ShardEnd)
	}
	out, err = s.GetRecords(context.Background(), out.Next, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "rest", out.Records, m.puts[3:])
	if out.MillisBehindLatest != 0 {
		t.Fatalf("MillisBehindLatest = %d at the tip, want 0", out.MillisBehindLatest)
	}
	// Reading at the tip returns nothing and keeps the cursor.
	tip, err := s.GetRecords(context.Background(), out.Next, 100)
	if err != nil || len(tip.Records) != 0 || tip.Next != out.Next || tip.MillisBehindLatest != 0 {
		t.Fatalf("read at tip: %d records, next %+v (was %+v), behind %d, %v", len(tip.Records), tip.Next, out.Next, tip.MillisBehindLatest, err)
	}

	// A reader behind the tip by less than a millisecond of clock is still behind.
	if err := s.CreateStream("lag0", 1); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "lag0", nil, time.Time{}, entry("k", "1"), entry("k", "2"))
	c, _ = s.Position("lag0", ShardID(0), StartingPosition{Type: TrimHorizon})
	out, err = s.GetRecords(context.Background(), c, 1)
	if err != nil {
		t.Fatal(err)
	}
	if out.MillisBehindLatest <= 0 {
		t.Fatalf("MillisBehindLatest = %d with a record still unread; a consumer would think it caught up", out.MillisBehindLatest)
	}
}

func TestGetRecordsByteLimit(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("big", 1); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("d"), 1<<20-1)
	var m model
	for range 3 {
		batch := []PutEntry{{PartitionKey: "k", Data: data}, {PartitionKey: "k", Data: data}, {PartitionKey: "k", Data: data}, {PartitionKey: "k", Data: data}}
		mustPut(t, s, "big", &m, time.Time{}, batch...)
	}
	c, _ := s.Position("big", ShardID(0), StartingPosition{Type: TrimHorizon})
	out, err := s.GetRecords(context.Background(), c, MaxGetRecords)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) == 0 || len(out.Records) >= 12 {
		t.Fatalf("a read of 12 MiB of records returned %d records; the 10 MiB limit should cut it short", len(out.Records))
	}
	n := 0
	for _, r := range out.Records {
		n += len(r.Data) + len(r.PartitionKey)
	}
	if n > MaxGetBytes+MaxRecordBytes {
		t.Fatalf("a read returned %d bytes", n)
	}
	rest := readShard(t, s, "big", ShardID(0), StartingPosition{Type: AtSequenceNumber, SequenceNumber: out.Records[len(out.Records)-1].SequenceNumber.String()}, MaxGetRecords)
	if len(out.Records)+len(rest)-1 != 12 {
		t.Fatalf("read %d + %d records, put 12", len(out.Records), len(rest)-1)
	}
}

func TestPutValidationStoresNothing(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("v", 2); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "v", nil, time.Time{}, entry("seed", "x"))
	ok := entry("fine", "ok")
	many := func(n int) []PutEntry {
		out := make([]PutEntry, n)
		for i := range out {
			out[i] = entry(fmt.Sprint(i), "d")
		}
		return out
	}
	mib := bytes.Repeat([]byte("m"), MaxRecordBytes-1)
	over := new(big.Int).Lsh(big.NewInt(1), 128).String()
	cases := map[string][]PutEntry{
		"empty batch":            nil,
		"501 records":            many(MaxBatchRecords + 1),
		"over 5 MiB":             {ok, {PartitionKey: "a", Data: mib}, {PartitionKey: "b", Data: mib}, {PartitionKey: "c", Data: mib}, {PartitionKey: "d", Data: mib}, {PartitionKey: "e", Data: mib}, {PartitionKey: "f", Data: mib}},
		"record over 1 MiB":      {ok, {PartitionKey: "k", Data: append(bytes.Clone(mib), 'x')}},
		"key plus data > 1 MiB":  {ok, {PartitionKey: "kk", Data: mib}},
		"empty partition key":    {ok, {PartitionKey: "", Data: []byte("d")}},
		"257-char partition key": {ok, {PartitionKey: strings.Repeat("k", 257), Data: []byte("d")}},
		"257 runes, multi-byte":  {ok, {PartitionKey: strings.Repeat("é", 257), Data: []byte("d")}},
		"invalid UTF-8 key":      {ok, {PartitionKey: "a\xffb", Data: []byte("d")}},
		"negative hash key":      {ok, {PartitionKey: "k", ExplicitHashKey: "-1", Data: []byte("d")}},
		"hash key 2^128":         {ok, {PartitionKey: "k", ExplicitHashKey: over, Data: []byte("d")}},
		"hash key not digits":    {ok, {PartitionKey: "k", ExplicitHashKey: "12ab", Data: []byte("d")}},
	}
	for name, batch := range cases {
		before := totalRecords(t, s, "v")
		res, err := s.PutRecords(context.Background(), "v", batch)
		wantKind(t, err, ErrInvalidArgument, name)
		if res != nil {
			t.Errorf("%s: results %v with an error", name, res)
		}
		if after := totalRecords(t, s, "v"); after != before {
			t.Fatalf("%s: a rejected batch changed the record count from %d to %d", name, before, after)
		}
	}
	// The limits themselves are allowed.
	mustPut(t, s, "v", nil, time.Time{}, many(MaxBatchRecords)...)
	mustPut(t, s, "v", nil, time.Time{}, PutEntry{PartitionKey: "k", Data: mib[:MaxRecordBytes-1]})
	mustPut(t, s, "v", nil, time.Time{}, PutEntry{PartitionKey: strings.Repeat("é", MaxPartitionKeyChars), Data: []byte("d")})
	mustPut(t, s, "v", nil, time.Time{}, PutEntry{PartitionKey: "k", ExplicitHashKey: MaxHashKey().String(), Data: nil})
	five := make([]PutEntry, 5)
	for i := range five {
		five[i] = PutEntry{PartitionKey: "k", Data: mib[:MaxRecordBytes-1]}
	}
	mustPut(t, s, "v", nil, time.Time{}, five...) // exactly 5 MiB
	if got := totalRecords(t, s, "v"); got != 1+500+1+1+1+5 {
		t.Fatalf("describe counts %d records", got)
	}
	// Records read back whole, including the largest and the empty one.
	got := readShard(t, s, "v", ShardID(1), StartingPosition{Type: TrimHorizon}, MaxGetRecords)
	var sawEmpty, sawBig bool
	for _, r := range got {
		sawEmpty = sawEmpty || (r.PartitionKey == "k" && len(r.Data) == 0)
		sawBig = sawBig || len(r.Data) == MaxRecordBytes-1
	}
	if !sawEmpty || !sawBig {
		t.Fatalf("shard 1 lacks the empty record (%v) or a 1 MiB record (%v)", sawEmpty, sawBig)
	}

	_, err := s.PutRecords(context.Background(), "missing", []PutEntry{ok})
	wantKind(t, err, ErrNotFound, "put to a missing stream")
	_, err = s.PutRecord(context.Background(), "bad name!", ok)
	wantKind(t, err, ErrInvalidArgument, "put to an invalid stream name")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := totalRecords(t, s, "v")
	if _, err := s.PutRecords(ctx, "v", []PutEntry{ok}); err == nil {
		t.Fatal("put with a cancelled context succeeded")
	}
	if totalRecords(t, s, "v") != before {
		t.Fatal("a put with a cancelled context stored records")
	}
}

func TestStreamAdministration(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxShardsPerStream = 8
	s := openStore(t, t.TempDir(), opts)
	for _, name := range []string{"", strings.Repeat("n", 129), "a b", "a/b", "..x/", "é", "tab\t"} {
		wantKind(t, s.CreateStream(name, 1), ErrInvalidArgument, fmt.Sprintf("CreateStream(%q)", name))
	}
	for _, n := range []int{0, -1, 9} {
		wantKind(t, s.CreateStream("ok", n), ErrInvalidArgument, fmt.Sprintf("CreateStream with %d shards", n))
	}
	for _, name := range []string{"x", strings.Repeat("n", 128), "A-b_c.9"} {
		if err := s.CreateStream(name, 8); err != nil {
			t.Fatalf("CreateStream(%q): %v", name, err)
		}
	}
	wantKind(t, s.CreateStream("x", 1), ErrInUse, "CreateStream of an existing name")
	if got := s.ListStreams(); len(got) != 3 || got[0] != "A-b_c.9" || got[2] != "x" {
		t.Fatalf("ListStreams = %v", got)
	}
	d, err := s.DescribeStream("x")
	if err != nil {
		t.Fatal(err)
	}
	if d.OpenShards != 8 || len(d.Shards) != 8 || d.RetentionHours != DefaultRetentionHours || d.Status != "ACTIVE" {
		t.Fatalf("describe: %+v", d)
	}
	for i, sd := range d.Shards {
		r := UniformRanges(8)[i]
		if sd.ShardID != ShardID(uint32(i)) || sd.HashKeyRange != r || !sd.Open || sd.ParentShardID != "" || sd.EndingSequenceNumber != "" {
			t.Fatalf("shard %d: %+v", i, sd)
		}
		if _, err := ParseSequenceNumber(sd.StartingSequenceNumber); err != nil {
			t.Fatalf("shard %d starting sequence number: %v", i, err)
		}
	}
	_, err = s.DescribeStream("nope")
	wantKind(t, err, ErrNotFound, "describe missing")
	wantKind(t, s.DeleteStream("nope"), ErrNotFound, "delete missing")
	wantKind(t, s.UpdateShardCount("x", 9), ErrInvalidArgument, "UpdateShardCount over the limit")
	wantKind(t, s.SplitShard("x", ShardID(0), "1000"), ErrLimitExceeded, "split past the shard limit")
	if d2, _ := s.DescribeStream("x"); len(d2.Shards) != 8 || d2.OpenShards != 8 {
		t.Fatalf("a refused split changed the stream: %d shards, %d open", len(d2.Shards), d2.OpenShards)
	}
	mustPut(t, s, "x", nil, time.Time{}, entry("k", "v"))
	if err := s.DeleteStream("x"); err != nil {
		t.Fatal(err)
	}
	if got := s.ListStreams(); len(got) != 2 {
		t.Fatalf("after delete ListStreams = %v", got)
	}
	if _, err := s.PutRecord(context.Background(), "x", entry("k", "v")); err == nil {
		t.Fatal("put to a deleted stream succeeded")
	}
	left, err := filepath.Glob(filepath.Join(s.Dir(), "streams", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range left {
		if b := filepath.Base(l); b == "x.stream" || strings.HasPrefix(b, ".deleted-") || strings.HasPrefix(b, ".tmp-") {
			t.Fatalf("DeleteStream left %s behind", l)
		}
	}
	// A stream can be created again under a deleted name, empty.
	if err := s.CreateStream("x", 1); err != nil {
		t.Fatal(err)
	}
	if n := totalRecords(t, s, "x"); n != 0 {
		t.Fatalf("recreated stream holds %d records", n)
	}
}

// TestLatestIncludesInFlightPuts takes a LATEST position while a put has
// appended its record but not yet made it durable: the put is acknowledged after
// the position was taken, so a reader from there must see the record.
func TestLatestIncludesInFlightPuts(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("lf", 1); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "lf", nil, time.Time{}, entry("k", "durable"))
	st, err := s.stream("lf")
	if err != nil {
		t.Fatal(err)
	}
	batch := []PutEntry{entry("k", "in flight")}
	results := make([]PutResult, 1)
	targets, err := st.append(batch, []HashKey{HashPartitionKey("k")}, time.Now().UnixNano(), results)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Position("lf", ShardID(0), StartingPosition{Type: Latest})
	if err != nil {
		t.Fatal(err)
	}
	if err := commitAll(targets); err != nil {
		t.Fatal(err)
	}
	out, err := s.GetRecords(context.Background(), c, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 1 || string(out.Records[0].Data) != "in flight" {
		t.Fatalf("LATEST taken during a put read %d records; want the put's record", len(out.Records))
	}
}

// TestReadMixedSizes reads records of very different sizes, some larger than a
// segment's usual read chunk, from many starting ordinals with several limits.
func TestReadMixedSizes(t *testing.T) {
	s := openStore(t, t.TempDir(), testOptions(nil, 256<<10))
	if err := s.CreateStream("mix", 1); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 150 {
		n := (i * 7919) % 3000
		if i%10 == 3 {
			n = 65<<10 + i*100 // larger than the 64 KiB minimum read
		}
		mustPut(t, s, "mix", &m, time.Time{}, entry(fmt.Sprint("key", i%4), fmt.Sprintf("%03d%s", i, bytes.Repeat([]byte{byte(i)}, n))))
	}
	recs := m.shard(ShardID(0))
	for start := 0; start < len(recs); start += 23 {
		for _, limit := range []int{1, 5, 50} {
			got := readShard(t, s, "mix", ShardID(0), StartingPosition{Type: AtSequenceNumber, SequenceNumber: recs[start].seq.String()}, limit)
			checkRecords(t, fmt.Sprintf("from %d limit %d", start, limit), got, recs[start:])
		}
	}
}
