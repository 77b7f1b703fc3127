package sigv4

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string]string
	}{
		{"shared credentials file", `
# comment
[default]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
aws_session_token = ignored
region = us-east-1

; another comment
[profile ci]
AWS_ACCESS_KEY_ID=AKIDCI
AWS_SECRET_ACCESS_KEY=ci=secret

[empty]
region = eu-west-1
`, map[string]string{"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AKIDCI": "ci=secret"}},
		{"key:secret lines", "\ufeffAKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\r\n\r\n# ci\r\nAKIDCI : s:with:colons\r\n",
			map[string]string{"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AKIDCI": "s:with:colons"}},
		{"same key twice, same secret", "A:s\nA:s\n", map[string]string{"A": "s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadCredentials(writeFile(t, tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoadCredentialsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty", "\n# nothing\n", ": no credentials in the file"},
		{"line without colon", "AKID:secret\nAKID2 secret\n", ":2: expected ACCESS_KEY:SECRET"},
		{"empty secret", "AKID:\n", ":1: expected ACCESS_KEY:SECRET"},
		{"bad key id", "AK/ID:secret\n", `:1: access key id "AK/ID" may hold only`},
		{"same key, other secret", "A:s\n\nA:t\n", `:3: access key id "A" appears again with a different secret`},
		{"key without secret", "[default]\naws_access_key_id = A\n\n[b]\n", ":1: profile [default] has aws_access_key_id but no aws_secret_access_key"},
		{"secret without key", "[a]\naws_access_key_id=A\naws_secret_access_key=s\n[b]\naws_secret_access_key=s\n", ":4: profile [b] has aws_secret_access_key but no aws_access_key_id"},
		{"profile without keys", "[a]\n", ": no profile has aws_access_key_id and aws_secret_access_key"},
		{"unclosed section", "[default\naws_access_key_id=A\n", `:1: section header "[default" has no closing ']'`},
		{"no equals", "[default]\naws_access_key_id A\n", ":2: expected key = value or [profile]"},
		{"duplicate profile", "[a]\n[b]\n[ a ]\n", ":3: profile [a] appears again (first at line 1)"},
		{"empty value", "[a]\naws_access_key_id =\n", ":2: empty aws_access_key_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.text)
			_, err := LoadCredentials(path)
			if err == nil || !strings.HasPrefix(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s%s...", err, path, tc.want)
			}
		})
	}
	t.Run("key before any section", func(t *testing.T) {
		// A key=value first line reads as the KEY:SECRET format, which
		// then names the line.
		path := writeFile(t, "aws_access_key_id = A\n[default]\n")
		_, err := LoadCredentials(path)
		if err == nil || !strings.Contains(err.Error(), path+":1: expected ACCESS_KEY:SECRET") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := LoadCredentials(filepath.Join(t.TempDir(), "nope"))
		if err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCredentialsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	got, err := CredentialsFromEnv(env(map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}))
	if err != nil || !reflect.DeepEqual(got, map[string]string{"AKID": "s3cr3t"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	got, err = CredentialsFromEnv(env(nil))
	if err != nil || got != nil {
		t.Fatalf("unset: got %v, %v", got, err)
	}
	for _, m := range []map[string]string{
		{"AWS_ACCESS_KEY_ID": "AKID"},
		{"AWS_SECRET_ACCESS_KEY": "s"},
		{"AWS_ACCESS_KEY_ID": "AK ID", "AWS_SECRET_ACCESS_KEY": "s"},
	} {
		if _, err := CredentialsFromEnv(env(m)); err == nil {
			t.Errorf("%v: no error", m)
		}
	}
}
