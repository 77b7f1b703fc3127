package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxSkew is how far a request's date may be from the server's clock.
// Kinesis allows 5 minutes: its "Signature expired" and "Signature not yet
// current" messages say "- 5 min." and "+ 5 min."
// (awslabs/amazon-kinesis-producer#41 and #222, aws/aws-sdk-go#2194). Other
// services (DynamoDB, ECR) allow 15.
const DefaultMaxSkew = 5 * time.Minute

// maxPresignExpires is the longest X-Amz-Expires SigV4 allows: 7 days.
const maxPresignExpires = 7 * 24 * 60 * 60

// Verifier checks SigV4 signatures. Its zero value refuses every request with
// UnrecognizedClientException (it knows no access key). A Verifier is not
// modified by Verify and may be used by many goroutines at once.
type Verifier struct {
	// Credentials maps an access key id to its secret access key.
	Credentials map[string]string
	// Service is the service the credential scope must name ("kinesis");
	// empty accepts any.
	Service string
	// Now is the server's clock; nil is time.Now.
	Now func() time.Time
	// MaxSkew is how far the request's date may be from Now, either way;
	// zero is DefaultMaxSkew.
	MaxSkew time.Duration
}

// Identity is who signed a verified request, and the scope they signed for.
type Identity struct {
	AccessKey string
	Region    string
	Service   string
}

// Verify checks the signature of r, whose body has already been read into
// body (the caller limits its size). The host signed is r.Host. Every error is
// an *Error; the checks run in the order AWS runs them, so a request with
// several faults gets the error AWS would give:
//
//  1. Authorization header and X-Amz-Algorithm query both present
//     (InvalidSignature), neither (MissingAuthenticationToken);
//  2. the header's or query's form (IncompleteSignature);
//  3. host (and X-Amz-Security-Token, when sent) among the signed headers
//     (InvalidSignature);
//  4. the date's form (IncompleteSignature), then its skew (InvalidSignature);
//  5. the credential's form (IncompleteSignature), then its scope: region,
//     service, terminator, date (InvalidSignature);
//  6. the access key (UnrecognizedClient);
//  7. the signature, over the body's SHA-256 (InvalidSignature).
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	id, err := v.verify(r, body)
	if err != nil {
		return Identity{}, err
	}
	return id, nil
}

func (v *Verifier) verify(r *http.Request, body []byte) (Identity, *Error) {
	p, err := findAuth(r, true)
	if err != nil {
		return Identity{}, err
	}
	names := strings.Split(p.signedHeaders, ";")
	signed := make(map[string]bool, len(names))
	for _, n := range names {
		signed[strings.ToLower(n)] = true
	}
	// scratchstack-aws-signature's tests, after AWS. HTTP/2 clients sign
	// :authority, which Go's server presents as the Host.
	if !signed["host"] && !signed[":authority"] {
		return Identity{}, invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	// A session token sent as a header must be signed. AWS leaves this to
	// each service; every SDK signs it for Kinesis, and an unsigned token
	// could be swapped by anyone who sees the request. In a presigned
	// request's query it is signed with the rest of the query.
	if r.Header.Get("X-Amz-Security-Token") != "" && !signed["x-amz-security-token"] {
		return Identity{}, invalid("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.")
	}

	// The date: X-Amz-Date in ISO-8601 basic format, else the Date header.
	var at time.Time
	amzDate := p.date
	if p.dateIsHTTP {
		t, perr := http.ParseTime(p.date)
		if perr != nil {
			return Identity{}, badDate(p.date)
		}
		at = t.UTC()
		amzDate = at.Format(amzDateLayout)
	} else {
		t, perr := time.Parse(amzDateLayout, p.date)
		if perr != nil || len(p.date) != len(amzDateLayout) {
			return Identity{}, badDate(p.date)
		}
		at = t
	}
	if err := v.checkTime(p, at); err != nil {
		return Identity{}, err
	}

	a, err := p.authorization()
	if err != nil {
		return Identity{}, err
	}
	if msg := scopeProblems(a, v.Service, amzDate); msg != "" {
		return Identity{}, invalid(msg)
	}
	secret, ok := v.Credentials[a.AccessKey]
	if !ok {
		return Identity{}, unrecognized()
	}

	bodyHash, err := payloadHash(r, body)
	if err != nil {
		return Identity{}, err
	}
	key := signingKey(secret, a.Date, a.Region, a.Service)
	scope := a.Date + "/" + a.Region + "/" + a.Service + "/" + terminator
	var firstCanonical, firstSTS string
	for i, host := range hostCandidates(r) {
		canonical := canonicalRequest(r, p, host, bodyHash)
		sts := algorithm + "\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
		want := hex.EncodeToString(hmacSHA256(key, []byte(sts)))
		if hmac.Equal([]byte(want), []byte(a.Signature)) {
			return Identity{AccessKey: a.AccessKey, Region: a.Region, Service: a.Service}, nil
		}
		if i == 0 {
			firstCanonical, firstSTS = canonical, sts
		}
	}
	// AWS appends what it computed, which is how clients debug a mismatch
	// (awslabs/amazon-kinesis-producer#33; the same layout from API Gateway
	// and Elasticsearch in carsales/aws-request-signer#10).
	return Identity{}, invalid(msgMismatch +
		"\n\nThe Canonical String for this request should have been\n'" + firstCanonical +
		"'\n\nThe String-to-Sign should have been\n'" + firstSTS + "'\n")
}

// badDate is AWS's message for a date it cannot read (scratchstack-aws-signature's tests).
func badDate(d string) *Error {
	return incomplete(fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", d))
}

// checkTime refuses a request dated outside the skew window, or a presigned
// one past its X-Amz-Expires. The messages are AWS's: "Signature expired:
// <date> is now earlier than <now - skew> (<now> - 5 min.)" and "Signature
// not yet current: <date> is still later than <now + skew> (<now> + 5 min.)"
// (aws/aws-sdk-go#2194, awslabs/amazon-kinesis-producer#222;
// scratchstack-aws-signature's tests give the boundaries: a date exactly at
// the edge passes). A presigned request's expiry keeps that sentence with
// X-Amz-Expires in seconds in place of the skew: eddy's wording.
func (v *Verifier) checkTime(p *authParams, at time.Time) *Error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC().Truncate(time.Second)
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	f := func(t time.Time) string { return t.Format(amzDateLayout) }
	if late := t.Add(skew); at.After(late) {
		return invalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)", f(at), f(late), f(t), skewText(skew)))
	}
	if p.presigned && p.expires != "" {
		secs, err := strconv.ParseInt(p.expires, 10, 64)
		if err != nil || secs < 1 || secs > maxPresignExpires {
			return incomplete(fmt.Sprintf("X-Amz-Expires must be a whole number of seconds from 1 to %d, got '%s'. Re-examine the query-string parameters.", maxPresignExpires, p.expires))
		}
		if early := t.Add(-time.Duration(secs) * time.Second); at.Before(early) {
			return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d sec.)", f(at), f(early), f(t), secs))
		}
		return nil
	}
	if early := t.Add(-skew); at.Before(early) {
		return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)", f(at), f(early), f(t), skewText(skew)))
	}
	return nil
}

// skewText is "5 min." as AWS writes it, or seconds when not whole minutes.
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return fmt.Sprintf("%d sec.", d/time.Second)
}

// payloadHash is the hex SHA-256 of the body. Kinesis clients always sign the
// body (aws-sdk-go-v2's kinesis client computes the hash for every operation,
// SubscribeToShard included), so UNSIGNED-PAYLOAD is not accepted; a client
// that also sends X-Amz-Content-Sha256 must send the body's hash there.
// Message: S3's XAmzContentSHA256Mismatch (minio cmd/api-errors.go).
func payloadHash(r *http.Request, body []byte) (string, *Error) {
	sum := hexSHA256(body)
	h := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case h == "":
		return sum, nil
	case strings.EqualFold(h, sum):
		return h, nil
	case strings.HasPrefix(h, "UNSIGNED-PAYLOAD") || strings.HasPrefix(h, "STREAMING-"):
		return "", invalid(fmt.Sprintf("x-amz-content-sha256 '%s' is not accepted: the request body must be signed.", h))
	}
	return "", invalid("The provided 'x-amz-content-sha256' header does not match what was computed.")
}

// hostCandidates are the host values to try: r.Host, and without a default
// port (:80, :443) as well, since the SDKs sign the host without one and some
// HTTP clients send it with.
func hostCandidates(r *http.Request) []string {
	h := r.Host
	if h == "" {
		h = r.URL.Host
	}
	for _, port := range []string{":80", ":443"} {
		if s, ok := strings.CutSuffix(h, port); ok && s != "" && !strings.HasSuffix(s, ":") {
			return []string{h, s}
		}
	}
	return []string{h}
}

// canonicalRequest builds the SigV4 canonical request: method, canonical URI,
// canonical query, canonical headers, signed headers, payload hash.
func canonicalRequest(r *http.Request, p *authParams, host, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, p.presigned))
	b.WriteByte('\n')
	lower := lowerHeaders(r.Header)
	for _, name := range strings.Split(p.signedHeaders, ";") {
		n := strings.ToLower(name)
		b.WriteString(name)
		b.WriteByte(':')
		switch n {
		case "host", ":authority":
			b.WriteString(canonicalValue(host))
		default:
			vals := lower[n]
			if len(vals) == 0 {
				vals = implicitHeader(r, n)
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(canonicalValue(v))
			}
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(p.signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// implicitHeader gives the headers Go's HTTP server keeps out of r.Header.
func implicitHeader(r *http.Request, name string) []string {
	switch name {
	case "content-length":
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	}
	return nil
}

// lowerHeaders indexes the header by lowercase name. Keys that differ only in
// case (possible when a header was set without canonicalizing) are merged in
// a fixed order.
func lowerHeaders(h http.Header) map[string][]string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string][]string, len(h))
	for _, k := range keys {
		l := strings.ToLower(k)
		out[l] = append(out[l], h[k]...)
	}
	return out
}

// canonicalValue trims a header value and collapses runs of spaces, as the
// SigV4 spec asks and aws-sdk-go-v2's signer does.
func canonicalValue(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// canonicalURI is the path as the client sent it, URI-encoded once more, as
// every service but S3 expects ("/" for Kinesis). No dot-segment
// normalization: the SDKs do none for Kinesis.
func canonicalURI(r *http.Request) string {
	p := ""
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ = strings.Cut(r.RequestURI, "?")
	} else {
		p = r.URL.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if unreserved(c) || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// canonicalQuery encodes each name and value (RFC 3986 unreserved kept,
// space as %20), then sorts by name and value, as aws-sdk-go-v2 does
// (sorting after encoding). A presigned request's signature is left out.
func canonicalQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	q, _ := url.ParseQuery(raw)
	type kv struct{ k, v string }
	var params []kv
	for k, vs := range q {
		if presigned && k == qSignature {
			continue
		}
		ek := uriEncode(k)
		for _, v := range vs {
			params = append(params, kv{ek, uriEncode(v)})
		}
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// signingKey derives the SigV4 key: HMAC chain of date, region, service and
// "aws4_request" starting from "AWS4"+secret.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte(terminator))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
