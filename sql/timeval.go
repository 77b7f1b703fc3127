package sql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// intervalUnits are the units of INTERVAL literals (day-time intervals).
var intervalUnits = map[string]time.Duration{
	"MILLISECOND": time.Millisecond, "MILLISECONDS": time.Millisecond,
	"SECOND": time.Second, "SECONDS": time.Second,
	"MINUTE": time.Minute, "MINUTES": time.Minute,
	"HOUR": time.Hour, "HOURS": time.Hour,
	"DAY": 24 * time.Hour, "DAYS": 24 * time.Hour,
}

// intervalValue computes INTERVAL 'value' UNIT, or says what is wrong.
func intervalValue(value, unit string) (time.Duration, string) {
	per, ok := intervalUnits[strings.ToUpper(unit)]
	if !ok {
		return 0, fmt.Sprintf("unknown interval unit %s: use MILLISECOND, SECOND, MINUTE, HOUR or DAY (or their plurals)", strings.ToUpper(unit))
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Sprintf("INTERVAL %s %s: the value must be a number, e.g. INTERVAL '5' SECOND", quote(value), strings.ToUpper(unit))
	}
	ms := f * float64(per/time.Millisecond)
	if ms != math.Trunc(ms) {
		return 0, fmt.Sprintf("INTERVAL %s %s is not a whole number of milliseconds", quote(value), strings.ToUpper(unit))
	}
	if math.Abs(ms) > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, fmt.Sprintf("INTERVAL %s %s is too long", quote(value), strings.ToUpper(unit))
	}
	return time.Duration(ms) * time.Millisecond, ""
}

// timestampLayouts are the forms a timestamp literal may take (UTC).
var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTimestamp reads a timestamp literal as milliseconds since the epoch, UTC.
func parseTimestamp(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("%s is not a timestamp: write 'YYYY-MM-DD HH:MM:SS[.fff]' (UTC), e.g. '2024-05-01 12:30:00'", quote(s))
}
