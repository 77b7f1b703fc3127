package transform

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestApply runs a transform over generated records and checks each result
// against the same computation done here in Go: kept rows transformed,
// filtered rows dropped, records that do not fit failed with their reason,
// every result at its record's index.
func TestApply(t *testing.T) {
	tr, err := Compile(Definition("id BIGINT, page VARCHAR, ms BIGINT, tags JSON",
		"SELECT id, UPPER(page) AS page, ms * 2 AS ms2, id % 3 = 0 AS third FROM record WHERE ms >= 10 AND page <> '/skip'"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var recs [][]byte
	type want struct {
		out     string
		dropped bool
		fails   string
	}
	var wants []want
	for i := range 2000 {
		ms := rng.IntN(40)
		page := fmt.Sprintf("/p%d", rng.IntN(5))
		switch {
		case i%97 == 3:
			recs = append(recs, []byte(`{"id":"seven"}`))
			wants = append(wants, want{fails: "id"})
			continue
		case i%89 == 5:
			recs = append(recs, []byte(`[1,2]`))
			wants = append(wants, want{fails: "JSON object"})
			continue
		case i%13 == 0:
			page = "/skip"
		}
		recs = append(recs, fmt.Appendf(nil, `{"id":%d,"page":%q,"ms":%d,"extra":true}`, i, page, ms))
		if ms < 10 || page == "/skip" {
			wants = append(wants, want{dropped: true})
			continue
		}
		out, _ := json.Marshal(map[string]any{"id": i, "page": strings.ToUpper(page), "ms2": ms * 2, "third": i%3 == 0})
		wants = append(wants, want{out: string(out)})
	}
	// In batches of uneven sizes, as reads give them.
	for start := 0; start < len(recs); {
		n := min(len(recs)-start, 1+rng.IntN(300))
		res, err := tr.Apply(recs[start : start+n])
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != n {
			t.Fatalf("%d results for %d records", len(res), n)
		}
		for k, r := range res {
			i, w := start+k, wants[start+k]
			switch {
			case w.fails != "":
				if r.Err == "" || !strings.Contains(r.Err, w.fails) || r.Data != nil {
					t.Fatalf("record %d (%s): %+v, want a failure about %s", i, recs[i], r, w.fails)
				}
			case w.dropped:
				if !r.Dropped || r.Data != nil || r.Err != "" {
					t.Fatalf("record %d (%s): %+v, want dropped", i, recs[i], r)
				}
			default:
				var got, exp map[string]any
				if err := json.Unmarshal(r.Data, &got); err != nil {
					t.Fatalf("record %d: output %q: %v", i, r.Data, err)
				}
				_ = json.Unmarshal([]byte(w.out), &exp)
				if fmt.Sprint(got) != fmt.Sprint(exp) {
					t.Fatalf("record %d: got %s, want %s", i, r.Data, w.out)
				}
			}
		}
		start += n
	}
}

// TestCompileErrors: a transform maps records one by one; anything else is
// refused with a message saying what is allowed.
func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ cols, query, want string }{
		{"id BIGINT", "SELECT COUNT(*) FROM record GROUP BY TUMBLE(ROWTIME, INTERVAL '1' MINUTE)", "no GROUP BY"},
		{"id BIGINT", "SELECT id, ROW_NUMBER() OVER (PARTITION BY id) AS n FROM record", "no OVER"},
		{"id BIGINT", "SELECT id FROM record LIMIT 3", "no LIMIT"},
		{"id BIGINT", "SELECT id, ROWTIME FROM record", "ROWTIME"},
		{"id BIGINT", "SELECT nope FROM record", "nope"},
		{"id WIBBLE", "SELECT id FROM record", "WIBBLE"},
		{"id BIGINT", "SELECT id FROM record; SELECT id FROM record", "one SELECT"},
		{"id BIGINT", "SELECT id FROM other", "other"},
	} {
		_, err := Compile(Definition(tc.cols, tc.query))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s | %s: got %v, want an error about %s", tc.cols, tc.query, err, tc.want)
		}
	}
}

// FuzzApply: any record gives exactly one result, never a panic, and a
// result is one of transformed, dropped or failed.
func FuzzApply(f *testing.F) {
	for _, s := range []string{`{"id":1,"page":"/a","ms":12}`, `{"id":"x"}`, `[]`, `{"ms":1e400}`, `{"page":"\ud800"}`, ``} {
		f.Add([]byte(s))
	}
	tr, err := Compile(Definition("id BIGINT, page VARCHAR, ms DOUBLE", "SELECT id * 2 AS id2, page, ms / 3 AS third FROM record WHERE ms > 1"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		res, err := tr.Apply([][]byte{rec, []byte(`{"id":1,"page":"p","ms":5}`)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[1].Data == nil {
			t.Fatalf("results %+v", res)
		}
		r := res[0]
		states := 0
		for _, b := range []bool{r.Data != nil, r.Dropped, r.Err != ""} {
			if b {
				states++
			}
		}
		if states != 1 {
			t.Fatalf("result %+v for %q", r, rec)
		}
	})
}
