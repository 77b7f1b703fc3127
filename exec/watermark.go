package exec

import (
	"math"
	"time"
)

// Watermarks: each split's watermark is the largest event time it has produced
// minus the bounded disorder; the job's watermark is the minimum over splits that
// are neither done nor idle, and never goes back. A split that the source lists
// but that has produced nothing holds the watermark until it produces data or
// goes idle.
//
// Lateness is decided row by row, so results do not depend on how the source
// cut its batches: row i of a batch of split s sees the watermark as it stood
// after rows 0..i of that batch. A row is late when its window has ended at or
// before that watermark (window [start, end) closes when end <= watermark).

const (
	minTime = math.MinInt64
	maxTime = math.MaxInt64
)

type splitClock struct {
	max      int64     // largest event time seen, ms; minTime before any
	lastData time.Time // wall time the split last produced a row
	// quiet: the source looked since then and had nothing. Only a quiet
	// split can go idle: one that was not read for a while (the job was
	// busy, or the source served other splits) may have rows waiting.
	quiet  bool
	seenAt time.Time // wall time the split became known
	done   bool
}

type watermarker struct {
	delay       int64 // ms
	eventTime   bool  // false: time is ROWTIME, which idle heartbeats advance
	idleTimeout time.Duration
	// rowtimeSlack is how far behind a heartbeat's look time an idle ROWTIME
	// split's watermark stays, for records that were written but not yet visible.
	rowtimeSlack int64
	splits       map[string]*splitClock
	current      int64
}

func newWatermarker(delay time.Duration, eventTime bool, idleTimeout time.Duration) *watermarker {
	return &watermarker{delay: delay.Milliseconds(), eventTime: eventTime, idleTimeout: idleTimeout,
		rowtimeSlack: 200, splits: map[string]*splitClock{}, current: minTime}
}

func (w *watermarker) split(id string, now time.Time) *splitClock {
	c := w.splits[id]
	if c == nil {
		c = &splitClock{max: minTime, seenAt: now, lastData: now}
		w.splits[id] = c
	}
	return c
}

// know registers splits the source lists, so they hold the watermark until
// they report. A listed split is not done: a bounded run ends open shards at
// its bound, and a run resumed from its checkpoint reads them on.
func (w *watermarker) know(ids []string, now time.Time) {
	for _, id := range ids {
		w.split(id, now).done = false
	}
}

func (c *splitClock) watermark(delay int64) int64 {
	if c.max == minTime {
		return minTime
	}
	return c.max - delay
}

// othersMin is the minimum watermark of the active splits other than skip
// (maxTime when there are none).
func (w *watermarker) othersMin(skip string, now time.Time) int64 {
	m := int64(maxTime)
	for id, c := range w.splits {
		if id == skip || c.done || w.idle(c, now) {
			continue
		}
		m = min(m, c.watermark(w.delay))
	}
	return m
}

func (w *watermarker) idle(c *splitClock, now time.Time) bool {
	return w.eventTime && w.idleTimeout > 0 && c.quiet && now.Sub(c.lastData) > w.idleTimeout
}

// observe processes the event times of one batch of split id (rows where
// valid is false are skipped) and fills wmAt[i] with the job watermark as it
// stood when row i arrived: after the rows before it, not counting itself.
func (w *watermarker) observe(id string, times []int64, valid func(int) bool, now time.Time, wmAt []int64) {
	c := w.split(id, now)
	others := w.othersMin(id, now)
	running := c.max
	wm := w.current
	for i, t := range times {
		// A row is judged by the watermark before it: it cannot make itself
		// late (with no delay, a row in its window's last millisecond would).
		wmAt[i] = wm
		if valid(i) && t > running {
			running = t
		}
		if m := min(others, running-w.delay); m > wm {
			wm = m
		}
	}
	if len(times) > 0 {
		c.lastData = now
		c.quiet = false
	}
	c.max = running
	w.current = wm
}

// heartbeat records that split id had nothing new when the source looked at time at.
func (w *watermarker) heartbeat(id string, at time.Time, now time.Time) {
	c := w.split(id, now)
	c.quiet = true
	if !w.eventTime && !at.IsZero() {
		// ROWTIME: any later record will arrive after the source looked.
		if t := at.UnixMilli() - w.rowtimeSlack; t > c.max {
			c.max = t
		}
	}
}

// done removes a split that has been read to its end.
func (w *watermarker) done(id string, now time.Time) {
	w.split(id, now).done = true
}

// advance recomputes the job watermark from every split and returns it.
func (w *watermarker) advance(now time.Time) int64 {
	m := int64(maxTime)
	active := 0
	for _, c := range w.splits {
		if c.done || w.idle(c, now) {
			continue
		}
		active++
		m = min(m, c.watermark(w.delay))
	}
	if active > 0 && m > w.current {
		w.current = m
	}
	return w.current
}

// finish moves the watermark past every window: the input has ended.
func (w *watermarker) finish() int64 {
	w.current = maxTime
	return w.current
}
