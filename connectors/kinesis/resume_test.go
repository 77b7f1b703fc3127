package kinesis

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
)

// shardKeys returns, for every open shard of the stream, n partition keys the
// stream routes to it.
func shardKeys(t *testing.T, s *streamstore.Store, stream string, n int) map[string][]string {
	t.Helper()
	d, err := s.DescribeStream(stream)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for _, sd := range d.Shards {
		if sd.Open {
			keys[sd.ShardID] = nil
		}
	}
	for i := 0; ; i++ {
		k := fmt.Sprintf("k%d", i)
		for _, sd := range d.Shards {
			if sd.Open && len(keys[sd.ShardID]) < n && sd.HashKeyRange.Contains(streamstore.HashPartitionKey(k)) {
				keys[sd.ShardID] = append(keys[sd.ShardID], k)
			}
		}
		full := true
		for _, ks := range keys {
			full = full && len(ks) == n
		}
		if full {
			return keys
		}
	}
}

// keysOf lists the keys of the given shards.
func keysOf(keys map[string][]string, shards ...string) []string {
	var out []string
	for _, sh := range shards {
		out = append(out, keys[sh]...)
	}
	return out
}

// putKeys puts records with n = from..to-1, their keys taken round robin.
func putKeys(t *testing.T, s *streamstore.Store, stream string, from, to int, keys []string) {
	t.Helper()
	var batch []streamstore.PutEntry
	for i := from; i < to; i++ {
		key := keys[i%len(keys)]
		batch = append(batch, streamstore.PutEntry{PartitionKey: key, Data: fmt.Appendf(nil, `{"key":%q,"n":%d,"price":1.5}`, key, i)})
		if len(batch) == 500 || i == to-1 {
			if _, err := s.PutRecords(context.Background(), stream, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// shardIDs returns the ids of the first n shards of a new stream.
func shardIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = streamstore.ShardID(uint32(i))
	}
	return ids
}

// checkpointOf builds the checkpoint an engine writes after processing every
// batch the collector got: the source's start positions, overridden by the
// last Position of each shard, and the shards whose SplitDone came.
func checkpointOf(starts map[string]string, c *collector) *Resume {
	r := &Resume{After: maps.Clone(starts)}
	maps.Copy(r.After, c.lastSeq)
	r.Done = slices.Sorted(maps.Keys(c.done))
	return r
}

// readWhile reads batches of a live source while cond holds.
func (c *collector) readWhile(src *EmbeddedSource, cond func() bool) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for cond() {
		b, err := src.Next(ctx)
		if err != nil {
			c.t.Fatalf("after %d rows: %v", len(c.rows), err)
		}
		c.add(b)
	}
}

// checkOnce checks that the rows of the runs, in order, hold n = from..to-1
// once each, and that the rows of each key arrive in put order across runs.
func checkOnce(t *testing.T, from, to int, runs ...*collector) {
	t.Helper()
	seen := map[int64]int{}
	lastOfKey := map[string]int64{}
	for r, c := range runs {
		for _, row := range c.rows {
			seen[row.n]++
			if seen[row.n] > 1 {
				t.Fatalf("n=%d (key %s, shard %s) read twice, again in run %d", row.n, row.key, row.shard, r+1)
			}
			if row.n < int64(from) || row.n >= int64(to) {
				t.Fatalf("run %d read n=%d (key %s, shard %s), outside [%d, %d)", r+1, row.n, row.key, row.shard, from, to)
			}
			if prev, ok := lastOfKey[row.key]; ok && row.n <= prev {
				t.Fatalf("run %d: key %s: n=%d after n=%d", r+1, row.key, row.n, prev)
			}
			lastOfKey[row.key] = row.n
		}
	}
	if len(seen) != to-from {
		var missing []int
		for n := from; n < to && len(missing) < 10; n++ {
			if seen[int64(n)] == 0 {
				missing = append(missing, n)
			}
		}
		t.Fatalf("%d of %d rows read; missing %v...", len(seen), to-from, missing)
	}
}

// checkLineage checks that no batch of a shard comes before the SplitDone of
// a parent read in the same run.
func checkLineage(t *testing.T, s *streamstore.Store, c *collector) {
	t.Helper()
	d, _ := s.DescribeStream("trades")
	for i, b := range c.batches {
		for _, sd := range d.Shards {
			if sd.ShardID != b.Split {
				continue
			}
			for _, p := range []string{sd.ParentShardID, sd.AdjacentParentShardID} {
				if !slices.ContainsFunc(c.batches, func(b exec.SourceBatch) bool { return b.Split == p }) {
					continue // not read in this run
				}
				if at, ok := indexOfDone(c.batches, p); !ok || at > i {
					t.Fatalf("batch %d of %s before its parent %s was done", i, b.Split, p)
				}
			}
		}
	}
}

func liveConfig() SourceConfig {
	return SourceConfig{MaxRows: 32, PollInterval: 5 * time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

// splitShard splits a shard in the middle of its hash key range.
func splitShard(t *testing.T, s *streamstore.Store, shard string) {
	t.Helper()
	d, _ := s.DescribeStream("trades")
	for _, sd := range d.Shards {
		if sd.ShardID == shard {
			lo, _ := new(big.Int).SetString(sd.HashKeyRange.Start.String(), 10)
			hi, _ := new(big.Int).SetString(sd.HashKeyRange.End.String(), 10)
			mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
			if err := s.SplitShard("trades", shard, mid.String()); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no shard %s", shard)
}

// children returns the shards whose parent (or adjacent parent) is shard.
func children(t *testing.T, s *streamstore.Store, shard string) []string {
	t.Helper()
	d, _ := s.DescribeStream("trades")
	var out []string
	for _, sd := range d.Shards {
		if sd.ParentShardID == shard || sd.AdjacentParentShardID == shard {
			out = append(out, sd.ShardID)
		}
	}
	return out
}

// Trim horizon: a first run reads part of a 4-shard stream, one shard of
// which is empty; a bounded second run resumed from its checkpoint reads the
// rest, what was put between the runs included, and stops at the ends the
// shards had at its open. Checkpoints of bounded runs resume in turn, a shard
// done at its bound and closed since included.
func TestResumeTrimHorizon(t *testing.T) {
	s := newStore(t, "trades", 4)
	ids := shardIDs(4)
	keys := shardKeys(t, s, "trades", 4)
	putKeys(t, s, "trades", 0, 2000, keysOf(keys, ids[0], ids[1], ids[2])) // ids[3] stays empty in run 1

	src := openSource(t, s, liveConfig())
	starts := src.StartPositions()
	if want := map[string]string{ids[0]: "", ids[1]: "", ids[2]: "", ids[3]: ""}; !maps.Equal(starts, want) {
		t.Fatalf("start positions %v, want %v", starts, want)
	}
	first := newCollector(t, s, "trades")
	first.readUntil(src, 700)
	src.Close()
	ck := checkpointOf(starts, first)
	if ck.After[ids[3]] != "" || len(ck.Done) != 0 {
		t.Fatalf("checkpoint %+v", ck)
	}
	for _, id := range ids[:3] {
		if ck.After[id] == "" {
			t.Fatalf("run 1 read nothing of %s: %+v", id, ck)
		}
	}

	putKeys(t, s, "trades", 2000, 2400, keysOf(keys, ids...))
	cfg := liveConfig()
	cfg.Bounded, cfg.Resume = true, ck
	again := openSource(t, s, cfg)
	if got := again.StartPositions(); !maps.Equal(got, ck.After) {
		t.Fatalf("resumed start positions %v, want the checkpoint's %v", got, ck.After)
	}
	if w := again.Warnings(); w != nil {
		t.Fatalf("warnings %v", w)
	}
	putKeys(t, s, "trades", 2400, 2500, keysOf(keys, ids...)) // after open: not read
	second := newCollector(t, s, "trades")
	second.readAll(again)
	checkOnce(t, 0, 2400, first, second)

	// A checkpoint of the resumed run resumes it in turn: nothing is left.
	// Bounded, run 2 ended the open shards with SplitDone too: in Done, they
	// resume from their positions in After.
	ck2 := checkpointOf(again.StartPositions(), second)
	if len(ck2.Done) != 4 {
		t.Fatalf("checkpoint of the bounded run: %+v", ck2)
	}
	// ids[0] gets records after its bound, then a split closes it: it is
	// read from its position, its children after it.
	putKeys(t, s, "trades", 2500, 2600, keysOf(keys, ids...))
	splitShard(t, s, ids[0])
	putKeys(t, s, "trades", 2600, 2700, keysOf(keys, ids...))
	cfg.Resume = ck2
	thirdSrc := openSource(t, s, cfg)
	third := newCollector(t, s, "trades")
	third.readAll(thirdSrc)
	checkOnce(t, 0, 2700, first, second, third)
	checkLineage(t, s, third)
	if !third.done[ids[0]] {
		t.Fatalf("run 3 did not read %s, closed since the bound it was done at", ids[0])
	}

	// A closed shard whose position is its last record is skipped.
	ck3 := checkpointOf(thirdSrc.StartPositions(), third)
	cfg.Resume = ck3
	fourth := newCollector(t, s, "trades")
	fourth.readAll(openSource(t, s, cfg))
	if len(fourth.rows) != 0 || slices.ContainsFunc(fourth.batches, func(b exec.SourceBatch) bool { return b.Split == ids[0] }) {
		t.Fatalf("run 4 read %d rows, batches %v", len(fourth.rows), fourth.batches)
	}
}

// start = latest: the start positions are the shards' last records at open,
// so records put after the first open are read exactly once over two runs,
// those of a shard the first run read nothing from included, and nothing put
// before the first open is read.
func TestResumeLatest(t *testing.T) {
	s := newStore(t, "trades", 4)
	ids := shardIDs(4)
	keys := shardKeys(t, s, "trades", 4)
	putKeys(t, s, "trades", 0, 500, keysOf(keys, ids[0], ids[1], ids[2])) // ids[3] empty
	putKeys(t, s, "trades", 500, 600, keysOf(keys, ids...))

	cfg := liveConfig()
	cfg.Start = Start{Kind: StartLatest}
	src := openSource(t, s, cfg)
	starts := src.StartPositions()
	for _, id := range ids {
		out, err := s.GetRecords(context.Background(), mustPos(t, s, id), 10000)
		if err != nil {
			t.Fatal(err)
		}
		if want := out.Records[len(out.Records)-1].SequenceNumber.String(); starts[id] != want {
			t.Fatalf("shard %s starts after %q, want its last record %s", id, starts[id], want)
		}
	}
	// Put while run 1 reads; ids[3] gets nothing until run 1 ends.
	putKeys(t, s, "trades", 600, 1600, keysOf(keys, ids[0], ids[1], ids[2]))
	first := newCollector(t, s, "trades")
	first.readUntil(src, 400)
	src.Close()
	if first.started[ids[3]] {
		t.Fatal("run 1 read the idle shard")
	}
	ck := checkpointOf(starts, first)
	if ck.After[ids[3]] != starts[ids[3]] {
		t.Fatalf("checkpoint %v", ck.After)
	}

	putKeys(t, s, "trades", 1600, 2000, keysOf(keys, ids...))
	cfg.Start, cfg.Resume = Start{}, ck // Resume replaces Start
	cfg.Bounded = true
	second := newCollector(t, s, "trades")
	second.readAll(openSource(t, s, cfg))
	checkOnce(t, 600, 2000, first, second)
}

// Resharding during the first run and between the runs: parents read to
// their end before the checkpoint (Done) are not read again and their
// children are read after them; parents partially read finish first; shards
// created since are read from their beginning.
func TestResumeAcrossReshards(t *testing.T) {
	s := newStore(t, "trades", 4)
	ids := shardIDs(4)
	keys := shardKeys(t, s, "trades", 3)
	all := keysOf(keys, ids...)
	putKeys(t, s, "trades", 0, 800, all)
	putKeys(t, s, "trades", 800, 2400, keysOf(keys, ids[1], ids[2], ids[3]))

	src := openSource(t, s, liveConfig())
	starts := src.StartPositions()
	first := newCollector(t, s, "trades")
	first.readUntil(src, 100)
	// During run 1: split ids[0] and merge ids[2] and ids[3]; the keys keep
	// going, to the children.
	splitShard(t, s, ids[0])
	putKeys(t, s, "trades", 2400, 2600, all)
	if err := s.MergeShards("trades", ids[2], ids[3]); err != nil {
		t.Fatal(err)
	}
	putKeys(t, s, "trades", 2600, 2800, all)
	first.readWhile(src, func() bool { return !first.done[ids[0]] })
	first.readUntil(src, len(first.rows)+64)
	src.Close()
	for _, id := range []string{ids[1], ids[2], ids[3]} {
		if first.done[id] || !first.started[id] {
			t.Fatalf("shard %s: done %v, started %v; want it partially read", id, first.done[id], first.started[id])
		}
	}
	ck := checkpointOf(starts, first)
	if !slices.Equal(ck.Done, []string{ids[0]}) {
		t.Fatalf("done %v", ck.Done)
	}
	// A closed shard in Done needs no position: the live run below goes
	// without it.
	alone := &Resume{After: maps.Clone(ck.After), Done: ck.Done}
	delete(alone.After, ids[0])
	split0 := children(t, s, ids[0])

	// Between the runs: split ids[1] (partially read) and merge the children
	// of ids[0] (Done).
	splitShard(t, s, ids[1])
	if err := s.MergeShards("trades", split0[0], split0[1]); err != nil {
		t.Fatal(err)
	}
	putKeys(t, s, "trades", 2800, 3200, all)

	cfg := liveConfig()
	cfg.Bounded, cfg.Resume = true, ck
	again := openSource(t, s, cfg)
	if _, ok := again.StartPositions()[ids[0]]; ok {
		t.Fatalf("start positions %v list the done shard", again.StartPositions())
	}
	// After open: neither new records nor new shards are read.
	if err := s.UpdateShardCount("trades", 2); err != nil {
		t.Fatal(err)
	}
	putKeys(t, s, "trades", 3200, 3300, all)
	second := newCollector(t, s, "trades")
	second.readAll(again)
	checkOnce(t, 0, 3200, first, second)
	checkLineage(t, s, second)
	if slices.ContainsFunc(second.batches, func(b exec.SourceBatch) bool { return b.Split == ids[0] }) {
		t.Fatal("run 2 read the done shard")
	}
	if !second.done[ids[1]] || !second.done[ids[2]] || !second.done[ids[3]] {
		t.Fatalf("run 2 did not finish the partially read parents: %v", second.done)
	}

	// Live, the resumed run also follows the reshard made after its open.
	cfg.Bounded, cfg.Resume = false, alone
	live := newCollector(t, s, "trades")
	live.readUntil(openSource(t, s, cfg), 3300-len(first.rows))
	checkOnce(t, 0, 3300, first, live)
}

// A Done parent whose children the checkpoint does not list: the children
// are read from their beginning, right away.
func TestResumeDoneParentUnlistedChildren(t *testing.T) {
	s := newStore(t, "trades", 2)
	ids := shardIDs(2)
	keys := shardKeys(t, s, "trades", 3)
	putKeys(t, s, "trades", 0, 300, keysOf(keys, ids...))
	splitShard(t, s, ids[0])
	putKeys(t, s, "trades", 300, 600, keysOf(keys, ids...))

	src := openSource(t, s, liveConfig())
	starts := src.StartPositions()
	first := newCollector(t, s, "trades")
	first.readWhile(src, func() bool { return !first.done[ids[0]] })
	src.Close()
	ck := checkpointOf(starts, first)
	kids := children(t, s, ids[0])
	for _, k := range kids {
		if first.started[k] {
			t.Fatalf("run 1 read child %s", k)
		}
		delete(ck.After, k)
	}
	cfg := liveConfig()
	cfg.Bounded, cfg.Resume = true, ck
	again := openSource(t, s, cfg)
	if act := again.ActiveSplits(); !slices.Contains(act, kids[0]) || !slices.Contains(act, kids[1]) {
		t.Fatalf("active splits %v: the children of the done parent wait", act)
	}
	second := newCollector(t, s, "trades")
	second.readAll(again)
	checkOnce(t, 0, 600, first, second)
}

// start = timestamp resolves to the last record before the timestamp; a
// timestamp before every record, trim_horizon and empty shards to "".
func TestStartPositionsResolve(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts := streamstore.DefaultOptions()
	opts.Now = clk.Now
	s := openStore(t, t.TempDir(), opts)
	if err := s.CreateStream("trades", 3); err != nil {
		t.Fatal(err)
	}
	ids := shardIDs(3)
	keys := shardKeys(t, s, "trades", 3)
	putKeys(t, s, "trades", 0, 60, keysOf(keys, ids[0], ids[1])) // ids[2] empty
	clk.Advance(time.Minute)
	cut := clk.Now()
	putKeys(t, s, "trades", 60, 120, keysOf(keys, ids[0], ids[1]))

	lastBefore := func(id string, at time.Time) string {
		out, err := s.GetRecords(context.Background(), mustPos(t, s, id), 10000)
		if err != nil {
			t.Fatal(err)
		}
		seq := ""
		for _, r := range out.Records {
			if r.ArrivalTime.Before(at) {
				seq = r.SequenceNumber.String()
			}
		}
		return seq
	}
	cases := []struct {
		start Start
		want  func(id string) string
	}{
		{Start{}, func(string) string { return "" }},
		{Start{Kind: StartTimestamp, Timestamp: cut}, func(id string) string { return lastBefore(id, cut) }},
		{Start{Kind: StartTimestamp, Timestamp: cut.Add(-time.Hour)}, func(string) string { return "" }},
		{Start{Kind: StartTimestamp, Timestamp: cut.Add(time.Hour)}, func(id string) string { return lastBefore(id, cut.Add(time.Hour)) }},
		{Start{Kind: StartLatest}, func(id string) string { return lastBefore(id, cut.Add(time.Hour)) }},
	}
	for _, c := range cases {
		src := openSource(t, s, SourceConfig{Bounded: true, Start: c.start})
		got := src.StartPositions()
		for _, id := range ids {
			if want := c.want(id); got[id] != want {
				t.Errorf("start %+v: shard %s starts after %q, want %q", c.start, id, got[id], want)
			}
		}
		if len(got) != 3 {
			t.Errorf("start %+v: %v", c.start, got)
		}
		got["x"] = "y" // the caller's
		if _, ok := src.StartPositions()["x"]; ok {
			t.Error("StartPositions shares its map")
		}
	}
	if lastBefore(ids[0], cut) == "" || lastBefore(ids[1], cut) == "" {
		t.Fatal("fixture: a shard has no record before the cut")
	}

	// A run from the timestamp, resumed: 60..119 once, and what comes after.
	cfg := liveConfig()
	cfg.Start = Start{Kind: StartTimestamp, Timestamp: cut}
	src := openSource(t, s, cfg)
	starts := src.StartPositions()
	first := newCollector(t, s, "trades")
	first.readUntil(src, 20)
	src.Close()
	putKeys(t, s, "trades", 120, 150, keysOf(keys, ids...))
	cfg.Bounded, cfg.Resume = true, checkpointOf(starts, first)
	second := newCollector(t, s, "trades")
	second.readAll(openSource(t, s, cfg))
	checkOnce(t, 60, 150, first, second)
}

// A position whose following records retention removed since the checkpoint
// starts at the first record still kept and says so; so does a shard of the
// checkpoint that retention removed whole. A position retention did not touch
// resumes as usual.
func TestResumeTrimmedPosition(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts := streamstore.DefaultOptions()
	opts.Now = clk.Now
	s := openStore(t, t.TempDir(), opts)
	if err := s.CreateStream("trades", 4); err != nil {
		t.Fatal(err)
	}
	ids := shardIDs(4)
	keys := shardKeys(t, s, "trades", 3)
	putKeys(t, s, "trades", 0, 300, keysOf(keys, ids[1], ids[2], ids[3])) // at 12:00
	clk.Advance(time.Hour)
	splitShard(t, s, ids[3]) // closed at 13:00
	kids := children(t, s, ids[3])
	clk.Advance(time.Hour)
	putKeys(t, s, "trades", 300, 700, keysOf(keys, ids[0])) // at 14:00

	cfg := liveConfig()
	cfg.Now = clk.Now
	src := openSource(t, s, cfg)
	starts := src.StartPositions()
	first := newCollector(t, s, "trades")
	first.readUntil(src, 150)
	src.Close()
	ck := checkpointOf(starts, first)
	for _, id := range ids {
		if ck.After[id] == "" || first.done[id] {
			t.Fatalf("fixture: shard %s not partially read: %+v", id, ck)
		}
	}
	if ck.After[kids[0]] != "" || ck.After[kids[1]] != "" {
		t.Fatalf("fixture: children of %s: %+v", ids[3], ck)
	}

	// A day later (cutoff 13:30) the records of 12:00 have expired, those of
	// 14:00 not, and ids[3], closed at 13:00, goes whole.
	clk.Advance(23*time.Hour + 30*time.Minute)
	if _, err := s.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Position("trades", ids[3], streamstore.StartingPosition{Type: streamstore.TrimHorizon}); err == nil {
		t.Fatal("fixture: retention kept the closed shard")
	}
	putKeys(t, s, "trades", 700, 900, slices.Concat(keysOf(keys, ids[0], ids[1], ids[2]), keysOf(shardKeys(t, s, "trades", 2), kids...)))

	cfg.Bounded, cfg.Resume = true, ck
	again := openSource(t, s, cfg)
	w := again.Warnings()
	if len(w) != 3 {
		t.Fatalf("warnings %q, want 3", w)
	}
	if !strings.Contains(w[0], "shard "+ids[3]+" of the checkpoint no longer exists in stream \"trades\": retention removed it") ||
		!strings.Contains(w[0], "after sequence number "+ck.After[ids[3]]) {
		t.Errorf("warning %q", w[0])
	}
	for i, id := range ids[1:3] {
		if !strings.Contains(w[i+1], "shard "+id+": retention removed the ") || !strings.Contains(w[i+1], " records after sequence number "+ck.After[id]+" before they were read") ||
			!strings.Contains(w[i+1], "reading resumes at the first record still kept, sequence number ") {
			t.Errorf("warning %q", w[i+1])
		}
	}
	got := again.StartPositions()
	want := map[string]string{ids[0]: ck.After[ids[0]], ids[1]: "", ids[2]: "", kids[0]: "", kids[1]: ""}
	if !maps.Equal(got, want) {
		t.Errorf("start positions %v, want %v", got, want)
	}
	second := newCollector(t, s, "trades")
	second.readAll(again)
	// What run 1 read of 0..299 has expired with the rest of them; 300..899
	// are read once over the runs.
	var kept []row
	for _, r := range first.rows {
		if r.n >= 300 {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 || len(kept) == len(first.rows) {
		t.Fatalf("fixture: run 1 read %d rows of the 14:00 records, %d in all", len(kept), len(first.rows))
	}
	first.rows = kept
	checkOnce(t, 300, 900, first, second)

	// Positions retention did not touch give no warning.
	cfg.Resume = checkpointOf(got, second)
	if w := openSource(t, s, cfg).Warnings(); w != nil {
		t.Fatalf("warnings %q", w)
	}
}

// Positions that cannot be resumed fail the open with an error that names
// the shard, the position and what to do.
func TestResumeErrors(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts := streamstore.DefaultOptions()
	opts.Now = clk.Now
	s := openStore(t, t.TempDir(), opts)
	if err := s.CreateStream("trades", 2); err != nil {
		t.Fatal(err)
	}
	ids := shardIDs(2)
	putN(t, s, "trades", 0, 50, 7)
	first := newCollector(t, s, "trades")
	first.readAll(openSource(t, s, SourceConfig{Bounded: true}))
	d, _ := s.DescribeStream("trades")
	pos0 := first.lastSeq[ids[0]]
	seq, _ := streamstore.ParseSequenceNumber(pos0)
	past := seq
	past.Ordinal += 100
	other := seq
	other.Shard = 1

	open := func(r *Resume) error {
		src, err := OpenEmbeddedSource(s, SourceConfig{Name: "trades", Stream: "trades", Decoder: jsonDecoder(t, tradeCols), Resume: r})
		if err == nil {
			src.Close()
		}
		return err
	}
	cases := []struct {
		r    *Resume
		want []string
	}{
		{&Resume{After: map[string]string{ids[0]: past.String()}}, []string{"cannot resume shard " + ids[0] + " after sequence number " + past.String(), "past the end", "restore another checkpoint or start without one"}},
		{&Resume{After: map[string]string{ids[0]: other.String()}}, []string{"cannot resume shard " + ids[0] + " after sequence number " + other.String(), "belongs to shard " + ids[1]}},
		{&Resume{After: map[string]string{ids[1]: "123"}}, []string{"cannot resume shard " + ids[1] + " after sequence number 123", "must be 56 decimal digits"}},
		{&Resume{After: map[string]string{"3": ""}}, []string{`shard id "3" is not in the form shardId-000000000000`}},
		{&Resume{Done: []string{ids[1]}}, []string{"cannot resume shard " + ids[1], "still open", "keep its last position in Resume.After"}},
	}
	for _, c := range cases {
		err := open(c.r)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("resume %+v: error %v, want %q", c.r, err, w)
			}
		}
	}
	if err := open(&Resume{After: maps.Clone(first.lastSeq)}); err != nil {
		t.Fatal(err)
	}
	if d.Epoch != seq.Epoch {
		t.Fatal("fixture: epoch")
	}

	// The stream deleted and created again: the old positions are of no use.
	if err := s.DeleteStream("trades"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := s.CreateStream("trades", 2); err != nil {
		t.Fatal(err)
	}
	putN(t, s, "trades", 0, 50, 7)
	err := open(&Resume{After: maps.Clone(first.lastSeq)})
	for _, w := range []string{"cannot resume shard " + ids[0] + " after sequence number " + pos0, "deleted since", "start the application without its checkpoint"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("recreated stream: error %v, want %q", err, w)
		}
	}
}
