package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func ptr[T any](v T) *T { return &v }

func openTest(t *testing.T, dir string, clk *clock) *Catalog {
	t.Helper()
	c, err := Open(dir, Options{Now: clk.Now, StateDelay: time.Second, AccountID: "123456789012", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func s3Config() DestinationConfig {
	return DestinationConfig{RoleARN: ptr("arn:aws:iam::123456789012:role/firehose"), BucketARN: ptr("arn:aws:s3:::my-bucket")}
}

func mustCreate(t *testing.T, c *Catalog, in CreateInput) DeliveryStream {
	t.Helper()
	ds, err := c.Create(in)
	if err != nil {
		t.Fatalf("create %s: %v", in.Name, err)
	}
	return ds
}

func wantKind(t *testing.T, err, kind error, contains string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want kind %v", err, kind)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not say %q", err, contains)
	}
}

func writeTable(t *testing.T, dir, db, table, body string) {
	t.Helper()
	p := TablePath(dir, db, table)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCreateDefaultsStatusAndReopen(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c := openTest(t, dir, clk)
	ds := mustCreate(t, c, CreateInput{Name: "clicks", Destination: s3Config(), Tags: []Tag{{"b", "2"}, {"a", "1"}}})
	if ds.ARN != "arn:aws:firehose:eu-west-1:123456789012:deliverystream/clicks" || ds.Type != TypeDirectPut || ds.VersionID != "1" {
		t.Fatalf("created %+v", ds)
	}
	d := ds.Destination
	if d.ID != FirstDestinationID || d.Bucket != "my-bucket" || d.BufferingHints != (BufferingHints{5, 300}) || d.CompressionFormat != "UNCOMPRESSED" {
		t.Fatalf("destination defaults: %+v", d)
	}
	if ds.Status != StatusCreating {
		t.Fatalf("status %s right after create, want CREATING", ds.Status)
	}
	clk.Add(time.Second)
	got, err := c.Get("clicks")
	if err != nil || got.Status != StatusActive {
		t.Fatalf("after the delay: %v %v", got.Status, err)
	}
	if !reflect.DeepEqual(got.Tags, []Tag{{"a", "1"}, {"b", "2"}}) {
		t.Fatalf("tags %v, want sorted by key", got.Tags)
	}
	c2 := openTest(t, dir, clk)
	again, err := c2.Get("clicks")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Created.Equal(got.Created) {
		t.Fatalf("created %v after reopen, want %v", again.Created, got.Created)
	}
	again.Created, again.LastUpdated = got.Created, got.LastUpdated // monotonic clock readings differ
	if !reflect.DeepEqual(again, got) {
		t.Fatalf("after reopen:\n%+v\nwant\n%+v", again, got)
	}
}

func TestCreateRefusals(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir, &clock{t: time.Now()})
	mustCreate(t, c, CreateInput{Name: "taken", Destination: s3Config()})
	with := func(f func(*DestinationConfig)) DestinationConfig { d := s3Config(); f(&d); return d }
	for _, tc := range []struct {
		name string
		in   CreateInput
		kind error
		says string
	}{
		{"bad name", CreateInput{Name: "a/b", Destination: s3Config()}, ErrInvalidArgument, "not valid"},
		{"dot dot", CreateInput{Name: "..", Destination: s3Config()}, ErrInvalidArgument, "directory"},
		{"too long", CreateInput{Name: strings.Repeat("x", 65), Destination: s3Config()}, ErrInvalidArgument, "1 to 64"},
		{"exists", CreateInput{Name: "taken", Destination: s3Config()}, ErrInUse, "already exists"},
		{"no bucket", CreateInput{Name: "n", Destination: DestinationConfig{RoleARN: ptr("arn:aws:iam::123456789012:role/r")}}, ErrInvalidArgument, "BucketARN"},
		{"size", CreateInput{Name: "n", Destination: with(func(d *DestinationConfig) { d.SizeInMBs = ptr(129) })}, ErrInvalidArgument, "SizeInMBs 129"},
		{"interval", CreateInput{Name: "n", Destination: with(func(d *DestinationConfig) { d.IntervalInSeconds = ptr(901) })}, ErrInvalidArgument, "IntervalInSeconds 901"},
		{"compression", CreateInput{Name: "n", Destination: with(func(d *DestinationConfig) { d.CompressionFormat = ptr("LZ4") })}, ErrInvalidArgument, "LZ4"},
		{"lambda", CreateInput{Name: "n", Destination: with(func(d *DestinationConfig) {
			d.Processing = &Processing{Enabled: true, Processors: []Processor{{Type: "Lambda"}}}
		})}, ErrInvalidArgument, "SQL transform"},
		{"orc", CreateInput{Name: "n", Destination: with(func(d *DestinationConfig) {
			d.DataFormatConversion = &DataFormatConversionConfig{ORC: true}
		})}, ErrInvalidArgument, "Parquet only"},
		{"conversion compressed", CreateInput{Name: "n", Destination: with(func(d *DestinationConfig) {
			d.CompressionFormat = ptr("GZIP")
			d.DataFormatConversion = &DataFormatConversionConfig{OpenX: &OpenXConfig{}, Parquet: &Parquet{}, Schema: &Schema{DatabaseName: "db", TableName: "t"}}
		})}, ErrInvalidArgument, "UNCOMPRESSED"},
		{"schema missing", CreateInput{Name: "n", Destination: with(func(d *DestinationConfig) {
			d.DataFormatConversion = &DataFormatConversionConfig{OpenX: &OpenXConfig{}, Parquet: &Parquet{}, Schema: &Schema{DatabaseName: "db", TableName: "nope"}}
		})}, ErrInvalidArgument, TablePath(dir, "db", "nope")},
		{"source missing", CreateInput{Name: "n", Type: TypeKinesisStreamAsSource, Destination: s3Config()}, ErrInvalidArgument, "KinesisStreamSourceConfiguration"},
		{"source arn", CreateInput{Name: "n", Type: TypeKinesisStreamAsSource, Source: &KinesisSource{StreamARN: "arn:aws:kinesis:us-east-1:123:stream/x", RoleARN: "r"}, Destination: s3Config()}, ErrInvalidArgument, "not a Kinesis stream ARN"},
		{"reserved tag", CreateInput{Name: "n", Destination: s3Config(), Tags: []Tag{{"aws:x", "1"}}}, ErrInvalidArgument, "reserved"},
		{"partitioning buffer", CreateInput{Name: "n", Destination: with(func(d *DestinationConfig) {
			d.DynamicPartitioning = &DynamicPartitioningConfig{Enabled: ptr(true)}
			d.ErrorOutputPrefix = ptr("errors/")
		})}, ErrInvalidArgument, "at least 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Create(tc.in)
			wantKind(t, err, tc.kind, tc.says)
		})
	}
	if names, _, _ := c.List(ListInput{}); !reflect.DeepEqual(names, []string{"taken"}) {
		t.Fatalf("refused creates left streams behind: %v", names)
	}
}

func TestLimitOfDeliveryStreams(t *testing.T) {
	c, err := Open(t.TempDir(), Options{MaxDeliveryStreams: 2})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, CreateInput{Name: "a", Destination: s3Config()})
	mustCreate(t, c, CreateInput{Name: "b", Destination: s3Config()})
	_, err = c.Create(CreateInput{Name: "c", Destination: s3Config()})
	wantKind(t, err, ErrLimitExceeded, "limit of 2")
}

func TestFormatConversionResolvesSchema(t *testing.T) {
	dir := t.TempDir()
	writeTable(t, dir, "web", "clicks", `{"columns":[{"name":"user","type":"string"},{"name":"ms","type":"bigint"}]}`)
	writeTable(t, dir, "web", "glue", `[{"Name":"id","Type":"int"}]`)
	clk := &clock{t: time.Now()}
	c := openTest(t, dir, clk)
	cfg := s3Config()
	cfg.Extended = true
	cfg.DataFormatConversion = &DataFormatConversionConfig{
		OpenX:   &OpenXConfig{ColumnToJSONKeyMappings: map[string]string{"ms": "millis"}},
		Parquet: &Parquet{Compression: "GZIP"},
		Schema:  &Schema{DatabaseName: "web", TableName: "clicks", RoleARN: "arn:aws:iam::123456789012:role/glue"},
	}
	ds := mustCreate(t, c, CreateInput{Name: "conv", Destination: cfg})
	conv := ds.Destination.DataFormatConversion
	if conv == nil || !conv.Enabled || !conv.Input.OpenX.CaseInsensitive {
		t.Fatalf("conversion %+v: want enabled, CaseInsensitive defaulting to true", conv)
	}
	if want := []Column{{"user", "string"}, {"ms", "bigint"}}; !reflect.DeepEqual(conv.Schema.Columns, want) {
		t.Fatalf("columns %v, want %v", conv.Schema.Columns, want)
	}
	// Naming another table resolves it; the rest of the conversion stays.
	up, err := c.UpdateDestination(UpdateInput{Name: "conv", CurrentVersionID: "1", DestinationID: FirstDestinationID, Destination: DestinationConfig{
		DataFormatConversion: &DataFormatConversionConfig{Schema: &Schema{DatabaseName: "web", TableName: "glue"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	conv = up.Destination.DataFormatConversion
	if !reflect.DeepEqual(conv.Schema.Columns, []Column{{"id", "int"}}) || conv.Output.Compression != "GZIP" || conv.Input.OpenX.ColumnToJSONKeyMappings["ms"] != "millis" {
		t.Fatalf("after update: %+v", conv)
	}
	// A caller's value is a copy.
	conv.Input.OpenX.ColumnToJSONKeyMappings["ms"] = "changed"
	again, _ := c.Get("conv")
	if again.Destination.DataFormatConversion.Input.OpenX.ColumnToJSONKeyMappings["ms"] != "millis" {
		t.Fatal("changing a returned value changed the catalog")
	}
}

func TestPluggedSchemaResolver(t *testing.T) {
	var asked Schema
	c, err := Open(t.TempDir(), Options{ResolveSchema: func(s Schema) ([]Column, error) {
		asked = s
		if s.TableName == "bad" {
			return nil, errors.New("no such table in the SQL catalog")
		}
		return []Column{{"x", "double"}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s3Config()
	cfg.DataFormatConversion = &DataFormatConversionConfig{Hive: &HiveJSON{}, Parquet: &Parquet{}, Schema: &Schema{DatabaseName: "d", TableName: "bad"}}
	_, err = c.Create(CreateInput{Name: "s", Destination: cfg})
	wantKind(t, err, ErrInvalidArgument, "no such table in the SQL catalog")
	cfg.DataFormatConversion.Schema.TableName = "good"
	ds := mustCreate(t, c, CreateInput{Name: "s", Destination: cfg})
	if asked.DatabaseName != "d" || asked.TableName != "good" || ds.Destination.DataFormatConversion.Schema.Columns[0].Name != "x" {
		t.Fatalf("resolver asked %+v, stream %+v", asked, ds.Destination.DataFormatConversion)
	}
}

func TestUpdateDestinationMergesAndVersions(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Now()}
	c := openTest(t, dir, clk)
	cfg := s3Config()
	cfg.Prefix = ptr("raw/")
	cfg.SizeInMBs, cfg.IntervalInSeconds = ptr(10), ptr(60)
	cfg.CompressionFormat = ptr("GZIP")
	mustCreate(t, c, CreateInput{Name: "u", Destination: cfg})
	clk.Add(time.Minute)

	_, err := c.UpdateDestination(UpdateInput{Name: "u", CurrentVersionID: "2", DestinationID: FirstDestinationID})
	wantKind(t, err, ErrConcurrentModification, "do not match")
	_, err = c.UpdateDestination(UpdateInput{Name: "u", CurrentVersionID: "1", DestinationID: "destinationId-000000000002"})
	wantKind(t, err, ErrInvalidArgument, "destinationId-000000000002")
	_, err = c.UpdateDestination(UpdateInput{Name: "missing", CurrentVersionID: "1", DestinationID: FirstDestinationID})
	wantKind(t, err, ErrNotFound, "missing")
	_, err = c.UpdateDestination(UpdateInput{Name: "u", CurrentVersionID: "1", DestinationID: FirstDestinationID, Destination: DestinationConfig{SizeInMBs: ptr(0)}})
	wantKind(t, err, ErrInvalidArgument, "SizeInMBs 0")

	up, err := c.UpdateDestination(UpdateInput{Name: "u", CurrentVersionID: "1", DestinationID: FirstDestinationID, Destination: DestinationConfig{
		IntervalInSeconds: ptr(120), SQLTransform: ptr("SELECT * FROM record"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	d := up.Destination
	if up.VersionID != "2" || d.BufferingHints != (BufferingHints{10, 120}) || d.Prefix != "raw/" || d.CompressionFormat != "GZIP" || d.SQLTransform != "SELECT * FROM record" {
		t.Fatalf("after update: version %s, %+v", up.VersionID, d)
	}
	if !up.LastUpdated.After(up.Created) {
		t.Fatalf("LastUpdated %v not after Created %v", up.LastUpdated, up.Created)
	}
	// The old version id is stale now.
	_, err = c.UpdateDestination(UpdateInput{Name: "u", CurrentVersionID: "1", DestinationID: FirstDestinationID})
	wantKind(t, err, ErrConcurrentModification, "current version id: 2")
	// Dynamic partitioning cannot be turned on after creation.
	_, err = c.UpdateDestination(UpdateInput{Name: "u", CurrentVersionID: "2", DestinationID: FirstDestinationID, Destination: DestinationConfig{
		SizeInMBs: ptr(64), ErrorOutputPrefix: ptr("e/"), DynamicPartitioning: &DynamicPartitioningConfig{Enabled: ptr(true)},
	}})
	wantKind(t, err, ErrInvalidArgument, "only be enabled when the delivery stream is created")
	if got, _ := c.Get("u"); got.VersionID != "2" {
		t.Fatalf("refused update changed the version to %s", got.VersionID)
	}
}

func TestListPagingAndTypeFilter(t *testing.T) {
	c := openTest(t, t.TempDir(), &clock{t: time.Now()})
	for _, n := range []string{"e", "b", "d", "a", "c"} {
		mustCreate(t, c, CreateInput{Name: n, Destination: s3Config()})
	}
	mustCreate(t, c, CreateInput{Name: "k", Type: TypeKinesisStreamAsSource, Source: &KinesisSource{
		StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/src", RoleARN: "arn:aws:iam::123456789012:role/r"}, Destination: s3Config()})
	var all []string
	start := ""
	for pages := 0; ; pages++ {
		names, more, err := c.List(ListInput{ExclusiveStartName: start, Limit: 2})
		if err != nil || pages > 5 {
			t.Fatal(err, pages)
		}
		all = append(all, names...)
		if !more {
			break
		}
		start = names[len(names)-1]
	}
	if !reflect.DeepEqual(all, []string{"a", "b", "c", "d", "e", "k"}) {
		t.Fatalf("paged %v", all)
	}
	names, more, _ := c.List(ListInput{Type: TypeKinesisStreamAsSource})
	if !reflect.DeepEqual(names, []string{"k"}) || more {
		t.Fatalf("type filter: %v %v", names, more)
	}
	if k, _ := c.Get("k"); k.Source.StreamName != "src" {
		t.Fatalf("source %+v: stream name not resolved from the ARN", k.Source)
	}
	_, _, err := c.List(ListInput{Limit: 10001})
	wantKind(t, err, ErrInvalidArgument, "Limit")
}

func TestTags(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Now()}
	c := openTest(t, dir, clk)
	mustCreate(t, c, CreateInput{Name: "t", Destination: s3Config(), Tags: []Tag{{"k00", "v"}}})
	var tags []Tag
	for i := 1; i < MaxTagsPerStream; i++ {
		tags = append(tags, Tag{Key: "k" + string(rune('0'+i/10)) + string(rune('0'+i%10)), Value: "v"})
	}
	if err := c.Tag("t", tags); err != nil {
		t.Fatal(err)
	}
	wantKind(t, c.Tag("t", []Tag{{"one-too-many", ""}}), ErrLimitExceeded, "at most 50")
	if err := c.Tag("t", []Tag{{"k00", "changed"}}); err != nil {
		t.Fatalf("changing a value at the limit: %v", err)
	}
	wantKind(t, c.Tag("missing", []Tag{{"a", "b"}}), ErrNotFound, "missing")
	wantKind(t, c.Tag("t", []Tag{{"bad#key", "b"}}), ErrInvalidArgument, "bad#key")

	var keys []string
	start := ""
	for {
		page, more, err := c.ListTags("t", start, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range page {
			keys = append(keys, tg.Key)
		}
		if !more {
			break
		}
		start = page[len(page)-1].Key
	}
	if len(keys) != 50 || keys[0] != "k00" || keys[49] != "k49" {
		t.Fatalf("paged %d keys: %v", len(keys), keys)
	}
	if err := c.Untag("t", []string{"k00", "not-there"}); err != nil {
		t.Fatal(err)
	}
	c2 := openTest(t, dir, clk)
	page, _, _ := c2.ListTags("t", "", 2)
	if !reflect.DeepEqual(page, []Tag{{"k01", "v"}, {"k02", "v"}}) {
		t.Fatalf("after untag and reopen: %v", page)
	}
}

func TestEncryptionStates(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := openTest(t, t.TempDir(), clk)
	mustCreate(t, c, CreateInput{Name: "e", Destination: s3Config()})
	if ds, _ := c.Get("e"); ds.Encryption.Status != EncryptionDisabled {
		t.Fatalf("new stream encryption %s", ds.Encryption.Status)
	}
	wantKind(t, c.StartEncryption("e", EncryptionConfig{KeyType: KeyCustomerManaged}), ErrInvalidArgument, "KeyARN is required")
	if err := c.StartEncryption("e", EncryptionConfig{KeyType: KeyCustomerManaged, KeyARN: "arn:aws:kms:us-east-1:123456789012:key/k"}); err != nil {
		t.Fatal(err)
	}
	ds, _ := c.Get("e")
	if ds.Encryption.Status != EncryptionEnabling || ds.Encryption.KeyARN == "" {
		t.Fatalf("just started: %+v", ds.Encryption)
	}
	clk.Add(time.Second)
	if ds, _ := c.Get("e"); ds.Encryption.Status != EncryptionEnabled {
		t.Fatalf("after the delay: %+v", ds.Encryption)
	}
	if err := c.StopEncryption("e"); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if ds, _ := c.Get("e"); ds.Encryption.Status != EncryptionDisabled || ds.Encryption.KeyType != "" {
		t.Fatalf("stopped: %+v", ds.Encryption)
	}
}

func TestDamagedFileKeepsOthers(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Now()}
	c := openTest(t, dir, clk)
	for _, n := range []string{"good", "torn", "newer"} {
		mustCreate(t, c, CreateInput{Name: n, Destination: s3Config()})
	}
	root := filepath.Join(dir, "firehose")
	b, _ := os.ReadFile(filepath.Join(root, "torn", streamFile))
	if err := os.WriteFile(filepath.Join(root, "torn", streamFile), b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "newer", streamFile), []byte(`{"format":99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// An interrupted delete and a stray temp file are cleaned up.
	if err := os.MkdirAll(filepath.Join(root, "gone"+deletingSuffix), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "good", streamFile+".tmp-1"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c2 := openTest(t, dir, clk)
	if _, err := c2.Get("good"); err != nil {
		t.Fatal(err)
	}
	dmg := c2.Damaged()
	if len(dmg) != 2 || dmg[0].Name != "newer" || dmg[1].Name != "torn" || !strings.Contains(dmg[0].Error(), "format 99") {
		t.Fatalf("damaged: %v", dmg)
	}
	_, err := c2.Create(CreateInput{Name: "torn", Destination: s3Config()})
	wantKind(t, err, ErrInUse, "damaged")
	if _, err := os.Stat(filepath.Join(root, "gone"+deletingSuffix)); !os.IsNotExist(err) {
		t.Fatalf("leftover of a delete still there: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(root, "good", "*.tmp-*")); len(m) != 0 {
		t.Fatalf("temp files left: %v", m)
	}
}

func TestDeleteAndWait(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir, &clock{t: time.Now()})
	v0 := c.Version()
	woke := make(chan uint64)
	go func() {
		v, _ := c.Wait(context.Background(), v0)
		woke <- v
	}()
	mustCreate(t, c, CreateInput{Name: "d", Destination: s3Config()})
	select {
	case v := <-woke:
		if v <= v0 {
			t.Fatalf("woke at version %d, not past %d", v, v0)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not wake on create")
	}
	if err := c.Delete("d"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, c.Delete("d"), ErrNotFound, "not found")
	if _, err := os.Stat(filepath.Join(dir, "firehose", "d")); !os.IsNotExist(err) {
		t.Fatalf("directory left after delete: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx, c.Version()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with nothing changing: %v", err)
	}
	if _, err := openTest(t, dir, &clock{t: time.Now()}).Get("d"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted stream after reopen: %v", err)
	}
}

func TestParseSchema(t *testing.T) {
	for _, tc := range []struct{ body, err string }{
		{`{"columns":[]}`, "no columns"},
		{`[{"Name":"a"}]`, "needs a name and a type"},
		{`{"columns":[{"name":"a","type":"int"},{"name":"A","type":"int"}]}`, "defined twice"},
		{`{"columns":`, "not a schema"},
		{`[1]`, "not a Glue column list"},
	} {
		if _, err := ParseSchema([]byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseSchema(%s) = %v, want %q", tc.body, err, tc.err)
		}
	}
}

func FuzzParseSchema(f *testing.F) {
	f.Add([]byte(`{"columns":[{"name":"a","type":"int"}]}`))
	f.Add([]byte(`[{"Name":"a","Type":"string"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cols, err := ParseSchema(b)
		if err == nil && len(cols) == 0 {
			t.Fatal("no error and no columns")
		}
		for _, c := range cols {
			if c.Name == "" || c.Type == "" {
				t.Fatalf("column %+v accepted", c)
			}
		}
	})
}

func TestConcurrentCreatesAndUpdates(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Now()}
	c := openTest(t, dir, clk)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.Create(CreateInput{Name: "race", Destination: s3Config()})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	created := 0
	for err := range errs {
		if err == nil {
			created++
		} else if !errors.Is(err, ErrInUse) {
			t.Fatal(err)
		}
	}
	if created != 1 {
		t.Fatalf("%d concurrent creates of one name succeeded", created)
	}
	// Concurrent updates from version 1: exactly one wins, the rest conflict.
	wins := make(chan string, 8)
	for i := range 8 {
		wg.Go(func() {
			ds, err := c.UpdateDestination(UpdateInput{Name: "race", CurrentVersionID: "1", DestinationID: FirstDestinationID,
				Destination: DestinationConfig{Prefix: ptr(fmt.Sprintf("p%d/", i))}})
			if err == nil {
				wins <- ds.Destination.Prefix
			} else if !errors.Is(err, ErrConcurrentModification) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(wins)
	var won []string
	for p := range wins {
		won = append(won, p)
	}
	if len(won) != 1 {
		t.Fatalf("%d updates from version 1 succeeded: %v", len(won), won)
	}
	again, err := openTest(t, dir, clk).Get("race")
	if err != nil || again.VersionID != "2" || again.Destination.Prefix != won[0] {
		t.Fatalf("after reopen: version %s prefix %q (%v), want 2 and %q", again.VersionID, again.Destination.Prefix, err, won[0])
	}
}

func TestDisabledConversionResolvesOnlyWhenEnabled(t *testing.T) {
	calls := 0
	c, err := Open(t.TempDir(), Options{StateDelay: -1, ResolveSchema: func(s Schema) ([]Column, error) {
		calls++
		return []Column{{"a", "int"}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s3Config()
	cfg.DataFormatConversion = &DataFormatConversionConfig{Enabled: ptr(false), OpenX: &OpenXConfig{}, Parquet: &Parquet{}, Schema: &Schema{DatabaseName: "d", TableName: "t"}}
	ds := mustCreate(t, c, CreateInput{Name: "off", Destination: cfg})
	if calls != 0 || ds.Destination.DataFormatConversion.Enabled {
		t.Fatalf("disabled conversion: %d resolver calls, %+v", calls, ds.Destination.DataFormatConversion)
	}
	up, err := c.UpdateDestination(UpdateInput{Name: "off", CurrentVersionID: "1", DestinationID: FirstDestinationID, Destination: DestinationConfig{
		DataFormatConversion: &DataFormatConversionConfig{Enabled: ptr(true)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || len(up.Destination.DataFormatConversion.Schema.Columns) != 1 || up.Destination.DataFormatConversion.Schema.TableName != "t" {
		t.Fatalf("enabled: %d resolver calls, %+v", calls, up.Destination.DataFormatConversion)
	}
}
