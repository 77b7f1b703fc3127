package main_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// bucketObjects reads every object of a bucket folder, by key, skipping the
// temporary files a killed writer may leave (objects appear by rename).
func bucketObjects(t *testing.T, dataDir, bucket string) map[string][]byte {
	t.Helper()
	root := filepath.Join(dataDir, "buckets", bucket)
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
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
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// parquetColumn reads one column of a Parquet object as strings, through
// parquet-go's row reader.
func parquetColumn(t *testing.T, data []byte, column string) []string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open parquet: %v", err)
	}
	leaf, ok := f.Schema().Lookup(column)
	if !ok {
		t.Fatalf("no column %s in %s", column, f.Schema())
	}
	var out []string
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 128)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				for _, v := range row {
					if v.Column() == leaf.ColumnIndex {
						if v.IsNull() {
							out = append(out, "<null>")
						} else {
							out = append(out, v.String())
						}
					}
				}
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	return out
}

// firehoseRecords makes records i in [first, first+n): every 211th is not
// valid for the orders schema (a string id), the rest are.
func firehoseRecords(first, n int) (lines []byte, bad []int) {
	var b bytes.Buffer
	for i := first; i < first+n; i++ {
		if i%211 == 17 {
			fmt.Fprintf(&b, `{"id":"x%d","customer":"c%d"}`+"\n", i, i%7)
			bad = append(bad, i)
			continue
		}
		fmt.Fprintf(&b, `{"id":%d,"customer":"c%d","amount":%d.25,"ts":"2026-11-24 10:%02d:%02d"}`+"\n", i, i%7, i%1000, i/60%60, i%60)
	}
	return b.Bytes(), bad
}

// TestFirehoseKillDeliverIsExact: records are put in chunks while eddy
// firehose deliver --follow is SIGKILLed at random moments, then a final
// delivery runs: the Parquet objects hold every valid record exactly once,
// the error output every invalid one once, and a dynamically partitioned raw
// GZIP stream holds every record once, under its customer's prefix.
func TestFirehoseKillDeliverIsExact(t *testing.T) {
	c := newCLI(t)
	schema := filepath.Join(t.TempDir(), "orders.json")
	if err := os.WriteFile(schema, []byte(`{"columns":[{"name":"id","type":"bigint"},{"name":"customer","type":"string"},{"name":"amount","type":"double"},{"name":"ts","type":"timestamp"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok(nil, "firehose", "create", "orders", "--bucket", "lake", "--parquet", "--schema", schema, "--prefix", "orders/",
		"--error-prefix", "errors/!{firehose:error-output-type}/", "--buffer-size", "1", "--buffer-interval", "0")
	c.ok(nil, "firehose", "create", "bycust", "--bucket", "lake", "--compression", "GZIP", "--append-newline",
		"--dynamic-partitioning", "--partition-query", "{customer: .customer}", "--prefix", "raw/customer=!{partitionKeyFromQuery:customer}/",
		"--error-prefix", "rawerr/!{firehose:error-output-type}/", "--buffer-size", "64", "--buffer-interval", "0")
	c.ok(nil, "firehose", "create", "xf", "--bucket", "lake", "--prefix", "xf/", "--append-newline", "--buffer-size", "1", "--buffer-interval", "0",
		"--transform", "SELECT id, UPPER(customer) AS customer FROM record WHERE id % 4 <> 0", "--transform-columns", "id BIGINT, customer VARCHAR")
	rng := rand.New(rand.NewPCG(7, 11))
	const chunks, perChunk = 10, 6000
	var bad []int
	for k := range chunks {
		cmd := exec.Command(eddyBin, "firehose", "deliver", "--follow", "--data-dir", c.dataDir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Put while the deliverer runs, so its reads end at a moving tip and
		// its interval cuts fall where the clock says: a replay must cut
		// where the interrupted run did, not where its own reads end.
		const pieces = 4
		for p := range pieces {
			lines, b := firehoseRecords(k*perChunk+p*perChunk/pieces, perChunk/pieces)
			bad = append(bad, b...)
			c.ok(lines, "firehose", "put", "orders")
			c.ok(lines, "firehose", "put", "bycust")
			c.ok(lines, "firehose", "put", "xf")
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if strings.Contains(stderr.String(), "panic") {
			t.Fatalf("deliver panicked: %s", stderr.String())
		}
	}
	c.ok(nil, "firehose", "deliver")
	total := chunks * perChunk
	isBad := map[int]bool{}
	for _, i := range bad {
		isBad[i] = true
	}

	seen := map[string]int{}
	errs := map[string]int{}
	raw := map[string]int{}
	transformed := map[string]int{}
	transformErrs := map[string]int{}
	objects := 0
	for key, data := range bucketObjects(t, c.dataDir, "lake") {
		objects++
		switch {
		case strings.HasPrefix(key, "orders/"):
			for _, id := range parquetColumn(t, data, "id") {
				seen[id]++
			}
		case strings.HasPrefix(key, "errors/format-conversion-failed/"):
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				var doc struct {
					RawData string `json:"rawData"`
					Code    string `json:"lastErrorCode"`
				}
				if err := json.Unmarshal(sc.Bytes(), &doc); err != nil || doc.Code != "DataFormatConversion.MalformedData" {
					t.Fatalf("error record %s: %v", sc.Text(), err)
				}
				errs[doc.RawData]++
			}
		case strings.HasPrefix(key, "raw/customer="):
			cust := strings.TrimPrefix(strings.Split(key, "/")[1], "customer=")
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			for _, line := range strings.Split(string(body), "\n") {
				var rec struct {
					ID       any    `json:"id"`
					Customer string `json:"customer"`
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("%s: line %q: %v", key, line, err)
				}
				if rec.Customer != cust {
					t.Fatalf("%s holds a record of %s", key, rec.Customer)
				}
				raw[line]++
			}
		case strings.HasPrefix(key, "xf/processing-failed/"):
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				var doc struct {
					RawData string `json:"rawData"`
					Code    string `json:"errorCode"`
				}
				if err := json.Unmarshal(sc.Bytes(), &doc); err != nil || doc.Code != "Processor.SQLTransformFailed" {
					t.Fatalf("transform error record %s: %v", sc.Text(), err)
				}
				transformErrs[doc.RawData]++
			}
		case strings.HasPrefix(key, "xf/"):
			for _, line := range strings.Split(string(data), "\n") {
				var rec struct {
					ID       int64  `json:"id"`
					Customer string `json:"customer"`
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Customer != fmt.Sprintf("C%d", rec.ID%7) {
					t.Fatalf("%s: transformed line %q: %v", key, line, err)
				}
				transformed[fmt.Sprint(rec.ID)]++
			}
		default:
			t.Errorf("unexpected object %s", key)
		}
	}
	for i := range total {
		n := transformed[fmt.Sprint(i)]
		switch {
		case isBad[i] || i%4 == 0:
			if n != 0 {
				t.Fatalf("record %d passed the transform %d times; its WHERE drops it", i, n)
			}
		case n != 1:
			t.Fatalf("record %d delivered %d times after the transform", i, n)
		}
	}
	if len(transformErrs) != len(bad) {
		t.Fatalf("%d distinct records failed the transform, want %d", len(transformErrs), len(bad))
	}
	for r, n := range transformErrs {
		if n != 1 {
			t.Fatalf("transform error record %s written %d times", r, n)
		}
	}
	for i := range total {
		if isBad[i] {
			continue
		}
		if n := seen[fmt.Sprint(i)]; n != 1 {
			t.Fatalf("record %d is in the Parquet objects %d times", i, n)
		}
	}
	if len(seen) != total-len(bad) {
		t.Fatalf("%d distinct ids in Parquet, want %d", len(seen), total-len(bad))
	}
	if len(errs) != len(bad) {
		t.Fatalf("%d distinct error records, want %d", len(errs), len(bad))
	}
	for r, n := range errs {
		if n != 1 {
			t.Fatalf("error record %s written %d times", r, n)
		}
	}
	if len(raw) != total {
		t.Fatalf("%d distinct raw records, want %d", len(raw), total)
	}
	for r, n := range raw {
		if n != 1 {
			t.Fatalf("raw record %s delivered %d times", r, n)
		}
	}
	t.Logf("%d records, %d invalid, %d objects after %d kills", total, len(bad), objects, chunks)
}

// TestFirehoseSinkInApplication: an application writes the same query to a
// file sink and to a firehose sink converting to Parquet; after a bounded run
// (which delivers its sinks' streams) the objects hold exactly the file's rows.
// A sink naming a missing delivery stream is refused with the command to fix it.
func TestFirehoseSinkInApplication(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	c.ok(nil, "streams", "create", "orders", "--shards", "3")
	var in bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&in, `{"k":"k%d","v":%d,"ts":"2026-11-24T10:%02d:%02d.%03dZ"}`+"\n", i%17, i, i/600%60, i/10%60, i%10*100)
	}
	c.ok(in.Bytes(), "put", "orders")
	schema := filepath.Join(dir, "totals.sql")
	if err := os.WriteFile(schema, []byte(`CREATE STREAM totals (k VARCHAR, window_end TIMESTAMP(3), n BIGINT, total BIGINT)
  WITH (connector = 'kinesis', stream = 'unused');`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok(nil, "firehose", "create", "totals", "--bucket", "lake", "--parquet", "--schema", schema, "--prefix", "totals/")
	app := filepath.Join(dir, "app.sql")
	query := `SELECT k, window_end, COUNT(*) AS n, SUM(v) AS total FROM orders GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND)`
	if err := os.WriteFile(app, []byte(`CREATE STREAM orders (k VARCHAR, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH (connector = 'kinesis', stream = 'orders');
CREATE SINK viafirehose WITH (connector = 'firehose', delivery_stream = 'totals');
CREATE SINK viafile WITH (connector = 'file', path = '`+filepath.Join(dir, "totals.jsonl")+`', format = 'json');
INSERT INTO viafirehose `+query+`;
INSERT INTO viafile `+query+`;
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok(nil, "run", app, "--bounded")
	fileRows, err := os.ReadFile(filepath.Join(dir, "totals.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(fileRows)), "\n") {
		var r struct {
			K         string
			WindowEnd string `json:"window_end"`
			N, Total  int64
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		end, err := time.Parse(time.RFC3339Nano, strings.Replace(r.WindowEnd, " ", "T", 1)+"Z")
		if err != nil {
			end, err = time.Parse(time.RFC3339Nano, r.WindowEnd)
		}
		if err != nil {
			t.Fatalf("window_end %q: %v", r.WindowEnd, err)
		}
		want = append(want, fmt.Sprintf("%s|%d|%d|%d", r.K, end.UnixMilli(), r.N, r.Total))
	}
	var got []string
	for key, data := range bucketObjects(t, c.dataDir, "lake") {
		if !strings.HasPrefix(key, "totals/") || !strings.HasSuffix(key, ".parquet") {
			t.Fatalf("unexpected object %s", key)
		}
		ks, ends, ns, totals := parquetColumn(t, data, "k"), parquetColumn(t, data, "window_end"), parquetColumn(t, data, "n"), parquetColumn(t, data, "total")
		for i := range ks {
			// Timestamps are Parquet TIMESTAMP(MICROS), as Firehose writes them.
			micros, err := strconv.ParseInt(ends[i], 10, 64)
			if err != nil {
				t.Fatalf("window_end %q: %v", ends[i], err)
			}
			got = append(got, fmt.Sprintf("%s|%d|%s|%s", ks[i], micros/1000, ns[i], totals[i]))
		}
	}
	sortStrings(want)
	sortStrings(got)
	if len(want) < 100 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("firehose sink delivered %d rows, file sink wrote %d; first differences:\n%v\n%v", len(got), len(want), head(got), head(want))
	}

	bad := filepath.Join(dir, "bad.sql")
	if err := os.WriteFile(bad, []byte(`CREATE STREAM orders (k VARCHAR) WITH (connector = 'kinesis', stream = 'orders');
CREATE SINK s WITH (connector = 'firehose', delivery_stream = 'nope');
INSERT INTO s SELECT k FROM orders;`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.run(nil, "run", bad, "--bounded")
	if r.code == 0 || !strings.Contains(r.stderr, "delivery stream nope does not exist; create it with eddy firehose create nope") {
		t.Fatalf("a sink to a missing delivery stream: exit %d, %s", r.code, r.stderr)
	}
}

func sortStrings(s []string) { slices.Sort(s) }

func head(s []string) []string { return s[:min(3, len(s))] }
