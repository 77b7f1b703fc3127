package rcf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestKeyedEvictsLeastRecentlyUsed(t *testing.T) {
	k, err := NewKeyed(smallConfig(1, 1), 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a", "b", "c", "a", "d"} {
		k.Update(key, []float64{1})
	}
	if got := k.Keys(); !slices.Equal(got, []string{"d", "a", "c"}) || k.Evictions() != 1 {
		t.Fatalf("keys %v, %d evictions; want [d a c] and 1 (b was least recently used)", got, k.Evictions())
	}
	k.Update("b", []float64{1})
	if got := k.Keys(); !slices.Equal(got, []string{"b", "d", "a"}) || k.Evictions() != 2 {
		t.Fatalf("keys %v, %d evictions; want [b d a] and 2", got, k.Evictions())
	}
	if k.Forest("b").Seen() != 1 {
		t.Fatal("an evicted key came back with its old forest")
	}
	if _, err := NewKeyed(smallConfig(1, 1), 0); err == nil {
		t.Fatal("a bound of 0 keys was accepted")
	}
}

// TestKeyedForestIsItsOwn: a key's scores are those of a lone forest with
// the key's seed, whatever other keys do.
func TestKeyedForestIsItsOwn(t *testing.T) {
	cfg := smallConfig(2, 2)
	k, _ := NewKeyed(cfg, 10)
	alone := cfg
	alone.Seed = keySeed(cfg.Seed, "s1")
	lone := mustNew(t, alone)
	rows := randomRows(600, 2, 21)
	for i, r := range rows {
		k.Update("s0", rows[len(rows)-1-i])
		a, b := k.Update("s1", r), lone.Update(r)
		if a != b {
			t.Fatalf("row %d: keyed %v, alone %v", i, a, b)
		}
	}
}

// TestKeyedCheckpointContinuesExactly checkpoints keyed forests that have
// evicted keys and requires the same scores, keys and evictions as an
// uninterrupted run.
func TestKeyedCheckpointContinuesExactly(t *testing.T) {
	cfg := Config{Trees: 10, SampleSize: 16, TimeDecay: 100, ShingleSize: 2, Columns: 2, Seed: 3}
	rows := withNaNs(randomRows(2400, 2, 22))
	keyOf := func(i int) string { return fmt.Sprintf("sensor-%d", (i*7+i/13)%5) } // uneven, 5 keys over a bound of 3
	orig, _ := NewKeyed(cfg, 3)
	for i, r := range rows[:1200] {
		orig.Update(keyOf(i), r)
	}
	if orig.Evictions() == 0 {
		t.Fatal("the test needs evictions before the checkpoint")
	}
	state, _ := orig.MarshalBinary()
	var restored Keyed
	if err := restored.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if again, _ := restored.MarshalBinary(); !bytes.Equal(state, again) {
		t.Fatal("the restored state differs from the one it came from")
	}
	oa, ra := make([]Attribution, 2), make([]Attribution, 2)
	for i := 1200; i < len(rows); i++ {
		a := orig.UpdateExplain(keyOf(i), rows[i], oa)
		b := restored.UpdateExplain(keyOf(i), rows[i], ra)
		if math.Float64bits(a) != math.Float64bits(b) || !slices.Equal(oa, ra) {
			t.Fatalf("row %d: %v %v uninterrupted, %v %v restored", i, a, oa, b, ra)
		}
	}
	if orig.Evictions() != restored.Evictions() || !slices.Equal(orig.Keys(), restored.Keys()) {
		t.Fatalf("evictions %d/%d, keys %v/%v", orig.Evictions(), restored.Evictions(), orig.Keys(), restored.Keys())
	}
	for n := 0; n < len(state); n += 1 + n/50 {
		if err := new(Keyed).UnmarshalBinary(state[:n]); !errors.Is(err, ErrState) {
			t.Fatalf("a state cut to %d bytes: %v", n, err)
		}
	}
}

func FuzzKeyedUnmarshalBinary(f *testing.F) {
	k, _ := NewKeyed(Config{Trees: 2, SampleSize: 10, TimeDecay: 30, ShingleSize: 1, Columns: 1, Seed: 1}, 2)
	for i := range 40 {
		k.Update(fmt.Sprint(i%3), []float64{float64(i % 5)})
	}
	b, _ := k.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var g Keyed
		if err := g.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrState) {
				t.Fatalf("error %v does not wrap ErrState", err)
			}
			return
		}
		row := make([]float64, g.Config().Columns)
		for i := range 30 {
			row[0] = float64(i)
			g.Update(fmt.Sprint(i%4), row)
		}
		if _, err := g.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}
