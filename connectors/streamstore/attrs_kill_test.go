package streamstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/connectors/internal/killtest"
)

// The attribute kill test: a child process changes a stream's attributes as
// fast as it can, one change at a time, while two goroutines put records and
// the changes include reshards and retention changes; the parent kills it with
// SIGKILL at a random moment, reopens the data directory as the next writer and
// checks that the stream's attributes are those after the last acknowledged
// change or after the one in flight, and that every acknowledged record is
// there once. The child journals, in DIR/journal, each state it is about to
// make ("I"), each acknowledgement ("D") or expected refusal ("F"), and every
// acknowledged put ("P"). The journal is written with plain write(2): SIGKILL
// loses nothing the kernel has.

const attrKillDirEnv = "STREAMSTORE_ATTR_KILL_DIR"

// kstate is what the kill test checks of a stream.
type kstate struct {
	Tags      map[string]string `json:"tags"`
	Consumers []string          `json:"consumers"` // in registration order
	Mode      string            `json:"mode"`
	Enc       string            `json:"enc"`
	Key       string            `json:"key"`
	Metrics   []string          `json:"metrics"`
	Open      int               `json:"open"`
	Retention int               `json:"retention"`
}

func stateOf(d StreamDescription) kstate {
	k := kstate{Tags: d.Tags, Mode: d.Mode, Enc: d.EncryptionType, Key: d.KeyID, Metrics: d.EnhancedMetrics, Open: d.OpenShards, Retention: d.RetentionHours}
	for _, c := range d.Consumers {
		k.Consumers = append(k.Consumers, c.Name)
	}
	return k
}

func (a kstate) equal(b kstate) bool {
	return maps.Equal(a.Tags, b.Tags) && slices.Equal(a.Consumers, b.Consumers) && a.Mode == b.Mode && a.Enc == b.Enc &&
		a.Key == b.Key && slices.Equal(a.Metrics, b.Metrics) && a.Open == b.Open && a.Retention == b.Retention
}

type journalLine struct {
	K     string   `json:"k"`
	State *kstate  `json:"state,omitempty"`
	Data  []string `json:"data,omitempty"`
}

// journal appends lines, each with one write.
type journal struct {
	mu sync.Mutex
	f  *os.File
}

func (j *journal) add(t testing.TB, l journalLine) {
	b, err := json.Marshal(l)
	if err != nil {
		t.Error(err)
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		t.Error(err)
	}
}

// kop is one change the child makes: the state it leads to, or the error kind
// the store must refuse it with (leaving the state as it was).
type kop struct {
	name string
	next kstate
	want error
	run  func(s *Store) error
}

// nextOp picks a random change of cur.
func nextOp(rng *rand.Rand, cur kstate) kop {
	next := cur
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s%02d", prefix, rng.IntN(n)) }
	switch r := rng.IntN(20); {
	case r < 6:
		add := map[string]string{}
		for range 1 + rng.IntN(4) {
			add[pick("k", 60)] = pick("v", 100)
		}
		next.Tags = maps.Clone(cur.Tags)
		if next.Tags == nil {
			next.Tags = map[string]string{}
		}
		maps.Copy(next.Tags, add)
		op := kop{name: fmt.Sprint("add tags ", add), next: next, run: func(s *Store) error { return s.AddTags("k", add) }}
		if len(next.Tags) > MaxTagsPerStream {
			op.next, op.want = cur, ErrInvalidArgument
		}
		return op
	case r < 9:
		var keys []string
		for range 1 + rng.IntN(4) {
			keys = append(keys, pick("k", 60))
		}
		next.Tags = maps.Clone(cur.Tags)
		for _, k := range keys {
			delete(next.Tags, k)
		}
		if len(next.Tags) == 0 {
			next.Tags = nil
		}
		return kop{name: fmt.Sprint("remove tags ", keys), next: next, run: func(s *Store) error { return s.RemoveTags("k", keys) }}
	case r < 13:
		name := pick("c", 25)
		op := kop{name: "register " + name, run: func(s *Store) error { _, err := s.RegisterConsumer("k", name); return err }}
		switch {
		case slices.Contains(cur.Consumers, name):
			op.next, op.want = cur, ErrInUse
		case len(cur.Consumers) >= MaxConsumersPerStream:
			op.next, op.want = cur, ErrLimitExceeded
		default:
			next.Consumers = append(slices.Clone(cur.Consumers), name)
			op.next = next
		}
		return op
	case r < 15:
		name := pick("c", 25)
		op := kop{name: "deregister " + name, run: func(s *Store) error { return s.DeregisterConsumer("k", name) }}
		if i := slices.Index(cur.Consumers, name); i < 0 {
			op.next, op.want = cur, ErrNotFound
		} else {
			next.Consumers = slices.Delete(slices.Clone(cur.Consumers), i, i+1)
			if len(next.Consumers) == 0 {
				next.Consumers = nil
			}
			op.next = next
		}
		return op
	case r == 15:
		next.Mode = []string{ModeProvisioned, ModeOnDemand}[rng.IntN(2)]
		return kop{name: "mode " + next.Mode, next: next, run: func(s *Store) error { return s.SetStreamMode("k", next.Mode) }}
	case r == 16:
		next.Enc, next.Key = EncryptionNone, ""
		if rng.IntN(2) == 0 {
			next.Enc, next.Key = EncryptionKMS, pick("alias/key-", 10)
		}
		return kop{name: "encryption " + next.Enc + " " + next.Key, next: next, run: func(s *Store) error { return s.SetEncryption("k", next.Enc, next.Key) }}
	case r == 17:
		enable := rng.IntN(2) == 0
		metrics := []string{MetricAll}
		if rng.IntN(4) > 0 {
			metrics = []string{AllMetrics[rng.IntN(len(AllMetrics))], AllMetrics[rng.IntN(len(AllMetrics))]}
		}
		next.Metrics = nil
		for _, m := range AllMetrics {
			if slices.Contains(metrics, m) || slices.Contains(metrics, MetricAll) {
				if enable {
					next.Metrics = append(next.Metrics, m)
				}
			} else if slices.Contains(cur.Metrics, m) {
				next.Metrics = append(next.Metrics, m)
			}
		}
		return kop{name: fmt.Sprint("monitoring ", enable, metrics), next: next, run: func(s *Store) error {
			var err error
			if enable {
				_, _, err = s.EnableEnhancedMonitoring("k", metrics)
			} else {
				_, _, err = s.DisableEnhancedMonitoring("k", metrics)
			}
			return err
		}}
	case r == 18:
		next.Open = 1 + rng.IntN(4)
		return kop{name: fmt.Sprint("shard count ", next.Open), next: next, run: func(s *Store) error { return s.UpdateShardCount("k", next.Open) }}
	default:
		next.Retention = 24 + rng.IntN(25)
		return kop{name: fmt.Sprint("retention ", next.Retention), next: next, run: func(s *Store) error { return s.SetRetention("k", next.Retention) }}
	}
}

// TestAttributesKillChild is the child of TestAttributesKill.
func TestAttributesKillChild(t *testing.T) {
	dir := os.Getenv(attrKillDirEnv)
	if dir == "" {
		t.Skip("the child process of TestAttributesKill")
	}
	s, err := Open(filepath.Join(dir, "data"), DefaultOptions())
	mustOK(t, err)
	defer s.Close()
	if err := s.CreateStream("k", 2); err != nil && !errors.Is(err, ErrInUse) {
		t.Fatal(err)
	}
	mustOK(t, s.Own("k"))
	f, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	mustOK(t, err)
	defer f.Close()
	j := &journal{f: f}
	cur := stateOf(describe(t, s, "k"))
	j.add(t, journalLine{K: "S", State: &cur})
	fmt.Println("RECOVERED with", len(cur.Tags), "tags and", len(cur.Consumers), "consumers")

	ctx, stop := context.WithCancel(context.Background())
	var producers sync.WaitGroup
	for p := range 2 {
		producers.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				var batch []PutEntry
				var data []string
				for i := range 1 + n%5 {
					d := fmt.Sprintf("r%d-%d-%d-%d", os.Getpid(), p, n, i)
					batch = append(batch, entry(d, d))
					data = append(data, d)
				}
				if _, err := s.PutRecords(context.Background(), "k", batch); err != nil {
					t.Errorf("put: %v", err)
					return
				}
				j.add(t, journalLine{K: "P", Data: data})
			}
		})
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	deadline := time.Now().Add(10 * time.Second) // far beyond any kill
	for time.Now().Before(deadline) && !t.Failed() {
		op := nextOp(rng, cur)
		j.add(t, journalLine{K: "I", State: &op.next})
		err := op.run(s)
		switch {
		case op.want == nil && err == nil:
			j.add(t, journalLine{K: "D"})
		case op.want != nil && errors.Is(err, op.want):
			j.add(t, journalLine{K: "F"})
		default:
			t.Fatalf("%s: got error %v, want %v", op.name, err, op.want)
		}
		if got := stateOf(describe(t, s, "k")); !got.equal(op.next) {
			t.Fatalf("after %s the stream is %+v, want %+v", op.name, got, op.next)
		}
		cur = op.next
	}
	stop()
	producers.Wait()
}

var killRecord = regexp.MustCompile(`^r\d+-\d-\d+-\d$`)

// checkAttrKill reopens the data directory as the next writer would and checks
// it against the journal. It returns where the kill landed: "between changes",
// "during a change that landed" or "during a change that did not land".
func checkAttrKill(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "journal"))
	mustOK(t, err)
	var committed, pending *kstate
	acked := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l journalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("journal line %q: %v", sc.Bytes(), err)
		}
		switch l.K {
		case "S":
			committed, pending = l.State, nil
		case "I":
			pending = l.State
		case "D":
			committed, pending = pending, nil
		case "F":
			pending = nil
		case "P":
			for _, d := range l.Data {
				acked[d] = true
			}
		}
	}
	mustOK(t, sc.Err())
	if committed == nil {
		t.Fatal("the journal has no starting state")
	}

	s := openStore(t, filepath.Join(dir, "data"), DefaultOptions())
	defer s.Close()
	mustOK(t, s.Own("k"))
	got := stateOf(describe(t, s, "k"))
	outcome := "between changes"
	switch {
	case got.equal(*committed):
		if pending != nil {
			outcome = "during a change that did not land"
		}
	case pending != nil && got.equal(*pending):
		outcome = "during a change that landed"
	default:
		t.Fatalf("after the kill the stream is %+v; the last acknowledged state is %+v, the one in flight %+v", got, *committed, pending)
	}

	seen := map[string]bool{}
	for _, rec := range readLineage(t, s, "k", ReadOptions{BatchSize: MaxGetRecords}) {
		d := string(rec.rec.Data)
		if !killRecord.MatchString(d) || rec.rec.PartitionKey != d {
			t.Fatalf("the stream holds a record never put: %q under %q", d, rec.rec.PartitionKey)
		}
		if seen[d] {
			t.Fatalf("the stream holds %s twice", d)
		}
		seen[d] = true
	}
	for d := range acked {
		if !seen[d] {
			t.Fatalf("acknowledged record %s is gone (the stream holds %d records, %d were acknowledged)", d, len(seen), len(acked))
		}
	}
	return outcome
}

func TestAttributesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	outcomes := map[string]int{}
	for range 12 {
		kill := time.Duration(20+rng.IntN(250)) * time.Millisecond
		killed, recovered := killtest.Run(t, "TestAttributesKillChild", []string{attrKillDirEnv + "=" + dir}, kill)
		if !killed {
			t.Fatalf("the child finished before it was killed %v after it %s", kill, recovered)
		}
		outcome := checkAttrKill(t, dir)
		outcomes[outcome]++
		t.Logf("%s; killed %v later, %s", recovered, kill, outcome)
	}
	t.Logf("kills: %v", outcomes)
}
