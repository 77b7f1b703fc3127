package kinesisapi

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// registerAttrs adds the operations on stream attributes: tags, stream mode,
// consumers, encryption, enhanced monitoring and limits. The store records
// them and acts on none (nothing is encrypted, no metric is emitted).
func (h *Handler) registerAttrs() {
	s := h.srv
	awsproto.Handle(s, "AddTagsToStream", h.addTagsToStream)
	awsproto.Handle(s, "RemoveTagsFromStream", h.removeTagsFromStream)
	awsproto.Handle(s, "ListTagsForStream", h.listTagsForStream)
	awsproto.Handle(s, "TagResource", h.tagResource)
	awsproto.Handle(s, "UntagResource", h.untagResource)
	awsproto.Handle(s, "ListTagsForResource", h.listTagsForResource)
	awsproto.Handle(s, "UpdateStreamMode", h.updateStreamMode)
	awsproto.Handle(s, "StartStreamEncryption", h.startStreamEncryption)
	awsproto.Handle(s, "StopStreamEncryption", h.stopStreamEncryption)
	awsproto.Handle(s, "EnableEnhancedMonitoring", h.enableEnhancedMonitoring)
	awsproto.Handle(s, "DisableEnhancedMonitoring", h.disableEnhancedMonitoring)
	awsproto.Handle(s, "DescribeLimits", h.describeLimits)
	awsproto.Handle(s, "RegisterStreamConsumer", h.registerStreamConsumer)
	awsproto.Handle(s, "DeregisterStreamConsumer", h.deregisterStreamConsumer)
	awsproto.Handle(s, "DescribeStreamConsumer", h.describeStreamConsumer)
	awsproto.Handle(s, "ListStreamConsumers", h.listStreamConsumers)
	awsproto.Handle(s, "SubscribeToShard", h.subscribeToShard)
}

// Tags

type tagOut struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func sortedTags(m map[string]string) []tagOut {
	out := make([]tagOut, 0, len(m))
	for k, v := range m {
		out = append(out, tagOut{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

type addTagsInput struct {
	streamRef
	Tags map[string]string
}

func (h *Handler) addTagsToStream(ctx context.Context, req *awsproto.Request, in *addTagsInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	return nil, h.storeError(h.store.AddTags(name, in.Tags), name)
}

type removeTagsInput struct {
	streamRef
	TagKeys []string
}

func (h *Handler) removeTagsFromStream(ctx context.Context, req *awsproto.Request, in *removeTagsInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	return nil, h.storeError(h.store.RemoveTags(name, in.TagKeys), name)
}

type listTagsForStreamInput struct {
	streamRef
	ExclusiveStartTagKey string
	Limit                *int
}

type listTagsForStreamOutput struct {
	Tags        []tagOut `json:"Tags"`
	HasMoreTags bool     `json:"HasMoreTags"`
}

func (h *Handler) listTagsForStream(ctx context.Context, req *awsproto.Request, in *listTagsForStreamInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	tags, err := h.store.Tags(name)
	if err != nil {
		return nil, h.storeError(err, name)
	}
	limit := 10
	if in.Limit != nil {
		limit = *in.Limit
	}
	out := listTagsForStreamOutput{Tags: []tagOut{}}
	for _, t := range sortedTags(tags) {
		if in.ExclusiveStartTagKey != "" && t.Key <= in.ExclusiveStartTagKey {
			continue
		}
		if len(out.Tags) == limit {
			out.HasMoreTags = true
			break
		}
		out.Tags = append(out.Tags, t)
	}
	return out, nil
}

// resource is what a ResourceARN names: a stream, or a consumer of one.
type resource struct {
	stream   string
	consumer string // "" for the stream itself
}

func (h *Handler) parseResourceARN(arn string) (resource, error) {
	name, err := h.nameFromARN(arn)
	if err != nil {
		return resource{}, err
	}
	_, rest, _ := strings.Cut(arn, ":stream/"+name)
	if rest == "" {
		return resource{stream: name}, nil
	}
	cons, ok := strings.CutPrefix(rest, "/consumer/")
	if !ok {
		return resource{}, awsproto.Errorf(errInvalidArgument, "ResourceARN %s names neither a stream nor a consumer.", arn)
	}
	cname, _, _ := strings.Cut(cons, ":")
	return resource{stream: name, consumer: cname}, nil
}

type tagResourceInput struct {
	ResourceARN string
	Tags        map[string]string
}

func (h *Handler) tagResource(ctx context.Context, req *awsproto.Request, in *tagResourceInput) (any, error) {
	r, err := h.parseResourceARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if r.consumer != "" {
		return nil, h.storeError(h.store.AddConsumerTags(r.stream, r.consumer, in.Tags), r.stream)
	}
	return nil, h.storeError(h.store.AddTags(r.stream, in.Tags), r.stream)
}

type untagResourceInput struct {
	ResourceARN string
	TagKeys     []string
}

func (h *Handler) untagResource(ctx context.Context, req *awsproto.Request, in *untagResourceInput) (any, error) {
	r, err := h.parseResourceARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if r.consumer != "" {
		return nil, h.storeError(h.store.RemoveConsumerTags(r.stream, r.consumer, in.TagKeys), r.stream)
	}
	return nil, h.storeError(h.store.RemoveTags(r.stream, in.TagKeys), r.stream)
}

type listTagsForResourceInput struct {
	ResourceARN string
}

type listTagsForResourceOutput struct {
	Tags []tagOut `json:"Tags"`
}

func (h *Handler) listTagsForResource(ctx context.Context, req *awsproto.Request, in *listTagsForResourceInput) (any, error) {
	r, err := h.parseResourceARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	if r.consumer != "" {
		c, err := h.store.DescribeConsumer(r.stream, r.consumer)
		if err != nil {
			return nil, h.storeError(err, r.stream)
		}
		tags = c.Tags
	} else if tags, err = h.store.Tags(r.stream); err != nil {
		return nil, h.storeError(err, r.stream)
	}
	return listTagsForResourceOutput{Tags: sortedTags(tags)}, nil
}

// Mode and encryption: recorded, and the stream is UPDATING for a while, as in Kinesis.

type updateStreamModeInput struct {
	StreamARN         string
	StreamModeDetails streamModeDetails
}

func (h *Handler) updateStreamMode(ctx context.Context, req *awsproto.Request, in *updateStreamModeInput) (any, error) {
	name, err := h.resolve("", in.StreamARN)
	if err != nil {
		return nil, err
	}
	d, err := h.requireActive(name)
	if err != nil {
		return nil, err
	}
	if modeOf(d) == in.StreamModeDetails.StreamMode {
		return nil, awsproto.Errorf(errInvalidArgument, "Stream %s under account %s is already in %s mode.", name, h.opts.AccountID, modeOf(d))
	}
	if err := h.store.SetStreamMode(name, in.StreamModeDetails.StreamMode); err != nil {
		return nil, h.storeError(err, name)
	}
	h.enter(name, d.Epoch, statusUpdating)
	return nil, nil
}

type encryptionInput struct {
	streamRef
	EncryptionType string
	KeyId          string
}

func (h *Handler) startStreamEncryption(ctx context.Context, req *awsproto.Request, in *encryptionInput) (any, error) {
	return h.setEncryption(in, in.EncryptionType)
}

func (h *Handler) stopStreamEncryption(ctx context.Context, req *awsproto.Request, in *encryptionInput) (any, error) {
	return h.setEncryption(in, streamstore.EncryptionNone)
}

func (h *Handler) setEncryption(in *encryptionInput, typ string) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if typ == streamstore.EncryptionNone && in.EncryptionType != streamstore.EncryptionKMS {
		return nil, awsproto.Errorf(errInvalidArgument, "StopStreamEncryption takes EncryptionType KMS, not %s.", in.EncryptionType)
	}
	if typ != streamstore.EncryptionKMS && typ != streamstore.EncryptionNone {
		return nil, awsproto.Errorf(errInvalidArgument, "StartStreamEncryption takes EncryptionType KMS, not %s.", typ)
	}
	d, err := h.requireActive(name)
	if err != nil {
		return nil, err
	}
	if err := h.store.SetEncryption(name, typ, in.KeyId); err != nil {
		return nil, h.storeError(err, name)
	}
	h.enter(name, d.Epoch, statusUpdating)
	return nil, nil
}

// Enhanced monitoring

type monitoringInput struct {
	streamRef
	ShardLevelMetrics []string
}

type monitoringOutput struct {
	StreamName               string   `json:"StreamName"`
	StreamARN                string   `json:"StreamARN"`
	CurrentShardLevelMetrics []string `json:"CurrentShardLevelMetrics"`
	DesiredShardLevelMetrics []string `json:"DesiredShardLevelMetrics"`
}

func (h *Handler) enableEnhancedMonitoring(ctx context.Context, req *awsproto.Request, in *monitoringInput) (any, error) {
	return h.monitoring(req, in, true)
}

func (h *Handler) disableEnhancedMonitoring(ctx context.Context, req *awsproto.Request, in *monitoringInput) (any, error) {
	return h.monitoring(req, in, false)
}

func (h *Handler) monitoring(req *awsproto.Request, in *monitoringInput, enable bool) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	change := h.store.DisableEnhancedMonitoring
	if enable {
		change = h.store.EnableEnhancedMonitoring
	}
	cur, want, err := change(name, in.ShardLevelMetrics)
	if err != nil {
		return nil, h.storeError(err, name)
	}
	return monitoringOutput{StreamName: name, StreamARN: h.streamARN(req.HTTP, name), CurrentShardLevelMetrics: cur, DesiredShardLevelMetrics: want}, nil
}

// DescribeLimits

// onDemandStreamLimit is Kinesis' default quota of ON_DEMAND streams per account.
const onDemandStreamLimit = 50

type describeLimitsOutput struct {
	ShardLimit               int `json:"ShardLimit"`
	OpenShardCount           int `json:"OpenShardCount"`
	OnDemandStreamCount      int `json:"OnDemandStreamCount"`
	OnDemandStreamCountLimit int `json:"OnDemandStreamCountLimit"`
}

func (h *Handler) describeLimits(ctx context.Context, req *awsproto.Request, in *struct{}) (any, error) {
	out := describeLimitsOutput{ShardLimit: h.opts.ShardLimit, OnDemandStreamCountLimit: onDemandStreamLimit}
	for _, name := range h.store.ListStreams() {
		d, err := h.store.DescribeStream(name)
		if err != nil {
			continue // deleted since the listing
		}
		out.OpenShardCount += d.OpenShards
		if modeOf(d) == streamstore.ModeOnDemand {
			out.OnDemandStreamCount++
		}
	}
	return out, nil
}

// Consumers: registered at once in the store, and reported CREATING for
// StateDelay, as Kinesis takes a while to make a consumer ACTIVE.

type consumerOut struct {
	ConsumerName              string             `json:"ConsumerName"`
	ConsumerARN               string             `json:"ConsumerARN"`
	ConsumerStatus            string             `json:"ConsumerStatus"`
	ConsumerCreationTimestamp awsproto.Timestamp `json:"ConsumerCreationTimestamp"`
	StreamARN                 string             `json:"StreamARN,omitempty"`
}

func (h *Handler) consumerOf(c streamstore.Consumer, streamARN string) consumerOut {
	status := c.Status
	if h.opts.StateDelay > 0 && h.opts.Now().Before(c.CreatedAt.Add(h.opts.StateDelay)) {
		status = statusCreating
	}
	return consumerOut{ConsumerName: c.Name, ConsumerARN: c.ARN(streamARN), ConsumerStatus: status, ConsumerCreationTimestamp: awsproto.Timestamp(c.CreatedAt)}
}

type registerConsumerInput struct {
	StreamARN    string
	ConsumerName string
	Tags         map[string]string
}

func (h *Handler) registerStreamConsumer(ctx context.Context, req *awsproto.Request, in *registerConsumerInput) (any, error) {
	name, err := h.resolve("", in.StreamARN)
	if err != nil {
		return nil, err
	}
	c, err := h.store.RegisterConsumerWith(name, in.ConsumerName, in.Tags)
	if err != nil {
		return nil, h.storeError(err, name)
	}
	return struct {
		Consumer consumerOut `json:"Consumer"`
	}{h.consumerOf(c, h.streamARN(req.HTTP, name))}, nil
}

type consumerRefInput struct {
	StreamARN    string
	ConsumerName string
	ConsumerARN  string
}

// consumer resolves a consumer named by ConsumerARN, or by StreamARN and ConsumerName.
func (h *Handler) consumer(in *consumerRefInput) (stream string, c streamstore.Consumer, err error) {
	var name string
	switch {
	case in.ConsumerARN != "":
		r, err := h.parseResourceARN(in.ConsumerARN)
		if err != nil {
			return "", c, err
		}
		if r.consumer == "" {
			return "", c, awsproto.Errorf(errInvalidArgument, "ConsumerARN %s is not a consumer ARN.", in.ConsumerARN)
		}
		stream, name = r.stream, r.consumer
	case in.StreamARN != "" && in.ConsumerName != "":
		if stream, err = h.resolve("", in.StreamARN); err != nil {
			return "", c, err
		}
		name = in.ConsumerName
	default:
		return "", c, awsproto.Errorf(errInvalidArgument, "Either ConsumerARN, or StreamARN and ConsumerName, must be provided.")
	}
	c, err = h.store.DescribeConsumer(stream, name)
	if err != nil {
		return "", c, h.storeError(err, stream)
	}
	if in.ConsumerARN != "" {
		if _, suffix, _ := strings.Cut(in.ConsumerARN, "/consumer/"+name+":"); suffix != strconv.FormatInt(c.ARNSuffix, 10) {
			return "", c, awsproto.Errorf(errNotFound, "Consumer %s under stream %s not found.", in.ConsumerARN, stream)
		}
	}
	return stream, c, nil
}

func (h *Handler) deregisterStreamConsumer(ctx context.Context, req *awsproto.Request, in *consumerRefInput) (any, error) {
	stream, c, err := h.consumer(in)
	if err != nil {
		return nil, err
	}
	return nil, h.storeError(h.store.DeregisterConsumer(stream, c.Name), stream)
}

func (h *Handler) describeStreamConsumer(ctx context.Context, req *awsproto.Request, in *consumerRefInput) (any, error) {
	stream, c, err := h.consumer(in)
	if err != nil {
		return nil, err
	}
	arn := h.streamARN(req.HTTP, stream)
	out := h.consumerOf(c, arn)
	out.StreamARN = arn
	return struct {
		ConsumerDescription consumerOut `json:"ConsumerDescription"`
	}{out}, nil
}

type listConsumersInput struct {
	StreamARN               string
	NextToken               string
	MaxResults              *int
	StreamCreationTimestamp *time.Time
}

type listConsumersOutput struct {
	Consumers []consumerOut `json:"Consumers"`
	NextToken string        `json:"NextToken,omitempty"`
}

func (h *Handler) listStreamConsumers(ctx context.Context, req *awsproto.Request, in *listConsumersInput) (any, error) {
	name, err := h.resolve("", in.StreamARN)
	if err != nil {
		return nil, err
	}
	var after int64 = -1 // the ARN suffix of the last consumer listed; they only grow
	if in.NextToken != "" {
		t, err := h.decodeToken(in.NextToken, "ListStreamConsumers")
		if err != nil {
			return nil, err
		}
		if t.Stream != name {
			return nil, awsproto.Errorf(errInvalidArgument, "Invalid NextToken.")
		}
		if issued := time.UnixMilli(t.Issued); h.opts.Now().Sub(issued) > NextTokenLifetime {
			return nil, awsproto.Errorf(errExpiredNextToken, "The NextToken has expired.")
		}
		after = t.Seq
	}
	if in.StreamCreationTimestamp != nil {
		d, err := h.store.DescribeStream(name)
		if err != nil {
			return nil, h.storeError(err, name)
		}
		if !in.StreamCreationTimestamp.Truncate(time.Second).Equal(d.CreatedAt.Truncate(time.Second)) {
			return nil, h.notFound(name)
		}
	}
	cs, err := h.store.ListConsumers(name)
	if err != nil {
		return nil, h.storeError(err, name)
	}
	limit := 100
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	arn := h.streamARN(req.HTTP, name)
	out := listConsumersOutput{Consumers: []consumerOut{}}
	var last int64
	for _, c := range cs {
		if c.ARNSuffix <= after {
			continue
		}
		if len(out.Consumers) == limit {
			out.NextToken = h.encodeToken(pageToken{Op: "ListStreamConsumers", Stream: name, Seq: last, Issued: h.opts.Now().UnixMilli()})
			break
		}
		out.Consumers = append(out.Consumers, h.consumerOf(c, arn))
		last = c.ARNSuffix
	}
	return out, nil
}
