// Package file owns the file sink: result rows appended to a local file as JSON
// lines or CSV (format.Encoder's forms: TIMESTAMP as RFC 3339 UTC with
// milliseconds, NULL as null or an empty field), buffered, and synced to disk by
// Flush. It implements exec.Sink.
//
// WITH options: path (required), format (json, the default, or csv), append
// ('true' keeps what the file holds; by default it is truncated when the sink
// opens), csv.header (csv: write a header line when the file starts empty;
// default 'true'), csv.delimiter (csv: default ',').
package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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
	cfg Config
	f   *os.File
	w   *bufio.Writer
	enc format.Encoder
	err error // the first write error; the sink is broken after it
}

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
	flag := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if cfg.Append {
		flag = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(cfg.Path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", cfg.Name, err)
	}
	s := &Sink{cfg: cfg, f: f, w: bufio.NewWriterSize(f, 256<<10), enc: enc}
	if h := enc.Header(); h != nil {
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("file sink %s: %w", cfg.Name, err)
		}
		if fi.Size() == 0 {
			s.w.Write(h)
			s.w.WriteByte('\n')
		}
	}
	return s, nil
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
	err := s.enc.EachRow(rec, func(_ int, text []byte) error {
		s.w.Write(text)
		return s.w.WriteByte('\n')
	})
	if err != nil {
		s.err = fmt.Errorf("file sink %s: write %s: %w", s.cfg.Name, s.cfg.Path, err)
		return s.err
	}
	return nil
}

// Flush writes the buffered rows and syncs the file.
func (s *Sink) Flush(ctx context.Context) error {
	if s.f == nil {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
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

// Close flushes, syncs and closes the file.
func (s *Sink) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.Flush(context.Background())
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("file sink %s: close %s: %w", s.cfg.Name, s.cfg.Path, cerr)
	}
	s.f = nil
	return err
}
