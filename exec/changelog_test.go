package exec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/eddy-streams/eddy/planner"
	"github.com/eddy-streams/eddy/sql/expr"
	"github.com/eddy-streams/eddy/sql/types"
)

type clRow struct {
	k          string
	start, end int64
	n          int64
}

var clSchema = types.Schema{{Name: "k", Type: types.VarcharType}, {Name: "window_start", Type: types.TimestampType},
	{Name: "window_end", Type: types.TimestampType}, {Name: "n", Type: types.BigIntType}}

func clRecord(rows []clRow, nCols int, mem memory.Allocator) arrow.RecordBatch {
	sch := clSchema[:nCols].Arrow()
	b := array.NewRecordBuilder(mem, sch)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.k)
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(r.start))
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(r.end))
		if nCols > 3 {
			b.Field(3).(*array.Int64Builder).Append(r.n)
		}
	}
	return b.NewRecordBatch()
}

// TestChangelog drives the output stage's changelog directly: inserts,
// updates as -U/+U pairs, withdrawals and HAVING drops as -D, and the rows it
// remembers are forgotten once their window is past the lateness.
func TestChangelog(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	stage := &planner.AggregateStage{KeyExprs: []expr.Expr{nil}, AllowedLateness: 5 * time.Millisecond}
	c := newChangelog(stage)
	defer c.release()
	outSch := append(clSchema[:4:4], types.Column{Name: planner.OpColumn, Type: types.VarcharType}).Arrow()
	step := func(rows []clRow, kept []bool, withdrawn []clRow) string {
		t.Helper()
		rec := clRecord(rows, 4, mem)
		defer rec.Release()
		var keptRows []clRow
		for i, r := range rows {
			if kept[i] {
				keptRows = append(keptRows, r)
			}
		}
		out := clRecord(keptRows, 4, mem)
		defer out.Release()
		var wd []arrow.RecordBatch
		if withdrawn != nil {
			wd = append(wd, clRecord(withdrawn, 3, mem))
			defer wd[0].Release()
		}
		changes, err := c.apply(rec, kept, out, wd, outSch, mem)
		if err != nil {
			t.Fatal(err)
		}
		if changes == nil {
			return ""
		}
		defer changes.Release()
		var lines []string
		for i := range int(changes.NumRows()) {
			lines = append(lines, fmt.Sprintf("%s %s %d-%d n=%s", changes.Column(4).ValueStr(i), changes.Column(0).ValueStr(i),
				changes.Column(1).(*array.Timestamp).Value(i), changes.Column(2).(*array.Timestamp).Value(i), changes.Column(3).ValueStr(i)))
		}
		return strings.Join(lines, "; ")
	}
	yes := []bool{true, true}
	for _, tc := range []struct {
		name      string
		rows      []clRow
		kept      []bool
		withdrawn []clRow
		watermark int64
		want      string
	}{
		{"first rows", []clRow{{"a", 0, 10, 1}, {"b", 0, 10, 2}}, yes, nil, 10, "+I a 0-10 n=1; +I b 0-10 n=2"},
		{"an update", []clRow{{"a", 0, 10, 3}}, yes[:1], nil, 11, "-U a 0-10 n=1; +U a 0-10 n=3"},
		{"HAVING drops b", []clRow{{"b", 0, 10, 0}}, []bool{false}, nil, 12, "-D b 0-10 n=2"},
		{"HAVING drops what never went out", []clRow{{"c", 0, 10, 0}}, []bool{false}, nil, 12, ""},
		{"a session grows", []clRow{{"s", 20, 30, 1}}, yes[:1], nil, 12, "+I s 20-30 n=1"},
		{"and is withdrawn for its new bounds", []clRow{{"s", 20, 35, 2}}, yes[:1], []clRow{{"s", 20, 30, 0}, {"x", 1, 2, 0}}, 15,
			"-D s 20-30 n=1; +I s 20-35 n=2"},
		// Workers never send rows of a forgotten window; were one sent, it is new.
		{"past the lateness a was forgotten", []clRow{{"a", 0, 10, 4}}, yes[:1], nil, 15, "+I a 0-10 n=4"},
	} {
		if got := step(tc.rows, tc.kept, tc.withdrawn); got != tc.want {
			t.Fatalf("%s: changes %q, want %q", tc.name, got, tc.want)
		}
		c.expire(tc.watermark)
	}
	// Forgotten: [0, 10) at watermark 15 (10 + 5 <= 15); kept: s [20, 35).
	if c.held() != 1 {
		t.Fatalf("remembers %d rows after expiry, want 1", c.held())
	}
}
