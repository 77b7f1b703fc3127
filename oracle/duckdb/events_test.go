package oracle

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The input every test shares: JSON records for the stream
//
//	events (id BIGINT, k1 VARCHAR, k2 BIGINT, v BIGINT, d DOUBLE, price DECIMAL(12,2), ts TIMESTAMP(3),
//	        WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
//
// written in the many forms eddy's JSON decoder documents (connectors/format),
// with the values they stand for kept beside them for DuckDB.

// watermarkDelay is the stream's WATERMARK delay. Every event time is less than
// maxLag behind the largest event time generated before it, so it is above
// every shard's watermark however the shards interleave: no row is ever late.
const (
	watermarkDelay = 2000 // ms
	maxLag         = 1900 // ms, < watermarkDelay
)

// event is one generated record and the values eddy should read from it.
type event struct {
	line string
	// broken: the record is not a JSON object at all (or its time is
	// unreadable), so every query sends it to the error stream as "decode".
	broken bool
	// bad names the one column whose value does not convert; a query that
	// reads that column sends the record to the error stream, a query that
	// does not read it (projection pushdown) uses the record's other values.
	bad string

	id                      int64 // the record's position in the input: eddy reads a shard in this order
	k1, k2, v, d, price, ts any   // nil = NULL; string, int64, float64, int64 cents, int64 ms
}

// specialKeys are k1 values that look like NULL or like each other.
var specialKeys = []string{"", " ", "NULL", "null", "None", "key-01 ", " key-01", "KEY-01", "Key-01",
	"ключ-ü", "quote\"back\\slash", "tab\there", "line\nbreak", "日本", "key-1", "key-001", "42"}

// genEvents returns n records whose event times start at base (epoch ms).
func genEvents(seed uint64, n int, base int64) []event {
	rng := rand.New(rand.NewPCG(seed, 0x0e1dd7))
	clock := base
	out := make([]event, 0, n)
	for len(out) < n {
		// Time moves 0-24 ms per event (so ~80 events a second), sometimes not
		// at all (bursts with equal times).
		if rng.IntN(10) != 0 {
			clock += rng.Int64N(25)
		}
		ts := clock - rng.Int64N(1400)
		switch rng.IntN(25) {
		case 0: // exactly on a boundary of every window size/slide/offset used (multiples of 250 ms)
			ts -= ((ts % 250) + 250) % 250
		case 1: // the last millisecond before one
			ts -= ((ts%250)+250)%250 + 1
		}
		if clock-ts >= maxLag {
			panic(fmt.Sprintf("generator: event time %d is %d ms behind %d", ts, clock-ts, clock))
		}
		e := genValues(rng, ts)
		e.id = int64(len(out))
		if rng.IntN(800) == 0 { // a record that does not convert in one column or at all
			breakEvent(rng, &e)
		}
		if e.line == "" {
			e.line = render(rng, &e)
		}
		out = append(out, e)
	}
	return out
}

// genValues draws the values of one event at time ts (which may end up NULL).
func genValues(rng *rand.Rand, ts int64) event {
	e := event{ts: ts}
	switch r := rng.IntN(100); {
	case r < 8:
		e.k1 = nil // null or missing (render decides)
	case r < 20:
		e.k1 = specialKeys[rng.IntN(len(specialKeys))]
	default:
		e.k1 = fmt.Sprintf("key-%02d", rng.IntN(25))
	}
	switch r := rng.IntN(100); {
	case r < 10:
		e.k2 = nil
	case r < 12:
		e.k2 = int64(1) << 40
	case r < 14:
		e.k2 = int64(-9_007_199_254_740_993) // not a float64
	default:
		e.k2 = rng.Int64N(5) - 1
	}
	switch r := rng.IntN(100); {
	case r < 8:
		e.v = nil
	case r < 12: // beyond float64's integers (2^53 + a little): SUM must be exact integer arithmetic
		e.v = (1<<53 + rng.Int64N(1<<20)) * (2*rng.Int64N(2) - 1)
	default:
		e.v = rng.Int64N(2001) - 1000
	}
	switch r := rng.IntN(100); {
	case r < 7:
		e.d = nil
	case r < 10:
		e.d = float64(rng.Int64N(1<<43)-1<<42) / 8
	default:
		// Multiples of 1/8 well inside 2^53: every sum is exact in any order,
		// so SUM(d) must match exactly and AVG(d) to the last bit.
		e.d = float64(rng.Int64N(1<<24)-1<<23) / 8
	}
	switch r := rng.IntN(100); {
	case r < 9:
		e.price = nil
	case r < 11:
		e.price = rng.Int64N(1_999_999_999_999) - 999_999_999_999 // up to 9,999,999,999.99
	default:
		e.price = rng.Int64N(10_000_000) - 2_000_000 // cents
	}
	if rng.IntN(250) == 0 {
		e.ts = nil
	}
	return e
}

// breakEvent turns e into a record that does not decode: as a whole (every
// query rejects it) or in one column (only queries reading that column do).
func breakEvent(rng *rand.Rand, e *event) {
	e.bad = []string{"", "", "ts", "k1", "k2", "v", "d", "price"}[rng.IntN(8)]
	if e.bad == "" || e.bad == "ts" {
		e.broken = true
	}
	good := render(rng, e)
	var badValue string
	switch e.bad {
	case "":
		e.line = []string{
			good[:len(good)/2],                   // truncated
			good + " x",                          // trailing garbage
			"[" + good + "]",                     // not an object
			strings.Replace(good, `"`, "", 2),    // unquoted name
			strings.TrimSuffix(good, "}") + ",}", // trailing comma
			"hello",
		}[rng.IntN(6)]
		if strings.HasPrefix(e.line, "{") && json.Valid([]byte(e.line)) {
			e.line = "hello" // "{}" without its quotes is still an object
		}
		return
	case "ts":
		badValue = []string{`"not a time"`, `"2026-13-01T00:00:00Z"`, `"2026-01-01T24:00:00Z"`, `true`, `{"ms":5}`, `"10000-01-01"`}[rng.IntN(6)]
	case "k1":
		badValue = []string{`{"a":1}`, `[1]`}[rng.IntN(2)]
	case "k2":
		badValue = []string{`2.5`, `"two"`, `1e30`, `true`}[rng.IntN(4)]
	case "v":
		badValue = []string{`"twelve"`, `1.5`, `99999999999999999999`, `[]`}[rng.IntN(4)]
	case "d":
		badValue = []string{`"abc"`, `1e400`, `false`, `{}`}[rng.IntN(4)]
	case "price":
		badValue = []string{`12345678901.00`, `"1.2.3"`, `"abc"`, `[1]`}[rng.IntN(4)]
	}
	e.line = setField(good, e.bad, badValue)
	switch e.bad { // the value DuckDB holds for the unreadable column; no query that sees the record reads it
	case "k1":
		e.k1 = nil
	case "k2":
		e.k2 = nil
	case "v":
		e.v = nil
	case "d":
		e.d = nil
	case "price":
		e.price = nil
	}
}

// setField replaces (or adds) the top-level field name in a rendered record.
func setField(line, name, value string) string {
	var fields []string
	var m map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&m); err != nil {
		panic(fmt.Sprintf("generator rendered bad JSON %q: %v", line, err))
	}
	found := false
	for k, raw := range m {
		if strings.EqualFold(k, name) {
			k, raw, found = name, json.RawMessage(value), true
		}
		fields = append(fields, fmt.Sprintf("%q:%s", k, raw))
	}
	if !found {
		fields = append(fields, fmt.Sprintf("%q:%s", name, value))
	}
	return "{" + strings.Join(fields, ",") + "}"
}

// render writes e as one JSON record, choosing among the forms the decoder
// accepts for each value.
func render(rng *rand.Rand, e *event) string {
	fields := []string{fmt.Sprintf(`"id":%d`, e.id)}
	decoy := rng.IntN(40) == 0
	add := func(name, value string) {
		if !decoy && rng.IntN(100) == 0 { // field names match case-insensitively when no exact match exists
			name = strings.ToUpper(name)
		}
		fields = append(fields, fmt.Sprintf("%q:%s", name, value))
	}
	addNull := func(name string) {
		if rng.IntN(2) == 0 {
			add(name, "null") // else: missing, also NULL
		}
	}

	if e.k1 == nil {
		addNull("k1")
	} else if s := e.k1.(string); s == "42" && rng.IntN(2) == 0 {
		add("k1", "42") // VARCHAR reads a number as its text
	} else {
		add("k1", jsonString(s))
	}
	if e.k2 == nil {
		addNull("k2")
	} else {
		add("k2", intForm(rng, e.k2.(int64)))
	}
	if e.v == nil {
		addNull("v")
	} else {
		add("v", intForm(rng, e.v.(int64)))
	}
	if e.d == nil {
		addNull("d")
	} else {
		s := strconv.FormatFloat(e.d.(float64), 'g', -1, 64)
		if rng.IntN(20) == 0 {
			s = `"` + s + `"`
		}
		add("d", s)
	}
	if e.price == nil {
		addNull("price")
	} else {
		add("price", decimalForm(rng, e.price.(int64)))
	}
	if e.ts == nil {
		addNull("ts")
	} else {
		add("ts", timeForm(rng, e.ts.(int64)))
	}
	if rng.IntN(30) == 0 { // fields no column reads
		fields = append(fields, `"extra":{"nested":[1,2,{"k1":"not me"}],"s":"}"}`)
	}
	rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	if decoy { // a field given twice: the last wins
		fields = append([]string{`"v":123456`, `"k1":"decoy"`}, fields...)
		if e.v == nil {
			fields = append(fields, `"v":null`)
		}
		if e.k1 == nil {
			fields = append(fields, `"k1":null`)
		}
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// intForm writes a BIGINT as a number, a numeric string, or an integral
// decimal or exponent form.
func intForm(rng *rand.Rand, v int64) string {
	switch rng.IntN(40) {
	case 0:
		return `"` + strconv.FormatInt(v, 10) + `"`
	case 1:
		return strconv.FormatInt(v, 10) + ".0"
	case 2:
		if v%1000 == 0 && v != 0 {
			return strconv.FormatInt(v/1000, 10) + "e3"
		}
	}
	return strconv.FormatInt(v, 10)
}

// decimalForm writes cents as a DECIMAL(12,2) literal: 12.34, 12.5, 12,
// "12.34", or (when the text stays within 12 digits) with a third decimal
// that the decoder rounds half away from zero to cents.
func decimalForm(rng *rand.Rand, cents int64) string {
	s := new(big.Rat).SetFrac64(cents, 100).FloatString(2)
	small := cents > -1e9 && cents < 1e9
	switch rng.IntN(20) {
	case 0:
		return `"` + s + `"`
	case 1:
		return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	case 2: // 12.345 reads as 12.35, -12.345 as -12.35
		if small && cents > 0 {
			return new(big.Rat).SetFrac64(cents*10-5, 1000).FloatString(3)
		} else if small && cents < 0 {
			return new(big.Rat).SetFrac64(cents*10+5, 1000).FloatString(3)
		}
	case 3: // 12.344 reads as 12.34, -12.341 as -12.34
		if small && cents >= 0 {
			return s + "4"
		} else if small {
			return s + "1"
		}
	}
	return s
}

// timeForm writes epoch ms as an epoch number, an epoch string, or ISO 8601
// in UTC, another zone, or without a zone (UTC).
func timeForm(rng *rand.Rand, ms int64) string {
	t := time.UnixMilli(ms).UTC()
	switch r := rng.IntN(100); {
	case r < 30:
		return strconv.FormatInt(ms, 10)
	case r < 33:
		return `"` + strconv.FormatInt(ms, 10) + `"`
	case r < 43:
		return `"` + t.In(time.FixedZone("", 2*3600+30*60)).Format("2006-01-02T15:04:05.000-07:00") + `"`
	case r < 48:
		return `"` + t.In(time.FixedZone("", -7*3600)).Format("2006-01-02T15:04:05.000-0700") + `"`
	case r < 58:
		return `"` + t.Format("2006-01-02 15:04:05.000") + `"`
	case r < 63:
		return `"` + t.Format(time.RFC3339Nano) + `"` // trailing zeros of the fraction trimmed
	case r < 65:
		return `"` + t.Format("2006-01-02T15:04:05.000") + strconv.Itoa(rng.IntN(1000)) + `Z"` // microseconds: truncated
	}
	return `"` + t.Format("2006-01-02T15:04:05.000Z") + `"`
}
