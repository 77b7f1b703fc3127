package format

import (
	"fmt"
	"testing"

	"github.com/eddy-streams/eddy/sql/types"
)

// benchSchema is a trade event of six columns.
var benchSchema = types.Schema{
	{Name: "ticker", Type: types.VarcharType},
	{Name: "price", Type: types.DoubleType},
	{Name: "qty", Type: types.BigIntType},
	{Name: "ts", Type: types.TimestampType},
	{Name: "side", Type: types.VarcharType},
	{Name: "amount", Type: types.DecimalType(18, 4)},
}

// benchEvents returns n distinct JSON events of about 200 bytes.
func benchEvents(n int) [][]byte {
	tickers := []string{"AAPL", "MSFT", "AMZN", "GOOG", "NVDA", "META", "TSLA", "NFLX"}
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"ticker":%q,"price":%d.%02d,"qty":%d,"ts":"2026-03-01T12:%02d:%02d.%03dZ","side":%q,"amount":%d.%04d,"venue":"XNAS","trader":{"id":%d,"desk":"equities-ny"}}`,
			tickers[i%len(tickers)], 100+i%900, i%100, 1+i%5000, i/60%60, i%60, i%1000, []string{"BUY", "SELL"}[i%2], 1000+i, i%10000, i%977)
	}
	return out
}

func benchDecode(b *testing.B, needed []int) { benchDecodeSchema(b, benchSchema, needed) }

func benchDecodeSchema(b *testing.B, schema types.Schema, needed []int) {
	dec, err := NewDecoder("json", schema, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	rd, err := dec.Project(needed)
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Release()
	events := benchEvents(1024)
	size := 0
	for _, e := range events {
		size += len(e)
	}
	b.SetBytes(int64(size / len(events)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rd.Append(events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
		if rd.Len() == 8192 {
			for _, a := range rd.NewArrays() {
				a.Release()
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkDecodeJSON(b *testing.B)           { benchDecode(b, nil) }
func BenchmarkDecodeJSONProjected2(b *testing.B) { benchDecode(b, []int{0, 1}) }

// BenchmarkScanJSONRaw locates the six fields and copies their JSON text (JSON
// columns): the scanner's cost without type conversion, comparable to a JSON
// library's parse-and-get.
func BenchmarkScanJSONRaw(b *testing.B) {
	raw := make(types.Schema, len(benchSchema))
	for i, c := range benchSchema {
		raw[i] = types.Column{Name: c.Name, Type: types.JSONType}
	}
	benchDecodeSchema(b, raw, nil)
}

// BenchmarkDecodeCSV decodes the same six fields as CSV rows.
func BenchmarkDecodeCSV(b *testing.B) {
	dec, err := NewDecoder("csv", benchSchema, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	rd, err := dec.Project(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Release()
	events := make([][]byte, 1024)
	size := 0
	for i := range events {
		events[i] = fmt.Appendf(nil, `%s,%d.%02d,%d,2026-03-01T12:%02d:%02d.%03dZ,%s,%d.%04d`,
			[]string{"AAPL", "MSFT", "AMZN", "GOOG"}[i%4], 100+i%900, i%100, 1+i%5000, i/60%60, i%60, i%1000, []string{"BUY", "SELL"}[i%2], 1000+i, i%10000)
		size += len(events[i])
	}
	b.SetBytes(int64(size / len(events)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := rd.Append(events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
		if rd.Len() == 8192 {
			for _, a := range rd.NewArrays() {
				a.Release()
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
