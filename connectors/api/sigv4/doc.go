// Package sigv4 verifies AWS Signature Version 4 on requests to eddy's
// Kinesis-compatible endpoint (`eddy serve`). It owns the SigV4 rules and
// nothing of the protocol: parsing the Authorization header (or a presigned
// request's X-Amz-* query), rebuilding the canonical request, string to sign
// and signing key, the clock-skew window, and AWS's error types and messages
// for each failure (as *Error, which the protocol layer puts in its
// envelope). It also loads the credentials the server accepts, from a file
// (LoadCredentials) or the environment (CredentialsFromEnv).
//
// Whether to verify at all (on loopback without credentials any signature is
// accepted) is the server's decision, not this package's.
package sigv4
