// Package catalog owns eddy's delivery stream definitions (Firehose-style
// delivery streams): their configuration, version, status, tags and encryption
// settings, persisted one file per delivery stream at
// DATA_DIR/firehose/NAME/stream.json. It checks definitions as Firehose does
// (names, sources, buffering hints, compression, format conversion, processors)
// and resolves the table schemas that format conversion names
// (DATA_DIR/tables/DATABASE/TABLE.json by default, Options.ResolveSchema to
// plug in another source).
//
// It knows no HTTP and moves no data: connectors/api/firehoseapi maps the
// Firehose API onto it, and the delivery runner reads the definitions and
// learns of every create, update and delete through Version and Wait.
//
// Every error for bad input or a missing or busy delivery stream wraps one of
// the kinds in errors.go, so callers map them to AWS error types with errors.Is;
// the messages are Firehose's words where Firehose has them.
package catalog
