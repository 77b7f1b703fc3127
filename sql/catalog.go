package sql

import (
	"fmt"
	"strings"
)

// Catalog holds the streams and sinks an application has declared, by name.
// Names compare case-insensitively and streams and sinks share one namespace.
// A Catalog is not safe for concurrent use.
type Catalog struct {
	streams map[string]*CreateStream
	sinks   map[string]*CreateSink
	order   []string // lower-case names in the order they were added
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{streams: map[string]*CreateStream{}, sinks: map[string]*CreateSink{}}
}

// Stream returns the stream named name.
func (c *Catalog) Stream(name string) (*CreateStream, bool) {
	s, ok := c.streams[strings.ToLower(name)]
	return s, ok
}

// Sink returns the sink named name.
func (c *Catalog) Sink(name string) (*CreateSink, bool) {
	s, ok := c.sinks[strings.ToLower(name)]
	return s, ok
}

// Lookup returns the stream or sink named name, or nil.
func (c *Catalog) Lookup(name string) Statement {
	if s, ok := c.Stream(name); ok {
		return s
	}
	if s, ok := c.Sink(name); ok {
		return s
	}
	return nil
}

// AddStream adds s; the name must not be taken by a stream or a sink.
func (c *Catalog) AddStream(s *CreateStream) error {
	if err := c.free(s.Name); err != nil {
		return err
	}
	c.streams[strings.ToLower(s.Name)] = s
	c.order = append(c.order, strings.ToLower(s.Name))
	return nil
}

// AddSink adds s; the name must not be taken by a stream or a sink.
func (c *Catalog) AddSink(s *CreateSink) error {
	if err := c.free(s.Name); err != nil {
		return err
	}
	c.sinks[strings.ToLower(s.Name)] = s
	c.order = append(c.order, strings.ToLower(s.Name))
	return nil
}

func (c *Catalog) free(name string) error {
	switch prev := c.Lookup(name).(type) {
	case *CreateStream:
		return fmt.Errorf("stream %s is already declared at %s: choose another name", prev.Name, prev.Pos)
	case *CreateSink:
		return fmt.Errorf("sink %s is already declared at %s: choose another name", prev.Name, prev.Pos)
	}
	return nil
}

// Streams returns the streams in the order they were added.
func (c *Catalog) Streams() []*CreateStream {
	var out []*CreateStream
	for _, n := range c.order {
		if s, ok := c.streams[n]; ok {
			out = append(out, s)
		}
	}
	return out
}

// Sinks returns the sinks in the order they were added.
func (c *Catalog) Sinks() []*CreateSink {
	var out []*CreateSink
	for _, n := range c.order {
		if s, ok := c.sinks[n]; ok {
			out = append(out, s)
		}
	}
	return out
}
