package sigv4

import "net/http"

// The error types Kinesis answers when a request's authentication fails, as
// the `__type` of its JSON (or CBOR) error body. Where each was checked:
//
//   - MissingAuthenticationTokenException, 400, "Missing Authentication
//     Token": kinesalite's connection tests, written against real Kinesis
//     (mhart/kinesalite test/connection.js, assertMissing). Kinesis answers
//     403 with an XML body only when the request is not a recognized JSON
//     request at all; that case belongs to the protocol layer.
//   - IncompleteSignatureException, 400: same tests (assertIncomplete), with
//     their exact messages; further messages from scratchstack-aws-signature's
//     error-ordering tests, which mirror AWS's wording.
//   - InvalidSignatureException, 400: "The request signature we calculated
//     ..." with the canonical string and string to sign appended, as Kinesis
//     returned it to the KPL (awslabs/amazon-kinesis-producer#33); "Signature
//     expired: ... (... - 5 min.)" from Kinesis PutRecords
//     (awslabs/amazon-kinesis-producer#41, #222), "Signature not yet current:
//     ... (... + 5 min.)" from Kinesis via aws-sdk-go (aws/aws-sdk-go#2194,
//     status code 400); scope errors ("Credential should be scoped to correct
//     service: 'kinesis'. ") from Kinesis (twitchscience/kinsumer#57).
//   - UnrecognizedClientException, 400, "The security token included in the
//     request is invalid.": Kinesis through the Java SDK ("Service:
//     AmazonKinesis; Status Code: 400; Error Code:
//     UnrecognizedClientException", awslabs/amazon-kinesis-scaling-utils#46).
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
)

// Messages that do not depend on the request.
const (
	msgMissingToken = "Missing Authentication Token"
	msgUnrecognized = "The security token included in the request is invalid."
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Error is an authentication failure as AWS reports it: the error type (Code),
// its message and the HTTP status. The protocol layer puts Code and Message in
// its own error envelope. Every error Verify, ParseAuthorization and
// AuthorizationFromRequest return is an *Error with one of the Code constants.
type Error struct {
	Code       string
	Message    string
	HTTPStatus int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(code, msg string) *Error {
	return &Error{Code: code, Message: msg, HTTPStatus: http.StatusBadRequest}
}

func missingToken() *Error { return newError(CodeMissingAuthenticationToken, msgMissingToken) }

func incomplete(msg string) *Error { return newError(CodeIncompleteSignature, msg) }

func invalid(msg string) *Error { return newError(CodeInvalidSignature, msg) }

func unrecognized() *Error { return newError(CodeUnrecognizedClient, msgUnrecognized) }
