package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/eddy-streams/eddy/connectors/objectstore"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// checkpointLocationHelp documents --checkpoints for every command that has it.
const checkpointLocationHelp = "where checkpoints are kept: a folder, or s3://BUCKET/PREFIX (default: DATA_DIR/checkpoints)"

// checkpointStore opens where an application's checkpoints are kept: location
// is a folder or an s3:// URL; "" is the data dir's checkpoints folder.
//
// An S3 location is reached as the AWS SDK's default configuration says:
// credentials, region and endpoint from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3 (MinIO, versitygw,
// ...) or a profile.
func (a *invocation) checkpointStore(ctx context.Context, location string) (checkpoint.Store, error) {
	switch {
	case location == "":
		return checkpoint.NewDirStore(filepath.Join(a.dataDir, "checkpoints")), nil
	case strings.HasPrefix(location, "s3://"):
		store, err := objectstore.Open(ctx, location, objectstore.Options{})
		if err != nil {
			return nil, fmt.Errorf("--checkpoints: %w", err)
		}
		return store, nil
	case strings.Contains(location, "://"):
		return nil, fmt.Errorf("--checkpoints %s: use a folder or s3://BUCKET/PREFIX", location)
	default:
		return checkpoint.NewDirStore(location), nil
	}
}
