package streamstore

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"
)

func metaBytes(t testing.TB, s *Store, stream string) []byte {
	t.Helper()
	return mustReadFile(t, filepath.Join(s.Dir(), "streams", stream+streamDirSuffix, metaFile))
}

func describe(t testing.TB, s *Store, stream string) StreamDescription {
	t.Helper()
	d, err := s.DescribeStream(stream)
	if err != nil {
		t.Fatalf("DescribeStream(%s): %v", stream, err)
	}
	return d
}

func shardDesc(t testing.TB, d StreamDescription, id string) ShardDescription {
	t.Helper()
	for _, sd := range d.Shards {
		if sd.ShardID == id {
			return sd
		}
	}
	t.Fatalf("stream %s has no shard %s", d.Name, id)
	return ShardDescription{}
}

// openRanges returns the open shards' ranges ordered by start.
func openRanges(d StreamDescription) []HashKeyRange {
	var out []HashKeyRange
	for _, sd := range d.Shards {
		if sd.Open {
			out = append(out, sd.HashKeyRange)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Cmp(out[j].Start) < 0 })
	return out
}

// ownerOf finds, by brute force over the description, the open shard holding k.
func ownerOf(t testing.TB, d StreamDescription, k *big.Int) string {
	t.Helper()
	owner := ""
	for _, sd := range d.Shards {
		if !sd.Open {
			continue
		}
		lo, _ := new(big.Int).SetString(sd.HashKeyRange.Start.String(), 10)
		hi, _ := new(big.Int).SetString(sd.HashKeyRange.End.String(), 10)
		if lo.Cmp(k) <= 0 && k.Cmp(hi) <= 0 {
			if owner != "" {
				t.Fatalf("hash key %s is in open shards %s and %s", k, owner, sd.ShardID)
			}
			owner = sd.ShardID
		}
	}
	if owner == "" {
		t.Fatalf("no open shard holds hash key %s", k)
	}
	return owner
}

// readShardToEnd reads a closed shard until ShardEnd and returns the records and the last output.
func readShardToEnd(t testing.TB, s *Store, stream, id string) ([]Record, GetRecordsOutput) {
	t.Helper()
	c, err := s.Position(stream, id, StartingPosition{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for range 1000 {
		out, err := s.GetRecords(context.Background(), c, 3)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, out.Records...)
		if out.ShardEnd {
			return recs, out
		}
		if len(out.Records) == 0 {
			t.Fatalf("shard %s: read reached the tip without ShardEnd", id)
		}
		c = out.Next
	}
	t.Fatal("no ShardEnd")
	return nil, GetRecordsOutput{}
}

func TestSplitShard(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 0)
	s := openStore(t, dir, opts)
	if err := s.CreateStream("s", 2); err != nil {
		t.Fatal(err)
	}
	r0 := UniformRanges(2)[0]
	start0, _ := new(big.Int).SetString(r0.Start.String(), 10)
	end0, _ := new(big.Int).SetString(r0.End.String(), 10)
	key := new(big.Int).Div(new(big.Int).Add(start0, end0), big.NewInt(2))
	key.Add(key, big.NewInt(12345)) // not on any uniform boundary

	var m model
	for i := range 30 {
		hk := new(big.Int).Add(start0, new(big.Int).Mul(big.NewInt(int64(i)), new(big.Int).Div(end0, big.NewInt(31))))
		mustPut(t, s, "s", &m, clk.Now(), PutEntry{PartitionKey: "p", ExplicitHashKey: hk.String(), Data: []byte(fmt.Sprint(i))})
		mustPut(t, s, "s", &m, clk.Now(), entry(fmt.Sprintf("other-%d", i), "x"))
		clk.Advance(time.Second)
	}
	shard0 := m.shard(ShardID(0))
	lastOf0 := shard0[len(shard0)-1]

	before := metaBytes(t, s, "s")
	descBefore := describe(t, s, "s")
	one := big.NewInt(1)
	for name, tc := range map[string]struct {
		shard, key string
		kind       error
	}{
		"at the range start":     {ShardID(0), start0.String(), ErrInvalidArgument},
		"in the next shard":      {ShardID(0), new(big.Int).Add(end0, one).String(), ErrInvalidArgument},
		"below the range":        {ShardID(1), "5", ErrInvalidArgument},
		"not a number":           {ShardID(0), "12x", ErrInvalidArgument},
		"past 2^128-1":           {ShardID(1), new(big.Int).Lsh(one, 128).String(), ErrInvalidArgument},
		"unknown shard":          {ShardID(9), key.String(), ErrNotFound},
		"malformed shard id":     {"shard-0", key.String(), ErrInvalidArgument},
		"unknown stream":         {ShardID(0), key.String(), ErrNotFound},
		"at the 2nd shard start": {ShardID(1), new(big.Int).Add(end0, one).String(), ErrInvalidArgument},
	} {
		stream := "s"
		if name == "unknown stream" {
			stream = "nope"
		}
		wantKind(t, s.SplitShard(stream, tc.shard, tc.key), tc.kind, "split "+name)
		if !bytes.Equal(metaBytes(t, s, "s"), before) {
			t.Fatalf("refused split (%s) changed the metadata file", name)
		}
	}
	if fmt.Sprint(describe(t, s, "s")) != fmt.Sprint(descBefore) {
		t.Fatal("refused splits changed the description")
	}

	clk.Advance(time.Minute)
	splitAt := clk.Now()
	if err := s.SplitShard("s", ShardID(0), key.String()); err != nil {
		t.Fatal(err)
	}
	d := describe(t, s, "s")
	if len(d.Shards) != 4 || d.OpenShards != 3 {
		t.Fatalf("after split: %d shards, %d open", len(d.Shards), d.OpenShards)
	}
	p := shardDesc(t, d, ShardID(0))
	if p.Open || !p.ClosedAt.Equal(splitAt) || p.EndingSequenceNumber != lastOf0.seq.String() || p.Records != uint64(len(shard0)) {
		t.Fatalf("parent after split: %+v; want closed at %v ending at %s", p, splitAt, lastOf0.seq)
	}
	lo, hi := shardDesc(t, d, ShardID(2)), shardDesc(t, d, ShardID(3))
	keyHK, _ := ParseHashKey(key.String())
	if lo.HashKeyRange != (HashKeyRange{Start: r0.Start, End: keyHK.Sub1()}) || hi.HashKeyRange != (HashKeyRange{Start: keyHK, End: r0.End}) {
		t.Fatalf("children ranges %v and %v, want split at %s", lo.HashKeyRange, hi.HashKeyRange, key)
	}
	for _, c := range []ShardDescription{lo, hi} {
		if !c.Open || c.ParentShardID != ShardID(0) || c.AdjacentParentShardID != "" || c.Records != 0 {
			t.Fatalf("child %+v", c)
		}
	}
	if sd := shardDesc(t, d, ShardID(1)); !sd.Open || sd.HashKeyRange != UniformRanges(2)[1] {
		t.Fatalf("untouched shard changed: %+v", sd)
	}
	wantKind(t, s.SplitShard("s", ShardID(0), key.String()), ErrInvalidArgument, "split of a closed shard")

	// Routing after the split, at both sides of the new boundary.
	for _, tc := range []struct {
		k    *big.Int
		want string
	}{
		{start0, ShardID(2)}, {new(big.Int).Sub(key, one), ShardID(2)}, {key, ShardID(3)}, {end0, ShardID(3)},
		{new(big.Int).Add(end0, one), ShardID(1)},
	} {
		res := mustPut(t, s, "s", &m, clk.Now(), PutEntry{PartitionKey: "p", ExplicitHashKey: tc.k.String(), Data: []byte("after")})
		if res[0].ShardID != tc.want || ownerOf(t, d, tc.k) != tc.want {
			t.Fatalf("hash key %s went to %s, want %s", tc.k, res[0].ShardID, tc.want)
		}
	}
	// The parent reads to its end, then names its children.
	recs, last := readShardToEnd(t, s, "s", ShardID(0))
	checkRecords(t, "parent", recs, shard0)
	want := []ChildShard{
		{ShardID: ShardID(2), ParentShards: []string{ShardID(0)}, HashKeyRange: lo.HashKeyRange},
		{ShardID: ShardID(3), ParentShards: []string{ShardID(0)}, HashKeyRange: hi.HashKeyRange},
	}
	if fmt.Sprint(last.ChildShards) != fmt.Sprint(want) {
		t.Fatalf("ChildShards = %+v, want %+v", last.ChildShards, want)
	}
	// An open shard never reports ShardEnd.
	c, _ := s.Position("s", ShardID(2), StartingPosition{Type: TrimHorizon})
	if out, err := s.GetRecords(context.Background(), c, 100); err != nil || out.ShardEnd || len(out.Records) != 2 {
		t.Fatalf("open child: %d records, ShardEnd %v, %v", len(out.Records), out.ShardEnd, err)
	}

	// Everything persists.
	s.Close()
	s2 := openStore(t, dir, opts)
	d2 := describe(t, s2, "s")
	for i := range d.Shards {
		d.Shards[i].Bytes, d2.Shards[i].Bytes = 0, 0
		d.Shards[i].Records, d2.Shards[i].Records, d.Shards[i].Segments, d2.Shards[i].Segments = 0, 0, 0, 0
	}
	if fmt.Sprint(d) != fmt.Sprint(d2) {
		t.Fatalf("description changed across reopen:\n%+v\n%+v", d, d2)
	}
	checkAll(t, s2, "s", &m)
	res := mustPut(t, s2, "s", &m, clk.Now(), PutEntry{PartitionKey: "p", ExplicitHashKey: key.String(), Data: []byte("reopened")})
	if res[0].ShardID != ShardID(3) {
		t.Fatalf("after reopen hash key %s went to %s", key, res[0].ShardID)
	}
}

func TestSplitAtRangeEndAndZeroRecordParent(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("e", 1); err != nil {
		t.Fatal(err)
	}
	// The largest allowed key leaves the upper child a single hash key.
	if err := s.SplitShard("e", ShardID(0), MaxHashKey().String()); err != nil {
		t.Fatal(err)
	}
	d := describe(t, s, "e")
	p := shardDesc(t, d, ShardID(0))
	if p.EndingSequenceNumber != p.StartingSequenceNumber {
		t.Fatalf("a parent closed with no records ends at %s, starts at %s", p.EndingSequenceNumber, p.StartingSequenceNumber)
	}
	if r := shardDesc(t, d, ShardID(2)).HashKeyRange; r.Start != MaxHashKey() || r.End != MaxHashKey() {
		t.Fatalf("upper child range %v", r)
	}
	_, out := readShardToEnd(t, s, "e", ShardID(0))
	if len(out.ChildShards) != 2 {
		t.Fatalf("empty parent's children: %+v", out.ChildShards)
	}
}

func TestMergeShards(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 0)
	s := openStore(t, dir, opts)
	if err := s.CreateStream("m", 4); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 80 {
		mustPut(t, s, "m", &m, clk.Now(), entry(fmt.Sprint("key", i), fmt.Sprint(i)))
	}
	before := metaBytes(t, s, "m")
	for name, tc := range map[string]struct {
		a, b string
		kind error
	}{
		"non-adjacent":       {ShardID(0), ShardID(2), ErrInvalidArgument},
		"first and last":     {ShardID(3), ShardID(0), ErrInvalidArgument},
		"itself":             {ShardID(1), ShardID(1), ErrInvalidArgument},
		"unknown":            {ShardID(1), ShardID(17), ErrNotFound},
		"malformed":          {ShardID(1), "x", ErrInvalidArgument},
		"non-adjacent, far":  {ShardID(1), ShardID(3), ErrInvalidArgument},
		"non-adjacent, back": {ShardID(2), ShardID(0), ErrInvalidArgument},
	} {
		wantKind(t, s.MergeShards("m", tc.a, tc.b), tc.kind, "merge "+name)
		if !bytes.Equal(metaBytes(t, s, "m"), before) {
			t.Fatalf("refused merge (%s) changed the metadata file", name)
		}
	}
	clk.Advance(time.Second)
	if err := s.MergeShards("m", ShardID(2), ShardID(1)); err != nil { // given high range first
		t.Fatal(err)
	}
	d := describe(t, s, "m")
	u := UniformRanges(4)
	child := shardDesc(t, d, ShardID(4))
	if child.HashKeyRange != (HashKeyRange{Start: u[1].Start, End: u[2].End}) || child.ParentShardID != ShardID(2) ||
		child.AdjacentParentShardID != ShardID(1) || !child.Open {
		t.Fatalf("merged child %+v", child)
	}
	for _, id := range []string{ShardID(1), ShardID(2)} {
		sd := shardDesc(t, d, id)
		recs := m.shard(id)
		if sd.Open || sd.EndingSequenceNumber != recs[len(recs)-1].seq.String() {
			t.Fatalf("merged parent %s: %+v", id, sd)
		}
		got, out := readShardToEnd(t, s, "m", id)
		checkRecords(t, id, got, recs)
		want := []ChildShard{{ShardID: ShardID(4), ParentShards: []string{ShardID(2), ShardID(1)}, HashKeyRange: child.HashKeyRange}}
		if fmt.Sprint(out.ChildShards) != fmt.Sprint(want) {
			t.Fatalf("ChildShards of %s = %+v, want %+v", id, out.ChildShards, want)
		}
	}
	before = metaBytes(t, s, "m")
	wantKind(t, s.MergeShards("m", ShardID(0), ShardID(1)), ErrInvalidArgument, "merge of a closed shard")
	wantKind(t, s.MergeShards("m", ShardID(4), ShardID(2)), ErrInvalidArgument, "merge with a closed shard")
	if !bytes.Equal(metaBytes(t, s, "m"), before) {
		t.Fatal("refused merge changed the metadata file")
	}
	// Merge down to one shard covering the whole key space.
	if err := s.MergeShards("m", ShardID(0), ShardID(4)); err != nil {
		t.Fatal(err)
	}
	if err := s.MergeShards("m", ShardID(3), ShardID(5)); err != nil {
		t.Fatal(err)
	}
	d = describe(t, s, "m")
	if rs := openRanges(d); len(rs) != 1 || rs[0] != UniformRanges(1)[0] || d.OpenShards != 1 {
		t.Fatalf("after merging everything: open ranges %v", rs)
	}
	res := mustPut(t, s, "m", &m, clk.Now(), entry("a", "1"), entry("b", "2"), entry("pk1", "3"))
	for _, r := range res {
		if r.ShardID != ShardID(6) {
			t.Fatalf("record went to %s with one open shard, 6", r.ShardID)
		}
	}
	s.Close()
	s2 := openStore(t, dir, opts)
	checkAll(t, s2, "m", &m)
}

func TestUpdateShardCount(t *testing.T) {
	for _, tc := range []struct{ from, to int }{{2, 3}, {3, 2}, {4, 1}, {1, 7}, {3, 3}, {5, 8}, {8, 5}, {7, 2}} {
		t.Run(fmt.Sprintf("%d-%d", tc.from, tc.to), func(t *testing.T) {
			clk := newFakeClock()
			dir := t.TempDir()
			opts := testOptions(clk, 0)
			s := openStore(t, dir, opts)
			if err := s.CreateStream("u", tc.from); err != nil {
				t.Fatal(err)
			}
			var m model
			keys := make([]string, 40)
			for i := range keys {
				keys[i] = fmt.Sprint("user-", i)
			}
			for round := range 3 {
				var batch []PutEntry
				for _, k := range keys {
					batch = append(batch, entry(k, fmt.Sprintf("%s/%d", k, round)))
				}
				mustPut(t, s, "u", &m, clk.Now(), batch...)
			}
			clk.Advance(time.Second)
			if err := s.UpdateShardCount("u", tc.to); err != nil {
				t.Fatal(err)
			}
			d := describe(t, s, "u")
			got := openRanges(d)
			if fmt.Sprint(got) != fmt.Sprint(UniformRanges(tc.to)) || d.OpenShards != tc.to {
				t.Fatalf("open ranges after UpdateShardCount(%d): %v, want %v", tc.to, got, UniformRanges(tc.to))
			}
			for _, sd := range d.Shards {
				if !sd.Open && sd.EndingSequenceNumber == "" {
					t.Fatalf("closed shard %s has no ending sequence number", sd.ShardID)
				}
			}
			for round := 3; round < 6; round++ {
				var batch []PutEntry
				for _, k := range keys {
					batch = append(batch, entry(k, fmt.Sprintf("%s/%d", k, round)))
				}
				res := mustPut(t, s, "u", &m, clk.Now(), batch...)
				for i, k := range keys {
					// Route by brute force: the i-th uniform range of the target count.
					want := ownerOf(t, d, bigMD5(k))
					if res[i].ShardID != want || shardDesc(t, d, want).HashKeyRange != UniformRanges(tc.to)[bruteShard(bigMD5(k), tc.to)] {
						t.Fatalf("key %s went to %s, want %s", k, res[i].ShardID, want)
					}
				}
			}
			checkLineageRead(t, s, "u", &m)
			s.Close()
			s2 := openStore(t, dir, opts)
			if fmt.Sprint(openRanges(describe(t, s2, "u"))) != fmt.Sprint(UniformRanges(tc.to)) {
				t.Fatal("ranges changed across reopen")
			}
			checkLineageRead(t, s2, "u", &m)
		})
	}
}

func TestReshardLimits(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxShardsPerStream = 4
	s := openStore(t, t.TempDir(), opts)
	if err := s.CreateStream("lim", 4); err != nil {
		t.Fatal(err)
	}
	before := metaBytes(t, s, "lim")
	wantKind(t, s.SplitShard("lim", ShardID(0), "1000"), ErrLimitExceeded, "split over the shard limit")
	wantKind(t, s.UpdateShardCount("lim", 5), ErrInvalidArgument, "UpdateShardCount over the limit")
	wantKind(t, s.UpdateShardCount("lim", 0), ErrInvalidArgument, "UpdateShardCount to 0")
	wantKind(t, s.UpdateShardCount("nope", 2), ErrNotFound, "UpdateShardCount of a missing stream")
	if !bytes.Equal(metaBytes(t, s, "lim"), before) {
		t.Fatal("refused reshards changed the metadata file")
	}
	if d := describe(t, s, "lim"); len(d.Shards) != 4 {
		t.Fatalf("refused reshards left %d shards", len(d.Shards))
	}
	// Temporarily passing the limit inside UpdateShardCount is fine: 4 -> 3 splits first.
	if err := s.UpdateShardCount("lim", 3); err != nil {
		t.Fatal(err)
	}
}

// readLineage reads the whole stream with a StreamReader and returns the records
// with their shard, in the order the reader delivered them.
type delivered struct {
	shard string
	rec   Record
}

func readLineage(t testing.TB, s *Store, stream string, opts ReadOptions) []delivered {
	t.Helper()
	r, err := s.NewStreamReader(stream, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []delivered
	if err := r.Read(context.Background(), func(id string, rec Record) error {
		out = append(out, delivered{id, rec})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkLineageRead reads the stream in lineage order and checks that every put
// record appears exactly once, that each partition key's records appear in put
// order, that each shard's records are in ordinal order, and that no record of a
// child shard comes before the last record of its parents.
func checkLineageRead(t testing.TB, s *Store, stream string, m *model) {
	t.Helper()
	got := readLineage(t, s, stream, ReadOptions{BatchSize: 7})
	checkLineage(t, s, stream, got, m.puts)
}

func checkLineage(t testing.TB, s *Store, stream string, got []delivered, puts []put) {
	t.Helper()
	type id struct {
		shard string
		ord   uint64
	}
	want := map[id]put{}
	for _, p := range puts {
		want[id{p.shard, p.seq.Ordinal}] = p
	}
	seen := map[id]bool{}
	perKey := map[string][]string{}
	first, last := map[string]int{}, map[string]int{}
	lastOrd := map[string]uint64{}
	for i, g := range got {
		k := id{g.shard, g.rec.SequenceNumber.Ordinal}
		p, ok := want[k]
		if !ok {
			t.Fatalf("read a record that was never put: %s %s %q", g.shard, g.rec.SequenceNumber, g.rec.Data)
		}
		if seen[k] {
			t.Fatalf("read %s ordinal %d twice", g.shard, k.ord)
		}
		seen[k] = true
		if p.key != g.rec.PartitionKey || p.data != string(g.rec.Data) || p.seq != g.rec.SequenceNumber {
			t.Fatalf("record %s/%d read as (%q, %q), put as (%q, %q)", k.shard, k.ord, g.rec.PartitionKey, g.rec.Data, p.key, p.data)
		}
		if o, ok := lastOrd[g.shard]; ok && g.rec.SequenceNumber.Ordinal <= o {
			t.Fatalf("shard %s: ordinal %d read after %d", g.shard, g.rec.SequenceNumber.Ordinal, o)
		}
		lastOrd[g.shard] = g.rec.SequenceNumber.Ordinal
		perKey[p.key] = append(perKey[p.key], p.data)
		if _, ok := first[g.shard]; !ok {
			first[g.shard] = i
		}
		last[g.shard] = i
	}
	if len(seen) != len(want) {
		t.Fatalf("read %d distinct records, put %d", len(seen), len(want))
	}
	putOrder := map[string][]string{}
	for _, p := range puts {
		putOrder[p.key] = append(putOrder[p.key], p.data)
	}
	for k, w := range putOrder {
		if !slices.Equal(perKey[k], w) {
			t.Fatalf("partition key %s read in order %v, put in order %v", k, perKey[k], w)
		}
	}
	d := describe(t, s, stream)
	for _, sd := range d.Shards {
		f, ok := first[sd.ShardID]
		if !ok {
			continue
		}
		for _, p := range []string{sd.ParentShardID, sd.AdjacentParentShardID} {
			if l, ok := last[p]; ok && l > f {
				t.Fatalf("child %s was read (at %d) before its parent %s was finished (at %d)", sd.ShardID, f, p, l)
			}
		}
	}
}

func TestStreamReaderLineage(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	opts := testOptions(clk, 4096)
	s := openStore(t, dir, opts)
	if err := s.CreateStream("lin", 2); err != nil {
		t.Fatal(err)
	}
	var m model
	n := 0
	phase := func() {
		for range 5 {
			var batch []PutEntry
			for k := range 25 {
				batch = append(batch, entry(fmt.Sprint("k", k), fmt.Sprint(n)))
				n++
			}
			mustPut(t, s, "lin", &m, clk.Now(), batch...)
			clk.Advance(time.Millisecond)
		}
	}
	phase()
	mid := new(big.Int).Rsh(new(big.Int).Lsh(big.NewInt(1), 128), 2) // 2^126, inside shard 0
	if err := s.SplitShard("lin", ShardID(0), mid.String()); err != nil {
		t.Fatal(err)
	}
	phase()
	if err := s.MergeShards("lin", ShardID(2), ShardID(3)); err != nil {
		t.Fatal(err)
	}
	phase()
	if err := s.UpdateShardCount("lin", 3); err != nil {
		t.Fatal(err)
	}
	phase()
	if err := s.UpdateShardCount("lin", 1); err != nil {
		t.Fatal(err)
	}
	phase()
	checkLineageRead(t, s, "lin", &m)

	// One shard and its descendants only.
	got := readLineage(t, s, "lin", ReadOptions{Shard: ShardID(0)})
	for _, g := range got {
		if g.shard == ShardID(1) {
			t.Fatal("a read of shard 0's lineage returned records of shard 1")
		}
	}
	var inScope []put
	d := describe(t, s, "lin")
	scope := map[string]bool{ShardID(0): true}
	for changed := true; changed; {
		changed = false
		for _, sd := range d.Shards {
			if !scope[sd.ShardID] && (scope[sd.ParentShardID] || scope[sd.AdjacentParentShardID]) {
				scope[sd.ShardID], changed = true, true
			}
		}
	}
	for _, p := range m.puts {
		if scope[p.shard] {
			inScope = append(inScope, p)
		}
	}
	if len(got) != len(inScope) {
		t.Fatalf("lineage of shard 0: read %d records, %d are in scope", len(got), len(inScope))
	}

	// From a sequence number: that shard from there, then its descendants.
	from := m.shard(ShardID(1))[10]
	got = readLineage(t, s, "lin", ReadOptions{From: StartingPosition{Type: AtSequenceNumber, SequenceNumber: from.seq.String()}})
	if len(got) == 0 || got[0].rec.SequenceNumber != from.seq {
		t.Fatalf("read from %s started at %v", from.seq, got)
	}
	for _, g := range got {
		if g.shard == ShardID(0) || g.shard == ShardID(2) || g.shard == ShardID(3) {
			t.Fatalf("a read from a shard 1 sequence number returned records of %s", g.shard)
		}
	}

	// StopRead ends the read early without an error.
	r, err := s.NewStreamReader("lin", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	if err := r.Read(context.Background(), func(string, Record) error {
		calls++
		if calls == 5 {
			return StopRead()
		}
		return nil
	}); err != nil || calls != 5 {
		t.Fatalf("StopRead: %d calls, %v", calls, err)
	}
	if _, err := s.NewStreamReader("nope", ReadOptions{}); err == nil {
		t.Fatal("reader of a missing stream")
	}
	if _, err := s.NewStreamReader("lin", ReadOptions{Shard: ShardID(99)}); err == nil {
		t.Fatal("reader of a missing shard")
	}

	s.Close()
	s2 := openStore(t, dir, opts)
	checkLineageRead(t, s2, "lin", &m)
}

func TestStreamReaderFollow(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("f", 2); err != nil {
		t.Fatal(err)
	}
	r, err := s.NewStreamReader("f", ReadOptions{Follow: true, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const total = 200
	got := make(chan delivered, total)
	done := make(chan error, 1)
	go func() {
		done <- r.Read(ctx, func(id string, rec Record) error {
			got <- delivered{id, rec}
			if len(got) == total {
				cancel()
			}
			return nil
		})
	}()
	var m model
	for i := range total {
		mustPut(t, s, "f", &m, time.Time{}, entry(fmt.Sprint("k", i%7), fmt.Sprint(i)))
		if i == total/2 {
			if err := s.SplitShard("f", ShardID(1), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1000)).String()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(got)
	var all []delivered
	for g := range got {
		all = append(all, g)
	}
	if ctx.Err() != context.Canceled {
		t.Fatalf("following reader saw %d of %d records before the timeout", len(all), total)
	}
	checkLineage(t, s, "f", all, m.puts)
}

// TestStreamReaderFromPointInTime checks LATEST and AT_TIMESTAMP across a
// reshard: they name a point in time, so the open children of a split must not
// be read from their beginning.
func TestStreamReaderFromPointInTime(t *testing.T) {
	clk := newFakeClock()
	s := openStore(t, t.TempDir(), testOptions(clk, 0))
	if err := s.CreateStream("pt", 1); err != nil {
		t.Fatal(err)
	}
	var m model
	putN := func(n int, tag string) {
		for i := range n {
			mustPut(t, s, "pt", &m, clk.Now(), entry(fmt.Sprint("k", i%9), fmt.Sprint(tag, i)))
			clk.Advance(time.Second)
		}
	}
	putN(20, "before-split-")
	if err := s.SplitShard("pt", ShardID(0), "170141183460469231731687303715884105728"); err != nil {
		t.Fatal(err)
	}
	putN(20, "after-split-")
	mark := clk.Now()
	putN(20, "after-mark-")

	for _, opts := range []ReadOptions{{From: StartingPosition{Type: Latest}}, {From: StartingPosition{Type: Latest}, Shard: ShardID(0)}} {
		r, err := s.NewStreamReader("pt", opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []Record
		read := func() {
			if err := r.Read(context.Background(), func(_ string, rec Record) error { got = append(got, rec); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if len(got) != 0 {
			t.Fatalf("LATEST (%+v) read %d old records, first %q", opts, len(got), got[0].Data)
		}
		before := len(m.puts)
		putN(10, "new-")
		read()
		if want := m.puts[before:]; len(got) != len(want) || string(got[0].Data) != "new-0" {
			t.Fatalf("LATEST (%+v) then 10 puts: read %d records", opts, len(got))
		}
	}

	got := readLineage(t, s, "pt", ReadOptions{From: StartingPosition{Type: AtTimestamp, Timestamp: mark}})
	var want []put
	for _, p := range m.puts {
		if !p.at.Before(mark) {
			want = append(want, p)
		}
	}
	checkLineage(t, s, "pt", got, want)
}
