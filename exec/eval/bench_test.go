package eval

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Benchmarks over 8192-row batches of a realistic trades stream:
// ticker VARCHAR (50 symbols, 2% of them 'X'), price DOUBLE (0..200, 1%
// NULL), qty BIGINT, ts TIMESTAMP (increasing, 1 ms apart).

var tradeSchema = types.Schema{
	{Name: "ticker", Type: tStr}, {Name: "price", Type: tDbl}, {Name: "qty", Type: tInt}, {Name: "ts", Type: tTs},
}

const benchRows = 8192

func tradesBatch(mem memory.Allocator) arrow.RecordBatch {
	r := rand.New(rand.NewPCG(1, 2))
	tickers := make([]string, 50)
	for i := range tickers {
		tickers[i] = fmt.Sprintf("T%03d", i)
	}
	tickers[7] = "X"
	tb := array.NewStringBuilder(mem)
	pb := array.NewFloat64Builder(mem)
	qb := array.NewInt64Builder(mem)
	sb := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
	base := int64(1_704_067_200_000)
	for i := 0; i < benchRows; i++ {
		tb.Append(tickers[r.IntN(len(tickers))])
		if r.IntN(100) == 0 {
			pb.AppendNull()
		} else {
			pb.Append(float64(r.IntN(20000)) / 100)
		}
		qb.Append(int64(1 + r.IntN(1000)))
		sb.Append(arrow.Timestamp(base + int64(i)))
	}
	cols := []arrow.Array{tb.NewArray(), pb.NewArray(), qb.NewArray(), sb.NewArray()}
	for _, b := range []array.Builder{tb, pb, qb, sb} {
		b.Release()
	}
	rec := array.NewRecordBatch(tradeSchema.Arrow(), cols, benchRows)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

var (
	ticker = col(0, "ticker", tStr)
	price  = col(1, "price", tDbl)
	qty    = col(2, "qty", tInt)
	tsCol  = col(3, "ts", tTs)
)

func reportRows(b *testing.B, rowsPerOp int) {
	b.ReportMetric(float64(rowsPerOp)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkFilter(b *testing.B) {
	preds := []struct {
		name string
		e    expr.Expr
	}{
		{"price>100", call(">", tBool, price, f64(100))},
		{"price>100_and_ticker<>X", call("and", tBool, call(">", tBool, price, f64(100)), call("<>", tBool, ticker, str("X")))},
		{"qty_between", call("and", tBool, call(">=", tBool, qty, i64(100)), call("<=", tBool, qty, i64(500)))},
		{"ticker_in", call("in", tBool, ticker, str("T001"), str("T002"), str("X"))},
		{"ticker_like", call("like", tBool, ticker, str("T00%"))},
	}
	mem := memory.NewGoAllocator()
	rec := tradesBatch(mem)
	defer rec.Release()
	for _, p := range preds {
		ev, err := Compile(p.e, tradeSchema)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, _, err := Filter(rec, ev, mem)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
			reportRows(b, benchRows)
		})
	}
}

func BenchmarkPredicate(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := tradesBatch(mem)
	defer rec.Release()
	ev, err := Compile(call("and", tBool, call(">", tBool, price, f64(100)), call("<>", tBool, ticker, str("X"))), tradeSchema)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		arr, _, err := ev.Eval(rec, mem)
		if err != nil {
			b.Fatal(err)
		}
		arr.Release()
	}
	reportRows(b, benchRows)
}

func BenchmarkProject(b *testing.B) {
	exprs := []struct {
		name string
		e    expr.Expr
		t    types.Type
	}{
		{"notional", call("*", tDbl, price, castTo(qty, tDbl)), tDbl},
		{"qty+1", call("+", tInt, qty, i64(1)), tInt},
		{"minute", call("floor_time", tTs, tsCol, str("MINUTE")), tTs},
		{"lower_ticker", call("lower", tStr, ticker), tStr},
		{"price_dec", castTo(price, tDec(10, 2)), tDec(10, 2)},
		{"ts_text", castTo(tsCol, tStr), tStr},
	}
	mem := memory.NewGoAllocator()
	rec := tradesBatch(mem)
	defer rec.Release()
	var evals []*Evaluator
	var out types.Schema
	for _, x := range exprs {
		ev, err := Compile(x.e, tradeSchema)
		if err != nil {
			b.Fatal(err)
		}
		evals = append(evals, ev)
		out = append(out, types.Column{Name: x.name, Type: x.t})
		b.Run(x.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				arr, _, err := ev.Eval(rec, mem)
				if err != nil {
					b.Fatal(err)
				}
				arr.Release()
			}
			reportRows(b, benchRows)
		})
	}
	schema := out.Arrow()
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, _, err := Project(rec, evals, schema, mem)
			if err != nil {
				b.Fatal(err)
			}
			res.Release()
		}
		reportRows(b, benchRows)
	})
}
