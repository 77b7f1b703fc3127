package kinesisapi

import (
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"
	"go.uber.org/goleak"

	"github.com/eddy-streams/eddy/connectors/streamstore"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable clock for stream states and iterator expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a Kinesis API on a loopback httptest server over a fresh store.
type env struct {
	store  *streamstore.Store
	h      *Handler
	srv    *httptest.Server
	client *kinesis.Client
	clock  *clock
}

// newEnv starts a server; opts.Now defaults to a settable clock and
// opts.StateDelay to none, so tests see ACTIVE streams unless they ask.
func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	st, err := streamstore.Open(t.TempDir(), streamstore.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	if opts.StateDelay == 0 {
		opts.StateDelay = -1
	}
	h, err := New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	e := &env{store: st, h: h, srv: srv, clock: c}
	e.client = e.newClient("us-east-1")
	t.Cleanup(func() {
		srv.Close()
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// newClient returns an SDK client of the server signing for region, without retries.
func (e *env) newClient(region string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   e.srv.Client(),
		Retryer:      apitest.ClosedConnRetryer(),
	})
}

func wantMessage(t testing.TB, err error, code, msg string) {
	t.Helper()
	apitest.WantAPIError(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if ae.ErrorMessage() != msg {
		t.Fatalf("%s message:\n got %q\nwant %q", code, ae.ErrorMessage(), msg)
	}
}

func createStream(t testing.TB, e *env, name string, shards int32) {
	t.Helper()
	_, err := e.client.CreateStream(apitest.Ctx(t), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)})
	if err != nil {
		t.Fatal(err)
	}
}
