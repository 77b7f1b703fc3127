package kinesis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec"
	"github.com/eddy-streams/eddy/sql/types"
)

var outCols = types.Schema{
	{Name: "ticker", Type: types.VarcharType},
	{Name: "n", Type: types.BigIntType},
	{Name: "window_end", Type: types.TimestampType},
}

// outRecord makes n rows: ticker T<i%keys> (NULL every 7th), n = i.
func outRecord(n, keys int) arrow.RecordBatch {
	mem := memory.DefaultAllocator
	tb := array.NewStringBuilder(mem)
	nb := array.NewInt64Builder(mem)
	wb := array.NewTimestampBuilder(mem, types.TimestampType.Arrow().(*arrow.TimestampType))
	for i := range n {
		if i%7 == 6 {
			tb.AppendNull()
		} else {
			tb.Append(fmt.Sprintf("T%d", i%keys))
		}
		nb.Append(int64(i))
		wb.Append(arrow.Timestamp(1767366245123 + int64(i)))
	}
	cols := []arrow.Array{tb.NewArray(), nb.NewArray(), wb.NewArray()}
	rec := array.NewRecordBatch(outCols.Arrow(), cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	tb.Release()
	nb.Release()
	wb.Release()
	return rec
}

// readStream returns every record of a stream, per shard.
func readStream(t *testing.T, s *streamstore.Store, stream string) map[string][]streamstore.Record {
	t.Helper()
	d, err := s.DescribeStream(stream)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]streamstore.Record{}
	for _, sd := range d.Shards {
		c, err := s.Position(stream, sd.ShardID, streamstore.StartingPosition{Type: streamstore.TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for {
			res, err := s.GetRecords(context.Background(), c, 10000)
			if err != nil {
				t.Fatal(err)
			}
			out[sd.ShardID] = append(out[sd.ShardID], res.Records...)
			if len(res.Records) == 0 || res.ShardEnd {
				break
			}
			c = res.Next
		}
	}
	return out
}

func TestSinkWritesJSONRecords(t *testing.T) {
	s := newStore(t, "out", 4)
	cfg, err := SinkConfigFromOptions("per_minute", outCols, map[string]string{"connector": "kinesis", "stream": "out", "partition_key": "TICKER"})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := NewEmbeddedSink(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := outRecord(1234, 9) // more than one PutRecords batch
	defer rec.Release()
	if err := sink.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	shardOfKey := map[string]string{}
	seen := map[int64]bool{}
	for shard, recs := range readStream(t, s, "out") {
		last := int64(-1)
		for _, r := range recs {
			var row struct {
				Ticker    *string `json:"ticker"`
				N         int64   `json:"n"`
				WindowEnd string  `json:"window_end"`
			}
			if err := json.Unmarshal(r.Data, &row); err != nil {
				t.Fatalf("%s: %v", r.Data, err)
			}
			if want := fmt.Sprintf(`"window_end":"%s"`, time.UnixMilli(1767366245123+row.N).UTC().Format("2006-01-02T15:04:05.000Z")); !strings.Contains(string(r.Data), want) {
				t.Fatalf("%s lacks %s", r.Data, want)
			}
			if row.Ticker == nil {
				if len(r.PartitionKey) != 16 {
					t.Fatalf("NULL key row has partition key %q", r.PartitionKey)
				}
			} else {
				if r.PartitionKey != *row.Ticker {
					t.Fatalf("partition key %q for ticker %q", r.PartitionKey, *row.Ticker)
				}
				if prev, ok := shardOfKey[r.PartitionKey]; ok && prev != shard {
					t.Fatalf("key %s in shards %s and %s", r.PartitionKey, prev, shard)
				}
				shardOfKey[r.PartitionKey] = shard
			}
			if seen[row.N] {
				t.Fatalf("row %d twice", row.N)
			}
			seen[row.N] = true
			if row.N <= last {
				t.Fatalf("shard %s: row %d after %d", shard, row.N, last)
			}
			last = row.N
		}
	}
	if len(seen) != 1234 {
		t.Fatalf("%d rows stored", len(seen))
	}
}

func TestSinkErrors(t *testing.T) {
	s := newStore(t, "out", 1)
	cases := []struct {
		with map[string]string
		want string
	}{
		{map[string]string{"stream": "out", "shards": "2"}, `sink k: unknown option "shards" for a kinesis sink; valid options are access_key_id, connector, endpoint, format, partition_key, profile, region, secret_access_key, stream`},
		{map[string]string{}, `sink k: option stream is required`},
		{map[string]string{"stream": "out", "format": "csv"}, `sink k: option format = "csv": a kinesis sink writes json`},
		{map[string]string{"stream": "nope"}, `kinesis sink k: stream "nope": stream "nope" does not exist`},
		{map[string]string{"stream": "out", "partition_key": "sector"}, `kinesis sink k: option partition_key = "sector" is not a column of the output (ticker, n, window_end)`},
	}
	for _, c := range cases {
		cfg, err := SinkConfigFromOptions("k", outCols, c.with)
		if err == nil {
			_, err = NewEmbeddedSink(s, cfg)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.with, err, c.want)
		}
	}
	// A row larger than a record can hold is an error naming the row.
	big := types.Schema{{Name: "s", Type: types.VarcharType}}
	sink, err := NewEmbeddedSink(s, SinkConfig{Name: "k", Stream: "out", Schema: big})
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewStringBuilder(memory.DefaultAllocator)
	b.Append("ok")
	b.Append(strings.Repeat("x", streamstore.MaxRecordBytes))
	arr := b.NewArray()
	rec := array.NewRecordBatch(big.Arrow(), []arrow.Array{arr}, 2)
	arr.Release()
	b.Release()
	defer rec.Release()
	if err := sink.Write(context.Background(), rec); err == nil || !strings.Contains(err.Error(), "row 1 encodes to 1048600 bytes with its partition key; a record holds at most 1048576 (1 MiB)") {
		t.Fatalf("big row: %v", err)
	}
	// A record of the wrong schema.
	wrong := outRecord(1, 1)
	defer wrong.Release()
	if err := sink.Write(context.Background(), wrong); err == nil || !strings.Contains(err.Error(), "the record has 3 columns; the output has 1") {
		t.Fatalf("wrong schema: %v", err)
	}
}

func TestErrorSink(t *testing.T) {
	s := newStore(t, "errors", 2)
	es, err := NewEmbeddedErrorSink(s, "errors")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	errs := []exec.ErrorRecord{
		{Kind: exec.ErrorDecode, Source: "trades", Split: "shardId-000000000001", Position: "4900", Raw: []byte(`{"n":"x"}`), Reason: `column n: value "x" is not a BIGINT`, At: at, Rowtime: at},
		{Kind: exec.ErrorDecode, Source: "trades", Split: "shardId-000000000000", Raw: []byte{0xff, 0x00}, Reason: "not a JSON object", At: at},
		{Kind: exec.ErrorLate, Source: "trades", Reason: "late by 5s", At: at},
		{Kind: exec.ErrorDecode, Source: "big", Raw: []byte(strings.Repeat("\x01", streamstore.MaxRecordBytes-10)), Reason: "too big", At: at},
	}
	for range 300 { // several PutRecords batches
		errs = append(errs, errs[0])
	}
	if err := es.WriteErrors(context.Background(), errs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, recs := range readStream(t, s, "errors") {
		for _, r := range recs {
			var m map[string]any
			if err := json.Unmarshal(r.Data, &m); err != nil {
				t.Fatalf("%.100s: %v", r.Data, err)
			}
			got = append(got, m)
			if m["source"] == "big" {
				if !strings.HasPrefix(m["reason"].(string), "too big (raw cut to its first ") || len(r.Data) > streamstore.MaxRecordBytes {
					t.Errorf("big error: reason %q, %d bytes", m["reason"], len(r.Data))
				}
				continue
			}
			if m["kind"] == exec.ErrorDecode && m["shard"] == "shardId-000000000000" {
				raw, _ := base64.StdEncoding.DecodeString(m["raw"].(string))
				if m["rawEncoding"] != "base64" || string(raw) != "\xff\x00" {
					t.Errorf("binary raw: %v", m)
				}
			}
			if m["kind"] == exec.ErrorDecode && m["shard"] == "shardId-000000000001" {
				if m["raw"] != `{"n":"x"}` || m["sequenceNumber"] != "4900" || m["rowtime"] != "2026-01-02T15:04:05.000Z" || m["at"] != "2026-01-02T15:04:05.000Z" || r.PartitionKey != "shardId-000000000001" {
					t.Errorf("decode error: %v key %q", m, r.PartitionKey)
				}
			}
			if m["kind"] == exec.ErrorLate && (m["rowtime"] != nil || r.PartitionKey != "trades") {
				t.Errorf("late error: %v key %q", m, r.PartitionKey)
			}
		}
	}
	if len(got) != len(errs) {
		t.Fatalf("%d error records, want %d", len(got), len(errs))
	}
	if _, err := NewEmbeddedErrorSink(s, "missing"); err == nil {
		t.Error("missing stream accepted")
	}
}

// The sink's output reads back through the source: a chain of applications.
func TestSinkToSource(t *testing.T) {
	s := newStore(t, "out", 2)
	sink, err := NewEmbeddedSink(s, SinkConfig{Name: "k", Stream: "out", Schema: outCols})
	if err != nil {
		t.Fatal(err)
	}
	rec := outRecord(100, 5)
	defer rec.Release()
	if err := sink.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	src := openSource(t, s, SourceConfig{Stream: "out", Bounded: true, Decoder: jsonDecoder(t, outCols), Columns: []int{1, 2}})
	n := 0
	for {
		b, err := src.Next(context.Background())
		if err != nil {
			break
		}
		if len(b.Errors) > 0 {
			t.Fatalf("errors %v", b.Errors)
		}
		if b.Record != nil {
			ns := b.Record.Column(0).(*array.Int64)
			ts := b.Record.Column(1).(*array.Timestamp)
			for i := range ns.Len() {
				if int64(ts.Value(i)) != 1767366245123+ns.Value(i) {
					t.Fatalf("row %d: ts %d", ns.Value(i), ts.Value(i))
				}
			}
			n += int(b.Record.NumRows())
			b.Record.Release()
		}
	}
	if n != 100 {
		t.Fatalf("%d rows read back", n)
	}
}

func TestTruncateKey(t *testing.T) {
	long := strings.Repeat("日", 300)
	if got := truncateKey(long); got != strings.Repeat("日", 256) {
		t.Errorf("long key: %d runes", len([]rune(got)))
	}
	if got := truncateKey("a\xffb"); got != "a\uFFFDb" {
		t.Errorf("invalid UTF-8: %q", got)
	}
	if got := truncateKey("short"); got != "short" {
		t.Errorf("short: %q", got)
	}
}
