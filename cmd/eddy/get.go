package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/cmd/eddy/internal/remote"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

type getFlags struct {
	shard  string
	from   string
	limit  int
	follow bool
}

func (a *invocation) getCommand() *cobra.Command {
	var f getFlags
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "get NAME [--shard ID] [--from POSITION] [--limit N] [--follow]",
		Short: "Print a stream's records as JSON lines",
		Long: `Get prints one JSON object per record:
  {"shardId","sequenceNumber","partitionKey","approximateArrivalTimestamp","data"}
data is the record as a string when it is valid UTF-8, else base64 with
"encoding":"base64". Without --shard every shard is read, parents before children.

--from is one of: trim_horizon (default), latest, at:SEQUENCE_NUMBER,
after:SEQUENCE_NUMBER, time:RFC3339 (for example time:2026-01-02T15:04:05Z).
--follow keeps printing new records until interrupted. get opens the data
directory read-only, so it runs beside a writer such as eddy put.

With --endpoint URL the records come from a Kinesis endpoint (eddy serve, or
AWS) with GetShardIterator and GetRecords, in the same order: a shard's
children (ListShards) are read once it has no next iterator.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, err := parseFrom(f.from)
			if err != nil {
				return err
			}
			if f.limit < 0 {
				return fmt.Errorf("--limit %d: the limit must be 0 (no limit) or more", f.limit)
			}
			rc, err := rf.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			opts := streamstore.ReadOptions{Shard: f.shard, From: from, Follow: f.follow}
			if rc != nil {
				r, err := rc.NewStreamReader(cmd.Context(), args[0], opts)
				if err != nil {
					return err
				}
				return a.get(f, func(emit func(shardID string, rec remote.Record) error) error {
					return r.Read(cmd.Context(), emit)
				})
			}
			st, err := a.openStore(true)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := st.NewStreamReader(args[0], opts)
			if err != nil {
				return err
			}
			return a.get(f, func(emit func(shardID string, rec remote.Record) error) error {
				return r.Read(cmd.Context(), func(shardID string, rec streamstore.Record) error {
					return emit(shardID, remote.Record{SequenceNumber: rec.SequenceNumber.String(), PartitionKey: rec.PartitionKey,
						Data: rec.Data, ArrivalTime: rec.ArrivalTime})
				})
			})
		},
	}
	cmd.Flags().StringVar(&f.shard, "shard", "", "read only this shard (and the shards that continue it)")
	cmd.Flags().StringVar(&f.from, "from", "trim_horizon", "where to start: trim_horizon, latest, at:SEQ, after:SEQ, time:RFC3339")
	cmd.Flags().IntVar(&f.limit, "limit", 0, "stop after N records (0: no limit)")
	cmd.Flags().BoolVar(&f.follow, "follow", false, "keep printing new records until interrupted")
	rf.add(cmd.Flags())
	return cmd
}

func parseFrom(v string) (streamstore.StartingPosition, error) {
	kind, arg, hasArg := strings.Cut(v, ":")
	bad := func(why string) (streamstore.StartingPosition, error) {
		return streamstore.StartingPosition{}, fmt.Errorf("--from %q: %s; use trim_horizon, latest, at:SEQUENCE_NUMBER, after:SEQUENCE_NUMBER or time:RFC3339", v, why)
	}
	switch strings.ToLower(kind) {
	case "trim_horizon", "latest":
		if hasArg {
			return bad(kind + " takes no argument")
		}
		if strings.EqualFold(kind, "latest") {
			return streamstore.StartingPosition{Type: streamstore.Latest}, nil
		}
		return streamstore.StartingPosition{Type: streamstore.TrimHorizon}, nil
	case "at", "after":
		if arg == "" {
			return bad(kind + " needs a sequence number")
		}
		if _, err := streamstore.ParseSequenceNumber(arg); err != nil {
			return bad(err.Error())
		}
		t := streamstore.AtSequenceNumber
		if strings.EqualFold(kind, "after") {
			t = streamstore.AfterSequenceNumber
		}
		return streamstore.StartingPosition{Type: t, SequenceNumber: arg}, nil
	case "time":
		ts, err := time.Parse(time.RFC3339Nano, arg)
		if err != nil {
			return bad("the time is not RFC 3339 (2026-01-02T15:04:05Z)")
		}
		return streamstore.StartingPosition{Type: streamstore.AtTimestamp, Timestamp: ts}, nil
	}
	return bad("unknown position")
}

// recordJSON is one line of get's output.
type recordJSON struct {
	ShardID                     string `json:"shardId"`
	SequenceNumber              string `json:"sequenceNumber"`
	PartitionKey                string `json:"partitionKey"`
	ApproximateArrivalTimestamp string `json:"approximateArrivalTimestamp"`
	Data                        string `json:"data"`
	Encoding                    string `json:"encoding,omitempty"`
}

// get prints the records that read passes to its callback.
func (a *invocation) get(f getFlags, read func(emit func(shardID string, rec remote.Record) error) error) error {
	w := bufio.NewWriterSize(a.stdout, 256<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	err := read(func(shardID string, rec remote.Record) error {
		out := recordJSON{
			ShardID:                     shardID,
			SequenceNumber:              rec.SequenceNumber,
			PartitionKey:                rec.PartitionKey,
			ApproximateArrivalTimestamp: rec.ArrivalTime.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		}
		if utf8.Valid(rec.Data) {
			out.Data = string(rec.Data)
		} else {
			out.Data, out.Encoding = base64.StdEncoding.EncodeToString(rec.Data), "base64"
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
		n++
		if f.follow {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if f.limit > 0 && n >= f.limit {
			return streamstore.StopRead()
		}
		return nil
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}
