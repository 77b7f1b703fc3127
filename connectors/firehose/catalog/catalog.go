package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultAccountID  = "000000000000"
	DefaultRegion     = "us-east-1"
	DefaultStateDelay = 300 * time.Millisecond
)

// Options configure a Catalog.
type Options struct {
	// AccountID and Region go into ARNs (defaults DefaultAccountID, DefaultRegion).
	AccountID string
	Region    string
	// StateDelay is how long a new delivery stream shows CREATING, and changed
	// encryption ENABLING or DISABLING (default DefaultStateDelay; negative: none),
	// so clients that poll for ACTIVE see the states Firehose goes through.
	StateDelay time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ResolveSchema returns a table's columns for format conversion (default
	// FileSchemaResolver(dataDir)). It runs when a destination with enabled
	// conversion is created, names another table, or is enabled; it must not
	// call the catalog (the catalog holds its lock meanwhile).
	ResolveSchema SchemaResolver
	// MaxDeliveryStreams bounds how many delivery streams exist (default
	// DefaultMaxDeliveryStreams).
	MaxDeliveryStreams int
	// Logger receives damaged files found by Open; nil discards.
	Logger *slog.Logger
}

// Catalog is the delivery stream definitions of a data directory. It is safe
// for concurrent use; it starts no goroutines. One process should open a data
// directory's catalog at a time.
type Catalog struct {
	root string // DATA_DIR/firehose
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	streams map[string]*DeliveryStream
	damaged map[string]*DamagedError
	version uint64
	changed chan struct{} // closed and replaced on every change
}

// Open loads the catalog of the data directory dataDir (creating
// DATA_DIR/firehose if needed). A file that cannot be loaded does not stop the
// others: it is reported by Damaged (and logged), and its name stays taken.
func Open(dataDir string, opts Options) (*Catalog, error) {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.StateDelay == 0 {
		opts.StateDelay = DefaultStateDelay
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ResolveSchema == nil {
		opts.ResolveSchema = FileSchemaResolver(dataDir)
	}
	if opts.MaxDeliveryStreams <= 0 {
		opts.MaxDeliveryStreams = DefaultMaxDeliveryStreams
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	root := filepath.Join(dataDir, "firehose")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open delivery stream catalog: %w", err)
	}
	c := &Catalog{root: root, opts: opts, log: log, streams: map[string]*DeliveryStream{}, damaged: map[string]*DamagedError{}, changed: make(chan struct{})}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Catalog) load() error {
	entries, err := os.ReadDir(c.root)
	if err != nil {
		return fmt.Errorf("open delivery stream catalog: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if isLeftover(name) {
			if err := os.RemoveAll(filepath.Join(c.root, name)); err != nil {
				c.log.Warn("cannot remove what an interrupted delete left", "path", filepath.Join(c.root, name), "err", err)
			}
			continue
		}
		if !e.IsDir() || ValidateName(name) != nil {
			continue // not ours
		}
		c.removeTemps(filepath.Join(c.root, name))
		ds, err := readStream(c.root, name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = errors.New("the file is missing")
			}
			d := &DamagedError{Name: name, Path: filepath.Join(c.root, name, streamFile), Err: err}
			c.damaged[name] = d
			c.log.Error("damaged delivery stream definition", "err", d)
			continue
		}
		c.streams[name] = ds
	}
	return nil
}

func (c *Catalog) removeTemps(dir string) {
	tmps, _ := filepath.Glob(filepath.Join(dir, streamFile+".tmp-*"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
}

// Damaged lists the delivery stream files Open could not load, by name.
func (c *Catalog) Damaged() []*DamagedError {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*DamagedError, 0, len(c.damaged))
	for _, d := range c.damaged {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AccountID returns the account of the catalog's ARNs.
func (c *Catalog) AccountID() string { return c.opts.AccountID }

// ARN returns the ARN of a delivery stream named name in region (default Options.Region).
func (c *Catalog) ARN(region, name string) string {
	if region == "" {
		region = c.opts.Region
	}
	return "arn:aws:firehose:" + region + ":" + c.opts.AccountID + ":deliverystream/" + name
}

func (c *Catalog) notFound(name string) error {
	return errorf(ErrNotFound, "Firehose %s under account %s not found.", name, c.opts.AccountID)
}

// view returns a copy of ds with its statuses computed. c.mu is held.
func (c *Catalog) view(ds *DeliveryStream) DeliveryStream {
	out := ds.clone()
	now := c.opts.Now()
	out.Status = StatusActive
	if c.opts.StateDelay > 0 && now.Before(ds.Created.Add(c.opts.StateDelay)) {
		out.Status = StatusCreating
	}
	e := &out.Encryption
	settling := c.opts.StateDelay > 0 && !e.Changed.IsZero() && now.Before(e.Changed.Add(c.opts.StateDelay))
	switch {
	case e.Enabled && settling:
		e.Status = EncryptionEnabling
	case e.Enabled:
		e.Status = EncryptionEnabled
	case settling:
		e.Status = EncryptionDisabling
	default:
		e.Status = EncryptionDisabled
	}
	return out
}

// Get returns the delivery stream named name.
func (c *Catalog) Get(name string) (DeliveryStream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, ok := c.streams[name]
	if !ok {
		return DeliveryStream{}, c.notFound(name)
	}
	return c.view(ds), nil
}

// All returns every delivery stream, by name.
func (c *Catalog) All() []DeliveryStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]DeliveryStream, 0, len(c.streams))
	for _, n := range c.sortedNames() {
		out = append(out, c.view(c.streams[n]))
	}
	return out
}

func (c *Catalog) sortedNames() []string {
	names := make([]string, 0, len(c.streams))
	for n := range c.streams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// List returns delivery stream names in order after in.ExclusiveStartName, at
// most in.Limit of them (default DefaultListLimit, at most MaxListLimit), of
// in.Type if given, and whether more follow.
func (c *Catalog) List(in ListInput) ([]string, bool, error) {
	limit := in.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, false, errorf(ErrInvalidArgument, "Limit %d is out of range; it must be 1 to %d.", in.Limit, MaxListLimit)
	}
	if in.Type != "" && in.Type != TypeDirectPut && in.Type != TypeKinesisStreamAsSource {
		return nil, false, errorf(ErrInvalidArgument, "DeliveryStreamType %s is not supported by eddy; use DirectPut or KinesisStreamAsSource.", in.Type)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	names := []string{}
	for _, n := range c.sortedNames() {
		if n <= in.ExclusiveStartName || (in.Type != "" && c.streams[n].Type != in.Type) {
			continue
		}
		if len(names) == limit {
			return names, true, nil
		}
		names = append(names, n)
	}
	return names, false, nil
}

// Create defines a delivery stream. Tags are sorted by key.
func (c *Catalog) Create(in CreateInput) (DeliveryStream, error) {
	if err := ValidateName(in.Name); err != nil {
		return DeliveryStream{}, err
	}
	typ := in.Type
	if typ == "" {
		typ = TypeDirectPut
	}
	ds := &DeliveryStream{Name: in.Name, ARN: c.ARN(in.Region, in.Name), Type: typ, VersionID: "1"}
	switch typ {
	case TypeDirectPut:
		if in.Source != nil {
			return DeliveryStream{}, errorf(ErrInvalidArgument, "KinesisSourceStreamConfig is only applicable for KinesisStreamAsSource stream type")
		}
	case TypeKinesisStreamAsSource:
		if in.Source == nil || in.Source.StreamARN == "" || in.Source.RoleARN == "" {
			return DeliveryStream{}, errorf(ErrInvalidArgument, "KinesisStreamSourceConfiguration with KinesisStreamARN and RoleARN is required when DeliveryStreamType is KinesisStreamAsSource.")
		}
		stream, err := StreamNameFromARN(in.Source.StreamARN)
		if err != nil {
			return DeliveryStream{}, err
		}
		ds.Source = &KinesisSource{StreamARN: in.Source.StreamARN, StreamName: stream, RoleARN: in.Source.RoleARN}
		if in.Encryption != nil {
			return DeliveryStream{}, errorf(ErrInvalidArgument, "Server-side encryption is not supported for delivery streams with a Kinesis stream as source; encrypt the source stream instead.")
		}
	default:
		return DeliveryStream{}, errorf(ErrInvalidArgument, "DeliveryStreamType %s is not supported by eddy; use DirectPut or KinesisStreamAsSource.", typ)
	}
	dest, err := c.buildDestination(newDestination(in.Destination.Kind), in.Destination)
	if err != nil {
		return DeliveryStream{}, err
	}
	ds.Destination = dest
	if len(in.Tags) > MaxTagsPerStream {
		return DeliveryStream{}, errorf(ErrLimitExceeded, "A delivery stream can have at most %d tags; the request has %d.", MaxTagsPerStream, len(in.Tags))
	}
	if err := checkTags(in.Tags); err != nil {
		return DeliveryStream{}, err
	}
	ds.Tags = append([]Tag(nil), in.Tags...)
	sortTags(ds.Tags)

	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	ds.Created, ds.LastUpdated = now, now
	if in.Encryption != nil {
		e, err := checkEncryption(in.Encryption)
		if err != nil {
			return DeliveryStream{}, err
		}
		ds.Encryption = Encryption{Enabled: true, KeyType: e.KeyType, KeyARN: e.KeyARN, Changed: now}
	}
	if _, ok := c.streams[in.Name]; ok {
		return DeliveryStream{}, errorf(ErrInUse, "Firehose %s under accountId %s already exists", in.Name, c.opts.AccountID)
	}
	if d, ok := c.damaged[in.Name]; ok {
		return DeliveryStream{}, errorf(ErrInUse, "Firehose %s cannot be created: %v", in.Name, d)
	}
	if len(c.streams) >= c.opts.MaxDeliveryStreams {
		return DeliveryStream{}, errorf(ErrLimitExceeded, "You have already reached the limit of %d delivery streams for account %s.", c.opts.MaxDeliveryStreams, c.opts.AccountID)
	}
	if err := writeStream(c.root, ds); err != nil {
		return DeliveryStream{}, err
	}
	c.streams[in.Name] = ds
	c.bump()
	return c.view(ds), nil
}

// buildDestination applies cfg to base, resolves the schema of format
// conversion if it is new or changed, and validates the result.
func (c *Catalog) buildDestination(base Destination, cfg DestinationConfig) (Destination, error) {
	d, resolve, err := apply(base, cfg)
	if err != nil {
		return Destination{}, err
	}
	if err := checkDestination(&d); err != nil {
		return Destination{}, err
	}
	if conv := d.DataFormatConversion; conv != nil && conv.Enabled && resolve {
		cols, err := c.opts.ResolveSchema(conv.Schema)
		if err != nil {
			if _, ok := errors.AsType[*Error](err); ok {
				return Destination{}, err
			}
			return Destination{}, errorf(ErrInvalidArgument, "Table %s.%s: %v", conv.Schema.DatabaseName, conv.Schema.TableName, err)
		}
		conv.Schema.Columns = append([]Column(nil), cols...)
	}
	return d, nil
}

// UpdateDestination changes a delivery stream's destination: the fields given
// replace the current ones. in.CurrentVersionID must be the stream's VersionID
// (else ErrConcurrentModification) and in.DestinationID its destination's id;
// the version id goes up by one.
func (c *Catalog) UpdateDestination(in UpdateInput) (DeliveryStream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, ok := c.streams[in.Name]
	if !ok {
		return DeliveryStream{}, c.notFound(in.Name)
	}
	if in.CurrentVersionID != ds.VersionID {
		return DeliveryStream{}, errorf(ErrConcurrentModification, "Cannot update firehose: %s since the current version id: %s and specified version id: %s do not match", in.Name, ds.VersionID, in.CurrentVersionID)
	}
	if in.DestinationID != ds.Destination.ID {
		return DeliveryStream{}, errorf(ErrInvalidArgument, "Destination Id %s not found in Firehose %s; its destination is %s.", in.DestinationID, in.Name, ds.Destination.ID)
	}
	if in.Destination.Kind != "" && in.Destination.Kind != ds.Destination.Kind {
		return DeliveryStream{}, errorf(ErrInvalidArgument, "Delivery stream %s delivers to %s; eddy cannot change a destination's kind (to %s). Delete and create the stream instead.", in.Name, ds.Destination.Kind, in.Destination.Kind)
	}
	wasPartitioned := ds.Destination.DynamicPartitioning != nil && ds.Destination.DynamicPartitioning.Enabled
	dest, err := c.buildDestination(ds.clone().Destination, in.Destination)
	if err != nil {
		return DeliveryStream{}, err
	}
	if !wasPartitioned && dest.DynamicPartitioning != nil && dest.DynamicPartitioning.Enabled {
		return DeliveryStream{}, errorf(ErrInvalidArgument, "Dynamic partitioning can only be enabled when the delivery stream is created; create a new delivery stream for it.")
	}
	v, err := strconv.ParseUint(ds.VersionID, 10, 64)
	if err != nil {
		return DeliveryStream{}, fmt.Errorf("delivery stream %s has version id %q, which is not a number: %w", in.Name, ds.VersionID, err)
	}
	next := ds.clone()
	next.Destination = dest
	next.VersionID = strconv.FormatUint(v+1, 10)
	next.LastUpdated = c.opts.Now()
	return c.replace(&next)
}

// replace stores next in place of the stream of its name. c.mu is held.
func (c *Catalog) replace(next *DeliveryStream) (DeliveryStream, error) {
	if err := writeStream(c.root, next); err != nil {
		return DeliveryStream{}, err
	}
	c.streams[next.Name] = next
	c.bump()
	return c.view(next), nil
}

// Delete removes a delivery stream's definition. (Firehose's AllowForceDelete
// only matters for failed KMS grants, which eddy has none of.)
func (c *Catalog) Delete(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.streams[name]; !ok {
		return c.notFound(name)
	}
	if err := removeStream(c.root, name); err != nil {
		return err
	}
	delete(c.streams, name)
	c.bump()
	return nil
}

// bump records a change and wakes every waiter. c.mu is held.
func (c *Catalog) bump() {
	c.version++
	close(c.changed)
	c.changed = make(chan struct{})
}

func sortTags(tags []Tag) {
	sort.Slice(tags, func(i, j int) bool { return strings.Compare(tags[i].Key, tags[j].Key) < 0 })
}
