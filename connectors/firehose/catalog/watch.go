package catalog

import "context"

// Version counts the changes to the catalog (creates, updates, tag and
// encryption changes, deletes) since it was opened.
func (c *Catalog) Version() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// Wait blocks until the catalog's version is past after, or ctx is done, and
// returns the version then. A runner loops: v := Version(); reconcile with
// All(); v, err = Wait(ctx, v). Nothing is left running when it returns.
func (c *Catalog) Wait(ctx context.Context, after uint64) (uint64, error) {
	for {
		c.mu.Lock()
		v, ch := c.version, c.changed
		c.mu.Unlock()
		if v > after {
			return v, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}
}
