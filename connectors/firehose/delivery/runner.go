package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/firehose/layout"
	"github.com/eddy-streams/eddy/connectors/firehose/parquetconv"
	"github.com/eddy-streams/eddy/connectors/streamstore"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// ErrBusy is returned by Run when another process delivers the stream.
var ErrBusy = errors.New("delivered by another process")

// Options configure runners.
type Options struct {
	// Store holds the source streams (and DirectPut backing streams).
	Store *streamstore.Store
	// DataDir is the data directory: state files go under DATA_DIR/firehose.
	DataDir string
	// Bucket returns where the objects of a bucket go (a folder or S3).
	Bucket func(ctx context.Context, bucket string) (checkpoint.Store, error)
	// Stdout receives the records of stdout destinations.
	Stdout io.Writer
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PollInterval is how long a runner waits when its source has nothing new
	// (default 200ms).
	PollInterval time.Duration
	// ReadBatch is the record limit of each read (default 1000).
	ReadBatch int
	// CompileTransform compiles a destination's SQLTransform; nil refuses
	// delivery streams that have one.
	CompileTransform func(def string) (Transformer, error)
}

func (o *Options) fill() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 200 * time.Millisecond
	}
	if o.ReadBatch <= 0 {
		o.ReadBatch = 1000
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
}

// Runner delivers one version of one delivery stream.
type Runner struct {
	opts      Options
	ds        catalog.DeliveryStream
	source    string
	layout    *layout.Layout
	random    *seededReader
	columns   []parquetconv.Column // nil: no conversion
	pqOpts    parquetconv.Options
	table     *layout.CatalogTable
	sizeLimit int64
	interval  time.Duration
	delimiter bool
	transform Transformer
	bucket    checkpoint.Store
	statePath string
	st        *state
	shards    map[string]*shardRun
	log       *slog.Logger
	// The data prefix of the last record's arrival second, when the prefix
	// depends on nothing else (most streams): evaluated once per second.
	lastPrefix    string
	lastPrefixSec int64
	lastPrefixOK  bool
}

// shardRun is a runner's reading of one shard.
type shardRun struct {
	id       string
	cursor   streamstore.Cursor
	lastRead string // sequence number of the last record read
	bufs     map[string]*partBuf
	// replayUntil is the highest sequence number some partition delivered
	// past the shard's position when the runner started: up to it, records
	// are checked against what was delivered before being buffered.
	replayUntil uint64
	scratch     *parquetconv.Writer
}

// NewRunner checks a delivery stream's configuration and prepares its runner.
func NewRunner(opts Options, ds catalog.DeliveryStream) (*Runner, error) {
	opts.fill()
	r := &Runner{opts: opts, ds: ds, random: &seededReader{}, shards: map[string]*shardRun{},
		statePath: StateFile(opts.DataDir, ds.Name), log: opts.Logger.With("delivery_stream", ds.Name)}
	switch ds.Type {
	case catalog.TypeDirectPut:
		r.source = catalog.BackingStream(ds.Name)
	case catalog.TypeKinesisStreamAsSource:
		if ds.Source == nil || ds.Source.StreamName == "" {
			return nil, fmt.Errorf("delivery stream %s: KinesisStreamAsSource without a source stream", ds.Name)
		}
		r.source = ds.Source.StreamName
	default:
		return nil, fmt.Errorf("delivery stream %s: unknown type %q", ds.Name, ds.Type)
	}
	d := ds.Destination
	version, err := strconv.ParseInt(ds.VersionID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("delivery stream %s: version id %q: %w", ds.Name, ds.VersionID, err)
	}
	cfg := layout.Config{DeliveryStreamName: ds.Name, Version: version, Prefix: d.Prefix, ErrorOutputPrefix: d.ErrorOutputPrefix,
		Compression: layout.Compression(d.CompressionFormat), FileExtension: d.FileExtension, Random: r.random}
	if d.CompressionFormat == "" {
		cfg.Compression = layout.Uncompressed
	}
	if d.DynamicPartitioning != nil {
		cfg.DynamicPartitioning = d.DynamicPartitioning.Enabled
	}
	if d.Processing != nil && d.Processing.Enabled {
		for _, p := range d.Processing.Processors {
			switch p.Type {
			case catalog.ProcessorMetadataExtraction:
				text, _ := p.Param("MetadataExtractionQuery")
				q, err := layout.ParseQuery(text)
				if err != nil {
					return nil, fmt.Errorf("delivery stream %s: MetadataExtractionQuery: %w", ds.Name, err)
				}
				cfg.Query = q
			case catalog.ProcessorAppendDelimiterToRecord:
				r.delimiter = true
			}
		}
	}
	if d.CustomTimeZone != "" {
		loc, err := time.LoadLocation(d.CustomTimeZone)
		if err != nil {
			return nil, fmt.Errorf("delivery stream %s: CustomTimeZone %q: %w", ds.Name, d.CustomTimeZone, err)
		}
		cfg.TimeZone = loc
	}
	if c := d.DataFormatConversion; c != nil && c.Enabled {
		cfg.OutputFormat = layout.Parquet
		for _, col := range c.Schema.Columns {
			t, err := parquetconv.ParseType(col.Type)
			if err != nil {
				return nil, fmt.Errorf("delivery stream %s: column %s: %w", ds.Name, col.Name, err)
			}
			r.columns = append(r.columns, parquetconv.Column{Name: col.Name, Type: t})
		}
		if len(r.columns) == 0 {
			return nil, fmt.Errorf("delivery stream %s: data format conversion is enabled but the schema has no columns", ds.Name)
		}
		r.pqOpts = conversionOptions(c)
		r.table = &layout.CatalogTable{DatabaseName: c.Schema.DatabaseName, TableName: c.Schema.TableName, Region: c.Schema.Region,
			VersionID: c.Schema.VersionID, CatalogID: c.Schema.CatalogID}
		// Check the options once, so a bad one fails here and not per buffer.
		if _, err := parquetconv.NewWriter(io.Discard, r.columns, r.pqOpts); err != nil {
			return nil, fmt.Errorf("delivery stream %s: %w", ds.Name, err)
		}
	}
	if d.SQLTransform != "" {
		if opts.CompileTransform == nil {
			return nil, fmt.Errorf("delivery stream %s has a SQL transform, which this process cannot run", ds.Name)
		}
		if r.transform, err = opts.CompileTransform(d.SQLTransform); err != nil {
			return nil, fmt.Errorf("delivery stream %s: %w", ds.Name, err)
		}
	}
	r.layout, err = layout.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("delivery stream %s: %w", ds.Name, err)
	}
	r.sizeLimit = int64(d.BufferingHints.SizeInMBs) << 20
	r.interval = time.Duration(d.BufferingHints.IntervalInSeconds) * time.Second
	if d.Kind == catalog.DestinationStdout {
		r.sizeLimit, r.interval = 1, 0
	}
	if r.sizeLimit <= 0 {
		r.sizeLimit = catalog.DefaultBufferSizeMB << 20
	}
	return r, nil
}

func conversionOptions(c *catalog.DataFormatConversion) parquetconv.Options {
	var o parquetconv.Options
	switch {
	case c.Input.Hive != nil:
		o.Hive = &parquetconv.HiveJSONSerDe{TimestampFormats: c.Input.Hive.TimestampFormats}
	case c.Input.OpenX != nil:
		ci := c.Input.OpenX.CaseInsensitive
		o.OpenX = &parquetconv.OpenXJSONSerDe{CaseInsensitive: &ci, ColumnToJSONKeyMappings: c.Input.OpenX.ColumnToJSONKeyMappings,
			ConvertDotsInJSONKeysToUnderscores: c.Input.OpenX.ConvertDotsInJSONKeysToUnderscores}
	}
	o.Parquet = parquetconv.ParquetSerDe{Compression: c.Output.Compression, BlockSizeBytes: int64(c.Output.BlockSizeBytes),
		PageSizeBytes: c.Output.PageSizeBytes, EnableDictionaryCompression: c.Output.EnableDictionaryCompression, WriterVersion: c.Output.WriterVersion}
	return o
}

// Run delivers until ctx ends (records still buffered then are delivered by
// the next run, from the source), or, when bounded, until everything the
// source holds now is delivered. It returns ErrBusy when another process
// holds the stream's delivery lock.
func (r *Runner) Run(ctx context.Context, bounded bool) error {
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if r.ds.Destination.Kind != catalog.DestinationStdout {
		b, err := r.opts.Bucket(ctx, r.ds.Destination.Bucket)
		if err != nil {
			return fmt.Errorf("delivery stream %s: bucket %s: %w", r.ds.Name, r.ds.Destination.Bucket, err)
		}
		r.bucket = b
	}
	r.st, err = loadState(r.statePath, r.source)
	if err != nil {
		return err
	}
	for {
		progressed, err := r.round(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := r.flushDue(ctx, false); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if progressed {
			continue
		}
		if bounded {
			if err := r.flushDue(ctx, true); err != nil {
				return err
			}
			return nil
		}
		t := time.NewTimer(r.wait())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		// Another process may be appending (eddy serve while eddy firehose
		// deliver runs): pick up what it wrote.
		if err := r.opts.Store.Refresh(); err != nil {
			r.log.Warn("refresh the stream store", "err", err)
		}
	}
}

// wait is how long to sleep when the source is idle: the poll interval, or
// less when a buffer's interval ends sooner.
func (r *Runner) wait() time.Duration {
	d := r.opts.PollInterval
	now := r.opts.Now()
	for _, sr := range r.shards {
		for _, b := range sr.bufs {
			if left := b.started.Add(r.interval).Sub(now); left < d {
				d = max(left, time.Millisecond)
			}
		}
	}
	return d
}

// lock takes DATA_DIR/firehose/NAME/deliver.lock, so one process delivers a
// stream at a time.
func (r *Runner) lock() (func(), error) {
	path := filepath.Join(filepath.Dir(r.statePath), "deliver.lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("delivery stream %s: %w", r.ds.Name, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("delivery stream %s: %w", r.ds.Name, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("delivery stream %s: %w (%s is locked)", r.ds.Name, ErrBusy, path)
		}
		return nil, fmt.Errorf("delivery stream %s: lock %s: %w", r.ds.Name, path, err)
	}
	return func() { f.Close() }, nil
}

// round reads one batch from every shard that can be read and reports
// whether any record or shard end was seen.
func (r *Runner) round(ctx context.Context) (bool, error) {
	desc, err := r.opts.Store.DescribeStream(r.source)
	if err != nil {
		return false, fmt.Errorf("delivery stream %s: source stream %s: %w", r.ds.Name, r.source, err)
	}
	present := map[string]bool{}
	for _, sh := range desc.Shards {
		present[sh.ShardID] = true
	}
	progressed := false
	for _, sh := range desc.Shards {
		ss := r.st.Shards[sh.ShardID]
		if ss == nil {
			ss = &shardState{}
			r.st.Shards[sh.ShardID] = ss
		}
		if ss.Done || !r.parentsDone(sh, present) {
			continue
		}
		sr, err := r.shard(sh, ss)
		if err != nil {
			return false, err
		}
		out, err := r.opts.Store.GetRecords(ctx, sr.cursor, r.opts.ReadBatch)
		if err != nil {
			return false, fmt.Errorf("delivery stream %s: read %s/%s: %w", r.ds.Name, r.source, sh.ShardID, err)
		}
		var results []TransformResult
		if r.transform != nil && len(out.Records) > 0 {
			data := make([][]byte, len(out.Records))
			for i, rec := range out.Records {
				data[i] = rec.Data
			}
			if results, err = r.transform.Apply(data); err != nil {
				return false, fmt.Errorf("delivery stream %s: %w", r.ds.Name, err)
			}
		}
		for i, rec := range out.Records {
			var forced *route
			if results != nil {
				switch res := results[i]; {
				case res.Err != "":
					rt := r.errorRoute(rec, layout.ProcessingFailed, TransformFailedCode, res.Err)
					forced = &rt
				case res.Dropped:
					r.st.Metrics.RecordsIn++
					r.st.Metrics.BytesIn += int64(len(rec.Data))
					r.st.Metrics.RecordsDropped++
					sr.lastRead = rec.SequenceNumber.String()
					continue
				default:
					rec.Data = res.Data
				}
			}
			if err := r.ingest(ctx, sr, ss, rec, forced); err != nil {
				return false, err
			}
		}
		if len(out.Records) > 0 {
			progressed = true
			sr.cursor = out.Next
		}
		if out.ShardEnd {
			if err := r.flush(ctx, sr, ss, sortedBufs(sr)); err != nil {
				return false, err
			}
			ss.Done = true
			ss.Delivered = nil
			delete(r.shards, sh.ShardID)
			if err := r.st.save(r.statePath); err != nil {
				return false, err
			}
			progressed = true
		}
	}
	return progressed, nil
}

func (r *Runner) parentsDone(sh streamstore.ShardDescription, present map[string]bool) bool {
	for _, p := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
		if p == "" || !present[p] {
			continue // no parent, or one retention removed
		}
		if ps := r.st.Shards[p]; ps == nil || !ps.Done {
			return false
		}
	}
	return true
}

// shard returns the reading of a shard, positioned after what was delivered.
func (r *Runner) shard(sh streamstore.ShardDescription, ss *shardState) (*shardRun, error) {
	if sr := r.shards[sh.ShardID]; sr != nil {
		return sr, nil
	}
	pos := streamstore.StartingPosition{Type: streamstore.TrimHorizon}
	switch {
	case ss.After != "":
		pos = streamstore.StartingPosition{Type: streamstore.AfterSequenceNumber, SequenceNumber: ss.After}
	case r.ds.Type == catalog.TypeKinesisStreamAsSource && sh.CreatedAt.Before(r.ds.Created):
		// Firehose reads a source stream from when the delivery stream was
		// created, not from the stream's start.
		pos = streamstore.StartingPosition{Type: streamstore.AtTimestamp, Timestamp: r.ds.Created}
	}
	c, err := r.opts.Store.Position(r.source, sh.ShardID, pos)
	if err != nil {
		return nil, fmt.Errorf("delivery stream %s: position in %s/%s: %w", r.ds.Name, r.source, sh.ShardID, err)
	}
	sr := &shardRun{id: sh.ShardID, cursor: c, lastRead: ss.After, bufs: map[string]*partBuf{}}
	for _, seq := range ss.Delivered {
		sr.replayUntil = max(sr.replayUntil, ordinal(seq))
	}
	r.shards[sh.ShardID] = sr
	return sr, nil
}

// ordinal is a sequence number's position in its shard (0 when it is not one).
func ordinal(seq string) uint64 {
	s, err := streamstore.ParseSequenceNumber(seq)
	if err != nil {
		return 0
	}
	return s.Ordinal
}

// route is where a record goes: a data partition, or the error output.
type route struct {
	key       string
	queryKeys map[string]string
	errType   layout.ErrorOutputType
	errCode   string
	errMsg    string
}

// partitionOf evaluates a record's data partition: its prefix (with
// partition keys and the hour of its arrival).
func (r *Runner) partitionOf(rec streamstore.Record) route {
	var keys map[string]string
	if q := r.layout.Query(); q != nil {
		k, err := q.Extract(rec.Data)
		if err != nil {
			code, msg := "DynamicPartitioning.MetadataExtractionFailed", err.Error()
			var ee *layout.ExtractError
			if errors.As(err, &ee) {
				code, msg = ee.Code, ee.Message
			}
			return r.errorRoute(rec, layout.MetadataExtractionFailed, code, msg)
		}
		keys = k
	}
	static := keys == nil && r.layout.PrefixIsStatic()
	sec := rec.ArrivalTime.Unix()
	if static && r.lastPrefixOK && sec == r.lastPrefixSec {
		// The prefix depends only on the arrival time, to the second.
		return route{key: r.lastPrefix}
	}
	if !static {
		r.random.reset("partition")
	}
	prefix, err := r.layout.Prefix(layout.PrefixValues{Arrival: rec.ArrivalTime, QueryKeys: keys})
	if static && err == nil {
		r.lastPrefix, r.lastPrefixSec, r.lastPrefixOK = prefix, sec, true
	}
	if err != nil {
		code := "DynamicPartitioning.MetadataExtractionFailed"
		var ee *layout.ExtractError
		if errors.As(err, &ee) {
			code = ee.Code
		}
		return r.errorRoute(rec, layout.MetadataExtractionFailed, code, err.Error())
	}
	return route{key: prefix, queryKeys: keys}
}

func (r *Runner) errorRoute(rec streamstore.Record, t layout.ErrorOutputType, code, msg string) route {
	r.random.reset("partition")
	prefix, err := r.layout.ErrorPrefix(t, rec.ArrivalTime)
	if err != nil {
		prefix = string(t) + "/"
	}
	return route{key: "!" + string(t) + "/" + prefix, errType: t, errCode: code, errMsg: msg}
}

// ingest buffers one record, flushing its partition when it is full.
func (r *Runner) ingest(ctx context.Context, sr *shardRun, ss *shardState, rec streamstore.Record, forced *route) error {
	seq := rec.SequenceNumber.String()
	m := &r.st.Metrics
	m.RecordsIn++
	m.BytesIn += int64(len(rec.Data))
	var rt route
	if forced != nil {
		rt = *forced
	} else {
		rt = r.partitionOf(rec)
	}
	if ord := rec.SequenceNumber.Ordinal; ord <= sr.replayUntil {
		// A replay: where did this record go before, and is it delivered?
		if rt.errType == "" && r.columns != nil {
			if err := r.scratchConvert(sr, rec.Data); err != nil {
				rt = r.conversionError(rec, err)
			}
		}
		if d, ok := ss.Delivered[rt.key]; ok && ordinal(d) >= ord {
			sr.lastRead = seq
			return nil
		}
	}
	b, err := r.buffer(sr, rt, seq)
	if err != nil {
		return err
	}
	if err := r.add(b, rec, rt, seq); err != nil {
		var re *parquetconv.RecordError
		if !errors.As(err, &re) {
			return fmt.Errorf("delivery stream %s: %w", r.ds.Name, err)
		}
		if b.records == 0 {
			delete(sr.bufs, b.key)
		}
		rt = r.conversionError(rec, err)
		if b, err = r.buffer(sr, rt, seq); err != nil {
			return err
		}
		if err := r.add(b, rec, rt, seq); err != nil {
			return fmt.Errorf("delivery stream %s: %w", r.ds.Name, err)
		}
	}
	sr.lastRead = seq
	if b.cutAt != "" {
		if b.last == b.cutAt {
			return r.flush(ctx, sr, ss, []*partBuf{b})
		}
		return nil
	}
	if b.bytes >= r.sizeLimit {
		return r.flush(ctx, sr, ss, []*partBuf{b})
	}
	return nil
}

func (r *Runner) conversionError(rec streamstore.Record, err error) route {
	r.st.Metrics.ConversionFailures++
	code, msg := parquetconv.CodeMalformedData, err.Error()
	var re *parquetconv.RecordError
	if errors.As(err, &re) {
		code, msg = re.Code, re.Message
	}
	return r.errorRoute(rec, layout.FormatConversionFailed, code, msg)
}

// scratchConvert converts a record only to learn whether it converts.
func (r *Runner) scratchConvert(sr *shardRun, data []byte) error {
	if sr.scratch == nil || sr.scratch.Rows() >= 4096 {
		w, err := parquetconv.NewWriter(io.Discard, r.columns, r.pqOpts)
		if err != nil {
			return err
		}
		sr.scratch = w
	}
	return sr.scratch.Write(data)
}

// buffer returns the buffer of a route in a shard, starting one at seq.
func (r *Runner) buffer(sr *shardRun, rt route, seq string) (*partBuf, error) {
	if b := sr.bufs[rt.key]; b != nil {
		return b, nil
	}
	b := &partBuf{key: rt.key, errType: rt.errType, queryKeys: rt.queryKeys, after: sr.lastRead, first: seq}
	for _, in := range r.st.Intents {
		if in.Shard == sr.id && in.Partition == rt.key {
			if in.First != seq {
				r.log.Warn("an interrupted delivery does not start where the replay does; writing what the replay gives",
					"shard", sr.id, "partition", rt.key, "intent_first", in.First, "replay_first", seq)
				break
			}
			b.cutAt = in.Last
		}
	}
	var err error
	if rt.errType == "" && r.columns != nil {
		b.parquet, err = parquetconv.NewWriter(&b.out, r.columns, r.pqOpts)
	} else {
		delimiter := r.delimiter && rt.errType == ""
		b.raw, err = layout.NewRecordWriter(&b.out, r.layout.Compression(), layout.ZipEntry{Name: "records", Modified: r.opts.Now()}, delimiter)
	}
	if err != nil {
		return nil, fmt.Errorf("delivery stream %s: start an object: %w", r.ds.Name, err)
	}
	sr.bufs[rt.key] = b
	return b, nil
}

// add encodes a record into a buffer.
func (r *Runner) add(b *partBuf, rec streamstore.Record, rt route, seq string) error {
	if b.isError() {
		doc := layout.ErrorRecord{Type: rt.errType, AttemptsMade: 1, Arrival: rec.ArrivalTime, ErrorCode: rt.errCode,
			ErrorMessage: rt.errMsg, AttemptEnding: rec.ArrivalTime, RawData: rec.Data}
		if r.ds.Type == catalog.TypeKinesisStreamAsSource {
			doc.Kinesis = &layout.KinesisPosition{SequenceNumber: seq}
		}
		if rt.errType == layout.FormatConversionFailed {
			doc.Table = r.table
		}
		if err := b.raw.WriteRecord(layout.AppendErrorRecord(nil, doc)); err != nil {
			return err
		}
	} else if err := b.encode(rec.Data); err != nil {
		return err
	}
	if b.records == 0 {
		b.firstArrival = rec.ArrivalTime
		b.started = r.opts.Now()
	}
	b.records++
	b.bytes += int64(len(rec.Data))
	b.last = seq
	return nil
}

// flushDue delivers the buffers whose interval has passed (all, with force).
func (r *Runner) flushDue(ctx context.Context, force bool) error {
	now := r.opts.Now()
	for _, id := range sortedShardIDs(r.shards) {
		sr := r.shards[id]
		var due []*partBuf
		for _, b := range sortedBufs(sr) {
			if b.cutAt != "" && !force {
				continue // a replayed object ends where its intent says
			}
			if force || !now.Before(b.started.Add(r.interval)) {
				due = append(due, b)
			}
		}
		if len(due) > 0 {
			if err := r.flush(ctx, sr, r.st.Shards[id], due); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush delivers buffers of one shard: intents first (durably), then the
// objects, then the new position.
func (r *Runner) flush(ctx context.Context, sr *shardRun, ss *shardState, bufs []*partBuf) error {
	if len(bufs) == 0 {
		return nil
	}
	added := false
	for _, b := range bufs {
		if b.cutAt == "" {
			r.st.Intents = append(r.st.Intents, intent{Shard: sr.id, Partition: b.key, First: b.first, Last: b.last})
			added = true
		}
	}
	if added {
		if err := r.st.save(r.statePath); err != nil {
			return err
		}
	}
	now := r.opts.Now()
	oldest := now
	for _, b := range bufs {
		data, err := b.finish()
		if err != nil {
			return err
		}
		id := layout.ObjectID(r.ds.Name, sr.id+"/"+b.key, b.first, b.last)
		r.random.reset(id)
		var key string
		if b.isError() {
			prefix, err := r.layout.ErrorPrefix(b.errType, b.firstArrival)
			if err != nil {
				prefix = string(b.errType) + "/"
			}
			key = r.layout.ErrorObjectKey(prefix, b.firstArrival, id)
		} else {
			prefix, err := r.layout.Prefix(layout.PrefixValues{Arrival: b.firstArrival, QueryKeys: b.queryKeys})
			if err != nil {
				return fmt.Errorf("delivery stream %s: prefix of partition %q: %w", r.ds.Name, b.key, err)
			}
			key = r.layout.ObjectKey(prefix, b.firstArrival, id)
		}
		if err := r.write(ctx, key, data); err != nil {
			return err
		}
		m := &r.st.Metrics
		m.ObjectsWritten++
		m.BytesWritten += int64(len(data))
		if b.isError() {
			m.ErrorObjects++
		} else {
			m.RecordsDelivered += b.records
		}
		if b.firstArrival.Before(oldest) {
			oldest = b.firstArrival
		}
		r.log.Debug("delivered", "key", key, "records", b.records, "bytes", len(data), "shard", sr.id)
	}
	for _, b := range bufs {
		delete(sr.bufs, b.key)
		if ss.Delivered == nil {
			ss.Delivered = map[string]string{}
		}
		ss.Delivered[b.key] = b.last
		r.st.Intents = dropIntent(r.st.Intents, sr.id, b.key)
	}
	r.advance(sr, ss)
	r.st.Metrics.LastDelivery = now
	r.st.Metrics.FreshnessSeconds = now.Sub(oldest).Seconds()
	return r.st.save(r.statePath)
}

// advance moves a shard's position to the last record before the oldest
// buffered one, and forgets what partitions delivered before it.
func (r *Runner) advance(sr *shardRun, ss *shardState) {
	after := sr.lastRead
	for _, b := range sr.bufs {
		if b.after == "" {
			after = "" // a buffer holds the shard's first records
			break
		}
		if ordinal(b.after) < ordinal(after) {
			after = b.after
		}
	}
	ss.After = after
	for k, seq := range ss.Delivered {
		if after != "" && ordinal(seq) <= ordinal(after) {
			delete(ss.Delivered, k)
		}
	}
}

// write stores an object, retrying failures until ctx ends, as Firehose
// retries S3 (for up to a day) rather than drop data.
func (r *Runner) write(ctx context.Context, key string, data []byte) error {
	if r.bucket == nil {
		_, err := r.opts.Stdout.Write(data)
		return err
	}
	backoff := 100 * time.Millisecond
	for {
		err := r.bucket.Write(ctx, key, data)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Warn("write object failed; retrying", "key", key, "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func dropIntent(in []intent, shard, partition string) []intent {
	out := in[:0]
	for _, i := range in {
		if i.Shard != shard || i.Partition != partition {
			out = append(out, i)
		}
	}
	return out
}

func sortedShardIDs(m map[string]*shardRun) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slicesSort(ids)
	return ids
}

// sortedBufs lists a shard's buffers oldest first, so flushes are in a
// repeatable order.
func sortedBufs(sr *shardRun) []*partBuf {
	out := make([]*partBuf, 0, len(sr.bufs))
	for _, b := range sr.bufs {
		out = append(out, b)
	}
	sortBufs(out)
	return out
}

// seededReader is the random source of !{firehose:random-string}: reset to a
// seed derived from an object's id before its prefix is evaluated, so a
// replay draws the same string and writes the same key.
type seededReader struct {
	mu  sync.Mutex
	rng *rand.ChaCha8
}

func (s *seededReader) reset(seed string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha256.Sum256([]byte(seed))
	s.rng = rand.NewChaCha8(sum)
}

func (s *seededReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng == nil {
		s.rng = rand.NewChaCha8([32]byte{})
	}
	for i := 0; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], s.rng.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}
