package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/cmd/eddy/internal/remote"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

type putFlags struct {
	partitionKey      string
	partitionKeyField string
	ackLog            string
	batchSize         int
	asJSON            bool
}

func (a *invocation) putCommand() *cobra.Command {
	var f putFlags
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "put NAME [--partition-key K | --partition-key-field FIELD]",
		Short: "Put newline-delimited records from stdin into a stream",
		Long: `Put reads stdin one record per line (a trailing \r is dropped, empty lines are
skipped) and stores the records in batches of up to 500 records / 5 MiB. Each
record's partition key is --partition-key, or the value of --partition-key-field
when lines are JSON objects (a dotted path such as user.id reaches nested fields),
or else a random key. A batch is acknowledged once it is fsynced; --ack-log
appends "LINE<TAB>SHARD<TAB>SEQUENCE_NUMBER" for every acknowledged record.

When stdin is a file, every line is checked before anything is stored, so bad
input stores nothing. From a pipe, lines are checked batch by batch and the
error says how many records were stored before the bad line.

With --endpoint URL the records go to a Kinesis endpoint (eddy serve, or AWS)
with PutRecords; a batch is acknowledged when every record of it is stored,
records the endpoint fails (throttling) being sent again with backoff. A
retried record may land after later records of its batch, so with retries
order within a shard is the ack log's, not the input's.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.partitionKey != "" && f.partitionKeyField != "" {
				return fmt.Errorf("put takes --partition-key or --partition-key-field, not both")
			}
			if f.batchSize < 1 || f.batchSize > streamstore.MaxBatchRecords {
				return fmt.Errorf("--batch-size %d is out of range; it must be 1 to %d", f.batchSize, streamstore.MaxBatchRecords)
			}
			if f.partitionKey != "" {
				if err := checkPartitionKey(f.partitionKey); err != nil {
					return fmt.Errorf("--partition-key: %w", err)
				}
			}
			rc, err := rf.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			if rc != nil {
				// Check the stream before reading input, as becoming its writer does locally.
				own := func() error { _, err := rc.Summary(cmd.Context(), args[0]); return err }
				store := func(batch []streamstore.PutEntry) ([]remote.PutResult, error) {
					return rc.PutRecords(cmd.Context(), args[0], batch)
				}
				return a.put(args[0], f, own, store)
			}
			return a.withStore(func(st *streamstore.Store) error {
				// Become the stream's writer before reading any input, so that a stream
				// another process writes is refused at once, not after the first batch.
				own := func() error { return st.Own(args[0]) }
				store := func(batch []streamstore.PutEntry) ([]remote.PutResult, error) {
					res, err := st.PutRecords(cmd.Context(), args[0], batch)
					if err != nil {
						return nil, err
					}
					out := make([]remote.PutResult, len(res))
					for i, r := range res {
						out[i] = remote.PutResult{ShardID: r.ShardID, SequenceNumber: r.SequenceNumber.String()}
					}
					return out, nil
				}
				return a.put(args[0], f, own, store)
			})
		},
	}
	cmd.Flags().StringVar(&f.partitionKey, "partition-key", "", "partition key of every record")
	cmd.Flags().StringVar(&f.partitionKeyField, "partition-key-field", "", "JSON field (dotted path) whose value is the partition key")
	cmd.Flags().StringVar(&f.ackLog, "ack-log", "", "append LINE, SHARD and SEQUENCE_NUMBER of each acknowledged record to FILE")
	cmd.Flags().IntVar(&f.batchSize, "batch-size", streamstore.MaxBatchRecords, "records per batch (1-500)")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the summary as JSON")
	rf.add(cmd.Flags())
	return cmd
}

// putSummary is what put prints when it is done.
type putSummary struct {
	Stream       string         `json:"stream"`
	Records      int            `json:"records"`
	Bytes        int64          `json:"bytes"`
	SkippedEmpty int            `json:"skippedEmptyLines"`
	Seconds      float64        `json:"seconds"`
	PerShard     map[string]int `json:"perShard"`
}

// put reads stdin into batches: own is called before any input is read, and
// store stores one batch, returning where each record went.
func (a *invocation) put(name string, f putFlags, own func() error, store func([]streamstore.PutEntry) ([]remote.PutResult, error)) error {
	if err := own(); err != nil {
		return err
	}
	keyOf := a.keyFunc(f)
	// From a file, check every line first so that bad input stores nothing.
	if file, ok := a.stdin.(*os.File); ok {
		if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
			if err := checkAllLines(file, keyOf); err != nil {
				return err
			}
			if _, err := file.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("rewind stdin: %w", err)
			}
		}
	}
	var ack *bufio.Writer
	if f.ackLog != "" {
		af, err := os.OpenFile(f.ackLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open --ack-log: %w", err)
		}
		defer af.Close()
		ack = bufio.NewWriter(af)
	}

	start := time.Now()
	sum := putSummary{Stream: name, PerShard: map[string]int{}}
	var batch []streamstore.PutEntry
	var batchLines []int
	batchBytes := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := store(batch)
		if err != nil {
			return fmt.Errorf("put lines %d-%d: %w (%d records before them were stored)", batchLines[0], batchLines[len(batchLines)-1], err, sum.Records)
		}
		for i, r := range res {
			sum.Records++
			sum.Bytes += int64(len(batch[i].Data))
			sum.PerShard[r.ShardID]++
			if ack != nil {
				fmt.Fprintf(ack, "%d\t%s\t%s\n", batchLines[i], r.ShardID, r.SequenceNumber)
			}
		}
		if ack != nil {
			// Written (not fsynced) before the next batch is read: the ack log
			// is for a reader that survives this process, not the machine.
			if err := ack.Flush(); err != nil {
				return fmt.Errorf("write --ack-log: %w", err)
			}
		}
		batch, batchLines, batchBytes = batch[:0], batchLines[:0], 0
		return nil
	}
	lr := newLineReader(a.stdin)
	for {
		line, lineNo, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w (%d records before it were stored)", err, sum.Records)
		}
		if len(line) == 0 {
			sum.SkippedEmpty++
			continue
		}
		key, err := keyOf(line, lineNo)
		if err != nil {
			return fmt.Errorf("%w (%d records before it were stored)", err, sum.Records)
		}
		size := len(line) + len(key)
		if size > streamstore.MaxRecordBytes {
			return fmt.Errorf("line %d: record is %d bytes with its partition key; a record holds at most %d (1 MiB) (%d records before it were stored)",
				lineNo, size, streamstore.MaxRecordBytes, sum.Records)
		}
		if len(batch) == f.batchSize || batchBytes+size > streamstore.MaxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, streamstore.PutEntry{PartitionKey: key, Data: bytes.Clone(line)})
		batchLines = append(batchLines, lineNo)
		batchBytes += size
	}
	if err := flush(); err != nil {
		return err
	}
	sum.Seconds = time.Since(start).Seconds()
	return a.printPutSummary(sum, f.asJSON)
}

func (a *invocation) printPutSummary(sum putSummary, asJSON bool) error {
	if asJSON {
		return writeJSON(a.stdout, sum)
	}
	rate := ""
	if sum.Seconds > 0 && sum.Records > 0 {
		rate = fmt.Sprintf(", %.0f records/s", float64(sum.Records)/sum.Seconds)
	}
	fmt.Fprintf(a.stdout, "put %s (%s) into stream %s in %.2fs%s\n", plural(sum.Records, "record", "records"),
		humanBytes(sum.Bytes), sum.Stream, sum.Seconds, rate)
	if sum.SkippedEmpty > 0 {
		fmt.Fprintf(a.stdout, "skipped %s\n", plural(sum.SkippedEmpty, "empty line", "empty lines"))
	}
	ids := make([]string, 0, len(sum.PerShard))
	for id := range sum.PerShard {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, id := range ids {
		fmt.Fprintf(tw, "  %s\t%d\t\n", id, sum.PerShard[id])
	}
	return tw.Flush()
}

// keyFunc returns how put derives a record's partition key from its line.
func (a *invocation) keyFunc(f putFlags) func(line []byte, lineNo int) (string, error) {
	switch {
	case f.partitionKey != "":
		return func([]byte, int) (string, error) { return f.partitionKey, nil }
	case f.partitionKeyField != "":
		path := strings.Split(f.partitionKeyField, ".")
		return func(line []byte, lineNo int) (string, error) {
			key, err := jsonField(line, path)
			if err != nil {
				return "", fmt.Errorf("line %d: --partition-key-field %s: %w", lineNo, f.partitionKeyField, err)
			}
			if err := checkPartitionKey(key); err != nil {
				return "", fmt.Errorf("line %d: --partition-key-field %s: %w", lineNo, f.partitionKeyField, err)
			}
			return key, nil
		}
	default:
		return func([]byte, int) (string, error) { return strconv.FormatUint(rand.Uint64(), 36), nil }
	}
}

// jsonField returns the text of the scalar at path in a JSON object line.
func jsonField(line []byte, path []string) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("line is not JSON: %v", err)
	}
	for i, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("%s is not an object", strings.Join(path[:i], "."))
		}
		if v, ok = obj[p]; !ok {
			return "", fmt.Errorf("field %s is missing", strings.Join(path[:i+1], "."))
		}
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", errors.New("field is null; a partition key must be a string, number or boolean")
	default:
		return "", errors.New("field is an object or array; a partition key must be a string, number or boolean")
	}
}

func checkPartitionKey(key string) error {
	n := utf8.RuneCountInString(key)
	if n < 1 || n > streamstore.MaxPartitionKeyChars {
		return fmt.Errorf("partition key %q is %d characters; it must be 1 to %d", truncate(key, 40), n, streamstore.MaxPartitionKeyChars)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("partition key %q is not valid UTF-8", truncate(key, 40))
	}
	return nil
}

// checkAllLines validates every line of r as put would, storing nothing.
func checkAllLines(r io.Reader, keyOf func([]byte, int) (string, error)) error {
	lr := newLineReader(r)
	for {
		line, lineNo, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w; nothing was stored", err)
		}
		if len(line) == 0 {
			continue
		}
		key, err := keyOf(line, lineNo)
		if err != nil {
			return fmt.Errorf("%w; nothing was stored", err)
		}
		if size := len(line) + len(key); size > streamstore.MaxRecordBytes {
			return fmt.Errorf("line %d: record is %d bytes with its partition key; a record holds at most %d (1 MiB); nothing was stored",
				lineNo, size, streamstore.MaxRecordBytes)
		}
	}
}

// lineReader yields lines without their newline, refusing to buffer a line much
// longer than a record can be.
type lineReader struct {
	r      *bufio.Reader
	lineNo int
	buf    []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10)}
}

func (l *lineReader) next() ([]byte, int, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		l.buf = append(l.buf, chunk...)
		if len(l.buf) > streamstore.MaxRecordBytes+2 {
			return nil, l.lineNo + 1, fmt.Errorf("line %d: longer than %d bytes; a record holds at most 1 MiB", l.lineNo+1, streamstore.MaxRecordBytes)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(l.buf) == 0 {
			return nil, l.lineNo, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, l.lineNo + 1, fmt.Errorf("read stdin: %w", err)
		}
		l.lineNo++
		line := bytes.TrimSuffix(l.buf, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, l.lineNo, nil
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
