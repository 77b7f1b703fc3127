package objectstore

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/connectors/objectstore/s3test"
)

func TestParseLocation(t *testing.T) {
	for _, c := range []struct{ in, bucket, prefix string }{
		{"s3://b", "b", ""},
		{"s3://b/", "b", ""},
		{"s3://b/p", "b", "p"},
		{"s3://my.bucket/a/b/c/", "my.bucket", "a/b/c"},
	} {
		b, p, err := ParseLocation(c.in)
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("ParseLocation(%q) = %q, %q, %v; want %q, %q", c.in, b, p, err, c.bucket, c.prefix)
		}
	}
	for _, in := range []string{"", "b/p", "s3:/b", "s3://", "s3:///p", "S3://b", "file:///tmp", "s3://b/a//c", "s3://b/../c", "s3://b/./c", "s3://b c/p"} {
		if b, p, err := ParseLocation(in); err == nil {
			t.Errorf("ParseLocation(%q) = %q, %q, want an error", in, b, p)
		} else if !strings.Contains(err.Error(), "s3://BUCKET") && !strings.Contains(err.Error(), "prefix") {
			t.Errorf("ParseLocation(%q): %v does not say what is wanted", in, err)
		}
	}
}

// open opens location, closing its connections at the end of t.
func open(t *testing.T, location string, opts Options) (*S3Store, error) {
	t.Helper()
	st, err := Open(testContext(t), location, opts)
	if err != nil {
		if st != nil {
			t.Fatalf("Open returned a store (%v) with error %v", st, err)
		}
		return nil, err
	}
	s := st.(*S3Store)
	t.Cleanup(s.CloseIdleConnections)
	return s, nil
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", parts)
	}
	t.Log(err)
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

// TestOpenErrors: each failure names what failed, where, and what to do.
func TestOpenErrors(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)

	t.Run("missing bucket", func(t *testing.T) {
		_, err := open(t, "s3://no-such-bucket/ckpt", Options{Endpoint: srv.Endpoint})
		wantErr(t, err, "s3://no-such-bucket/ckpt", "bucket no-such-bucket does not exist", srv.Endpoint, "create it first")
	})
	t.Run("wrong secret", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
		_, err := open(t, "s3://"+srv.Bucket, Options{Endpoint: srv.Endpoint})
		wantErr(t, err, "access to bucket "+srv.Bucket, srv.Endpoint, "denied", srv.AccessKey, "secret key does not match", "check the credentials")
	})
	t.Run("unknown access key", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "NOSUCHKEY")
		_, err := open(t, "s3://"+srv.Bucket, Options{Endpoint: srv.Endpoint})
		wantErr(t, err, "access to bucket "+srv.Bucket, "denied", "NOSUCHKEY", "not known", "check the credentials")
	})
	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + l.Addr().String()
		l.Close()
		start := time.Now()
		_, err = open(t, "s3://"+srv.Bucket+"/x", Options{Endpoint: dead})
		wantErr(t, err, "nothing answers at endpoint "+dead, "connection refused", "is the endpoint running")
		t.Logf("refused after %v (the SDK retries)", time.Since(start).Round(time.Millisecond))
	})
	t.Run("bad endpoint", func(t *testing.T) {
		for _, e := range []string{"127.0.0.1:7070", "ftp://127.0.0.1", "http://"} {
			_, err := open(t, "s3://"+srv.Bucket, Options{Endpoint: e})
			wantErr(t, err, "endpoint", "want a URL such as http://")
		}
	})
	t.Run("bad location", func(t *testing.T) {
		_, err := open(t, "s3:/"+srv.Bucket, Options{Endpoint: srv.Endpoint})
		wantErr(t, err, "want s3://BUCKET")
	})
	t.Run("missing profile", func(t *testing.T) {
		_, err := open(t, "s3://"+srv.Bucket, Options{Endpoint: srv.Endpoint, Profile: "no-such-profile"})
		wantErr(t, err, "load the AWS configuration", "add profile no-such-profile to the shared config")
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Open(ctx, "s3://"+srv.Bucket, Options{Endpoint: srv.Endpoint}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Open with a canceled context: %v", err)
		}
	})
}

// TestOpenConfiguration: where the endpoint, region, path style and
// credentials come from.
func TestOpenConfiguration(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)

	t.Run("endpoint from AWS_ENDPOINT_URL_S3", func(t *testing.T) {
		s, err := open(t, "s3://"+srv.Bucket+"/p/", Options{})
		if err != nil {
			t.Fatal(err)
		}
		o := s.client.Options()
		if o.BaseEndpoint == nil || *o.BaseEndpoint != srv.Endpoint || !o.UsePathStyle || o.Region != srv.Region {
			t.Fatalf("endpoint %v, path style %v, region %q", o.BaseEndpoint, o.UsePathStyle, o.Region)
		}
		if s.String() != "s3://"+srv.Bucket+"/p" {
			t.Fatalf("String() = %q", s)
		}
	})
	t.Run("endpoint from AWS_ENDPOINT_URL", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_S3", "")
		os.Unsetenv("AWS_ENDPOINT_URL_S3") // t.Setenv restores it
		t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
		if _, err := open(t, "s3://"+srv.Bucket, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Options.Endpoint over the environment", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
		if _, err := open(t, "s3://"+srv.Bucket, Options{Endpoint: srv.Endpoint}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("default region", func(t *testing.T) {
		t.Setenv("AWS_REGION", "")
		t.Setenv("AWS_DEFAULT_REGION", "")
		s, err := open(t, "s3://"+srv.Bucket, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r := s.client.Options().Region; r != DefaultRegion {
			t.Fatalf("region %q, want %q", r, DefaultRegion)
		}
	})
	t.Run("region option", func(t *testing.T) {
		// versitygw serves us-east-1 and checks the signature's region.
		_, err := open(t, "s3://"+srv.Bucket, Options{Region: "eu-west-1"})
		wantErr(t, err, "bucket "+srv.Bucket, "not in region eu-west-1", "set the region")
	})
	t.Run("path style", func(t *testing.T) {
		// Without an endpoint the client would talk to AWS: only built here.
		t.Setenv("AWS_ENDPOINT_URL_S3", "")
		os.Unsetenv("AWS_ENDPOINT_URL_S3")
		for _, c := range []struct {
			opts Options
			want bool
		}{
			{Options{}, false},
			{Options{PathStyle: true}, true},
			{Options{Endpoint: "http://127.0.0.1:1"}, true},
		} {
			client, _, err := newClient(testContext(t), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := client.Options().UsePathStyle; got != c.want {
				t.Errorf("%+v: path style %v, want %v", c.opts, got, c.want)
			}
		}
	})
	t.Run("profile", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "config")
		creds := filepath.Join(dir, "credentials")
		if err := os.WriteFile(cfg, []byte("[profile eddy]\nregion = "+srv.Region+"\nendpoint_url = "+srv.Endpoint+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(creds, []byte("[eddy]\naws_access_key_id = "+srv.AccessKey+"\naws_secret_access_key = "+srv.SecretKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"} {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
		t.Setenv("AWS_CONFIG_FILE", cfg)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
		s, err := open(t, "s3://"+srv.Bucket+"/from-profile", Options{Profile: "eddy"})
		if err != nil {
			t.Fatal(err)
		}
		if !s.client.Options().UsePathStyle {
			t.Error("an endpoint from the profile did not turn on path style")
		}
	})
}
