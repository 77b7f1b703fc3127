package firehoseapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// Reconcile makes the store's backing streams match the catalog: it creates
// the missing backing stream of a DirectPut delivery stream and deletes a
// backing stream whose delivery stream is gone. Both happen only after a crash
// between the catalog's change and the store's (create writes the catalog
// first, delete removes it first). New calls it; it is safe to call again.
// It goes on past a stream it cannot fix and returns every failure.
func (a *API) Reconcile() error {
	var errs []error
	want := map[string]bool{}
	for _, ds := range a.cat.All() {
		if ds.Type != catalog.TypeDirectPut {
			continue
		}
		backing := catalog.BackingStream(ds.Name)
		want[backing] = true
		if _, err := a.store.DescribeStream(backing); errors.Is(err, streamstore.ErrNotFound) {
			if err := a.store.CreateStreamWith(backing, streamstore.StreamOptions{Shards: backingShards}); err != nil && !errors.Is(err, streamstore.ErrInUse) {
				errs = append(errs, fmt.Errorf("create backing stream %s of delivery stream %s: %w", backing, ds.Name, err))
			}
		}
	}
	for _, s := range a.store.ListStreams() {
		if !strings.HasPrefix(s, catalog.BackingStreamPrefix) || want[s] {
			continue
		}
		if err := a.store.DeleteStream(s); err != nil && !errors.Is(err, streamstore.ErrNotFound) {
			errs = append(errs, fmt.Errorf("delete backing stream %s, whose delivery stream is gone: %w", s, err))
		}
	}
	return errors.Join(errs...)
}
