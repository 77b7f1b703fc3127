// Package apitest owns what the AWS API packages' tests share: a context
// bounded per test, AWS error assertions, a must helper, and the retryer
// that retries only the SDK client's closed-connection race.
package apitest

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Ctx is a context that ends after 30 s or with the test.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// WantAPIError checks that err is an AWS error of code whose message
// contains every one of parts.
func WantAPIError(t testing.TB, err error, code string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v (%T), want an API error %s", err, err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got error code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	for _, p := range parts {
		if !strings.Contains(ae.ErrorMessage(), p) {
			t.Fatalf("%s message %q does not contain %q", code, ae.ErrorMessage(), p)
		}
	}
}

// Must returns a function that fails the test on an error and returns the value.
func Must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// ClosedConnRetryer retries one failure only: a reply whose connection the
// client's own transport closed because the SDK closed the request body while
// the transport still checked it for extra bytes (aws-sdk-go-v2#2737, a race
// in the client that the SDK's default retryer retries too). Every other
// error surfaces at once, as with aws.NopRetryer.
func ClosedConnRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
	})
}
