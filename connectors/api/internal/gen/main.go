// Command gen writes Go code derived from AWS service models (botocore
// service-2.json files, kept in ../shared/aws-models and not copied into the
// repository):
//
//	gen -errors FILE MODEL...                    the table of AWS error types (awsproto)
//	gen -shapes FILE -package P -func F MODEL    a service's operations and input shapes with their constraints
//
// The error table holds every error shape of the models (HTTP status from the
// shape's "error" trait, else 500 for a "fault" shape and 400 otherwise) and the
// errors of the AWS JSON protocol and its front end that no model lists.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	errorsOut := flag.String("errors", "", "write the error type table to this file")
	shapesOut := flag.String("shapes", "", "write the service's operations and input shapes to this file")
	pkg := flag.String("package", "", "package of the generated file")
	fn := flag.String("func", "newModel", "name of the function that returns the service (with -shapes)")
	flag.Parse()
	if err := run(*errorsOut, *shapesOut, *pkg, *fn, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(errorsOut, shapesOut, pkg, fn string, models []string) error {
	if len(models) == 0 {
		return fmt.Errorf("no model given")
	}
	var ms []*model
	for _, path := range models {
		m, err := readModel(path)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	switch {
	case errorsOut != "":
		if pkg == "" {
			pkg = "awsproto"
		}
		src, err := genErrors(pkg, ms)
		if err != nil {
			return err
		}
		return write(errorsOut, src)
	case shapesOut != "":
		if len(ms) != 1 {
			return fmt.Errorf("-shapes takes one model")
		}
		if pkg == "" {
			return fmt.Errorf("-shapes needs -package")
		}
		src, err := genShapes(pkg, fn, ms[0])
		if err != nil {
			return err
		}
		return write(shapesOut, src)
	}
	return fmt.Errorf("give -errors or -shapes")
}

func write(path string, src []byte) error {
	out, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("format %s: %w\n%s", path, err, src)
	}
	return os.WriteFile(path, out, 0o644)
}

type model struct {
	file       string
	metadata   map[string]any
	operations map[string]operation
	opNames    []string
	shapes     map[string]*shape
}

type operation struct {
	Input  *struct{ Shape string } `json:"input"`
	Output *struct{ Shape string } `json:"output"`
}

type ref struct {
	Shape string `json:"shape"`
}

type shape struct {
	Type      string   `json:"type"`
	Min       *float64 `json:"min"`
	Max       *float64 `json:"max"`
	Pattern   string   `json:"pattern"`
	Enum      []string `json:"enum"`
	Required  []string `json:"required"`
	Member    *ref     `json:"member"`
	Key       *ref     `json:"key"`
	Value     *ref     `json:"value"`
	Exception bool     `json:"exception"`
	Fault     bool     `json:"fault"`
	Error     *struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
		SenderFault    bool   `json:"senderFault"`
	} `json:"error"`
	members []memberRef // in the model's order
}

type memberRef struct {
	name  string
	shape string
}

func readModel(path string) (*model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Metadata   map[string]any             `json:"metadata"`
		Operations map[string]operation       `json:"operations"`
		Shapes     map[string]json.RawMessage `json:"shapes"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := &model{file: filepath.Base(path), metadata: raw.Metadata, operations: raw.Operations, shapes: map[string]*shape{}}
	for name := range raw.Operations {
		m.opNames = append(m.opNames, name)
	}
	sort.Strings(m.opNames)
	for name, rm := range raw.Shapes {
		var s shape
		if err := json.Unmarshal(rm, &s); err != nil {
			return nil, fmt.Errorf("%s: shape %s: %w", path, name, err)
		}
		members, err := orderedMembers(rm)
		if err != nil {
			return nil, fmt.Errorf("%s: shape %s: %w", path, name, err)
		}
		s.members = members
		s.Pattern = re2Pattern(s.Pattern)
		m.shapes[name] = &s
	}
	return m, nil
}

// orderedMembers reads a shape's "members" object keeping the model's order,
// which is the order AWS reports validation errors in.
func orderedMembers(rm json.RawMessage) ([]memberRef, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(rm, &top); err != nil {
		return nil, err
	}
	raw, ok := top["members"]
	if !ok {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out []memberRef
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var r ref
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		out = append(out, memberRef{name: tok.(string), shape: r.Shape})
	}
	return out, nil
}

// protocolErrors are errors of the AWS JSON protocol and of AWS's front end
// (authentication, routing, decoding) that services send but no model lists.
// Their statuses are those AWS JSON services answer with.
var protocolErrors = []struct {
	name   string
	status int
	fault  string
	doc    string
}{
	{"UnknownOperationException", 400, "Client", "the X-Amz-Target names no operation of the service"},
	{"SerializationException", 400, "Client", "the body is not a well-formed request of the operation"},
	{"UnsupportedOperationException", 400, "Client", "eddy does not implement the operation (yet)"},
	{"RequestEntityTooLargeException", 413, "Client", "the body is larger than the service accepts"},
	{"MissingAuthenticationTokenException", 400, "Client", "the request is not signed"},
	{"IncompleteSignatureException", 400, "Client", "the Authorization header lacks a part of the signature"},
	{"InvalidSignatureException", 400, "Client", "the signature does not match, or the request is too old or too new"},
	{"UnrecognizedClientException", 400, "Client", "the access key id is not known"},
	{"ThrottlingException", 400, "Client", "the request rate is too high"},
	{"InternalFailure", 500, "Server", "the request failed for an unknown reason"},
	{"ServiceUnavailable", 503, "Server", "the service is not available"},
}

func genErrors(pkg string, ms []*model) ([]byte, error) {
	type row struct {
		name, fault, doc string
		status           int
	}
	rows := map[string]row{}
	var files []string
	for _, m := range ms {
		files = append(files, m.file)
		for name, s := range m.shapes {
			if !s.Exception {
				continue
			}
			r := row{name: name, status: 400, fault: "Client", doc: "error shape of " + m.file}
			if s.Fault {
				r.status, r.fault = 500, "Server"
			}
			if s.Error != nil {
				if s.Error.Code != "" {
					r.name = s.Error.Code
				}
				if s.Error.HTTPStatusCode != 0 {
					r.status = s.Error.HTTPStatusCode
				}
				if !s.Error.SenderFault && s.Fault {
					r.fault = "Server"
				}
			}
			if old, ok := rows[r.name]; ok && (old.status != r.status || old.fault != r.fault) {
				return nil, fmt.Errorf("error %s is %d/%s in one model and %d/%s in %s", r.name, old.status, old.fault, r.status, r.fault, m.file)
			} else if ok {
				continue
			}
			rows[r.name] = r
		}
	}
	for _, p := range protocolErrors {
		if _, ok := rows[p.name]; ok {
			continue // a model's own definition wins
		}
		rows[p.name] = row{name: p.name, status: p.status, fault: p.fault, doc: p.doc}
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by connectors/api/internal/gen from %s; DO NOT EDIT.\n\n", strings.Join(files, ", "))
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	b.WriteString("// errorTypeTable returns the error type named name: every error shape of the\n// service models and the protocol's own errors.\n")
	b.WriteString("func errorTypeTable(name string) (ErrorType, bool) {\n\tswitch name {\n")
	for _, n := range names {
		r := rows[n]
		fmt.Fprintf(&b, "\tcase %q: // %s\n\t\treturn ErrorType{Name: %q, Status: %d, Fault: Fault%s}, true\n", n, r.doc, n, r.status, r.fault)
	}
	b.WriteString("\t}\n\treturn ErrorType{}, false\n}\n\n")
	b.WriteString("// errorTypeNames lists the names errorTypeTable knows, sorted.\nfunc errorTypeNames() []string {\n\treturn []string{\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t\t%q,\n", n)
	}
	b.WriteString("\t}\n}\n")
	return b.Bytes(), nil
}

var shapeTypes = map[string]string{
	"string": "TypeString", "integer": "TypeInteger", "long": "TypeLong", "boolean": "TypeBoolean",
	"blob": "TypeBlob", "timestamp": "TypeTimestamp", "structure": "TypeStructure", "list": "TypeList",
	"map": "TypeMap", "double": "TypeDouble", "float": "TypeDouble",
}

func genShapes(pkg, fn string, m *model) ([]byte, error) {
	prefix, _ := m.metadata["targetPrefix"].(string)
	if prefix == "" {
		return nil, fmt.Errorf("%s: metadata has no targetPrefix", m.file)
	}
	// The shapes reachable from the operations' inputs, by name.
	reach := map[string]bool{}
	var walk func(name string) error
	walk = func(name string) error {
		if reach[name] {
			return nil
		}
		s, ok := m.shapes[name]
		if !ok {
			return fmt.Errorf("%s: shape %s is referenced but not defined", m.file, name)
		}
		if _, ok := shapeTypes[s.Type]; !ok {
			return fmt.Errorf("%s: shape %s has type %q, which the generator does not know", m.file, name, s.Type)
		}
		if s.Pattern != "" {
			if _, err := regexp.Compile(`^(?:` + s.Pattern + `)$`); err != nil {
				return fmt.Errorf("%s: shape %s: pattern is not RE2: %w", m.file, name, err)
			}
		}
		reach[name] = true
		for _, mr := range s.members {
			if err := walk(mr.shape); err != nil {
				return err
			}
		}
		for _, r := range []*ref{s.Member, s.Key, s.Value} {
			if r != nil {
				if err := walk(r.Shape); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, op := range m.opNames {
		if in := m.operations[op].Input; in != nil {
			if err := walk(in.Shape); err != nil {
				return nil, err
			}
		}
	}
	names := make([]string, 0, len(reach))
	for n := range reach {
		names = append(names, n)
	}
	sort.Strings(names)
	v := func(name string) string { return "s" + name }

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by connectors/api/internal/gen from %s; DO NOT EDIT.\n\n", m.file)
	fmt.Fprintf(&b, "package %s\n\nimport \"github.com/eddy-streams/eddy/connectors/api/awsproto\"\n\n", pkg)
	fmt.Fprintf(&b, "// %s returns the %s service: its operations and their input shapes with the\n// constraints of the model, compiled. Each call builds a new one.\n", fn, prefix)
	fmt.Fprintf(&b, "func %s() (*awsproto.Service, error) {\n", fn)
	for _, n := range names {
		s := m.shapes[n]
		fmt.Fprintf(&b, "\t%s := &awsproto.Shape{Name: %q, Type: awsproto.%s", v(n), n, shapeTypes[s.Type])
		if s.Min != nil {
			fmt.Fprintf(&b, ", Min: %s, HasMin: true", strconv.FormatInt(int64(*s.Min), 10))
		}
		if s.Max != nil {
			fmt.Fprintf(&b, ", Max: %s, HasMax: true", strconv.FormatInt(int64(*s.Max), 10))
		}
		if s.Pattern != "" {
			fmt.Fprintf(&b, ", Pattern: %s", strconv.Quote(s.Pattern))
		}
		if len(s.Enum) > 0 {
			fmt.Fprintf(&b, ", Enum: %#v", s.Enum)
		}
		if len(s.Required) > 0 {
			fmt.Fprintf(&b, ", Required: %#v", s.Required)
		}
		b.WriteString("}\n")
	}
	for _, n := range names {
		s := m.shapes[n]
		if len(s.members) > 0 {
			fmt.Fprintf(&b, "\t%s.Members = []awsproto.Member{", v(n))
			for _, mr := range s.members {
				fmt.Fprintf(&b, "{Name: %q, Shape: %s}, ", mr.name, v(mr.shape))
			}
			b.WriteString("}\n")
		}
		if s.Member != nil {
			fmt.Fprintf(&b, "\t%s.Member = %s\n", v(n), v(s.Member.Shape))
		}
		if s.Key != nil {
			fmt.Fprintf(&b, "\t%s.Key = %s\n", v(n), v(s.Key.Shape))
		}
		if s.Value != nil {
			fmt.Fprintf(&b, "\t%s.Value = %s\n", v(n), v(s.Value.Shape))
		}
	}
	fmt.Fprintf(&b, "\tsvc := &awsproto.Service{TargetPrefix: %q, Operations: map[string]*awsproto.Operation{\n", prefix)
	for _, op := range m.opNames {
		o := m.operations[op]
		in := "nil"
		if o.Input != nil {
			in = v(o.Input.Shape)
		}
		fmt.Fprintf(&b, "\t\t%q: {Name: %q, Input: %s, HasOutput: %v},\n", op, op, in, o.Output != nil)
	}
	b.WriteString("\t}}\n\tif err := svc.Compile(); err != nil {\n\t\treturn nil, err\n\t}\n\treturn svc, nil\n}\n")
	return b.Bytes(), nil
}
