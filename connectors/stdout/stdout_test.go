package stdout

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

var _ exec.Sink = (*Sink)(nil)

var schema = types.Schema{{Name: "ticker", Type: types.VarcharType}, {Name: "avg_price", Type: types.DoubleType}}

func record(tickers []string, prices []float64) arrow.RecordBatch {
	mem := memory.DefaultAllocator
	tb := array.NewStringBuilder(mem)
	pb := array.NewFloat64Builder(mem)
	for i, s := range tickers {
		tb.Append(s)
		if prices[i] < 0 {
			pb.AppendNull()
		} else {
			pb.Append(prices[i])
		}
	}
	cols := []arrow.Array{tb.NewArray(), pb.NewArray()}
	rec := array.NewRecordBatch(schema.Arrow(), cols, int64(len(tickers)))
	cols[0].Release()
	cols[1].Release()
	tb.Release()
	pb.Release()
	return rec
}

func show(t *testing.T, with map[string]string, batches ...arrow.RecordBatch) string {
	t.Helper()
	cfg, err := ConfigFromOptions("console", schema, with)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	s, err := New(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		n := buf.Len()
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if b.NumRows() > 0 && buf.Len() == n {
			t.Fatal("Write did not reach the writer")
		}
		b.Release()
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestTable(t *testing.T) {
	got := show(t, nil, record([]string{"AAPL", "MSFT"}, []float64{187.25, -1}), record([]string{"NVDA"}, []float64{1000.5}))
	want := " ticker | avg_price\n--------+-----------\n AAPL   |    187.25\n MSFT   |      NULL\n NVDA   |    1000.5\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if got := show(t, map[string]string{"format": "table"}); got != " ticker | avg_price\n--------+-----------\n" {
		t.Fatalf("empty result: %q", got)
	}
}

func TestJSONAndCSV(t *testing.T) {
	got := show(t, map[string]string{"format": "json"}, record([]string{"AAPL"}, []float64{-1}))
	if got != `{"ticker":"AAPL","avg_price":null}`+"\n" {
		t.Fatalf("json: %q", got)
	}
	got = show(t, map[string]string{"format": "csv", "connector": "stdout"}, record([]string{"A B", "C,D"}, []float64{1, 2}), record([]string{"E"}, []float64{3}))
	if got != "ticker,avg_price\nA B,1\n\"C,D\",2\nE,3\n" {
		t.Fatalf("csv: %q", got)
	}
}

func TestOptions(t *testing.T) {
	cases := []struct {
		with map[string]string
		want string
	}{
		{map[string]string{"format": "xml"}, `sink c: option format = "xml": the console shows table, json, csv`},
		{map[string]string{"width": "80"}, `sink c: unknown option "width" for the console in table format; valid options are connector, format`},
		{map[string]string{"format": "csv", "csv.quote": "'"}, `unknown option "csv.quote" for the console in csv format; valid options are connector, csv.delimiter, csv.header, format`},
		{map[string]string{"connector": "file"}, `option connector = "file", not 'stdout'`},
	}
	for _, c := range cases {
		_, err := ConfigFromOptions("c", schema, c.with)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.with, err, c.want)
		}
	}
	if _, err := New(&bytes.Buffer{}, Config{Name: "c", Format: "csv", Schema: schema, FormatOptions: map[string]string{"csv.header": "x"}}); err == nil {
		t.Error("bad csv.header accepted")
	}
}
