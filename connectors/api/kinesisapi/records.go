package kinesisapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// PutRecord

type putRecordInput struct {
	streamRef
	PartitionKey              string
	Data                      []byte
	ExplicitHashKey           string
	SequenceNumberForOrdering string
}

type putRecordOutput struct {
	ShardId        string `json:"ShardId"`
	SequenceNumber string `json:"SequenceNumber"`
	EncryptionType string `json:"EncryptionType"`
}

// checkRecord applies the limits Kinesis applies to one record beyond the
// model's constraints: a record (data plus partition key) holds at most 1 MiB,
// and an explicit hash key lies in [0, 2^128-1].
func (h *Handler) checkRecord(stream string, key string, data []byte, explicit string) error {
	if size := len(data) + len(key); size > streamstore.MaxRecordBytes {
		return awsproto.Errorf(errInvalidArgument, "Record size %d bytes (data plus partition key) exceeds the maximum record size of %d KiB for stream %s under account %s.",
			size, streamstore.MaxRecordBytes>>10, stream, h.opts.AccountID)
	}
	if !utf8.ValidString(key) {
		return awsproto.Errorf(errInvalidArgument, "Partition key is not valid UTF-8.")
	}
	if explicit != "" {
		if _, err := streamstore.ParseHashKey(explicit); err != nil {
			return awsproto.Errorf(errInvalidArgument, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", explicit)
		}
	}
	return nil
}

func (h *Handler) putRecord(ctx context.Context, req *awsproto.Request, in *putRecordInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if err := h.requireReadable(name); err != nil {
		return nil, err
	}
	if err := h.checkRecord(name, in.PartitionKey, in.Data, in.ExplicitHashKey); err != nil {
		return nil, err
	}
	if h.opts.ShardLimits {
		if r, ok := h.routerFor(name); ok {
			if shard := r.shardOf(in.PartitionKey, in.ExplicitHashKey); shard != "" &&
				!h.limits.admitWrite(h.opts.Now(), name, shard, len(in.Data)+len(in.PartitionKey)) {
				return nil, h.throttled(name, shard)
			}
		}
	}
	res, err := h.store.PutRecord(ctx, name, streamstore.PutEntry{PartitionKey: in.PartitionKey, ExplicitHashKey: in.ExplicitHashKey, Data: in.Data})
	if err != nil {
		return nil, h.storeError(err, name)
	}
	return putRecordOutput{ShardId: res.ShardID, SequenceNumber: res.SequenceNumber.String(), EncryptionType: h.encryption(name)}, nil
}

// encryption is the EncryptionType put responses report.
func (h *Handler) encryption(name string) string {
	if d, err := h.store.DescribeStream(name); err == nil && d.EncryptionType != "" {
		return d.EncryptionType
	}
	return streamstore.EncryptionNone
}

// PutRecords

type putRecordsEntry struct {
	PartitionKey    string
	Data            []byte
	ExplicitHashKey string
}

type putRecordsInput struct {
	streamRef
	Records []putRecordsEntry
}

type putRecordsResultEntry struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardId        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordsOutput struct {
	FailedRecordCount int                     `json:"FailedRecordCount"`
	Records           []putRecordsResultEntry `json:"Records"`
	EncryptionType    string                  `json:"EncryptionType"`
}

func (h *Handler) putRecords(ctx context.Context, req *awsproto.Request, in *putRecordsInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if err := h.requireReadable(name); err != nil {
		return nil, err
	}
	entries := make([]streamstore.PutEntry, len(in.Records))
	total := 0
	for i, r := range in.Records {
		if err := h.checkRecord(name, r.PartitionKey, r.Data, r.ExplicitHashKey); err != nil {
			return nil, err
		}
		total += len(r.Data) + len(r.PartitionKey)
		entries[i] = streamstore.PutEntry{PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data}
	}
	if total > streamstore.MaxBatchBytes {
		return nil, awsproto.Errorf(errInvalidArgument, "Records size %d bytes (data plus partition keys) exceeds the %d MiB limit of a PutRecords request.", total, streamstore.MaxBatchBytes>>20)
	}
	out := putRecordsOutput{Records: make([]putRecordsResultEntry, len(entries))}
	// admitted[i] is the index in out.Records of entries[i] once throttled
	// records are left out; nil when none are.
	var admitted []int
	if h.opts.ShardLimits {
		if r, ok := h.routerFor(name); ok {
			now := h.opts.Now()
			kept := entries[:0:0]
			for i, e := range entries {
				shard := r.shardOf(e.PartitionKey, e.ExplicitHashKey)
				if shard != "" && !h.limits.admitWrite(now, name, shard, len(e.Data)+len(e.PartitionKey)) {
					out.Records[i] = putRecordsResultEntry{ErrorCode: errProvisionedExceed, ErrorMessage: h.throttleMessage(name, shard)}
					out.FailedRecordCount++
					continue
				}
				kept = append(kept, e)
				admitted = append(admitted, i)
			}
			if out.FailedRecordCount > 0 {
				entries = kept
			} else {
				admitted = nil
			}
		}
	}
	if len(entries) == 0 {
		out.EncryptionType = h.encryption(name)
		return out, nil
	}
	res, err := h.store.PutRecords(ctx, name, entries)
	if err != nil {
		mapped := h.storeError(err, name)
		if _, ok := awsproto.AsError(mapped); ok {
			return nil, mapped
		}
		// A failure of the store itself (I/O, a closed store) fails every
		// record, as Kinesis reports InternalFailure per record: a producer
		// retries the failed entries.
		h.logFailure(req, name, err)
		for i := range out.Records {
			if out.Records[i].ErrorCode == "" {
				out.Records[i] = putRecordsResultEntry{ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure."}
			}
		}
		out.FailedRecordCount = len(out.Records)
		out.EncryptionType = streamstore.EncryptionNone
		return out, nil
	}
	for i, r := range res {
		j := i
		if admitted != nil {
			j = admitted[i]
		}
		out.Records[j] = putRecordsResultEntry{SequenceNumber: r.SequenceNumber.String(), ShardId: r.ShardID}
	}
	out.EncryptionType = h.encryption(name)
	return out, nil
}

func (h *Handler) logFailure(req *awsproto.Request, stream string, err error) {
	if h.opts.Logger != nil {
		h.opts.Logger.Error("kinesis request failed", "request_id", req.RequestID, "operation", req.Operation, "stream", stream, "err", err)
	}
}

// Shard iterators

// An iterator is an opaque token: version, issue time (Unix ms), the stream's
// epoch, the shard index, the ordinal of the next record and the stream name,
// followed by an HMAC-SHA256 (first 16 bytes) under the handler's key, in
// base64. The epoch makes an iterator of a deleted stream fail on a new stream
// of the same name; the HMAC makes an edited iterator fail as invalid.
const (
	iteratorVersion = 1
	iteratorFixed   = 1 + 8 + 8 + 4 + 8 // version, issued, epoch, shard, ordinal
	iteratorMAC     = 16
)

type iterator struct {
	issued  time.Time
	stream  string
	epoch   int64
	shard   uint32
	ordinal uint64
}

func (h *Handler) encodeIterator(it iterator) string {
	b := make([]byte, 0, iteratorFixed+len(it.stream)+iteratorMAC)
	b = append(b, iteratorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(it.issued.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(it.epoch))
	b = binary.BigEndian.AppendUint32(b, it.shard)
	b = binary.BigEndian.AppendUint64(b, it.ordinal)
	b = append(b, it.stream...)
	mac := hmac.New(sha256.New, h.key)
	mac.Write(b)
	b = append(b, mac.Sum(nil)[:iteratorMAC]...)
	return base64.StdEncoding.EncodeToString(b)
}

var errBadIterator = errors.New("invalid shard iterator")

func (h *Handler) decodeIterator(s string) (iterator, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) < iteratorFixed+1+iteratorMAC || b[0] != iteratorVersion {
		return iterator{}, errBadIterator
	}
	body, sum := b[:len(b)-iteratorMAC], b[len(b)-iteratorMAC:]
	mac := hmac.New(sha256.New, h.key)
	mac.Write(body)
	if !hmac.Equal(sum, mac.Sum(nil)[:iteratorMAC]) {
		return iterator{}, errBadIterator
	}
	return iterator{
		issued:  time.UnixMilli(int64(binary.BigEndian.Uint64(body[1:9]))),
		epoch:   int64(binary.BigEndian.Uint64(body[9:17])),
		shard:   binary.BigEndian.Uint32(body[17:21]),
		ordinal: binary.BigEndian.Uint64(body[21:29]),
		stream:  string(body[29:]),
	}, nil
}

func (h *Handler) iteratorFor(c streamstore.Cursor) (string, error) {
	idx, err := streamstore.ParseShardID(c.ShardID)
	if err != nil {
		return "", err
	}
	return h.encodeIterator(iterator{issued: h.opts.Now(), stream: c.Stream, epoch: c.Epoch, shard: idx, ordinal: c.Ordinal}), nil
}

// GetShardIterator

type getShardIteratorInput struct {
	streamRef
	ShardId                string
	ShardIteratorType      string
	StartingSequenceNumber string
	Timestamp              *time.Time
}

type getShardIteratorOutput struct {
	ShardIterator string `json:"ShardIterator"`
}

func (h *Handler) getShardIterator(ctx context.Context, req *awsproto.Request, in *getShardIteratorInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if err := h.requireReadable(name); err != nil {
		return nil, err
	}
	c, err := h.position(name, in.ShardId, in.ShardIteratorType, in.StartingSequenceNumber, in.Timestamp, "StartingSequenceNumber", "ShardIteratorType")
	if err != nil {
		return nil, err
	}
	it, err := h.iteratorFor(c)
	if err != nil {
		return nil, h.storeError(err, name)
	}
	return getShardIteratorOutput{ShardIterator: it}, nil
}

// position resolves a starting position in a shard of stream name, for
// GetShardIterator and SubscribeToShard (which name the fields seqField and
// typeField in their messages).
func (h *Handler) position(name, shardID, typ, seq string, ts *time.Time, seqField, typeField string) (streamstore.Cursor, error) {
	pos := streamstore.StartingPosition{Type: streamstore.PositionType(typ)}
	switch pos.Type {
	case streamstore.AtSequenceNumber, streamstore.AfterSequenceNumber:
		if seq == "" {
			return streamstore.Cursor{}, awsproto.Errorf(errInvalidArgument, "%s must be provided for %s %s.", seqField, typeField, typ)
		}
		pos.SequenceNumber = seq
	case streamstore.AtTimestamp:
		if ts == nil {
			return streamstore.Cursor{}, awsproto.Errorf(errInvalidArgument, "Timestamp must be provided for %s AT_TIMESTAMP.", typeField)
		}
		pos.Timestamp = *ts
	}
	idx, err := streamstore.ParseShardID(shardID)
	if err != nil {
		if _, err := h.store.DescribeStream(name); err != nil {
			return streamstore.Cursor{}, h.storeError(err, name)
		}
		return streamstore.Cursor{}, h.shardNotFound(name, shardID)
	}
	shard := streamstore.ShardID(idx)
	c, err := h.store.Position(name, shard, pos)
	if err != nil {
		if errors.Is(err, streamstore.ErrNotFound) {
			if _, derr := h.store.DescribeStream(name); derr != nil {
				return streamstore.Cursor{}, h.storeError(derr, name)
			}
			return streamstore.Cursor{}, h.shardNotFound(name, shard)
		}
		if errors.Is(err, streamstore.ErrInvalidArgument) && pos.SequenceNumber != "" {
			return streamstore.Cursor{}, h.badSequenceNumber(pos.SequenceNumber, shard, name, err)
		}
		return streamstore.Cursor{}, h.storeError(err, name)
	}
	return c, nil
}

// badSequenceNumber words a sequence number the shard refuses as Kinesis does.
func (h *Handler) badSequenceNumber(seq, shard, stream string, err error) error {
	if sn, perr := streamstore.ParseSequenceNumber(seq); perr == nil && streamstore.ShardID(sn.Shard) != shard {
		return awsproto.Errorf(errInvalidArgument, "Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s",
			streamstore.ShardID(sn.Shard), shard)
	}
	var se *streamstore.Error
	if errors.As(err, &se) {
		return awsproto.Errorf(errInvalidArgument, "Invalid StartingSequenceNumber for shard %s in stream %s under account %s: %s", shard, stream, h.opts.AccountID, se.Msg)
	}
	return h.storeError(err, stream)
}

// GetRecords

type getRecordsInput struct {
	ShardIterator string
	Limit         *int
	StreamARN     string
}

type recordOut struct {
	SequenceNumber              string             `json:"SequenceNumber"`
	ApproximateArrivalTimestamp awsproto.Timestamp `json:"ApproximateArrivalTimestamp"`
	Data                        []byte             `json:"Data"`
	PartitionKey                string             `json:"PartitionKey"`
	EncryptionType              string             `json:"EncryptionType,omitempty"`
}

type childShardOut struct {
	ShardId      string       `json:"ShardId"`
	ParentShards []string     `json:"ParentShards"`
	HashKeyRange hashKeyRange `json:"HashKeyRange"`
}

type getRecordsOutput struct {
	Records            []recordOut     `json:"Records"`
	NextShardIterator  string          `json:"NextShardIterator,omitempty"`
	MillisBehindLatest int64           `json:"MillisBehindLatest"`
	ChildShards        []childShardOut `json:"ChildShards,omitempty"`
}

func (h *Handler) getRecords(ctx context.Context, req *awsproto.Request, in *getRecordsInput) (any, error) {
	it, err := h.decodeIterator(in.ShardIterator)
	if err != nil {
		return nil, awsproto.Errorf(errInvalidArgument, "Invalid ShardIterator.")
	}
	now := h.opts.Now()
	if now.Sub(it.issued) > IteratorLifetime {
		return nil, awsproto.Errorf(errExpiredIterator,
			"Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			javaDate(it.issued), javaDate(now), IteratorLifetime.Milliseconds())
	}
	if in.StreamARN != "" {
		name, err := h.nameFromARN(in.StreamARN)
		if err != nil {
			return nil, err
		}
		if name != it.stream {
			return nil, awsproto.Errorf(errInvalidArgument, "StreamARN %s does not match the stream of the ShardIterator.", in.StreamARN)
		}
	}
	limit := streamstore.MaxGetRecords
	if in.Limit != nil {
		limit = *in.Limit
	}
	shard := streamstore.ShardID(it.shard)
	if h.opts.ShardLimits && !h.limits.admitRead(now, it.stream, shard) {
		return nil, h.throttled(it.stream, shard)
	}
	res, err := h.store.GetRecords(ctx, streamstore.Cursor{Stream: it.stream, Epoch: it.epoch, ShardID: shard, Ordinal: it.ordinal}, limit)
	if err != nil {
		if errors.Is(err, streamstore.ErrNotFound) {
			if d, derr := h.store.DescribeStream(it.stream); derr == nil && d.Epoch == it.epoch {
				return nil, h.shardNotFound(it.stream, shard)
			}
			return nil, h.notFound(it.stream)
		}
		return nil, h.storeError(err, it.stream)
	}
	out := getRecordsOutput{Records: make([]recordOut, len(res.Records)), MillisBehindLatest: res.MillisBehindLatest}
	if h.opts.ShardLimits {
		n := 0
		for _, r := range res.Records {
			n += len(r.Data)
		}
		h.limits.chargeRead(now, it.stream, shard, n)
	}
	for i, r := range res.Records {
		out.Records[i] = recordOut{
			SequenceNumber:              r.SequenceNumber.String(),
			ApproximateArrivalTimestamp: awsproto.Timestamp(r.ArrivalTime),
			Data:                        r.Data,
			PartitionKey:                r.PartitionKey,
		}
	}
	if res.ShardEnd {
		out.ChildShards = make([]childShardOut, len(res.ChildShards))
		for i, c := range res.ChildShards {
			out.ChildShards[i] = childShardOut{ShardId: c.ShardID, ParentShards: c.ParentShards,
				HashKeyRange: hashKeyRange{StartingHashKey: c.HashKeyRange.Start.String(), EndingHashKey: c.HashKeyRange.End.String()}}
		}
		return out, nil
	}
	next, err := h.iteratorFor(res.Next)
	if err != nil {
		return nil, h.storeError(err, it.stream)
	}
	out.NextShardIterator = next
	return out, nil
}

// javaDate formats a time as Java's Date.toString does, which Kinesis' messages use.
func javaDate(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
}
