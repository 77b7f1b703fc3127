package planner

import (
	"strings"
	"testing"
)

// An OVER query scans what WHERE, PARTITION BY, the functions and SELECT read
// plus the time column, carries through only what SELECT reads, and SELECT is
// rewritten over OverSchema (carried columns, then one per function).
func TestPlanOverPrunesAndCarries(t *testing.T) {
	q, def := compileOne(t, ddl+`SELECT ticker, price - AVG(price) OVER w AS diff, LAG(qty, 1, 0) OVER (PARTITION BY ticker) AS prev
FROM trades WHERE side = 'BUY'
WINDOW w AS (PARTITION BY ticker ORDER BY ts RANGE INTERVAL '1' MINUTE PRECEDING);`)
	p, err := Plan(q, def, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range p.ScanSchema {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "ticker,price,qty,side,ts" {
		t.Fatalf("scan columns %s, want ticker,price,qty,side,ts (venue pruned)", got)
	}
	o := p.Over
	if o == nil || p.Agg != nil || o.Workers != 2 || !o.EventTime || o.WatermarkDelay.Seconds() != 3 || o.TimeColumn != 4 {
		t.Fatalf("over stage %+v", o)
	}
	if len(o.Carry) != 2 || o.Carry[0] != 0 || o.Carry[1] != 1 {
		t.Fatalf("carried scan columns %v, want [0 1] (ticker, price)", o.Carry)
	}
	var schema []string
	for _, c := range o.OverSchema {
		schema = append(schema, c.Name+" "+c.Type.String())
	}
	if got := strings.Join(schema, ", "); got != "ticker VARCHAR, price DOUBLE, over0 DOUBLE, over1 BIGINT" {
		t.Fatalf("OverSchema %s", got)
	}
	if got := p.Select[1].String(); got != "(price#1 - over0#2)" {
		t.Fatalf("SELECT diff over OverSchema: %s", got)
	}
	explain := p.Explain()
	for _, want := range []string{"Scan trades columns=[ticker, price, qty, side, ts]", "Filter (side#3 = 'BUY')",
		"Exchange hash(ticker#0) workers=2",
		"Over order=ts watermark_delay=3s carry=[ticker, price] funcs=[avg(price#1) RANGE 1m0s PRECEDING, lag(qty#2, 1, 0) no frame]",
		"Project ticker#0 AS ticker, (price#1 - over0#2) AS diff, over1#3 AS prev"} {
		if !strings.Contains(explain, want) {
			t.Errorf("plan lacks %q:\n%s", want, explain)
		}
	}
}
