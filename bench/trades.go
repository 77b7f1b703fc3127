// Package bench owns eddy's workload generators and the benchmark harness
// behind `eddy bench`: realistic event streams (stock trades) with controllable
// rate, event-time disorder and injected anomalies.
package bench

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Trade is one generated trade event.
type Trade struct {
	Ticker   string
	Price    float64
	Qty      int64
	Side     string
	Exchange string
	Trader   string
	Time     time.Time // event time
	Spike    bool      // an injected anomaly: a price far from the ticker's level
}

type ticker struct {
	name  string
	level float64 // current price level, a random walk
	vol   float64
}

// TradeGenerator produces trades for a set of tickers with prices that follow
// random walks, event times that advance by Step on average with up to Disorder
// of jitter, and a price spike every SpikeEvery trades (0 for none). It is
// deterministic for a seed.
type TradeGenerator struct {
	rng        *rand.Rand
	tickers    []ticker
	clock      time.Time
	Step       time.Duration
	Disorder   time.Duration
	SpikeEvery int
	n          int
	// rounds draws the tickers in order, round after round (UseTickers);
	// next is the next one.
	rounds bool
	next   int
}

// RealTickers is how many tickers a generator has unless told (UseTickers).
const RealTickers = len(tickerNames)

var tickerNames = [...]string{"AMZN", "AAPL", "MSFT", "GOOG", "NVDA", "TSLA", "META", "NFLX", "INTC", "ORCL", "CRM", "ADBE"}

// NewTradeGenerator returns a generator whose event time starts at start.
func NewTradeGenerator(seed uint64, start time.Time) *TradeGenerator {
	g := &TradeGenerator{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), clock: start, Step: 10 * time.Millisecond}
	for _, name := range tickerNames {
		g.tickers = append(g.tickers, ticker{name: name, level: 20 + g.rng.Float64()*480, vol: 0.0005 + g.rng.Float64()*0.002})
	}
	return g
}

// UseTickers gives the generator n tickers instead of the 12 real ones: the
// first n real names for n <= 12, drawn at random as by default; for more,
// the 12 real names and synthetic ones (T0000012, T0000013, ...), shuffled
// once and then drawn in that order round after round, so that every n
// consecutive trades name every ticker once (and drawing stays cheap with
// millions). A workload with many keys has them all in every window that
// spans n trades. Call it once, before the first trade.
func (g *TradeGenerator) UseTickers(n int) {
	n = max(n, 1)
	g.next = 0
	if n <= len(tickerNames) {
		g.tickers = g.tickers[:n]
		g.rounds = false
		return
	}
	names := make([]byte, 0, 8*(n-len(g.tickers)))
	for i := len(g.tickers); i < n; i++ {
		start := len(names)
		names = append(names, 'T')
		names = appendPadded(names, i, 7)
		g.tickers = append(g.tickers, ticker{name: string(names[start:]), level: 20 + g.rng.Float64()*480, vol: 0.0005 + g.rng.Float64()*0.002})
	}
	g.rng.Shuffle(len(g.tickers), func(i, j int) { g.tickers[i], g.tickers[j] = g.tickers[j], g.tickers[i] })
	g.rounds = true
}

// appendPadded appends v in decimal with at least width digits.
func appendPadded(b []byte, v, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(v), 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// pick chooses the next trade's ticker.
func (g *TradeGenerator) pick() *ticker {
	if !g.rounds {
		return &g.tickers[g.rng.IntN(len(g.tickers))]
	}
	t := &g.tickers[g.next]
	if g.next++; g.next == len(g.tickers) {
		g.next = 0
	}
	return t
}

// Next returns the next trade, its event time Step later on average.
func (g *TradeGenerator) Next() Trade {
	return g.NextAt(g.clock.Add(time.Duration(g.rng.Int64N(int64(2*g.Step) + 1))))
}

// NextAt returns a trade whose event time is at (less up to Disorder), for
// generators that follow the wall clock.
func (g *TradeGenerator) NextAt(at time.Time) Trade {
	g.n++
	g.clock = at
	t := g.pick()
	t.level *= math.Exp(g.rng.NormFloat64() * t.vol)
	price := t.level * (1 + g.rng.NormFloat64()*0.0005)
	spike := g.SpikeEvery > 0 && g.n%g.SpikeEvery == 0
	if spike {
		price *= 1.5 + g.rng.Float64()
	}
	ts := g.clock
	if g.Disorder > 0 {
		ts = ts.Add(-time.Duration(g.rng.Int64N(int64(g.Disorder) + 1)))
	}
	side := "BUY"
	if g.rng.IntN(2) == 0 {
		side = "SELL"
	}
	exchanges := [...]string{"NASDAQ", "NYSE", "ARCA", "BATS"}
	return Trade{
		Ticker:   t.name,
		Price:    math.Round(price*100) / 100,
		Qty:      int64(1+g.rng.IntN(20)) * 10,
		Side:     side,
		Exchange: exchanges[g.rng.IntN(len(exchanges))],
		Trader:   "trader-" + strconv.Itoa(1000+g.rng.IntN(9000)),
		Time:     ts,
		Spike:    spike,
	}
}

// AppendJSON appends the trade as one JSON object (about 200 bytes).
func (t Trade) AppendJSON(b []byte) []byte {
	b = append(b, `{"ticker":"`...)
	b = append(b, t.Ticker...)
	b = append(b, `","price":`...)
	b = strconv.AppendFloat(b, t.Price, 'f', 2, 64)
	b = append(b, `,"qty":`...)
	b = strconv.AppendInt(b, t.Qty, 10)
	b = append(b, `,"side":"`...)
	b = append(b, t.Side...)
	b = append(b, `","exchange":"`...)
	b = append(b, t.Exchange...)
	b = append(b, `","trader":"`...)
	b = append(b, t.Trader...)
	b = append(b, `","account":"acct-`...)
	b = strconv.AppendInt(b, 100000+int64(len(t.Trader))*7919+t.Qty*31, 10)
	b = append(b, `","currency":"USD","venue_order_id":"`...)
	b = strconv.AppendUint(b, uint64(t.Time.UnixNano())^0x9e3779b97f4a7c15, 36)
	b = append(b, `","ts":"`...)
	b = t.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `"}`...)
	return b
}
