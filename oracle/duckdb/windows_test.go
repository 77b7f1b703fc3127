package oracle

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// The datasets: 120,000 events from 2026-01-01 (about 20 minutes of event
// time), and 20,000 events that start 100 s before the Unix epoch, so windows
// straddle time 0 and negative times must round down, not toward zero.
var (
	main2026 = &dataset{stream: "events", shards: 4, n: envInt("EDDY_ORACLE_EVENTS", 120_000), base: 1_767_225_600_000, seed: envSeed()}
	epoch    = &dataset{stream: "epoch", shards: 4, n: 20_000, base: -100_000, seed: envSeed() + 1}
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// envSeed is $EDDY_ORACLE_SEED, or a fixed seed so a failure reproduces.
func envSeed() uint64 {
	if n, err := strconv.ParseUint(os.Getenv("EDDY_ORACLE_SEED"), 10, 64); err == nil {
		return n
	}
	return 20260101
}

// Every aggregate over every column type, as eddy and DuckDB spell them.
const (
	allAggs = `COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS sv, MIN(v) AS minv, MAX(v) AS maxv, AVG(v) AS avgv,
  COUNT(d) AS nd, SUM(d) AS sd, MIN(d) AS mind, MAX(d) AS maxd, AVG(d) AS avgd,
  COUNT(price) AS np, SUM(price) AS sp, MIN(price) AS minp, MAX(price) AS maxp, AVG(price) AS avgp`
	allAggsDuck = `COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS sv, MIN(v) AS minv, MAX(v) AS maxv, AVG(v) AS avgv,
  COUNT(d) AS nd, SUM(d) AS sd, MIN(d) AS mind, MAX(d) AS maxd, AVG(d) AS avgd,
  COUNT(price) AS np, SUM(price) AS sp, MIN(price) AS minp, MAX(price) AS maxp, exact_avg2(price) AS avgp`
)

// tumble gives DuckDB's TUMBLE: time_bucket with the origin at the epoch plus
// the offset, an implementation of fixed windows that is not ours.
func tumble(size, origin string) (start, end string) {
	start = "time_bucket(INTERVAL " + size + ", ts, TIMESTAMP '" + origin + "')"
	return start + " AS window_start", start + " + INTERVAL " + size + " AS window_end"
}

func tumbleQueries() []query {
	ws10, we10 := tumble("10 SECOND", "1970-01-01")
	ws7, we7 := tumble("7 SECOND", "1970-01-01 00:00:02.5")
	wsMin, weMin := tumble("1 MINUTE", "1970-01-01 00:00:17")
	ws5, we5 := tumble("5 SECOND", "1970-01-01")
	return []query{
		{
			name: "tumble_two_keys",
			eddy: `SELECT k1, k2, window_start, window_end, ` + allAggs + `
FROM events GROUP BY k1, k2, TUMBLE(ts, INTERVAL '10' SECOND)`,
			reads: []string{"k1", "k2", "v", "d", "price"},
			duck: `SELECT k1, k2, ` + ws10 + `, ` + we10 + `, ` + allAggsDuck + `
FROM ev GROUP BY ALL`,
			keys: []string{"k1", "k2"}, approx: []string{"avgv", "avgd"}, avg6: []string{"avgp"},
		},
		{
			name: "tumble_offset",
			eddy: `SELECT k1, window_start, window_end, ` + allAggs + `
FROM events GROUP BY k1, TUMBLE(ts, INTERVAL '7' SECOND, INTERVAL '2.5' SECOND)`,
			reads: []string{"k1", "v", "d", "price"},
			duck: `SELECT k1, ` + ws7 + `, ` + we7 + `, ` + allAggsDuck + `
FROM ev GROUP BY ALL`,
			keys: []string{"k1"}, approx: []string{"avgv", "avgd"}, avg6: []string{"avgp"},
		},
		{
			// MIN/MAX of strings (byte order: "" < " " < "KEY-01" < "key-01" < "ключ"),
			// COUNT(DISTINCT), a minute with an offset; k1 is read, v and d are not.
			name: "tumble_minute_strings",
			eddy: `SELECT k2, window_start, window_end, COUNT(*) AS n, COUNT(k1) AS nk, COUNT(DISTINCT k1) AS dk,
  MIN(k1) AS mink, MAX(k1) AS maxk, SUM(price) AS sp
FROM events GROUP BY k2, TUMBLE(ts, INTERVAL '1' MINUTE, INTERVAL '17' SECOND)`,
			reads: []string{"k1", "k2", "price"},
			duck: `SELECT k2, ` + wsMin + `, ` + weMin + `, COUNT(*) AS n, COUNT(k1) AS nk, COUNT(DISTINCT k1) AS dk,
  MIN(k1) AS mink, MAX(k1) AS maxk, SUM(price) AS sp
FROM ev GROUP BY ALL`,
			keys: []string{"k2"},
		},
		{
			// Three-valued logic: v NULL with d < 0 passes (NULL OR TRUE), v NULL
			// with d >= 0 does not (NULL OR FALSE); NULL k1 fails <>; NULL price
			// fails NOT (...).
			name: "tumble_where_nulls",
			eddy: `SELECT k1, window_start, window_end, COUNT(*) AS n, SUM(v) AS sv, SUM(price) AS sp, MIN(d) AS mind
FROM events
WHERE (v > 0 OR d < 0) AND k1 <> 'key-03' AND NOT (price > 40000)
GROUP BY k1, TUMBLE(ts, INTERVAL '5' SECOND)`,
			reads: []string{"k1", "v", "d", "price"},
			where: `(v > 0 OR d < 0) AND k1 <> 'key-03' AND NOT (price > 40000)`,
			duck: `SELECT k1, ` + ws5 + `, ` + we5 + `, COUNT(*) AS n, SUM(v) AS sv, SUM(price) AS sp, MIN(d) AS mind
FROM ev WHERE (v > 0 OR d < 0) AND k1 <> 'key-03' AND NOT (price > 40000)
GROUP BY ALL`,
			keys: []string{"k1"},
		},
		{
			// NOT IN with a NULL in the list is never TRUE: only v IS NULL rows
			// pass. IS NOT TRUE keeps NULLs; IN with a NULL keeps matches.
			name: "tumble_where_in_null",
			eddy: `SELECT k2, window_start, COUNT(*) AS n, COUNT(v) AS nv, COUNT(d) AS nd
FROM events
WHERE (k2 NOT IN (1, NULL) OR v IS NULL) AND (d < 0) IS NOT TRUE AND k1 IN ('key-01', '', 'NULL', NULL)
GROUP BY k2, TUMBLE(ts, INTERVAL '10' SECOND)`,
			reads: []string{"k1", "k2", "v", "d"},
			where: `(k2 NOT IN (1, NULL) OR v IS NULL) AND (d < 0) IS NOT TRUE AND k1 IN ('key-01', '', 'NULL', NULL)`,
			duck: `SELECT k2, ` + ws10 + `, COUNT(*) AS n, COUNT(v) AS nv, COUNT(d) AS nd
FROM ev WHERE (k2 NOT IN (1, NULL) OR v IS NULL) AND (d < 0) IS NOT TRUE AND k1 IN ('key-01', '', 'NULL', NULL)
GROUP BY ALL`,
			keys: []string{"k2"},
		},
		{
			name: "tumble_where_empty",
			eddy: `SELECT k1, window_start, COUNT(*) AS n FROM events WHERE k2 NOT IN (1, 2, NULL)
GROUP BY k1, TUMBLE(ts, INTERVAL '10' SECOND)`,
			reads: []string{"k1", "k2"},
			where: `k2 NOT IN (1, 2, NULL)`,
			duck:  `SELECT k1, ` + ws10 + `, COUNT(*) AS n FROM ev WHERE k2 NOT IN (1, 2, NULL) GROUP BY ALL`,
			keys:  []string{"k1"},
		},
		{
			// Kinesis Data Analytics' forms of TUMBLE: the window expression in
			// SELECT is the window start.
			name: "tumble_kda_step",
			eddy: `SELECT k2, STEP(ts BY INTERVAL '20' SECOND) AS window_start, COUNT(*) AS n, SUM(price) AS sp
FROM events GROUP BY k2, STEP(ts BY INTERVAL '20' SECOND)`,
			reads: []string{"k2", "price"},
			duck: `SELECT k2, time_bucket(INTERVAL 20 SECOND, ts, TIMESTAMP '1970-01-01') AS window_start, COUNT(*) AS n, SUM(price) AS sp
FROM ev GROUP BY ALL`,
			keys: []string{"k2"},
		},
		{
			name: "tumble_kda_floor",
			eddy: `SELECT k1, FLOOR(ts TO MINUTE) AS window_start, COUNT(*) AS n, MAX(v) AS maxv
FROM events GROUP BY k1, FLOOR(ts TO MINUTE)`,
			reads: []string{"k1", "v"},
			duck: `SELECT k1, date_trunc('minute', ts) AS window_start, COUNT(*) AS n, MAX(v) AS maxv
FROM ev GROUP BY ALL`,
			keys: []string{"k1"},
		},
		{
			// HAVING over aggregates the SELECT does not show, with NULL sums.
			name: "tumble_having",
			eddy: `SELECT k1, window_start, window_end, COUNT(*) AS n, SUM(v) AS sv
FROM events GROUP BY k1, TUMBLE(ts, INTERVAL '10' SECOND)
HAVING (COUNT(v) < COUNT(*) AND (SUM(v) > 0 OR MIN(d) < 0)) OR AVG(price) > 100000`,
			reads: []string{"k1", "v", "d", "price"},
			duck: `SELECT k1, ` + ws10 + `, ` + we10 + `, COUNT(*) AS n, SUM(v) AS sv
FROM ev GROUP BY ALL
HAVING (COUNT(v) < COUNT(*) AND (SUM(v) > 0 OR MIN(d) < 0)) OR AVG(price) > 100000`,
			keys: []string{"k1"},
		},
	}
}

// hop gives DuckDB's HOP: every window start from hop_starts joined with the
// events it holds, start <= ts < start + size (the definition, not a formula).
func hop(slideMs, sizeMs int) (from, start, end string) {
	slide, size := strconv.Itoa(slideMs), strconv.Itoa(sizeMs)
	return "ev JOIN hop_starts(" + slide + ", " + size + ") w ON ev.ts_ms >= w.ws AND ev.ts_ms < w.ws + " + size,
		"epoch_ms(w.ws) AS window_start", "epoch_ms(w.ws + " + size + ") AS window_end"
}

func hopQueries() []query {
	from5x, ws5x, we5x := hop(2000, 10_000)
	from25, ws25, we25 := hop(4000, 10_000)
	fromOdd, wsOdd, weOdd := hop(1500, 3750)
	fromEq, wsEq, weEq := hop(5000, 5000)
	return []query{
		{
			name: "hop_5x",
			eddy: `SELECT k1, window_start, window_end, COUNT(DISTINCT k2) AS dk2, ` + allAggs + `
FROM events GROUP BY k1, HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)`,
			reads: []string{"k1", "k2", "v", "d", "price"},
			duck: `SELECT k1, ` + ws5x + `, ` + we5x + `, COUNT(DISTINCT k2) AS dk2, ` + allAggsDuck + `
FROM ` + from5x + ` GROUP BY ALL`,
			keys: []string{"k1"}, approx: []string{"avgv", "avgd"}, avg6: []string{"avgp"},
		},
		{
			name: "hop_2_5x_two_keys",
			eddy: `SELECT k1, k2, window_start, window_end, ` + allAggs + `
FROM events GROUP BY k1, k2, HOP(ts, INTERVAL '4' SECOND, INTERVAL '10' SECOND)`,
			reads: []string{"k1", "k2", "v", "d", "price"},
			duck: `SELECT k1, k2, ` + ws25 + `, ` + we25 + `, ` + allAggsDuck + `
FROM ` + from25 + ` GROUP BY ALL`,
			keys: []string{"k1", "k2"}, approx: []string{"avgv", "avgd"}, avg6: []string{"avgp"},
		},
		{
			// 3.75 s every 1.5 s (2.5 x), with a WHERE and a HAVING.
			name: "hop_2_5x_where_having",
			eddy: `SELECT k2, window_start, window_end, COUNT(*) AS n, SUM(v) AS sv, MAX(d) AS maxd, MIN(price) AS minp
FROM events
WHERE v BETWEEN -500 AND 500 OR price < 0
GROUP BY k2, HOP(ts, INTERVAL '1.5' SECOND, INTERVAL '3750' MILLISECOND)
HAVING COUNT(*) >= 3 AND (MAX(d) > 0 OR MAX(d) IS NULL)`,
			reads: []string{"k2", "v", "d", "price"},
			where: `v BETWEEN -500 AND 500 OR price < 0`,
			duck: `SELECT k2, ` + wsOdd + `, ` + weOdd + `, COUNT(*) AS n, SUM(v) AS sv, MAX(d) AS maxd, MIN(price) AS minp
FROM ` + fromOdd + `
WHERE v BETWEEN -500 AND 500 OR price < 0
GROUP BY ALL
HAVING COUNT(*) >= 3 AND (MAX(d) > 0 OR MAX(d) IS NULL)`,
			keys: []string{"k2"},
		},
		{
			// slide = size: tumbling windows by another road.
			name: "hop_1x",
			eddy: `SELECT k1, k2, window_start, window_end, COUNT(*) AS n, SUM(v) AS sv, SUM(d) AS sd
FROM events GROUP BY k1, k2, HOP(ts, INTERVAL '5' SECOND, INTERVAL '5' SECOND)`,
			reads: []string{"k1", "k2", "v", "d"},
			duck: `SELECT k1, k2, ` + wsEq + `, ` + weEq + `, COUNT(*) AS n, SUM(v) AS sv, SUM(d) AS sd
FROM ` + fromEq + ` GROUP BY ALL`,
			keys: []string{"k1", "k2"},
		},
	}
}

func byName(qs []query, name string) query {
	for _, q := range qs {
		if q.name == name {
			return q
		}
	}
	panic("no query " + name)
}

// TestTumble: tumbling windows with one and two keys, an offset, string
// MIN/MAX, WHERE with NULLs and HAVING, against DuckDB's time_bucket.
func TestTumble(t *testing.T) {
	qs := tumbleQueries()
	outs := runApp(t, main2026, qs)
	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) { check(t, main2026, q, outs[q.name]) })
	}
	t.Run("mutants", func(t *testing.T) {
		// Wrong expectations must be caught: the data reaches these edges.
		q := byName(qs, "tumble_offset")
		q.duck = strings.ReplaceAll(q.duck, "00:00:02.5", "00:00:02.499")
		mustDiffer(t, main2026, q, outs[q.name], "offset off by 1 ms")
		q = byName(qs, "tumble_two_keys")
		q.duck = strings.Replace(q.duck, "COUNT(v) AS nv", "COUNT(*) AS nv", 1)
		mustDiffer(t, main2026, q, outs[q.name], "COUNT(v) counting NULLs")
		q = byName(qs, "tumble_where_nulls")
		q.duck = strings.Replace(q.duck, "WHERE (v > 0 OR d < 0)", "WHERE COALESCE(v > 0 OR d < 0, TRUE)", 1)
		mustDiffer(t, main2026, q, outs[q.name], "NULL condition taken as TRUE")
		q = byName(qs, "tumble_two_keys")
		q.duck = strings.Replace(q.duck, "SUM(v) AS sv", "CAST(SUM(CAST(v AS DOUBLE)) AS HUGEINT) AS sv", 1)
		mustDiffer(t, main2026, q, outs[q.name], "SUM(BIGINT) in float64")
		q = byName(qs, "tumble_minute_strings")
		q.duck = strings.Replace(q.duck, "MIN(k1) AS mink", "MIN(lower(k1)) AS mink", 1)
		mustDiffer(t, main2026, q, outs[q.name], "MIN of strings ignoring case")
	})
}

// TestHop: hopping windows whose size is 5, 2.5 and 1 times the slide,
// against DuckDB joining each event to every window that holds it.
func TestHop(t *testing.T) {
	qs := hopQueries()
	outs := runApp(t, main2026, qs)
	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) { check(t, main2026, q, outs[q.name]) })
	}
	t.Run("mutants", func(t *testing.T) {
		q := byName(qs, "hop_5x")
		q.duck = strings.Replace(q.duck, "ev.ts_ms < w.ws + 10000", "ev.ts_ms <= w.ws + 10000", 1)
		mustDiffer(t, main2026, q, outs[q.name], "window end inclusive")
		q = byName(qs, "hop_2_5x_two_keys")
		q.duck = strings.Replace(q.duck, "ev.ts_ms >= w.ws", "ev.ts_ms > w.ws", 1)
		mustDiffer(t, main2026, q, outs[q.name], "window start exclusive")
	})
}

// TestAcrossEpoch: windows that straddle 1970-01-01T00:00:00Z, where a start
// computed by truncating division instead of flooring is one window late.
func TestAcrossEpoch(t *testing.T) {
	ws7, we7 := tumble("7 SECOND", "1970-01-01 00:00:02.5")
	from, ws, we := hop(4000, 10_000)
	qs := []query{
		{
			name: "epoch_tumble_offset",
			eddy: `SELECT k1, window_start, window_end, ` + allAggs + `
FROM events GROUP BY k1, TUMBLE(ts, INTERVAL '7' SECOND, INTERVAL '2.5' SECOND)`,
			reads: []string{"k1", "v", "d", "price"},
			duck: `SELECT k1, ` + ws7 + `, ` + we7 + `, ` + allAggsDuck + `
FROM ev GROUP BY ALL`,
			keys: []string{"k1"}, approx: []string{"avgv", "avgd"}, avg6: []string{"avgp"},
		},
		{
			name: "epoch_hop_2_5x",
			eddy: `SELECT k2, window_start, window_end, COUNT(*) AS n, SUM(v) AS sv, MIN(d) AS mind, MAX(price) AS maxp
FROM events GROUP BY k2, HOP(ts, INTERVAL '4' SECOND, INTERVAL '10' SECOND)`,
			reads: []string{"k2", "v", "d", "price"},
			duck: `SELECT k2, ` + ws + `, ` + we + `, COUNT(*) AS n, SUM(v) AS sv, MIN(d) AS mind, MAX(price) AS maxp
FROM ` + from + ` GROUP BY ALL`,
			keys: []string{"k2"},
		},
	}
	outs := runApp(t, epoch, qs)
	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) { check(t, epoch, q, outs[q.name]) })
	}
	t.Run("mutants", func(t *testing.T) {
		q := qs[0]
		q.duck = strings.ReplaceAll(q.duck, "time_bucket(INTERVAL 7 SECOND, ts, TIMESTAMP '1970-01-01 00:00:02.5')",
			"epoch_ms(CAST(trunc((ts_ms - 2500) / 7000) AS BIGINT) * 7000 + 2500)")
		mustDiffer(t, epoch, q, outs[q.name], "window start by truncating division")
	})
}
