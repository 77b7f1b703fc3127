package delivery

import (
	"bytes"
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/connectors/firehose/layout"
	"github.com/eddy-streams/eddy/connectors/firehose/parquetconv"
)

// partBuf is the records of one partition of one shard waiting for delivery.
type partBuf struct {
	key     string // partition key (see partitionKey)
	errType layout.ErrorOutputType
	// queryKeys are the partition keys the records were grouped by.
	queryKeys map[string]string
	// after is the last record read from the shard before first: the shard's
	// position cannot pass it until this buffer is delivered.
	after        string
	first, last  string
	firstArrival time.Time
	started      time.Time // when the first record came in (wall clock)
	bytes        int64     // the records' bytes as they arrived
	records      int64
	// cutAt, set from an intent on a replay, is where this buffer must end.
	cutAt string

	out     bytes.Buffer
	parquet *parquetconv.Writer
	raw     *layout.RecordWriter
}

// isError says whether the buffer holds error output.
func (b *partBuf) isError() bool { return b.errType != "" }

// encode adds one record to the object being built. For Parquet it is where
// the record is converted; a *parquetconv.RecordError leaves the buffer as it was.
func (b *partBuf) encode(data []byte) error {
	if b.parquet != nil {
		return b.parquet.Write(data)
	}
	return b.raw.WriteRecord(data)
}

// finish ends the object and returns its bytes.
func (b *partBuf) finish() ([]byte, error) {
	var err error
	if b.parquet != nil {
		// The row groups are written at Close: room for them at once, not by
		// doubling (the buffered size is uncompressed, so enough).
		b.out.Grow(max(0, int(b.parquet.BufferedBytes())-b.out.Len()))
		err = b.parquet.Close()
	} else {
		err = b.raw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("finish object of partition %q: %w", b.key, err)
	}
	return b.out.Bytes(), nil
}
