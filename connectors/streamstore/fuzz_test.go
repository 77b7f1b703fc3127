package streamstore

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// The fuzz targets check the decoders against an independent reading of the
// format (FORMAT.md): lengths and CRC-32C recomputed here with hash/crc32, never
// through the package's helpers.

var fuzzCRCTable = crc32.MakeTable(crc32.Castagnoli)

// buildSegment makes a valid segment of n records with sizes drawn from seed, and
// returns it with the end offset of every frame.
func buildSegment(seed uint64, n int, base uint64) ([]byte, []int) {
	r := rand.New(rand.NewPCG(seed, 99))
	b := segmentHeader{base: base, createdNs: 1_700_000_000_000_000_000, shardIndex: 2}.encode()
	arrival := int64(1_700_000_000_000_000_000)
	var ends []int
	for i := range n {
		key := make([]byte, 1+r.IntN(8))
		for j := range key {
			key[j] = 'a' + byte(r.IntN(26))
		}
		data := make([]byte, r.IntN(300))
		for j := range data {
			data[j] = byte(r.IntN(256))
		}
		arrival += int64(r.IntN(3)) * 1000
		b = appendFrame(b, base+uint64(i), arrival, string(key), data)
		ends = append(ends, len(b))
	}
	return b, ends
}

// checkScan verifies a scan result independently: every frame of the good prefix
// has a length in range and a CRC that hash/crc32 confirms, ordinals follow the
// header's base, arrivals never decrease, and the sparse index points at the
// right frames.
func checkScan(t *testing.T, b []byte, res scanResult) {
	t.Helper()
	if res.stats.size == 0 {
		if res.err == nil {
			t.Fatal("scan of a bad header returned no error")
		}
		if res.stats.count != 0 {
			t.Fatalf("bad header but %d records", res.stats.count)
		}
		return
	}
	if len(b) < segmentHdrLen || string(b[:6]) != "EDDYSG" ||
		crc32.Checksum(b[:28], fuzzCRCTable) != binary.LittleEndian.Uint32(b[28:32]) {
		t.Fatal("scan accepted a header whose magic or CRC is wrong")
	}
	base := binary.LittleEndian.Uint64(b[8:])
	if res.stats.size > int64(len(b)) || (res.err == nil) != (res.stats.size == int64(len(b))) {
		t.Fatalf("scan stopped at %d of %d bytes with error %v", res.stats.size, len(b), res.err)
	}
	off := int64(segmentHdrLen)
	var count uint64
	var lastArrival int64
	for off < res.stats.size {
		bodyLen := int64(binary.LittleEndian.Uint32(b[off:]))
		if bodyLen < 18 || bodyLen > 1<<20+1024 || off+8+bodyLen > res.stats.size {
			t.Fatalf("frame at %d has length %d: scan should have stopped there", off, bodyLen)
		}
		body := b[off+8 : off+8+bodyLen]
		if crc32.Checksum(body, fuzzCRCTable) != binary.LittleEndian.Uint32(b[off+4:]) {
			t.Fatalf("scan accepted the frame at %d whose CRC fails", off)
		}
		if ord := binary.LittleEndian.Uint64(body); ord != base+count {
			t.Fatalf("frame at %d has ordinal %d, want %d", off, ord, base+count)
		}
		arrival := int64(binary.LittleEndian.Uint64(body[8:]))
		if count > 0 && arrival < lastArrival {
			t.Fatalf("frame at %d goes back in time", off)
		}
		if int(binary.LittleEndian.Uint16(body[16:]))+18 > int(bodyLen) {
			t.Fatalf("frame at %d has a key longer than its body", off)
		}
		if count%sparseEvery == 0 {
			e := res.stats.sparse[count/sparseEvery]
			if e.pos != count || e.offset != off || e.arrivalNs != arrival {
				t.Fatalf("sparse entry %d = %+v, want pos %d offset %d arrival %d", count/sparseEvery, e, count, off, arrival)
			}
		}
		if count == 0 && res.stats.minArrival != arrival {
			t.Fatalf("minArrival %d, first frame %d", res.stats.minArrival, arrival)
		}
		lastArrival = arrival
		count++
		off += 8 + bodyLen
	}
	if off != res.stats.size || count != res.stats.count {
		t.Fatalf("independent walk found %d frames ending at %d; scan says %d ending at %d", count, off, res.stats.count, res.stats.size)
	}
	if uint64(len(res.stats.sparse)) != (count+sparseEvery-1)/sparseEvery {
		t.Fatalf("%d sparse entries for %d records", len(res.stats.sparse), count)
	}
	if count > 0 && res.stats.maxArrival != lastArrival {
		t.Fatalf("maxArrival %d, last frame %d", res.stats.maxArrival, lastArrival)
	}
	// A sealed segment's index of these stats decodes back to them.
	st, err := decodeIndex(encodeIndex(base, res.stats), base, res.stats.size)
	if err != nil || st.count != res.stats.count || len(st.sparse) != len(res.stats.sparse) {
		t.Fatalf("index round trip: %+v, %v", st, err)
	}
}

func FuzzScanSegment(f *testing.F) {
	for _, n := range []int{0, 1, 3, 70, 130} {
		seg, ends := buildSegment(uint64(n), n, uint64(n)*1000)
		f.Add(seg)
		for _, e := range ends {
			f.Add(seg[:e-1]) // every frame torn
		}
		f.Add(append(bytes.Clone(seg), 0, 0, 0, 0, 0, 0, 0, 0, 0))
	}
	f.Add([]byte{})
	f.Add([]byte("EDDYSG"))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkScan(t, b, scanSegment(b))
	})
}

// FuzzSegmentDamage truncates and flips bytes in valid segments: the scan must
// keep exactly the frames that lie wholly before the first damaged byte.
func FuzzSegmentDamage(f *testing.F) {
	f.Add(uint64(1), uint8(10), uint32(500), uint32(100), uint8(1))
	f.Add(uint64(2), uint8(70), uint32(1<<20), uint32(40), uint8(0x80))
	f.Add(uint64(3), uint8(5), uint32(33), uint32(0), uint8(0))
	f.Add(uint64(4), uint8(130), uint32(9000), uint32(3), uint8(0xff))
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, cut, flipAt uint32, mask uint8) {
		seg, ends := buildSegment(seed, int(n%150), 7)
		c := int(cut % uint32(len(seg)+1))
		damaged := c
		if mask != 0 {
			p := int(flipAt % uint32(len(seg)))
			seg[p] ^= mask
			damaged = min(damaged, p)
		}
		seg = seg[:c]
		res := scanSegment(seg)
		checkScan(t, seg, res)
		want := uint64(0)
		for _, e := range ends {
			if e <= damaged {
				want++
			}
		}
		if damaged < segmentHdrLen && res.stats.size != 0 {
			t.Fatalf("damage at %d in the header, but scan kept %d bytes", damaged, res.stats.size)
		}
		if res.stats.count != want {
			t.Fatalf("damage at byte %d (cut %d, flip mask %#x): scan kept %d frames, want %d", damaged, c, mask, res.stats.count, want)
		}
	})
}

func FuzzDecodeFrame(f *testing.F) {
	seg, ends := buildSegment(5, 5, 0)
	start := segmentHdrLen
	for _, e := range ends {
		f.Add(seg[start:e])
		f.Add(seg[start : e-1])
		f.Add(seg[start:])
		start = e
	}
	f.Add(appendFrame(nil, math.MaxUint64, -1, "", nil))
	f.Add([]byte{18, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := decodeFrame(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with length %d", err, n)
			}
			return
		}
		if n < 8+18 || n > len(b) || n != 8+int(binary.LittleEndian.Uint32(b)) {
			t.Fatalf("decoded a frame of length %d from %d bytes (length field %d)", n, len(b), binary.LittleEndian.Uint32(b))
		}
		if crc32.Checksum(b[8:n], fuzzCRCTable) != binary.LittleEndian.Uint32(b[4:]) {
			t.Fatal("decodeFrame returned a frame whose CRC fails")
		}
		if re := appendFrame(nil, fr.ordinal, fr.arrivalNs, string(fr.key), fr.data); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding the decoded frame gives different bytes")
		}
	})
}

func validIndexSeeds() [][]byte {
	var out [][]byte
	for _, n := range []int{0, 1, 64, 65, 200} {
		seg, _ := buildSegment(uint64(n), n, 42)
		res := scanSegment(seg)
		out = append(out, encodeIndex(42, res.stats))
	}
	return out
}

// FuzzDecodeIndex feeds arbitrary bytes; a decoded index must re-encode to the
// same bytes, so nothing is silently reinterpreted.
func FuzzDecodeIndex(f *testing.F) {
	for _, b := range validIndexSeeds() {
		f.Add(b, uint64(42), int64(binary.LittleEndian.Uint64(b[24:])))
	}
	f.Fuzz(func(t *testing.T, b []byte, base uint64, size int64) {
		st, err := decodeIndex(b, base, size)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeIndex(base, st), b) {
			t.Fatal("decoded index re-encodes differently")
		}
		checkIndexConsistent(t, st, size)
	})
}

// FuzzDecodeIndexBody fixes up the CRC so that the fuzzer explores the structure
// of the index rather than its checksum: whatever decodes must describe a
// possible segment.
func FuzzDecodeIndexBody(f *testing.F) {
	for _, b := range validIndexSeeds() {
		f.Add(b[:len(b)-4], int64(binary.LittleEndian.Uint64(b[24:])))
	}
	f.Fuzz(func(t *testing.T, body []byte, size int64) {
		b := binary.LittleEndian.AppendUint32(bytes.Clone(body), crc32.Checksum(body, fuzzCRCTable))
		base := uint64(0)
		if len(b) >= 16 {
			base = binary.LittleEndian.Uint64(b[8:])
		}
		st, err := decodeIndex(b, base, size)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeIndex(base, st), b) {
			t.Fatal("decoded index re-encodes differently")
		}
		checkIndexConsistent(t, st, size)
	})
}

func checkIndexConsistent(t *testing.T, st segmentStats, size int64) {
	t.Helper()
	if st.size != size || size < 32 || st.count > uint64(size-32)/26 || uint64(len(st.sparse)) != (st.count+sparseEvery-1)/sparseEvery {
		t.Fatalf("index of %d records, %d entries, size %d accepted for a segment of %d bytes", st.count, len(st.sparse), st.size, size)
	}
	if st.count > 0 && st.minArrival > st.maxArrival {
		t.Fatalf("arrivals %d > %d", st.minArrival, st.maxArrival)
	}
	for i, e := range st.sparse {
		if e.pos != uint64(i)*sparseEvery || e.offset < segmentHdrLen || e.offset >= size ||
			e.arrivalNs < st.minArrival || e.arrivalNs > st.maxArrival {
			t.Fatalf("entry %d %+v does not fit a segment of %d bytes, arrivals %d..%d", i, e, size, st.minArrival, st.maxArrival)
		}
		if i == 0 && e.arrivalNs != st.minArrival {
			t.Fatalf("first entry arrival %d, minArrival %d", e.arrivalNs, st.minArrival)
		}
		if i > 0 && (e.offset <= st.sparse[i-1].offset || e.arrivalNs < st.sparse[i-1].arrivalNs) {
			t.Fatalf("entry %d %+v does not follow %+v", i, e, st.sparse[i-1])
		}
	}
}

func FuzzParseSequenceNumber(f *testing.F) {
	f.Add(SequenceNumber{Epoch: 1700000000000, Shard: 3, Ordinal: 12, ArrivalMicros: 1700000000000001}.String())
	f.Add(SequenceNumber{Ordinal: math.MaxUint64}.String())
	f.Add("4" + "99999999999999999999999999999999999999999999999999999")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		sn, err := ParseSequenceNumber(s)
		ok := len(s) == 56 && s[0] == '4'
		for i := 0; ok && i < len(s); i++ {
			ok = s[i] >= '0' && s[i] <= '9'
		}
		if ok {
			ord, _ := new(big.Int).SetString(s[20:40], 10)
			ok = ord.IsUint64()
		}
		if ok != (err == nil) {
			t.Fatalf("ParseSequenceNumber(%q) error %v; want ok=%v", s, err, ok)
		}
		if err == nil && sn.String() != s {
			t.Fatalf("ParseSequenceNumber(%q).String() = %q", s, sn.String())
		}
	})
}

func FuzzParseHashKey(f *testing.F) {
	for _, s := range []string{"0", "1", "340282366920938463463374607431768211455", "340282366920938463463374607431768211456", "-1", "12a", "007"} {
		f.Add(s)
	}
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseHashKey(s)
		ok := len(s) >= 1 && len(s) <= 39
		for i := 0; ok && i < len(s); i++ {
			ok = s[i] >= '0' && s[i] <= '9'
		}
		var want *big.Int
		if ok {
			want, _ = new(big.Int).SetString(s, 10)
			ok = want.Cmp(max) <= 0
		}
		if ok != (err == nil) {
			t.Fatalf("ParseHashKey(%q) error %v; want ok=%v", s, err, ok)
		}
		if err == nil {
			got, _ := new(big.Int).SetString(k.String(), 10)
			if got.Cmp(want) != 0 || k.String() != want.String() {
				t.Fatalf("ParseHashKey(%q) = %s", s, k)
			}
			if _, err := strconv.ParseUint(s, 10, 64); err == nil && (k.Hi != 0 || strconv.FormatUint(k.Lo, 10) != want.String()) {
				t.Fatalf("ParseHashKey(%q) = %+v", s, k)
			}
		}
	})
}

// TestDecodeIndexRejectsImpossible crafts indexes whose CRC is right but whose
// contents cannot describe their segment; each must be refused so that the
// segment is scanned instead.
func TestDecodeIndexRejectsImpossible(t *testing.T) {
	seg, _ := buildSegment(9, 130, 42)
	res := scanSegment(seg)
	size := int64(len(seg))
	good := encodeIndex(42, res.stats)
	if _, err := decodeIndex(good, 42, size); err != nil {
		t.Fatalf("valid index refused: %v", err)
	}
	reseal := func(b []byte) []byte {
		b = bytes.Clone(b[:len(b)-4])
		return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, fuzzCRCTable))
	}
	set := func(off int, v uint64) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint64(b[off:], v)
		return reseal(b)
	}
	entry := func(i, field int) int { return indexHdrLen + i*indexEntryLen + field*8 }
	for name, b := range map[string][]byte{
		"count wraps the entry count": func() []byte {
			st := res.stats
			st.count, st.sparse = math.MaxUint64, nil
			return encodeIndex(42, st)
		}(),
		"more records than bytes":  set(16, uint64(size)),
		"entry position":           set(entry(1, 0), 63),
		"entry offset past end":    set(entry(2, 1), uint64(size)),
		"entry offset in header":   set(entry(0, 1), 8),
		"entry offset goes back":   set(entry(2, 1), binary.LittleEndian.Uint64(good[entry(1, 1):])),
		"entry arrival before min": set(entry(1, 2), 5),
		"min after max":            set(32, binary.LittleEndian.Uint64(good[40:])+1),
		"wrong base":               set(8, 41),
		"stale size":               set(24, uint64(size-1)),
		"bad checksum":             append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1),
	} {
		if _, err := decodeIndex(b, 42, size); err == nil {
			t.Errorf("%s: decodeIndex accepted it", name)
		}
	}
}
