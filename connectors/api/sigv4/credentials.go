package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
)

// LoadCredentials reads the access keys `eddy serve --credentials FILE`
// accepts, as a map from access key id to secret access key (what
// Verifier.Credentials takes). Two formats, told apart by the first line that
// is neither blank nor a comment (# or ;):
//
//   - the AWS shared credentials file: [profile] sections with
//     aws_access_key_id and aws_secret_access_key (other keys, such as
//     aws_session_token or region, are ignored; "[profile name]" headers, as
//     in ~/.aws/config, are accepted too). Every profile of the file is
//     accepted; a profile without keys is skipped, one with only one of the
//     two is an error;
//   - one ACCESS_KEY:SECRET per line.
//
// Errors name the file and line. The same access key twice with different
// secrets is an error; a file without any key is one too.
func LoadCredentials(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	return parseCredentials(path, data)
}

// CredentialsFromEnv reads one access key from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY through getenv (os.Getenv in production). Neither set
// is no credentials: a nil map and no error. Only one of them set is an error.
func CredentialsFromEnv(getenv func(string) string) (map[string]string, error) {
	id, secret := strings.TrimSpace(getenv("AWS_ACCESS_KEY_ID")), strings.TrimSpace(getenv("AWS_SECRET_ACCESS_KEY"))
	switch {
	case id == "" && secret == "":
		return nil, nil
	case id == "":
		return nil, errors.New("credentials: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
	case secret == "":
		return nil, errors.New("credentials: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
	case !validKeyID(id):
		return nil, fmt.Errorf("credentials: AWS_ACCESS_KEY_ID %q may hold only letters, digits, '-', '_' and '.'", id)
	}
	return map[string]string{id: secret}, nil
}

func parseCredentials(path string, data []byte) (map[string]string, error) {
	type line struct {
		n    int
		text string
	}
	var lines []line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		t := strings.TrimSpace(sc.Text())
		if n == 1 {
			t = strings.TrimPrefix(t, "\ufeff")
		}
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		lines = append(lines, line{n, t})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no credentials in the file (expected [profile] sections with aws_access_key_id and aws_secret_access_key, or ACCESS_KEY:SECRET lines)", path)
	}
	out := map[string]string{}
	add := func(n int, id, secret string) error {
		if !validKeyID(id) {
			return fmt.Errorf("%s:%d: access key id %q may hold only letters, digits, '-', '_' and '.'", path, n, id)
		}
		if old, ok := out[id]; ok && old != secret {
			return fmt.Errorf("%s:%d: access key id %q appears again with a different secret", path, n, id)
		}
		out[id] = secret
		return nil
	}

	if !strings.HasPrefix(lines[0].text, "[") {
		for _, l := range lines {
			id, secret, ok := strings.Cut(l.text, ":")
			id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
			if !ok || id == "" || secret == "" {
				return nil, fmt.Errorf("%s:%d: expected ACCESS_KEY:SECRET", path, l.n)
			}
			if err := add(l.n, id, secret); err != nil {
				return nil, err
			}
		}
		return out, nil
	}

	// Shared credentials (INI) format.
	type profile struct {
		name       string
		line       int
		id, secret string
		idLine     int
	}
	var cur *profile
	finish := func() error {
		if cur == nil {
			return nil
		}
		switch {
		case cur.id == "" && cur.secret == "":
			return nil
		case cur.id == "":
			return fmt.Errorf("%s:%d: profile [%s] has aws_secret_access_key but no aws_access_key_id", path, cur.line, cur.name)
		case cur.secret == "":
			return fmt.Errorf("%s:%d: profile [%s] has aws_access_key_id but no aws_secret_access_key", path, cur.line, cur.name)
		}
		return add(cur.idLine, cur.id, cur.secret)
	}
	seen := map[string]int{}
	for _, l := range lines {
		if strings.HasPrefix(l.text, "[") {
			if !strings.HasSuffix(l.text, "]") {
				return nil, fmt.Errorf("%s:%d: section header %q has no closing ']'", path, l.n, l.text)
			}
			if err := finish(); err != nil {
				return nil, err
			}
			name := strings.TrimSpace(l.text[1 : len(l.text)-1])
			if rest, ok := strings.CutPrefix(name, "profile "); ok {
				name = strings.TrimSpace(rest)
			}
			if name == "" {
				return nil, fmt.Errorf("%s:%d: empty profile name", path, l.n)
			}
			if prev, ok := seen[name]; ok {
				return nil, fmt.Errorf("%s:%d: profile [%s] appears again (first at line %d)", path, l.n, name, prev)
			}
			seen[name] = l.n
			cur = &profile{name: name, line: l.n}
			continue
		}
		k, v, ok := strings.Cut(l.text, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected key = value or [profile]", path, l.n)
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: %s before any [profile] section", path, l.n, strings.TrimSpace(k))
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "aws_access_key_id":
			if v == "" {
				return nil, fmt.Errorf("%s:%d: empty aws_access_key_id", path, l.n)
			}
			cur.id, cur.idLine = v, l.n
		case "aws_secret_access_key":
			if v == "" {
				return nil, fmt.Errorf("%s:%d: empty aws_secret_access_key", path, l.n)
			}
			cur.secret = v
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no profile has aws_access_key_id and aws_secret_access_key", path)
	}
	return out, nil
}

// validKeyID keeps access key ids to what can appear in a credential scope
// (no '/', no spaces); real ones are uppercase letters and digits.
func validKeyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
