// Package file owns the file sink: result rows appended to a local file as JSON
// lines or CSV (format.Encoder's forms: TIMESTAMP as RFC 3339 UTC with
// milliseconds, NULL as null or an empty field), buffered, and synced to disk by
// Flush. It implements exec.Sink and exec.CommittingSink.
//
// Without checkpoints (the engine never calls Recover) rows go straight to the
// output and Flush makes them durable: after a crash the output holds what was
// flushed, and a restart truncates it (or, with append, adds to it), so rows
// may be lost or repeated.
//
// With checkpoints the output is exactly once. Recover, called before the first
// Write, makes the sink committing: rows go to an in-progress file beside the
// output, DIR/.NAME.inprogress, never to the output itself; Prepare(id) syncs it
// and renames it to checkpoint id's pending file, DIR/.NAME.pending.ID.OFFSET;
// Commit(id), once the checkpoint is complete, appends the pending file to the
// output at OFFSET (the output's length with every earlier checkpoint
// committed), syncs the output and removes the pending file. The output stays
// one file of whole committed checkpoints. A commit is idempotent: a redo after
// a crash truncates the output to OFFSET and appends again. Recover(id) commits
// the pending files of id and of every earlier checkpoint, removes those of
// later ones and the in-progress file, and truncates the output to its length
// at checkpoint id, so every row the restored checkpoint covers is in the output
// once and no other; Recover(0, nil) starts afresh (removing what an earlier run
// left uncommitted, and truncating the output unless append). Prepared, not
// yet committed checkpoints may pile up (Prepare(id+1) before Commit(id)):
// Commit(id) commits every checkpoint up to id, in order. Readers of the output
// may see a partial append while a Commit runs, and after a crash during one
// until Recover redoes it; they never see rows of an uncommitted checkpoint
// otherwise. Flush and Close make nothing visible in this mode. One sink writes
// a path: two sinks (or two processes) given the same path corrupt it, with or
// without checkpoints. (The stdout sink, by contrast, is at-least-once by
// nature: it cannot take back what it printed, so a run restored from a
// checkpoint prints again the rows written after it.)
//
// WITH options: path (required), format (json, the default, or csv), append
// ('true' keeps what the file holds; by default it is truncated when the sink
// starts, or with checkpoints when it starts afresh), csv.header (csv: write a header line when the file starts empty;
// default 'true'), csv.delimiter (csv: default ',').
package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/sql/types"
)

// Option names.
const (
	OptConnector = "connector"
	OptPath      = "path"
	OptFormat    = "format"
	OptAppend    = "append"
)

// Config configures a file sink.
type Config struct {
	Name   string       // the SQL sink's name, for errors
	Path   string       // the file written; its directory is created if needed
	Format string       // "json" (default) or "csv"
	Schema types.Schema // the rows' schema
	Append bool         // keep the file's content instead of truncating it
	// FormatOptions are the encoder's options (csv.header, csv.delimiter).
	FormatOptions map[string]string
}

// Options lists the options a file sink accepts for a format.
func Options(formatName string) []string {
	opts := append([]string{OptAppend, OptConnector, OptFormat, OptPath}, format.EncoderOptions(formatName)...)
	slices.Sort(opts)
	return opts
}

// ConfigFromOptions checks a sink's WITH options; an unknown or bad option is
// an error that names it.
func ConfigFromOptions(name string, schema types.Schema, with map[string]string) (Config, error) {
	cfg := Config{Name: name, Schema: schema, Format: "json", FormatOptions: map[string]string{}}
	if v, ok := lookup(with, OptFormat); ok {
		cfg.Format = strings.ToLower(strings.TrimSpace(v))
		if !slices.Contains(format.EncoderFormats(), cfg.Format) {
			return cfg, fmt.Errorf("sink %s: option format = %q: a file sink writes %s", name, v, strings.Join(format.EncoderFormats(), " or "))
		}
	}
	valid := Options(cfg.Format)
	for k, v := range with {
		lk := strings.ToLower(k)
		if !slices.Contains(valid, lk) {
			return cfg, fmt.Errorf("sink %s: unknown option %q for a file sink in %s format; valid options are %s", name, k, cfg.Format, strings.Join(valid, ", "))
		}
		if slices.Contains(format.EncoderOptions(cfg.Format), lk) {
			cfg.FormatOptions[lk] = v
		}
	}
	if v, ok := lookup(with, OptConnector); ok && !strings.EqualFold(strings.TrimSpace(v), "file") {
		return cfg, fmt.Errorf("sink %s: option connector = %q, not 'file'", name, v)
	}
	v, ok := lookup(with, OptPath)
	if !ok || strings.TrimSpace(v) == "" {
		return cfg, fmt.Errorf("sink %s: option path is required: the file to write", name)
	}
	cfg.Path = v
	if v, ok := lookup(with, OptAppend); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			cfg.Append = true
		case "false":
		default:
			return cfg, fmt.Errorf("sink %s: option append = %q: must be 'true' or 'false'", name, v)
		}
	}
	return cfg, nil
}

func lookup(with map[string]string, key string) (string, bool) {
	for k, v := range with {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// Sink writes rows to a file, one line per row.
type Sink struct {
	cfg  Config
	f    *os.File      // the output file
	w    *bufio.Writer // over f (direct), or over the in-progress file (committing)
	enc  format.Encoder
	err  error // the first write error; the sink is broken after it
	mode mode
	c    committer // the state of the committing mode
}

// mode is what a sink has become: it opens undecided, and becomes direct at its
// first Write, Flush or Close, or committing at Recover.
type mode uint8

const (
	modeOpen       mode = iota // opened; the output not touched yet
	modeDirect                 // rows go straight to the output (no checkpoints)
	modeCommitting             // rows go to the in-progress file; Commit makes them visible
)

// Open creates (or truncates, or with Append opens) the file and returns a sink.
func Open(cfg Config) (*Sink, error) {
	if cfg.Format == "" {
		cfg.Format = "json"
	}
	if cfg.Path == "" {
		return nil, fmt.Errorf("file sink %s: option path is required", cfg.Name)
	}
	opts := cfg.FormatOptions
	if cfg.Format == "csv" {
		opts = map[string]string{format.OptCSVHeader: "true"}
		for k, v := range cfg.FormatOptions {
			opts[strings.ToLower(k)] = v
		}
	}
	enc, err := format.NewEncoder(cfg.Format, cfg.Schema, opts)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", cfg.Name, err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
		return nil, fmt.Errorf("file sink %s: %w", cfg.Name, err)
	}
	// The output is created but neither truncated nor appended to yet: a sink
	// that Recover makes committing must keep what earlier runs committed.
	f, err := os.OpenFile(cfg.Path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", cfg.Name, err)
	}
	return &Sink{cfg: cfg, f: f, w: bufio.NewWriterSize(f, 256<<10), enc: enc}, nil
}

// start makes a sink that Recover did not make committing direct, as Open
// used to leave it: the output truncated (or, with Append, positioned at its
// end) and the CSV header buffered when the output is empty.
func (s *Sink) start() error {
	if s.mode != modeOpen {
		return nil
	}
	s.mode = modeDirect
	var size int64
	if s.cfg.Append {
		end, err := s.f.Seek(0, io.SeekEnd)
		if err != nil {
			s.err = fmt.Errorf("file sink %s: %w", s.cfg.Name, err)
			return s.err
		}
		size = end
	} else if err := s.f.Truncate(0); err != nil {
		s.err = fmt.Errorf("file sink %s: truncate %s: %w", s.cfg.Name, s.cfg.Path, err)
		return s.err
	}
	if h := s.enc.Header(); h != nil && size == 0 {
		s.w.Write(h)
		s.w.WriteByte('\n')
	}
	return nil
}

// Path is the file written.
func (s *Sink) Path() string { return s.cfg.Path }

// ErrClosed is returned by a sink used after Close.
var ErrClosed = errors.New("file sink closed")

// Write buffers the rows of rec; Flush makes them durable.
func (s *Sink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.f == nil {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	if err := s.start(); err != nil {
		return err
	}
	err := s.enc.EachRow(rec, func(_ int, text []byte) error {
		s.w.Write(text)
		return s.w.WriteByte('\n')
	})
	if err != nil {
		s.err = fmt.Errorf("file sink %s: write %s: %w", s.cfg.Name, s.writing(), err)
		return s.err
	}
	return nil
}

// Flush writes the buffered rows and syncs the file. A committing sink only
// hands its buffer to the in-progress file: nothing becomes visible before
// Commit.
func (s *Sink) Flush(ctx context.Context) error {
	if s.f == nil {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	if s.mode == modeCommitting {
		return s.flushInProgress()
	}
	if err := s.start(); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		s.err = fmt.Errorf("file sink %s: write %s: %w", s.cfg.Name, s.cfg.Path, err)
		return s.err
	}
	if err := s.f.Sync(); err != nil {
		s.err = fmt.Errorf("file sink %s: sync %s: %w", s.cfg.Name, s.cfg.Path, err)
		return s.err
	}
	return nil
}

// Close flushes, syncs and closes the file. A committing sink commits
// nothing: it removes its in-progress file, whose rows no checkpoint covers,
// and leaves prepared checkpoints to Commit or the next run's Recover.
func (s *Sink) Close() error {
	if s.f == nil {
		return nil
	}
	if s.mode == modeCommitting {
		err := s.closeInProgress()
		if cerr := s.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("file sink %s: close %s: %w", s.cfg.Name, s.cfg.Path, cerr)
		}
		s.f = nil
		return err
	}
	err := s.Flush(context.Background())
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("file sink %s: close %s: %w", s.cfg.Name, s.cfg.Path, cerr)
	}
	s.f = nil
	return err
}
