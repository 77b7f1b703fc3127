package bench

import (
	"testing"
	"time"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// The default generator and one given the real tickers draw the same trades.
func TestUseTickersRealIsDefault(t *testing.T) {
	a, b := NewTradeGenerator(7, start), NewTradeGenerator(7, start)
	b.UseTickers(RealTickers)
	for i := range 1000 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("trade %d: %+v, with UseTickers(%d) %+v", i, x, RealTickers, y)
		}
	}
}

// With many tickers, every n consecutive trades name every ticker once.
func TestUseTickersRounds(t *testing.T) {
	const n = 5000
	g := NewTradeGenerator(7, start)
	g.UseTickers(n)
	seen := map[string]int{}
	for i := range 3*n + n/2 {
		tr := g.Next()
		seen[tr.Ticker]++
		if (i+1)%n == 0 {
			if len(seen) != n {
				t.Fatalf("after %d trades: %d tickers, want %d", i+1, len(seen), n)
			}
			for name, c := range seen {
				if c != (i+1)/n {
					t.Fatalf("after %d trades: %s drawn %d times", i+1, name, c)
				}
			}
		}
	}
	for _, name := range []string{"AMZN", "ORCL", "T0000012", "T0004999"} {
		if seen[name] == 0 {
			t.Errorf("ticker %s never drawn", name)
		}
	}
	if seen["T0005000"] != 0 {
		t.Errorf("ticker T0005000 drawn: there are only %d", n)
	}
	g = NewTradeGenerator(7, start)
	g.UseTickers(3)
	for range 100 {
		if tr := g.Next(); tr.Ticker != "AMZN" && tr.Ticker != "AAPL" && tr.Ticker != "MSFT" {
			t.Fatalf("UseTickers(3) drew %s", tr.Ticker)
		}
	}
}
