package app

import (
	"strings"
	"testing"
	"time"
)

func TestSettingsAndNames(t *testing.T) {
	const streams = `CREATE STREAM s (k VARCHAR) WITH (connector = 'kinesis', stream = 's');
CREATE SINK a WITH (connector = 'stdout');
CREATE SINK B WITH (connector = 'stdout');
`
	a, err := Compile("", "dir/my-app.sql", streams+`SET checkpoint_interval = '2 minutes';
SET checkpoints_kept = 5;
INSERT INTO a SELECT k FROM s;
INSERT INTO B SELECT k FROM s;
INSERT INTO a SELECT k FROM s;
SELECT k FROM s;`)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "my-app" || a.Settings.CheckpointInterval == nil || *a.Settings.CheckpointInterval != 2*time.Minute ||
		a.Settings.CheckpointsKept != 5 {
		t.Fatalf("got name %q settings %+v", a.Name, a.Settings)
	}
	if got := strings.Join(jobNames(a.Queries()), ","); got != "a,b,a_2,console" {
		t.Fatalf("job names %s", got)
	}
	a, err = Compile("", "x.sql", streams+"SET application_name = 'named'; SET checkpoint_interval = 'off'; SELECT k FROM s;")
	if err != nil || a.Name != "named" || *a.Settings.CheckpointInterval != 0 {
		t.Fatalf("got %v %+v", err, a)
	}
	if a, err = Compile("flag", "x.sql", streams+"SET application_name = 'named'; SELECT k FROM s;"); err != nil || a.Name != "flag" {
		t.Fatalf("--name must win over SET: %v %+v", err, a)
	}
	for text, want := range map[string]string{
		"SET checkpoint_interval = 'soon'; SELECT k FROM s;":                   "x.sql:4:27: checkpoint_interval = 'soon'",
		"SET checkpoints_kept = 0; SELECT k FROM s;":                           "keep a whole number of checkpoints",
		"SET checkpoints_kept = 1; SET checkpoints_kept = 2; SELECT k FROM s;": "checkpoints_kept is set twice (first at line 4)",
		"SET parallelism = 4; SELECT k FROM s;":                                "unknown setting parallelism: eddy has application_name, checkpoint_interval, checkpoints_kept",
		"SET application_name = 'has space'; SELECT k FROM s;":                 `application name "has space"`,
	} {
		if _, err := Compile("", "x.sql", streams+text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", text, err, want)
		}
	}
}
