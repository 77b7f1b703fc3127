package app

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql"
)

// The keys of SET statements an application may hold.
const (
	SetApplicationName    = "application_name"
	SetCheckpointInterval = "checkpoint_interval"
	SetCheckpointsKept    = "checkpoints_kept"
)

// Settings are what an application's SET statements say; command-line flags
// override them.
type Settings struct {
	// Name is application_name, or "".
	Name string
	// CheckpointInterval is checkpoint_interval; nil when not set, 0 for off.
	CheckpointInterval *time.Duration
	// CheckpointsKept is checkpoints_kept, 0 when not set.
	CheckpointsKept int
}

// settings checks the SET statements of stmts.
func settings(stmts []sql.Statement) (Settings, error) {
	var s Settings
	seen := map[string]sql.Pos{}
	keys := []string{SetApplicationName, SetCheckpointInterval, SetCheckpointsKept}
	for _, st := range stmts {
		set, ok := st.(*sql.Set)
		if !ok {
			continue
		}
		if first, dup := seen[set.Key]; dup {
			return s, fmt.Errorf("%s: %s is set twice (first at line %d): keep one", set.Pos, set.Key, first.Line)
		}
		seen[set.Key] = set.Pos
		switch set.Key {
		case SetApplicationName:
			s.Name = set.Value
		case SetCheckpointInterval:
			v := strings.ToLower(strings.TrimSpace(set.Value))
			if v == "off" || v == "none" {
				v = "0s"
			}
			d, err := planner.ParseDuration(v)
			if err != nil {
				return s, fmt.Errorf("%s: %s = '%s': %w; '0' or 'off' turns checkpoints off", set.ValuePos, set.Key, set.Value, err)
			}
			s.CheckpointInterval = &d
		case SetCheckpointsKept:
			n, err := strconv.Atoi(strings.TrimSpace(set.Value))
			if err != nil || n < 1 {
				return s, fmt.Errorf("%s: %s = %s: keep a whole number of checkpoints, at least 1", set.ValuePos, set.Key, set.Value)
			}
			s.CheckpointsKept = n
		default:
			return s, fmt.Errorf("%s: unknown setting %s: eddy has %s", set.Pos, set.Key, strings.Join(keys, ", "))
		}
	}
	return s, nil
}

// DefaultName is an application's name when neither --name nor SET
// application_name gives one: its file name without the extension.
func DefaultName(file string) string {
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}
