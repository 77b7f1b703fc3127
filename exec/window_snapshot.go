package exec

import (
	"fmt"
	"slices"

	"github.com/eddy-streams/eddy/exec/snapshot"
)

// State of the window aggregators in checkpoints. Aggregate states and key
// stores encode themselves (aggstate_snapshot.go); the aggregators add their
// structure: the key dictionary, the windows and their groups.

type saver interface{ save(e *snapshot.Encoder) }
type loader interface{ load(d *snapshot.Decoder) }

func saveState(e *snapshot.Encoder, s any) {
	sv, ok := s.(saver)
	if !ok {
		panic(fmt.Sprintf("exec: %T cannot be checkpointed", s)) // every state implements it: a test checks
	}
	sv.save(e)
}

func loadState(d *snapshot.Decoder, s any) {
	l, ok := s.(loader)
	if !ok {
		d.Fail("%T cannot be restored", s)
		return
	}
	l.load(d)
}

const windowStateVersion = 1

// snapshot encodes the aligned windows of one worker.
func (w *windowAggregator) snapshot() []byte {
	var e snapshot.Encoder
	e.Uvarint(windowStateVersion)
	e.Varint(w.period)
	d := w.dict
	e.Int(int(d.n))
	hashes := make([]int64, d.n)
	for i, h := range d.hashes[:d.n] {
		hashes[i] = int64(h)
	}
	e.Int64s(hashes)
	e.Int32s(d.refs[:d.n])
	for _, s := range d.stores {
		saveState(&e, s)
	}
	starts := make([]int64, 0, len(w.tables))
	for start := range w.tables {
		starts = append(starts, start)
	}
	slices.Sort(starts)
	e.Uvarint(uint64(len(starts)))
	for _, start := range starts {
		t := w.tables[start]
		e.Varint(t.start)
		e.Varint(t.end)
		e.Bool(t.emitted)
		e.Int32s(t.keyIDs[:t.n])
		dirty := make([]int32, 0, len(t.dirty))
		for g := range t.dirty {
			dirty = append(dirty, g)
		}
		slices.Sort(dirty)
		e.Int32s(dirty)
		for _, a := range t.aggs {
			saveState(&e, a)
		}
	}
	return e.Data()
}

// restore replaces a fresh aggregator's state with a snapshot's.
func (w *windowAggregator) restore(b []byte) error {
	dec := snapshot.NewDecoder(b)
	if v := dec.Uvarint(); v != windowStateVersion {
		dec.Fail("window state version %d, want %d", v, windowStateVersion)
		return dec.Err()
	}
	w.period = dec.Varint()
	d := newKeyDict(w.spec)
	n := dec.Int()
	hashes := dec.Int64s()
	refs := dec.Int32s()
	if dec.Err() == nil && (len(hashes) != n || len(refs) != n || n < 0) {
		dec.Fail("key dictionary of %d keys with %d hashes and %d counts", n, len(hashes), len(refs))
	}
	for _, s := range d.stores {
		loadState(dec, s)
	}
	if dec.Err() != nil {
		return dec.Err()
	}
	d.n = int32(n)
	for k, h := range hashes {
		hu := uint64(h)
		prev, had := d.heads[hu]
		if !had {
			prev = -1
		}
		d.next = append(d.next, prev)
		d.heads[hu] = int32(k)
		d.hashes = append(d.hashes, hu)
	}
	d.refs = refs
	for _, r := range refs {
		if r > 0 {
			d.live++
		}
	}
	tables := map[int64]*windowTable{}
	for range dec.Count(4) {
		t := w.spec.newTable(dec.Varint(), dec.Varint())
		t.emitted = dec.Bool()
		keyIDs := dec.Int32s()
		dirty := dec.Int32s()
		for _, a := range t.aggs {
			loadState(dec, a)
		}
		if dec.Err() != nil {
			return dec.Err()
		}
		t.n = int32(len(keyIDs))
		t.keyIDs = keyIDs
		t.gidOf = make([]int32, n)
		for i := range t.gidOf {
			t.gidOf[i] = -1
		}
		for g, k := range keyIDs {
			if k < 0 || int(k) >= n || t.gidOf[k] >= 0 {
				dec.Fail("window %d: key id %d", t.start, k)
				return dec.Err()
			}
			t.gidOf[k] = int32(g)
		}
		for _, g := range dirty {
			if g < 0 || g >= t.n {
				dec.Fail("window %d: changed group %d of %d", t.start, g, t.n)
				return dec.Err()
			}
			t.dirty[g] = true
		}
		tables[t.start] = t
	}
	if err := dec.End(); err != nil {
		return err
	}
	w.dict, w.tables, w.last = d, tables, nil
	return nil
}

const dynStateVersion = 1

// snapshot encodes one worker's per-key windows.
func (d *dynAggregator) snapshot() []byte {
	var e snapshot.Encoder
	e.Uvarint(dynStateVersion)
	e.Varint(d.period)
	e.Int(int(d.keyCount))
	for _, s := range d.keyStores {
		saveState(&e, s)
	}
	e.Int(int(d.groups))
	e.Int32s(d.redirect[:d.groups])
	for _, a := range d.aggs {
		saveState(&e, a)
	}
	var keys []*dynKey
	for _, list := range d.keys {
		keys = append(keys, list...)
	}
	slices.SortFunc(keys, func(a, b *dynKey) int { return int(a.kid - b.kid) })
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.Int(int(k.kid))
		e.Varint(int64(k.hash))
		e.Bool(k.inEarly)
		e.Uvarint(uint64(len(k.wins)))
		for _, w := range k.wins {
			e.Varint(w.start)
			e.Varint(w.end)
			e.Int(int(w.gid))
			e.Bool(w.dirty)
			e.Uvarint(uint64(len(w.prior)))
			for _, p := range w.prior {
				e.Varint(p.start)
				e.Varint(p.end)
			}
		}
	}
	var early []int32
	for _, k := range d.earlyKeys {
		if !k.dropped {
			early = append(early, k.kid)
		}
	}
	e.Int32s(early)
	return e.Data()
}

// restore replaces a fresh aggregator's state with a snapshot's.
func (d *dynAggregator) restore(b []byte) error {
	dec := snapshot.NewDecoder(b)
	if v := dec.Uvarint(); v != dynStateVersion {
		dec.Fail("per-key window state version %d, want %d", v, dynStateVersion)
		return dec.Err()
	}
	d.period = dec.Varint()
	keyCount := dec.Int()
	for _, s := range d.keyStores {
		loadState(dec, s)
	}
	groups := dec.Int()
	redirect := dec.Int32s()
	for _, a := range d.aggs {
		loadState(dec, a)
	}
	if dec.Err() == nil && (keyCount < 0 || groups < 0 || len(redirect) != groups) {
		dec.Fail("%d keys, %d groups, %d redirects", keyCount, groups, len(redirect))
	}
	for _, r := range redirect {
		if r < 0 || int(r) >= groups {
			dec.Fail("group redirect %d of %d", r, groups)
			break
		}
	}
	if dec.Err() != nil {
		return dec.Err()
	}
	d.keyCount, d.groups, d.redirect = int32(keyCount), int32(groups), redirect
	d.keys = map[uint64][]*dynKey{}
	byKid := map[int32]*dynKey{}
	d.live, d.liveKeys = 0, 0
	for range dec.Count(4) {
		k := &dynKey{kid: int32(dec.Int()), hash: uint64(dec.Varint()), inEarly: dec.Bool(), next: maxTime}
		for range dec.Count(4) {
			w := dynWindow{start: dec.Varint(), end: dec.Varint(), gid: int32(dec.Int()), dirty: dec.Bool()}
			for range dec.Count(2) {
				w.prior = append(w.prior, span{dec.Varint(), dec.Varint()})
			}
			if dec.Err() == nil && (w.gid < 0 || int(w.gid) >= groups) {
				dec.Fail("window group %d of %d", w.gid, groups)
			}
			k.wins = append(k.wins, w)
		}
		if dec.Err() != nil {
			return dec.Err()
		}
		if k.kid < 0 || int(k.kid) >= keyCount || byKid[k.kid] != nil {
			dec.Fail("key id %d", k.kid)
			return dec.Err()
		}
		byKid[k.kid] = k
		d.keys[k.hash] = append(d.keys[k.hash], k)
		d.liveKeys++
		d.live += len(k.wins)
		next := int64(maxTime)
		for _, w := range k.wins {
			if w.dirty {
				next = min(next, w.end)
			} else {
				next = min(next, w.end+d.lateness)
			}
		}
		if len(k.wins) > 0 {
			d.schedule(k, next)
		}
	}
	for _, kid := range dec.Int32s() {
		k := byKid[kid]
		if k == nil {
			dec.Fail("early key %d", kid)
			break
		}
		d.earlyKeys = append(d.earlyKeys, k)
	}
	return dec.End()
}
