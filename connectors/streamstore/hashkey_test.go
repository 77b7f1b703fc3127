package streamstore

import (
	"crypto/md5"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var two128 = new(big.Int).Lsh(big.NewInt(1), 128)

func maxBig() *big.Int { return new(big.Int).Sub(two128, big.NewInt(1)) }

// bigMD5 is the oracle for partition key hashing: the MD5 digest as a big-endian integer.
func bigMD5(key string) *big.Int {
	sum := md5.Sum([]byte(key))
	return new(big.Int).SetBytes(sum[:])
}

func hkBig(t *testing.T, k HashKey) *big.Int {
	t.Helper()
	b, ok := new(big.Int).SetString(k.String(), 10)
	if !ok {
		t.Fatalf("HashKey.String() = %q is not a decimal", k.String())
	}
	return b
}

// bruteShard finds the shard of a hash key by walking big.Int ranges of width floor(2^128/n).
func bruteShard(h *big.Int, n int) int {
	width := new(big.Int).Div(two128, big.NewInt(int64(n)))
	for i := n - 1; i >= 0; i-- {
		if h.Cmp(new(big.Int).Mul(width, big.NewInt(int64(i)))) >= 0 {
			return i
		}
	}
	return 0
}

func TestRoutingAWSVectors(t *testing.T) {
	// Kinesis' documented test vectors for a stream of 4 shards.
	dir := t.TempDir()
	s := openStore(t, dir, DefaultOptions())
	if err := s.CreateStream("vectors", 4); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key   string
		shard string
	}{
		{"a", "shardId-000000000000"},
		{"b", "shardId-000000000002"},
		{"pk1", "shardId-000000000003"},
		{"0", "shardId-000000000003"},
	} {
		res := mustPut(t, s, "vectors", nil, time.Time{}, entry(tc.key, "x"))
		if res[0].ShardID != tc.shard {
			t.Errorf("partition key %q went to %s, want %s", tc.key, res[0].ShardID, tc.shard)
		}
		if got := bruteShard(bigMD5(tc.key), 4); ShardID(uint32(got)) != tc.shard {
			t.Errorf("oracle disagrees with the AWS vector for %q: %d", tc.key, got)
		}
	}
}

func TestHashPartitionKeyMatchesBigMD5(t *testing.T) {
	keys := []string{"a", "b", "pk1", "0", "", "é", "日本語", strings.Repeat("x", 256)}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, r.IntN(40)+1)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		keys = append(keys, string(b))
	}
	for _, k := range keys {
		if got, want := hkBig(t, HashPartitionKey(k)), bigMD5(k); got.Cmp(want) != 0 {
			t.Fatalf("HashPartitionKey(%q) = %s, want %s", k, got, want)
		}
	}
}

func TestRoutingMatchesBruteForce(t *testing.T) {
	for _, n := range []int{1, 3, 4, 7} {
		s := openStore(t, t.TempDir(), DefaultOptions())
		if err := s.CreateStream("r", n); err != nil {
			t.Fatal(err)
		}
		var entries []PutEntry
		for i := range 300 {
			entries = append(entries, entry(payload(n, i), "d"))
		}
		res := mustPut(t, s, "r", nil, time.Time{}, entries...)
		for i, e := range entries {
			want := ShardID(uint32(bruteShard(bigMD5(e.PartitionKey), n)))
			if res[i].ShardID != want {
				t.Fatalf("n=%d: key %q went to %s, want %s", n, e.PartitionKey, res[i].ShardID, want)
			}
		}
	}
}

func TestUniformRanges(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 7, 10, 13, 100, 499, 500} {
		rs := UniformRanges(n)
		if len(rs) != n {
			t.Fatalf("UniformRanges(%d) has %d ranges", n, len(rs))
		}
		width := new(big.Int).Div(two128, big.NewInt(int64(n)))
		for i, r := range rs {
			wantStart := new(big.Int).Mul(width, big.NewInt(int64(i)))
			if got := hkBig(t, r.Start); got.Cmp(wantStart) != 0 {
				t.Fatalf("UniformRanges(%d)[%d].Start = %s, want %s", n, i, got, wantStart)
			}
			if r.Start.Cmp(r.End) > 0 {
				t.Fatalf("UniformRanges(%d)[%d] is empty: %s..%s", n, i, r.Start, r.End)
			}
			if i > 0 {
				prevEnd := hkBig(t, rs[i-1].End)
				if new(big.Int).Add(prevEnd, big.NewInt(1)).Cmp(hkBig(t, r.Start)) != 0 {
					t.Fatalf("UniformRanges(%d): range %d ends at %s but %d starts at %s", n, i-1, prevEnd, i, r.Start)
				}
			}
		}
		if hkBig(t, rs[0].Start).Sign() != 0 {
			t.Fatalf("UniformRanges(%d) starts at %s", n, rs[0].Start)
		}
		if got := hkBig(t, rs[n-1].End); got.Cmp(maxBig()) != 0 {
			t.Fatalf("UniformRanges(%d) ends at %s, want 2^128-1", n, got)
		}
	}
}

func TestExplicitHashKeyRouting(t *testing.T) {
	s := openStore(t, t.TempDir(), DefaultOptions())
	if err := s.CreateStream("e", 4); err != nil {
		t.Fatal(err)
	}
	rs := UniformRanges(4)
	var entries []PutEntry
	var want []string
	for i, r := range rs {
		// Both ends of every range, and one inside it.
		mid := new(big.Int).Add(hkBig(t, r.Start), big.NewInt(12345))
		for _, k := range []string{r.Start.String(), r.End.String(), mid.String()} {
			// The partition key "a" alone would go to shard 0: the explicit key must win.
			entries = append(entries, PutEntry{PartitionKey: "a", ExplicitHashKey: k, Data: []byte(k)})
			want = append(want, ShardID(uint32(i)))
		}
	}
	res := mustPut(t, s, "e", nil, time.Time{}, entries...)
	for i := range entries {
		if res[i].ShardID != want[i] {
			t.Errorf("explicit hash key %s went to %s, want %s", entries[i].ExplicitHashKey, res[i].ShardID, want[i])
		}
	}
}

func TestParseHashKey(t *testing.T) {
	maxS := maxBig().String()
	good := []string{"0", "1", "42", "18446744073709551615", "18446744073709551616", maxS}
	for _, s := range good {
		k, err := ParseHashKey(s)
		if err != nil {
			t.Fatalf("ParseHashKey(%q): %v", s, err)
		}
		want, _ := new(big.Int).SetString(s, 10)
		if hkBig(t, k).Cmp(want) != 0 {
			t.Fatalf("ParseHashKey(%q) = %s", s, k)
		}
	}
	if k, _ := ParseHashKey(maxS); k != MaxHashKey() {
		t.Fatalf("ParseHashKey(2^128-1) = %+v, want MaxHashKey", k)
	}
	over := new(big.Int).Add(maxBig(), big.NewInt(1)).String()
	bad := []string{"", "-1", "+1", over, "340282366920938463463374607431768211456000", "12a", "1.5", " 1", "1 ", "0x10", "１"}
	for _, s := range bad {
		_, err := ParseHashKey(s)
		wantKind(t, err, ErrInvalidArgument, "ParseHashKey("+s+")")
	}
}

func TestHashKeyArithmetic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	one := big.NewInt(1)
	for range 500 {
		k := HashKey{Hi: r.Uint64(), Lo: r.Uint64()}
		switch r.IntN(4) {
		case 0:
			k.Lo = ^uint64(0)
		case 1:
			k.Lo = 0
		}
		kb := hkBig(t, k)
		if k != MaxHashKey() {
			if got, want := hkBig(t, k.Add1()), new(big.Int).Add(kb, one); got.Cmp(want) != 0 {
				t.Fatalf("%s.Add1() = %s, want %s", k, got, want)
			}
		}
		if kb.Sign() > 0 {
			if got, want := hkBig(t, k.Sub1()), new(big.Int).Sub(kb, one); got.Cmp(want) != 0 {
				t.Fatalf("%s.Sub1() = %s, want %s", k, got, want)
			}
		}
		o := HashKey{Hi: r.Uint64() % 4, Lo: r.Uint64()}
		if r.IntN(2) == 0 {
			o.Hi = k.Hi
		}
		if got, want := k.Cmp(o), kb.Cmp(hkBig(t, o)); got != want {
			t.Fatalf("%s.Cmp(%s) = %d, want %d", k, o, got, want)
		}
		back, err := ParseHashKey(k.String())
		if err != nil || back != k {
			t.Fatalf("ParseHashKey(%s.String()) = %v, %v", k, back, err)
		}
	}
}
