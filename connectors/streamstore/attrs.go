package streamstore

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Stream attributes: what Kinesis keeps about a stream besides its shards and
// retention, and reports in DescribeStream: the capacity mode, tags, enhanced
// fan-out consumers, server-side encryption and enhanced (shard-level)
// monitoring. The store records them; it does not act on them (nothing is
// encrypted, no metric is emitted, an ON_DEMAND stream does not scale itself).
//
// They live in stream.json with the shards, so every change is one atomic
// metadata write: it survives a crash whole or not at all, and other processes
// see it when they Refresh. Changing an attribute is a write to the stream: the
// store becomes the stream's writer first (see Own), as for a retention change,
// and fails with ErrLocked while another Store writes it. The change holds the
// stream's write lock for one metadata write, as a retention change does, so
// puts wait for it as they wait for a reshard.

// Capacity modes (StreamModeDetails.StreamMode).
const (
	ModeProvisioned = "PROVISIONED"
	ModeOnDemand    = "ON_DEMAND"
)

// Encryption types (EncryptionType).
const (
	EncryptionNone = "NONE"
	EncryptionKMS  = "KMS"
)

// ConsumerActive is the status of every registered consumer: the store registers
// and deregisters at once (the Kinesis API layer may report CREATING and
// DELETING for a while, as Kinesis does).
const ConsumerActive = "ACTIVE"

// MetricAll, given to EnableEnhancedMonitoring or DisableEnhancedMonitoring,
// stands for every metric of AllMetrics.
const MetricAll = "ALL"

// AllMetrics are the shard-level metrics of enhanced monitoring, in the order of
// Kinesis' MetricsName enum, which is the order the store reports them in.
var AllMetrics = []string{
	"IncomingBytes",
	"IncomingRecords",
	"OutgoingBytes",
	"OutgoingRecords",
	"WriteProvisionedThroughputExceeded",
	"ReadProvisionedThroughputExceeded",
	"IteratorAgeMilliseconds",
}

// Limits of Kinesis Data Streams on stream attributes. Tag limits are those of
// the Kinesis API reference and its service model (kinesis-2013-12-02: TagKey
// 1..128, TagValue 0..256, TagMap at most 200 entries, TagKeyList at most 50)
// and of AddTagsToStream and TagResource ("You can assign up to 50 tags"); the
// consumer limit is RegisterStreamConsumer's (20 per provisioned or on-demand
// standard stream).
const (
	MaxTagsPerStream      = 50
	MaxTagsPerCall        = 200 // tags one AddTags or CreateStreamWith may name
	MaxTagKeysPerCall     = 50  // keys one RemoveTags may name
	MaxTagKeyChars        = 128
	MaxTagValueChars      = 256
	MaxConsumersPerStream = 20
	MaxConsumerNameChars  = 128
	MaxKeyIDChars         = 2048
	// DefaultOnDemandShards is how many shards an ON_DEMAND stream starts with
	// when CreateStreamWith is given none, as Kinesis starts one (4 MiB/s of writes).
	DefaultOnDemandShards = 4
)

// StreamOptions describe a stream to create.
type StreamOptions struct {
	// Shards is the number of shards, 1 to Options.MaxShardsPerStream. An
	// ON_DEMAND stream given 0 gets DefaultOnDemandShards.
	Shards int
	// Mode is ModeProvisioned (also "") or ModeOnDemand.
	Mode string
	// Tags are the stream's first tags (at most MaxTagsPerStream).
	Tags map[string]string
}

// DeleteOptions say how DeleteStreamWith treats a stream that has consumers.
type DeleteOptions struct {
	// EnforceConsumerDeletion deletes a stream that has registered consumers,
	// with them; without it such a delete fails with ErrInUse, as Kinesis'
	// DeleteStream does unless EnforceConsumerDeletion is true.
	EnforceConsumerDeletion bool
}

// Consumer is an enhanced fan-out consumer registered with a stream.
type Consumer struct {
	Name      string
	Status    string    // ConsumerActive
	CreatedAt time.Time // ConsumerCreationTimestamp
	// ARNSuffix is the number that ends the consumer's ARN (see ARN): the Unix
	// second of its registration, raised when needed so that no two consumers
	// the stream ever had share one, even under one name in one second.
	ARNSuffix int64
	Tags      map[string]string // nil when none
}

// ARN returns the consumer's ARN given its stream's, in Kinesis' form:
// STREAM_ARN/consumer/NAME:ARN_SUFFIX, e.g.
// arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/billing:1767225600.
func (c Consumer) ARN(streamARN string) string {
	return streamARN + "/consumer/" + c.Name + ":" + strconv.FormatInt(c.ARNSuffix, 10)
}

func (m consumerMeta) consumer() Consumer {
	c := Consumer{Name: m.Name, Status: ConsumerActive, CreatedAt: m.CreatedAt, ARNSuffix: m.ARNSuffix}
	if len(m.Tags) > 0 {
		c.Tags = maps.Clone(m.Tags)
	}
	return c
}

// CreateStreamWith creates a stream as CreateStream does, with a capacity mode
// and tags. Bad options fail with ErrInvalidArgument and create nothing.
func (s *Store) CreateStreamWith(name string, o StreamOptions) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := ValidateStreamName(name); err != nil {
		return err
	}
	mode, err := checkMode(o.Mode)
	if err != nil {
		return err
	}
	if mode == ModeOnDemand && o.Shards == 0 {
		o.Shards = min(DefaultOnDemandShards, s.opts.MaxShardsPerStream)
	}
	if o.Shards < 1 || o.Shards > s.opts.MaxShardsPerStream {
		return errorf(ErrInvalidArgument, "shard count %d is out of range; a stream has 1 to %d shards", o.Shards, s.opts.MaxShardsPerStream)
	}
	var tags map[string]string
	if len(o.Tags) > 0 {
		what := "create stream " + name
		if err := checkTags(what, o.Tags); err != nil {
			return err
		}
		if len(o.Tags) > MaxTagsPerStream {
			return tooManyTags(what, "stream", len(o.Tags))
		}
		tags = maps.Clone(o.Tags)
	}
	return s.createStream(name, o.Shards, func(m *streamMeta) {
		if mode == ModeOnDemand {
			m.Mode = ModeOnDemand
		}
		m.Tags = tags
	})
}

// AddTags adds tags to a stream, replacing the values of keys it has (Kinesis'
// AddTagsToStream and TagResource). A stream has at most MaxTagsPerStream tags;
// a call that would pass that, or that names a bad key or value, fails with
// ErrInvalidArgument, as Kinesis answers InvalidArgumentException, and changes
// nothing.
func (s *Store) AddTags(stream string, tags map[string]string) error {
	what := "add tags to stream " + stream
	if err := checkTagsCall(what, tags); err != nil {
		return err
	}
	return s.updateMeta(stream, "add tags to", func(m *streamMeta) (bool, error) {
		next, err := mergeTags(what, "stream", m.Tags, tags)
		if err != nil {
			return false, err
		}
		m.Tags = next
		return true, nil
	})
}

// RemoveTags removes the tags of the given keys from a stream (Kinesis'
// RemoveTagsFromStream and UntagResource); keys it does not have are ignored.
// At most MaxTagKeysPerCall keys per call.
func (s *Store) RemoveTags(stream string, keys []string) error {
	what := "remove tags from stream " + stream
	if err := checkTagKeysCall(what, keys); err != nil {
		return err
	}
	return s.updateMeta(stream, "remove tags from", func(m *streamMeta) (bool, error) {
		next, changed := withoutTags(m.Tags, keys)
		m.Tags = next
		return changed, nil
	})
}

// Tags returns a stream's tags (an empty map when it has none).
func (s *Store) Tags(stream string) (map[string]string, error) {
	var tags map[string]string
	err := s.readMeta(stream, func(m *streamMeta) error {
		tags = maps.Clone(m.Tags)
		return nil
	})
	if tags == nil && err == nil {
		tags = map[string]string{}
	}
	return tags, err
}

// SetStreamMode records a stream's capacity mode, ModeProvisioned or
// ModeOnDemand (Kinesis' UpdateStreamMode). The shards stay as they are: an
// ON_DEMAND stream reports the shards the store has.
func (s *Store) SetStreamMode(stream, mode string) error {
	mode, err := checkMode(mode)
	if err != nil {
		return err
	}
	stored := ""
	if mode == ModeOnDemand {
		stored = ModeOnDemand
	}
	return s.updateMeta(stream, "set the mode of", func(m *streamMeta) (bool, error) {
		if m.Mode == stored {
			return false, nil
		}
		m.Mode = stored
		return true, nil
	})
}

// SetEncryption records a stream's server-side encryption: EncryptionKMS with
// the KMS key's id, ARN or alias (1 to MaxKeyIDChars characters), as
// StartStreamEncryption does, or EncryptionNone, as StopStreamEncryption does
// (the key id is then dropped). Nothing is encrypted.
func (s *Store) SetEncryption(stream, encryptionType, keyID string) error {
	switch encryptionType {
	case EncryptionKMS:
		if n := utf8.RuneCountInString(keyID); n < 1 || n > MaxKeyIDChars {
			return errorf(ErrInvalidArgument, "KMS key id of stream %s is %d characters; it must be 1 to %d", stream, n, MaxKeyIDChars)
		}
	case EncryptionNone:
		keyID = ""
	default:
		return errorf(ErrInvalidArgument, "encryption type %q of stream %s is not one of %s, %s", encryptionType, stream, EncryptionKMS, EncryptionNone)
	}
	stored := encryptionType
	if stored == EncryptionNone {
		stored = ""
	}
	return s.updateMeta(stream, "set the encryption of", func(m *streamMeta) (bool, error) {
		if m.EncryptionType == stored && m.KeyID == keyID {
			return false, nil
		}
		m.EncryptionType, m.KeyID = stored, keyID
		return true, nil
	})
}

// EnableEnhancedMonitoring enables shard-level metrics of a stream (names of
// AllMetrics, or MetricAll for all of them) and returns the metrics enabled
// before and after the call, as EnableEnhancedMonitoring's
// CurrentShardLevelMetrics and DesiredShardLevelMetrics, in AllMetrics' order.
func (s *Store) EnableEnhancedMonitoring(stream string, metrics []string) (current, desired []string, err error) {
	return s.changeMonitoring(stream, metrics, true)
}

// DisableEnhancedMonitoring disables shard-level metrics of a stream, as
// EnableEnhancedMonitoring enables them.
func (s *Store) DisableEnhancedMonitoring(stream string, metrics []string) (current, desired []string, err error) {
	return s.changeMonitoring(stream, metrics, false)
}

func (s *Store) changeMonitoring(stream string, metrics []string, enable bool) (current, desired []string, err error) {
	set, err := checkMetrics(stream, metrics)
	if err != nil {
		return nil, nil, err
	}
	verb := "disable enhanced monitoring of"
	if enable {
		verb = "enable enhanced monitoring of"
	}
	err = s.updateMeta(stream, verb, func(m *streamMeta) (bool, error) {
		on := map[string]bool{}
		for _, name := range m.EnhancedMetrics {
			on[name] = true
		}
		for name := range set {
			on[name] = enable
		}
		var next []string
		for _, name := range AllMetrics {
			if on[name] {
				next = append(next, name)
			}
		}
		current, desired = slices.Clone(m.EnhancedMetrics), next
		if slices.Equal(m.EnhancedMetrics, next) {
			return false, nil
		}
		m.EnhancedMetrics = next
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if current == nil {
		current = []string{}
	}
	if desired == nil {
		desired = []string{}
	}
	return current, desired, nil
}

// RegisterConsumer registers an enhanced fan-out consumer with a stream (Kinesis'
// RegisterStreamConsumer). Its name is 1 to MaxConsumerNameChars characters of
// [a-zA-Z0-9_.-]. A name the stream has fails with ErrInUse; a stream has at
// most MaxConsumersPerStream consumers (ErrLimitExceeded).
func (s *Store) RegisterConsumer(stream, name string) (Consumer, error) {
	return s.RegisterConsumerWith(stream, name, nil)
}

// RegisterConsumerWith registers a consumer with tags, as RegisterStreamConsumer
// does when given Tags.
func (s *Store) RegisterConsumerWith(stream, name string, tags map[string]string) (Consumer, error) {
	if err := validateConsumerName(name); err != nil {
		return Consumer{}, err
	}
	what := "register consumer " + name + " with stream " + stream
	if len(tags) > 0 {
		if err := checkTags(what, tags); err != nil {
			return Consumer{}, err
		}
		if len(tags) > MaxTagsPerStream {
			return Consumer{}, tooManyTags(what, "consumer", len(tags))
		}
	}
	var c Consumer
	err := s.updateMeta(stream, "register a consumer with", func(m *streamMeta) (bool, error) {
		if slices.ContainsFunc(m.Consumers, func(c consumerMeta) bool { return c.Name == name }) {
			return false, errorf(ErrInUse, "Consumer %s under stream %s already exists.", name, stream)
		}
		if len(m.Consumers) >= MaxConsumersPerStream {
			return false, errorf(ErrLimitExceeded, "Stream %s already has %d registered consumers; a stream can have at most %d.", stream, len(m.Consumers), MaxConsumersPerStream)
		}
		now := s.now().UTC()
		cm := consumerMeta{Name: name, CreatedAt: now, ARNSuffix: max(now.Unix(), m.LastConsumerARN+1)}
		if len(tags) > 0 {
			cm.Tags = maps.Clone(tags)
		}
		m.Consumers = append(slices.Clip(m.Consumers), cm)
		m.LastConsumerARN = cm.ARNSuffix
		c = cm.consumer()
		return true, nil
	})
	return c, err
}

// DeregisterConsumer removes a consumer from a stream (Kinesis'
// DeregisterStreamConsumer); ErrNotFound when the stream has no consumer of
// that name.
func (s *Store) DeregisterConsumer(stream, name string) error {
	if err := validateConsumerName(name); err != nil {
		return err
	}
	return s.updateMeta(stream, "deregister a consumer of", func(m *streamMeta) (bool, error) {
		i := slices.IndexFunc(m.Consumers, func(c consumerMeta) bool { return c.Name == name })
		if i < 0 {
			return false, consumerNotFound(stream, name)
		}
		m.Consumers = slices.Delete(slices.Clone(m.Consumers), i, i+1)
		return true, nil
	})
}

// DescribeConsumer returns a consumer of a stream; ErrNotFound when the stream
// has no consumer of that name.
func (s *Store) DescribeConsumer(stream, name string) (Consumer, error) {
	if err := validateConsumerName(name); err != nil {
		return Consumer{}, err
	}
	var c Consumer
	err := s.readMeta(stream, func(m *streamMeta) error {
		i := slices.IndexFunc(m.Consumers, func(c consumerMeta) bool { return c.Name == name })
		if i < 0 {
			return consumerNotFound(stream, name)
		}
		c = m.Consumers[i].consumer()
		return nil
	})
	return c, err
}

// ListConsumers returns a stream's consumers in registration order.
func (s *Store) ListConsumers(stream string) ([]Consumer, error) {
	var out []Consumer
	err := s.readMeta(stream, func(m *streamMeta) error {
		out = consumers(m)
		return nil
	})
	return out, err
}

func consumers(m *streamMeta) []Consumer {
	out := make([]Consumer, 0, len(m.Consumers))
	for _, cm := range m.Consumers {
		out = append(out, cm.consumer())
	}
	return out
}

// AddConsumerTags adds tags to a consumer of a stream (Kinesis' TagResource with
// a consumer's ARN), with the rules of AddTags.
func (s *Store) AddConsumerTags(stream, consumer string, tags map[string]string) error {
	if err := validateConsumerName(consumer); err != nil {
		return err
	}
	what := "add tags to consumer " + consumer + " of stream " + stream
	if err := checkTagsCall(what, tags); err != nil {
		return err
	}
	return s.updateConsumer(stream, consumer, "tag a consumer of", func(c *consumerMeta) (bool, error) {
		next, err := mergeTags(what, "consumer", c.Tags, tags)
		if err != nil {
			return false, err
		}
		c.Tags = next
		return true, nil
	})
}

// RemoveConsumerTags removes tags from a consumer of a stream (Kinesis'
// UntagResource with a consumer's ARN), with the rules of RemoveTags.
func (s *Store) RemoveConsumerTags(stream, consumer string, keys []string) error {
	if err := validateConsumerName(consumer); err != nil {
		return err
	}
	if err := checkTagKeysCall("remove tags from consumer "+consumer+" of stream "+stream, keys); err != nil {
		return err
	}
	return s.updateConsumer(stream, consumer, "untag a consumer of", func(c *consumerMeta) (bool, error) {
		next, changed := withoutTags(c.Tags, keys)
		c.Tags = next
		return changed, nil
	})
}

func (s *Store) updateConsumer(stream, name, verb string, edit func(c *consumerMeta) (bool, error)) error {
	return s.updateMeta(stream, verb, func(m *streamMeta) (bool, error) {
		i := slices.IndexFunc(m.Consumers, func(c consumerMeta) bool { return c.Name == name })
		if i < 0 {
			return false, consumerNotFound(stream, name)
		}
		c := m.Consumers[i]
		changed, err := edit(&c)
		if err != nil || !changed {
			return false, err
		}
		m.Consumers = slices.Clone(m.Consumers)
		m.Consumers[i] = c
		return true, nil
	})
}

func consumerNotFound(stream, name string) error {
	return errorf(ErrNotFound, "Consumer %s under stream %s not found.", name, stream)
}

// updateMeta makes the store the stream's writer, then, under the stream's write
// lock, lets edit change a copy of its metadata and publishes the copy with one
// atomic write of stream.json. edit reports whether it changed anything; when it
// did not, or failed, nothing is written. edit must replace, not modify, the maps
// and slices of the copy, which it shares with the published metadata.
func (s *Store) updateMeta(name, verb string, edit func(m *streamMeta) (bool, error)) error {
	if err := s.writable(); err != nil {
		return err
	}
	st, err := s.writeStream(name)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.writableLocked(s); err != nil {
		return err
	}
	next := *st.meta
	changed, err := edit(&next)
	if err != nil || !changed {
		return err
	}
	if err := writeMeta(st.dir, &next); err != nil {
		return fmt.Errorf("%s stream %s: %w", verb, name, err)
	}
	st.meta = &next
	return nil
}

// readMeta runs read on a stream's metadata under its read lock.
func (s *Store) readMeta(name string, read func(m *streamMeta) error) error {
	st, err := s.stream(name)
	if err != nil {
		return err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.deleted {
		return errorf(ErrNotFound, "stream %q does not exist in %s", name, s.dir)
	}
	return read(st.meta)
}

// writableLocked says whether a stream this store owns may still be changed:
// not deleted, and its store not closed (Close releases the stream's LOCK, after
// which another process may write it). The caller holds st.mu.
func (st *stream) writableLocked(s *Store) error {
	if st.deleted {
		return errorf(ErrNotFound, "stream %q does not exist in %s", st.name, s.dir)
	}
	if st.closed {
		return ErrClosed
	}
	return nil
}

func checkMode(mode string) (string, error) {
	switch mode {
	case "", ModeProvisioned:
		return ModeProvisioned, nil
	case ModeOnDemand:
		return ModeOnDemand, nil
	}
	return "", errorf(ErrInvalidArgument, "stream mode %q is not one of %s, %s", mode, ModeProvisioned, ModeOnDemand)
}

func modeOf(m *streamMeta) string {
	if m.Mode == ModeOnDemand {
		return ModeOnDemand
	}
	return ModeProvisioned
}

func validateConsumerName(name string) error {
	if len(name) < 1 || len(name) > MaxConsumerNameChars {
		return errorf(ErrInvalidArgument, "consumer name %q is %d characters; it must be 1 to %d characters of [a-zA-Z0-9_.-]", name, len(name), MaxConsumerNameChars)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return errorf(ErrInvalidArgument, "consumer name %q contains %q; it must be 1 to %d characters of [a-zA-Z0-9_.-]", name, c, MaxConsumerNameChars)
		}
	}
	return nil
}

// checkMetrics checks a list of metric names and returns the set it names, ALL
// expanded.
func checkMetrics(stream string, metrics []string) (map[string]bool, error) {
	if len(metrics) < 1 || len(metrics) > len(AllMetrics) {
		return nil, errorf(ErrInvalidArgument, "%d shard-level metrics given for stream %s; give 1 to %d of %s, %s", len(metrics), stream, len(AllMetrics), strings.Join(AllMetrics, ", "), MetricAll)
	}
	set := map[string]bool{}
	for _, name := range metrics {
		switch {
		case name == MetricAll:
			for _, m := range AllMetrics {
				set[m] = true
			}
		case slices.Contains(AllMetrics, name):
			set[name] = true
		default:
			return nil, errorf(ErrInvalidArgument, "shard-level metric %q of stream %s is not one of %s, %s", name, stream, strings.Join(AllMetrics, ", "), MetricAll)
		}
	}
	return set, nil
}

// Tag rules: keys and values of Unicode letters (\p{L}), digits (\p{N}), white
// space (\p{Z}) and _ . : / = + - @, as TagResource documents them. The Tag
// shape's documentation lists '%' and not ':', but the service refuses '%'.

// tagRuneOK says whether a tag key or value may contain c.
func tagRuneOK(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsNumber(c) || unicode.In(c, unicode.Z) || strings.ContainsRune("_.:/=+-@", c)
}

const tagCharsRule = "The allowed characters are Unicode letters, digits, white space and _ . : / = + - @."

// checkTag checks one key and value.
func checkTag(what, key, value string) error {
	n := utf8.RuneCountInString(key)
	if n < 1 || n > MaxTagKeyChars {
		return errorf(ErrInvalidArgument, "Failed to %s because tag key %q is %d characters; a tag key has 1 to %d.", what, key, n, MaxTagKeyChars)
	}
	if !utf8.ValidString(key) || !utf8.ValidString(value) {
		return errorf(ErrInvalidArgument, "Failed to %s because tag %q is not valid UTF-8.", what, key)
	}
	if strings.HasPrefix(strings.ToLower(key), "aws:") {
		return errorf(ErrInvalidArgument, "Failed to %s because tag key %q starts with aws:, which is reserved for AWS.", what, key)
	}
	if n := utf8.RuneCountInString(value); n > MaxTagValueChars {
		return errorf(ErrInvalidArgument, "Failed to %s because the value of tag %q is %d characters; a tag value has 0 to %d.", what, key, n, MaxTagValueChars)
	}
	for _, s := range []string{key, value} {
		for _, c := range s {
			if !tagRuneOK(c) {
				return errorf(ErrInvalidArgument, "Failed to %s because some tags contained illegal characters (%q in tag %q). %s", what, c, key, tagCharsRule)
			}
		}
	}
	return nil
}

func checkTags(what string, tags map[string]string) error {
	keys := slices.Sorted(maps.Keys(tags)) // the same error for the same call
	for _, k := range keys {
		if err := checkTag(what, k, tags[k]); err != nil {
			return err
		}
	}
	return nil
}

func checkTagsCall(what string, tags map[string]string) error {
	if len(tags) < 1 || len(tags) > MaxTagsPerCall {
		return errorf(ErrInvalidArgument, "Failed to %s because %d tags were given; give 1 to %d.", what, len(tags), MaxTagsPerCall)
	}
	return checkTags(what, tags)
}

func checkTagKeysCall(what string, keys []string) error {
	if len(keys) < 1 || len(keys) > MaxTagKeysPerCall {
		return errorf(ErrInvalidArgument, "Failed to %s because %d tag keys were given; give 1 to %d.", what, len(keys), MaxTagKeysPerCall)
	}
	for _, k := range keys {
		if err := checkTag(what, k, ""); err != nil {
			return err
		}
	}
	return nil
}

// tooManyTags is Kinesis' answer to a resource that would pass its tag limit:
// InvalidArgumentException (not LimitExceededException).
func tooManyTags(what, resource string, n int) error {
	return errorf(ErrInvalidArgument, "Failed to %s because a given %s cannot have more than %d tags associated with it (it would have %d).", what, resource, MaxTagsPerStream, n)
}

// mergeTags returns cur with add applied, or an error when the result would
// have too many tags.
func mergeTags(what, resource string, cur, add map[string]string) (map[string]string, error) {
	next := maps.Clone(cur)
	if next == nil {
		next = make(map[string]string, len(add))
	}
	maps.Copy(next, add)
	if len(next) > MaxTagsPerStream {
		return nil, tooManyTags(what, resource, len(next))
	}
	return next, nil
}

// withoutTags returns cur without keys, and whether that removed any.
func withoutTags(cur map[string]string, keys []string) (map[string]string, bool) {
	next := maps.Clone(cur)
	for _, k := range keys {
		delete(next, k)
	}
	if len(next) == len(cur) {
		return cur, false
	}
	if len(next) == 0 {
		next = nil
	}
	return next, true
}

// checkAttrs checks the attributes of metadata read from disk.
func (m *streamMeta) checkAttrs() error {
	if m.Mode != "" && m.Mode != ModeOnDemand {
		return fmt.Errorf("unknown stream mode %q", m.Mode)
	}
	if m.EncryptionType != "" && m.EncryptionType != EncryptionKMS {
		return fmt.Errorf("unknown encryption type %q", m.EncryptionType)
	}
	for _, name := range m.EnhancedMetrics {
		if !slices.Contains(AllMetrics, name) {
			return fmt.Errorf("unknown shard-level metric %q", name)
		}
	}
	seen := map[string]bool{}
	for _, c := range m.Consumers {
		if c.Name == "" || seen[c.Name] {
			return fmt.Errorf("consumer name %q is empty or repeated", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// describeAttrs fills the attributes of a StreamDescription.
func describeAttrs(d *StreamDescription, m *streamMeta) {
	d.Mode = modeOf(m)
	d.EncryptionType = EncryptionNone
	if m.EncryptionType == EncryptionKMS {
		d.EncryptionType, d.KeyID = EncryptionKMS, m.KeyID
	}
	d.EnhancedMetrics = slices.Clone(m.EnhancedMetrics)
	if len(m.Tags) > 0 {
		d.Tags = maps.Clone(m.Tags)
	}
	if len(m.Consumers) > 0 {
		d.Consumers = consumers(m)
	}
}
