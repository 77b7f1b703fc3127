package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/objectstore"
	"github.com/eddy-streams/eddy/connectors/objectstore/s3test"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// s3Row is one generated record as the Parquet object must hold it: nil is
// a null (the field was missing or JSON null).
type s3Row struct {
	id     int64
	name   *string
	qty    *int32
	price  *float64
	ok     *bool
	ts     *int64 // microseconds since the epoch, UTC
	day    *int32 // days since the epoch
	amount *int64 // unscaled decimal(12,2)
}

// s3Bad is a generated record that must go to the error output, with the
// text its message must contain.
type s3Bad struct {
	raw    string
	reason string
}

// genS3Records makes n JSON records: valid ones (with the values they must
// convert to, computed here from the generated values, not by parquetconv)
// and about 0.5% invalid ones of several kinds.
func genS3Records(seed uint64, n int) (records [][]byte, rows map[int64]s3Row, bad map[string]s3Bad) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rows, bad = map[int64]s3Row{}, map[string]s3Bad{}
	names := []string{"plain", "with \"quotes\"", "tab\tand\nnewline", "café ☕", "emoji 🚀", "back\\slash", "", "<&>"}
	for i := range n {
		if rng.IntN(200) == 0 {
			var b s3Bad
			switch rng.IntN(6) {
			case 0:
				b = s3Bad{fmt.Sprintf(`{"id": %d, "name": `, i), "the record is"}
			case 1:
				b = s3Bad{fmt.Sprintf(`{"id": "x%d", "name": "n"}`, i), "column id"}
			case 2:
				b = s3Bad{fmt.Sprintf(`{"id": %d, "qty": %d}`, i, int64(math.MaxInt32)+1+int64(i)), "column qty"}
			case 3:
				b = s3Bad{fmt.Sprintf(`{"id": %d, "ts": "2026-13-45 99:00:%02d"}`, i, i%60), "column ts"}
			case 4:
				b = s3Bad{fmt.Sprintf(`{"id": %d, "amount": 12345678901.%d}`, i, i%10), "column amount"}
			case 5:
				b = s3Bad{fmt.Sprintf(`[{"id": %d}]`, i), "JSON array"}
			}
			records = append(records, []byte(b.raw))
			bad[b.raw] = b
			continue
		}
		r := s3Row{id: int64(i)*7919 - 3_000_000}
		fields := []string{fmt.Sprintf(`"id":%d`, r.id)}
		// Each other field is present (70%), null (15%) or missing (15%).
		add := func(key string, value func() string) {
			switch p := rng.IntN(20); {
			case p < 14:
				fields = append(fields, fmt.Sprintf("%q:%s", key, value()))
			case p < 17:
				fields = append(fields, fmt.Sprintf("%q:null", key))
			}
		}
		add("name", func() string {
			s := names[rng.IntN(len(names))] + fmt.Sprint(rng.IntN(1000))
			r.name = &s
			b, _ := json.Marshal(s)
			return string(b)
		})
		add("qty", func() string {
			q := rng.Int32() - math.MaxInt32/2
			r.qty = &q
			if rng.IntN(4) == 0 {
				return fmt.Sprintf(`"%d"`, q) // a numeric string converts too
			}
			return fmt.Sprint(q)
		})
		add("price", func() string {
			p := (rng.Float64() - 0.3) * math.Pow(10, float64(rng.IntN(12)-4))
			r.price = &p
			return fmt.Sprint(p) // shortest text that reads back as p
		})
		add("ok", func() string {
			b := rng.IntN(2) == 0
			r.ok = &b
			return fmt.Sprint(b)
		})
		add("ts", func() string {
			t := time.Date(2020+rng.IntN(8), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1e6)*1000, time.UTC)
			switch rng.IntN(3) {
			case 0:
				us := t.UnixMicro()
				r.ts = &us
				return `"` + t.Format("2006-01-02 15:04:05.000000") + `"`
			case 1:
				us := t.UnixMicro()
				r.ts = &us
				return `"` + t.In(time.FixedZone("", 5*3600+30*60)).Format("2006-01-02T15:04:05.000000-07:00") + `"`
			default:
				ms := t.UnixMilli()
				us := ms * 1000
				r.ts = &us
				return fmt.Sprint(ms) // epoch milliseconds
			}
		})
		add("day", func() string {
			d := time.Date(1960+rng.IntN(100), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
			days := int32(math.Floor(float64(d.Unix()) / 86400))
			r.day = &days
			return `"` + d.Format("2006-01-02") + `"`
		})
		add("amount", func() string {
			cents := rng.Int64N(2e11) - 1e11 // within decimal(12,2)
			r.amount = &cents
			sign, a := "", cents
			if a < 0 {
				sign, a = "-", -a
			}
			text := fmt.Sprintf("%s%d.%02d", sign, a/100, a%100)
			if rng.IntN(3) == 0 {
				return `"` + text + `"`
			}
			return text
		})
		rng.Shuffle(len(fields)-1, func(a, b int) { fields[a+1], fields[b+1] = fields[b+1], fields[a+1] })
		records = append(records, []byte("{"+strings.Join(fields, ",")+"}"))
		rows[r.id] = r
	}
	return records, rows, bad
}

// readS3Rows reads every row of a Parquet object through parquet-go's
// generic rows, by column name.
func readS3Rows(t *testing.T, key string, data []byte) []s3Row {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: open parquet: %v", key, err)
	}
	idx := map[string]int{}
	for _, name := range []string{"id", "name", "qty", "price", "ok", "ts", "day", "amount"} {
		col, ok := f.Schema().Lookup(name)
		if !ok {
			t.Fatalf("%s: no column %s in %s", key, name, f.Schema())
		}
		idx[name] = col.ColumnIndex
	}
	var out []s3Row
	buf := make([]parquet.Row, 256)
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				var r s3Row
				for _, v := range row {
					if v.IsNull() {
						continue
					}
					switch v.Column() {
					case idx["id"]:
						r.id = v.Int64()
					case idx["name"]:
						s := string(v.ByteArray())
						r.name = &s
					case idx["qty"]:
						q := v.Int32()
						r.qty = &q
					case idx["price"]:
						p := v.Double()
						r.price = &p
					case idx["ok"]:
						b := v.Boolean()
						r.ok = &b
					case idx["ts"]:
						us := v.Int64()
						r.ts = &us
					case idx["day"]:
						d := v.Int32()
						r.day = &d
					case idx["amount"]:
						a := v.Int64()
						r.amount = &a
					}
				}
				out = append(out, r)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: read rows: %v", key, err)
			}
		}
		rows.Close()
	}
	return out
}

func show[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

func (r s3Row) String() string {
	return fmt.Sprintf("{id:%d name:%q qty:%s price:%s ok:%s ts:%s day:%s amount:%s}", r.id, show(r.name), show(r.qty),
		show(r.price), show(r.ok), show(r.ts), show(r.day), show(r.amount))
}

var (
	// events/ + Firehose's default YYYY/MM/DD/HH/ + NAME-VERSION-yyyy-MM-dd-HH-mm-ss-UUID.parquet
	dataKeyRE = regexp.MustCompile(`^events/(\d{4})/(\d{2})/(\d{2})/(\d{2})/orders-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.parquet$`)
	// Error objects: an ErrorOutputPrefix without expressions ("errors/") is
	// completed with the error type and YYYY/MM/DD/HH/; the name is the same
	// without .parquet (error records are JSON lines).
	errorKeyRE = regexp.MustCompile(`^errors/format-conversion-failed/(\d{4})/(\d{2})/(\d{2})/(\d{2})/orders-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// checkKeyTime checks that a key's hour folders are the hour of its name's
// timestamp, which lies within the time the records were put.
func checkKeyTime(t *testing.T, key string, m []string, from, to time.Time) {
	t.Helper()
	if m[1] != m[5] || m[2] != m[6] || m[3] != m[7] || m[4] != m[8] {
		t.Errorf("key %s: prefix hour %s/%s/%s/%s is not the name's %s-%s-%s-%s", key, m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
	}
	stamp, err := time.Parse("2006-01-02-15-04-05", strings.Join(m[5:11], "-"))
	if err != nil {
		t.Fatalf("key %s: %v", key, err)
	}
	if stamp.Before(from.Truncate(time.Second)) || stamp.After(to) {
		t.Errorf("key %s: time %s is outside the puts (%s to %s)", key, stamp, from, to)
	}
}

// TestDeliverParquetToS3: 100,000 JSON records, about 0.5% invalid, in a
// DirectPut stream with Parquet conversion, delivered to a real S3 API.
// Every valid record is in exactly one object with every field as generated,
// every invalid one is in the error output with its reason, and keys follow
// Firehose's naming.
func TestDeliverParquetToS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t) // credentials and region for objectstore.Open
	e := newEnv(t)
	opened := 0
	e.opts.Bucket = func(ctx context.Context, bucket string) (checkpoint.Store, error) {
		opened++
		return objectstore.Open(ctx, "s3://"+bucket, objectstore.Options{Endpoint: srv.Endpoint})
	}
	e.writeTable(t, "db", "events", `{"columns":[{"name":"id","type":"bigint"},{"name":"name","type":"string"},`+
		`{"name":"qty","type":"int"},{"name":"price","type":"double"},{"name":"ok","type":"boolean"},`+
		`{"name":"ts","type":"timestamp"},{"name":"day","type":"date"},{"name":"amount","type":"decimal(12,2)"}]}`)
	in := parquetStream("orders")
	in.Destination.BucketARN = ptr("arn:aws:s3:::" + srv.Bucket)
	in.Destination.SizeInMBs = ptr(1) // several objects
	in.Destination.ErrorOutputPrefix = ptr("errors/")
	ds := e.create(t, in)

	const n = 100_000
	records, want, bad := genS3Records(20261124, n)
	if len(bad) < n/400 || len(bad) > n/100 {
		t.Fatalf("%d invalid records generated, want about 0.5%%", len(bad))
	}
	from := time.Now().UTC()
	e.put(t, catalog.BackingStream(ds.Name), records)
	to := time.Now().UTC()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Deliver(ctx, e.opts, e.cat, nil); err != nil {
		t.Fatal(err)
	}
	if opened != 1 {
		t.Errorf("bucket opened %d times", opened)
	}

	get := func(key string) []byte {
		out, err := srv.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		return b
	}
	keys := srv.Keys(t, "")
	seen := map[int64]int{}
	errSeen := map[string]int{}
	dataObjects := 0
	for _, key := range keys {
		if m := dataKeyRE.FindStringSubmatch(key); m != nil {
			dataObjects++
			checkKeyTime(t, key, m, from, to)
			for _, got := range readS3Rows(t, key, get(key)) {
				seen[got.id]++
				w, ok := want[got.id]
				if !ok {
					t.Fatalf("%s: row with id %d, which no valid record has: %v", key, got.id, got)
				}
				if got.String() != w.String() {
					t.Fatalf("%s: row\n got %v\nwant %v", key, got, w)
				}
			}
			continue
		}
		m := errorKeyRE.FindStringSubmatch(key)
		if m == nil {
			t.Errorf("object key %q follows neither the data nor the error naming", key)
			continue
		}
		checkKeyTime(t, key, m, from, to)
		for _, line := range strings.Split(strings.TrimSuffix(string(get(key)), "\n"), "\n") {
			var doc struct {
				AttemptsMade     int    `json:"attemptsMade"`
				ArrivalTimestamp int64  `json:"arrivalTimestamp"`
				LastErrorCode    string `json:"lastErrorCode"`
				LastErrorMessage string `json:"lastErrorMessage"`
				RawData          string `json:"rawData"`
				DataCatalogTable struct {
					DatabaseName, TableName string
				} `json:"dataCatalogTable"`
			}
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				t.Fatalf("%s: error output line %q: %v", key, line, err)
			}
			raw, err := base64.StdEncoding.DecodeString(doc.RawData)
			if err != nil {
				t.Fatalf("%s: rawData %q: %v", key, doc.RawData, err)
			}
			b, ok := bad[string(raw)]
			if !ok {
				t.Fatalf("%s: error record for %q, which is not an invalid record", key, raw)
			}
			errSeen[b.raw]++
			if doc.LastErrorCode != "DataFormatConversion.MalformedData" || !strings.Contains(doc.LastErrorMessage, b.reason) {
				t.Errorf("error record for %q: code %q message %q, want DataFormatConversion.MalformedData and a message with %q",
					raw, doc.LastErrorCode, doc.LastErrorMessage, b.reason)
			}
			arrival := time.UnixMilli(doc.ArrivalTimestamp)
			if doc.AttemptsMade != 1 || arrival.Before(from.Truncate(time.Millisecond)) || arrival.After(to) ||
				doc.DataCatalogTable.DatabaseName != "db" || doc.DataCatalogTable.TableName != "events" {
				t.Errorf("error record for %q: %s", raw, line)
			}
		}
	}
	if dataObjects < 2 {
		t.Errorf("%d data objects, want several with a 1 MB buffer", dataObjects)
	}
	for id := range want {
		if seen[id] != 1 {
			t.Fatalf("record with id %d delivered %d times: %v", id, seen[id], want[id])
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d distinct ids delivered, want %d", len(seen), len(want))
	}
	for raw := range bad {
		if errSeen[raw] != 1 {
			t.Fatalf("invalid record %q is in the error output %d times", raw, errSeen[raw])
		}
	}

	// Delivering again writes nothing: every record is delivered already.
	if err := Deliver(ctx, e.opts, e.cat, nil); err != nil {
		t.Fatal(err)
	}
	if again := srv.Keys(t, ""); strings.Join(again, "\n") != strings.Join(keys, "\n") {
		t.Errorf("a second delivery changed the objects: %d keys, then %d", len(keys), len(again))
	}
	m, err := ReadMetrics(e.dir, "orders")
	if err != nil || m.RecordsIn != n || m.RecordsDelivered != int64(len(want)) || m.ConversionFailures != int64(len(bad)) {
		t.Errorf("metrics %+v %v", m, err)
	}
	t.Logf("%d records: %d data objects, %d error records, %d keys", n, dataObjects, len(bad), len(keys))
}
