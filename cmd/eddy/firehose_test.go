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
		default:
			t.Errorf("unexpected object %s", key)
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
