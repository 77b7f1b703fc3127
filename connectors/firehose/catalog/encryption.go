package catalog

// StartEncryption enables (or changes the key of) server-side encryption of a
// DirectPut delivery stream. eddy records it and reports it in Describe.
func (c *Catalog) StartEncryption(name string, cfg EncryptionConfig) error {
	e, err := checkEncryption(&cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, ok := c.streams[name]
	if !ok {
		return c.notFound(name)
	}
	if ds.Type != TypeDirectPut {
		return errorf(ErrInvalidArgument, "Server-side encryption is not supported for delivery stream %s: its source is a Kinesis stream; encrypt the source stream instead.", name)
	}
	next := ds.clone()
	next.Encryption = Encryption{Enabled: true, KeyType: e.KeyType, KeyARN: e.KeyARN, Changed: c.opts.Now()}
	_, err = c.replace(&next)
	return err
}

// StopEncryption disables server-side encryption of a delivery stream.
func (c *Catalog) StopEncryption(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, ok := c.streams[name]
	if !ok {
		return c.notFound(name)
	}
	if ds.Type != TypeDirectPut {
		return errorf(ErrInvalidArgument, "Server-side encryption is not supported for delivery stream %s: its source is a Kinesis stream.", name)
	}
	next := ds.clone()
	next.Encryption = Encryption{Enabled: false, Changed: c.opts.Now()}
	if !ds.Encryption.Enabled {
		next.Encryption.Changed = ds.Encryption.Changed // already off: nothing settles
	}
	_, err := c.replace(&next)
	return err
}
