package sigv4

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	want := Authorization{
		AccessKey: "AKID", Date: "20261123", Region: "us-east-1", Service: "kinesis",
		SignedHeaders: []string{"content-type", "host", "x-amz-date", "x-amz-target"},
		Signature:     sig, terminator: "aws4_request",
	}
	for _, h := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + sig,
		"AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request,SignedHeaders=content-type;host;x-amz-date;x-amz-target,Signature=" + sig,
		"AWS4-HMAC-SHA256 Signature=" + sig + " SignedHeaders=content-type;host;x-amz-date;x-amz-target Credential=AKID/20261123/us-east-1/kinesis/aws4_request",
		"AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request, Extra=1, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + sig,
	} {
		got, err := ParseAuthorization(h)
		if err != nil {
			t.Fatalf("%q: %v", h, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\ngot  %+v\nwant %+v", h, got, want)
		}
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	good := "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
	for _, tc := range []struct {
		name, header, code, msg string
	}{
		{"empty", "", CodeIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization="},
		{"algorithm only", "AWS4-HMAC-SHA256", CodeIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"},
		{"no signature", "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=host", CodeIncompleteSignature,
			"Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=host"},
		{"empty signature", strings.Replace(good, "Signature=00", "Signature=", 1), CodeIncompleteSignature,
			"Authorization header requires 'Signature' parameter. Authorization=" + strings.Replace(good, "Signature=00", "Signature=", 1)},
		{"pair without equals", good + ", Oops", CodeIncompleteSignature,
			"'Oops' not a valid key=value pair (missing equal-sign) in Authorization header: '" + good + ", Oops'"},
		{"algorithm", "AWS4-HMAC-SHA512" + strings.TrimPrefix(good, "AWS4-HMAC-SHA256"), CodeIncompleteSignature,
			"Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'."},
		{"four elements", strings.Replace(good, "/aws4_request", "", 1), CodeIncompleteSignature,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20261123/us-east-1/kinesis'"},
		{"six elements", strings.Replace(good, "aws4_request", "aws4_request/x", 1), CodeIncompleteSignature,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20261123/us-east-1/kinesis/aws4_request/x'"},
		{"terminator", strings.Replace(good, "aws4_request", "aws4", 1), CodeInvalidSignature,
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4'. "},
		{"region and date", strings.Replace(good, "20261123/us-east-1", "2026-11-23/", 1), CodeInvalidSignature,
			"Credential should be scoped to a valid region, not ''. Date in Credential scope must be YYYYMMDD, not '2026-11-23'. "},
		{"empty service", strings.Replace(good, "kinesis", "", 1), CodeInvalidSignature,
			"Credential should be scoped to a service, not ''. "},
		{"empty signed header", strings.Replace(good, "host;", ";host;", 1), CodeIncompleteSignature,
			"SignedHeaders has an empty header name, got ';host;x-amz-date'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAuthorization(tc.header)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Code != tc.code || e.Message != tc.msg || e.HTTPStatus != http.StatusBadRequest {
				t.Fatalf("got  %s: %q\nwant %s: %q", e.Code, e.Message, tc.code, tc.msg)
			}
		})
	}
}

func TestAuthorizationFromRequest(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/20261123/eu-west-2/kinesis/aws4_request, SignedHeaders=host, Signature=00")
	a, err := AuthorizationFromRequest(r)
	if err != nil || a.Region != "eu-west-2" || a.AccessKey != "x" {
		t.Fatalf("got %+v, %v", a, err)
	}

	r = httptest.NewRequest(http.MethodPost, "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=y%2F20261123%2Fap-south-1%2Fkinesis%2Faws4_request"+
		"&X-Amz-Date=20261123T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00", nil)
	a, err = AuthorizationFromRequest(r)
	if err != nil || a.Region != "ap-south-1" || a.AccessKey != "y" {
		t.Fatalf("presigned: got %+v, %v", a, err)
	}

	r = httptest.NewRequest(http.MethodPost, "/", nil)
	_, err = AuthorizationFromRequest(r)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeMissingAuthenticationToken || e.Message != "Missing Authentication Token" {
		t.Fatalf("no auth: got %v", err)
	}

	r = httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Add("Authorization", "AWS4-HMAC-SHA256 Credential=x/20261123/eu-west-2/kinesis/aws4_request, SignedHeaders=host, Signature=00")
	r.Header.Add("Authorization", "AWS4-HMAC-SHA256 Credential=x/20261123/eu-west-2/kinesis/aws4_request, SignedHeaders=host, Signature=01")
	if _, err = AuthorizationFromRequest(r); !errors.As(err, &e) || e.Code != CodeIncompleteSignature {
		t.Fatalf("two headers: got %v", err)
	}
}
