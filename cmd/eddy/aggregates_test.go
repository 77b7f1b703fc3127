package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// aggApp runs the statistical, time-ordered and sketch aggregates over a
// tumbling and a hopping window, each into its own file sink.
const aggApp = `CREATE STREAM ticks (
  k VARCHAR, v BIGINT, d DOUBLE, price DECIMAL(12,2), tag VARCHAR, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH (connector = 'kinesis', stream = 'ticks', format = 'json');

CREATE SINK tumbling WITH (connector = 'file', path = '%s', format = 'json');
CREATE SINK hopping WITH (connector = 'file', path = '%s', format = 'json');

INSERT INTO tumbling
SELECT k, window_start, STDDEV(v) AS sd_v, STDDEV_POP(d) AS sdp_d, VARIANCE(price) AS var_price, VAR_POP(v) AS varp_v,
       FIRST_VALUE(tag) AS first_tag, LAST_VALUE(d) AS last_d, FIRST_VALUE(price) AS open,
       APPROX_COUNT_DISTINCT(tag) AS tags, APPROX_PERCENTILE(d, 0.5) AS median_d, TOP_K(tag, 3) AS top_tags,
       SUM(DISTINCT v) AS sum_dv
FROM ticks
GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND);

INSERT INTO hopping
SELECT k, window_start, STDDEV(v) AS sd_v, STDDEV_POP(d) AS sdp_d, VARIANCE(price) AS var_price, VAR_POP(v) AS varp_v,
       FIRST_VALUE(tag) AS first_tag, LAST_VALUE(d) AS last_d, FIRST_VALUE(price) AS open,
       APPROX_COUNT_DISTINCT(tag) AS tags, APPROX_PERCENTILE(d, 0.5) AS median_d, TOP_K(tag, 3) AS top_tags,
       SUM(DISTINCT v) AS sum_dv
FROM ticks
GROUP BY k, HOP(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND)
HAVING COUNT(*) > 1;
`

type tick struct {
	k     string
	v     *int64
	d     float64
	price *big.Rat
	tag   *string
	ts    int64
}

// genTicks makes n events with distinct times (so FIRST/LAST_VALUE have no
// ties, whatever order the shards are read in), shuffled within blocks so
// that they arrive up to ~0.4 s out of order, below the 2 s watermark delay.
func genTicks(rng *rand.Rand, n int) []tick {
	base := int64(1_767_225_600_000)
	out := make([]tick, n)
	for i := range out {
		e := tick{k: fmt.Sprintf("key-%d", rng.IntN(12)), d: float64(rng.IntN(40_000)-10_000) / 16, ts: base + int64(i)*7 + 3}
		if rng.IntN(10) != 0 {
			v := rng.Int64N(200) - 50
			e.v = &v
		}
		e.price = big.NewRat(rng.Int64N(1_000_000), 100)
		if rng.IntN(8) != 0 {
			tag := fmt.Sprintf("t%d", int(math.Abs(rng.NormFloat64()*4)))
			e.tag = &tag
		}
		out[i] = e
	}
	for b := 0; b < n; b += 60 {
		blk := out[b:min(b+60, n)]
		rng.Shuffle(len(blk), func(i, j int) { blk[i], blk[j] = blk[j], blk[i] })
	}
	return out
}

func (e tick) json() string {
	fields := []string{fmt.Sprintf(`"k":%q`, e.k), fmt.Sprintf(`"d":%v`, e.d), fmt.Sprintf(`"price":%s`, e.price.FloatString(2)),
		fmt.Sprintf(`"ts":%q`, time.UnixMilli(e.ts).UTC().Format("2006-01-02T15:04:05.000Z"))}
	if e.v != nil {
		fields = append(fields, fmt.Sprintf(`"v":%d`, *e.v))
	}
	if e.tag != nil {
		fields = append(fields, fmt.Sprintf(`"tag":%q`, *e.tag))
	}
	return "{" + strings.Join(fields, ",") + "}"
}

// ratVariance is the exact variance of xs (sample when samp), as a float64.
func ratVariance(xs []*big.Rat, samp bool) (float64, bool) {
	n := int64(len(xs))
	if n == 0 || (samp && n == 1) {
		return 0, false
	}
	mean := new(big.Rat)
	for _, x := range xs {
		mean.Add(mean, x)
	}
	mean.Quo(mean, big.NewRat(n, 1))
	ss := new(big.Rat)
	for _, x := range xs {
		d := new(big.Rat).Sub(x, mean)
		ss.Add(ss, d.Mul(d, d))
	}
	if samp {
		n--
	}
	f, _ := ss.Quo(ss, big.NewRat(n, 1)).Float64()
	return f, true
}

// aggOracle computes one window's expected columns from its events.
func aggOracle(evs []tick) map[string]any {
	var vs, ds, prices []*big.Rat
	var dsF []float64
	counts := map[string]int{}
	distinctV := map[int64]bool{}
	first, last, open := -1, -1, -1
	for i, e := range evs {
		if e.v != nil {
			vs = append(vs, big.NewRat(*e.v, 1))
			distinctV[*e.v] = true
		}
		ds = append(ds, new(big.Rat).SetFloat64(e.d))
		dsF = append(dsF, e.d)
		prices = append(prices, e.price)
		if e.tag != nil {
			counts[*e.tag]++
			if first < 0 || e.ts < evs[first].ts {
				first = i
			}
		}
		if last < 0 || e.ts > evs[last].ts {
			last = i
		}
		if open < 0 || e.ts < evs[open].ts {
			open = i
		}
	}
	out := map[string]any{}
	set := func(name string, v float64, ok bool, sqrt bool) {
		if !ok {
			out[name] = nil
			return
		}
		if sqrt {
			v = math.Sqrt(v)
		}
		out[name] = v
	}
	v, ok := ratVariance(vs, true)
	set("sd_v", v, ok, true)
	v, ok = ratVariance(ds, false)
	set("sdp_d", v, ok, true)
	v, ok = ratVariance(prices, true)
	set("var_price", v, ok, false)
	v, ok = ratVariance(vs, false)
	set("varp_v", v, ok, false)
	out["first_tag"] = nil
	if first >= 0 {
		out["first_tag"] = *evs[first].tag
	}
	out["last_d"] = evs[last].d
	out["open"] = evs[open].price
	out["tags"] = len(counts)
	slices.Sort(dsF)
	p := 0.5 * float64(len(dsF)-1)
	lo := int(math.Floor(p))
	med := dsF[lo]
	if lo+1 < len(dsF) && p > float64(lo) {
		med = dsF[lo] + (p-float64(lo))*(dsF[lo+1]-dsF[lo])
	}
	out["median_d"] = med
	var tags []string
	for t := range counts {
		tags = append(tags, t)
	}
	slices.SortFunc(tags, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	var top []string
	for _, t := range tags[:min(3, len(tags))] {
		top = append(top, fmt.Sprintf(`{"value":%q,"count":%d}`, t, counts[t]))
	}
	out["top_tags"] = nil
	if len(top) > 0 {
		out["top_tags"] = "[" + strings.Join(top, ",") + "]"
	}
	out["sum_dv"] = nil
	if len(distinctV) > 0 {
		s := int64(0)
		for x := range distinctV {
			s += x
		}
		out["sum_dv"] = s
	}
	return out
}

// windowsOf groups events by key and every window [s, s+size) holding them.
func windowsOf(evs []tick, size, slide int64) map[string][]tick {
	out := map[string][]tick{}
	for _, e := range evs {
		for s := e.ts - ((e.ts%slide)+slide)%slide; s > e.ts-size; s -= slide {
			k := fmt.Sprintf("%s|%d", e.k, s)
			out[k] = append(out[k], e)
		}
	}
	return out
}

func checkAggOutput(t *testing.T, path string, want map[string][]tick, minRows int) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	got := 0
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		var k, ws string
		json.Unmarshal(raw["k"], &k)
		json.Unmarshal(raw["window_start"], &ws)
		start, err := time.Parse(time.RFC3339Nano, ws)
		if err != nil {
			t.Fatalf("window_start %q: %v", ws, err)
		}
		key := fmt.Sprintf("%s|%d", k, start.UnixMilli())
		evs, ok := want[key]
		if !ok {
			t.Fatalf("output has window %s that the oracle lacks (or twice): %s", key, sc.Text())
		}
		delete(want, key)
		got++
		for name, exp := range aggOracle(evs) {
			g := raw[name]
			bad := false
			switch e := exp.(type) {
			case nil:
				bad = string(g) != "null"
			case float64:
				var x float64
				if json.Unmarshal(g, &x) != nil || math.Abs(x-e) > 1e-9*math.Max(math.Abs(e), 1e-300) {
					bad = !(x == 0 && e == 0)
				}
			case string:
				if name == "top_tags" {
					bad = string(g) != e // a JSON column is written as JSON
				} else {
					var s string
					bad = json.Unmarshal(g, &s) != nil || s != e
				}
			case *big.Rat:
				r, ok := new(big.Rat).SetString(string(g))
				bad = !ok || r.Cmp(e) != 0
			case int64:
				bad = string(g) != fmt.Sprint(e)
			case int: // APPROX_COUNT_DISTINCT: within 2%
				var x float64
				bad = json.Unmarshal(g, &x) != nil || math.Abs(x-float64(e)) > math.Ceil(0.02*float64(e))
			}
			if bad {
				t.Fatalf("window %s (%d events): %s = %s, oracle %v", key, len(evs), name, g, exp)
			}
		}
	}
	for key, evs := range want {
		if len(evs) >= minRows {
			t.Fatalf("window %s (%d events) missing from the output (got %d)", key, len(evs), got)
		}
	}
	return got
}

// TestAggregatesEndToEnd runs the new aggregates through eddy run --bounded
// over 4 shards (JSON in, JSON file sinks out) and checks every window
// against an oracle computed from the generated events.
func TestAggregatesEndToEnd(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	evs := genTicks(rng, 20_000)
	var in bytes.Buffer
	for _, e := range evs {
		in.WriteString(e.json() + "\n")
	}
	inPath := filepath.Join(dir, "ticks.jsonl")
	os.WriteFile(inPath, in.Bytes(), 0o644)
	c.ok(nil, "streams", "create", "ticks", "--shards", "4")
	c.putFile(inPath, "ticks")
	tumbling, hopping := filepath.Join(dir, "tumbling.jsonl"), filepath.Join(dir, "hopping.jsonl")
	appPath := filepath.Join(dir, "aggs.sql")
	os.WriteFile(appPath, fmt.Appendf(nil, aggApp, tumbling, hopping), 0o644)
	out := c.run(nil, "run", appPath, "--bounded")
	if out.code != 0 {
		t.Fatalf("eddy run: exit %d\n%s", out.code, out.stderr)
	}
	nt := checkAggOutput(t, tumbling, windowsOf(evs, 10_000, 10_000), 1)
	nh := checkAggOutput(t, hopping, windowsOf(evs, 10_000, 5_000), 2) // HAVING COUNT(*) > 1
	t.Logf("%d events: %d tumbling and %d hopping windows equal to the oracle", len(evs), nt, nh)
	if recs := c.get("aggs-errors"); len(recs) != 0 {
		t.Fatalf("the error stream holds %d records, e.g. %s", len(recs), recs[0].Data)
	}
}
