package oracle

import (
	"strings"
	"testing"
)

// OVER windows order a partition's rows by time and, among rows of the same
// time, by arrival (sql/DIALECT.md, "OVER windows"). With one shard, arrival is
// the input's order, the id column, so the order is fixed and DuckDB can
// follow it: ORDER BY ts, id. The generator makes many rows of equal time.
var over1 = &dataset{stream: "over1", shards: 1, n: envInt("EDDY_ORACLE_EVENTS", 100_000), base: 1_767_225_600_000, seed: envSeed() + 2}

func overQueries() []query {
	return []query{
		{
			// RANGE frames hold the rows of [t - 10 s, t] up to the current row:
			// a row of the same time that arrives later is not in the frame,
			// which is not the SQL standard's RANGE (peers included), so DuckDB
			// gets the frame by its definition, a self-join.
			name: "over_range",
			eddy: `SELECT id, k1, ts,
  COUNT(*) OVER w AS n, COUNT(v) OVER w AS nv, SUM(v) OVER w AS sv, MIN(v) OVER w AS minv, MAX(v) OVER w AS maxv,
  AVG(v) OVER w AS avgv, SUM(d) OVER w AS sd, MIN(d) OVER w AS mind, MAX(d) OVER w AS maxd,
  SUM(price) OVER w AS sp, AVG(price) OVER w AS avgp
FROM events
WINDOW w AS (PARTITION BY k1 ORDER BY ts RANGE INTERVAL '10' SECOND PRECEDING)`,
			reads: []string{"k1", "v", "d", "price"},
			duck: `WITH p AS (SELECT *, CASE WHEN k1 IS NULL THEN 'N' ELSE 'V' || k1 END AS part FROM ev)
SELECT r.id, r.k1, r.ts,
  COUNT(*) AS n, COUNT(s.v) AS nv, SUM(s.v) AS sv, MIN(s.v) AS minv, MAX(s.v) AS maxv,
  AVG(s.v) AS avgv, SUM(s.d) AS sd, MIN(s.d) AS mind, MAX(s.d) AS maxd,
  SUM(s.price) AS sp, exact_avg2(s.price) AS avgp
FROM p r JOIN p s ON s.part = r.part AND s.ts_ms BETWEEN r.ts_ms - 10000 AND r.ts_ms
  AND (s.ts_ms < r.ts_ms OR s.id <= r.id)
GROUP BY r.id, r.k1, r.ts`,
			keys: []string{"id"}, perRow: true, approx: []string{"avgv"}, avg6: []string{"avgp"},
		},
		{
			name: "over_rows",
			eddy: `SELECT id, k2, COUNT(*) OVER w AS n, COUNT(d) OVER w AS nd, SUM(v) OVER w AS sv, MIN(price) OVER w AS minp,
  MAX(d) OVER w AS maxd, AVG(d) OVER w AS avgd, FIRST_VALUE(v) OVER w AS fv, LAST_VALUE(v) OVER w AS lv
FROM events
WHERE v IS NOT NULL OR d > 0
WINDOW w AS (PARTITION BY k2 ORDER BY ts ROWS 5 PRECEDING)`,
			reads: []string{"k2", "v", "d", "price"},
			where: `v IS NOT NULL OR d > 0`,
			duck: `SELECT id, k2, COUNT(*) OVER w AS n, COUNT(d) OVER w AS nd, SUM(v) OVER w AS sv, MIN(price) OVER w AS minp,
  MAX(d) OVER w AS maxd, AVG(d) OVER w AS avgd, FIRST_VALUE(v IGNORE NULLS) OVER w AS fv, LAST_VALUE(v IGNORE NULLS) OVER w AS lv
FROM ev
WHERE v IS NOT NULL OR d > 0
WINDOW w AS (PARTITION BY k2 ORDER BY ts, id ROWS BETWEEN 5 PRECEDING AND CURRENT ROW)`,
			keys: []string{"id"}, perRow: true, approx: []string{"avgd"},
		},
		{
			name: "over_lag_lead",
			eddy: `SELECT id, k1, LAG(v) OVER w AS lag1, LAG(v, 3, -1) OVER w AS lag3, LEAD(d) OVER w AS lead1,
  LEAD(price, 2, price) OVER w AS lead2, ROW_NUMBER() OVER w AS rn
FROM events
WINDOW w AS (PARTITION BY k1 ORDER BY ts)`,
			reads: []string{"k1", "v", "d", "price"},
			duck: `SELECT id, k1, LAG(v) OVER w AS lag1, LAG(v, 3, -1) OVER w AS lag3, LEAD(d) OVER w AS lead1,
  LEAD(price, 2, price) OVER w AS lead2, ROW_NUMBER() OVER w AS rn
FROM ev
WINDOW w AS (PARTITION BY k1 ORDER BY ts, id)`,
			keys: []string{"id"}, perRow: true,
		},
	}
}

// TestOver: OVER windows (RANGE, ROWS, LAG/LEAD/ROW_NUMBER) over 100,000
// events in one shard, one output row per input row, against DuckDB.
func TestOver(t *testing.T) {
	qs := overQueries()
	outs := runApp(t, over1, qs)
	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) { check(t, over1, q, outs[q.name]) })
	}
	t.Run("mutants", func(t *testing.T) {
		q := byName(qs, "over_range")
		q.duck = strings.Replace(q.duck, "AND (s.ts_ms < r.ts_ms OR s.id <= r.id)", "", 1)
		mustDiffer(t, over1, q, outs[q.name], "SQL's RANGE: later rows of the same time in the frame")
		q = byName(qs, "over_range")
		q.duck = strings.Replace(q.duck, "BETWEEN r.ts_ms - 10000", "BETWEEN r.ts_ms - 9999", 1)
		mustDiffer(t, over1, q, outs[q.name], "frame's lower bound excluded")
		q = byName(qs, "over_rows")
		q.duck = strings.Replace(q.duck, "ORDER BY ts, id", "ORDER BY ts, id DESC", 1)
		mustDiffer(t, over1, q, outs[q.name], "ties in reverse arrival order")
		q = byName(qs, "over_rows")
		q.duck = strings.Replace(q.duck, "FIRST_VALUE(v IGNORE NULLS)", "FIRST_VALUE(v)", 1)
		mustDiffer(t, over1, q, outs[q.name], "FIRST_VALUE not skipping NULLs")
	})
}
