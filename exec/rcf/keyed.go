package rcf

import (
	"fmt"
	"hash/fnv"

	"github.com/eddy-streams/eddy/exec/snapshot"
)

// Keyed holds one forest per key ("each sensor against itself"), at most
// MaxKeys of them: a new key beyond that evicts the least recently updated
// one, whose forest starts over if the key comes back. Each key's forest is
// seeded from the configuration's seed and the key, so its scores do not
// depend on which other keys exist. A Keyed is not safe for concurrent use.
type Keyed struct {
	cfg       Config
	maxKeys   int
	forests   map[string]*keyedForest
	newest    *keyedForest // the most recently updated; newest.older... runs to the oldest
	oldest    *keyedForest
	evictions int64
}

type keyedForest struct {
	key          string
	forest       *Forest
	newer, older *keyedForest
}

// NewKeyed returns an empty Keyed whose forests use cfg (with a per-key
// seed) and which keeps at most maxKeys forests (>= 1).
func NewKeyed(cfg Config, maxKeys int) (*Keyed, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if maxKeys < 1 {
		return nil, fmt.Errorf("rcf: the number of keyed forests must be at least 1, got %d", maxKeys)
	}
	return &Keyed{cfg: cfg, maxKeys: maxKeys, forests: map[string]*keyedForest{}}, nil
}

// keySeed mixes the key into the configured seed.
func keySeed(seed uint64, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return splitmix(seed ^ h.Sum64())
}

// Forest returns key's forest, creating it (and evicting the least recently
// used key if the Keyed is full), and marks key as the most recently used.
func (k *Keyed) Forest(key string) *Forest {
	if e, ok := k.forests[key]; ok {
		k.unlink(e)
		k.pushNewest(e)
		return e.forest
	}
	if len(k.forests) >= k.maxKeys {
		old := k.oldest
		k.unlink(old)
		delete(k.forests, old.key)
		k.evictions++
	}
	cfg := k.cfg
	cfg.Seed = keySeed(k.cfg.Seed, key)
	f, err := New(cfg)
	if err != nil {
		panic(err) // cfg was validated in NewKeyed
	}
	e := &keyedForest{key: key, forest: f}
	k.forests[key] = e
	k.pushNewest(e)
	return f
}

// Update is Forest(key).Update(row).
func (k *Keyed) Update(key string, row []float64) float64 { return k.Forest(key).Update(row) }

// UpdateExplain is Forest(key).UpdateExplain(row, out).
func (k *Keyed) UpdateExplain(key string, row []float64, out []Attribution) float64 {
	return k.Forest(key).UpdateExplain(row, out)
}

// Config is the configuration of every key's forest, but for its seed.
func (k *Keyed) Config() Config { return k.cfg }

// Len is the number of keys held.
func (k *Keyed) Len() int { return len(k.forests) }

// Evictions is the number of forests evicted to make room for new keys.
func (k *Keyed) Evictions() int64 { return k.evictions }

// MaxKeys is the bound on keys.
func (k *Keyed) MaxKeys() int { return k.maxKeys }

// Keys lists the keys from the most to the least recently updated.
func (k *Keyed) Keys() []string {
	keys := make([]string, 0, len(k.forests))
	for e := k.newest; e != nil; e = e.older {
		keys = append(keys, e.key)
	}
	return keys
}

// MemoryBytes estimates the bytes held by all forests.
func (k *Keyed) MemoryBytes() int {
	n := 0
	for _, e := range k.forests {
		n += e.forest.MemoryBytes() + len(e.key) + 64
	}
	return n
}

func (k *Keyed) unlink(e *keyedForest) {
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		k.newest = e.older
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		k.oldest = e.newer
	}
	e.newer, e.older = nil, nil
}

func (k *Keyed) pushNewest(e *keyedForest) {
	e.older = k.newest
	if k.newest != nil {
		k.newest.newer = e
	} else {
		k.oldest = e
	}
	k.newest = e
}

const (
	keyedMagic   = "eddy-rcf-keyed"
	keyedVersion = 1
)

// MarshalBinary writes the configuration, the bound, the eviction count and
// every key with its forest's state, from the least to the most recently
// used, so that restoring keeps the eviction order.
func (k *Keyed) MarshalBinary() ([]byte, error) {
	var e snapshot.Encoder
	e.String(keyedMagic)
	e.Uvarint(keyedVersion)
	c := k.cfg
	for _, v := range []int{c.Trees, c.SampleSize, c.TimeDecay, c.ShingleSize, c.Columns, k.maxKeys} {
		e.Uvarint(uint64(v))
	}
	e.Uvarint(c.Seed)
	e.Varint(k.evictions)
	e.Uvarint(uint64(len(k.forests)))
	for x := k.oldest; x != nil; x = x.newer {
		e.String(x.key)
		x.forest.encode(&e)
	}
	return e.Data(), nil
}

// UnmarshalBinary replaces k with a state from MarshalBinary; damaged input
// gives an error wrapping ErrState.
func (k *Keyed) UnmarshalBinary(data []byte) error {
	g, err := decodeKeyed(snapshot.NewDecoder(data))
	if err != nil {
		return fmt.Errorf("%w: keyed forests: %w", ErrState, err)
	}
	*k = *g
	return nil
}

func decodeKeyed(d *snapshot.Decoder) (*Keyed, error) {
	if m := d.String(); m != keyedMagic {
		if d.Err() != nil {
			return nil, d.Err()
		}
		return nil, fmt.Errorf("not a keyed forest state (starts %q)", m)
	}
	if v := d.Uvarint(); v != keyedVersion {
		if d.Err() != nil {
			return nil, d.Err()
		}
		return nil, fmt.Errorf("state version %d, this build reads version %d", v, keyedVersion)
	}
	var params [6]int
	for i := range params {
		params[i] = int(min(d.Uvarint(), 1<<31-1))
	}
	cfg := Config{Trees: params[0], SampleSize: params[1], TimeDecay: params[2], ShingleSize: params[3], Columns: params[4], Seed: d.Uvarint()}
	evictions := d.Varint()
	if d.Err() != nil {
		return nil, d.Err()
	}
	k, err := NewKeyed(cfg, params[5])
	if err != nil {
		return nil, err
	}
	if evictions < 0 {
		return nil, fmt.Errorf("eviction count %d", evictions)
	}
	k.evictions = evictions
	n := d.Count(2)
	if n > k.maxKeys {
		return nil, fmt.Errorf("%d keys, more than the bound %d", n, k.maxKeys)
	}
	for range n {
		key := d.String()
		if d.Err() != nil {
			return nil, d.Err()
		}
		if _, dup := k.forests[key]; dup {
			return nil, fmt.Errorf("key %q twice", key)
		}
		f, err := decodeForest(d)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		want := cfg
		want.Seed = keySeed(cfg.Seed, key)
		if f.cfg != want {
			return nil, fmt.Errorf("key %q: forest configuration %+v, want %+v", key, f.cfg, want)
		}
		e := &keyedForest{key: key, forest: f}
		k.forests[key] = e
		k.pushNewest(e)
	}
	if err := d.End(); err != nil {
		return nil, err
	}
	return k, nil
}
