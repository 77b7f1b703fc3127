package kinesis

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/sql/types"
)

// BenchmarkSourceJSON reads 100,000 JSON events of about 200 bytes (six
// columns decoded, ROWTIME added) from one shard of the store, end to end:
// GetRecords, decoding, batches. events/s is per core: the source runs in the
// calling goroutine.
func BenchmarkSourceJSON(b *testing.B) {
	const events = 100000
	s, err := streamstore.Open(b.TempDir(), streamstore.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateStream("trades", 1); err != nil {
		b.Fatal(err)
	}
	tickers := []string{"AAPL", "MSFT", "AMZN", "GOOG", "NVDA", "META", "TSLA", "NFLX"}
	var batch []streamstore.PutEntry
	size := 0
	for i := range events {
		data := fmt.Appendf(nil, `{"ticker":%q,"price":%d.%02d,"qty":%d,"ts":"2026-03-01T12:%02d:%02d.%03dZ","side":%q,"amount":%d.%04d,"venue":"XNAS","trader":{"id":%d,"desk":"equities-ny"}}`,
			tickers[i%len(tickers)], 100+i%900, i%100, 1+i%5000, i/60%60, i%60, i%1000, []string{"BUY", "SELL"}[i%2], 1000+i, i%10000, i%977)
		size += len(data)
		batch = append(batch, streamstore.PutEntry{PartitionKey: tickers[i%len(tickers)], Data: data})
		if len(batch) == 500 {
			if _, err := s.PutRecords(context.Background(), "trades", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	cols := types.Schema{
		{Name: "ticker", Type: types.VarcharType}, {Name: "price", Type: types.DoubleType},
		{Name: "qty", Type: types.BigIntType}, {Name: "ts", Type: types.TimestampType},
		{Name: "side", Type: types.VarcharType}, {Name: "amount", Type: types.DecimalType(18, 4)},
	}
	dec, err := format.NewDecoder("json", cols, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		src, err := OpenEmbeddedSource(s, SourceConfig{Name: "trades", Stream: "trades", Decoder: dec, Rowtime: true, Bounded: true})
		if err != nil {
			b.Fatal(err)
		}
		for {
			batch, err := src.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if len(batch.Errors) > 0 {
				b.Fatal(batch.Errors[0].Reason)
			}
			if batch.Record != nil {
				n += int(batch.Record.NumRows())
				batch.Record.Release()
			}
		}
		src.Close()
	}
	if n != events*b.N {
		b.Fatalf("%d rows, want %d", n, events*b.N)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(n), "ns/event")
}
