package kinesisapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// streamRef is the StreamName/StreamARN pair most inputs carry.
type streamRef struct {
	StreamName string
	StreamARN  string
}

type streamModeDetails struct {
	StreamMode string `json:"StreamMode"`
}

type hashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type sequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardOut struct {
	ShardId               string              `json:"ShardId"`
	ParentShardId         string              `json:"ParentShardId,omitempty"`
	AdjacentParentShardId string              `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashKeyRange        `json:"HashKeyRange"`
	SequenceNumberRange   sequenceNumberRange `json:"SequenceNumberRange"`
}

type enhancedMetrics struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

func shardOf(sd streamstore.ShardDescription) shardOut {
	return shardOut{
		ShardId:               sd.ShardID,
		ParentShardId:         sd.ParentShardID,
		AdjacentParentShardId: sd.AdjacentParentShardID,
		HashKeyRange:          hashKeyRange{StartingHashKey: sd.HashKeyRange.Start.String(), EndingHashKey: sd.HashKeyRange.End.String()},
		SequenceNumberRange:   sequenceNumberRange{StartingSequenceNumber: sd.StartingSequenceNumber, EndingSequenceNumber: sd.EndingSequenceNumber},
	}
}

func modeOf(d streamstore.StreamDescription) string {
	if d.Mode == "" {
		return streamstore.ModeProvisioned
	}
	return d.Mode
}

func encryptionOf(d streamstore.StreamDescription) string {
	if d.EncryptionType == "" {
		return streamstore.EncryptionNone
	}
	return d.EncryptionType
}

func monitoringOf(d streamstore.StreamDescription) []enhancedMetrics {
	m := d.EnhancedMetrics
	if m == nil {
		m = []string{}
	}
	return []enhancedMetrics{{ShardLevelMetrics: m}}
}

// CreateStream

type createStreamInput struct {
	StreamName        string
	ShardCount        *int
	StreamModeDetails *streamModeDetails
	Tags              map[string]string
}

func (h *Handler) createStream(ctx context.Context, req *awsproto.Request, in *createStreamInput) (any, error) {
	mode := streamstore.ModeProvisioned
	if in.StreamModeDetails != nil {
		mode = in.StreamModeDetails.StreamMode
	}
	shards := 0
	if in.ShardCount != nil {
		shards = *in.ShardCount
	} else if mode == streamstore.ModeProvisioned {
		return nil, awsproto.ValidationErrors{"Value null at 'shardCount' failed to satisfy constraint: Member must not be null"}.Err()
	}
	if mode == streamstore.ModeOnDemand && shards == 0 {
		shards = streamstore.DefaultOnDemandShards
	}
	if shards > h.opts.ShardLimit {
		return nil, awsproto.Errorf(errLimitExceeded,
			"This request would exceed the shard limit for the account %s in %s. Current Limit: %d. Number of additional shards that would have resulted in the limit being exceeded: %d.",
			h.opts.AccountID, h.region(req.HTTP), h.opts.ShardLimit, shards)
	}
	err := h.store.CreateStreamWith(in.StreamName, streamstore.StreamOptions{Shards: shards, Mode: mode, Tags: in.Tags})
	if errors.Is(err, streamstore.ErrInUse) {
		return nil, awsproto.Errorf(errInUse, "Stream %s under account %s already exists.", in.StreamName, h.opts.AccountID)
	}
	if err != nil {
		return nil, h.storeError(err, in.StreamName)
	}
	if d, err := h.store.DescribeStream(in.StreamName); err == nil {
		h.enter(in.StreamName, d.Epoch, statusCreating)
	}
	return nil, nil
}

// DeleteStream

type deleteStreamInput struct {
	streamRef
	EnforceConsumerDeletion bool
}

func (h *Handler) deleteStream(ctx context.Context, req *awsproto.Request, in *deleteStreamInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	err = h.store.DeleteStreamWith(name, streamstore.DeleteOptions{EnforceConsumerDeletion: in.EnforceConsumerDeletion})
	if err != nil {
		return nil, h.storeError(err, name)
	}
	h.mu.Lock()
	delete(h.states, name)
	h.mu.Unlock()
	h.limits.forget(name)
	return nil, nil
}

// DescribeStream

type describeStreamInput struct {
	streamRef
	Limit                 *int
	ExclusiveStartShardId string
}

type streamDescription struct {
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails  `json:"StreamModeDetails"`
	Shards                  []shardOut         `json:"Shards"`
	HasMoreShards           bool               `json:"HasMoreShards"`
	RetentionPeriodHours    int                `json:"RetentionPeriodHours"`
	StreamCreationTimestamp awsproto.Timestamp `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics  `json:"EnhancedMonitoring"`
	EncryptionType          string             `json:"EncryptionType"`
	KeyId                   string             `json:"KeyId,omitempty"`
}

type describeStreamOutput struct {
	StreamDescription streamDescription `json:"StreamDescription"`
}

func (h *Handler) describeStream(ctx context.Context, req *awsproto.Request, in *describeStreamInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	d, status, err := h.describe(name)
	if err != nil {
		return nil, err
	}
	limit := 100
	if in.Limit != nil {
		limit = *in.Limit
	}
	shards := make([]shardOut, 0, min(limit, len(d.Shards)))
	more := false
	for _, sd := range d.Shards {
		if in.ExclusiveStartShardId != "" && !shardAfter(sd.ShardID, in.ExclusiveStartShardId) {
			continue
		}
		if len(shards) == limit {
			more = true
			break
		}
		shards = append(shards, shardOf(sd))
	}
	return describeStreamOutput{StreamDescription: streamDescription{
		StreamName:              d.Name,
		StreamARN:               h.streamARN(req.HTTP, d.Name),
		StreamStatus:            status,
		StreamModeDetails:       streamModeDetails{StreamMode: modeOf(d)},
		Shards:                  shards,
		HasMoreShards:           more,
		RetentionPeriodHours:    d.RetentionHours,
		StreamCreationTimestamp: awsproto.Timestamp(d.CreatedAt),
		EnhancedMonitoring:      monitoringOf(d),
		EncryptionType:          encryptionOf(d),
		KeyId:                   d.KeyID,
	}}, nil
}

// shardAfter says whether shard id comes after the exclusive start id, in the
// order of shard indexes (which shard ids' zero padding makes the text order).
func shardAfter(id, start string) bool {
	if idx, err := streamstore.ParseShardID(start); err == nil {
		start = streamstore.ShardID(idx)
	}
	return id > start
}

// DescribeStreamSummary

type describeStreamSummaryOutput struct {
	StreamDescriptionSummary struct {
		StreamName              string             `json:"StreamName"`
		StreamARN               string             `json:"StreamARN"`
		StreamStatus            string             `json:"StreamStatus"`
		StreamModeDetails       streamModeDetails  `json:"StreamModeDetails"`
		RetentionPeriodHours    int                `json:"RetentionPeriodHours"`
		StreamCreationTimestamp awsproto.Timestamp `json:"StreamCreationTimestamp"`
		EnhancedMonitoring      []enhancedMetrics  `json:"EnhancedMonitoring"`
		EncryptionType          string             `json:"EncryptionType"`
		KeyId                   string             `json:"KeyId,omitempty"`
		OpenShardCount          int                `json:"OpenShardCount"`
		ConsumerCount           int                `json:"ConsumerCount"`
	} `json:"StreamDescriptionSummary"`
}

func (h *Handler) describeStreamSummary(ctx context.Context, req *awsproto.Request, in *streamRef) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	d, status, err := h.describe(name)
	if err != nil {
		return nil, err
	}
	var out describeStreamSummaryOutput
	s := &out.StreamDescriptionSummary
	s.StreamName, s.StreamARN, s.StreamStatus = d.Name, h.streamARN(req.HTTP, d.Name), status
	s.StreamModeDetails = streamModeDetails{StreamMode: modeOf(d)}
	s.RetentionPeriodHours = d.RetentionHours
	s.StreamCreationTimestamp = awsproto.Timestamp(d.CreatedAt)
	s.EnhancedMonitoring = monitoringOf(d)
	s.EncryptionType, s.KeyId = encryptionOf(d), d.KeyID
	s.OpenShardCount, s.ConsumerCount = d.OpenShards, len(d.Consumers)
	return out, nil
}

// ListStreams

type listStreamsInput struct {
	Limit                    *int
	ExclusiveStartStreamName string
	NextToken                string
}

type streamSummary struct {
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails  `json:"StreamModeDetails"`
	StreamCreationTimestamp awsproto.Timestamp `json:"StreamCreationTimestamp"`
}

type listStreamsOutput struct {
	StreamNames     []string        `json:"StreamNames"`
	HasMoreStreams  bool            `json:"HasMoreStreams"`
	NextToken       string          `json:"NextToken,omitempty"`
	StreamSummaries []streamSummary `json:"StreamSummaries"`
}

// pageToken is what a NextToken holds, signed: where the next page starts and
// when the token was issued.
type pageToken struct {
	Op      string `json:"o"`
	Stream  string `json:"s,omitempty"`
	Epoch   int64  `json:"e,omitempty"`
	After   string `json:"a,omitempty"`
	Filter  string `json:"f,omitempty"`
	FilterT int64  `json:"ft,omitempty"` // ms
	Seq     int64  `json:"q,omitempty"`
	Issued  int64  `json:"i"` // ms
}

func (h *Handler) encodeToken(t pageToken) string {
	b, _ := json.Marshal(t) // a struct of strings and ints always encodes
	mac := hmac.New(sha256.New, h.key)
	mac.Write(b)
	return base64.RawURLEncoding.EncodeToString(append(b, mac.Sum(nil)[:16]...))
}

func (h *Handler) decodeToken(s, op string) (pageToken, error) {
	bad := awsproto.Errorf(errInvalidArgument, "Invalid NextToken.")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 17 {
		return pageToken{}, bad
	}
	body, sum := raw[:len(raw)-16], raw[len(raw)-16:]
	mac := hmac.New(sha256.New, h.key)
	mac.Write(body)
	if !hmac.Equal(sum, mac.Sum(nil)[:16]) {
		return pageToken{}, bad
	}
	var t pageToken
	if err := json.Unmarshal(body, &t); err != nil || t.Op != op {
		return pageToken{}, bad
	}
	return t, nil
}

func (h *Handler) listStreams(ctx context.Context, req *awsproto.Request, in *listStreamsInput) (any, error) {
	limit := 100
	if in.Limit != nil {
		limit = *in.Limit
	}
	after := in.ExclusiveStartStreamName
	if in.NextToken != "" {
		if after != "" {
			return nil, awsproto.Errorf(errInvalidArgument, "ExclusiveStartStreamName and NextToken cannot be provided together.")
		}
		t, err := h.decodeToken(in.NextToken, "ListStreams")
		if err != nil {
			return nil, err
		}
		after = t.After
	}
	out := listStreamsOutput{StreamNames: []string{}, StreamSummaries: []streamSummary{}}
	names := h.store.ListStreams()
	i := sort.SearchStrings(names, after)
	if after != "" && i < len(names) && names[i] == after {
		i++
	}
	for ; i < len(names); i++ {
		if len(out.StreamNames) == limit {
			out.HasMoreStreams = true
			break
		}
		d, status, err := h.describe(names[i])
		if err != nil {
			continue // deleted since the listing
		}
		out.StreamNames = append(out.StreamNames, d.Name)
		out.StreamSummaries = append(out.StreamSummaries, streamSummary{
			StreamName: d.Name, StreamARN: h.streamARN(req.HTTP, d.Name), StreamStatus: status,
			StreamModeDetails: streamModeDetails{StreamMode: modeOf(d)}, StreamCreationTimestamp: awsproto.Timestamp(d.CreatedAt),
		})
	}
	if out.HasMoreStreams {
		out.NextToken = h.encodeToken(pageToken{Op: "ListStreams", After: out.StreamNames[len(out.StreamNames)-1], Issued: h.opts.Now().UnixMilli()})
	}
	return out, nil
}

// ListShards

type shardFilter struct {
	Type      string
	ShardId   string
	Timestamp *time.Time
}

type listShardsInput struct {
	streamRef
	NextToken               string
	ExclusiveStartShardId   string
	MaxResults              *int
	StreamCreationTimestamp *time.Time
	ShardFilter             *shardFilter
}

type listShardsOutput struct {
	Shards    []shardOut `json:"Shards"`
	NextToken string     `json:"NextToken,omitempty"`
}

func (h *Handler) listShards(ctx context.Context, req *awsproto.Request, in *listShardsInput) (any, error) {
	var (
		name   string
		epoch  int64
		after  = in.ExclusiveStartShardId
		filter = in.ShardFilter
	)
	if in.NextToken != "" {
		if in.StreamName != "" || in.StreamARN != "" {
			return nil, awsproto.Errorf(errInvalidArgument, "NextToken and StreamName/StreamARN cannot be provided together.")
		}
		if in.ExclusiveStartShardId != "" || in.StreamCreationTimestamp != nil {
			return nil, awsproto.Errorf(errInvalidArgument, "NextToken cannot be provided together with ExclusiveStartShardId or StreamCreationTimestamp.")
		}
		t, err := h.decodeToken(in.NextToken, "ListShards")
		if err != nil {
			return nil, err
		}
		now := h.opts.Now()
		if issued := time.UnixMilli(t.Issued); now.Sub(issued) > NextTokenLifetime {
			return nil, awsproto.Errorf(errExpiredNextToken, "The NextToken has expired: it was issued at %s, more than %d seconds before %s.",
				issued.UTC().Format(time.RFC3339), int(NextTokenLifetime.Seconds()), now.UTC().Format(time.RFC3339))
		}
		name, epoch, after = t.Stream, t.Epoch, t.After
		if t.Filter != "" && filter == nil {
			filter = &shardFilter{Type: t.Filter}
			if t.FilterT != 0 {
				ft := time.UnixMilli(t.FilterT)
				filter.Timestamp = &ft
			}
		}
	} else {
		var err error
		if name, err = h.resolve(in.StreamName, in.StreamARN); err != nil {
			return nil, err
		}
	}
	d, _, err := h.describe(name)
	if err != nil {
		return nil, err
	}
	if epoch != 0 && d.Epoch != epoch {
		return nil, h.notFound(name) // deleted and created again since the token
	}
	if in.StreamCreationTimestamp != nil && !in.StreamCreationTimestamp.Truncate(time.Second).Equal(d.CreatedAt.Truncate(time.Second)) {
		return nil, h.notFound(name)
	}
	keep, err := h.filterShards(d, filter)
	if err != nil {
		return nil, err
	}
	limit := 1000
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	out := listShardsOutput{Shards: []shardOut{}}
	more := false
	for _, sd := range d.Shards {
		if after != "" && !shardAfter(sd.ShardID, after) || !keep(sd) {
			continue
		}
		if len(out.Shards) == limit {
			more = true
			break
		}
		out.Shards = append(out.Shards, shardOf(sd))
	}
	if more {
		t := pageToken{Op: "ListShards", Stream: name, Epoch: d.Epoch, After: out.Shards[len(out.Shards)-1].ShardId, Issued: h.opts.Now().UnixMilli()}
		if filter != nil {
			t.Filter = filter.Type
			if filter.Timestamp != nil {
				t.FilterT = filter.Timestamp.UnixMilli()
			}
		}
		out.NextToken = h.encodeToken(t)
	}
	return out, nil
}

// filterShards returns the test of a ShardFilter.
func (h *Handler) filterShards(d streamstore.StreamDescription, f *shardFilter) (func(streamstore.ShardDescription) bool, error) {
	all := func(streamstore.ShardDescription) bool { return true }
	if f == nil {
		return all, nil
	}
	present := map[string]bool{}
	for _, sd := range d.Shards {
		present[sd.ShardID] = true
	}
	// A shard is open at the trim horizon when no parent of it is still kept.
	atHorizon := func(sd streamstore.ShardDescription) bool {
		return !present[sd.ParentShardID] && !present[sd.AdjacentParentShardID]
	}
	needTime := func() (time.Time, error) {
		if f.Timestamp == nil {
			return time.Time{}, awsproto.Errorf(errInvalidArgument, "ShardFilter type %s requires a Timestamp.", f.Type)
		}
		return *f.Timestamp, nil
	}
	switch f.Type {
	case "FROM_TRIM_HORIZON":
		return all, nil
	case "AT_TRIM_HORIZON":
		return atHorizon, nil
	case "AT_LATEST":
		return func(sd streamstore.ShardDescription) bool { return sd.Open }, nil
	case "AFTER_SHARD_ID":
		if f.ShardId == "" {
			return nil, awsproto.Errorf(errInvalidArgument, "ShardFilter type AFTER_SHARD_ID requires a ShardId.")
		}
		return func(sd streamstore.ShardDescription) bool { return shardAfter(sd.ShardID, f.ShardId) }, nil
	case "AT_TIMESTAMP":
		t, err := needTime()
		if err != nil {
			return nil, err
		}
		return func(sd streamstore.ShardDescription) bool {
			started := !sd.CreatedAt.After(t) || atHorizon(sd)
			return started && (sd.Open || !sd.ClosedAt.Before(t))
		}, nil
	case "FROM_TIMESTAMP":
		t, err := needTime()
		if err != nil {
			return nil, err
		}
		return func(sd streamstore.ShardDescription) bool { return sd.Open || !sd.ClosedAt.Before(t) }, nil
	}
	return nil, awsproto.Errorf(errInvalidArgument, "ShardFilter type %s is not one of AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP.", f.Type)
}

// Retention

type retentionInput struct {
	streamRef
	RetentionPeriodHours int
}

func (h *Handler) increaseRetention(ctx context.Context, req *awsproto.Request, in *retentionInput) (any, error) {
	return h.setRetention(in, true)
}

func (h *Handler) decreaseRetention(ctx context.Context, req *awsproto.Request, in *retentionInput) (any, error) {
	return h.setRetention(in, false)
}

func (h *Handler) setRetention(in *retentionInput, increase bool) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	hours := in.RetentionPeriodHours
	if hours < streamstore.MinRetentionHours {
		return nil, awsproto.Errorf(errInvalidArgument, "Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", streamstore.MinRetentionHours, hours)
	}
	if hours > streamstore.MaxRetentionHours {
		return nil, awsproto.Errorf(errInvalidArgument, "Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", streamstore.MaxRetentionHours, hours)
	}
	d, err := h.requireActive(name)
	if err != nil {
		return nil, err
	}
	if increase && hours < d.RetentionHours {
		return nil, awsproto.Errorf(errInvalidArgument, "Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", hours, name, d.RetentionHours)
	}
	if !increase && hours > d.RetentionHours {
		return nil, awsproto.Errorf(errInvalidArgument, "Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", hours, name, d.RetentionHours)
	}
	return nil, h.storeError(h.store.SetRetention(name, hours), name)
}

// Resharding

type splitShardInput struct {
	streamRef
	ShardToSplit       string
	NewStartingHashKey string
}

// openShard returns the described shard id names, refusing closed ones as Kinesis does.
func (h *Handler) openShard(d streamstore.StreamDescription, id string) (streamstore.ShardDescription, error) {
	if idx, err := streamstore.ParseShardID(id); err == nil {
		for _, sd := range d.Shards {
			if sd.ShardID == streamstore.ShardID(idx) {
				if !sd.Open {
					return sd, awsproto.Errorf(errInUse, "Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.", sd.ShardID, d.Name, h.opts.AccountID)
				}
				return sd, nil
			}
		}
	}
	return streamstore.ShardDescription{}, awsproto.Errorf(errNotFound, "Could not find shard %s in stream %s under account %s.", id, d.Name, h.opts.AccountID)
}

func (h *Handler) splitShard(ctx context.Context, req *awsproto.Request, in *splitShardInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	d, err := h.requireActive(name)
	if err != nil {
		return nil, err
	}
	sd, err := h.openShard(d, in.ShardToSplit)
	if err != nil {
		return nil, err
	}
	if d.OpenShards+1 > h.opts.ShardLimit {
		return nil, h.shardLimitError(req, 1)
	}
	if err := h.store.SplitShard(name, sd.ShardID, in.NewStartingHashKey); err != nil {
		return nil, h.storeError(err, name)
	}
	h.enter(name, d.Epoch, statusUpdating)
	return nil, nil
}

func (h *Handler) shardLimitError(req *awsproto.Request, extra int) error {
	return awsproto.Errorf(errLimitExceeded,
		"This request would exceed the shard limit for the account %s in %s. Current Limit: %d. Number of additional shards that would have resulted in the limit being exceeded: %d.",
		h.opts.AccountID, h.region(req.HTTP), h.opts.ShardLimit, extra)
}

type mergeShardsInput struct {
	streamRef
	ShardToMerge         string
	AdjacentShardToMerge string
}

func (h *Handler) mergeShards(ctx context.Context, req *awsproto.Request, in *mergeShardsInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	d, err := h.requireActive(name)
	if err != nil {
		return nil, err
	}
	a, err := h.openShard(d, in.ShardToMerge)
	if err != nil {
		return nil, err
	}
	b, err := h.openShard(d, in.AdjacentShardToMerge)
	if err != nil {
		return nil, err
	}
	if err := h.store.MergeShards(name, a.ShardID, b.ShardID); err != nil {
		return nil, h.storeError(err, name)
	}
	h.enter(name, d.Epoch, statusUpdating)
	return nil, nil
}

type updateShardCountInput struct {
	streamRef
	TargetShardCount int
	ScalingType      string
}

type updateShardCountOutput struct {
	StreamName        string `json:"StreamName"`
	StreamARN         string `json:"StreamARN"`
	CurrentShardCount int    `json:"CurrentShardCount"`
	TargetShardCount  int    `json:"TargetShardCount"`
}

func (h *Handler) updateShardCount(ctx context.Context, req *awsproto.Request, in *updateShardCountInput) (any, error) {
	name, err := h.resolve(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	d, err := h.requireActive(name)
	if err != nil {
		return nil, err
	}
	cur, target := d.OpenShards, in.TargetShardCount
	switch {
	case target > 2*cur:
		return nil, awsproto.Errorf(errLimitExceeded, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %d Target shard count: %d", cur, target)
	case 2*target < cur:
		return nil, awsproto.Errorf(errLimitExceeded, "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %d Target shard count: %d", cur, target)
	case target > h.opts.ShardLimit:
		return nil, h.shardLimitError(req, target-cur)
	}
	if err := h.store.UpdateShardCount(name, target); err != nil {
		return nil, h.storeError(err, name)
	}
	h.enter(name, d.Epoch, statusUpdating)
	return updateShardCountOutput{StreamName: name, StreamARN: h.streamARN(req.HTTP, name), CurrentShardCount: cur, TargetShardCount: target}, nil
}
