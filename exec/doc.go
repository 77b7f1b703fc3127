// Package exec owns the runtime: operators over Arrow record batches, the
// vectorized expression evaluator, windowed aggregation, watermarks, and the
// graph that connects sources to sinks. It knows no connector: sources and sinks
// come in through the interfaces in io.go.
package exec
