package bench

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Measure is one stage's cost: wall time and the CPU time the process spent.
type Measure struct {
	Stage  string
	Events int64
	Bytes  int64
	Wall   time.Duration
	CPU    time.Duration
}

// EventsPerSec is the stage's throughput in wall time.
func (m Measure) EventsPerSec() float64 { return float64(m.Events) / m.Wall.Seconds() }

// EventsPerCoreSec is the throughput per core: events per CPU-second.
func (m Measure) EventsPerCoreSec() float64 { return float64(m.Events) / m.CPU.Seconds() }

// cpuTime is the process's user plus system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Time runs fn and measures it.
func Time(stage string, fn func() (events, bytes int64, err error)) (Measure, error) {
	runtime.GC()
	c0, t0 := cpuTime(), time.Now()
	events, bytes, err := fn()
	return Measure{Stage: stage, Events: events, Bytes: bytes, Wall: time.Since(t0), CPU: cpuTime() - c0}, err
}

// Add sums the measures of a stage timed in parts (its first part's name).
func (m Measure) Add(o Measure) Measure {
	if m.Stage == "" {
		m.Stage = o.Stage
	}
	m.Events += o.Events
	m.Bytes += o.Bytes
	m.Wall += o.Wall
	m.CPU += o.CPU
	return m
}

// Machine describes where a benchmark ran, for the report.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if _, v, ok := strings.Cut(line, ":"); ok {
					model = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%s, %d cores (GOMAXPROCS %d), %s/%s%s", model, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, load)
}

// PrintTable writes the measures as an aligned table.
func PrintTable(w io.Writer, ms []Measure) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tevents\tMB\twall s\tCPU s\tevents/s\tevents/s per core\t")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.2f\t%.0f\t%.0f\t\n", m.Stage, m.Events, float64(m.Bytes)/1e6,
			m.Wall.Seconds(), m.CPU.Seconds(), m.EventsPerSec(), m.EventsPerCoreSec())
	}
	return tw.Flush()
}
