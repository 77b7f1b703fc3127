package streamstore

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSequenceNumberFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		sn := SequenceNumber{
			Epoch:         r.Int64N(1e13),
			Shard:         uint32(r.IntN(maxShardIx + 1)),
			Ordinal:       r.Uint64(),
			ArrivalMicros: r.Int64N(1e16),
		}
		s := sn.String()
		if len(s) != 56 {
			t.Fatalf("%+v formats as %d characters: %q", sn, len(s), s)
		}
		for _, c := range s {
			if c < '0' || c > '9' {
				t.Fatalf("%q is not all digits", s)
			}
		}
		// Independent decoding of the documented layout.
		field := func(a, b int) uint64 {
			v, err := strconv.ParseUint(s[a:b], 10, 64)
			if err != nil {
				t.Fatalf("%q[%d:%d]: %v", s, a, b, err)
			}
			return v
		}
		if s[0] != '4' || int64(field(1, 14)) != sn.Epoch || uint32(field(14, 20)) != sn.Shard ||
			field(20, 40) != sn.Ordinal || int64(field(40, 56)) != sn.ArrivalMicros {
			t.Fatalf("%+v formats as %q, which does not follow the layout", sn, s)
		}
		back, err := ParseSequenceNumber(s)
		if err != nil {
			t.Fatalf("ParseSequenceNumber(%q): %v", s, err)
		}
		if back != sn {
			t.Fatalf("round trip of %+v gave %+v", sn, back)
		}
	}
}

func TestSequenceNumberStringOrderIsNumericOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	epoch := time.Now().UnixMilli()
	for range 2000 {
		a := SequenceNumber{Epoch: epoch, Shard: 3, Ordinal: r.Uint64() >> r.IntN(64), ArrivalMicros: r.Int64N(1e16)}
		b := SequenceNumber{Epoch: epoch, Shard: 3, Ordinal: r.Uint64() >> r.IntN(64), ArrivalMicros: r.Int64N(1e16)}
		as, bs := a.String(), b.String()
		an, _ := new(big.Int).SetString(as, 10)
		bn, _ := new(big.Int).SetString(bs, 10)
		if strings.Compare(as, bs) != an.Cmp(bn) {
			t.Fatalf("string order of %s and %s differs from numeric order", as, bs)
		}
		if a.Ordinal != b.Ordinal && (a.Ordinal < b.Ordinal) != (as < bs) {
			t.Fatalf("ordinal %d vs %d but %s vs %s", a.Ordinal, b.Ordinal, as, bs)
		}
	}
}

func TestParseSequenceNumberErrors(t *testing.T) {
	valid := SequenceNumber{Epoch: 1700000000000, Shard: 7, Ordinal: 99, ArrivalMicros: 1700000000000123}.String()
	maxOrd := valid[:20] + strconv.FormatUint(math.MaxUint64, 10) + valid[40:]
	if sn, err := ParseSequenceNumber(maxOrd); err != nil || sn.Ordinal != math.MaxUint64 {
		t.Fatalf("ParseSequenceNumber(max ordinal) = %+v, %v", sn, err)
	}
	for name, s := range map[string]string{
		"empty":             "",
		"short":             valid[:55],
		"long":              valid + "0",
		"letter":            valid[:30] + "x" + valid[31:],
		"sign":              "-" + valid[1:],
		"space":             valid[:55] + " ",
		"wrong version":     "3" + valid[1:],
		"ordinal overflow":  valid[:20] + "18446744073709551616" + valid[40:],
		"ordinal all nines": valid[:20] + strings.Repeat("9", 20) + valid[40:],
		"non-ascii digit":   valid[:54] + "٣",
	} {
		_, err := ParseSequenceNumber(s)
		wantKind(t, err, ErrInvalidArgument, name)
	}
}

func TestShardIDs(t *testing.T) {
	for _, idx := range []uint32{0, 1, 7, 42, 999999} {
		id := ShardID(idx)
		if len(id) != len("shardId-000000000000") || !strings.HasPrefix(id, "shardId-") {
			t.Fatalf("ShardID(%d) = %q", idx, id)
		}
		for _, form := range []string{id, strconv.Itoa(int(idx))} {
			got, err := ParseShardID(form)
			if err != nil || got != idx {
				t.Fatalf("ParseShardID(%q) = %d, %v; want %d", form, got, err, idx)
			}
		}
	}
	for _, bad := range []string{"", "shardId-", "shardId-x", "-1", "1000000", "shardId-000001000000", "shard-1", "4294967296"} {
		_, err := ParseShardID(bad)
		wantKind(t, err, ErrInvalidArgument, "ParseShardID("+bad+")")
	}
}
