package layout

import (
	"errors"
	"strings"
	"testing"
)

// fixedRandom replays bytes, then fails, so a test knows exactly which
// random strings a layout draws.
type fixedRandom struct{ b []byte }

func (r *fixedRandom) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errors.New("fixedRandom: exhausted")
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func mustNew(t *testing.T, cfg Config) *Layout {
	t.Helper()
	if cfg.DeliveryStreamName == "" {
		cfg.DeliveryStreamName = "stream"
	}
	if cfg.Version == 0 {
		cfg.Version = 1
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return l
}

func mustQuery(t *testing.T, text string) *Query {
	t.Helper()
	q, err := ParseQuery(text)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", text, err)
	}
	return q
}

func wantErrorContaining(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
