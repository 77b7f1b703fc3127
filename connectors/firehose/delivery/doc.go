// Package delivery owns running delivery streams: it reads each stream's
// source (the backing stream of a DirectPut delivery stream, or the Kinesis
// stream it consumes) shard by shard, buffers records per destination
// partition until a buffering hint is met, converts or compresses them into
// objects, writes the objects and the error output, and remembers how far it
// got, so that every record is delivered exactly once across crashes.
//
// # Exactly once
//
// An object holds the records of one partition (its evaluated prefix) from one
// shard between two sequence numbers, and its key is derived from them
// (layout.ObjectID), so writing the same records again writes the same key.
// Size cuts are decided by the data and repeat by themselves on a replay; an
// interval cut depends on the clock, so before any object is written its
// range is recorded as an intent in the stream's state file (fsynced). After
// a crash the runner replays the source from the state's position, skips what
// each partition already delivered, and cuts every partition with an intent
// exactly where the intent says, rewriting those objects with the same keys.
// A record is acknowledged to a producer only once its backing stream has it
// on disk, so nothing is lost between the producer and the delivery either.
//
// # Buffers
//
// Buffering hints apply per partition of each shard (a DirectPut delivery
// stream has one shard; a Kinesis source stream's shards are buffered apart),
// as Firehose applies them per partition. Size counts the records' bytes as
// they arrived, before conversion or compression.
package delivery
