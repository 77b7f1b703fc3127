// Package eval owns the vectorized evaluation of checked expressions
// (sql/expr trees) over Arrow record batches: it compiles an expression once
// against an input schema and then evaluates it column-at-a-time over each
// batch, producing an Arrow array of the expression's type plus per-row
// errors. It also owns the two batch helpers the runtime builds on, Filter
// (keep the rows where a predicate is TRUE) and Project (evaluate a list of
// expressions into a new batch).
//
// # API
//
//	ev, err := eval.Compile(e, inputSchema)       // once per query
//	arr, rowErrs, err := ev.Eval(batch, mem)      // per batch
//	kept, rowErrs, err := eval.Filter(batch, ev, mem)
//	out, rowErrs, err := eval.Project(batch, evals, outSchema, mem)
//
// Eval runs column-at-a-time over the Arrow buffers: comparisons and
// arithmetic have typed loops for column-op-column and column-op-literal
// (literals are never materialised per row), three-valued logic works on
// validity bitmaps a byte at a time, literal-only subtrees are folded at
// Compile, and LIKE and regular expression literals are compiled once. The
// package does not use arrow-go's compute kernels: they report overflow and
// division by zero for a whole batch rather than per row, and the typed loops
// here measured faster (a comparison 2x, Filter's gather 2x) on 8192-row
// batches.
//
// # Row errors
//
// A value-level failure (a string that is not a number, division by zero, a
// BIGINT or DECIMAL overflow, the square root of a negative number, a negative
// SUBSTRING length, invalid JSON text, a regular expression taken from a
// column that does not compile) never aborts a batch and never panics: it is
// reported as a RowError for that row and the expression's value at that row
// is NULL (the whole expression's, not only the failing sub-expression's), so
// such a row never passes a Filter. Errors are counted only where SQL
// evaluates the failing sub-expression: a CASE branch that is not taken, a
// COALESCE argument after the first non-NULL one, the right side of an AND
// whose left side is FALSE and the right side of an OR whose left side is TRUE
// report nothing. Eval returns at most one RowError per row, ordered by row.
//
// # Semantics decisions
//
// The functions follow expr.Functions; where SQL engines disagree this package
// decides as follows.
//
//   - NULL: every function is NULL when an argument is NULL except AND/OR
//     (three-valued), IS [NOT] NULL, IS TRUE/FALSE, COALESCE, CASE and IN.
//     x IN (...) is TRUE on a match, NULL when x is NULL or nothing matches
//     and a candidate is NULL, else FALSE; all its operands are evaluated.
//   - Arithmetic: BIGINT + - * and unary minus, ABS and ROUND report overflow
//     as a row error (never wrap). Integer / truncates toward zero; % takes the
//     sign of the dividend. Division or modulo by zero is a row error for
//     BIGINT, DECIMAL and DOUBLE alike. Other DOUBLE arithmetic is IEEE 754
//     (overflow gives +-Inf). DECIMAL arithmetic is exact and the result is
//     rounded half away from zero to the scale of the Call's type; a result
//     that does not fit the type's precision is a row error.
//   - Comparison of DOUBLE is IEEE 754 (NaN is unequal to everything); strings
//     compare bytewise (code point order).
//   - LIKE: % and _ match characters (UTF-8). Without an escape argument no
//     escape character is active; an empty escape string means none; an escape
//     string of more than one character, or a pattern ending in the escape
//     character, is an error (a Compile error for literal patterns, a row error
//     otherwise). The escape character makes the next pattern character literal.
//   - REGEXP and REGEXP_REPLACE use Go's RE2 syntax; REGEXP matches anywhere;
//     replacements expand $1 / ${name} as regexp.Regexp.Expand does. A literal
//     pattern that does not compile is a Compile error.
//   - SUBSTRING(s, start[, len]) counts characters from 1. It returns the
//     characters at positions [start, start+len) clipped to [1, length]: a
//     start <= 0 eats into the length (SUBSTRING('abc', 0, 2) = 'a'), a start
//     past the end or a window ending before 1 gives the empty string; a negative length is a
//     row error (SQL standard: data exception). Without len: to the end.
//   - TRIM(s, chars, mode) removes any of the characters of chars; mode is
//     BOTH, LEADING or TRAILING (any case). REPLACE with an empty search string
//     returns s unchanged. CHAR_LENGTH counts characters. LOWER and UPPER use
//     simple (one rune to one rune) Unicode case mapping: UPPER('straße') is
//     'STRAßE'.
//   - ROUND is half away from zero, with negative digits allowed. For DOUBLE
//     it rounds the shortest decimal representation of the value (so
//     ROUND(2.675, 2) = 2.68, as printed). FLOOR and CEIL of DECIMAL keep the
//     scale. POWER with a NaN result from non-NaN operands, or 0 to a negative
//     power, SQRT of a negative, LN and LOG10 of a value <= 0 are row errors.
//   - Time: timestamps are milliseconds since the epoch, UTC. FLOOR_TIME
//     floors toward minus infinity; WEEK starts on Monday; MONTH, QUARTER and
//     YEAR follow the calendar. EXTRACT: WEEK is the ISO 8601 week number,
//     DAYOFWEEK is 1 (Sunday) to 7 (Saturday), SECOND is 0-59, MILLISECOND
//     is the millisecond within the second (0-999), EPOCH is whole seconds
//     (floored). UNIX_TIMESTAMP floors to whole seconds; FROM_UNIXTIME of a
//     DOUBLE or DECIMAL rounds to the nearest millisecond (half away).
//   - JSON paths: $, .key, ."key", ["key"], ['key'] and [n] (n >= 0).
//     JSON_EXTRACT returns the compact JSON text of the value (NULL when the
//     path is missing); JSON_VALUE returns a string unquoted, a number or
//     boolean as its text, JSON null as SQL NULL and an object or array as its
//     compact JSON text. With duplicate keys the first one wins. Text that is
//     not valid JSON is a row error.
//   - CAST: see cast.go for the full matrix. Strings are trimmed of white
//     space before parsing. DOUBLE and DECIMAL to BIGINT truncate toward zero
//     (as Java, Flink and KDA do); DOUBLE to DECIMAL and DECIMAL to a smaller
//     scale round half away from zero. BIGINT, DOUBLE and DECIMAL to and from
//     TIMESTAMP count milliseconds since the epoch (as KDA does). BOOLEAN to
//     VARCHAR gives 'true'/'false'; VARCHAR to BOOLEAN accepts true/false,
//     t/f, yes/no, y/n, on/off, 1/0 in any case. TIMESTAMP to VARCHAR gives
//     RFC 3339 UTC with milliseconds (2024-01-02T03:04:05.000Z); VARCHAR to
//     TIMESTAMP accepts RFC 3339 (T or t, Z or z) and
//     'YYYY-MM-DD[ HH:MM[:SS[.fff]]]' with an optional zone (none = UTC); digits beyond milliseconds are truncated.
//     DOUBLE to VARCHAR gives the shortest text that reads back to the same
//     value, in plain notation for magnitudes in [1e-7, 1e21) and exponent
//     notation outside (like JavaScript). JSON to a non-text type converts
//     the JSON scalar as JSON_VALUE would and then casts that text.
//
// An Evaluator is immutable after Compile and safe for concurrent use.
package eval
