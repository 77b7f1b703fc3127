package planner

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/sql"
)

func compileOne(t *testing.T, text string) (*sql.Query, *sql.CreateStream) {
	t.Helper()
	cat := sql.NewCatalog()
	stmts, err := sql.Compile("t.sql", text, cat)
	if err != nil {
		t.Fatal(err)
	}
	var q *sql.Query
	for _, s := range stmts {
		if sel, ok := s.(*sql.Select); ok {
			q = sel.Query
		}
	}
	def, _ := cat.Stream(q.Source)
	return q, def
}

const ddl = `CREATE STREAM trades (ticker VARCHAR, price DOUBLE, qty BIGINT, side VARCHAR, venue VARCHAR, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '3' SECOND) WITH (connector = 'kinesis', stream = 'trades');
`

// The scan decodes only the columns the query reads, and every expression is
// rewritten to the scan's column positions.
func TestPlanPrunesColumnsIntoTheScan(t *testing.T) {
	q, def := compileOne(t, ddl+`SELECT ticker, window_start, SUM(qty) AS volume FROM trades
  WHERE side = 'BUY' GROUP BY ticker, TUMBLE(ts, INTERVAL '1' MINUTE);`)
	p, err := Plan(q, def, Options{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range p.ScanSchema {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "ticker,qty,side,ts" {
		t.Fatalf("scan columns %s, want ticker,qty,side,ts (price and venue pruned, ROWTIME unused)", got)
	}
	if want := []int{0, 2, 3, 5}; len(p.ScanColumns) != 4 || p.ScanColumns[1] != want[1] || p.ScanColumns[3] != want[3] {
		t.Fatalf("scan column indexes %v, want %v", p.ScanColumns, want)
	}
	a := p.Agg
	if a == nil || a.Workers != 3 || !a.EventTime || a.WatermarkDelay.Seconds() != 3 {
		t.Fatalf("aggregate stage %+v", a)
	}
	if a.TimeColumn != 3 {
		t.Fatalf("time column at scan position %d, want 3", a.TimeColumn)
	}
	explain := p.Explain()
	for _, want := range []string{"Scan trades columns=[ticker, qty, side, ts]", "Filter (side#2 = 'BUY')", "Exchange hash(ticker#0) workers=3",
		"WindowAggregate TUMBLE size=1m0s time=ts watermark_delay=3s aggs=[sum(qty#1)]"} {
		if !strings.Contains(explain, want) {
			t.Errorf("plan lacks %q:\n%s", want, explain)
		}
	}
}

func TestPlanRowtimeAndProjection(t *testing.T) {
	q, def := compileOne(t, ddl+`SELECT UPPER(venue) AS v, ROWTIME FROM trades WHERE price > 10 LIMIT 5;`)
	p, err := Plan(q, def, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Agg != nil || p.Limit != 5 {
		t.Fatalf("plain query planned with aggregation or wrong limit: %+v", p)
	}
	last := p.ScanColumns[len(p.ScanColumns)-1]
	if last != len(def.Columns) {
		t.Fatalf("ROWTIME must be the last scan column (index %d), got %v", len(def.Columns), p.ScanColumns)
	}
	if len(p.ScanColumns) != 3 {
		t.Fatalf("scan columns %v, want price, venue, ROWTIME", p.ScanColumns)
	}
}

func TestParseDurationAndAllowedLateness(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30 seconds": 30 * time.Second, "2 MINUTES": 2 * time.Minute, "1 minute": time.Minute, "500 ms": 500 * time.Millisecond,
		"1m30s": 90 * time.Second, "0s": 0, "1 day": 24 * time.Hour,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "-5s", "5 fortnights", "x seconds"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
	q, def := compileOne(t, `CREATE STREAM s (k VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH (connector = 'kinesis', stream = 's', allowed_lateness = '45 seconds');
SELECT k, COUNT(*) AS n FROM s GROUP BY k, TUMBLE(ts, INTERVAL '1' MINUTE);`)
	p, err := Plan(q, def, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Agg.AllowedLateness != 45*time.Second {
		t.Fatalf("allowed lateness %v", p.Agg.AllowedLateness)
	}
	// An updating query's output is a changelog: _op comes last.
	if names := fmt.Sprint(p.Output); !strings.HasSuffix(names, "{_op VARCHAR}]") || len(p.Output) != len(p.Select)+1 {
		t.Fatalf("updating output %s for %d SELECT items", names, len(p.Select))
	}
	q2, def2 := compileOne(t, `CREATE STREAM s (k VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
  WITH (connector = 'kinesis', stream = 's', emit_every = '10 seconds');
SELECT k, COUNT(*) AS _OP FROM s GROUP BY k, TUMBLE(ts, INTERVAL '1' MINUTE);`)
	if _, err := Plan(q2, def2, Options{}); err == nil || !strings.Contains(err.Error(), "output column _OP: the name _op is reserved") {
		t.Fatalf("a SELECT column named _op in an updating query: %v", err)
	}
	delete(def2.With, OptEmitEvery)
	if p2, err := Plan(q2, def2, Options{}); err != nil || len(p2.Output) != 2 {
		t.Fatalf("without emit_every _op is an ordinary name: %v", err)
	}
	def.With[OptAllowedLateness] = "later"
	if _, err := Plan(q, def, Options{}); err == nil || !strings.Contains(err.Error(), "allowed_lateness") {
		t.Fatalf("bad allowed_lateness accepted: %v", err)
	}
}
