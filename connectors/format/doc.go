// Package format owns how records become rows and rows become records: the
// decoders that map raw JSON or CSV records onto a stream's declared columns as
// Arrow arrays (with projection pushdown and a precise reason for every record
// that does not fit), the encoders that write result rows as JSON or CSV for
// sinks, and the console table. It knows nothing of streams, shards or SQL text:
// connectors call it with bytes and a types.Schema.
//
// # Reading JSON
//
// A record is one JSON object (surrounding whitespace allowed; anything after
// the object is an error). The whole record is checked against the JSON grammar,
// fields the query does not use included, by an allocation-free scanner; only
// the projected columns' values are converted. A column reads the top-level
// field of its name (an exact match first, then, unless json.case_sensitive is
// 'true', one that differs only in case), or its path: $.a.b, $.items[0].sku,
// $["odd key"], or $ for the whole record. If a field appears twice, the last
// wins. A missing field, a path that does not reach a value and JSON null are
// NULL. Values convert as follows; anything else is a decode error naming the
// column and the value:
//
//	BOOLEAN    true/false, or the strings "true"/"false" in any case
//	BIGINT     an integral number (5, -3, 5.0, 1e3), or a string holding one;
//	           5.5 and numbers outside int64 are errors
//	DOUBLE     a number, or a string holding one (also "NaN", "Infinity");
//	           overflow to infinity is an error
//	DECIMAL    a number or numeric string, converted exactly from its text and
//	           rounded half away from zero to the scale; more digits than the
//	           precision allows is an error
//	VARCHAR    a string (escapes resolved, invalid UTF-8 replaced by U+FFFD), or
//	           the text of a number or boolean; objects and arrays are errors
//	JSON       any value, as its JSON text (a string keeps its quotes)
//	TIMESTAMP  a string in RFC 3339 / ISO 8601 form, YYYY-MM-DD[(T| )hh:mm[:ss
//	           [.fff]]][Z|±hh[:mm]] (no zone means UTC; fractions beyond
//	           milliseconds are truncated), or, with timestamp_format, in that Go
//	           layout; or an epoch number (a number, or a string of only a
//	           number) in timestamp_unit: s, ms (default), us or ns, rounded
//	           toward the past to milliseconds. Years must be 0000 to 9999.
//
// # Reading CSV
//
// A record is one CSV row (a final LF or CR LF is ignored) whose fields map onto
// the declared columns in order; a different field count is an error. Fields
// follow RFC 4180: a field holding the delimiter, a quote or a line break is
// quoted, with quotes inside doubled; a quote inside an unquoted field is an
// error. An empty unquoted field is NULL; an empty quoted field ("") is the
// empty string for VARCHAR and NULL for other types. Values convert as the
// string forms above; a JSON column's field must hold valid JSON. With
// csv.header = 'true' a record whose fields are the column names (in any case)
// is skipped: Append returns false and no error. csv.delimiter sets the
// delimiter (default ',', 'tab' for a tab).
//
// # Writing
//
// See Encoder for the JSON and CSV output forms and Table for the console.
// Decoders and encoders round-trip: what NewEncoder writes, NewDecoder reads
// back to the same values.
package format
