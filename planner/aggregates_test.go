package planner

import (
	"strings"
	"testing"
)

// The literal parameters of APPROX_PERCENTILE and TOP_K reach the stage, and
// time-ordered aggregates keep the time column in the scan.
func TestPlanAggregateParameters(t *testing.T) {
	q, def := compileOne(t, ddl+`SELECT ticker, APPROX_PERCENTILE(price, 0.99) AS p99, TOP_K(venue, 5) AS venues,
  LAST_VALUE(price) AS close, STDDEV(qty) AS sd FROM trades GROUP BY ticker, HOP(ts, INTERVAL '10' SECOND, INTERVAL '1' MINUTE);`)
	p, err := Plan(q, def, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	a := p.Agg
	if len(a.Aggs) != 4 || a.Aggs[0].Param != 0.99 || a.Aggs[1].Param != 5 || a.Aggs[2].Fn != "last_value" || a.Aggs[3].Fn != "stddev_samp" {
		t.Fatalf("aggregates %+v", a.Aggs)
	}
	explain := p.Explain()
	if want := "aggs=[approx_percentile(price#1, 0.99), top_k(venue#3, 5), last_value(price#1), stddev_samp(qty#2)]"; !strings.Contains(explain, want) {
		t.Fatalf("plan lacks %q:\n%s", want, explain)
	}
}
