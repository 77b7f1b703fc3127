package eval

import (
	"math"
	"strconv"
)

// Rendering of values as text, for CAST to VARCHAR and JSON.

func itoa(x int64) string { return strconv.FormatInt(x, 10) }

// appendDouble renders x as the shortest text that reads back to x: plain
// notation for magnitudes in [1e-7, 1e21), exponent notation outside
// (1e+21, 1.5e-8), NaN, Infinity, -Infinity; zero is 0.
func appendDouble(dst []byte, x float64) []byte {
	switch {
	case math.IsNaN(x):
		return append(dst, "NaN"...)
	case math.IsInf(x, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(x, -1):
		return append(dst, "-Infinity"...)
	case x == 0:
		return append(dst, '0')
	}
	if a := math.Abs(x); a >= 1e-7 && a < 1e21 {
		return strconv.AppendFloat(dst, x, 'f', -1, 64)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, x, 'e', -1, 64)
	// Go pads the exponent to two digits (1e-08); drop the padding.
	for k := start; k < len(dst); k++ {
		if dst[k] == 'e' && k+2 < len(dst) && dst[k+2] == '0' && k+3 < len(dst) {
			return append(dst[:k+2], dst[k+3:]...)
		}
	}
	return dst
}

func formatDouble(x float64) string { return string(appendDouble(nil, x)) }

// appendTimestamp renders ms as RFC 3339 UTC with milliseconds
// (2024-01-02T03:04:05.678Z); ok is false outside years 0000-9999.
func appendTimestamp(dst []byte, ms int64) ([]byte, bool) {
	days := floorDiv(ms, msDay)
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		return dst, false
	}
	rem := ms - days*msDay
	// YYYY-MM-DDTHH:MM:SS.mmmZ, written in place.
	var b [24]byte
	b[4], b[7], b[10], b[13], b[16], b[19], b[23] = '-', '-', 'T', ':', ':', '.', 'Z'
	put2(b[0:2], y/100)
	put2(b[2:4], y%100)
	put2(b[5:7], int64(m))
	put2(b[8:10], int64(d))
	put2(b[11:13], rem/msHour)
	put2(b[14:16], rem%msHour/msMinute)
	put2(b[17:19], rem%msMinute/msSecond)
	f := rem % msSecond
	b[20] = byte('0' + f/100)
	put2(b[21:23], f%100)
	return append(dst, b[:]...), true
}

// put2 writes 0 <= v < 100 as two digits.
func put2(b []byte, v int64) {
	b[0] = byte('0' + v/10)
	b[1] = byte('0' + v%10)
}

// appendPadded appends v >= 0 in decimal, zero-padded to width digits.
func appendPadded(dst []byte, v int64, width int) []byte {
	switch {
	case width == 2 && v < 100:
		return append(dst, byte('0'+v/10), byte('0'+v%10))
	case width == 3 && v < 1000:
		return append(dst, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
	case width == 4 && v < 10000:
		return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	}
	var buf [20]byte
	i := len(buf)
	for v > 0 || len(buf)-i < width {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[i:]...)
}

// appendInterval renders a day-time interval as [-]D HH:MM:SS.mmm.
func appendInterval(dst []byte, ms int64) []byte {
	u := uint64(ms)
	if ms < 0 {
		dst = append(dst, '-')
		u = -u
	}
	day := uint64(msDay)
	dst = strconv.AppendUint(dst, u/day, 10)
	rem := int64(u % day)
	dst = append(dst, ' ')
	dst = appendPadded(dst, rem/msHour, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, rem%msHour/msMinute, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, rem%msMinute/msSecond, 2)
	dst = append(dst, '.')
	return appendPadded(dst, rem%msSecond, 3)
}
