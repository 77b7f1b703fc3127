package streamstore

import (
	"fmt"
	"strconv"
)

// SequenceNumber identifies a record within a shard. Its text form is a 56-digit
// decimal string, like the sequence numbers Kinesis hands out, laid out as
//
//	digit  0      version, always 4
//	digits 1-13   the stream's epoch: its creation time in Unix milliseconds
//	digits 14-19  the shard's index (shardId-000000000007 has index 7)
//	digits 20-39  the record's ordinal within the shard, from 0
//	digits 40-55  the record's arrival time in Unix microseconds
//
// Within a shard the ordinal decides the order, so sequence numbers of one shard
// increase strictly with the ordinal. The arrival digits are informative only. The
// epoch lets the store reject a sequence number from an earlier stream of the same name.
type SequenceNumber struct {
	Epoch         int64
	Shard         uint32
	Ordinal       uint64
	ArrivalMicros int64
}

const (
	seqLen     = 56
	seqVersion = '4'
	maxShardIx = 999999
)

// String formats s as its 56-digit decimal form.
func (s SequenceNumber) String() string {
	var b [seqLen]byte
	s.appendTo(b[:0])
	return string(b[:])
}

func (s SequenceNumber) appendTo(dst []byte) []byte {
	dst = append(dst, seqVersion)
	dst = appendPadded(dst, uint64(s.Epoch), 13)
	dst = appendPadded(dst, uint64(s.Shard), 6)
	dst = appendPadded(dst, s.Ordinal, 20)
	dst = appendPadded(dst, uint64(s.ArrivalMicros), 16)
	return dst
}

func appendPadded(dst []byte, v uint64, width int) []byte {
	// strconv's two-digits-at-a-time formatting: sequence numbers are
	// formatted for every record a read returns.
	var buf [20]byte
	digits := strconv.AppendUint(buf[:0], v, 10)
	if len(digits) > width {
		digits = digits[len(digits)-width:] // as the fixed layout has it: the low digits
	}
	for range width - len(digits) {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

// ParseSequenceNumber parses the 56-digit form written by String.
func ParseSequenceNumber(text string) (SequenceNumber, error) {
	bad := func(why string) (SequenceNumber, error) {
		return SequenceNumber{}, errorf(ErrInvalidArgument, "sequence number %q %s", text, why)
	}
	if len(text) != seqLen {
		return bad(fmt.Sprintf("must be %d decimal digits, got %d characters", seqLen, len(text)))
	}
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			return bad("must contain only decimal digits")
		}
	}
	if text[0] != seqVersion {
		return bad("was not issued by eddy (it must start with 4)")
	}
	field := func(from, to int) uint64 {
		v, _ := strconv.ParseUint(text[from:to], 10, 64)
		return v
	}
	ord, err := strconv.ParseUint(text[20:40], 10, 64)
	if err != nil {
		return bad("has an ordinal out of range")
	}
	return SequenceNumber{
		Epoch:         int64(field(1, 14)),
		Shard:         uint32(field(14, 20)),
		Ordinal:       ord,
		ArrivalMicros: int64(field(40, 56)),
	}, nil
}

// ShardID formats a shard index as Kinesis names shards: shardId-000000000000.
func ShardID(index uint32) string {
	return fmt.Sprintf("shardId-%012d", index)
}

// ParseShardID returns the index of a shard id. It accepts the canonical
// form and, as Kinesis does, a bare number ("3" means shardId-000000000003).
func ParseShardID(id string) (uint32, error) {
	digits := id
	if len(id) > len("shardId-") && id[:len("shardId-")] == "shardId-" {
		digits = id[len("shardId-"):]
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || digits == "" || v > maxShardIx {
		return 0, errorf(ErrInvalidArgument, "shard id %q must look like shardId-000000000000 (index 0 to %d)", id, maxShardIx)
	}
	return uint32(v), nil
}
