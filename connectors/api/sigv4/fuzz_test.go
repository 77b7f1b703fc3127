package sigv4

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var knownCodes = map[string]bool{
	CodeMissingAuthenticationToken: true,
	CodeIncompleteSignature:        true,
	CodeInvalidSignature:           true,
	CodeUnrecognizedClient:         true,
}

// checkErr fails unless err is nil or an *Error with a known code and 400.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	if !knownCodes[e.Code] || e.HTTPStatus != http.StatusBadRequest || e.Message == "" {
		t.Fatalf("unexpected error %+v", e)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request,SignedHeaders=host,Signature=00",
		"AWS4- Signature=b Credential=a",
		"X",
		"",
		"AWS4-HMAC-SHA256 FooBar, BazBurp",
		"AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;, Signature==",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Credential=a/b/c/d/e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		a, err := ParseAuthorization(header)
		checkErr(t, err)
		if err != nil {
			return
		}
		if a.AccessKey == "" || len(a.Date) != 8 || !validRegion(a.Region) || a.Service == "" || a.Signature == "" || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted an incomplete authorization %+v from %q", a, header)
		}
		for _, h := range a.SignedHeaders {
			if h == "" {
				t.Fatalf("empty signed header from %q", header)
			}
		}
	})
}

// FuzzVerify builds a request from fuzzed parts (seeded with a correctly
// signed one) and checks that Verify never panics and always answers one of
// the known AWS errors, or accepts.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"k1"}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:4567/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hexSHA256(body), "kinesis", testRegion, serverNow); err != nil {
		f.Fatal(err)
	}
	auth, date := req.Header.Get("Authorization"), req.Header.Get("X-Amz-Date")
	f.Add("POST", "", auth, date, "Kinesis_20131202.PutRecord", "", "", body)
	f.Add("POST", "", auth, date, "Kinesis_20131202.PutRecord", "X-Amz-Security-Token", "tok", body)
	f.Add("POST", "", auth, date, "Kinesis_20131202.PutRecord", "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD", body)
	f.Add("POST", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261123%2Fus-east-1%2Fkinesis%2Faws4_request"+
		"&X-Amz-Date=20261123T003000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=60", "", "", "", "", "", body)
	f.Add("GET", "a=%zz&b=1;c", "X", "", "", "Date", "Mon, 23 Nov 2026 00:30:00 GMT", []byte{})
	f.Add("POST", "", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0", "20261123T003000Z", "", "", "", body)

	v := testVerifier()
	// The first seed is a correct signature: the fuzzer starts from an
	// accepted request.
	if _, err := v.Verify(fuzzRequest("POST", "", auth, date, "Kinesis_20131202.PutRecord", "", "", body), body); err != nil {
		f.Fatalf("the signed seed is refused: %v", err)
	}
	f.Fuzz(func(t *testing.T, method, rawQuery, auth, date, target, extraName, extraValue string, body []byte) {
		_, err := v.Verify(fuzzRequest(method, rawQuery, auth, date, target, extraName, extraValue, body), body)
		checkErr(t, err)
	})
}

// fuzzRequest builds a request as Go's server would present it.
func fuzzRequest(method, rawQuery, auth, date, target, extraName, extraValue string, body []byte) *http.Request {
	r := &http.Request{
		Method:     method,
		URL:        &url.URL{Path: "/", RawQuery: rawQuery},
		RequestURI: "/?" + rawQuery,
		Host:       "127.0.0.1:4567",
		Header:     http.Header{},
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		ContentLength: int64(len(body)),
	}
	if rawQuery == "" {
		r.RequestURI = "/"
	}
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header["Content-Length"] = []string{strconv.Itoa(len(body))}
	if target != "" {
		r.Header["X-Amz-Target"] = []string{target}
	}
	if auth != "" {
		r.Header["Authorization"] = []string{auth}
	}
	if date != "" {
		r.Header["X-Amz-Date"] = []string{date}
	}
	if extraName != "" {
		r.Header[extraName] = append(r.Header[extraName], extraValue)
	}
	return r
}
