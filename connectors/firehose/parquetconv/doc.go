// Package parquetconv owns converting JSON records to Parquet objects with a
// declared schema, as a Firehose delivery stream with record format
// conversion does: the schema types and their parsers (Hive/Glue type
// strings, eddy's SQL spellings, schema files), the input SerDe rules (OpenX
// or Hive JSON), and a Writer that turns a batch of records into one Parquet
// object with the ParquetSerDe's options. The delivery runner owns buffering,
// object names and the error output; it calls NewWriter per object, Write per
// record (sending each *RecordError to the error output), and Close.
//
// # Records
//
// A record is one JSON object, or several written back to back
// ({"a":1}{"a":2}), as Firehose accepts; each object becomes one row. The
// whole record is checked against the JSON grammar, unknown fields included.
// A top-level key matches a column by name; with OpenX's CaseInsensitive
// (the default) and always with the Hive SerDe, case is ignored, at every
// level. OpenX's ColumnToJSONKeyMappings makes a top-level column read another
// key; ConvertDotsInJSONKeysToUnderscores reads "a.b" as a_b at every level.
// Unknown keys are ignored; of duplicate keys the last wins; map keys keep
// their case. A missing field or JSON null is a Parquet null (every column
// and struct field is OPTIONAL, as Firehose writes them).
//
// # Values
//
// Each JSON value converts by its column's type; anything else makes the
// record fail with a *RecordError naming the column path (st.items[2].id) and
// the problem:
//
//	string      a string (escapes resolved, invalid UTF-8 replaced by U+FFFD);
//	            a number or true/false as its JSON text; with OpenX an object
//	            or array as its JSON text as written (the Hive SerDe rejects
//	            them)
//	int         an integral number in int32 range (42, -7, 5.0, 1e3), or a
//	            string holding one ("42", "+42"); 5.5 and "abc" are errors
//	bigint      the same in int64 range
//	float       a number, or a string holding one or NaN, Infinity,
//	double      -Infinity (Java's spellings); outside the type's range is an
//	            error, not infinity
//	boolean     true/false, or the strings "true"/"false" in any case; other
//	            strings and numbers are errors (Java's Boolean.valueOf would
//	            read them as false: an error is easier to notice)
//	decimal(p,s) a number or a string holding one, converted exactly from its
//	            text, rounded half away from zero (Java's HALF_UP) to s
//	            places; more than p digits after rounding is an error (Hive
//	            would write NULL: an error keeps the record)
//	date        a string yyyy-[M]M-[d]d (java.sql.Date.valueOf's form)
//	timestamp   see below
//	array<T>    an array; each element converts as T (null elements allowed)
//	map<K,V>    an object; keys convert as K from their string (a map<int,..>
//	            key "7" is 7), values as V
//	struct<..>  an object; its fields match as top-level keys do
//
// # Timestamps
//
// Stored as microseconds since the epoch, UTC. A zone-less input is UTC (the
// zone Firehose runs in). Fractions beyond microseconds are truncated. The
// string forms take years 0000-9999.
//
// With OpenX (what Firehose's documentation lists for it):
//
//	yyyy-[M]M-[d]d'T'HH:mm:ss[.f{1,9}][Z|±HH|±HHmm|±HH:mm]
//	yyyy-[M]M-[d]d HH:mm:ss[.f{1,9}][zone as above]
//	an integer (number or numeric string): epoch seconds when its magnitude is
//	  below 10^11 (before the year 5138), else epoch milliseconds
//	a number with a fraction or exponent: epoch seconds (1518033528.123)
//
// With the Hive SerDe, each TimestampFormats entry is tried in order: "millis"
// reads an integer (number or numeric string) as epoch milliseconds; any other
// entry is a Joda-Time pattern (letters y M d H k h K m s S a Z E, quoted
// literals). Then, as java.sql.Timestamp.valueOf, yyyy-[M]M-[d]d
// HH:mm:ss[.f{1,9}]. Numbers are only read through "millis".
//
// # Errors
//
// Firehose reports every record it cannot convert with the error code
// DataFormatConversion.MalformedData (CodeMalformedData) and a message; so
// does Write, in a *RecordError, and the Writer is left as it was: no part of
// the record is written. Schema and option problems are errors from
// ParseType, ParseSchemaFile and NewWriter; output failures are plain errors
// from Write and Close, after which the object cannot be finished.
//
// # Parquet output
//
// See Options and ParquetSerDe: SNAPPY (default), GZIP, ZSTD or UNCOMPRESSED;
// a row group is closed when its buffered size reaches BlockSizeBytes (256
// MiB by default); PageSizeBytes (1 MiB); optional dictionary encoding; data
// page v1 or v2. Columns keep their declared order; the physical types are
// listed in pqschema.go.
package parquetconv
