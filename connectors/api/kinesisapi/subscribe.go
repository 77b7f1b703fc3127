package kinesisapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream/eventstreamapi"

	"github.com/eddy-streams/eddy/connectors/api/awsproto"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// SubscribeToShard (enhanced fan-out): the response is an AWS event stream
// (application/vnd.amazon.eventstream): an initial-response event, then a
// SubscribeToShardEvent whenever records arrive (and at least every
// subscriptionHeartbeat), each with the records, a ContinuationSequenceNumber
// and MillisBehindLatest; at the end of a closed shard one last event lists
// its ChildShards. A subscription lasts SubscriptionLifetime, as in Kinesis;
// the client then subscribes again from its continuation. A consumer has at
// most one subscription per shard at a time (ResourceInUseException).

// SubscriptionLifetime is how long a SubscribeToShard response streams.
const SubscriptionLifetime = 5 * time.Minute

// subscriptionHeartbeat bounds the time between events of an idle shard;
// subscriptionPoll is how often an idle shard is looked at.
const (
	subscriptionHeartbeat = time.Second
	subscriptionPoll      = 100 * time.Millisecond
)

type subscribeInput struct {
	ConsumerARN      string
	ShardId          string
	StartingPosition struct {
		Type           string
		SequenceNumber string
		Timestamp      *time.Time
	}
}

// subscriptions are the live ones, by consumer ARN and shard.
type subscriptions struct {
	mu   sync.Mutex
	live map[string]bool
}

func (s *subscriptions) take(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live == nil {
		s.live = map[string]bool{}
	}
	if s.live[key] {
		return false
	}
	s.live[key] = true
	return true
}

func (s *subscriptions) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.live, key)
}

func (h *Handler) subscribeToShard(ctx context.Context, req *awsproto.Request, in *subscribeInput) (any, error) {
	stream, c, err := h.consumer(&consumerRefInput{ConsumerARN: in.ConsumerARN})
	if err != nil {
		return nil, err
	}
	if c.Status != streamstore.ConsumerActive {
		return nil, awsproto.Errorf(errInUse, "Consumer %s is not ACTIVE, instead in state %s.", in.ConsumerARN, c.Status)
	}
	if err := h.requireReadable(stream); err != nil {
		return nil, err
	}
	sp := in.StartingPosition
	cur, err := h.position(stream, in.ShardId, sp.Type, sp.SequenceNumber, sp.Timestamp, "StartingPosition.SequenceNumber", "StartingPosition.Type")
	if err != nil {
		return nil, err
	}
	key := in.ConsumerARN + "\x00" + cur.ShardID
	if !h.subs.take(key) {
		return nil, awsproto.Errorf(errInUse, "Another active subscription exists for this consumer: %s, shard %s.", in.ConsumerARN, cur.ShardID)
	}
	return &subscription{h: h, stream: stream, cursor: cur, key: key}, nil
}

// subscription streams one shard to one consumer.
type subscription struct {
	h      *Handler
	stream string
	cursor streamstore.Cursor
	key    string
}

// subscribeEvent is the payload of a SubscribeToShardEvent.
type subscribeEvent struct {
	Records                    []recordOut     `json:"Records"`
	ContinuationSequenceNumber *string         `json:"ContinuationSequenceNumber"`
	MillisBehindLatest         int64           `json:"MillisBehindLatest"`
	ChildShards                []childShardOut `json:"ChildShards,omitempty"`
}

func (s *subscription) Stream(w http.ResponseWriter, r *http.Request, encode func(any) ([]byte, error)) {
	defer s.h.subs.release(s.key)
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := eventstream.NewEncoder()
	contentType := r.Header.Get("Content-Type")
	if contentType == "" {
		contentType = awsproto.ContentTypeJSON
	}
	send := func(eventType string, v any) bool {
		payload, err := encode(v)
		if err != nil {
			s.h.opts.Logger.Error("encode a SubscribeToShard event", "err", err)
			return false
		}
		var msg eventstream.Message
		msg.Headers.Set(eventstreamapi.MessageTypeHeader, eventstream.StringValue(eventstreamapi.EventMessageType))
		msg.Headers.Set(eventstreamapi.EventTypeHeader, eventstream.StringValue(eventType))
		msg.Headers.Set(eventstreamapi.ContentTypeHeader, eventstream.StringValue(contentType))
		msg.Payload = payload
		if err := enc.Encode(w, msg); err != nil {
			return false // the client went away
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	fail := func(typ, message string) {
		var msg eventstream.Message
		msg.Headers.Set(eventstreamapi.MessageTypeHeader, eventstream.StringValue(eventstreamapi.ExceptionMessageType))
		msg.Headers.Set(eventstreamapi.ExceptionTypeHeader, eventstream.StringValue(typ))
		msg.Headers.Set(eventstreamapi.ContentTypeHeader, eventstream.StringValue(contentType))
		msg.Payload, _ = encode(map[string]string{"message": message})
		_ = enc.Encode(w, msg)
		if flusher != nil {
			flusher.Flush()
		}
	}
	if !send("initial-response", struct{}{}) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), SubscriptionLifetime)
	defer cancel()
	var continuation *string
	lastEvent := time.Now()
	for {
		res, err := s.h.store.GetRecords(ctx, s.cursor, streamstore.MaxGetRecords)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, streamstore.ErrNotFound) {
				fail(errNotFound, "Stream "+s.stream+" under account "+s.h.opts.AccountID+" not found.")
				return
			}
			fail(awsproto.ErrInternalFailure, "Internal service failure.")
			return
		}
		ev := subscribeEvent{Records: make([]recordOut, len(res.Records)), MillisBehindLatest: res.MillisBehindLatest}
		for i, rec := range res.Records {
			ev.Records[i] = recordOut{SequenceNumber: rec.SequenceNumber.String(), ApproximateArrivalTimestamp: awsproto.Timestamp(rec.ArrivalTime),
				Data: rec.Data, PartitionKey: rec.PartitionKey}
		}
		if n := len(ev.Records); n > 0 {
			continuation = &ev.Records[n-1].SequenceNumber
		}
		if res.ShardEnd {
			// The last event: no continuation, the shards that follow.
			for _, c := range res.ChildShards {
				ev.ChildShards = append(ev.ChildShards, childShardOut{ShardId: c.ShardID, ParentShards: c.ParentShards,
					HashKeyRange: hashKeyRange{StartingHashKey: c.HashKeyRange.Start.String(), EndingHashKey: c.HashKeyRange.End.String()}})
			}
			send("SubscribeToShardEvent", ev)
			return
		}
		s.cursor = res.Next
		if continuation == nil {
			// Nothing read yet: continue from where the subscription started.
			if seq, ok := s.h.seqBefore(s.cursor); ok {
				continuation = &seq
			}
		}
		ev.ContinuationSequenceNumber = continuation
		if len(ev.Records) > 0 || time.Since(lastEvent) >= subscriptionHeartbeat {
			if !send("SubscribeToShardEvent", ev) {
				return
			}
			lastEvent = time.Now()
		}
		if len(ev.Records) == 0 {
			t := time.NewTimer(subscriptionPoll)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// seqBefore is the sequence number of the record before a cursor's, when
// there is one, so that AFTER_SEQUENCE_NUMBER from it resumes at the cursor.
func (h *Handler) seqBefore(c streamstore.Cursor) (string, bool) {
	if c.Ordinal == 0 {
		return "", false
	}
	prev := c
	prev.Ordinal--
	res, err := h.store.GetRecords(context.Background(), prev, 1)
	if err != nil || len(res.Records) == 0 {
		return "", false
	}
	return res.Records[0].SequenceNumber.String(), true
}
