package streamstore

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
)

// HashKey is a point in Kinesis' 128-bit hash key space, [0, 2^128-1].
// Hi holds the most significant 64 bits.
type HashKey struct {
	Hi, Lo uint64
}

// MaxHashKey is 2^128-1, the end of the hash key space.
var maxHashKey = HashKey{Hi: ^uint64(0), Lo: ^uint64(0)}

// MaxHashKey returns 2^128-1.
func MaxHashKey() HashKey { return maxHashKey }

// HashPartitionKey maps a partition key to its hash key as Kinesis does: the MD5
// digest of the key's UTF-8 bytes read as a big-endian unsigned 128-bit integer.
func HashPartitionKey(partitionKey string) HashKey {
	sum := md5.Sum([]byte(partitionKey))
	return HashKey{Hi: binary.BigEndian.Uint64(sum[:8]), Lo: binary.BigEndian.Uint64(sum[8:])}
}

// Cmp returns -1, 0 or +1 as k is less than, equal to or greater than o.
func (k HashKey) Cmp(o HashKey) int {
	switch {
	case k.Hi < o.Hi:
		return -1
	case k.Hi > o.Hi:
		return 1
	case k.Lo < o.Lo:
		return -1
	case k.Lo > o.Lo:
		return 1
	}
	return 0
}

// Add1 returns k+1; it wraps at 2^128, which callers avoid by checking for MaxHashKey.
func (k HashKey) Add1() HashKey {
	lo, carry := bits.Add64(k.Lo, 1, 0)
	return HashKey{Hi: k.Hi + carry, Lo: lo}
}

// Sub1 returns k-1; it wraps below zero, which callers avoid by checking for zero.
func (k HashKey) Sub1() HashKey {
	lo, borrow := bits.Sub64(k.Lo, 1, 0)
	return HashKey{Hi: k.Hi - borrow, Lo: lo}
}

func (k HashKey) big() *big.Int {
	b := new(big.Int).SetUint64(k.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(k.Lo))
}

func hashKeyFromBig(b *big.Int) HashKey {
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0)))
	hi := new(big.Int).Rsh(b, 64)
	return HashKey{Hi: hi.Uint64(), Lo: lo.Uint64()}
}

// String formats k in decimal, as Kinesis does in HashKeyRange and ExplicitHashKey.
func (k HashKey) String() string {
	if k.Hi == 0 {
		return fmt.Sprint(k.Lo)
	}
	return k.big().String()
}

// ParseHashKey parses a decimal hash key in [0, 2^128-1].
func ParseHashKey(s string) (HashKey, error) {
	if s == "" || len(s) > 39 {
		return HashKey{}, errorf(ErrInvalidArgument, "hash key %q must be a decimal integer between 0 and %s", s, maxHashKey)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return HashKey{}, errorf(ErrInvalidArgument, "hash key %q must be a decimal integer between 0 and %s", s, maxHashKey)
		}
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || b.BitLen() > 128 {
		return HashKey{}, errorf(ErrInvalidArgument, "hash key %q must be a decimal integer between 0 and %s", s, maxHashKey)
	}
	return hashKeyFromBig(b), nil
}

// HashKeyRange is an inclusive range of hash keys owned by one shard.
type HashKeyRange struct {
	Start, End HashKey
}

// Contains reports whether k falls in r.
func (r HashKeyRange) Contains(k HashKey) bool {
	return r.Start.Cmp(k) <= 0 && k.Cmp(r.End) <= 0
}

// UniformRanges splits the hash key space into n ranges the way Kinesis does for
// CreateStream and UpdateShardCount: range i starts at floor(2^128/n)*i and the
// last range ends at 2^128-1.
func UniformRanges(n int) []HashKeyRange {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	width := new(big.Int).Div(space, big.NewInt(int64(n)))
	ranges := make([]HashKeyRange, n)
	for i := range n {
		start := new(big.Int).Mul(width, big.NewInt(int64(i)))
		ranges[i].Start = hashKeyFromBig(start)
		if i > 0 {
			ranges[i-1].End = ranges[i].Start.Sub1()
		}
	}
	ranges[n-1].End = maxHashKey
	return ranges
}
