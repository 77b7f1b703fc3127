package layout

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
)

// readSnappyJava decodes the snappy-java (xerial) stream format: the 16-byte
// header, then blocks of a 32-bit big-endian compressed length and a raw
// Snappy block. Written from the format's description, apart from the
// writer.
func readSnappyJava(data []byte) ([]byte, error) {
	magic := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}
	if len(data) < 16 || !bytes.Equal(data[:8], magic) {
		return nil, errors.New("no snappy-java magic")
	}
	if v, c := binary.BigEndian.Uint32(data[8:12]), binary.BigEndian.Uint32(data[12:16]); v != 1 || c != 1 {
		return nil, fmt.Errorf("version %d, compatible version %d", v, c)
	}
	var out []byte
	for rest := data[16:]; len(rest) > 0; {
		if len(rest) < 4 {
			return nil, errors.New("truncated block length")
		}
		n := int(binary.BigEndian.Uint32(rest))
		if len(rest) < 4+n {
			return nil, errors.New("truncated block")
		}
		block, err := snappy.Decode(nil, rest[4:4+n])
		if err != nil {
			return nil, err
		}
		out = append(out, block...)
		rest = rest[4+n:]
	}
	return out, nil
}

// readHadoopSnappy decodes Hadoop's BlockCompressorStream framing: per block
// the uncompressed length, then chunks of compressed length and raw Snappy
// data until the block's bytes are all there.
func readHadoopSnappy(data []byte) ([]byte, error) {
	var out []byte
	for rest := data; len(rest) > 0; {
		if len(rest) < 4 {
			return nil, errors.New("truncated block length")
		}
		want := int(binary.BigEndian.Uint32(rest))
		rest = rest[4:]
		var block []byte
		for len(block) < want {
			if len(rest) < 4 {
				return nil, errors.New("truncated chunk length")
			}
			n := int(binary.BigEndian.Uint32(rest))
			if n == 0 || len(rest) < 4+n {
				return nil, errors.New("bad chunk")
			}
			chunk, err := snappy.Decode(nil, rest[4:4+n])
			if err != nil {
				return nil, err
			}
			block = append(block, chunk...)
			rest = rest[4+n:]
		}
		if len(block) != want {
			return nil, fmt.Errorf("block holds %d bytes, header says %d", len(block), want)
		}
		if want > 256<<10 {
			return nil, fmt.Errorf("block of %d bytes exceeds Hadoop's default 256 KiB buffer", want)
		}
		out = append(out, block...)
	}
	return out, nil
}

func readGzip(data []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

const testEntryName = "0b4e1a1c-5c39-4d2e-9f1a-2c3d4e5f6a7b"

func readZip(data []byte) ([]byte, error) {
	r, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	if len(r.File) != 1 || r.File[0].Name != testEntryName || r.File[0].Method != zip.Deflate {
		return nil, fmt.Errorf("want one deflated entry %s, got %d entries", testEntryName, len(r.File))
	}
	f, err := r.File[0].Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

var readers = map[Compression]func([]byte) ([]byte, error){
	Uncompressed: func(b []byte) ([]byte, error) { return b, nil },
	Gzip:         readGzip,
	Zip:          readZip,
	Snappy:       readSnappyJava,
	HadoopSnappy: readHadoopSnappy,
}

func testPayloads(r *rand.Rand) map[string][]byte {
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	text := bytes.Repeat([]byte(`{"ticker":"AMZN","price":181.5}`+"\n"), 7000) // compressible, ~220 KB
	return map[string][]byte{
		"empty":          nil,
		"one byte":       {'x'},
		"block minus 1":  random(snappyBlockSize - 1),
		"exact block":    random(snappyBlockSize),
		"block plus 1":   random(snappyBlockSize + 1),
		"many blocks":    random(5*snappyBlockSize + 123),
		"compressible":   text,
		"incompressible": random(100_000),
	}
}

func TestCompressionRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for name, payload := range testPayloads(r) {
		for format, read := range readers {
			t.Run(fmt.Sprintf("%s/%s", format, name), func(t *testing.T) {
				var buf bytes.Buffer
				w, err := NewWriter(&buf, format, ZipEntry{Name: testEntryName, Modified: time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)})
				if err != nil {
					t.Fatal(err)
				}
				// Uneven writes, so block boundaries fall inside them.
				for rest := payload; len(rest) > 0; {
					n := min(len(rest), 1+r.IntN(50_000))
					if k, err := w.Write(rest[:n]); err != nil || k != n {
						t.Fatalf("Write = %d, %v", k, err)
					}
					rest = rest[n:]
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				got, err := read(buf.Bytes())
				if err != nil {
					t.Fatalf("reading back %s: %v", format, err)
				}
				if !bytes.Equal(got, payload) {
					t.Fatalf("round trip changed %d bytes into %d", len(payload), len(got))
				}
			})
		}
	}
}

// The same input gives the same bytes: a replayed object is rewritten
// identically (the ZIP entry's name and time come from the caller, gzip
// writes no time).
func TestCompressionDeterministic(t *testing.T) {
	payload := bytes.Repeat([]byte("abc\n"), 20_000)
	for format := range readers {
		encode := func() []byte {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, format, ZipEntry{Name: testEntryName, Modified: time.Unix(1_700_000_000, 0)})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(payload)
			w.Close()
			return buf.Bytes()
		}
		if a, b := encode(), encode(); !bytes.Equal(a, b) {
			t.Errorf("%s: two encodings of the same input differ", format)
		}
	}
}

func TestCompressionNames(t *testing.T) {
	tests := []struct {
		c             Compression
		ext, encoding string
	}{
		{Uncompressed, "", ""},
		{Gzip, ".gz", "gzip"},
		{Zip, ".zip", "zip"},
		{Snappy, ".snappy", "snappy-java"},
		{HadoopSnappy, ".snappy", "hadoop-snappy"},
	}
	for _, tt := range tests {
		if tt.c.Extension() != tt.ext || tt.c.ContentEncoding() != tt.encoding {
			t.Errorf("%s: extension %q, encoding %q; want %q, %q", tt.c, tt.c.Extension(), tt.c.ContentEncoding(), tt.ext, tt.encoding)
		}
	}
	if _, err := NewWriter(io.Discard, "LZ4", ZipEntry{}); err == nil {
		t.Error("an unknown format was accepted")
	}
	if _, err := NewWriter(io.Discard, Zip, ZipEntry{}); err == nil {
		t.Error("a ZIP object without an entry name was accepted")
	}
}

func TestRecordWriterDelimiter(t *testing.T) {
	records := [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`), {}, []byte(`{"a":3}`)}
	for _, delimiter := range []bool{false, true} {
		for format, read := range readers {
			var buf bytes.Buffer
			w, err := NewRecordWriter(&buf, format, ZipEntry{Name: testEntryName}, delimiter)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			for i, rec := range records {
				if err := w.WriteRecord(rec); err != nil {
					t.Fatal(err)
				}
				if delimiter && i > 0 {
					want = append(want, '\n')
				}
				want = append(want, rec...)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w.Records() != len(records) {
				t.Errorf("Records() = %d", w.Records())
			}
			got, err := read(buf.Bytes())
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s delimiter=%v: got %q, %v; want %q", format, delimiter, got, err, want)
			}
		}
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestCompressionWriteErrors(t *testing.T) {
	payload := make([]byte, 3*snappyBlockSize)
	for _, format := range []Compression{Snappy, HadoopSnappy, Gzip} {
		w, err := NewWriter(&failingWriter{n: 10}, format, ZipEntry{})
		if err != nil {
			t.Fatal(err)
		}
		_, werr := w.Write(payload)
		cerr := w.Close()
		if werr == nil && cerr == nil {
			t.Errorf("%s: a failing destination reported no error", format)
		}
	}
}
