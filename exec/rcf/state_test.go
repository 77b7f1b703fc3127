package rcf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withNaNs puts a non-finite row every 97 rows.
func withNaNs(rows [][]float64) [][]float64 {
	for i := 96; i < len(rows); i += 97 {
		rows[i] = append([]float64(nil), rows[i]...)
		rows[i][0] = math.NaN()
	}
	return rows
}

// TestCheckpointContinuesExactly feeds n rows, restores a new forest from
// the state, feeds both the same rows and requires equal scores and
// attributions bit for bit, at checkpoints inside and after the warm-up
// and with a part-filled shingle.
func TestCheckpointContinuesExactly(t *testing.T) {
	for _, tc := range []struct {
		cfg    Config
		before int
	}{
		{smallConfig(2, 1), 10},
		{smallConfig(2, 3), 1},
		{smallConfig(1, 1), 700},
		{smallConfig(3, 4), 900},
		{Config{Trees: 7, SampleSize: 10, TimeDecay: 11, ShingleSize: 2, Columns: 2, Seed: 9}, 300},
	} {
		t.Run(fmt.Sprintf("%+v/before=%d", tc.cfg, tc.before), func(t *testing.T) {
			rows := withNaNs(randomRows(tc.before+700, tc.cfg.Columns, 11))
			orig := mustNew(t, tc.cfg)
			for _, r := range rows[:tc.before] {
				orig.Update(r)
			}
			state, err := orig.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var restored Forest
			if err := restored.UnmarshalBinary(state); err != nil {
				t.Fatal(err)
			}
			again, _ := restored.MarshalBinary()
			if !bytes.Equal(state, again) {
				t.Fatal("the restored forest's state differs from the one it came from")
			}
			oa, ra := make([]Attribution, tc.cfg.Columns), make([]Attribution, tc.cfg.Columns)
			for i, r := range rows[tc.before:] {
				a, b := orig.UpdateExplain(r, oa), restored.UpdateExplain(r, ra)
				if math.Float64bits(a) != math.Float64bits(b) {
					t.Fatalf("row %d after the checkpoint: %v uninterrupted, %v restored", i, a, b)
				}
				for c := range oa {
					if oa[c] != ra[c] {
						t.Fatalf("row %d column %d: %+v uninterrupted, %+v restored", i, c, oa[c], ra[c])
					}
				}
			}
			s1, _ := orig.MarshalBinary()
			s2, _ := restored.MarshalBinary()
			if !bytes.Equal(s1, s2) {
				t.Fatal("states differ at the end")
			}
		})
	}
}

func damagedStateSample(t testing.TB) []byte {
	cfg := Config{Trees: 3, SampleSize: 10, TimeDecay: 50, ShingleSize: 2, Columns: 2, Seed: 1}
	f := mustNew(t, cfg)
	for _, r := range randomRows(80, 2, 12) {
		f.Update(r)
	}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// useRestored runs rows through a forest restored from damaged bytes; it
// must not panic.
func useRestored(f *Forest) {
	out := make([]Attribution, f.cfg.Columns)
	for _, r := range randomRows(60, f.cfg.Columns, 13) {
		f.UpdateExplain(r, out)
	}
	_, _ = f.MarshalBinary()
}

// TestUnmarshalDamaged cuts the state at every length and flips bytes; every
// cut is an error, and no damage panics, now or in later updates.
func TestUnmarshalDamaged(t *testing.T) {
	state := damagedStateSample(t)
	for n := range len(state) {
		var f Forest
		err := f.UnmarshalBinary(state[:n])
		if err == nil {
			t.Fatalf("a state cut to %d of %d bytes was accepted", n, len(state))
		}
		if !errors.Is(err, ErrState) {
			t.Fatalf("cut to %d bytes: error %v does not wrap ErrState", n, err)
		}
	}
	if err := new(Forest).UnmarshalBinary(append(state[:len(state):len(state)], 0)); err == nil {
		t.Fatal("a state with a byte added was accepted")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	accepted := 0
	for range 1000 {
		b := bytes.Clone(state)
		for range 1 + rng.IntN(3) {
			b[rng.IntN(len(b))] ^= byte(1 << rng.IntN(8))
		}
		var f Forest
		if f.UnmarshalBinary(b) == nil {
			accepted++
			useRestored(&f)
		}
	}
	t.Logf("%d of 1000 damaged states were accepted (changed keys or values that are still consistent) and used", accepted)
}

func FuzzUnmarshalBinary(f *testing.F) {
	f.Add(damagedStateSample(f))
	small := mustNew(f, Config{Trees: 1, SampleSize: 10, TimeDecay: 20, ShingleSize: 1, Columns: 1})
	for i := range 15 {
		small.Update([]float64{float64(i % 4)})
	}
	b, _ := small.MarshalBinary()
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var fo Forest
		if err := fo.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrState) {
				t.Fatalf("error %v does not wrap ErrState", err)
			}
			return
		}
		useRestored(&fo)
	})
}
