package firehoseapi

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"go.uber.org/goleak"

	"github.com/eddy-streams/eddy/connectors/firehose/catalog"
	"github.com/eddy-streams/eddy/connectors/streamstore"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const account = "123456789012"

// env is a Firehose API on a loopback httptest server over a fresh store and
// catalog in one data directory.
type env struct {
	dir    string
	store  *streamstore.Store
	cat    *catalog.Catalog
	srv    *httptest.Server
	client *firehose.Client
	clock  *clock
}

// clock is a settable clock for the catalog's states.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// newEnv starts a server; the catalog shows no CREATING state unless
// stateDelay is positive.
func newEnv(t testing.TB, stateDelay time.Duration) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := streamstore.Open(dir, streamstore.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if stateDelay == 0 {
		stateDelay = -1
	}
	clk := &clock{t: time.Now()}
	cat, err := catalog.Open(dir, catalog.Options{AccountID: account, StateDelay: stateDelay, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	api, err := New(st, cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	e := &env{dir: dir, store: st, cat: cat, srv: srv, clock: clk}
	e.client = firehose.New(firehose.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   srv.Client(),
		Retryer:      apitest.ClosedConnRetryer(),
	})
	t.Cleanup(func() {
		srv.Close()
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

const (
	roleARN   = "arn:aws:iam::123456789012:role/firehose"
	bucketARN = "arn:aws:s3:::my-bucket"
)

func extS3() *types.ExtendedS3DestinationConfiguration {
	return &types.ExtendedS3DestinationConfiguration{RoleARN: aws.String(roleARN), BucketARN: aws.String(bucketARN)}
}

func createDirect(t testing.TB, e *env, name string) {
	t.Helper()
	_, err := e.client.CreateDeliveryStream(apitest.Ctx(t), &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name), ExtendedS3DestinationConfiguration: extS3(),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func describeStream(t testing.TB, e *env, name string) *types.DeliveryStreamDescription {
	t.Helper()
	out, err := e.client.DescribeDeliveryStream(apitest.Ctx(t), &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out.DeliveryStreamDescription
}
