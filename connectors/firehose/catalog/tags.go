package catalog

// Tag adds tags to a delivery stream or changes the values of keys it has. A
// stream has at most MaxTagsPerStream tags.
func (c *Catalog) Tag(name string, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, ok := c.streams[name]
	if !ok {
		return c.notFound(name)
	}
	next := ds.clone()
	for _, t := range tags {
		found := false
		for i := range next.Tags {
			if next.Tags[i].Key == t.Key {
				next.Tags[i].Value, found = t.Value, true
			}
		}
		if !found {
			next.Tags = append(next.Tags, t)
		}
	}
	if len(next.Tags) > MaxTagsPerStream {
		return errorf(ErrLimitExceeded, "Firehose %s would have %d tags; a delivery stream can have at most %d.", name, len(next.Tags), MaxTagsPerStream)
	}
	sortTags(next.Tags)
	_, err := c.replace(&next)
	return err
}

// Untag removes tags by key; keys the stream does not have are ignored.
func (c *Catalog) Untag(name string, keys []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, ok := c.streams[name]
	if !ok {
		return c.notFound(name)
	}
	drop := map[string]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	next := ds.clone()
	next.Tags = next.Tags[:0]
	for _, t := range ds.Tags {
		if !drop[t.Key] {
			next.Tags = append(next.Tags, t)
		}
	}
	_, err := c.replace(&next)
	return err
}

// ListTags returns a stream's tags by key after exclusiveStartKey, at most
// limit of them (default DefaultListTagsLimit, 1 to 50), and whether more follow.
func (c *Catalog) ListTags(name, exclusiveStartKey string, limit int) ([]Tag, bool, error) {
	if limit == 0 {
		limit = DefaultListTagsLimit
	}
	if limit < 1 || limit > MaxTagsPerStream {
		return nil, false, errorf(ErrInvalidArgument, "Limit %d is out of range; it must be 1 to %d.", limit, MaxTagsPerStream)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, ok := c.streams[name]
	if !ok {
		return nil, false, c.notFound(name)
	}
	out := []Tag{}
	for _, t := range ds.Tags {
		if exclusiveStartKey != "" && t.Key <= exclusiveStartKey {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, t)
	}
	return out, false, nil
}
