package objectstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// maxDeleteBatch is the most keys one DeleteObjects request may name.
const maxDeleteBatch = 1000

// S3Store keeps checkpoints in a bucket under a key prefix: path p is the
// object PREFIX/p. Each write is one PutObject, which S3 APIs make visible
// whole or not at all. It behaves as checkpoint.DirStore: paths are cleaned
// and may not leave the prefix, a missing object reads as
// checkpoint.ErrNotFound, List and DeleteAll take a folder ("a/b" means a/b
// and everything under a/b/), and the whole prefix is never deleted at once.
type S3Store struct {
	client *s3.Client
	bucket string
	root   string // "" or the prefix with a trailing "/"
	name   string
}

var _ checkpoint.Store = (*S3Store)(nil)

// New returns the store of bucket under prefix ("" for the whole bucket)
// using client, without contacting it.
func New(client *s3.Client, bucket, prefix string) *S3Store {
	prefix = strings.Trim(prefix, "/")
	s := &S3Store{client: client, bucket: bucket, name: "s3://" + bucket}
	if prefix != "" {
		s.root = prefix + "/"
		s.name += "/" + prefix
	}
	return s
}

// String is s3://BUCKET or s3://BUCKET/PREFIX.
func (s *S3Store) String() string { return s.name }

// CloseIdleConnections closes the client's idle HTTP connections (and their
// goroutines); the store stays usable.
func (s *S3Store) CloseIdleConnections() {
	if c, ok := s.client.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// clean is p as checkpoint.DirStore cleans it: "." for the root, an error
// when it leaves the root.
func clean(p string) (string, error) {
	c := path.Clean(p)
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q leaves the checkpoint prefix", p)
	}
	return c, nil
}

// key is the object key of an object's path.
func (s *S3Store) key(p string) (string, error) {
	c, err := clean(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s, err)
	}
	if c == "." {
		return "", fmt.Errorf("%s: path %q names the checkpoint prefix itself, not an object", s, p)
	}
	return s.root + c, nil
}

// Write stores data at p with one PutObject.
func (s *S3Store) Write(ctx context.Context, p string, data []byte) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return fmt.Errorf("%s: write %s: %w", s, p, err)
	}
	return nil
}

// isNotFound reports whether err is S3's answer for a missing key.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	return errors.As(err, &nsk) || errors.As(err, &nf) ||
		(errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound"))
}

// Read returns the object at p; a missing one is checkpoint.ErrNotFound.
func (s *S3Store) Read(ctx context.Context, p string) ([]byte, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %s: %w", s, p, checkpoint.ErrNotFound)
		}
		return nil, fmt.Errorf("%s: read %s: %w", s, p, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", s, p, err)
	}
	return data, nil
}

// keys returns the keys of every object under prefix, a folder: the object
// named prefix and those under prefix/ ("" or "." is the whole store).
// ListObjectsV2 is asked page by page.
func (s *S3Store) keys(ctx context.Context, prefix string) ([]string, error) {
	c, err := clean(prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	// With a trailing "/" only the folder's contents are asked for, so a
	// sibling such as "app2/" is not paged through for "app/".
	list, exact := s.root, ""
	switch {
	case c == ".":
	case strings.HasSuffix(prefix, "/"):
		list = s.root + c + "/"
	default:
		list, exact = s.root+c, s.root+c
	}
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(list)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: list %s: %w", s, prefix, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if exact != "" && k != exact && !strings.HasPrefix(k, exact+"/") {
				continue // e.g. app2/x when listing app
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// List returns the paths, relative to the store's prefix, of every object
// under prefix. Folder markers (keys ending in "/") are left out.
func (s *S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := s.keys(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range keys {
		if strings.HasSuffix(k, "/") {
			continue
		}
		out = append(out, strings.TrimPrefix(k, s.root))
	}
	return out, nil
}

// Delete removes the object at p; a missing one is not an error.
func (s *S3Store) Delete(ctx context.Context, p string) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("%s: delete %s: %w", s, p, err)
	}
	return nil
}

// DeleteAll removes every object under prefix (a folder, as for List),
// listing them first and then deleting them with DeleteObjects, at most
// 1000 at a time. It refuses to delete the whole store.
func (s *S3Store) DeleteAll(ctx context.Context, prefix string) error {
	c, err := clean(prefix)
	if err != nil {
		return fmt.Errorf("%s: %w", s, err)
	}
	if c == "." {
		return fmt.Errorf("refusing to delete every checkpoint in %s", s)
	}
	keys, err := s.keys(ctx, prefix)
	if err != nil {
		return err
	}
	for batch := range slices.Chunk(keys, maxDeleteBatch) {
		objs := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket),
			Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("%s: delete %s: %w", s, prefix, err)
		}
		var failed []string
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			failed = append(failed, fmt.Sprintf("%s (%s: %s)", strings.TrimPrefix(aws.ToString(e.Key), s.root), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
		if n := len(failed); n > 0 {
			more := ""
			if n > 5 {
				more, failed = fmt.Sprintf(" and %d more", n-5), failed[:5]
			}
			return fmt.Errorf("%s: delete %s: %d objects were not deleted: %s%s", s, prefix, n, strings.Join(failed, ", "), more)
		}
	}
	return nil
}
