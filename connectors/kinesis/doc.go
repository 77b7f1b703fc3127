// Package kinesis owns eddy's Kinesis connector: the source that reads a stream
// into decoded Arrow batches (exec.Source) and the sinks that write result rows
// and error records into a stream (exec.Sink, exec.ErrorSink). This file set
// works over the embedded store (connectors/streamstore); a client of real
// Kinesis endpoints fits behind the same types.
//
// The source reads every shard, parents to their end before children, and picks
// up the children a reshard creates. It hands the runtime one SourceBatch per run
// of records of one shard, decoded by a connectors/format Decoder with the
// query's projection; records that do not decode travel in the batch's Errors
// and never stop it. Position is the last sequence number of the run, SplitDone
// marks a closed shard read to its end, and a shard with nothing new sends a
// heartbeat (no Record, Arrival = the store's clock when the source looked) at
// most every PollInterval.
//
// Checkpoints: EmbeddedSource.StartPositions says where each shard started,
// resolved at open to a concrete position ("" for the first record, else the
// sequence number the shard starts after), which a checkpoint overrides with the
// Position of each shard's last processed batch; SourceConfig.Resume (After, Done)
// restores a source from it exactly, across reshards, and
// EmbeddedSource.Warnings reports records retention removed before they were
// read.
//
// WITH options of a kinesis stream: stream (required), format (json or csv),
// start (trim_horizon, the default, latest or timestamp), start_timestamp (RFC
// 3339; implies start = 'timestamp'), and the options of the format (see
// format.DecoderOptions). Of a kinesis sink: stream (required), partition_key (a
// column), format (json only).
//
// Remote streams. Any of the options endpoint (a URL; absent: AWS),
// region, profile or access_key_id (with secret_access_key; without them the
// SDK's default credential chain: environment, shared files, SSO, IMDS) makes
// a source a RemoteSource and a sink a RemoteSink (RemoteConfigFromOptions),
// which reach any Kinesis endpoint (AWS, or eddy serve) with aws-sdk-go-v2
// and keep the semantics of the embedded ones: lineage order, SplitDone,
// StartPositions, Resume and heartbeats for the source. What differs: the
// remote sink is at least once with checkpoints (Kinesis has no
// transactions, so it is not an exec.CommittingSink and a restored run puts
// again what it recomputes), and the remote source's clocks, bounded reads
// and positions follow what the API can say (see RemoteSource).
package kinesis
