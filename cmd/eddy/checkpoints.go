package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/exec/checkpoint"
)

const checkpointsLong = `A checkpoint is a consistent snapshot of a running application, which
'eddy run APP.sql' takes every --checkpoint-interval: where each query resumes
reading its source (for every shard, the sequence number after which to read),
the state of every stateful operator (open windows, aggregates, keys), and the
state each sink prepared so that its output is written exactly once. After a
crash or a restart, run resumes from the newest checkpoint whose files verify.

Checkpoints live in DATA_DIR/checkpoints (or --checkpoints LOCATION), under
APP/chk-NNNNNNNNNN/: one folder per checkpoint, holding the state files and a
MANIFEST.json written last. A folder without a manifest is an incomplete
checkpoint (being written, or interrupted) and is ignored. The manifest lists
every state file with its size and CRC-32C; a checkpoint whose files do not
match is damaged, and run falls back to the one before it. Only the newest
few checkpoints are kept.

APP is the application's name: run's --name, by default the file name without
.sql.`

func (a *invocation) checkpointsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkpoints",
		Short: "List and inspect the checkpoints of applications",
		Long:  checkpointsLong,
	}
	cmd.AddCommand(a.checkpointsList(), a.checkpointsDescribe())
	return cmd
}

// checkpointFlags are the flags every checkpoints subcommand has.
type checkpointFlags struct {
	location string
	format   string
}

func (f *checkpointFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.location, "checkpoints", "", checkpointLocationHelp)
	cmd.Flags().StringVar(&f.format, "format", "table", "table or json")
}

// open checks the flags and the application name and opens the store.
func (a *invocation) openCheckpoints(ctx context.Context, f *checkpointFlags, app string) (checkpoint.Store, error) {
	if f.format != "table" && f.format != "json" {
		return nil, fmt.Errorf("--format %q: use table or json", f.format)
	}
	if err := checkpoint.CheckAppName(app); err != nil {
		return nil, err
	}
	return a.checkpointStore(ctx, f.location)
}

// listRow is one checkpoint in `checkpoints list --format json`.
type listRow struct {
	ID        int64     `json:"id"`
	App       string    `json:"app"`
	Created   time.Time `json:"created"`
	Bytes     int64     `json:"bytes"`
	Duration  int64     `json:"duration_ns"`
	Alignment int64     `json:"alignment_ns"`
	Queries   int       `json:"queries"`
	Operators int       `json:"operators"`
	Files     int       `json:"files"`
}

func (a *invocation) checkpointsList() *cobra.Command {
	var f checkpointFlags
	cmd := &cobra.Command{
		Use:   "list APP",
		Short: "List an application's checkpoints, newest first",
		Long: `List prints one line per complete checkpoint of APP, newest first: its id,
when it was taken (UTC) and how long ago, its size, how long it took, how long
the output waited for the last worker's barrier (alignment), and how many
queries and stateful operators it holds. Damaged and incomplete checkpoints
are reported on stderr after the table.

List reads only the manifests; 'eddy checkpoints describe APP ID' also
verifies the files.`,
		Args: exactArgs("APP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			app := args[0]
			ctx := cmd.Context()
			store, err := a.openCheckpoints(ctx, &f, app)
			if err != nil {
				return err
			}
			now, err := a.now()
			if err != nil {
				return err
			}
			list, warnings, err := checkpoint.List(ctx, store, app)
			if err != nil {
				return err
			}
			warnings = append(warnings, incompleteCheckpoints(ctx, store, app, list)...)
			if len(list) == 0 {
				msg := a.noCheckpoints(ctx, store, app)
				if f.format == "json" {
					fmt.Fprintln(a.stderr, msg)
					fmt.Fprintln(a.stdout, "[]")
				} else {
					fmt.Fprintln(a.stdout, msg)
				}
				a.printCheckpointWarnings(app, warnings)
				return nil
			}
			if f.format == "json" {
				rows := make([]listRow, 0, len(list))
				for _, m := range list {
					rows = append(rows, listRow{ID: m.ID, App: m.App, Created: m.Created.UTC(), Bytes: m.Metrics.Bytes,
						Duration: int64(m.Metrics.Duration), Alignment: int64(m.Metrics.Alignment),
						Queries: len(m.Sources), Operators: len(m.Operators), Files: len(m.Files)})
				}
				if err := writeJSON(a.stdout, rows); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCREATED (UTC)\tAGE\tSIZE\tDURATION\tALIGNMENT\tQUERIES\tOPERATORS")
				for _, m := range list {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", m.ID, fmtCreated(m.Created), fmtAge(now().Sub(m.Created)),
						fmtBytes(m.Metrics.Bytes), fmtDuration(m.Metrics.Duration), fmtDuration(m.Metrics.Alignment),
						len(m.Sources), len(m.Operators))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			a.printCheckpointWarnings(app, warnings)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

// describeJSON is `checkpoints describe --format json`: the manifest, and
// whether its files verify.
type describeCheckpointJSON struct {
	checkpoint.Manifest
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

func (a *invocation) checkpointsDescribe() *cobra.Command {
	var f checkpointFlags
	cmd := &cobra.Command{
		Use:   "describe APP ID|latest",
		Short: "Show everything a checkpoint holds and verify its files",
		Long: `Describe prints a checkpoint's manifest in readable form: when it was taken and
how long that took; for every query, where it resumes reading each shard of its
source (the sequence number after which it reads on, or "from start") and
which shards it read to their end; the state each sink prepared; the stateful
operators with their plan fingerprint and state files; and every file with its
size and CRC-32C.

Describe reads every file and checks its size and CRC-32C against the manifest.
A damaged checkpoint is still described, the file that does not match is
named, and the exit status is 1.

ID is a number from 'eddy checkpoints list APP', or latest: the newest
checkpoint whose files verify, the one run would resume from.`,
		Args: exactArgs("APP", "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			app := args[0]
			ctx := cmd.Context()
			store, err := a.openCheckpoints(ctx, &f, app)
			if err != nil {
				return err
			}
			now, err := a.now()
			if err != nil {
				return err
			}
			m, latest, verr, err := a.findCheckpoint(ctx, store, app, args[1])
			if err != nil {
				return err
			}
			if f.format == "json" {
				out := describeCheckpointJSON{Manifest: m, Verified: verr == nil}
				if verr != nil {
					out.Error = verr.Error()
				}
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else if err := printCheckpoint(a.stdout, m, latest, verr, store, now()); err != nil {
				return err
			}
			if verr != nil {
				return fmt.Errorf("%w; a run skips this checkpoint for an older one", verr)
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

// findCheckpoint returns the manifest of the checkpoint arg names (an id or
// latest) and the error verifying its files (nil when they verify). err is
// for a checkpoint that cannot be described at all.
func (a *invocation) findCheckpoint(ctx context.Context, store checkpoint.Store, app, arg string) (m checkpoint.Manifest, latest bool, verr, err error) {
	if arg == "latest" {
		c, warnings, err := checkpoint.Latest(ctx, store, app)
		if err != nil {
			return m, true, nil, err
		}
		// The newer checkpoints Latest skipped are damaged: say so, since
		// "latest" then is not the newest.
		a.printCheckpointWarnings(app, warnings)
		if c == nil {
			if len(warnings) > 0 {
				return m, true, nil, fmt.Errorf("no checkpoint of %s in %s verifies (see the warnings above); a run would start from scratch", app, store)
			}
			return m, true, nil, errors.New(a.noCheckpoints(ctx, store, app))
		}
		return c.Manifest, true, nil, nil
	}
	id, perr := strconv.ParseInt(strings.TrimPrefix(arg, "chk-"), 10, 64)
	if perr != nil || id <= 0 {
		return m, false, nil, fmt.Errorf("checkpoint id %q: use a number from 'eddy checkpoints list %s', or latest", arg, app)
	}
	// List reads the manifests without the files, so a checkpoint whose
	// files are damaged is still described.
	list, warnings, err := checkpoint.List(ctx, store, app)
	if err != nil {
		return m, false, nil, err
	}
	i := slices.IndexFunc(list, func(m checkpoint.Manifest) bool { return m.ID == id })
	if i < 0 {
		prefix := fmt.Sprintf("checkpoint %d of %s:", id, app)
		for _, w := range warnings {
			if strings.HasPrefix(w, prefix) {
				return m, false, nil, errors.New(w)
			}
		}
		if len(list) == 0 {
			return m, false, nil, fmt.Errorf("no checkpoint %d: %s", id, a.noCheckpoints(ctx, store, app))
		}
		ids := make([]string, len(list))
		for i, m := range list {
			ids[i] = strconv.FormatInt(m.ID, 10)
		}
		return m, false, nil, fmt.Errorf("no checkpoint %d of %s in %s; it has %s: %s", id, app, store,
			plural(len(list), "checkpoint", "checkpoints"), strings.Join(ids, ", "))
	}
	m = list[i]
	_, verr = checkpoint.Load(ctx, store, app, id)
	return m, false, verr, nil
}

// printCheckpoint writes a manifest in readable form.
func printCheckpoint(w io.Writer, m checkpoint.Manifest, latest bool, verr error, store checkpoint.Store, now time.Time) error {
	title := fmt.Sprintf("checkpoint %d of %s", m.ID, m.App)
	if latest {
		title += " (latest: the one a run resumes from)"
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  created\t%s (%s ago)\n", fmtCreated(m.Created), fmtAge(now.Sub(m.Created)))
	fmt.Fprintf(tw, "  stored in\t%s\n", store)
	fmt.Fprintf(tw, "  took\t%s (alignment %s)\n", fmtDuration(m.Metrics.Duration), fmtDuration(m.Metrics.Alignment))
	fmt.Fprintf(tw, "  size\t%s (%d bytes) in %s\n", fmtBytes(m.Metrics.Bytes), m.Metrics.Bytes, plural(len(m.Files), "state file", "state files"))
	if verr == nil {
		fmt.Fprintf(tw, "  verified\tyes: every file has the size and CRC-32C the manifest lists\n")
	} else {
		fmt.Fprintf(tw, "  verified\tNO: %s\n", verr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nsources: where each query resumes reading\n")
	if len(m.Sources) == 0 {
		fmt.Fprintln(w, "  (none)")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  QUERY\tSHARD\tRESUMES AFTER\tREAD TO THE END")
		for _, q := range slices.Sorted(maps.Keys(m.Sources)) {
			p := m.Sources[q]
			shards := slices.Collect(maps.Keys(p.After))
			for _, s := range p.Done {
				if _, ok := p.After[s]; !ok {
					shards = append(shards, s)
				}
			}
			slices.Sort(shards)
			if len(shards) == 0 {
				fmt.Fprintf(tw, "  %s\t(no shard read yet: from the start of every shard)\t\t\n", q)
			}
			for i, s := range shards {
				name := q
				if i > 0 {
					name = ""
				}
				after := p.After[s]
				if after == "" {
					after = "from start"
				}
				done := "-"
				if slices.Contains(p.Done, s) {
					done = "yes"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", name, s, after, done)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\nsinks: the state each prepared for this checkpoint's output\n")
	if len(m.Sinks) == 0 {
		fmt.Fprintln(w, "  (none: no sink commits output with checkpoints)")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  QUERY\tSTATE SIZE\tSTATE")
		for _, q := range slices.Sorted(maps.Keys(m.Sinks)) {
			st := m.Sinks[q]
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", q, fmtBytes(int64(len(st))), sinkStatePreview(st))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\noperators: the state of each query's plan\n")
	if len(m.Operators) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, op := range m.Operators {
		fmt.Fprintf(w, "  %s\n", op.Name)
		fmt.Fprintf(w, "    fingerprint  %s\n", op.Fingerprint)
		fmt.Fprintf(w, "    files        %s\n", strings.Join(op.Files, ", "))
	}

	fmt.Fprintf(w, "\nfiles\n")
	if len(m.Files) == 0 {
		fmt.Fprintln(w, "  (none)")
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tSIZE\tBYTES\tCRC-32C")
	for _, f := range m.Files {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%08x\n", f.Name, fmtBytes(f.Bytes), f.Bytes, f.CRC32C)
	}
	return tw.Flush()
}

// sinkStatePreview shows a sink's state when it is short readable text (the
// file and Kinesis sinks keep JSON), else nothing.
func sinkStatePreview(st []byte) string {
	const max = 160
	if !utf8.Valid(st) || bytes.ContainsFunc(st, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' }) {
		return "(binary)"
	}
	if json.Valid(st) {
		var buf bytes.Buffer
		if json.Compact(&buf, st) == nil {
			st = buf.Bytes()
		}
	}
	s := strings.Join(strings.Fields(string(st)), " ")
	if len(s) > max {
		cut := max
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// incompleteCheckpoints reports the checkpoint folders of app without a
// manifest, which List skips silently. The layout (APP/chk-ID/MANIFEST.json)
// is the one package checkpoint documents.
func incompleteCheckpoints(ctx context.Context, store checkpoint.Store, app string, complete []checkpoint.Manifest) []string {
	paths, err := store.List(ctx, app+"/")
	if err != nil {
		return []string{fmt.Sprintf("cannot look for incomplete checkpoints of %s: %v", app, err)}
	}
	seen := map[int64]bool{} // id -> has a manifest
	for _, p := range paths {
		rest, ok := strings.CutPrefix(p, app+"/chk-")
		if !ok {
			continue
		}
		num, file, ok := strings.Cut(rest, "/")
		id, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || id <= 0 {
			continue
		}
		seen[id] = seen[id] || file == checkpoint.ManifestName
	}
	newest := int64(0)
	if len(complete) > 0 {
		newest = complete[0].ID
	}
	var out []string
	for _, id := range slices.Backward(slices.Sorted(maps.Keys(seen))) {
		if seen[id] {
			continue
		}
		why := "being written now, or left by an interrupted run"
		if id < newest {
			why = "left by an interrupted run; the next checkpoint taken removes it"
		}
		out = append(out, fmt.Sprintf("checkpoint %d of %s is incomplete (no %s: %s); it is ignored", id, app, checkpoint.ManifestName, why))
	}
	return out
}

// printCheckpointWarnings reports, on stderr, checkpoints that cannot be used.
func (a *invocation) printCheckpointWarnings(app string, warnings []string) {
	if len(warnings) == 0 {
		return
	}
	fmt.Fprintf(a.stderr, "eddy: warning: %s of %s cannot be used:\n", plural(len(warnings), "checkpoint", "checkpoints"), app)
	for _, w := range warnings {
		fmt.Fprintf(a.stderr, "  %s\n", w)
	}
}

// noCheckpoints says that app has no checkpoint in store, and how to get one.
func (a *invocation) noCheckpoints(ctx context.Context, store checkpoint.Store, app string) string {
	msg := fmt.Sprintf("no checkpoints of %s in %s", app, store)
	if ds, ok := store.(*checkpoint.DirStore); ok {
		if _, err := os.Stat(ds.String()); errors.Is(err, os.ErrNotExist) {
			msg += " (the folder does not exist)"
		}
	}
	msg += fmt.Sprintf("; 'eddy run %s.sql' takes one every --checkpoint-interval", app)
	// An unknown name: say which applications have checkpoints there.
	if paths, err := store.List(ctx, ""); err == nil {
		apps := map[string]bool{}
		for _, p := range paths {
			if name, rest, ok := strings.Cut(p, "/"); ok && strings.HasSuffix(rest, "/"+checkpoint.ManifestName) {
				apps[name] = true
			}
		}
		if len(apps) > 0 {
			msg += fmt.Sprintf(". %s has checkpoints of: %s", store, strings.Join(slices.Sorted(maps.Keys(apps)), ", "))
		}
	}
	if strings.HasSuffix(app, ".sql") {
		msg += fmt.Sprintf(". APP is the application's name (run's --name, by default the file name without .sql): try %s", strings.TrimSuffix(app, ".sql"))
	}
	return msg
}

// fmtCreated is a checkpoint's time: UTC, RFC 3339 to the millisecond.
func fmtCreated(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// fmtBytes is a size in binary units: 512 B, 1.5 KiB, 12.0 MiB.
func fmtBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, next := range []string{"MiB", "GiB", "TiB"} {
		if v < 1023.95 { // would print as 1024.0
			break
		}
		v, unit = v/1024, next
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// fmtDuration is a short duration with three significant digits at most:
// 850µs, 45.3ms, 1.23s, 2m5s.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d < 100*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// fmtAge is how long ago something happened, to two units: 42s, 3m12s,
// 5h07m, 3d04h.
func fmtAge(d time.Duration) string {
	if d < 0 {
		return "0s" // a clock behind the one that took the checkpoint
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
	}
}
