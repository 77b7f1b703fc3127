package firehoseapi

import (
	"context"
	"errors"
	"strings"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// backingShards is the shard count of a backing stream (see the package doc).
const backingShards = 1

// refuseOthers answers the members of an input that name a destination or
// source eddy does not deliver to or read from.
func refuseOthers(in map[string]any, suffix string, what string) error {
	var names []string
	for k := range in {
		if strings.HasSuffix(k, suffix) && k != "S3"+suffix && k != "ExtendedS3"+suffix {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return awsproto.Errorf(errInvalidArgument, "%s is not supported by eddy: it %s; use ExtendedS3%s.", strings.Join(names, ", "), what, suffix)
}

// CreateDeliveryStream

type createInput struct {
	DeliveryStreamName                         string
	DeliveryStreamType                         string
	KinesisStreamSourceConfiguration           *kinesisSourceIn
	DeliveryStreamEncryptionConfigurationInput *encryptionConfigIn
	S3DestinationConfiguration                 *s3In
	ExtendedS3DestinationConfiguration         *extendedS3In
	Tags                                       []tagIn
}

type createOutput struct {
	DeliveryStreamARN string `json:"DeliveryStreamARN"`
}

func (a *API) createDeliveryStream(ctx context.Context, req *awsproto.Request, in *createInput) (any, error) {
	if err := refuseOthers(req.Input, "DestinationConfiguration", "delivers to S3 (or a local folder behind an S3 bucket name) only"); err != nil {
		return nil, err
	}
	typ := catalog.StreamType(in.DeliveryStreamType)
	switch typ {
	case "":
		typ = catalog.TypeDirectPut
	case catalog.TypeDirectPut, catalog.TypeKinesisStreamAsSource:
	default:
		return nil, awsproto.Errorf(errInvalidArgument, "DeliveryStreamType %s is not supported by eddy; use DirectPut or KinesisStreamAsSource.", typ)
	}
	if (in.S3DestinationConfiguration == nil) == (in.ExtendedS3DestinationConfiguration == nil) {
		return nil, awsproto.Errorf(errInvalidArgument, "Exactly one destination configuration is supported for a Firehose")
	}
	if typ == catalog.TypeDirectPut && in.KinesisStreamSourceConfiguration != nil {
		return nil, awsproto.Errorf(errInvalidArgument, "KinesisSourceStreamConfig is only applicable for KinesisStreamAsSource stream type")
	}
	ci := catalog.CreateInput{
		Name:        in.DeliveryStreamName,
		Type:        typ,
		Region:      a.region(req.HTTP),
		Destination: destinationConfig(in.S3DestinationConfiguration, in.ExtendedS3DestinationConfiguration),
	}
	if s := in.KinesisStreamSourceConfiguration; s != nil {
		ci.Source = &catalog.KinesisSource{StreamARN: s.KinesisStreamARN, RoleARN: s.RoleARN}
		if err := a.checkSource(s.KinesisStreamARN); err != nil {
			return nil, err
		}
	}
	if e := in.DeliveryStreamEncryptionConfigurationInput; e != nil {
		ci.Encryption = &catalog.EncryptionConfig{KeyType: e.KeyType, KeyARN: e.KeyARN}
	}
	for _, t := range in.Tags {
		ci.Tags = append(ci.Tags, catalog.Tag{Key: t.Key, Value: deref(t.Value)})
	}
	ds, err := a.cat.Create(ci)
	if err != nil {
		return nil, apiError(err)
	}
	if ds.Type == catalog.TypeDirectPut {
		if err := a.createBacking(ds.Name); err != nil {
			if derr := a.cat.Delete(ds.Name); derr != nil {
				err = errors.Join(err, derr)
			}
			return nil, apiError(err)
		}
	}
	return createOutput{DeliveryStreamARN: ds.ARN}, nil
}

// checkSource refuses a source stream the store does not have, as Firehose
// refuses a Kinesis stream that does not exist.
func (a *API) checkSource(arn string) error {
	name, err := catalog.StreamNameFromARN(arn)
	if err != nil {
		return apiError(err)
	}
	if _, err := a.store.DescribeStream(name); errors.Is(err, streamstore.ErrNotFound) {
		return awsproto.Errorf(errInvalidArgument, "Kinesis stream %s does not exist; create it first (eddy streams create %s, or CreateStream on eddy's Kinesis endpoint).", arn, name)
	} else if err != nil {
		return apiError(err)
	}
	return nil
}

// createBacking creates the backing stream of a new DirectPut delivery
// stream. One left by an earlier delivery stream of the name (whose delete was
// interrupted) held records of a stream that no longer exists: it is replaced.
func (a *API) createBacking(name string) error {
	backing := catalog.BackingStream(name)
	err := a.store.CreateStreamWith(backing, streamstore.StreamOptions{Shards: backingShards})
	if errors.Is(err, streamstore.ErrInUse) {
		if err := a.store.DeleteStream(backing); err != nil && !errors.Is(err, streamstore.ErrNotFound) {
			return err
		}
		err = a.store.CreateStreamWith(backing, streamstore.StreamOptions{Shards: backingShards})
	}
	return err
}

// DeleteDeliveryStream

type deleteInput struct {
	DeliveryStreamName string
	AllowForceDelete   *bool
}

func (a *API) deleteDeliveryStream(ctx context.Context, req *awsproto.Request, in *deleteInput) (any, error) {
	ds, err := a.cat.Get(in.DeliveryStreamName)
	if err != nil {
		return nil, apiError(err)
	}
	if err := a.cat.Delete(ds.Name); err != nil {
		return nil, apiError(err)
	}
	if ds.Type == catalog.TypeDirectPut {
		if err := a.store.DeleteStream(catalog.BackingStream(ds.Name)); err != nil && !errors.Is(err, streamstore.ErrNotFound) {
			return nil, apiError(err)
		}
	}
	return nil, nil
}

// DescribeDeliveryStream

type describeInput struct {
	DeliveryStreamName          string
	Limit                       *int
	ExclusiveStartDestinationId *string
}

type describeOutput struct {
	DeliveryStreamDescription deliveryStreamDescription `json:"DeliveryStreamDescription"`
}

func (a *API) describeDeliveryStream(ctx context.Context, req *awsproto.Request, in *describeInput) (any, error) {
	ds, err := a.cat.Get(in.DeliveryStreamName)
	if err != nil {
		return nil, apiError(err)
	}
	// The one destination is listed unless the caller pages past it.
	withDest := in.ExclusiveStartDestinationId == nil || *in.ExclusiveStartDestinationId < ds.Destination.ID
	return describeOutput{DeliveryStreamDescription: describe(ds, withDest)}, nil
}

// ListDeliveryStreams

type listInput struct {
	Limit                            *int
	DeliveryStreamType               string
	ExclusiveStartDeliveryStreamName string
}

type listOutput struct {
	DeliveryStreamNames    []string `json:"DeliveryStreamNames"`
	HasMoreDeliveryStreams bool     `json:"HasMoreDeliveryStreams"`
}

func (a *API) listDeliveryStreams(ctx context.Context, req *awsproto.Request, in *listInput) (any, error) {
	typ := catalog.StreamType(in.DeliveryStreamType)
	if typ != "" && typ != catalog.TypeDirectPut && typ != catalog.TypeKinesisStreamAsSource {
		// MSKAsSource, DatabaseAsSource: eddy has none of them.
		return listOutput{DeliveryStreamNames: []string{}}, nil
	}
	names, more, err := a.cat.List(catalog.ListInput{ExclusiveStartName: in.ExclusiveStartDeliveryStreamName, Limit: deref(in.Limit), Type: typ})
	if err != nil {
		return nil, apiError(err)
	}
	return listOutput{DeliveryStreamNames: names, HasMoreDeliveryStreams: more}, nil
}

// UpdateDestination

type updateInput struct {
	DeliveryStreamName             string
	CurrentDeliveryStreamVersionId string
	DestinationId                  string
	S3DestinationUpdate            *s3In
	ExtendedS3DestinationUpdate    *extendedS3In
}

func (a *API) updateDestination(ctx context.Context, req *awsproto.Request, in *updateInput) (any, error) {
	if err := refuseOthers(req.Input, "DestinationUpdate", "delivers to S3 only"); err != nil {
		return nil, err
	}
	if (in.S3DestinationUpdate == nil) == (in.ExtendedS3DestinationUpdate == nil) {
		return nil, awsproto.Errorf(errInvalidArgument, "Exactly one destination configuration is supported for a Firehose")
	}
	_, err := a.cat.UpdateDestination(catalog.UpdateInput{
		Name:             in.DeliveryStreamName,
		CurrentVersionID: in.CurrentDeliveryStreamVersionId,
		DestinationID:    in.DestinationId,
		Destination:      destinationConfig(in.S3DestinationUpdate, in.ExtendedS3DestinationUpdate),
	})
	return nil, apiError(err)
}

// Tags

type tagInput struct {
	DeliveryStreamName string
	Tags               []tagIn
}

func (a *API) tagDeliveryStream(ctx context.Context, req *awsproto.Request, in *tagInput) (any, error) {
	tags := make([]catalog.Tag, 0, len(in.Tags))
	for _, t := range in.Tags {
		tags = append(tags, catalog.Tag{Key: t.Key, Value: deref(t.Value)})
	}
	return nil, apiError(a.cat.Tag(in.DeliveryStreamName, tags))
}

type untagInput struct {
	DeliveryStreamName string
	TagKeys            []string
}

func (a *API) untagDeliveryStream(ctx context.Context, req *awsproto.Request, in *untagInput) (any, error) {
	return nil, apiError(a.cat.Untag(in.DeliveryStreamName, in.TagKeys))
}

type listTagsInput struct {
	DeliveryStreamName   string
	ExclusiveStartTagKey string
	Limit                *int
}

type listTagsOutput struct {
	Tags        []tagOut `json:"Tags"`
	HasMoreTags bool     `json:"HasMoreTags"`
}

func (a *API) listTags(ctx context.Context, req *awsproto.Request, in *listTagsInput) (any, error) {
	tags, more, err := a.cat.ListTags(in.DeliveryStreamName, in.ExclusiveStartTagKey, deref(in.Limit))
	if err != nil {
		return nil, apiError(err)
	}
	out := listTagsOutput{Tags: make([]tagOut, 0, len(tags)), HasMoreTags: more}
	for _, t := range tags {
		v := t.Value
		out.Tags = append(out.Tags, tagOut{Key: t.Key, Value: &v})
	}
	return out, nil
}

// Encryption

type startEncryptionInput struct {
	DeliveryStreamName                         string
	DeliveryStreamEncryptionConfigurationInput *encryptionConfigIn
}

func (a *API) startEncryption(ctx context.Context, req *awsproto.Request, in *startEncryptionInput) (any, error) {
	var cfg catalog.EncryptionConfig
	if e := in.DeliveryStreamEncryptionConfigurationInput; e != nil {
		cfg = catalog.EncryptionConfig{KeyType: e.KeyType, KeyARN: e.KeyARN}
	}
	return nil, apiError(a.cat.StartEncryption(in.DeliveryStreamName, cfg))
}

type stopEncryptionInput struct {
	DeliveryStreamName string
}

func (a *API) stopEncryption(ctx context.Context, req *awsproto.Request, in *stopEncryptionInput) (any, error) {
	return nil, apiError(a.cat.StopEncryption(in.DeliveryStreamName))
}
