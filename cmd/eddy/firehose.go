package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/cmd/eddy/internal/transform"
	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/firehose/delivery"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec/checkpoint"
	"github.com/eddy-streams/eddy/sql"
	"github.com/eddy-streams/eddy/sql/types"
)

func (a *invocation) firehoseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "firehose",
		Short: "Delivery streams: buffered delivery of records to a folder or bucket, as JSON or Parquet",
		Long: `Delivery streams work like Kinesis Data Firehose: records put to a delivery stream
(or read from a stream it consumes) are buffered per partition until --buffer-size MB
or --buffer-interval seconds, then written as one object under
DATA_DIR/buckets/BUCKET/PREFIX/YYYY/MM/DD/HH/ (or a custom or dynamic-partition prefix),
raw or converted to Parquet. Records that cannot be converted go to the error prefix
with the reason. Delivery is exactly once: a crash and restart rewrite the same objects.

eddy serve delivers every delivery stream as long as it runs; eddy firehose deliver
delivers what is waiting and exits (or keeps going with --follow).`,
	}
	cmd.AddCommand(a.firehoseCreate(), a.firehoseList(), a.firehoseDescribe(), a.firehoseDelete(), a.firehosePut(), a.firehoseDeliver())
	return cmd
}

// openFirehose opens the delivery stream catalog of the data directory.
func (a *invocation) openFirehose() (*catalog.Catalog, error) {
	cat, err := catalog.Open(a.dataDir, catalog.Options{StateDelay: -1, Logger: a.logger()})
	if err != nil {
		return nil, err
	}
	return cat, nil
}

type firehoseCreateFlags struct {
	bucket, prefix, errorPrefix, compression, source, schema, parquetCompression, partitionQuery, timeZone string
	transform, transformColumns                                                                            string
	bufferMB, bufferSecs                                                                                   int
	parquet, stdout, newline, dynamic                                                                      bool
}

func (a *invocation) firehoseCreate() *cobra.Command {
	var f firehoseCreateFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a delivery stream",
		Example: `  eddy firehose create clicks --bucket lake --prefix clicks/ --buffer-interval 60
  eddy firehose create orders --bucket lake --parquet --schema orders.json --source orders-stream
  eddy firehose create by-customer --bucket lake --dynamic-partitioning \
      --partition-query '{customer_id: .customer_id}' --prefix 'customer_id=!{partitionKeyFromQuery:customer_id}/' \
      --error-prefix 'errors/!{firehose:error-output-type}/'`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.createDeliveryStream(args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bucket, "bucket", "eddy", "bucket to deliver to: DATA_DIR/buckets/BUCKET, or the bucket of eddy serve's --s3-endpoint")
	fl.StringVar(&f.prefix, "prefix", "", "object key prefix; may hold !{timestamp:...}, !{firehose:random-string}, !{partitionKeyFromQuery:KEY} (default YYYY/MM/DD/HH/)")
	fl.StringVar(&f.errorPrefix, "error-prefix", "", "prefix of records that failed (needs !{firehose:error-output-type} when --prefix has expressions)")
	fl.IntVar(&f.bufferMB, "buffer-size", catalog.DefaultBufferSizeMB, "deliver a partition's buffer when it holds this many MB (1-128)")
	fl.IntVar(&f.bufferSecs, "buffer-interval", catalog.DefaultBufferIntervalSecs, "or when its first record is this many seconds old (0-900)")
	fl.StringVar(&f.compression, "compression", catalog.CompressionUncompressed, "raw objects: UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY")
	fl.BoolVar(&f.parquet, "parquet", false, "convert JSON records to Parquet with --schema")
	fl.StringVar(&f.schema, "schema", "", "the columns for --parquet: a JSON schema file ({\"columns\":[{\"name\":..,\"type\":..}]}, Hive types) or a .sql file with a CREATE STREAM/TABLE")
	fl.StringVar(&f.parquetCompression, "parquet-compression", "SNAPPY", "SNAPPY, GZIP, ZSTD or UNCOMPRESSED")
	fl.StringVar(&f.source, "source", "", "read this stream (KinesisStreamAsSource) instead of taking puts")
	fl.BoolVar(&f.dynamic, "dynamic-partitioning", false, "partition objects by keys of each record (--partition-query)")
	fl.StringVar(&f.partitionQuery, "partition-query", "", "jq query of the keys, such as '{customer_id: .customer_id}'")
	fl.BoolVar(&f.newline, "append-newline", false, "put a newline between records in raw objects")
	fl.BoolVar(&f.stdout, "stdout", false, "print delivered records instead of writing objects (for debugging)")
	fl.StringVar(&f.timeZone, "time-zone", "", "time zone of prefixes and object names (default UTC)")
	fl.StringVar(&f.transform, "transform", "", "a SQL transform instead of a Lambda: SELECT ... FROM record [WHERE ...], delivered as JSON (needs --transform-columns)")
	fl.StringVar(&f.transformColumns, "transform-columns", "", "the record's columns the transform reads, as in CREATE STREAM: 'id BIGINT, page VARCHAR, ms BIGINT'")
	return cmd
}

func (a *invocation) createDeliveryStream(name string, f firehoseCreateFlags) error {
	cat, err := a.openFirehose()
	if err != nil {
		return err
	}
	role := "arn:aws:iam::" + catalog.DefaultAccountID + ":role/eddy"
	in := catalog.CreateInput{Name: name, Type: catalog.TypeDirectPut}
	d := &in.Destination
	d.Kind, d.Extended = catalog.DestinationS3, true
	if f.stdout {
		d.Kind = catalog.DestinationStdout
	}
	d.RoleARN, d.BucketARN = &role, ptrTo("arn:aws:s3:::"+f.bucket)
	d.SizeInMBs, d.IntervalInSeconds = &f.bufferMB, &f.bufferSecs
	if f.prefix != "" {
		d.Prefix = &f.prefix
	}
	if f.errorPrefix != "" {
		d.ErrorOutputPrefix = &f.errorPrefix
	}
	if f.timeZone != "" {
		d.CustomTimeZone = &f.timeZone
	}
	comp := f.compression
	if f.parquet {
		if f.schema == "" {
			return errors.New("--parquet needs --schema FILE (a JSON schema file or a .sql table definition)")
		}
		table, err := a.installSchema(name, f.schema)
		if err != nil {
			return err
		}
		yes := true
		d.DataFormatConversion = &catalog.DataFormatConversionConfig{Enabled: &yes, OpenX: &catalog.OpenXConfig{},
			Parquet: &catalog.Parquet{Compression: strings.ToUpper(f.parquetCompression)}, Schema: &catalog.Schema{DatabaseName: firehoseSchemaDB, TableName: table}}
		comp = catalog.CompressionUncompressed
	} else if f.schema != "" {
		return errors.New("--schema applies to --parquet; add --parquet to convert records")
	}
	d.CompressionFormat = &comp
	var procs []catalog.Processor
	if f.dynamic {
		yes := true
		d.DynamicPartitioning = &catalog.DynamicPartitioningConfig{Enabled: &yes}
	}
	if f.partitionQuery != "" {
		procs = append(procs, catalog.Processor{Type: catalog.ProcessorMetadataExtraction, Parameters: []catalog.ProcessorParameter{
			{Name: "MetadataExtractionQuery", Value: f.partitionQuery}, {Name: "JsonParsingEngine", Value: "JQ-1.6"}}})
	}
	if f.newline {
		procs = append(procs, catalog.Processor{Type: catalog.ProcessorAppendDelimiterToRecord})
	}
	if len(procs) > 0 {
		d.Processing = &catalog.Processing{Enabled: true, Processors: procs}
	}
	if (f.transform == "") != (f.transformColumns == "") {
		return errors.New("--transform and --transform-columns go together: the SELECT and the columns of the record it reads")
	}
	if f.transform != "" {
		def := transform.Definition(f.transformColumns, f.transform)
		if _, err := transform.Compile(def); err != nil {
			return err
		}
		d.SQLTransform = &def
	}
	if f.source != "" {
		in.Type = catalog.TypeKinesisStreamAsSource
		in.Source = &catalog.KinesisSource{StreamARN: "arn:aws:kinesis:" + catalog.DefaultRegion + ":" + catalog.DefaultAccountID + ":stream/" + f.source, RoleARN: role}
	}
	return a.withStore(func(st *streamstore.Store) error {
		if f.source != "" {
			if _, err := st.DescribeStream(f.source); err != nil {
				return fmt.Errorf("--source %s: %w (create it with eddy streams create)", f.source, err)
			}
		}
		ds, err := cat.Create(in)
		if err != nil {
			return err
		}
		if ds.Type == catalog.TypeDirectPut {
			if err := st.CreateStream(catalog.BackingStream(name), 1); err != nil && !errors.Is(err, streamstore.ErrInUse) {
				_ = cat.Delete(name)
				return fmt.Errorf("create the stream that buffers %s: %w", name, err)
			}
		}
		fmt.Fprintf(a.stdout, "delivery stream %s created: %s\n", name, describeDestination(a.dataDir, ds))
		return nil
	})
}

func ptrTo[T any](v T) *T { return &v }

// firehoseSchemaDB is the database of schemas given to eddy firehose create.
const firehoseSchemaDB = "eddy"

// installSchema copies a schema file (or the columns of a .sql table
// definition) to DATA_DIR/tables/eddy/NAME.json, where the catalog resolves it.
func (a *invocation) installSchema(name, path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--schema: %w", err)
	}
	var cols []catalog.Column
	if strings.EqualFold(filepath.Ext(path), ".sql") {
		cols, err = columnsFromSQL(path, string(data))
	} else {
		cols, err = catalog.ParseSchema(data)
	}
	if err != nil {
		return "", fmt.Errorf("--schema %s: %w", path, err)
	}
	doc, err := jsonIndent(map[string]any{"columns": cols})
	if err != nil {
		return "", err
	}
	dst := catalog.TablePath(a.dataDir, firehoseSchemaDB, name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(dst, doc, 0o644); err != nil {
		return "", fmt.Errorf("install schema: %w", err)
	}
	return name, nil
}

// columnsFromSQL takes the columns of the first CREATE STREAM or CREATE TABLE
// of a SQL file, with their types spelled as Hive's.
func columnsFromSQL(file, text string) ([]catalog.Column, error) {
	stmts, err := sql.Compile(file, text, sql.NewCatalog())
	if err != nil {
		return nil, err
	}
	for _, s := range stmts {
		cs, ok := s.(*sql.CreateStream)
		if !ok {
			continue
		}
		var cols []catalog.Column
		for _, c := range cs.Columns {
			cols = append(cols, catalog.Column{Name: c.Name, Type: hiveType(c.Type)})
		}
		return cols, nil
	}
	return nil, errors.New("no CREATE STREAM or CREATE TABLE statement: give one whose columns are the schema")
}

func hiveType(t types.Type) string {
	switch t.Kind {
	case types.Boolean:
		return "boolean"
	case types.BigInt:
		return "bigint"
	case types.Double:
		return "double"
	case types.Decimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case types.Timestamp:
		return "timestamp"
	}
	return "string"
}

func describeDestination(dataDir string, ds catalog.DeliveryStream) string {
	d := ds.Destination
	if d.Kind == catalog.DestinationStdout {
		return "records are printed by the process that delivers them"
	}
	format := "raw " + d.CompressionFormat
	if d.DataFormatConversion != nil && d.DataFormatConversion.Enabled {
		format = "Parquet"
	}
	return fmt.Sprintf("%s objects in %s", format, filepath.Join(dataDir, "buckets", d.Bucket, d.Prefix))
}

func (a *invocation) firehoseList() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List delivery streams",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := a.openFirehose()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tSTATUS\tDESTINATION")
			for _, ds := range cat.All() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ds.Name, ds.Type, ds.Status, describeDestination(a.dataDir, ds))
			}
			return tw.Flush()
		},
	}
}

func (a *invocation) firehoseDescribe() *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a delivery stream's configuration and delivery metrics (JSON)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := a.openFirehose()
			if err != nil {
				return err
			}
			ds, err := cat.Get(args[0])
			if err != nil {
				return err
			}
			m, err := delivery.ReadMetrics(a.dataDir, ds.Name)
			if err != nil {
				return err
			}
			return writeJSON(a.stdout, map[string]any{"DeliveryStream": ds, "Metrics": m})
		},
	}
}

func (a *invocation) firehoseDelete() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a delivery stream (records not yet delivered are dropped; delivered objects stay)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := a.openFirehose()
			if err != nil {
				return err
			}
			ds, err := cat.Get(args[0])
			if err != nil {
				return err
			}
			if err := cat.Delete(ds.Name); err != nil {
				return err
			}
			if ds.Type == catalog.TypeDirectPut {
				if err := a.withStore(func(st *streamstore.Store) error {
					return st.DeleteStream(catalog.BackingStream(ds.Name))
				}); err != nil && !errors.Is(err, streamstore.ErrNotFound) {
					return err
				}
			}
			fmt.Fprintf(a.stdout, "delivery stream %s deleted\n", ds.Name)
			return nil
		},
	}
}

func (a *invocation) firehosePut() *cobra.Command {
	return &cobra.Command{
		Use:   "put NAME [RECORD...]",
		Short: "Put records (arguments, or one per line of standard input) to a delivery stream",
		Long: `Put records to a DirectPut delivery stream. Each is stored durably before the
command returns; it is delivered by eddy serve, or by eddy firehose deliver.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := a.openFirehose()
			if err != nil {
				return err
			}
			ds, err := cat.Get(args[0])
			if err != nil {
				return err
			}
			if ds.Type != catalog.TypeDirectPut {
				return fmt.Errorf("delivery stream %s reads stream %s; put records there (eddy put %s ...)", ds.Name, ds.Source.StreamName, ds.Source.StreamName)
			}
			return a.withStore(func(st *streamstore.Store) error {
				n, err := putLines(cmd.Context(), st, catalog.BackingStream(ds.Name), args[1:], a.stdin)
				if err == nil {
					fmt.Fprintf(a.stdout, "%d records put to %s\n", n, ds.Name)
				}
				return err
			})
		},
	}
}

// putLines puts records in batches of up to 500 and returns how many it put.
func putLines(ctx context.Context, st *streamstore.Store, stream string, args []string, stdin io.Reader) (int, error) {
	var batch []streamstore.PutEntry
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := st.PutRecords(ctx, stream, batch); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	add := func(rec []byte) error {
		batch = append(batch, streamstore.PutEntry{PartitionKey: fmt.Sprint(n + len(batch)), Data: rec})
		if len(batch) == 500 {
			return flush()
		}
		return nil
	}
	if len(args) > 0 {
		for _, r := range args {
			if err := add([]byte(r)); err != nil {
				return n, err
			}
		}
		return n, flush()
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), streamstore.MaxRecordBytes)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := add(append([]byte(nil), sc.Bytes()...)); err != nil {
			return n, err
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("read standard input: %w", err)
	}
	return n, flush()
}

func (a *invocation) firehoseDeliver() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "deliver [NAME...]",
		Short: "Deliver what delivery streams hold (all when none is named), then exit",
		Long: `Deliver the records waiting in delivery streams (all of them, or those named): every
partition buffer is written out, whatever its buffering hints, and the command exits.
With --follow it keeps delivering by the buffering hints until interrupted, as eddy
serve does. Only one process delivers a stream at a time.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := a.openFirehose()
			if err != nil {
				return err
			}
			st, err := a.openStore(true)
			if err != nil {
				return err
			}
			defer st.Close()
			serverGC() // a deliverer allocates as eddy serve does
			opts := a.deliveryOptions(st, nil)
			if !follow {
				return delivery.Deliver(cmd.Context(), opts, cat, args)
			}
			keep := map[string]bool{}
			for _, n := range args {
				if _, err := cat.Get(n); err != nil {
					return err
				}
				keep[n] = true
			}
			var filter func(string) bool
			if len(keep) > 0 {
				filter = func(n string) bool { return keep[n] }
			}
			return delivery.NewService(opts, cat).Run(cmd.Context(), filter)
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "keep delivering until interrupted")
	return cmd
}

// deliveryOptions are the runners' options: objects go to DATA_DIR/buckets/BUCKET
// unless bucket is given (eddy serve --s3-endpoint).
func (a *invocation) deliveryOptions(st *streamstore.Store, bucket func(ctx context.Context, name string) (checkpoint.Store, error)) delivery.Options {
	if bucket == nil {
		bucket = func(_ context.Context, name string) (checkpoint.Store, error) {
			return checkpoint.NewDirStore(filepath.Join(a.dataDir, "buckets", name)), nil
		}
	}
	return delivery.Options{Store: st, DataDir: a.dataDir, Bucket: bucket, Stdout: a.stdout, Logger: a.logger(),
		CompileTransform: func(def string) (delivery.Transformer, error) { return transform.Compile(def) }}
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
