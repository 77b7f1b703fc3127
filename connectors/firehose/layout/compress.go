package layout

import (
	"archive/zip"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/snappy"
)

// Compression is an S3 destination's CompressionFormat, spelled as the API
// spells it.
type Compression string

// The CompressionFormat values.
const (
	Uncompressed Compression = "UNCOMPRESSED"
	Gzip         Compression = "GZIP"
	Zip          Compression = "ZIP"
	Snappy       Compression = "Snappy"
	HadoopSnappy Compression = "HADOOP_SNAPPY"
)

func compressionNames() []string {
	return []string{string(Uncompressed), string(Gzip), string(Zip), string(Snappy), string(HadoopSnappy)}
}

func (c Compression) valid() bool {
	switch c {
	case "", Uncompressed, Gzip, Zip, Snappy, HadoopSnappy:
		return true
	}
	return false
}

// Extension is the extension Firehose appends for the format. The object
// name docs table .hsnappy for HADOOP_SNAPPY, but the service delivers
// .snappy for both Snappy variants (captured from real deliveries by the
// Floci and other emulator projects); eddy follows the service.
func (c Compression) Extension() string {
	switch c {
	case Gzip:
		return ".gz"
	case Zip:
		return ".zip"
	case Snappy, HadoopSnappy:
		return ".snappy"
	}
	return ""
}

// ContentEncoding is the Content-Encoding Firehose sets on the object, ""
// for none. It is the only thing that tells the two Snappy variants apart.
func (c Compression) ContentEncoding() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zip:
		return "zip"
	case Snappy:
		return "snappy-java"
	case HadoopSnappy:
		return "hadoop-snappy"
	}
	return ""
}

// snappyBlockSize is the uncompressed size of one block in both Snappy
// containers: snappy-java's default block, and well under Hadoop's 256 KiB
// decompression buffer.
const snappyBlockSize = 32 << 10

// ZipEntry names the one entry of a ZIP object. Firehose names it with a
// UUID unrelated to the object key; pass the object's id so a replay writes
// the same bytes.
type ZipEntry struct {
	Name     string
	Modified time.Time
}

// NewWriter returns a writer that encodes what is written to it as format c
// into dst. Close flushes and ends the encoding; it does not close dst.
// entry is used only for ZIP.
func NewWriter(dst io.Writer, c Compression, entry ZipEntry) (io.WriteCloser, error) {
	switch c {
	case "", Uncompressed:
		return nopCloser{dst}, nil
	case Gzip:
		return gzip.NewWriter(dst), nil
	case Zip:
		return newZipWriter(dst, entry)
	case Snappy:
		return newBlockWriter(dst, snappyJavaHeader[:], writeSnappyJavaBlock), nil
	case HadoopSnappy:
		return newBlockWriter(dst, nil, writeHadoopSnappyBlock), nil
	}
	return nil, fmt.Errorf("layout: unknown compression format %q: use one of %v", c, compressionNames())
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// zipWriter is a ZIP archive with one deflated entry.
type zipWriter struct {
	archive *zip.Writer
	entry   io.Writer
}

func newZipWriter(dst io.Writer, entry ZipEntry) (*zipWriter, error) {
	if entry.Name == "" {
		return nil, fmt.Errorf("layout: a ZIP object needs an entry name (Firehose uses a UUID, such as the object id)")
	}
	archive := zip.NewWriter(dst)
	w, err := archive.CreateHeader(&zip.FileHeader{Name: entry.Name, Method: zip.Deflate, Modified: entry.Modified})
	if err != nil {
		return nil, fmt.Errorf("layout: starting ZIP entry %q: %w", entry.Name, err)
	}
	return &zipWriter{archive: archive, entry: w}, nil
}

func (z *zipWriter) Write(p []byte) (int, error) { return z.entry.Write(p) }
func (z *zipWriter) Close() error                { return z.archive.Close() }

// snappyJavaHeader starts the snappy-java (xerial) stream format that
// Firehose's Snappy objects use, not the official Snappy framing format:
// magic 0x82 "SNAPPY" 0x00, then version 1 and compatible version 1, both
// 32-bit big-endian.
var snappyJavaHeader = [16]byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}

// writeSnappyJavaBlock frames one block as snappy-java does: the compressed
// length (32-bit big-endian), then the raw Snappy block.
func writeSnappyJavaBlock(dst io.Writer, scratch, block []byte) ([]byte, error) {
	scratch = scratch[:cap(scratch)]
	compressed := snappy.Encode(scratch[4:], block)
	binary.BigEndian.PutUint32(scratch[:4], uint32(len(compressed)))
	_, err := dst.Write(scratch[:4+len(compressed)])
	return scratch, err
}

// writeHadoopSnappyBlock frames one block as Hadoop's BlockCompressorStream
// does: the uncompressed length, then one chunk of compressed length and raw
// Snappy block (all lengths 32-bit big-endian).
func writeHadoopSnappyBlock(dst io.Writer, scratch, block []byte) ([]byte, error) {
	scratch = scratch[:cap(scratch)]
	compressed := snappy.Encode(scratch[8:], block)
	binary.BigEndian.PutUint32(scratch[0:4], uint32(len(block)))
	binary.BigEndian.PutUint32(scratch[4:8], uint32(len(compressed)))
	_, err := dst.Write(scratch[:8+len(compressed)])
	return scratch, err
}

// blockWriter buffers snappyBlockSize bytes and writes each full block
// compressed; Close writes the rest. An empty stream is the header alone.
type blockWriter struct {
	dst        io.Writer
	header     []byte
	wroteHead  bool
	buf        []byte
	scratch    []byte
	writeBlock func(dst io.Writer, scratch, block []byte) ([]byte, error)
	err        error
}

func newBlockWriter(dst io.Writer, header []byte, writeBlock func(io.Writer, []byte, []byte) ([]byte, error)) *blockWriter {
	return &blockWriter{
		dst:        dst,
		header:     header,
		buf:        make([]byte, 0, snappyBlockSize),
		scratch:    make([]byte, 8+snappy.MaxEncodedLen(snappyBlockSize)),
		writeBlock: writeBlock,
	}
}

func (w *blockWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		take := min(snappyBlockSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		if len(w.buf) == snappyBlockSize {
			if err := w.flushBlock(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (w *blockWriter) flushBlock() error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	w.scratch, w.err = w.writeBlock(w.dst, w.scratch, w.buf)
	w.buf = w.buf[:0]
	return w.err
}

func (w *blockWriter) writeHeader() error {
	if w.wroteHead || w.err != nil {
		return w.err
	}
	w.wroteHead = true
	if len(w.header) > 0 {
		_, w.err = w.dst.Write(w.header)
	}
	return w.err
}

func (w *blockWriter) Close() error {
	if len(w.buf) > 0 {
		return w.flushBlock()
	}
	return w.writeHeader()
}
