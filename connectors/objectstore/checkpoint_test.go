package objectstore

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eddy-streams/eddy/connectors/objectstore/s3test"
	"github.com/eddy-streams/eddy/exec/checkpoint"
)

// TestCheckpointsOnS3 takes, lists, loads, thins out and damages
// checkpoints kept in a bucket, through the checkpoint package.
func TestCheckpointsOnS3(t *testing.T) {
	srv := s3test.Start(t)
	s := openS3(t, srv, "eddy/checkpoints")
	ctx := testContext(t)
	const app = "orders-per-minute"
	state := func(id int64) []byte { return []byte(strings.Repeat(fmt.Sprintf("state of checkpoint %d;", id), 50)) }

	take := func(id int64) {
		t.Helper()
		w, err := checkpoint.Begin(s, app, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddFile(ctx, "agg-0", state(id)); err != nil {
			t.Fatal(err)
		}
		if err := w.AddFile(ctx, "agg-1", []byte("small")); err != nil {
			t.Fatal(err)
		}
		_, err = w.Complete(ctx, checkpoint.Manifest{
			Sources:   map[string]checkpoint.Position{"orders": {After: map[string]string{"shard-0": fmt.Sprint(id * 100)}}},
			Operators: []checkpoint.Operator{{Name: "agg", Fingerprint: "f1", Files: []string{"agg-0", "agg-1"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := func() []int64 {
		t.Helper()
		ms, warnings, err := checkpoint.List(ctx, s, app)
		if err != nil || len(warnings) > 0 {
			t.Fatalf("List: %v %q", err, warnings)
		}
		var out []int64
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	latest := func(want int64) []string {
		t.Helper()
		c, warnings, err := checkpoint.Latest(ctx, s, app)
		if err != nil {
			t.Fatal(err)
		}
		if c == nil || c.ID != want {
			t.Fatalf("Latest = %v, want checkpoint %d (warnings %q)", c, want, warnings)
		}
		if got, _ := c.File("agg-0"); string(got) != string(state(want)) {
			t.Fatalf("checkpoint %d: agg-0 = %q", want, got)
		}
		if got := c.Sources["orders"].After["shard-0"]; got != fmt.Sprint(want*100) {
			t.Fatalf("checkpoint %d: source position %q", want, got)
		}
		return warnings
	}

	if c, _, err := checkpoint.Latest(ctx, s, app); err != nil || c != nil {
		t.Fatalf("Latest of an empty store = %v, %v", c, err)
	}
	for id := int64(1); id <= 4; id++ {
		take(id)
	}
	if got := ids(); !slices.Equal(got, []int64{4, 3, 2, 1}) {
		t.Fatalf("checkpoints %v, want [4 3 2 1]", got)
	}
	if w := latest(4); len(w) > 0 {
		t.Fatalf("warnings %q", w)
	}
	if next, err := checkpoint.NextID(ctx, s, app); err != nil || next != 5 {
		t.Fatalf("NextID = %d, %v", next, err)
	}

	// Retain keeps the newest 3; the others' objects are gone from the bucket.
	if err := checkpoint.Retain(ctx, s, app, 3); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []int64{4, 3, 2}) {
		t.Fatalf("after Retain(3): %v, want [4 3 2]", got)
	}
	if keys := srv.Keys(t, "eddy/checkpoints/"+app+"/chk-0000000001"); len(keys) > 0 {
		t.Fatalf("Retain left %q", keys)
	}
	if n := len(srv.Keys(t, "eddy/checkpoints/")); n != 9 {
		t.Fatalf("%d objects after Retain, want 3 checkpoints of 3", n)
	}

	// A truncated state object, overwritten in the bucket: Latest falls back
	// to the previous checkpoint and says which file.
	srv.Put(t, "eddy/checkpoints/"+app+"/chk-0000000004/agg-0", state(4)[:100])
	w := latest(3)
	if len(w) != 1 || !strings.Contains(w[0], "checkpoint 4") || !strings.Contains(w[0], "agg-0") || !strings.Contains(w[0], "100 bytes") {
		t.Fatalf("warnings %q, want one naming checkpoint 4's file agg-0 and its 100 bytes", w)
	}
	// A damaged one of the same length: the checksum catches it.
	damaged := state(3)
	damaged[10] ^= 0xff
	srv.Put(t, "eddy/checkpoints/"+app+"/chk-0000000003/agg-0", damaged)
	w = latest(2)
	if len(w) != 2 || !strings.Contains(w[1], "checkpoint 3") || !strings.Contains(w[1], "agg-0") || !strings.Contains(w[1], "damaged") {
		t.Fatalf("warnings %q, want the second naming checkpoint 3's damaged file agg-0", w)
	}

	// A checkpoint whose manifest object is missing does not exist, but its
	// id is not reused.
	take(5)
	if _, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String("eddy/checkpoints/" + app + "/chk-0000000005/" + checkpoint.ManifestName)}); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []int64{4, 3, 2}) {
		t.Fatalf("with checkpoint 5's manifest missing: %v, want [4 3 2]", got)
	}
	if w := latest(2); len(w) != 2 {
		t.Fatalf("checkpoint 5 without a manifest gave a warning: %q", w)
	}
	if next, err := checkpoint.NextID(ctx, s, app); err != nil || next != 6 {
		t.Fatalf("NextID = %d, %v; want 6", next, err)
	}
	if _, err := checkpoint.Load(ctx, s, app, 5); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("Load of checkpoint 5 without its manifest: %v", err)
	}
}
