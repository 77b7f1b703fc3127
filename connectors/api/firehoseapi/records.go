package firehoseapi

import (
	"context"
	"strconv"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

type recordIn struct {
	Data []byte
}

type putRecordInput struct {
	DeliveryStreamName string
	Record             recordIn
}

type putRecordOutput struct {
	RecordId  string `json:"RecordId"`
	Encrypted bool   `json:"Encrypted"`
}

type putRecordBatchInput struct {
	DeliveryStreamName string
	Records            []recordIn
}

type putRecordBatchEntry struct {
	RecordId     string `json:"RecordId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putRecordBatchOutput struct {
	FailedPutCount   int                   `json:"FailedPutCount"`
	Encrypted        bool                  `json:"Encrypted"`
	RequestResponses []putRecordBatchEntry `json:"RequestResponses"`
}

// target returns the delivery stream records are put to, refusing one that
// reads a Kinesis stream, as Firehose does.
func (a *API) target(name string) (catalog.DeliveryStream, error) {
	ds, err := a.cat.Get(name)
	if err != nil {
		return ds, apiError(err)
	}
	if ds.Type != catalog.TypeDirectPut {
		return ds, awsproto.Errorf(errInvalidArgument, "This operation is not permitted on KinesisStreamAsSource delivery stream type.")
	}
	return ds, nil
}

// entries turns records into backing stream puts with round-robin partition keys.
func (a *API) entries(records []recordIn) []streamstore.PutEntry {
	first := a.keys.Add(uint64(len(records))) - uint64(len(records))
	out := make([]streamstore.PutEntry, len(records))
	for i, r := range records {
		out[i] = streamstore.PutEntry{PartitionKey: strconv.FormatUint(first+uint64(i), 10), Data: r.Data}
	}
	return out
}

func (a *API) putRecord(ctx context.Context, req *awsproto.Request, in *putRecordInput) (any, error) {
	ds, err := a.target(in.DeliveryStreamName)
	if err != nil {
		return nil, err
	}
	res, err := a.store.PutRecords(ctx, catalog.BackingStream(ds.Name), a.entries([]recordIn{in.Record}))
	if err != nil {
		return nil, apiError(err)
	}
	return putRecordOutput{RecordId: catalog.RecordID(res[0].ShardID, res[0].SequenceNumber.String()), Encrypted: ds.Encryption.Enabled}, nil
}

func (a *API) putRecordBatch(ctx context.Context, req *awsproto.Request, in *putRecordBatchInput) (any, error) {
	ds, err := a.target(in.DeliveryStreamName)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, r := range in.Records {
		total += len(r.Data)
	}
	if total > MaxBatchBytes {
		return nil, awsproto.Errorf(errInvalidArgument, "Records size exceeds 4 MB limit: the records of a PutRecordBatch request hold at most %d bytes of data together; this one holds %d. Split it.", MaxBatchBytes, total)
	}
	res, err := a.store.PutRecords(ctx, catalog.BackingStream(ds.Name), a.entries(in.Records))
	if err != nil {
		return nil, apiError(err)
	}
	out := putRecordBatchOutput{Encrypted: ds.Encryption.Enabled, RequestResponses: make([]putRecordBatchEntry, len(res))}
	for i, r := range res {
		out.RequestResponses[i] = putRecordBatchEntry{RecordId: catalog.RecordID(r.ShardID, r.SequenceNumber.String())}
	}
	return out, nil
}
