// Package stdout owns the console sink: result rows written to an io.Writer
// (the terminal, for eddy run and the REPL) as an aligned table (format.Table:
// widths fixed by the first batch, NULL shown as NULL), as JSON lines, or as
// CSV. Every Write reaches the writer before it returns, so rows show as they
// arrive. It implements exec.Sink.
//
// WITH options: format (table, the default, json or csv), and for csv the
// encoder's csv.header (default 'true') and csv.delimiter.
package stdout

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/eddy-streams/eddy/connectors/format"
	"github.com/eddy-streams/eddy/sql/types"
)

// Option names.
const (
	OptConnector = "connector"
	OptFormat    = "format"
)

// Formats lists the console formats.
func Formats() []string { return []string{"table", "json", "csv"} }

// Config configures a console sink.
type Config struct {
	Name          string       // the sink's name, for errors
	Format        string       // "table" (default), "json" or "csv"
	Schema        types.Schema // the rows' schema
	FormatOptions map[string]string
}

// Options lists the options the console sink accepts for a format.
func Options(formatName string) []string {
	opts := append([]string{OptConnector, OptFormat}, format.EncoderOptions(formatName)...)
	slices.Sort(opts)
	return opts
}

// ConfigFromOptions checks a sink's WITH options; an unknown or bad option is
// an error that names it.
func ConfigFromOptions(name string, schema types.Schema, with map[string]string) (Config, error) {
	cfg := Config{Name: name, Schema: schema, Format: "table", FormatOptions: map[string]string{}}
	for k, v := range with {
		if strings.EqualFold(k, OptFormat) {
			cfg.Format = strings.ToLower(strings.TrimSpace(v))
			if !slices.Contains(Formats(), cfg.Format) {
				return cfg, fmt.Errorf("sink %s: option format = %q: the console shows %s", name, v, strings.Join(Formats(), ", "))
			}
		}
	}
	valid := Options(cfg.Format)
	for k, v := range with {
		lk := strings.ToLower(k)
		if !slices.Contains(valid, lk) {
			return cfg, fmt.Errorf("sink %s: unknown option %q for the console in %s format; valid options are %s", name, k, cfg.Format, strings.Join(valid, ", "))
		}
		if lk == OptConnector && !strings.EqualFold(strings.TrimSpace(v), "stdout") {
			return cfg, fmt.Errorf("sink %s: option connector = %q, not 'stdout'", name, v)
		}
		if slices.Contains(format.EncoderOptions(cfg.Format), lk) {
			cfg.FormatOptions[lk] = v
		}
	}
	return cfg, nil
}

// Sink writes rows to a writer.
type Sink struct {
	cfg   Config
	w     *bufio.Writer
	table *format.Table
	enc   format.Encoder
	wrote bool
}

// New returns a console sink writing to w.
func New(w io.Writer, cfg Config) (*Sink, error) {
	s := &Sink{cfg: cfg}
	switch cfg.Format {
	case "", "table":
		if len(cfg.FormatOptions) > 0 {
			return nil, fmt.Errorf("console sink %s: the table format takes no options", cfg.Name)
		}
		s.table = format.NewTable(w, cfg.Schema)
		return s, nil
	case "csv":
		opts := map[string]string{format.OptCSVHeader: "true"}
		for k, v := range cfg.FormatOptions {
			opts[strings.ToLower(k)] = v
		}
		cfg.FormatOptions = opts
	}
	enc, err := format.NewEncoder(cfg.Format, cfg.Schema, cfg.FormatOptions)
	if err != nil {
		return nil, fmt.Errorf("console sink %s: %w", cfg.Name, err)
	}
	s.enc, s.w = enc, bufio.NewWriter(w)
	return s, nil
}

// Write shows the rows of rec.
func (s *Sink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.table != nil {
		if err := s.table.Write(rec); err != nil {
			return fmt.Errorf("console sink %s: %w", s.cfg.Name, err)
		}
		return nil
	}
	if !s.wrote {
		s.wrote = true
		if h := s.enc.Header(); h != nil {
			s.w.Write(h)
			s.w.WriteByte('\n')
		}
	}
	err := s.enc.EachRow(rec, func(_ int, text []byte) error {
		s.w.Write(text)
		return s.w.WriteByte('\n')
	})
	if err == nil {
		err = s.w.Flush()
	}
	if err != nil {
		return fmt.Errorf("console sink %s: %w", s.cfg.Name, err)
	}
	return nil
}

// Rows is how many rows the table showed (table format only).
func (s *Sink) Rows() int64 {
	if s.table != nil {
		return s.table.Rows()
	}
	return 0
}

// Flush does nothing more: Write already reached the writer.
func (s *Sink) Flush(ctx context.Context) error { return nil }

// Close shows the table's header if no row came, so an empty result still
// names its columns.
func (s *Sink) Close() error {
	if s.table != nil && s.table.Rows() == 0 {
		return s.table.Header()
	}
	return nil
}
