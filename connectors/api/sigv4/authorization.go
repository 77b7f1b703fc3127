package sigv4

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"

	// amzDateLayout is ISO-8601 "basic format", as X-Amz-Date carries it.
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"

	// Query parameters of a presigned request.
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qSignature     = "X-Amz-Signature"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
)

// Authorization is a parsed SigV4 authorization: the Authorization header of
// a request, or the X-Amz-* query parameters of a presigned one.
type Authorization struct {
	// AccessKey, Date (YYYYMMDD), Region and Service are the credential scope
	// AKID/20261123/us-east-1/kinesis/aws4_request.
	AccessKey string
	Date      string
	Region    string
	Service   string
	// SignedHeaders are the names listed in SignedHeaders, in their order.
	SignedHeaders []string
	// Signature is the hex signature as the client sent it.
	Signature string

	terminator string // fifth element of the credential; must be aws4_request
}

// ParseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
//
// Parameters may be separated by commas, spaces or both, as AWS accepts.
// Errors are *Error: IncompleteSignatureException for a header that is not of
// that form (missing parameters, a parameter without '=', another algorithm,
// a credential that is not five '/'-separated elements, an empty access key or
// signed header name), InvalidSignatureException for a credential scope AWS
// would refuse (an invalid region, an empty service, a terminator other than
// aws4_request, a date that is not YYYYMMDD), with AWS's messages where AWS
// has one. It does not check the date against the request's, nor the service
// against the one expected: Verify does.
func ParseAuthorization(header string) (Authorization, error) {
	p, err := parseAuthHeader(header, true)
	if err != nil {
		return Authorization{}, err
	}
	a, err := p.authorization()
	if err != nil {
		return Authorization{}, err
	}
	if msg := scopeProblems(a, "", ""); msg != "" {
		return Authorization{}, invalid(msg)
	}
	return a, nil
}

// AuthorizationFromRequest finds and parses the request's authorization, from
// its Authorization header or, for a presigned request, its X-Amz-* query
// parameters, without verifying anything else (no date, clock, key or
// signature check): a server that accepts any signature uses it to learn the
// region of the credential scope. A request with neither is refused with
// MissingAuthenticationTokenException; errors are those of ParseAuthorization
// otherwise.
func AuthorizationFromRequest(r *http.Request) (Authorization, error) {
	p, err := findAuth(r, false)
	if err != nil {
		return Authorization{}, err
	}
	a, err := p.authorization()
	if err != nil {
		return Authorization{}, err
	}
	if msg := scopeProblems(a, "", ""); msg != "" {
		return Authorization{}, invalid(msg)
	}
	return a, nil
}

// authParams are the raw parameters of a header or presigned authorization.
type authParams struct {
	algorithm     string
	credential    string
	signedHeaders string
	signature     string
	// date is X-Amz-Date (or Date for header authorization), as sent.
	date       string
	dateIsHTTP bool // date came from the Date header (RFC 1123), not X-Amz-Date
	presigned  bool
	expires    string // X-Amz-Expires of a presigned request, as sent
}

// findAuth locates the authorization of r, in the order Kinesis checks:
// header and query together are refused, neither is a missing token.
// requireDate refuses header authorization without X-Amz-Date or Date.
func findAuth(r *http.Request, requireDate bool) (*authParams, *Error) {
	query, _ := url.ParseQuery(r.URL.RawQuery)
	_, queryAuth := query[qAlgorithm]
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return nil, incomplete("The request has more than one Authorization header.")
	}
	header := ""
	if len(headers) == 1 {
		header = headers[0]
	}
	switch {
	case header != "" && queryAuth:
		// kinesalite test/connection.js, assertInvalid.
		return nil, invalid("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	case header == "" && !queryAuth:
		return nil, missingToken()
	case queryAuth:
		return parseAuthQuery(query)
	}
	date, isHTTP := r.Header.Get("X-Amz-Date"), false
	if date == "" {
		date, isHTTP = r.Header.Get("Date"), true
	}
	p, err := parseAuthHeader(header, date != "" || !requireDate)
	if err != nil {
		return nil, err
	}
	p.date, p.dateIsHTTP = date, isHTTP
	return p, nil
}

// parseAuthHeader parses the header's parameters and checks that the three
// required ones (and a date header, which hasDate reports) are there.
// Messages: kinesalite test/connection.js (assertIncomplete) and
// scratchstack-aws-signature's tests.
func parseAuthHeader(header string, hasDate bool) (*authParams, *Error) {
	alg, rest, _ := strings.Cut(header, " ")
	p := &authParams{algorithm: alg}
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(rest, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' }) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, incomplete(fmt.Sprintf("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'", f, header))
		}
		var dst *string
		switch k {
		case "Credential":
			dst = &p.credential
		case "SignedHeaders":
			dst = &p.signedHeaders
		case "Signature":
			dst = &p.signature
		default:
			continue // AWS ignores parameters it does not know
		}
		if seen[k] {
			return nil, incomplete(fmt.Sprintf("Authorization header has more than one '%s' parameter. Authorization=%s", k, header))
		}
		seen[k] = true
		*dst = v
	}
	var msg strings.Builder
	for _, m := range []struct{ name, val string }{
		{"Credential", p.credential}, {"Signature", p.signature}, {"SignedHeaders", p.signedHeaders},
	} {
		if m.val == "" {
			msg.WriteString("Authorization header requires '" + m.name + "' parameter. ")
		}
	}
	if !hasDate {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		return nil, incomplete(msg.String() + "Authorization=" + header)
	}
	if alg != algorithm {
		return nil, incomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", alg))
	}
	return p, nil
}

// parseAuthQuery takes the authorization of a presigned request from its
// query. Messages: kinesalite test/connection.js.
func parseAuthQuery(query url.Values) (*authParams, *Error) {
	var msg strings.Builder
	vals := map[string]string{}
	for _, name := range []string{qAlgorithm, qCredential, qSignature, qSignedHeaders, qDate} {
		vs := query[name]
		if len(vs) > 1 {
			return nil, incomplete(fmt.Sprintf("AWS query-string parameter '%s' appears more than once. Re-examine the query-string parameters.", name))
		}
		if len(vs) == 0 || vs[0] == "" {
			msg.WriteString("AWS query-string parameters must include '" + name + "'. ")
			continue
		}
		vals[name] = vs[0]
	}
	if msg.Len() > 0 {
		return nil, incomplete(msg.String() + "Re-examine the query-string parameters.")
	}
	if vals[qAlgorithm] != algorithm {
		return nil, incomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", vals[qAlgorithm]))
	}
	if len(query[qExpires]) > 1 {
		return nil, incomplete("AWS query-string parameter 'X-Amz-Expires' appears more than once. Re-examine the query-string parameters.")
	}
	return &authParams{
		algorithm:     vals[qAlgorithm],
		credential:    vals[qCredential],
		signedHeaders: vals[qSignedHeaders],
		signature:     vals[qSignature],
		date:          vals[qDate],
		presigned:     true,
		expires:       query.Get(qExpires),
	}, nil
}

// authorization splits the credential and the signed headers.
func (p *authParams) authorization() (Authorization, *Error) {
	parts := strings.Split(p.credential, "/")
	if len(parts) != 5 {
		// scratchstack-aws-signature's tests, after AWS.
		return Authorization{}, incomplete(fmt.Sprintf(
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", p.credential))
	}
	if parts[0] == "" {
		return Authorization{}, incomplete(fmt.Sprintf("Credential has an empty access key id, got '%s'", p.credential))
	}
	names := strings.Split(p.signedHeaders, ";")
	for _, n := range names {
		if n == "" {
			return Authorization{}, incomplete(fmt.Sprintf("SignedHeaders has an empty header name, got '%s'", p.signedHeaders))
		}
	}
	return Authorization{
		AccessKey:     parts[0],
		Date:          parts[1],
		Region:        parts[2],
		Service:       parts[3],
		SignedHeaders: names,
		Signature:     p.signature,
		terminator:    parts[4],
	}, nil
}

// scopeProblems returns AWS's messages for what is wrong with the credential
// scope, joined as AWS joins them (each ends in ". ", trailing space
// included: "Credential should be scoped to correct service: 'kinesis'. "
// is how Kinesis words it, twitchscience/kinsumer#57 and gokini#13), or "".
// service is the one expected ("" accepts any but an empty one); httpDate is
// the request's X-Amz-Date, when known, which the scope's date must match.
func scopeProblems(a Authorization, service, httpDate string) string {
	var b strings.Builder
	if !validRegion(a.Region) {
		fmt.Fprintf(&b, "Credential should be scoped to a valid region, not '%s'. ", a.Region)
	}
	switch {
	case service != "" && a.Service != service:
		fmt.Fprintf(&b, "Credential should be scoped to correct service: '%s'. ", service)
	case a.Service == "":
		b.WriteString("Credential should be scoped to a service, not ''. ")
	}
	if a.terminator != terminator {
		fmt.Fprintf(&b, "Credential should be scoped with a valid terminator: '%s', not '%s'. ", terminator, a.terminator)
	}
	switch {
	case httpDate != "":
		if a.Date != httpDate[:8] {
			fmt.Fprintf(&b, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'. ",
				a.Date, httpDate[:8], httpDate)
		}
	default:
		if _, err := time.Parse(scopeDateLayout, a.Date); err != nil || len(a.Date) != 8 {
			fmt.Fprintf(&b, "Date in Credential scope must be YYYYMMDD, not '%s'. ", a.Date)
		}
	}
	return b.String()
}

// validRegion accepts what a region name can be: lowercase letters, digits
// and '-', as in us-east-1. eddy serves any region; the scope names it.
func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
