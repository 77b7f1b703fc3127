// Package s3test starts a real S3 API server for tests: versitygw over a
// temporary folder, listening on 127.0.0.1 only, with one bucket made. It
// gives tests the endpoint, bucket and credentials, as fields, as
// environment variables (for the SDK's default chain or a child process) and
// as a ready client.
//
// When versitygw is not installed the test is skipped with how to install
// it, unless EDDY_REQUIRE_S3=1, which makes it a failure (CI sets it).
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Install is the command that installs the server.
const Install = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// RequireEnv is the environment variable that turns a missing server into a
// test failure instead of a skip.
const RequireEnv = "EDDY_REQUIRE_S3"

// Server is a running versitygw with one bucket.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Bucket    string // made by Start
	AccessKey string
	SecretKey string
	Region    string
	// Dir is the server's root folder: each bucket is a folder in it and
	// each object a file under that.
	Dir string
	// Log is the file with the server's output.
	Log string

	client *s3.Client
}

// Binary returns the path of the versitygw executable: on PATH, else in
// $(go env GOPATH)/bin.
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath := build.Default.GOPATH
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		gopath = string(bytes.TrimSpace(out)) // also set by go env -w
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw is not on PATH nor in GOPATH/bin; install it with: %s", Install)
}

// Start starts a server on a free port of 127.0.0.1 with bucket "eddy-test"
// and stops it when t ends. It skips t when versitygw is not installed
// (fails it when EDDY_REQUIRE_S3=1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v (%s=1 requires the S3 tests)", err, RequireEnv)
		}
		t.Skipf("%v (%s=1 makes this a failure)", err, RequireEnv)
	}
	tmp := t.TempDir()
	s := &Server{
		Bucket:    "eddy-test",
		AccessKey: "EDDYTESTACCESSKEY",
		SecretKey: "eddy-test-secret-key",
		Region:    "us-east-1",
		Dir:       filepath.Join(tmp, "root"),
		Log:       filepath.Join(tmp, "versitygw.log"),
	}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The port is picked free and then handed over, so another process may
	// take it in between: try a few.
	var lastErr error
	for range 3 {
		if lastErr = s.start(t, bin); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatal(lastErr)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	s.client = s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       s.Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: tr},
	})
	s.CreateBucket(t, s.Bucket)
	return s
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs the server on a free port and waits until it answers HTTP.
func (s *Server) start(t testing.TB, bin string) error {
	addr, err := freePort()
	if err != nil {
		return err
	}
	log, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region,
		"--port", addr, "--keep-alive", "--quiet", "posix", s.Dir)
	// Files, not pipes: no goroutines copy the output.
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	s.Endpoint = "http://" + addr

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			break // any HTTP answer will do: it is serving
		}
		select {
		case werr := <-exited:
			out, _ := os.ReadFile(s.Log)
			return fmt.Errorf("versitygw on %s exited before answering: %v\n%s", addr, werr, out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			out, _ := os.ReadFile(s.Log)
			return fmt.Errorf("versitygw on %s did not answer within 20s: %v\n%s", addr, err, out)
		}
	}
	t.Cleanup(stop)
	return nil
}

// Env returns the environment that points the AWS SDK's default chain at
// the server: credentials, region and AWS_ENDPOINT_URL_S3, with shared
// config files and EC2 instance metadata turned off so nothing else is
// asked. Pass it to child processes.
func (s *Server) Env() []string {
	none := filepath.Join(s.Dir, "..", "no-aws-config")
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=" + s.Region,
		"AWS_DEFAULT_REGION=" + s.Region,
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + none,
		"AWS_SHARED_CREDENTIALS_FILE=" + none,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=",
		"AWS_ENDPOINT_URL_S3=" + s.Endpoint,
	}
}

// SetEnv sets Env in this process for the rest of t (t.Setenv).
func (s *Server) SetEnv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Client returns a client of the server with its credentials and path-style
// addressing; its connections are closed when the test that started the
// server ends.
func (s *Server) Client() *s3.Client { return s.client }

// CreateBucket makes another bucket on the server.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s on %s: %v", name, s.Endpoint, err)
	}
}

// Put stores an object directly (not through the code under test).
func (s *Server) Put(t testing.TB, key string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("put %s in bucket %s: %v", key, s.Bucket, err)
	}
}

// Keys lists every key in the server's bucket under prefix, directly.
func (s *Server) Keys(t testing.TB, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s in bucket %s: %v", prefix, s.Bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
