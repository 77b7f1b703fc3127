package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRegion = "us-east-1"
)

// serverNow is the server's clock in these tests.
var serverNow = time.Date(2026, 11, 23, 0, 30, 0, 0, time.UTC)

func testVerifier() *Verifier {
	return &Verifier{
		Credentials: map[string]string{testKey: testSecret, "AKIDOTHER": "other-secret"},
		Service:     "kinesis",
		Now:         func() time.Time { return serverNow },
	}
}

// result is what the test server answers: Verify's outcome.
type result struct {
	Identity Identity
	Code     string
	Message  string
	Status   int
}

func (r result) String() string {
	if r.Code == "" {
		return fmt.Sprintf("accepted %+v", r.Identity)
	}
	return fmt.Sprintf("%s (%d): %q", r.Code, r.Status, r.Message)
}

// serve starts a loopback server whose handler reads the body and verifies
// the request with v, answering the outcome as JSON.
func serve(t *testing.T, v *Verifier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var res result
		id, err := v.Verify(r, body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				http.Error(w, "not an *Error: "+err.Error(), http.StatusInternalServerError)
				return
			}
			res.Code, res.Message, res.Status = e.Code, e.Message, e.HTTPStatus
		} else {
			res.Identity = id
		}
		_ = json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func decode(t *testing.T, resp *http.Response) result {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("test server: %s: %s", resp.Status, b)
	}
	var res result
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// send sends a signed request through the loopback server.
func send(t *testing.T, srv *httptest.Server, req *http.Request) result {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

// kinesisRequest builds a POST as aws-sdk-go-v2's kinesis client sends it.
func kinesisRequest(t *testing.T, base, target string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+target)
	req.Header.Set("Amz-Sdk-Invocation-Id", "1d0b4bd4-6f7e-4c6e-9a43-6f1d2b0b8a01")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26 api/kinesis#1.56.11")
	return req
}

type signOpts struct {
	key, secret, token string
	region, service    string
	at                 time.Time
	canonical          *string // receives the SDK's canonical request
}

func (o signOpts) fill() signOpts {
	if o.key == "" {
		o.key = testKey
	}
	if o.secret == "" {
		o.secret = testSecret
	}
	if o.region == "" {
		o.region = testRegion
	}
	if o.service == "" {
		o.service = "kinesis"
	}
	if o.at.IsZero() {
		o.at = serverNow.Add(-20 * time.Second)
	}
	return o
}

// sign signs req with aws-sdk-go-v2's SigV4 signer.
func sign(t *testing.T, req *http.Request, body []byte, o signOpts) {
	t.Helper()
	o = o.fill()
	signer := v4.NewSigner(func(so *v4.SignerOptions) {
		if o.canonical != nil {
			so.LogSigning = true
			so.Logger = logging.LoggerFunc(func(_ logging.Classification, format string, v ...interface{}) {
				msg := fmt.Sprintf(format, v...)
				_, rest, _ := strings.Cut(msg, "---[ CANONICAL STRING  ]-----------------------------\n")
				c, _, _ := strings.Cut(rest, "\n---[ STRING TO SIGN ]")
				*o.canonical = c
			})
		}
	})
	creds := aws.Credentials{AccessKeyID: o.key, SecretAccessKey: o.secret, SessionToken: o.token}
	if err := signer.SignHTTP(context.Background(), creds, req, hexSHA256(body), o.service, o.region, o.at); err != nil {
		t.Fatal(err)
	}
}

func wantAccepted(t *testing.T, res result) {
	t.Helper()
	if res.Code != "" {
		t.Fatalf("refused: %v", res)
	}
	want := Identity{AccessKey: testKey, Region: testRegion, Service: "kinesis"}
	if res.Identity != want {
		t.Fatalf("identity %+v, want %+v", res.Identity, want)
	}
}

func wantError(t *testing.T, res result, code, msg string) {
	t.Helper()
	if res.Code != code || res.Message != msg || res.Status != http.StatusBadRequest {
		t.Fatalf("got %v\nwant %s (400): %q", res, code, msg)
	}
}

func wantMismatch(t *testing.T, res result) {
	t.Helper()
	if res.Code != CodeInvalidSignature || res.Status != 400 ||
		!strings.HasPrefix(res.Message, msgMismatch+"\n\nThe Canonical String for this request should have been\n'POST\n/\n") ||
		!strings.Contains(res.Message, "'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n") {
		t.Fatalf("got %v, want the signature mismatch", res)
	}
}

var putRecordBody = []byte(`{"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"k1"}`)

func TestVerifyAcceptsSDKSignedKinesisRequests(t *testing.T) {
	srv := serve(t, testVerifier())
	for _, tc := range []struct {
		target string
		body   []byte
	}{
		{"PutRecord", putRecordBody},
		{"PutRecords", []byte(`{"StreamName":"orders","Records":[{"Data":"YQ==","PartitionKey":"a"},{"Data":"Yg==","PartitionKey":"b"}]}`)},
		{"ListStreams", []byte(`{}`)},
		{"DescribeStreamSummary", []byte(`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/orders"}`)},
		{"GetRecords", []byte(`{"ShardIterator":"AAAA+/==","Limit":1000}`)},
	} {
		t.Run(tc.target, func(t *testing.T) {
			req := kinesisRequest(t, srv.URL, tc.target, tc.body)
			sign(t, req, tc.body, signOpts{})
			wantAccepted(t, send(t, srv, req))
		})
	}
}

func TestVerifyEmptyBody(t *testing.T) {
	srv := serve(t, testVerifier())
	req := kinesisRequest(t, srv.URL, "ListStreams", nil)
	sign(t, req, nil, signOpts{})
	wantAccepted(t, send(t, srv, req))
}

// The canonical request Verify builds on the server is byte for byte the one
// the SDK signed on the client.
func TestCanonicalRequestMatchesSDK(t *testing.T) {
	var sdk string
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, err := findAuth(r, true)
		if err != nil {
			t.Error(err)
			return
		}
		got = canonicalRequest(r, p, r.Host, hexSHA256(body))
	}))
	defer srv.Close()
	req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
	req.Header.Set("X-Custom", "  two   spaces  inside ")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", " b  c")
	req.URL.RawQuery = "b=2&a=x%2Fy&a=x-y&sp=a+b&emp="
	sign(t, req, putRecordBody, signOpts{canonical: &sdk})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sdk == "" || got != sdk {
		t.Fatalf("canonical request differs\nserver:\n%s\nSDK:\n%s", got, sdk)
	}
}

// rawSend writes the request on a TCP connection with its header lines in the
// given order, to test orders and spellings Go's client would not produce.
func rawSend(t *testing.T, srv *httptest.Server, req *http.Request, body []byte, order []string, extra string) result {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "POST / HTTP/1.1\r\n")
	for _, name := range order {
		switch strings.ToLower(name) {
		case "host":
			fmt.Fprintf(&b, "%s: %s\r\n", name, req.URL.Host)
		case "content-length":
			fmt.Fprintf(&b, "%s: %d\r\n", name, len(body))
		default:
			for _, v := range req.Header.Values(name) {
				fmt.Fprintf(&b, "%s: %s\r\n", name, v)
			}
		}
	}
	b.WriteString(extra)
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func TestVerifyHeaderOrdersAndUnsignedExtras(t *testing.T) {
	srv := serve(t, testVerifier())
	req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
	sign(t, req, putRecordBody, signOpts{})
	names := []string{"Host", "Content-Length", "Content-Type", "X-Amz-Target", "X-Amz-Date", "Authorization",
		"Amz-Sdk-Invocation-Id", "Amz-Sdk-Request", "User-Agent"}
	orders := map[string][]string{
		"as signed": names,
		"reversed":  reverse(names),
		"lowercase": lower(names),
		"auth first": append([]string{"Authorization", "x-amz-date", "HOST"},
			"content-type", "X-AMZ-TARGET", "Content-Length", "amz-sdk-request", "Amz-Sdk-Invocation-Id"),
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			wantAccepted(t, rawSend(t, srv, req, putRecordBody, order, ""))
		})
	}
	t.Run("unsigned extras", func(t *testing.T) {
		extra := "Accept-Encoding: gzip\r\nX-Amzn-Trace-Id: Root=1-abc\r\nX-Forwarded-For: 10.0.0.1\r\nCache-Control: no-cache\r\n"
		wantAccepted(t, rawSend(t, srv, req, putRecordBody, names, extra))
	})
	t.Run("extra value of a signed header", func(t *testing.T) {
		res := rawSend(t, srv, req, putRecordBody, names, "X-Amz-Target: Kinesis_20131202.DeleteStream\r\n")
		wantMismatch(t, res)
	})
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func lower(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

func TestVerifyRefusals(t *testing.T) {
	srv := serve(t, testVerifier())
	t.Run("wrong secret", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{secret: "not-the-secret"})
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("another key's secret", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{key: "AKIDOTHER"})
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("unknown access key", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{key: "AKIDNOBODY"})
		wantError(t, send(t, srv, req), CodeUnrecognizedClient, "The security token included in the request is invalid.")
	})
	t.Run("tampered body, same length", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{})
		tampered := bytes.Replace(putRecordBody, []byte(`"k1"`), []byte(`"k2"`), 1)
		req.Body = io.NopCloser(bytes.NewReader(tampered))
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("tampered body, other length", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{})
		tampered := bytes.Replace(putRecordBody, []byte(`"orders"`), []byte(`"payments"`), 1)
		req.Body = io.NopCloser(bytes.NewReader(tampered))
		req.ContentLength = int64(len(tampered))
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("tampered signed header", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{})
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.DeleteStream")
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("tampered date", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{})
		req.Header.Set("X-Amz-Date", serverNow.Add(-10*time.Second).Format(amzDateLayout))
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("tampered query", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{})
		req.URL.RawQuery = "x=1"
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("signed for another host", func(t *testing.T) {
		req := kinesisRequest(t, "http://kinesis.us-east-1.amazonaws.com", "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{})
		u, _ := url.Parse(srv.URL)
		req.URL.Host, req.Host = u.Host, ""
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("wrong service", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{service: "firehose"})
		wantError(t, send(t, srv, req), CodeInvalidSignature, "Credential should be scoped to correct service: 'kinesis'. ")
	})
	t.Run("invalid region", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{region: "US_EAST"})
		wantError(t, send(t, srv, req), CodeInvalidSignature, "Credential should be scoped to a valid region, not 'US_EAST'. ")
	})
	t.Run("missing authorization", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		wantError(t, send(t, srv, req), CodeMissingAuthenticationToken, "Missing Authentication Token")
	})
	t.Run("unsigned session token", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{})
		req.Header.Set("X-Amz-Security-Token", "FwoGZXIvYXdzEBY")
		wantError(t, send(t, srv, req), CodeInvalidSignature, "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.")
	})
	t.Run("content sha256 of another body", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		req.Header.Set("X-Amz-Content-Sha256", hexSHA256([]byte("other")))
		sign(t, req, putRecordBody, signOpts{})
		wantError(t, send(t, srv, req), CodeInvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	})
	t.Run("unsigned payload", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		signer := v4.NewSigner()
		creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
		if err := signer.SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "kinesis", testRegion, serverNow); err != nil {
			t.Fatal(err)
		}
		wantError(t, send(t, srv, req), CodeInvalidSignature, "x-amz-content-sha256 'UNSIGNED-PAYLOAD' is not accepted: the request body must be signed.")
	})
}

func TestVerifyAcceptsSessionTokenAndContentSHA(t *testing.T) {
	srv := serve(t, testVerifier())
	t.Run("session token", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{token: "FwoGZXIvYXdzEBYaDH+token/with=chars"})
		if req.Header.Get("X-Amz-Security-Token") == "" || !strings.Contains(req.Header.Get("Authorization"), "x-amz-security-token") {
			t.Fatalf("the SDK did not sign the token: %v", req.Header)
		}
		wantAccepted(t, send(t, srv, req))
	})
	t.Run("x-amz-content-sha256", func(t *testing.T) {
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		req.Header.Set("X-Amz-Content-Sha256", hexSHA256(putRecordBody))
		sign(t, req, putRecordBody, signOpts{})
		wantAccepted(t, send(t, srv, req))
	})
}

func TestVerifyClockSkew(t *testing.T) {
	srv := serve(t, testVerifier())
	for _, tc := range []struct {
		name string
		at   time.Time
		code string
		msg  string
	}{
		{"now", serverNow, "", ""},
		{"5 min old", serverNow.Add(-5 * time.Minute), "", ""},
		{"5 min ahead", serverNow.Add(5 * time.Minute), "", ""},
		{"5 min 1 s old", serverNow.Add(-5*time.Minute - time.Second), CodeInvalidSignature,
			"Signature expired: 20261123T002459Z is now earlier than 20261123T002500Z (20261123T003000Z - 5 min.)"},
		{"an hour old", serverNow.Add(-time.Hour), CodeInvalidSignature,
			"Signature expired: 20261122T233000Z is now earlier than 20261123T002500Z (20261123T003000Z - 5 min.)"},
		{"5 min 1 s ahead", serverNow.Add(5*time.Minute + time.Second), CodeInvalidSignature,
			"Signature not yet current: 20261123T003501Z is still later than 20261123T003500Z (20261123T003000Z + 5 min.)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
			sign(t, req, putRecordBody, signOpts{at: tc.at})
			res := send(t, srv, req)
			if tc.code == "" {
				wantAccepted(t, res)
				return
			}
			wantError(t, res, tc.code, tc.msg)
		})
	}
	t.Run("15 min skew as DynamoDB", func(t *testing.T) {
		v := testVerifier()
		v.MaxSkew = 15 * time.Minute
		srv := serve(t, v)
		req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
		sign(t, req, putRecordBody, signOpts{at: serverNow.Add(-30 * time.Minute)})
		wantError(t, send(t, srv, req), CodeInvalidSignature,
			"Signature expired: 20261123T000000Z is now earlier than 20261123T001500Z (20261123T003000Z - 15 min.)")
	})
}

func TestVerifyPresigned(t *testing.T) {
	srv := serve(t, testVerifier())
	presign := func(t *testing.T, at time.Time, expires string) *http.Request {
		t.Helper()
		req := kinesisRequest(t, srv.URL, "ListStreams", []byte(`{}`))
		if expires != "" {
			req.URL.RawQuery = "X-Amz-Expires=" + expires
		}
		signer := v4.NewSigner()
		creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: "tok/en+="}
		signed, hdr, err := signer.PresignHTTP(context.Background(), creds, req, hexSHA256([]byte(`{}`)), "kinesis", testRegion, at)
		if err != nil {
			t.Fatal(err)
		}
		out, err := http.NewRequest(http.MethodPost, signed, strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			if !strings.EqualFold(k, "host") {
				out.Header[k] = v
			}
		}
		return out
	}
	t.Run("accepted", func(t *testing.T) {
		wantAccepted(t, send(t, srv, presign(t, serverNow.Add(-time.Minute), "")))
	})
	t.Run("within X-Amz-Expires", func(t *testing.T) {
		wantAccepted(t, send(t, srv, presign(t, serverNow.Add(-50*time.Minute), "3600")))
	})
	t.Run("past X-Amz-Expires", func(t *testing.T) {
		wantError(t, send(t, srv, presign(t, serverNow.Add(-2*time.Minute), "60")), CodeInvalidSignature,
			"Signature expired: 20261123T002800Z is now earlier than 20261123T002900Z (20261123T003000Z - 60 sec.)")
	})
	t.Run("tampered query", func(t *testing.T) {
		req := presign(t, serverNow, "")
		req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "X-Amz-Security-Token=", "X-Amz-Security-Token=x", 1)
		wantMismatch(t, send(t, srv, req))
	})
	t.Run("header and query", func(t *testing.T) {
		req := presign(t, serverNow, "")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
		wantError(t, send(t, srv, req), CodeInvalidSignature,
			"Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	})
}

// AWS's published SigV4 test vector "get-vanilla" (the signature test suite):
// an independent check of the canonical request, key derivation and string
// to sign.
func TestVerifyGetVanillaVector(t *testing.T) {
	v := &Verifier{
		Credentials: map[string]string{"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
		Now:         func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) },
	}
	r := httptest.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
		"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	id, err := v.Verify(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id != (Identity{AccessKey: "AKIDEXAMPLE", Region: "us-east-1", Service: "service"}) {
		t.Fatalf("identity %+v", id)
	}
}

// Malformed authorizations, checked directly on server-side requests.
func TestVerifyIncompleteSignature(t *testing.T) {
	v := testVerifier()
	date := serverNow.Format(amzDateLayout)
	good := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		name, auth, date, query string
		code, msg               string
	}{
		// kinesalite test/connection.js, written against Kinesis.
		{"X", "X", "", "", CodeIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. " +
				"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=X"},
		{"spaces only", "AWS4- Signature=b Credential=a", date, "", CodeIncompleteSignature,
			"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b Credential=a"},
		{"comma no space", "AWS4- Signature=b,Credential=a", date, "", CodeIncompleteSignature,
			"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b,Credential=a"},
		{"header and query", "X", date, "X-Amz-Algorithm", CodeInvalidSignature,
			"Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
		{"empty X-Amz-Algorithm query", "", date, "X-Amz-Algorithm", CodeIncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. " +
				"AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. " +
				"AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."},
		{"query without SignedHeaders", "", "", "X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d", CodeIncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
		{"query without X-Amz-Algorithm", "", "", "X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-SignedHeaders=c&X-Amz-Date=d",
			CodeMissingAuthenticationToken, "Missing Authentication Token"},
		// scratchstack-aws-signature's tests, after AWS.
		{"missing equal sign", "AWS4-HMAC-SHA256 FooBar, BazBurp", date, "", CodeIncompleteSignature,
			"'FooBar' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 FooBar, BazBurp'"},
		{"unknown parameters", "AWS4-HMAC-SHA256 Foo=Bar, Baz=Burp", date, "", CodeIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Foo=Bar, Baz=Burp"},
		{"algorithm", strings.Replace(good, "AWS4-HMAC-SHA256", "AWS5-HMAC-SHA256", 1), date, "", CodeIncompleteSignature,
			"Unsupported AWS 'algorithm': 'AWS5-HMAC-SHA256'."},
		{"host not signed", strings.Replace(good, "host;", "", 1), date, "", CodeInvalidSignature,
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"bad date", good, "2026/11/23T00/30/00Z", "", CodeIncompleteSignature,
			"Date must be in ISO-8601 'basic format'. Got '2026/11/23T00/30/00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{"credential elements", strings.Replace(good, "AKIDEXAMPLE/20261123/us-east-1/kinesis/aws4_request", "AKIDEXAMPLE", 1), date, "", CodeIncompleteSignature,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE'"},
		{"scope", strings.Replace(good, "20261123/us-east-1/kinesis/aws4_request", "foobar/wrong_region/wrong-service/aws5_request", 1), date, "", CodeInvalidSignature,
			"Credential should be scoped to a valid region, not 'wrong_region'. Credential should be scoped to correct service: 'kinesis'. " +
				"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. " +
				"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'foobar' != '20261123', from '20261123T003000Z'. "},
		{"terminator", strings.Replace(good, "aws4_request", "aws4_reques", 1), date, "", CodeInvalidSignature,
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'. "},
		{"scope date of yesterday", strings.Replace(good, "20261123", "20261122", 1), date, "", CodeInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261122' != '20261123', from '20261123T003000Z'. "},
		// eddy's own strictness.
		{"duplicate parameter", good + ", Signature=" + strings.Repeat("1", 64), date, "", CodeIncompleteSignature,
			"Authorization header has more than one 'Signature' parameter. Authorization=" + good + ", Signature=" + strings.Repeat("1", 64)},
		{"empty signed header", strings.Replace(good, "host;", "host;;", 1), date, "", CodeIncompleteSignature,
			"SignedHeaders has an empty header name, got 'content-type;host;;x-amz-date;x-amz-target'"},
		{"empty access key", strings.Replace(good, "AKIDEXAMPLE/", "/", 1), date, "", CodeIncompleteSignature,
			"Credential has an empty access key id, got '/20261123/us-east-1/kinesis/aws4_request'"},
		{"wrong signature", good, date, "", CodeInvalidSignature, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/"
			if tc.query != "" {
				target += "?" + tc.query
			}
			r := httptest.NewRequest(http.MethodPost, target, strings.NewReader("{}"))
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.date != "" {
				r.Header.Set("X-Amz-Date", tc.date)
			}
			_, err := v.Verify(r, []byte("{}"))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if tc.msg == "" {
				if e.Code != tc.code || !strings.HasPrefix(e.Message, msgMismatch) {
					t.Fatalf("got %v", e)
				}
				return
			}
			if e.Code != tc.code || e.Message != tc.msg || e.HTTPStatus != 400 {
				t.Fatalf("got  %s: %q\nwant %s: %q", e.Code, e.Message, tc.code, tc.msg)
			}
		})
	}
}

func TestVerifyDateHeader(t *testing.T) {
	// A client without X-Amz-Date may sign with Date (RFC 1123); the string
	// to sign carries it in ISO-8601 basic format.
	v := testVerifier()
	at := serverNow.Add(-time.Minute)
	body := []byte("{}")
	r := httptest.NewRequest(http.MethodPost, "http://localhost:4567/", bytes.NewReader(body))
	r.Header.Set("Date", at.Format(http.TimeFormat))
	p := &authParams{signedHeaders: "date;host"}
	canonical := canonicalRequest(r, p, r.Host, hexSHA256(body))
	scope := "20261123/us-east-1/kinesis/aws4_request"
	sts := algorithm + "\n" + at.Format(amzDateLayout) + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
	sig := fmt.Sprintf("%x", hmacSHA256(signingKey(testSecret, "20261123", "us-east-1", "kinesis"), []byte(sts)))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/"+scope+", SignedHeaders=date;host, Signature="+sig)
	if _, err := v.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Date", "yesterday")
	_, err := v.Verify(r, body)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeIncompleteSignature {
		t.Fatalf("got %v", err)
	}
}

func TestVerifyHostWithDefaultPort(t *testing.T) {
	// Signed without the default port (as the SDKs do), sent with it.
	v := testVerifier()
	body := []byte("{}")
	req := kinesisRequest(t, "https://kinesis.example.com", "ListStreams", body)
	sign(t, req, body, signOpts{})
	r := httptest.NewRequest(http.MethodPost, "https://kinesis.example.com:443/", bytes.NewReader(body))
	r.Header = req.Header.Clone()
	r.Host = "kinesis.example.com:443"
	if _, err := v.Verify(r, body); err != nil {
		t.Fatal(err)
	}
}

func TestVerifierZeroValueRefuses(t *testing.T) {
	var v Verifier
	srv := serve(t, &v)
	req := kinesisRequest(t, srv.URL, "PutRecord", putRecordBody)
	sign(t, req, putRecordBody, signOpts{at: time.Now()})
	wantError(t, send(t, srv, req), CodeUnrecognizedClient, "The security token included in the request is invalid.")
}

func TestVerifyConcurrent(t *testing.T) {
	v := testVerifier()
	srv := serve(t, v)
	errs := make(chan string, 16)
	for i := 0; i < 16; i++ {
		body := []byte(fmt.Sprintf(`{"StreamName":"s","Data":"YQ==","PartitionKey":"%d"}`, i))
		req := kinesisRequest(t, srv.URL, "PutRecord", body)
		sign(t, req, body, signOpts{})
		go func() {
			resp, err := srv.Client().Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			var res result
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Code != "" {
				errs <- fmt.Sprint(err, res)
				return
			}
			errs <- ""
		}()
	}
	for i := 0; i < 16; i++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
