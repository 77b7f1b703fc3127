package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// checkpointLocationHelp documents --checkpoints for every command that has it.
const checkpointLocationHelp = "where checkpoints are kept: a folder, or s3://BUCKET/PREFIX (default: DATA_DIR/checkpoints)"

// checkpointStore opens where an application's checkpoints are kept: location
// is a folder or an s3:// URL; "" is the data dir's checkpoints folder.
func (a *invocation) checkpointStore(_ context.Context, location string) (checkpoint.Store, error) {
	switch {
	case location == "":
		return checkpoint.NewDirStore(filepath.Join(a.dataDir, "checkpoints")), nil
	case strings.HasPrefix(location, "s3://"):
		return nil, fmt.Errorf("--checkpoints %s: S3 checkpoint storage is not built into this binary yet", location)
	case strings.Contains(location, "://"):
		return nil, fmt.Errorf("--checkpoints %s: use a folder or s3://BUCKET/PREFIX", location)
	default:
		return checkpoint.NewDirStore(location), nil
	}
}
