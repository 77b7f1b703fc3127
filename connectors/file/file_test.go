package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

var _ exec.Sink = (*Sink)(nil)

var schema = types.Schema{
	{Name: "ticker", Type: types.VarcharType},
	{Name: "n", Type: types.BigIntType},
	{Name: "window_end", Type: types.TimestampType},
}

func record(t *testing.T, tickers []string, ns []int64) arrow.RecordBatch {
	t.Helper()
	mem := memory.DefaultAllocator
	tb := array.NewStringBuilder(mem)
	nb := array.NewInt64Builder(mem)
	wb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"})
	for i, s := range tickers {
		if s == "" {
			tb.AppendNull()
		} else {
			tb.Append(s)
		}
		nb.Append(ns[i])
		wb.Append(arrow.Timestamp(1767366245123 + ns[i]))
	}
	cols := []arrow.Array{tb.NewArray(), nb.NewArray(), wb.NewArray()}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
		tb.Release()
		nb.Release()
		wb.Release()
	}()
	return array.NewRecordBatch(schema.Arrow(), cols, int64(len(tickers)))
}

func write(t *testing.T, s *Sink, tickers []string, ns []int64) {
	t.Helper()
	rec := record(t, tickers, ns)
	defer rec.Release()
	if err := s.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "per_minute.json")
	cfg, err := ConfigFromOptions("per_minute", schema, map[string]string{"connector": "file", "path": path})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, []string{"AAPL", ""}, []int64{1, 2})
	if got := read(t, path); got != "" {
		t.Fatalf("rows visible before Flush: %q", got)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := `{"ticker":"AAPL","n":1,"window_end":"2026-01-02T15:04:05.124Z"}` + "\n" +
		`{"ticker":null,"n":2,"window_end":"2026-01-02T15:04:05.125Z"}` + "\n"
	if got := read(t, path); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	write(t, s, []string{"MSFT"}, []int64{3})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); !strings.HasSuffix(got, `{"ticker":"MSFT","n":3,"window_end":"2026-01-02T15:04:05.126Z"}`+"\n") {
		t.Fatalf("after Close: %s", got)
	}
	if err := s.Write(context.Background(), nil); err != ErrClosed {
		t.Fatalf("Write after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again truncates; append keeps.
	s, _ = Open(cfg)
	write(t, s, []string{"X"}, []int64{9})
	s.Close()
	if got := read(t, path); strings.Count(got, "\n") != 1 {
		t.Fatalf("truncate: %q", got)
	}
	cfg.Append = true
	s, _ = Open(cfg)
	write(t, s, []string{"Y"}, []int64{10})
	s.Close()
	if got := read(t, path); strings.Count(got, "\n") != 2 {
		t.Fatalf("append: %q", got)
	}
}

func TestCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	cfg, err := ConfigFromOptions("s", schema, map[string]string{"path": path, "format": "CSV", "append": "true"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the header only once, when the file starts empty
		s, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		write(t, s, []string{"A,B", ""}, []int64{1, 2})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	row := "\"A,B\",1,2026-01-02T15:04:05.124Z\n,2,2026-01-02T15:04:05.125Z\n"
	if got := read(t, path); got != "ticker,n,window_end\n"+row+row {
		t.Fatalf("got\n%s", got)
	}
	cfg, _ = ConfigFromOptions("s", schema, map[string]string{"path": path, "format": "csv", "csv.header": "false", "csv.delimiter": ";"})
	s, _ := Open(cfg)
	write(t, s, []string{"A,B"}, []int64{1})
	s.Close()
	if got := read(t, path); got != "A,B;1;2026-01-02T15:04:05.124Z\n" {
		t.Fatalf("got %q", got)
	}
}

func TestOptions(t *testing.T) {
	cases := []struct {
		with map[string]string
		want string
	}{
		{map[string]string{"path": "x", "compression": "gzip"}, `sink s: unknown option "compression" for a file sink in json format; valid options are append, connector, format, path`},
		{map[string]string{"path": "x", "csv.header": "true"}, `unknown option "csv.header" for a file sink in json format`},
		{map[string]string{}, `sink s: option path is required`},
		{map[string]string{"path": "x", "format": "parquet"}, `sink s: option format = "parquet": a file sink writes json or csv`},
		{map[string]string{"path": "x", "append": "yes"}, `sink s: option append = "yes": must be 'true' or 'false'`},
		{map[string]string{"path": "x", "connector": "s3"}, `option connector = "s3", not 'file'`},
	}
	for _, c := range cases {
		_, err := ConfigFromOptions("s", schema, c.with)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.with, err, c.want)
		}
	}
	cfg, _ := ConfigFromOptions("s", schema, map[string]string{"path": "x", "format": "csv", "csv.delimiter": "ab"})
	cfg.Path = filepath.Join(t.TempDir(), "x")
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), `csv.delimiter = "ab"`) {
		t.Errorf("bad delimiter: %v", err)
	}
	if _, err := Open(Config{Name: "s", Path: filepath.Join(t.TempDir(), "f"), Schema: schema, Format: "json"}); err != nil {
		t.Errorf("plain config: %v", err)
	}
	dir := t.TempDir()
	if _, err := Open(Config{Name: "s", Path: dir, Schema: schema}); err == nil {
		t.Error("a directory opened as a file")
	}
}
