package layout

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
)

// extensionFor returns the extension Firehose appends: FileExtension when
// set, else .parquet or .orc for format conversion, else the compression's.
func extensionFor(cfg Config) string {
	switch {
	case cfg.FileExtension != "":
		return cfg.FileExtension
	case cfg.OutputFormat == Parquet:
		return ".parquet"
	case cfg.OutputFormat == ORC:
		return ".orc"
	}
	return cfg.Compression.Extension()
}

// Extension returns the extension every data object key ends with.
func (l *Layout) Extension() string { return l.extension }

// ObjectKey returns <prefix><DeliveryStreamName>-<DeliveryStreamVersion>-
// <yyyy-MM-dd-HH-mm-ss>-<id><extension>, the key format of Firehose's
// "Amazon S3 object name format". Firehose stamps the time it writes the
// object; a runner that must rewrite the same key on replay passes a time
// taken from the records instead (the oldest arrival). The time is formatted
// in the stream's time zone, like the prefix. id is normally ObjectID's.
func (l *Layout) ObjectKey(prefix string, stamp time.Time, id string) string {
	return l.objectKey(prefix, stamp, id, l.extension)
}

// ErrorObjectKey is ObjectKey for an object of error records: JSON lines,
// never converted, so no format conversion extension. Compression and an
// explicit FileExtension still apply.
func (l *Layout) ErrorObjectKey(prefix string, stamp time.Time, id string) string {
	ext := l.extension
	if ext == ".parquet" || ext == ".orc" {
		ext = ""
	}
	return l.objectKey(prefix, stamp, id, ext)
}

func (l *Layout) objectKey(prefix string, stamp time.Time, id, ext string) string {
	b := make([]byte, 0, len(prefix)+len(l.stream)+len(id)+len(ext)+40)
	b = append(b, prefix...)
	b = append(b, l.stream...)
	b = append(b, '-')
	b = strconv.AppendInt(b, l.version, 10)
	b = append(b, '-')
	b = stamp.In(l.zone).AppendFormat(b, "2006-01-02-15-04-05")
	b = append(b, '-')
	b = append(b, id...)
	b = append(b, ext...)
	return string(b)
}

// ObjectID derives the <uuid> part of an object key from the source position
// range the object holds, so writing the same range again (a replay after a
// crash) produces the same key. It has the shape of the random (version 4)
// UUIDs Firehose uses, 8-4-4-4-12 lowercase hex, with 122 bits of SHA-256
// over the length-prefixed inputs; different ranges collide with probability
// about n²/2¹²³.
func ObjectID(stream, shardID, firstSequenceNumber, lastSequenceNumber string) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range [...]string{"eddy-firehose-object/1", stream, shardID, firstSequenceNumber, lastSequenceNumber} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], u[10:16])
	return string(out[:])
}
