// Package layout owns where delivered records land and how raw objects are
// compressed, exactly as Firehose does it for an Amazon S3 destination:
//
//   - Prefix and ErrorOutputPrefix expressions (!{timestamp:...},
//     !{firehose:random-string}, !{firehose:error-output-type},
//     !{partitionKeyFromQuery:key}, !{partitionKeyFromLambda:key}), checked
//     once by New with Firehose's rules and evaluated per object, with the
//     default YYYY/MM/dd/HH/ prefixes Firehose adds.
//   - Dynamic partitioning's MetadataExtraction query (the jq subset Firehose's
//     docs show) and the partition keys it extracts from a JSON record.
//   - Object keys <prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<id><ext>,
//     with a deterministic id derived from the source position range, so a
//     replay rewrites the same object.
//   - The raw object encodings (UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY)
//     and the AppendDelimiterToRecord processor.
//   - The JSON line written to the error output for each failed record.
//
// It does no I/O of its own and keeps no state between calls except the random
// source for random-string: the delivery runner buffers, converts and writes.
// Errors for bad configuration wrap ErrInvalidArgument (Firehose's
// InvalidArgumentException) and use Firehose's words where Firehose has them.
package layout
