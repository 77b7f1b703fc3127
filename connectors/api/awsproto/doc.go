// Package awsproto is the AWS JSON 1.1 wire protocol, server side, shared by
// eddy's AWS-compatible endpoints (Kinesis now; Firehose later). It owns:
//
//   - routing by the X-Amz-Target header (PREFIX.Operation) to handlers, with
//     UnknownOperationException for targets the service does not have and
//     UnsupportedOperationException for operations of the model eddy does not
//     implement;
//   - request bodies read through a size limit before anything is decoded
//     (DefaultMaxBodyBytes, derived from the model's largest request);
//   - decoding application/x-amz-json-1.1 and application/x-amz-cbor-1.1 (what
//     the Java SDK, KPL and KCL send) against the operation's input shape,
//     ignoring unknown members as AWS does, and answering in the request's
//     content type (CBOR blobs are byte strings, timestamps tag 1 holding epoch
//     milliseconds as AWS answers the Java SDK; JSON blobs are base64, timestamps
//     epoch seconds);
//   - validation of the model's constraints (lengths, ranges, patterns, enums,
//     required members), answered as ValidationException in AWS's words;
//   - errors as AWS sends them: a body {"__type": T, "message": M}, the header
//     x-amzn-ErrorType and the HTTP status of T's entry in the table of error
//     types generated from the service models (errors_gen.go), and
//     x-amzn-RequestId on every response.
//
// Service models themselves (operations, input shapes and constraints) are
// generated into the packages of the services by connectors/api/internal/gen.
// The package knows no service and no store.
package awsproto
