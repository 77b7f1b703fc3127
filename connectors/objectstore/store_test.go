package objectstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"go.uber.org/goleak"

	"github.com/eddy-streams/eddy/connectors/objectstore/s3test"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openS3 opens the store at prefix of srv's bucket through Open, with the
// credentials in the environment.
func openS3(t *testing.T, srv *s3test.Server, prefix string) *S3Store {
	t.Helper()
	srv.SetEnv(t)
	st, err := Open(testContext(t), "s3://"+srv.Bucket+"/"+prefix, Options{Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*S3Store)
	t.Cleanup(s.CloseIdleConnections)
	return s
}

// TestStoreContract runs the same assertions on checkpoint.DirStore and
// S3Store: S3Store must behave as the folder does.
func TestStoreContract(t *testing.T) {
	t.Run("dir", func(t *testing.T) {
		testContract(t, checkpoint.NewDirStore(t.TempDir()))
	})
	t.Run("s3", func(t *testing.T) {
		srv := s3test.Start(t)
		// Objects beside the store's prefix, one sharing its first letters:
		// never listed nor deleted.
		srv.Put(t, "outside/x", []byte("o"))
		srv.Put(t, "ckpt/runner/x", []byte("o"))
		srv.Put(t, "ckpt/run-2/x", []byte("o"))
		s := openS3(t, srv, "ckpt/run")
		if got, want := s.String(), "s3://"+srv.Bucket+"/ckpt/run"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		testContract(t, s)
		if got := srv.Keys(t, ""); !slices.Equal(sorted(got), []string{"ckpt/run-2/x", "ckpt/run/app/chk-0000000010/MANIFEST.json", "ckpt/run/app2/chk-0000000001/x", "ckpt/run/apple/y", "ckpt/runner/x", "outside/x"}) {
			t.Errorf("bucket after the contract test holds %q", got)
		}
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

func testContract(t *testing.T, s checkpoint.Store) {
	ctx := testContext(t)
	mustWrite := func(p, data string) {
		t.Helper()
		if err := s.Write(ctx, p, []byte(data)); err != nil {
			t.Fatalf("Write(%q): %v", p, err)
		}
	}
	read := func(p, want string) {
		t.Helper()
		got, err := s.Read(ctx, p)
		if err != nil || string(got) != want {
			t.Fatalf("Read(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
	missing := func(p string) {
		t.Helper()
		got, err := s.Read(ctx, p)
		if !errors.Is(err, checkpoint.ErrNotFound) {
			t.Fatalf("Read(%q) of a missing object = %q, %v; want an error wrapping checkpoint.ErrNotFound", p, got, err)
		}
	}
	list := func(prefix string, want ...string) {
		t.Helper()
		got, err := s.List(ctx, prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		if !slices.Equal(sorted(got), sorted(want)) {
			t.Fatalf("List(%q) = %q, want %q", prefix, sorted(got), sorted(want))
		}
	}

	// Nothing yet.
	missing("app/chk-0000000001/state")
	list("")
	list("app/")

	// Write, read, overwrite with longer and shorter data, empty data.
	mustWrite("app/chk-0000000001/state", "v1")
	read("app/chk-0000000001/state", "v1")
	mustWrite("app/chk-0000000001/state", "version two, longer")
	read("app/chk-0000000001/state", "version two, longer")
	mustWrite("app/chk-0000000001/state", "3")
	read("app/chk-0000000001/state", "3")
	mustWrite("empty", "")
	read("empty", "")

	// Lists: by folder, nested, relative to the root, cleaned.
	mustWrite("app/chk-0000000001/sub/deep/f", "f")
	mustWrite("app/chk-0000000010/MANIFEST.json", "{}")
	mustWrite("app2/chk-0000000001/x", "x")
	mustWrite("apple/y", "y")
	all := []string{"app/chk-0000000001/state", "app/chk-0000000001/sub/deep/f", "app/chk-0000000010/MANIFEST.json", "app2/chk-0000000001/x", "apple/y", "empty"}
	list("", all...)
	list(".", all...)
	list("app/", all[:3]...)
	list("app", all[:3]...)
	list("app/chk-0000000001", all[:2]...)
	list("app/chk-0000000001/", all[:2]...)
	list("./app//chk-0000000010/", all[2])
	list("app/chk-0000000001/state", all[0])
	list("nothing/")
	list("app/chk-0000000002/")
	read("./app//chk-0000000001/sub/deep/f", "f")

	// Delete one, a missing one, one never written.
	if err := s.Delete(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	missing("empty")
	for _, p := range []string{"empty", "never/was", "app/chk-0000000002/x"} {
		if err := s.Delete(ctx, p); err != nil {
			t.Fatalf("Delete(%q) of a missing object: %v", p, err)
		}
	}
	read("app/chk-0000000001/state", "3")

	// DeleteAll of a folder, of a missing one; never of everything.
	if err := s.DeleteAll(ctx, "app/chk-0000000001/"); err != nil {
		t.Fatal(err)
	}
	missing("app/chk-0000000001/state")
	missing("app/chk-0000000001/sub/deep/f")
	list("app/", all[2])
	list("", all[2:5]...)
	if err := s.DeleteAll(ctx, "missing/"); err != nil {
		t.Fatalf("DeleteAll of a missing folder: %v", err)
	}
	for _, p := range []string{"", ".", "/", "app/.."} {
		if err := s.DeleteAll(ctx, p); err == nil {
			t.Fatalf("DeleteAll(%q) deleted the whole store", p)
		}
	}
	list("", all[2:5]...)

	// Paths that leave the root.
	for _, p := range []string{"../x", "/abs", "a/../../x"} {
		if err := s.Write(ctx, p, []byte("x")); err == nil {
			t.Errorf("Write(%q) did not fail", p)
		}
		if _, err := s.Read(ctx, p); err == nil || errors.Is(err, checkpoint.ErrNotFound) {
			t.Errorf("Read(%q) = %v, want a bad-path error", p, err)
		}
		if _, err := s.List(ctx, p); err == nil {
			t.Errorf("List(%q) did not fail", p)
		}
		if err := s.Delete(ctx, p); err == nil {
			t.Errorf("Delete(%q) did not fail", p)
		}
		if err := s.DeleteAll(ctx, p); err == nil {
			t.Errorf("DeleteAll(%q) did not fail", p)
		}
	}

	// More objects than one page of ListObjectsV2 or one DeleteObjects.
	const many = 1010
	var names []string
	for i := range many {
		names = append(names, fmt.Sprintf("many/chk-%010d/state", i))
	}
	writeAll(t, s, names)
	list("many/", names...)
	if err := s.DeleteAll(ctx, "many"); err != nil {
		t.Fatal(err)
	}
	list("many/")
	list("", all[2:5]...)
}

// writeAll writes every name (its own name as data), 16 at a time.
func writeAll(t *testing.T, s checkpoint.Store, names []string) {
	t.Helper()
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	work := make(chan string)
	for range 16 {
		wg.Go(func() {
			for p := range work {
				if err := s.Write(ctx, p, []byte(p)); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, p := range names {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestS3Paging counts the requests: List follows ListObjectsV2's pages and
// DeleteAll sends DeleteObjects batches of at most 1000 keys.
func TestS3Paging(t *testing.T) {
	srv := s3test.Start(t)
	var mu sync.Mutex
	var listCalls int
	var batches []int
	count := func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			mu.Lock()
			switch p := in.Parameters.(type) {
			case *s3.ListObjectsV2Input:
				listCalls++
			case *s3.DeleteObjectsInput:
				batches = append(batches, len(p.Delete.Objects))
			}
			mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	}
	client := s3.New(srv.Client().Options(), func(o *s3.Options) { o.APIOptions = append(o.APIOptions, count) })
	s := New(client, srv.Bucket, "/paging/")
	if s.String() != "s3://"+srv.Bucket+"/paging" {
		t.Errorf("String() = %q", s)
	}
	const n = 2345
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("job/chk-%010d/f", i))
	}
	// Made as files in the server's folder, which is quicker than 2345
	// PutObjects; the contract test writes more than 1000 through Write.
	for _, p := range names {
		file := filepath.Join(srv.Dir, srv.Bucket, "paging", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testContext(t)
	got, err := s.List(ctx, "job/")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sorted(got), names) {
		t.Fatalf("List returned %d paths, want %d", len(got), n)
	}
	if listCalls < 3 {
		t.Errorf("List of %d objects made %d ListObjectsV2 calls, want pages of at most 1000", n, listCalls)
	}
	if err := s.DeleteAll(ctx, "job/"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(batches, []int{1000, 1000, 345}) {
		t.Errorf("DeleteObjects batches = %v, want [1000 1000 345]", batches)
	}
	if keys := srv.Keys(t, "paging/"); len(keys) != 0 {
		t.Errorf("%d objects left after DeleteAll, e.g. %s", len(keys), keys[0])
	}
}

// TestS3ContextCanceled: a canceled context stops each operation.
func TestS3ContextCanceled(t *testing.T) {
	srv := s3test.Start(t)
	s := openS3(t, srv, "ctx")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	checks := map[string]error{
		"Write":     s.Write(ctx, "a", []byte("x")),
		"Delete":    s.Delete(ctx, "a"),
		"DeleteAll": s.DeleteAll(ctx, "a/"),
	}
	_, checks["Read"] = s.Read(ctx, "a")
	_, checks["List"] = s.List(ctx, "a/")
	for op, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v", op, err)
		}
	}
	if _, err := Open(ctx, "s3://"+srv.Bucket, Options{Endpoint: srv.Endpoint}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a canceled context: %v", err)
	}
}
