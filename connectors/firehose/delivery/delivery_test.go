package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

type env struct {
	dir   string
	store *streamstore.Store
	cat   *catalog.Catalog
	opts  Options
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := streamstore.Open(filepath.Join(dir, "streams"), streamstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := catalog.Open(dir, catalog.Options{StateDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dir: dir, store: st, cat: cat}
	e.opts = Options{Store: st, DataDir: dir, PollInterval: 10 * time.Millisecond,
		Bucket: func(_ context.Context, bucket string) (checkpoint.Store, error) {
			return checkpoint.NewDirStore(filepath.Join(dir, "buckets", bucket)), nil
		}}
	return e
}

// writeTable writes a schema file the catalog's default resolver reads.
func (e *env) writeTable(t *testing.T, db, table, doc string) {
	t.Helper()
	p := catalog.TablePath(e.dir, db, table)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *env) create(t *testing.T, in catalog.CreateInput) catalog.DeliveryStream {
	t.Helper()
	ds, err := e.cat.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Type == catalog.TypeDirectPut {
		if err := e.store.CreateStream(catalog.BackingStream(ds.Name), 1); err != nil {
			t.Fatal(err)
		}
	}
	return ds
}

func (e *env) put(t *testing.T, stream string, records [][]byte) {
	t.Helper()
	for len(records) > 0 {
		n := min(500, len(records))
		entries := make([]streamstore.PutEntry, n)
		for i := range entries {
			entries[i] = streamstore.PutEntry{PartitionKey: fmt.Sprint(i), Data: records[i]}
		}
		if _, err := e.store.PutRecords(context.Background(), stream, entries); err != nil {
			t.Fatal(err)
		}
		records = records[n:]
	}
}

// objects lists every object under a bucket folder, by key.
func (e *env) objects(t *testing.T, bucket string) map[string][]byte {
	t.Helper()
	root := filepath.Join(e.dir, "buckets", bucket)
	out := map[string][]byte{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out
}

// readIDs reads the "id" column of a Parquet object, independently of the
// writer: through parquet-go's file reader, row by row.
func readIDs(t *testing.T, data []byte) []int64 {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open parquet: %v", err)
	}
	col, ok := f.Schema().Lookup("id")
	if !ok {
		t.Fatalf("no id column in %s", f.Schema())
	}
	var ids []int64
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				for _, v := range row {
					if v.Column() == col.ColumnIndex && !v.IsNull() {
						ids = append(ids, v.Int64())
					}
				}
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	return ids
}

func parquetStream(name string) catalog.CreateInput {
	yes := true
	return catalog.CreateInput{Name: name, Destination: catalog.DestinationConfig{Kind: catalog.DestinationS3, Extended: true,
		RoleARN: ptr("arn:aws:iam::000000000000:role/firehose"), BucketARN: ptr("arn:aws:s3:::lake"), Prefix: ptr("events/"), ErrorOutputPrefix: ptr("errors/!{firehose:error-output-type}/"),
		SizeInMBs: ptr(64), IntervalInSeconds: ptr(60),
		DataFormatConversion: &catalog.DataFormatConversionConfig{Enabled: &yes, OpenX: &catalog.OpenXConfig{}, Parquet: &catalog.Parquet{},
			Schema: &catalog.Schema{DatabaseName: "db", TableName: "events"}}}}
}

func ptr[T any](v T) *T { return &v }

// TestDeliverParquetExactlyOnce: 100,000 JSON records, some invalid, to
// Parquet in a folder: every valid record exactly once, every invalid one in
// the error output with its reason.
func TestDeliverParquetExactlyOnce(t *testing.T) {
	e := newEnv(t)
	e.writeTable(t, "db", "events", `{"columns":[{"name":"id","type":"bigint"},{"name":"name","type":"string"},{"name":"price","type":"double"},{"name":"ts","type":"timestamp"}]}`)
	ds := e.create(t, parquetStream("orders"))
	const n = 100_000
	var records [][]byte
	bad := map[int]bool{}
	for i := range n {
		switch {
		case i%997 == 5:
			records = append(records, []byte(`{"id": "not a number", "name": "x"}`))
			bad[i] = true
		case i%1499 == 7:
			records = append(records, []byte(`{"id": 1, "name": `))
			bad[i] = true
		default:
			records = append(records, fmt.Appendf(nil, `{"ID":%d,"name":"item-%d","price":%d.5,"ts":"2026-11-24 10:%02d:%02d"}`, i, i%13, i%100, i/60%60, i%60))
		}
	}
	e.put(t, catalog.BackingStream(ds.Name), records)
	if err := Deliver(context.Background(), e.opts, e.cat, nil); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	var errorLines []map[string]any
	for key, data := range e.objects(t, "lake") {
		switch {
		case strings.HasPrefix(key, "events/"):
			if !strings.HasSuffix(key, ".parquet") || !strings.Contains(key, "/orders-1-") {
				t.Errorf("object key %s", key)
			}
			for _, id := range readIDs(t, data) {
				seen[id]++
			}
		case strings.HasPrefix(key, "errors/format-conversion-failed/"):
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				var doc map[string]any
				if err := json.Unmarshal([]byte(line), &doc); err != nil {
					t.Fatalf("error output line %q: %v", line, err)
				}
				errorLines = append(errorLines, doc)
			}
		default:
			t.Errorf("unexpected object %s", key)
		}
	}
	for i := range n {
		if bad[i] {
			continue
		}
		if seen[int64(i)] != 1 {
			t.Fatalf("record %d delivered %d times", i, seen[int64(i)])
		}
	}
	if len(seen) != n-len(bad) {
		t.Errorf("%d distinct ids delivered, want %d", len(seen), n-len(bad))
	}
	if len(errorLines) != len(bad) {
		t.Fatalf("%d error records, want %d", len(errorLines), len(bad))
	}
	var raws []string
	for _, doc := range errorLines {
		if doc["lastErrorCode"] != "DataFormatConversion.MalformedData" || doc["lastErrorMessage"] == "" {
			t.Errorf("error record %v", doc)
		}
		raw, _ := doc["rawData"].(string)
		raws = append(raws, raw)
	}
	sort.Strings(raws)
	m, err := ReadMetrics(e.dir, "orders")
	if err != nil || m.RecordsIn != n || m.RecordsDelivered != int64(n-len(bad)) || m.ConversionFailures != int64(len(bad)) {
		t.Errorf("metrics %+v %v", m, err)
	}
}
