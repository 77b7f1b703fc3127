package layout

import (
	"errors"
	"fmt"
)

// ErrInvalidArgument is the kind of every configuration error New and
// ParseQuery return: Firehose answers these with InvalidArgumentException.
var ErrInvalidArgument = errors.New("invalid argument")

// ConfigError is a configuration error: Field names the setting
// (Prefix, ErrorOutputPrefix, MetadataExtractionQuery, ...), Msg says what is
// wrong and how to fix it.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns ErrInvalidArgument, for errors.Is.
func (e *ConfigError) Unwrap() error { return ErrInvalidArgument }

func configErrorf(field, format string, args ...any) error {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
