package kinesisapi

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
)

// The largest responses write their own JSON (awsproto.JSONAppender), the same
// as encoding/json makes of their struct tags: TestAppendJSONMatchesMarshal
// holds them to it.

// AppendJSON writes a GetRecords response.
func (o getRecordsOutput) AppendJSON(dst []byte) []byte {
	size := 128
	for _, r := range o.Records {
		size += base64.StdEncoding.EncodedLen(len(r.Data)) + len(r.PartitionKey) + 160
	}
	if dst == nil {
		dst = make([]byte, 0, size)
	}
	dst = append(dst, `{"Records":[`...)
	for i, r := range o.Records {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"SequenceNumber":`...)
		dst = awsproto.AppendString(dst, r.SequenceNumber)
		dst = append(dst, `,"ApproximateArrivalTimestamp":`...)
		dst = awsproto.AppendTimestamp(dst, time.Time(r.ApproximateArrivalTimestamp))
		dst = append(dst, `,"Data":`...)
		if r.Data == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, r.Data)
			dst = append(dst, '"')
		}
		dst = append(dst, `,"PartitionKey":`...)
		dst = awsproto.AppendString(dst, r.PartitionKey)
		if r.EncryptionType != "" {
			dst = append(dst, `,"EncryptionType":`...)
			dst = awsproto.AppendString(dst, r.EncryptionType)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if o.NextShardIterator != "" {
		dst = append(dst, `,"NextShardIterator":`...)
		dst = awsproto.AppendString(dst, o.NextShardIterator)
	}
	dst = append(dst, `,"MillisBehindLatest":`...)
	dst = strconv.AppendInt(dst, o.MillisBehindLatest, 10)
	if len(o.ChildShards) > 0 {
		dst = append(dst, `,"ChildShards":[`...)
		for i, c := range o.ChildShards {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"ShardId":`...)
			dst = awsproto.AppendString(dst, c.ShardId)
			dst = append(dst, `,"ParentShards":`...)
			if c.ParentShards == nil {
				dst = append(dst, "null"...)
			} else {
				dst = append(dst, '[')
				for j, p := range c.ParentShards {
					if j > 0 {
						dst = append(dst, ',')
					}
					dst = awsproto.AppendString(dst, p)
				}
				dst = append(dst, ']')
			}
			dst = append(dst, `,"HashKeyRange":{"StartingHashKey":`...)
			dst = awsproto.AppendString(dst, c.HashKeyRange.StartingHashKey)
			dst = append(dst, `,"EndingHashKey":`...)
			dst = awsproto.AppendString(dst, c.HashKeyRange.EndingHashKey)
			dst = append(dst, "}}"...)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// AppendJSON writes a PutRecords response.
func (o putRecordsOutput) AppendJSON(dst []byte) []byte {
	if dst == nil {
		dst = make([]byte, 0, 96+len(o.Records)*120)
	}
	dst = append(dst, `{"FailedRecordCount":`...)
	dst = strconv.AppendInt(dst, int64(o.FailedRecordCount), 10)
	dst = append(dst, `,"Records":[`...)
	for i, r := range o.Records {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		sep := false
		field := func(name, v string) {
			if v == "" {
				return
			}
			if sep {
				dst = append(dst, ',')
			}
			sep = true
			dst = append(dst, '"')
			dst = append(dst, name...)
			dst = append(dst, '"', ':')
			dst = awsproto.AppendString(dst, v)
		}
		field("SequenceNumber", r.SequenceNumber)
		field("ShardId", r.ShardId)
		field("ErrorCode", r.ErrorCode)
		field("ErrorMessage", r.ErrorMessage)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"EncryptionType":`...)
	dst = awsproto.AppendString(dst, o.EncryptionType)
	return append(dst, '}')
}
