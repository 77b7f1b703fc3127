package kinesisapi

import (
	"encoding/base64"

	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// fastPutRecords decodes the PutRecords bodies SDKs send in the common case
// straight into the handler's input, skipping the generic tree, validation
// and binding, which cost about as much as storing the records. It accepts
// only what the model surely accepts: a StreamName of [a-zA-Z0-9_.-]{1,128},
// 1 to 500 records, each with a partition key of 1 to 256 printable ASCII
// characters without escapes, standard base64 data of at most 1 MiB, and no
// other members. Anything else (escapes, StreamARN, ExplicitHashKey, unknown
// members, a constraint broken) is left to the generic path, which words the
// errors; FuzzPutRecordsFastPath checks both paths agree.
func fastPutRecords(body []byte) (*putRecordsInput, bool) {
	d := fastJSON{b: body}
	if !d.open('{') {
		return nil, false
	}
	in := &putRecordsInput{}
	seenName, seenRecords := false, false
	for first := true; ; first = false {
		if d.close('}') {
			break
		}
		if !first && !d.open(',') {
			return nil, false
		}
		key, ok := d.plainString()
		if !ok || !d.open(':') {
			return nil, false
		}
		switch string(key) {
		case "StreamName":
			name, ok := d.plainString()
			if !ok || seenName || !validStreamName(name) {
				return nil, false
			}
			in.StreamName, seenName = string(name), true
		case "Records":
			if seenRecords || !d.records(in) {
				return nil, false
			}
			seenRecords = true
		default:
			return nil, false
		}
	}
	d.ws()
	if d.i != len(d.b) || !seenName || !seenRecords || len(in.Records) == 0 {
		return nil, false
	}
	return in, true
}

func (d *fastJSON) records(in *putRecordsInput) bool {
	if !d.open('[') {
		return false
	}
	// One allocation for every record's data: base64 decodes to 3/4.
	arena := make([]byte, 0, (len(d.b)-d.i)*3/4)
	for first := true; ; first = false {
		if d.close(']') {
			return true
		}
		if len(in.Records) == streamstore.MaxBatchRecords || !first && !d.open(',') || !d.open('{') {
			return false
		}
		var e putRecordsEntry
		seenKey, seenData := false, false
		for f := true; ; f = false {
			if d.close('}') {
				break
			}
			if !f && !d.open(',') {
				return false
			}
			key, ok := d.plainString()
			if !ok || !d.open(':') {
				return false
			}
			v, ok := d.plainString()
			if !ok {
				return false
			}
			switch string(key) {
			case "PartitionKey":
				if seenKey || len(v) < 1 || len(v) > streamstore.MaxPartitionKeyChars {
					return false
				}
				e.PartitionKey, seenKey = string(v), true
			case "Data":
				n := base64.StdEncoding.DecodedLen(len(v))
				if seenData || n > streamstore.MaxRecordBytes+2 || cap(arena)-len(arena) < n {
					return false
				}
				start := len(arena)
				m, err := base64.StdEncoding.Decode(arena[start:start+n], v)
				if err != nil || m > streamstore.MaxRecordBytes {
					return false
				}
				e.Data, seenData = arena[start:start+m:start+m], true
				arena = arena[:start+m]
			default:
				return false
			}
		}
		if !seenKey || !seenData {
			return false
		}
		in.Records = append(in.Records, e)
	}
}

// fastJSON reads the few JSON forms fastPutRecords accepts.
type fastJSON struct {
	b []byte
	i int
}

func (d *fastJSON) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// open consumes the punctuation c after optional white space.
func (d *fastJSON) open(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *fastJSON) close(c byte) bool { return d.open(c) }

// plainString reads a string of printable ASCII without escapes.
func (d *fastJSON) plainString() ([]byte, bool) {
	if !d.open('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

func validStreamName(b []byte) bool {
	if len(b) < 1 || len(b) > 128 {
		return false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
