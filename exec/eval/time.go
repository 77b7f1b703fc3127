package eval

import (
	"errors"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

// Time functions over TIMESTAMP(3) values: milliseconds since the Unix
// epoch, UTC, on the proleptic Gregorian calendar.

const (
	msSecond = int64(1000)
	msMinute = 60 * msSecond
	msHour   = 60 * msMinute
	msDay    = 24 * msHour
	msWeek   = 7 * msDay
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// civil returns the year, month (1-12) and day (1-31) of a day number (days
// since 1970-01-01), after Howard Hinnant's days_from_civil inverse.
func civil(days int64) (y int64, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil returns the day number of a date.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dayStart returns the first millisecond of a day number; ok is false when
// it is outside the int64 range.
func dayStart(days int64) (int64, bool) {
	if days < math.MinInt64/msDay || days > math.MaxInt64/msDay {
		return 0, false
	}
	return days * msDay, true
}

// floorUnits are the units of FLOOR(ts TO unit).
var floorUnits = map[string]func(ms int64) (int64, bool){
	"MILLISECOND": func(ms int64) (int64, bool) { return ms, true },
	"SECOND":      fixedFloor(msSecond, 0),
	"MINUTE":      fixedFloor(msMinute, 0),
	"HOUR":        fixedFloor(msHour, 0),
	"DAY":         fixedFloor(msDay, 0),
	// 1970-01-01 was a Thursday; Monday 1969-12-29 is 3 days before it.
	"WEEK": fixedFloor(msWeek, -3*msDay),
	"MONTH": func(ms int64) (int64, bool) {
		y, m, _ := civil(floorDiv(ms, msDay))
		return dayStart(daysFromCivil(y, m, 1))
	},
	"QUARTER": func(ms int64) (int64, bool) {
		y, m, _ := civil(floorDiv(ms, msDay))
		return dayStart(daysFromCivil(y, (m-1)/3*3+1, 1))
	},
	"YEAR": func(ms int64) (int64, bool) {
		y, _, _ := civil(floorDiv(ms, msDay))
		return dayStart(daysFromCivil(y, 1, 1))
	},
}

// fixedFloor floors to a multiple of unit counted from origin.
func fixedFloor(unit, origin int64) func(ms int64) (int64, bool) {
	shift := floorMod(origin, unit)
	return func(ms int64) (int64, bool) {
		m := floorMod(ms, unit) - shift // (ms - origin) mod unit, without overflow
		if m < 0 {
			m += unit
		}
		r := ms - m
		if r > ms { // wrapped below the int64 range
			return 0, false
		}
		return r, true
	}
}

// mapIntNode applies an int64 -> int64 function that may fail to each row.
type mapIntNode struct {
	x    node
	t    types.Type
	f    func(int64) (int64, bool)
	fail string // the row error's text when f fails
}

func (n *mapIntNode) typ() types.Type { return n.t }

func (n *mapIntNode) eval(c *evalCtx) (arrow.Array, error) {
	a, err := c.operand(n.x)
	if err != nil {
		return nil, err
	}
	defer a.release()
	o := newFixed[int64](c.mem, c.n)
	o.validFrom(a)
	for i := range o.vals {
		x := a.int(i)
		r, ok := n.f(x)
		o.vals[i] = r
		if !ok && o.isValid(i) {
			c.rowErr(i, "%s (%d ms)", n.fail, x)
			o.setNull(i)
		}
	}
	return o.finish(n.t.Arrow()), nil
}

// unitArg reads a unit given as a VARCHAR literal.
func unitArg(n node) (string, error) {
	s, ok := constString(n)
	if !ok {
		return "", errors.New("the unit must be a VARCHAR literal")
	}
	return strings.ToUpper(strings.TrimSpace(s)), nil
}

func newFloorTime(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, 2); err != nil {
		return nil, err
	}
	if err := wantKind("the first argument", args[0], types.Timestamp); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.Timestamp); err != nil {
		return nil, err
	}
	unit, err := unitArg(args[1])
	if err != nil {
		return nil, err
	}
	f, ok := floorUnits[unit]
	if !ok {
		return nil, errors.New("unknown unit '" + unit + "': use SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR")
	}
	return &mapIntNode{x: args[0], t: call.T, f: f, fail: "floor_time: the result is out of the TIMESTAMP range"}, nil
}

// extractUnits are the fields of EXTRACT(unit FROM ts).
var extractUnits = map[string]func(ms int64) int64{
	"YEAR": func(ms int64) int64 {
		y, _, _ := civil(floorDiv(ms, msDay))
		return y
	},
	"QUARTER": func(ms int64) int64 {
		_, m, _ := civil(floorDiv(ms, msDay))
		return int64((m-1)/3 + 1)
	},
	"MONTH": func(ms int64) int64 {
		_, m, _ := civil(floorDiv(ms, msDay))
		return int64(m)
	},
	"DAY": func(ms int64) int64 {
		_, _, d := civil(floorDiv(ms, msDay))
		return int64(d)
	},
	"WEEK": func(ms int64) int64 { return isoWeek(floorDiv(ms, msDay)) },
	// 1970-01-01 was a Thursday: day 0 has Sunday-based index 4.
	"DAYOFWEEK": func(ms int64) int64 { return floorMod(floorDiv(ms, msDay)+4, 7) + 1 },
	"DAYOFYEAR": func(ms int64) int64 {
		days := floorDiv(ms, msDay)
		y, _, _ := civil(days)
		return days - daysFromCivil(y, 1, 1) + 1
	},
	"HOUR":        func(ms int64) int64 { return floorMod(ms, msDay) / msHour },
	"MINUTE":      func(ms int64) int64 { return floorMod(ms, msHour) / msMinute },
	"SECOND":      func(ms int64) int64 { return floorMod(ms, msMinute) / msSecond },
	"MILLISECOND": func(ms int64) int64 { return floorMod(ms, msSecond) },
	"EPOCH":       func(ms int64) int64 { return floorDiv(ms, msSecond) },
}

// isoWeek returns the ISO 8601 week number of a day: the week (starting
// Monday) whose Thursday falls in the year counts from that year's first
// such week.
func isoWeek(days int64) int64 {
	wd := floorMod(days+3, 7) // Monday = 0
	thursday := days - wd + 3
	y, _, _ := civil(thursday)
	return (thursday-daysFromCivil(y, 1, 1))/7 + 1
}

func newExtract(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 2, 2); err != nil {
		return nil, err
	}
	if err := wantKind("the second argument", args[1], types.Timestamp); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.BigInt); err != nil {
		return nil, err
	}
	unit, err := unitArg(args[0])
	if err != nil {
		return nil, err
	}
	f, ok := extractUnits[unit]
	if !ok {
		return nil, errors.New("unknown unit '" + unit + "': use YEAR, QUARTER, MONTH, WEEK, DAY, DAYOFWEEK, DAYOFYEAR, HOUR, MINUTE, SECOND, MILLISECOND or EPOCH")
	}
	return &mapIntNode{x: args[1], t: call.T, f: func(ms int64) (int64, bool) { return f(ms), true }}, nil
}

func newUnixTimestamp(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	if err := wantKind("the argument", args[0], types.Timestamp); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.BigInt); err != nil {
		return nil, err
	}
	return &mapIntNode{x: args[0], t: call.T, f: func(ms int64) (int64, bool) { return floorDiv(ms, msSecond), true }}, nil
}

func newFromUnixtime(call *expr.Call, args []node) (node, error) {
	if err := wantArgs(args, 1, 1); err != nil {
		return nil, err
	}
	if err := wantKind("the argument", args[0], types.BigInt, types.Double, types.Decimal); err != nil {
		return nil, err
	}
	if err := wantResult(call, types.Timestamp); err != nil {
		return nil, err
	}
	const fail = "from_unixtime: %s seconds is out of the TIMESTAMP range"
	switch args[0].typ().Kind {
	case types.BigInt:
		return &mapIntNode{x: args[0], t: call.T, fail: "from_unixtime: the seconds are out of the TIMESTAMP range",
			f: func(s int64) (int64, bool) {
				if s > math.MaxInt64/msSecond || s < math.MinInt64/msSecond {
					return 0, false
				}
				return s * msSecond, true
			}}, nil
	case types.Double:
		return &rowNode{args: args, t: call.T, i64: func(c *evalCtx, vs []*vec, i int) (int64, bool) {
			s := vs[0].float(i)
			ms, ok := floatToInt(s * 1000)
			if !ok {
				c.rowErr(i, fail, formatDouble(s))
			}
			return ms, ok
		}}, nil
	}
	sc := args[0].typ().Scale
	return &rowNode{args: args, t: call.T, i64: func(c *evalCtx, vs []*vec, i int) (int64, bool) {
		d := vs[0].decimal(i)
		ms, ok := rescaleDec(d, sc, 3)
		var v int64
		if ok {
			v, ok = decToInt64(ms)
		}
		if !ok {
			c.rowErr(i, fail, decString(d, sc))
		}
		return v, ok
	}}, nil
}

// floatToInt rounds x half away from zero to an int64; ok is false for NaN,
// infinities and values out of range.
func floatToInt(x float64) (int64, bool) {
	r := math.Round(x)
	if math.IsNaN(r) || r < -9223372036854775808.0 || r >= 9223372036854775808.0 {
		return 0, false
	}
	return int64(r), true
}

// decToInt64 converts an unscaled value that is an integer.
func decToInt64(d decimal128.Num) (int64, bool) {
	hi, lo := d.HighBits(), d.LowBits()
	if (hi == 0 && lo>>63 == 0) || (hi == -1 && lo>>63 == 1) {
		return int64(lo), true
	}
	return 0, false
}
