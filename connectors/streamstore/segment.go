package streamstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"
)

// The on-disk layout is described in FORMAT.md beside this file.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	segmentMagic   = "EDDYSG"
	segmentVersion = 1
	segmentHdrLen  = 32
	segmentExt     = ".seg"
	indexExt       = ".idx"

	frameHdrLen = 8            // body length + CRC32C
	bodyHdrLen  = 8 + 8 + 2    // ordinal, arrival nanos, partition key length
	maxFrameLen = 1<<20 + 1024 // a record's data+key is at most 1 MiB; keys are at most 1 KiB in UTF-8

	// sparseEvery is the spacing of the in-memory and on-disk index: one entry
	// (ordinal, offset, arrival) every sparseEvery records.
	sparseEvery = 64
)

var (
	errShortFrame = errors.New("frame extends past the end of the data")
	errBadLength  = errors.New("frame length out of range")
	errBadCRC     = errors.New("frame checksum mismatch")
	errBadOrdinal = errors.New("frame ordinal out of sequence")
	errBadArrival = errors.New("frame arrival time goes backwards")
)

// segmentHeader opens every segment file.
type segmentHeader struct {
	base       uint64 // ordinal of the first record in the segment
	createdNs  int64
	shardIndex uint32
}

func (h segmentHeader) encode() []byte {
	b := make([]byte, segmentHdrLen)
	copy(b, segmentMagic)
	binary.LittleEndian.PutUint16(b[6:], segmentVersion)
	binary.LittleEndian.PutUint64(b[8:], h.base)
	binary.LittleEndian.PutUint64(b[16:], uint64(h.createdNs))
	binary.LittleEndian.PutUint32(b[24:], h.shardIndex)
	binary.LittleEndian.PutUint32(b[28:], crc32.Checksum(b[:28], castagnoli))
	return b
}

func decodeSegmentHeader(b []byte) (segmentHeader, error) {
	if len(b) < segmentHdrLen {
		return segmentHeader{}, fmt.Errorf("segment header: %w", errShortFrame)
	}
	if string(b[:6]) != segmentMagic {
		return segmentHeader{}, errors.New("segment header: bad magic")
	}
	if v := binary.LittleEndian.Uint16(b[6:]); v != segmentVersion {
		return segmentHeader{}, fmt.Errorf("segment header: unsupported version %d", v)
	}
	if crc32.Checksum(b[:28], castagnoli) != binary.LittleEndian.Uint32(b[28:]) {
		return segmentHeader{}, fmt.Errorf("segment header: %w", errBadCRC)
	}
	return segmentHeader{
		base:       binary.LittleEndian.Uint64(b[8:]),
		createdNs:  int64(binary.LittleEndian.Uint64(b[16:])),
		shardIndex: binary.LittleEndian.Uint32(b[24:]),
	}, nil
}

// frame is one decoded record. Key and Data alias the buffer it was decoded from.
type frame struct {
	ordinal   uint64
	arrivalNs int64
	key       []byte
	data      []byte
}

func frameLen(keyLen, dataLen int) int { return frameHdrLen + bodyHdrLen + keyLen + dataLen }

// appendFrame encodes one record onto dst.
func appendFrame(dst []byte, ordinal uint64, arrivalNs int64, key string, data []byte) []byte {
	bodyLen := bodyHdrLen + len(key) + len(data)
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(bodyLen))
	dst = binary.LittleEndian.AppendUint32(dst, 0) // CRC, filled below
	body := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, ordinal)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(arrivalNs))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(key)))
	dst = append(dst, key...)
	dst = append(dst, data...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[body:], castagnoli))
	return dst
}

// decodeFrame decodes the frame at the start of b and returns it with its length.
// It returns errShortFrame when b ends inside the frame, and errBadLength or
// errBadCRC when the frame is damaged; it never returns a frame whose CRC fails.
func decodeFrame(b []byte) (frame, int, error) {
	if len(b) < frameHdrLen {
		return frame{}, 0, errShortFrame
	}
	bodyLen := int(binary.LittleEndian.Uint32(b))
	if bodyLen < bodyHdrLen || bodyLen > maxFrameLen {
		return frame{}, 0, errBadLength
	}
	if len(b) < frameHdrLen+bodyLen {
		return frame{}, 0, errShortFrame
	}
	body := b[frameHdrLen : frameHdrLen+bodyLen]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return frame{}, 0, errBadCRC
	}
	keyLen := int(binary.LittleEndian.Uint16(body[16:]))
	if bodyHdrLen+keyLen > bodyLen {
		return frame{}, 0, errBadLength
	}
	return frame{
		ordinal:   binary.LittleEndian.Uint64(body),
		arrivalNs: int64(binary.LittleEndian.Uint64(body[8:])),
		key:       body[bodyHdrLen : bodyHdrLen+keyLen],
		data:      body[bodyHdrLen+keyLen:],
	}, frameHdrLen + bodyLen, nil
}

// indexEntry locates one record: its position in the segment, byte offset and arrival time.
type indexEntry struct {
	pos       uint64 // ordinal - segment base
	offset    int64
	arrivalNs int64
}

// segmentStats is what the store knows about a segment's durable contents.
type segmentStats struct {
	count      uint64 // records
	size       int64  // bytes, header included; the end of the last durable frame
	minArrival int64
	maxArrival int64
	sparse     []indexEntry // every sparseEvery-th record from base
}

// scanResult is the outcome of scanning a segment's bytes.
type scanResult struct {
	header segmentHeader
	stats  segmentStats
	// err is nil when the scan reached the end of the data cleanly; otherwise
	// it is the reason the frame at stats.size could not be used.
	err error
}

// scanSegment validates a whole segment held in b: the header, then every frame in
// order, checking length, CRC, consecutive ordinals and non-decreasing arrival. It
// stops at the first bad frame; stats describe the good prefix.
func scanSegment(b []byte) scanResult {
	h, err := decodeSegmentHeader(b)
	if err != nil {
		return scanResult{err: err}
	}
	res := scanResult{header: h, stats: segmentStats{size: segmentHdrLen}}
	res.err = scanFrames(b[segmentHdrLen:], h.base, &res.stats)
	return res
}

// scanFrames continues a scan: tail holds the segment's bytes from stats.size on.
// It adds every good frame to stats and returns why it stopped early, if it did.
func scanFrames(tail []byte, base uint64, stats *segmentStats) error {
	start := stats.size
	off := 0
	for off < len(tail) {
		f, n, err := decodeFrame(tail[off:])
		if err == nil && f.ordinal != base+stats.count {
			err = errBadOrdinal
		}
		if err == nil && stats.count > 0 && f.arrivalNs < stats.maxArrival {
			err = errBadArrival
		}
		if err != nil {
			return err
		}
		stats.add(f.ordinal-base, start+int64(off), f.arrivalNs)
		off += n
		stats.size = start + int64(off)
	}
	return nil
}

// add accounts one record at position pos (ordinal - base) and offset off.
func (s *segmentStats) add(pos uint64, off int64, arrivalNs int64) {
	if pos%sparseEvery == 0 {
		s.sparse = append(s.sparse, indexEntry{pos: pos, offset: off, arrivalNs: arrivalNs})
	}
	if s.count == 0 {
		s.minArrival = arrivalNs
	}
	s.maxArrival = arrivalNs
	s.count++
}

func segmentName(base uint64) string { return fmt.Sprintf("%020d%s", base, segmentExt) }

func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	return v, err == nil
}

const (
	indexMagic    = "EDDYIX01"
	indexHdrLen   = 8 + 8 + 8 + 8 + 8 + 8 + 4
	indexEntryLen = 24
)

// encodeIndex writes the sparse index of a sealed segment. Entry ordinals are
// stored relative to the base so the file is independent of the shard.
func encodeIndex(base uint64, st segmentStats) []byte {
	b := make([]byte, 0, indexHdrLen+len(st.sparse)*indexEntryLen+4)
	b = append(b, indexMagic...)
	b = binary.LittleEndian.AppendUint64(b, base)
	b = binary.LittleEndian.AppendUint64(b, st.count)
	b = binary.LittleEndian.AppendUint64(b, uint64(st.size))
	b = binary.LittleEndian.AppendUint64(b, uint64(st.minArrival))
	b = binary.LittleEndian.AppendUint64(b, uint64(st.maxArrival))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(st.sparse)))
	for _, e := range st.sparse {
		b = binary.LittleEndian.AppendUint64(b, e.pos)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.offset))
		b = binary.LittleEndian.AppendUint64(b, uint64(e.arrivalNs))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeIndex reads an index file; any damage or mismatch is an error, and the
// caller then rebuilds the index by scanning the segment (the index is a cache).
func decodeIndex(b []byte, wantBase uint64, wantSize int64) (segmentStats, error) {
	if len(b) < indexHdrLen+4 || string(b[:8]) != indexMagic {
		return segmentStats{}, errors.New("index: bad header")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return segmentStats{}, errors.New("index: checksum mismatch")
	}
	base := binary.LittleEndian.Uint64(b[8:])
	st := segmentStats{
		count:      binary.LittleEndian.Uint64(b[16:]),
		size:       int64(binary.LittleEndian.Uint64(b[24:])),
		minArrival: int64(binary.LittleEndian.Uint64(b[32:])),
		maxArrival: int64(binary.LittleEndian.Uint64(b[40:])),
	}
	n := int(binary.LittleEndian.Uint32(b[48:]))
	// Every record takes at least a frame header and a body header; this also
	// keeps the entry count computation below from overflowing.
	if st.size < segmentHdrLen || st.count > uint64(st.size-segmentHdrLen)/(frameHdrLen+bodyHdrLen) {
		return segmentStats{}, errors.New("index: does not match its segment")
	}
	if base != wantBase || st.size != wantSize || len(body) != indexHdrLen+n*indexEntryLen ||
		uint64(n) != (st.count+sparseEvery-1)/sparseEvery {
		return segmentStats{}, errors.New("index: does not match its segment")
	}
	if st.count > 0 && st.minArrival > st.maxArrival {
		return segmentStats{}, errors.New("index: does not match its segment")
	}
	st.sparse = make([]indexEntry, n)
	for i := range n {
		e := body[indexHdrLen+i*indexEntryLen:]
		ie := indexEntry{
			pos:       binary.LittleEndian.Uint64(e),
			offset:    int64(binary.LittleEndian.Uint64(e[8:])),
			arrivalNs: int64(binary.LittleEndian.Uint64(e[16:])),
		}
		// Reads trust these offsets, so an entry that cannot describe this
		// segment makes the whole index unusable rather than misread.
		ok := ie.pos == uint64(i)*sparseEvery && ie.offset >= segmentHdrLen && ie.offset < st.size &&
			ie.arrivalNs >= st.minArrival && ie.arrivalNs <= st.maxArrival
		if i == 0 {
			ok = ok && ie.arrivalNs == st.minArrival
		} else {
			prev := st.sparse[i-1]
			ok = ok && ie.offset > prev.offset && ie.arrivalNs >= prev.arrivalNs
		}
		if !ok {
			return segmentStats{}, fmt.Errorf("index: entry %d does not fit its segment", i)
		}
		st.sparse[i] = ie
	}
	return st, nil
}

// readFull reads a whole file into memory.
func readFull(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
