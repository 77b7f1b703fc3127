package awsproto

import (
	"strconv"
	"time"

	"github.com/eddy-streams/eddy/connectors/internal/jsontext"
)

// JSONAppender is an output that writes its own JSON, for the operations whose
// responses are large (GetRecords, PutRecords): the server appends it to the
// response buffer instead of going through encoding/json. The JSON must be
// what encoding/json would make of the value (tests hold it to that); CBOR
// responses still use the struct tags.
type JSONAppender interface {
	AppendJSON(dst []byte) []byte
}

// AppendString appends s as a JSON string, escaped as encoding/json escapes it
// without HTML escaping (jsontext.AppendString).
func AppendString(dst []byte, s string) []byte { return jsontext.AppendString(dst, s) }

// AppendTimestamp appends t as epoch seconds with milliseconds, as Timestamp's
// MarshalJSON does.
func AppendTimestamp(dst []byte, t time.Time) []byte {
	return strconv.AppendFloat(dst, float64(t.UnixMilli())/1000, 'f', -1, 64)
}
