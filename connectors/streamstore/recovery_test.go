package streamstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReopenKeepsEverything(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	const segBytes = 2048
	opts := testOptions(clk, segBytes)
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStream("keep", 3); err != nil {
		t.Fatal(err)
	}
	var m model
	for b := range 60 {
		var batch []PutEntry
		for i := range 1 + b%9 {
			batch = append(batch, entry(fmt.Sprintf("k%d", (b+i)%11), strings.Repeat(string(rune('a'+b%26)), 10+(b*7+i*13)%120)))
		}
		mustPut(t, s, "keep", &m, clk.Now(), batch...)
		clk.Advance(time.Second)
	}
	before, err := s.DescribeStream("keep")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.PutRecord(context.Background(), "keep", entry("k", "v")); !errors.Is(err, ErrClosed) {
		t.Fatalf("put after Close: %v, want ErrClosed", err)
	}

	// On disk: many segments per shard, a valid index beside every sealed one that
	// agrees with a fresh scan, and segments rolled where the next frame would
	// have passed SegmentBytes.
	for _, id := range m.shardIDs() {
		recs := m.shard(id)
		segs := segmentFiles(t, filepath.Join(dir, "streams", "keep.stream", id))
		if len(segs) < 3 {
			t.Fatalf("shard %s has %d segments; SegmentBytes=%d should have made more", id, len(segs), segBytes)
		}
		total := uint64(0)
		for i, p := range segs {
			data := mustReadFile(t, p)
			res := scanSegment(data)
			if res.err != nil || res.stats.size != int64(len(data)) {
				t.Fatalf("%s: scan stopped at %d of %d: %v", p, res.stats.size, len(data), res.err)
			}
			base, _ := parseSegmentName(filepath.Base(p))
			if base != total || res.header.base != base {
				t.Fatalf("%s: base %d (header %d), want %d", p, base, res.header.base, total)
			}
			total += res.stats.count
			idx, idxErr := os.ReadFile(indexPath(p))
			if i == len(segs)-1 {
				if idxErr == nil {
					t.Fatalf("the open segment %s has an index", p)
				}
				continue
			}
			if idxErr != nil {
				t.Fatalf("sealed segment %s has no index: %v", p, idxErr)
			}
			if !bytes.Equal(idx, encodeIndex(base, res.stats)) {
				t.Fatalf("index of %s does not match a scan of the segment", p)
			}
			next := recs[total] // the first record of the next segment
			if len(data) > segBytes || len(data)+frameLen(len(next.key), len(next.data)) <= segBytes {
				t.Fatalf("%s is %d bytes and the next frame is %d bytes; SegmentBytes is %d", p, len(data), frameLen(len(next.key), len(next.data)), segBytes)
			}
		}
		if total != uint64(len(recs)) {
			t.Fatalf("shard %s holds %d records on disk, put %d", id, total, len(recs))
		}
	}

	s2 := openStore(t, dir, opts)
	if err := s2.Own("keep"); err != nil {
		t.Fatal(err)
	}
	if r := s2.Repairs(); len(r) != 0 {
		t.Fatalf("clean reopen reported repairs: %v", r)
	}
	after, err := s2.DescribeStream("keep")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("describe changed across reopen:\n%+v\n%+v", before, after)
	}
	checkAll(t, s2, "keep", &m)
	// New puts continue each shard's sequence.
	last := map[string]put{}
	for _, p := range m.puts {
		last[p.shard] = p
	}
	var more model
	for i := range 40 {
		mustPut(t, s2, "keep", &more, clk.Now(), entry(fmt.Sprintf("k%d", i%11), "after reopen"))
	}
	for _, p := range more.puts {
		prev := last[p.shard]
		if p.seq.Ordinal != prev.seq.Ordinal+1 || p.seq.String() <= prev.seq.String() {
			t.Fatalf("shard %s: after reopen got %s (ordinal %d) after %s (ordinal %d)", p.shard, p.seq, p.seq.Ordinal, prev.seq, prev.seq.Ordinal)
		}
		last[p.shard] = p
	}
	m.puts = append(m.puts, more.puts...)
	checkAll(t, s2, "keep", &m)
}

// damageFixture is a closed store with one single-shard stream whose records span
// several small segments.
type damageFixture struct {
	dir     string
	opts    Options
	shard   string // shard directory
	recs    []put  // by ordinal
	segs    []string
	lastSeg string
	base    uint64 // base of the last segment
}

func newDamageFixture(t *testing.T) *damageFixture {
	t.Helper()
	clk := newFakeClock()
	f := &damageFixture{dir: t.TempDir(), opts: testOptions(clk, 1024)}
	s, err := Open(f.dir, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStream("d", 1); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 60 {
		mustPut(t, s, "d", &m, clk.Now(), entry("pk", fmt.Sprintf("record %03d %s", i, strings.Repeat("#", 20+i%17))))
		clk.Advance(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f.recs = m.shard(ShardID(0))
	f.shard = filepath.Join(f.dir, "streams", "d.stream", ShardID(0))
	f.segs = segmentFiles(t, f.shard)
	if len(f.segs) < 4 {
		t.Fatalf("fixture has %d segments", len(f.segs))
	}
	f.lastSeg = f.segs[len(f.segs)-1]
	f.base, _ = parseSegmentName(filepath.Base(f.lastSeg))
	return f
}

// offset is where the frame of ordinal ord starts in the segment whose base is base,
// computed from the format: a 32-byte header, then frames of 8+18+key+data bytes.
func (f *damageFixture) offset(base, ord uint64) int64 {
	off := int64(segmentHdrLen)
	for o := base; o < ord; o++ {
		off += int64(frameLen(len(f.recs[o].key), len(f.recs[o].data)))
	}
	return off
}

func (f *damageFixture) frameLen(ord uint64) int64 {
	return int64(frameLen(len(f.recs[ord].key), len(f.recs[ord].data)))
}

func (f *damageFixture) size(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func truncateTo(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b := mustReadFile(t, path)
	b[off] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, extra []byte) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Write(extra); err != nil {
		t.Fatal(err)
	}
	fh.Close()
}

func TestRecoveryDamageTable(t *testing.T) {
	type want struct {
		lost    func(ord uint64) bool // records that must be gone
		next    uint64                // ordinal of the first put after reopen
		segment string                // file the repair names
		offset  int64
		dropped int64
		reason  string // substring of the repair's reason
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, f *damageFixture) want
	}{
		{"truncate the last frame mid-body", func(t *testing.T, f *damageFixture) want {
			n := uint64(len(f.recs))
			truncateTo(t, f.lastSeg, f.size(t, f.lastSeg)-5)
			return want{lost: func(o uint64) bool { return o == n-1 }, next: n - 1, segment: f.lastSeg,
				offset: f.offset(f.base, n-1), dropped: f.frameLen(n-1) - 5, reason: errShortFrame.Error()}
		}},
		{"truncate inside the last frame's header", func(t *testing.T, f *damageFixture) want {
			n := uint64(len(f.recs))
			off := f.offset(f.base, n-1)
			truncateTo(t, f.lastSeg, off+3)
			return want{lost: func(o uint64) bool { return o == n-1 }, next: n - 1, segment: f.lastSeg, offset: off, dropped: 3, reason: errShortFrame.Error()}
		}},
		{"flip a byte in the last frame", func(t *testing.T, f *damageFixture) want {
			n := uint64(len(f.recs))
			off := f.offset(f.base, n-1)
			flipByte(t, f.lastSeg, off+frameHdrLen+bodyHdrLen+4)
			return want{lost: func(o uint64) bool { return o == n-1 }, next: n - 1, segment: f.lastSeg, offset: off, dropped: f.frameLen(n - 1), reason: errBadCRC.Error()}
		}},
		{"flip a byte in the last frame's CRC", func(t *testing.T, f *damageFixture) want {
			n := uint64(len(f.recs))
			off := f.offset(f.base, n-1)
			flipByte(t, f.lastSeg, off+5)
			return want{lost: func(o uint64) bool { return o == n-1 }, next: n - 1, segment: f.lastSeg, offset: off, dropped: f.frameLen(n - 1), reason: errBadCRC.Error()}
		}},
		{"flip a byte in an earlier frame of the last segment", func(t *testing.T, f *damageFixture) want {
			bad := f.base + 1
			off := f.offset(f.base, bad)
			flipByte(t, f.lastSeg, off+frameHdrLen+2) // the ordinal
			return want{lost: func(o uint64) bool { return o >= bad }, next: bad, segment: f.lastSeg, offset: off,
				dropped: f.size(t, f.lastSeg) - off, reason: errBadCRC.Error()}
		}},
		{"garbage appended", func(t *testing.T, f *damageFixture) want {
			size := f.size(t, f.lastSeg)
			appendBytes(t, f.lastSeg, bytes.Repeat([]byte{0xab}, 100))
			return want{lost: func(uint64) bool { return false }, next: uint64(len(f.recs)), segment: f.lastSeg, offset: size, dropped: 100, reason: errBadLength.Error()}
		}},
		{"zeros appended", func(t *testing.T, f *damageFixture) want {
			size := f.size(t, f.lastSeg)
			appendBytes(t, f.lastSeg, make([]byte, 4096))
			return want{lost: func(uint64) bool { return false }, next: uint64(len(f.recs)), segment: f.lastSeg, offset: size, dropped: 4096, reason: errBadLength.Error()}
		}},
		{"valid frame with a wrong ordinal appended", func(t *testing.T, f *damageFixture) want {
			size := f.size(t, f.lastSeg)
			fr := appendFrame(nil, uint64(len(f.recs))+5, f.recs[len(f.recs)-1].at.UnixNano(), "pk", []byte("stray"))
			appendBytes(t, f.lastSeg, fr)
			return want{lost: func(uint64) bool { return false }, next: uint64(len(f.recs)), segment: f.lastSeg, offset: size, dropped: int64(len(fr)), reason: errBadOrdinal.Error()}
		}},
		{"valid frame whose arrival goes backwards appended", func(t *testing.T, f *damageFixture) want {
			size := f.size(t, f.lastSeg)
			fr := appendFrame(nil, uint64(len(f.recs)), f.recs[0].at.UnixNano()-1, "pk", []byte("stray"))
			appendBytes(t, f.lastSeg, fr)
			return want{lost: func(uint64) bool { return false }, next: uint64(len(f.recs)), segment: f.lastSeg, offset: size, dropped: int64(len(fr)), reason: errBadArrival.Error()}
		}},
		{"torn segment header", func(t *testing.T, f *damageFixture) want {
			truncateTo(t, f.lastSeg, 10)
			return want{lost: func(o uint64) bool { return o >= f.base }, next: f.base, segment: f.lastSeg, dropped: 10, reason: "removed segment"}
		}},
		{"corrupt segment header", func(t *testing.T, f *damageFixture) want {
			size := f.size(t, f.lastSeg)
			flipByte(t, f.lastSeg, 9) // the base
			return want{lost: func(o uint64) bool { return o >= f.base }, next: f.base, segment: f.lastSeg, dropped: size, reason: "removed segment"}
		}},
		{"segment header of another shard", func(t *testing.T, f *damageFixture) want {
			b := mustReadFile(t, f.lastSeg)
			copy(b, segmentHeader{base: f.base, createdNs: 1, shardIndex: 3}.encode())
			if err := os.WriteFile(f.lastSeg, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return want{lost: func(o uint64) bool { return o >= f.base }, next: f.base, segment: f.lastSeg, dropped: int64(len(b)), reason: "removed segment"}
		}},
		{"index deleted", func(t *testing.T, f *damageFixture) want {
			if err := os.Remove(indexPath(f.segs[1])); err != nil {
				t.Fatal(err)
			}
			return want{lost: func(uint64) bool { return false }, next: uint64(len(f.recs)), segment: indexPath(f.segs[1]), reason: "rebuilt index"}
		}},
		{"index corrupt", func(t *testing.T, f *damageFixture) want {
			flipByte(t, indexPath(f.segs[2]), 20)
			return want{lost: func(uint64) bool { return false }, next: uint64(len(f.recs)), segment: indexPath(f.segs[2]), reason: "rebuilt index"}
		}},
		{"index truncated", func(t *testing.T, f *damageFixture) want {
			truncateTo(t, indexPath(f.segs[0]), 30)
			return want{lost: func(uint64) bool { return false }, next: uint64(len(f.recs)), segment: indexPath(f.segs[0]), reason: "rebuilt index"}
		}},
		{"index of another segment", func(t *testing.T, f *damageFixture) want {
			if err := os.WriteFile(indexPath(f.segs[1]), mustReadFile(t, indexPath(f.segs[0])), 0o644); err != nil {
				t.Fatal(err)
			}
			return want{lost: func(uint64) bool { return false }, next: uint64(len(f.recs)), segment: indexPath(f.segs[1]), reason: "rebuilt index"}
		}},
		{"sealed segment corrupt and its index gone", func(t *testing.T, f *damageFixture) want {
			base, _ := parseSegmentName(filepath.Base(f.segs[1]))
			bad := base + 2
			off := f.offset(base, bad)
			flipByte(t, f.segs[1], off+frameHdrLen+bodyHdrLen+3)
			if err := os.Remove(indexPath(f.segs[1])); err != nil {
				t.Fatal(err)
			}
			end, _ := parseSegmentName(filepath.Base(f.segs[2]))
			return want{lost: func(o uint64) bool { return o >= bad && o < end }, next: uint64(len(f.recs)), segment: f.segs[1], offset: off,
				dropped: f.size(t, f.segs[1]) - off, reason: errBadCRC.Error()}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newDamageFixture(t)
			origIdx := map[string][]byte{}
			for _, p := range f.segs[:len(f.segs)-1] {
				origIdx[p] = mustReadFile(t, indexPath(p))
			}
			w := tc.damage(t, f)

			s, err := Open(f.dir, f.opts)
			if err != nil {
				t.Fatalf("reopen after damage: %v", err)
			}
			defer func() { s.Close() }()
			var want []put
			for o, p := range f.recs {
				if !w.lost(uint64(o)) {
					want = append(want, p)
				}
			}
			// Open repairs nothing: the stream is repaired by the store that
			// becomes its writer. Until then reads skip the damage.
			if reps := s.Repairs(); len(reps) != 0 {
				t.Fatalf("Open repaired %v; only a stream's writer repairs it", reps)
			}
			checkRecords(t, "before the repair", readShard(t, s, "d", ShardID(0), StartingPosition{Type: TrimHorizon}, 7), want)
			if err := s.Own("d"); err != nil {
				t.Fatalf("Own after damage: %v", err)
			}
			reps := s.Repairs()
			if len(reps) != 1 {
				t.Fatalf("Repairs() = %v, want exactly one", reps)
			}
			r := reps[0]
			if r.Stream != "d" || r.Shard != ShardID(0) || r.Segment != filepath.Base(w.segment) ||
				r.Offset != w.offset || r.DroppedBytes != w.dropped || !strings.Contains(r.Reason, w.reason) {
				t.Fatalf("repair %+v, want segment %s offset %d dropped %d reason ~%q", r, filepath.Base(w.segment), w.offset, w.dropped, w.reason)
			}
			if !strings.Contains(r.String(), filepath.Base(w.segment)) {
				t.Fatalf("repair text %q does not name %s", r.String(), filepath.Base(w.segment))
			}
			got := readShard(t, s, "d", ShardID(0), StartingPosition{Type: TrimHorizon}, 7)
			checkRecords(t, "after repair", got, want)
			// Indexes of intact sealed segments are rebuilt exactly as they were.
			for p, idx := range origIdx {
				if _, err := os.Stat(p); err != nil {
					continue
				}
				if p == f.segs[1] && strings.HasPrefix(tc.name, "sealed segment corrupt") {
					continue // truncated: its index describes fewer records now
				}
				if got, err := os.ReadFile(indexPath(p)); err != nil || !bytes.Equal(got, idx) {
					t.Fatalf("index of %s differs from the original after reopen (%v)", filepath.Base(p), err)
				}
			}

			// New puts continue with strictly increasing sequence numbers.
			lastSeq := ""
			if len(want) > 0 {
				lastSeq = want[len(want)-1].seq.String()
			}
			var m model
			for i := range 30 {
				mustPut(t, s, "d", &m, time.Time{}, entry("pk", fmt.Sprintf("new %d", i)))
			}
			for i, p := range m.puts {
				if p.seq.Ordinal != w.next+uint64(i) || p.seq.String() <= lastSeq {
					t.Fatalf("put %d after repair got ordinal %d (%s), want %d after %s", i, p.seq.Ordinal, p.seq, w.next+uint64(i), lastSeq)
				}
				lastSeq = p.seq.String()
			}
			all := append(append([]put(nil), want...), m.puts...)
			checkRecords(t, "after repair and new puts", readShard(t, s, "d", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000), all)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			// The repair was made on disk: the next writer finds nothing to repair.
			s3, err := Open(f.dir, f.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s3.Close()
			if err := s3.Own("d"); err != nil {
				t.Fatal(err)
			}
			if r := s3.Repairs(); len(r) != 0 {
				t.Fatalf("third open repaired again: %v", r)
			}
			checkRecords(t, "third open", readShard(t, s3, "d", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000), all)
		})
	}
}

func TestReadDetectsCorruptSealedSegment(t *testing.T) {
	f := newDamageFixture(t)
	// The index is intact, so Open trusts it and does not scan the segment; the
	// read must find the damage itself and never return the bad record.
	base, _ := parseSegmentName(filepath.Base(f.segs[1]))
	bad := base + 3
	flipByte(t, f.segs[1], f.offset(base, bad)+frameHdrLen+bodyHdrLen+5)
	s := openStore(t, f.dir, f.opts)
	if r := s.Repairs(); len(r) != 0 {
		t.Fatalf("Repairs() = %v", r)
	}
	c, err := s.Position("d", ShardID(0), StartingPosition{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	var readErr error
	for range 100 {
		out, err := s.GetRecords(context.Background(), c, 5)
		if err != nil {
			readErr = err
			break
		}
		got = append(got, out.Records...)
		if len(out.Records) == 0 {
			break
		}
		c = out.Next
	}
	var ce *CorruptionError
	if !errors.As(readErr, &ce) || !errors.Is(readErr, errBadCRC) || ce.Offset != f.offset(base, bad) || ce.Segment != f.segs[1] {
		t.Fatalf("reading across the damage gave %v, want a CorruptionError at %s offset %d", readErr, f.segs[1], f.offset(base, bad))
	}
	checkRecords(t, "before the damage", got, f.recs[:bad])
	// Reading from just after the damaged record must also fail rather than
	// guess where the next frame starts: the damaged frame's length is not trusted.
	c, err = s.Position("d", ShardID(0), StartingPosition{Type: AfterSequenceNumber, SequenceNumber: f.recs[bad].seq.String()})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.GetRecords(context.Background(), c, 10); !errors.As(err, &ce) {
		t.Fatalf("read right after the damage: %d records, %v; want a CorruptionError", len(out.Records), err)
	}
	// Records of later segments are still reachable by position.
	next, _ := parseSegmentName(filepath.Base(f.segs[2]))
	after := readShard(t, s, "d", ShardID(0), StartingPosition{Type: AtSequenceNumber, SequenceNumber: f.recs[next].seq.String()}, 1000)
	checkRecords(t, "after the damaged segment", after, f.recs[next:])
}

// TestStreamLocksAndReadOnly checks write ownership between two writable stores
// on one directory: the second opens, cannot write the stream the first writes
// (ErrLocked naming the stream and the holder's pid, nothing changed), writes
// another stream, and reads both. A read-only store refuses every write.
func TestStreamLocksAndReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, DefaultOptions())
	if err := s.CreateStream("l", 2); err != nil {
		t.Fatal(err)
	}
	var m model
	for i := range 50 {
		mustPut(t, s, "l", &m, time.Time{}, entry(fmt.Sprint(i), "v"))
	}
	if !s.Owns("l") {
		t.Fatal("the creator does not own its stream")
	}
	s2 := openStore(t, dir, DefaultOptions())
	before := snapshotFiles(t, dir)
	_, err := s2.PutRecord(context.Background(), "l", entry("k", "v"))
	wantKind(t, err, ErrLocked, "put to a stream another store writes")
	for _, want := range []string{"stream l ", fmt.Sprintf("pid %d", os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error %q does not say %q", err, want)
		}
	}
	wantKind(t, s2.Own("l"), ErrLocked, "Own of a stream another store writes")
	wantKind(t, s2.SplitShard("l", ShardID(0), "1"), ErrLocked, "split")
	wantKind(t, s2.MergeShards("l", ShardID(0), ShardID(1)), ErrLocked, "merge")
	wantKind(t, s2.UpdateShardCount("l", 3), ErrLocked, "scale")
	wantKind(t, s2.SetRetention("l", 48), ErrLocked, "retention")
	wantKind(t, s2.DeleteStream("l"), ErrLocked, "delete")
	if s2.Owns("l") {
		t.Fatal("a store that failed to lock a stream says it owns it")
	}
	if after := snapshotFiles(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("failed writes changed files:\n%v\n%v", before, after)
	}
	checkAll(t, s2, "l", &m) // reads work beside the writer

	// Another stream is the second store's to write, and not the first's.
	if err := s2.CreateStream("m", 1); err != nil {
		t.Fatal(err)
	}
	var mm model
	mustPut(t, s2, "m", &mm, time.Time{}, entry("k", "in m"))
	_, err = s.PutRecord(context.Background(), "m", entry("k", "v"))
	wantKind(t, err, ErrLocked, "the first store's put to the second's stream")
	if err := s.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s, "m", &mm)

	ro := DefaultOptions()
	ro.ReadOnly = true
	r := openStore(t, dir, ro)
	checkAll(t, r, "l", &m)
	_, err = r.PutRecord(context.Background(), "l", entry("k", "v"))
	wantKind(t, err, ErrReadOnly, "put on a read-only store")
	wantKind(t, r.CreateStream("n", 1), ErrReadOnly, "create on a read-only store")
	wantKind(t, r.DeleteStream("l"), ErrReadOnly, "delete on a read-only store")
	wantKind(t, r.SetRetention("l", 48), ErrReadOnly, "retention on a read-only store")
	wantKind(t, r.SplitShard("l", ShardID(0), "1"), ErrReadOnly, "split on a read-only store")
	wantKind(t, r.Own("l"), ErrReadOnly, "Own on a read-only store")
	_, err = r.EnforceRetention()
	wantKind(t, err, ErrReadOnly, "EnforceRetention on a read-only store")

	// Once the writer closes, the other store may write its stream.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s2, "l", &m, time.Time{}, entry("after", "close"))
	checkAll(t, s2, "l", &m)
}

// snapshotFiles returns every file under dir with its contents.
func snapshotFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out[p] = string(mustReadFile(t, p))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWritableOpenChangesNothing opens a damaged directory for writing: Open
// loads it as a reader would, changing no file but creating the data dir's LOCK.
func TestWritableOpenChangesNothing(t *testing.T) {
	f := newDamageFixture(t)
	truncateTo(t, f.lastSeg, f.size(t, f.lastSeg)-3)
	if err := os.Remove(indexPath(f.segs[0])); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(f.dir, "streams", "d.stream", ShardID(9))
	if err := os.MkdirAll(orphan, 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshotFiles(t, f.dir)
	s := openStore(t, f.dir, f.opts)
	checkRecords(t, "beside the damage", readShard(t, s, "d", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000), f.recs[:len(f.recs)-1])
	if err := s.Refresh(); err != nil {
		t.Fatal(err)
	}
	after := snapshotFiles(t, f.dir)
	delete(before, filepath.Join(f.dir, "LOCK"))
	delete(after, filepath.Join(f.dir, "LOCK"))
	if fmt.Sprint(after) != fmt.Sprint(before) {
		for p := range after {
			if after[p] != before[p] {
				t.Errorf("changed: %s", p)
			}
		}
		for p := range before {
			if _, ok := after[p]; !ok {
				t.Errorf("removed: %s", p)
			}
		}
		t.Fatal("a writable Open changed files of a stream it did not write")
	}
	if r := s.Repairs(); len(r) != 0 || !exists(orphan) {
		t.Fatalf("a writable Open repaired %v", r)
	}
}

func TestReadOnlyOpenChangesNothing(t *testing.T) {
	f := newDamageFixture(t)
	truncateTo(t, f.lastSeg, f.size(t, f.lastSeg)-3)
	if err := os.Remove(indexPath(f.segs[0])); err != nil {
		t.Fatal(err)
	}
	snapshot := func() map[string]string {
		out := map[string]string{}
		filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Base(p) != "LOCK" {
				out[p] = string(mustReadFile(t, p))
			}
			return nil
		})
		return out
	}
	before := snapshot()
	ro := f.opts
	ro.ReadOnly = true
	r := openStore(t, f.dir, ro)
	got := readShard(t, r, "d", ShardID(0), StartingPosition{Type: TrimHorizon}, 1000)
	checkRecords(t, "read-only", got, f.recs[:len(f.recs)-1])
	r.Close()
	after := snapshot()
	if len(before) != len(after) {
		t.Fatalf("a read-only open changed the set of files: %d -> %d", len(before), len(after))
	}
	for p, b := range before {
		if after[p] != b {
			t.Fatalf("a read-only open changed %s", p)
		}
	}
}

func TestInterruptedOperationsAreCleanedUp(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStream("c", 1); err != nil {
		t.Fatal(err)
	}
	var m model
	mustPut(t, s, "c", &m, time.Time{}, entry("k", "v1"), entry("k", "v2"))
	s.Close()
	streams := filepath.Join(dir, "streams")
	leftovers := []string{
		filepath.Join(streams, ".tmp-123"),     // a create cut short
		filepath.Join(streams, ".deleted-456"), // a delete cut short
	}
	orphan := filepath.Join(streams, "c.stream", "shardId-000000000007") // a reshard cut short
	for _, p := range append(leftovers, orphan) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "junk"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A create in progress in another process: its temp dir's LOCK is held.
	busy := filepath.Join(streams, ".tmp-busy")
	if err := os.Mkdir(busy, 0o755); err != nil {
		t.Fatal(err)
	}
	busyLock, err := lockNewStream(busy)
	if err != nil {
		t.Fatal(err)
	}
	defer busyLock.Close()
	tmpIdx := filepath.Join(streams, "c.stream", ShardID(0), ".00000000000000000000.idx.tmp-99")
	if err := os.WriteFile(tmpIdx, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}

	// With the default minimum age, fresh leftovers may be work in progress.
	s1 := openStore(t, dir, DefaultOptions())
	for _, p := range append(leftovers, busy) {
		if !exists(p) {
			t.Errorf("Open removed %s, which changed a moment ago", p)
		}
	}
	s1.Close()

	opts := DefaultOptions()
	opts.leftoverAge = -1
	s2 := openStore(t, dir, opts)
	for _, p := range leftovers {
		if exists(p) {
			t.Errorf("%s survived Open", p)
		}
	}
	if !exists(busy) {
		t.Error("Open removed the temp dir of a create in progress")
	}
	// Only the stream's writer removes what an interrupted reshard left.
	if !exists(orphan) || !exists(tmpIdx) || len(s2.Repairs()) != 0 {
		t.Fatalf("Open repaired stream c (%v) before writing it", s2.Repairs())
	}
	if got := s2.ListStreams(); len(got) != 1 || got[0] != "c" {
		t.Fatalf("ListStreams = %v", got)
	}
	checkAll(t, s2, "c", &m)
	mustPut(t, s2, "c", &m, time.Time{}, entry("k", "v3"))
	for _, p := range []string{orphan, tmpIdx} {
		if exists(p) {
			t.Errorf("%s survived the writer's reload", p)
		}
	}
	reps := s2.Repairs()
	if len(reps) != 1 || !strings.Contains(reps[0].String(), "shardId-000000000007") {
		t.Fatalf("Repairs() = %v, want the removed shard directory", reps)
	}
	checkAll(t, s2, "c", &m)
}

// TestOpenFailsCleanly opens a data dir whose second stream has unreadable
// metadata: Open must fail naming the file, release the lock and leave no file
// of the first stream open.
func TestOpenFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if err := s.CreateStream(n, 2); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, n, nil, time.Time{}, entry("x", "1"), entry("y", "2"), entry("z", "3"))
	}
	s.Close()
	metaPath := filepath.Join(dir, "streams", "b.stream", metaFile)
	if err := os.WriteFile(metaPath, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	openFDs := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd")
		}
		return len(ents)
	}
	before := openFDs()
	for range 3 {
		_, err := Open(dir, DefaultOptions())
		if err == nil || errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), metaPath) {
			t.Fatalf("Open with bad metadata: %v; want an error naming %s", err, metaPath)
		}
	}
	if after := openFDs(); after != before {
		t.Fatalf("failed Opens left %d files open", after-before)
	}
}
