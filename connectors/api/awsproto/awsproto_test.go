package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testService is a small service with the constraint kinds of the models.
func testService(t *testing.T) *Service {
	t.Helper()
	name := &Shape{Name: "Name", Type: TypeString, Min: 1, HasMin: true, Max: 8, HasMax: true, Pattern: "[a-z]+"}
	count := &Shape{Name: "Count", Type: TypeInteger, Min: 1, HasMin: true, Max: 10, HasMax: true}
	kind := &Shape{Name: "Kind", Type: TypeString, Enum: []string{"A", "B"}}
	data := &Shape{Name: "Data", Type: TypeBlob, Max: 4, HasMax: true}
	ts := &Shape{Name: "Timestamp", Type: TypeTimestamp}
	entry := &Shape{Name: "Entry", Type: TypeStructure, Required: []string{"Key"}}
	entry.Members = []Member{{Name: "Key", Shape: name}, {Name: "Data", Shape: data}}
	list := &Shape{Name: "Entries", Type: TypeList, Member: entry, Min: 1, HasMin: true, Max: 3, HasMax: true}
	tagKey := &Shape{Name: "TagKey", Type: TypeString, Min: 1, HasMin: true, Max: 3, HasMax: true}
	tags := &Shape{Name: "Tags", Type: TypeMap, Key: tagKey, Value: name, Max: 2, HasMax: true}
	flag := &Shape{Name: "Flag", Type: TypeBoolean}
	in := &Shape{Name: "Input", Type: TypeStructure, Required: []string{"StreamName", "Count"}}
	in.Members = []Member{{Name: "StreamName", Shape: name}, {Name: "Count", Shape: count}, {Name: "Kind", Shape: kind},
		{Name: "Entries", Shape: list}, {Name: "Tags", Shape: tags}, {Name: "At", Shape: ts}, {Name: "Flag", Shape: flag}}
	svc := &Service{TargetPrefix: "Test_1", Operations: map[string]*Operation{
		"Do":   {Name: "Do", Input: in, HasOutput: true},
		"Void": {Name: "Void", Input: &Shape{Name: "Empty", Type: TypeStructure}},
		"Todo": {Name: "Todo"},
	}}
	if err := svc.Compile(); err != nil {
		t.Fatal(err)
	}
	return svc
}

type doInput struct {
	StreamName string
	Count      int
	Kind       *string
	Entries    []struct {
		Key  string
		Data []byte
	}
	Tags map[string]string
	At   *time.Time
	Flag bool
}

func validate(t *testing.T, svc *Service, body string) string {
	t.Helper()
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	in, err := normalize(svc.Operations["Do"].Input, raw, "")
	if err != nil {
		t.Fatal(err)
	}
	err = Validate(svc.Operations["Do"].Input, in.(map[string]any)).Err()
	if err == nil {
		return ""
	}
	return err.(*Error).Message
}

func TestValidationMessages(t *testing.T) {
	svc := testService(t)
	for _, tc := range []struct{ body, want string }{
		{`{"StreamName":"abc","Count":1}`, ""},
		{`{"StreamName":"x!","Count":1}`, "1 validation error detected: Value 'x!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+"},
		{`{}`, "2 validation errors detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null; Value null at 'count' failed to satisfy constraint: Member must not be null"},
		{`{"StreamName":"","Count":0}`, "3 validation errors detected: Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+; " +
			"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
			"Value '0' at 'count' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{`{"StreamName":"abcdefghi","Count":11,"Kind":"C"}`, "3 validation errors detected: Value 'abcdefghi' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 8; " +
			"Value '11' at 'count' failed to satisfy constraint: Member must have value less than or equal to 10; " +
			"Value 'C' at 'kind' failed to satisfy constraint: Member must satisfy enum value set: [A, B]"},
		{`{"StreamName":"a","Count":1,"Entries":[{"Key":"k"},{"Data":"AAA="}]}`, "1 validation error detected: Value null at 'entries.2.member.key' failed to satisfy constraint: Member must not be null"},
		{`{"StreamName":"a","Count":1,"Entries":[{"Key":"k","Data":"AAAAAAA="}]}`, "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=5 cap=5]' at 'entries.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 4"},
		{`{"StreamName":"a","Count":1,"Entries":[]}`, "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{`{"StreamName":"a","Count":1,"Tags":{"toolong":"x","":"Y"}}`, "2 validation errors detected: Value '{=Y, toolong=x}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length greater than or equal to 1, Member must have length less than or equal to 3]; " +
			"Value '{=Y, toolong=x}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must satisfy regular expression pattern: [a-z]+]"},
		{`{"StreamName":"a","Count":1.9}`, ""}, // AWS truncates
		{`{"StreamName":"a","Count":1,"Unknown":[{"x":1}],"Kind":null}`, ""},
	} {
		if got := validate(t, svc, tc.body); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.body, got, tc.want)
		}
	}
}

func TestNormalizeTypes(t *testing.T) {
	svc := testService(t)
	in := svc.Operations["Do"].Input
	for _, body := range []string{
		`{"StreamName":1}`, `{"Count":"1"}`, `{"Count":1e20}`, `{"Entries":{}}`, `{"Entries":[null]}`,
		`{"Tags":[]}`, `{"Flag":"true"}`, `{"At":true}`, `{"Entries":[{"Data":"%%%"}]}`, `{"At":"yesterday"}`,
	} {
		var raw map[string]any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		_, err := normalize(in, raw, "")
		if e, ok := AsError(err); !ok || e.Type != ErrSerialization {
			t.Errorf("%s: got %v, want a SerializationException", body, err)
		}
	}
}

func TestTimestamps(t *testing.T) {
	want := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	for _, v := range []any{
		json.Number("1767323045.678"), "1767323045.678", "2026-01-02T03:04:05.678Z", "2026-01-02T03:04:05.678+00:00",
		int64(1767323045678), uint64(1767323045678), float64(1767323045.678), time.UnixMilli(1767323045678), // CBOR tag 1 as the Java SDK writes it, decoded as seconds:
		time.Unix(1767323045678, 0),
	} {
		got, ok := timestamp(v)
		if !ok || !got.Equal(want) {
			t.Errorf("%T %v: got %v (%v), want %v", v, v, got, ok, want)
		}
	}
	b, err := json.Marshal(Timestamp(want))
	if err != nil || string(b) != "1767323045.678" {
		t.Fatalf("JSON timestamp %s %v", b, err)
	}
	b, err = cbor.Marshal(Timestamp(want))
	if err != nil {
		t.Fatal(err)
	}
	var tag cbor.Tag
	if err := cbor.Unmarshal(b, &tag); err != nil || tag.Number != 1 || tag.Content != uint64(1767323045678) {
		t.Fatalf("CBOR timestamp %x: %+v %v", b, tag, err)
	}
	var back Timestamp
	if err := cbor.Unmarshal(b, &back); err != nil || !back.Time().Equal(want) {
		t.Fatalf("CBOR round trip %v %v", back.Time(), err)
	}
}

func TestErrorTable(t *testing.T) {
	for name, status := range map[string]int{
		"ResourceNotFoundException": 400, "ValidationException": 400, "InternalFailureException": 500,
		"UnknownOperationException": 400, "SerializationException": 400, "RequestEntityTooLargeException": 413,
		"InvalidSignatureException": 400, "ProvisionedThroughputExceededException": 400,
	} {
		et := LookupErrorType(name)
		if !KnownErrorType(name) || et.Status != status {
			t.Errorf("%s: %+v, want status %d", name, et, status)
		}
	}
	if LookupErrorType("InternalFailureException").Fault != FaultServer || LookupErrorType("ValidationException").Fault != FaultClient {
		t.Error("faults")
	}
	if KnownErrorType("NoSuchThing") || LookupErrorType("NoSuchThing").Status != 400 {
		t.Error("unknown types are 400 client errors")
	}
	if n := len(ErrorTypes()); n < 20 {
		t.Errorf("%d error types", n)
	}
}

func TestServer(t *testing.T) {
	svc := testService(t)
	srv, err := NewServer(svc, ServerOptions{MaxBodyBytes: 256})
	if err != nil {
		t.Fatal(err)
	}
	Handle(srv, "Do", func(ctx context.Context, req *Request, in *doInput) (any, error) {
		switch in.StreamName {
		case "boom":
			panic("boom")
		case "fail":
			return nil, os.ErrPermission
		case "gone":
			return nil, Errorf("ResourceNotFoundException", "Stream %s not found.", in.StreamName)
		}
		return map[string]any{"Name": in.StreamName, "Count": in.Count, "Keys": len(in.Entries), "At": Timestamp(*in.At), "Blob": in.Entries[0].Data}, nil
	})
	srv.Handle("Void", func(ctx context.Context, req *Request) (any, error) { return nil, nil })
	post := func(target, ct string, body []byte) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", target)
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w
	}
	w := post("Test_1.Do", ContentTypeJSON, []byte(`{"StreamName":"abc","Count":3,"Entries":[{"Key":"k","Data":"AQI="}],"At":1767323045.5}`))
	if w.Code != 200 || w.Body.String() != `{"At":1767323045.5,"Blob":"AQI=","Count":3,"Keys":1,"Name":"abc"}` {
		t.Fatalf("Do: %d %s", w.Code, w.Body)
	}
	cb, _ := cbor.Marshal(map[string]any{"StreamName": "abc", "Count": 3, "Entries": []any{map[string]any{"Key": "k", "Data": []byte{1, 2}}}, "At": cbor.Tag{Number: 1, Content: 1767323045500}})
	w = post("Test_1.Do", ContentTypeCBOR, cb)
	var out struct {
		Blob []byte
		At   cbor.Tag
	}
	if err := cbor.Unmarshal(w.Body.Bytes(), &out); w.Code != 200 || err != nil || !bytes.Equal(out.Blob, []byte{1, 2}) || out.At.Content != uint64(1767323045500) {
		t.Fatalf("Do over CBOR: %d %x %v %+v", w.Code, w.Body.Bytes(), err, out)
	}
	if w := post("Test_1.Void", ContentTypeJSON, nil); w.Code != 200 || w.Body.String() != "{}" {
		t.Fatalf("Void: %d %s", w.Code, w.Body)
	}
	for _, tc := range []struct {
		target, body, typ string
		status            int
	}{
		{"Test_1.Do", `{"StreamName":"boom","Count":1}`, "InternalFailure", 500},
		{"Test_1.Do", `{"StreamName":"fail","Count":1}`, "InternalFailure", 500},
		{"Test_1.Do", `{"StreamName":"gone","Count":1}`, "ResourceNotFoundException", 400},
		{"Test_1.Todo", `{}`, "UnsupportedOperationException", 400},
		{"Test_1.Nope", `{}`, "UnknownOperationException", 400},
		{"Test_1.Do", `{"StreamName":"` + strings.Repeat("a", 300) + `"}`, "RequestEntityTooLargeException", 413},
	} {
		w := post(tc.target, ContentTypeJSON, []byte(tc.body))
		if w.Code != tc.status || w.Header().Get("x-amzn-ErrorType") != tc.typ || !strings.Contains(w.Body.String(), `"__type":"`+tc.typ+`"`) {
			t.Errorf("%s %s: %d %s %s", tc.target, tc.body, w.Code, w.Header().Get("x-amzn-ErrorType"), w.Body)
		}
		if w.Header().Get("x-amzn-RequestId") == "" {
			t.Errorf("%s: no request id", tc.target)
		}
	}
}

// TestGeneratedFilesUpToDate regenerates the error table and the Kinesis shapes
// from ../shared/aws-models and compares them with the committed files.
func TestGeneratedFilesUpToDate(t *testing.T) {
	model := filepath.Join("..", "..", "..", "..", "shared", "aws-models", "kinesis-2013-12-02.json")
	if _, err := os.Stat(model); err != nil {
		t.Skipf("service model not found beside the repository: %v", err)
	}
	dir := t.TempDir()
	for _, gen := range []struct {
		args      []string
		committed string
	}{
		{[]string{"-errors", filepath.Join(dir, "errors_gen.go"), model}, "errors_gen.go"},
		{[]string{"-shapes", filepath.Join(dir, "model_gen.go"), "-package", "kinesisapi", "-func", "newModel", model}, filepath.Join("..", "kinesisapi", "model_gen.go")},
	} {
		cmd := exec.Command("go", append([]string{"run", "../internal/gen"}, gen.args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gen: %v\n%s", err, out)
		}
		want, err := os.ReadFile(gen.committed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(gen.args[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the generator writes from %s: run go generate ./connectors/api/...", gen.committed, model)
		}
	}
}

// FuzzJSONDecoder holds decodeJSON, the fast path for JSON bodies, to the
// reference: encoding/json into generic values, then normalize. Both accept the
// same bodies and make the same tree of them.
func FuzzJSONDecoder(f *testing.F) {
	for _, s := range []string{
		`{"StreamName":"abc","Count":3,"Entries":[{"Key":"k","Data":"AQI="}],"At":1767323045.5}`,
		`{"StreamName":"a\u00e9\ud83d\ude00\ud800x","Count":-2.7e1,"Kind":null,"Tags":{"a":"b","c":null},"Flag":true}`,
		`{"At":"2026-01-02T03:04:05Z","Entries":[],"X":{"y":[1,{"z":"\\"}]}}`,
		`{"Count":9223372036854775808}`, `{"Count":2147483648}`, `{"Count":-2147483648}`, `[1]`, `null`, ` `, `{} {}`,
		`{"Entries":[{"Data":"AQI"}]}`, `{"Entries":[null]}`, "{\"StreamName\":\"\xff\xfe\"}", `{"a":1e999}`, `{"At":-1e300}`,
	} {
		f.Add([]byte(s))
	}
	svc := testService(&testing.T{})
	in := svc.Operations["Do"].Input
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := decodeJSON(in, body)
		var want map[string]any
		raw, wantErr := (codec{}).decodeBody(EncodingJSON, body)
		if wantErr == nil {
			var n any
			n, wantErr = normalize(in, raw, "")
			if wantErr == nil {
				want = n.(map[string]any)
			}
		}
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: fast decoder %v, reference %v", body, gotErr, wantErr)
		}
		if gotErr != nil {
			if e, ok := AsError(gotErr); !ok || e.Type != ErrSerialization {
				t.Fatalf("%q: error %v is not a SerializationException", body, gotErr)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nfast      %#v\nreference %#v", body, got, want)
		}
	})
}

// FuzzAppendString holds AppendString to encoding/json: the same string comes back.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\s\n\t\x00\x1f", "<&>", "é😀\u2028\u2029", "\xff\xe2\x82x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString(nil, s)
		var back, want string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: AppendString wrote %q, not a JSON string: %v", s, got, err)
		}
		ref, _ := json.Marshal(s)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if back != want {
			t.Fatalf("%q: AppendString reads back as %q, encoding/json as %q", s, back, want)
		}
	})
}

// TestServerBodyLengths: bodies of unknown length (chunked) are read whole,
// a declared length over the limit is refused without reading, a body shorter
// than its Content-Length is a client error, and a reused body buffer never
// leaks one request's bytes into the next.
func TestServerBodyLengths(t *testing.T) {
	srv, err := NewServer(testService(t), ServerOptions{MaxBodyBytes: 256})
	if err != nil {
		t.Fatal(err)
	}
	Handle(srv, "Do", func(ctx context.Context, req *Request, in *doInput) (any, error) {
		return map[string]any{"Name": in.StreamName, "Blob": in.Entries[0].Data}, nil
	})
	post := func(body string, contentLength int64) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(body)))
		r.ContentLength = contentLength
		r.Header.Set("X-Amz-Target", "Test_1.Do")
		r.Header.Set("Content-Type", ContentTypeJSON)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w
	}
	long := `{"StreamName":"longname","Count":1,"Entries":[{"Key":"k","Data":"AQIDBA=="}],"Pad":"` + strings.Repeat("x", 100) + `"}`
	short := `{"StreamName":"s","Count":1,"Entries":[{"Key":"k","Data":"BQY="}]}`
	for i, tc := range []struct {
		body   string
		length int64
		status int
		want   string
	}{
		{long, int64(len(long)), 200, `{"Blob":"AQIDBA==","Name":"longname"}`},
		{short, int64(len(short)), 200, `{"Blob":"BQY=","Name":"s"}`},
		{long, -1, 200, `{"Blob":"AQIDBA==","Name":"longname"}`},
		{short, -1, 200, `{"Blob":"BQY=","Name":"s"}`},
		{short, 257, 413, "RequestEntityTooLargeException"},
		{short, int64(len(short)) + 10, 400, "SerializationException"},
		{strings.Repeat(" ", 300) + short, -1, 413, "RequestEntityTooLargeException"},
	} {
		w := post(tc.body, tc.length)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("case %d (length %d): %d %s, want %d %s", i, tc.length, w.Code, w.Body, tc.status, tc.want)
		}
	}
}
