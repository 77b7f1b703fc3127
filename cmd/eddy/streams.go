package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/connectors/streamstore"
)

func (a *invocation) streamsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "streams",
		Short: "Create, inspect, reshard and delete streams",
	}
	cmd.AddCommand(a.streamsCreate(), a.streamsList(), a.streamsDescribe(), a.streamsDelete(),
		a.streamsSplit(), a.streamsMerge(), a.streamsScale(), a.streamsRetention())
	return cmd
}

func (a *invocation) streamsCreate() *cobra.Command {
	var shards int
	var ifNotExists bool
	cmd := &cobra.Command{
		Use:   "create NAME --shards N",
		Short: "Create a stream with N shards of uniform hash key ranges",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := parseShardCount("shards", shards); err != nil {
				return err
			}
			return a.withStore(func(st *streamstore.Store) error {
				err := st.CreateStream(args[0], shards)
				if ifNotExists && errors.Is(err, streamstore.ErrInUse) {
					fmt.Fprintf(a.stdout, "stream %s already exists\n", args[0])
					return nil
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created stream %s with %s\n", args[0], plural(shards, "shard", "shards"))
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&shards, "shards", 1, "number of shards")
	cmd.Flags().BoolVar(&ifNotExists, "if-not-exists", false, "succeed without change when the stream exists")
	return cmd
}

func (a *invocation) streamsList() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List streams",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(true)
			if err != nil {
				return err
			}
			defer st.Close()
			type row struct {
				Name           string `json:"name"`
				OpenShards     int    `json:"openShards"`
				RetentionHours int    `json:"retentionHours"`
				CreatedAt      string `json:"createdAt"`
			}
			var rows []row
			for _, name := range st.ListStreams() {
				d, err := st.DescribeStream(name)
				if err != nil {
					return err
				}
				rows = append(rows, row{d.Name, d.OpenShards, d.RetentionHours, d.CreatedAt.UTC().Format(time.RFC3339)})
			}
			if asJSON {
				if rows == nil {
					rows = []row{}
				}
				return writeJSON(a.stdout, rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tOPEN SHARDS\tRETENTION\tCREATED")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%d\t%dh\t%s\n", r.Name, r.OpenShards, r.RetentionHours, r.CreatedAt)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// shardJSON is the JSON form of a shard, named as in Kinesis' Shard shape.
type shardJSON struct {
	ShardID               string `json:"shardId"`
	ParentShardID         string `json:"parentShardId,omitempty"`
	AdjacentParentShardID string `json:"adjacentParentShardId,omitempty"`
	HashKeyRange          struct {
		StartingHashKey string `json:"startingHashKey"`
		EndingHashKey   string `json:"endingHashKey"`
	} `json:"hashKeyRange"`
	SequenceNumberRange struct {
		StartingSequenceNumber string `json:"startingSequenceNumber"`
		EndingSequenceNumber   string `json:"endingSequenceNumber,omitempty"`
	} `json:"sequenceNumberRange"`
	Status    string `json:"status"`
	CreatedAt string `json:"createdAt"`
	ClosedAt  string `json:"closedAt,omitempty"`
	Records   uint64 `json:"records"`
	Bytes     int64  `json:"bytes"`
	Segments  int    `json:"segments"`
}

type streamJSON struct {
	StreamName     string      `json:"streamName"`
	Status         string      `json:"status"`
	CreatedAt      string      `json:"createdAt"`
	RetentionHours int         `json:"retentionHours"`
	OpenShards     int         `json:"openShards"`
	Shards         []shardJSON `json:"shards"`
}

func describeJSON(d streamstore.StreamDescription) streamJSON {
	out := streamJSON{StreamName: d.Name, Status: d.Status, CreatedAt: d.CreatedAt.UTC().Format(time.RFC3339Nano),
		RetentionHours: d.RetentionHours, OpenShards: d.OpenShards, Shards: []shardJSON{}}
	for _, s := range d.Shards {
		j := shardJSON{ShardID: s.ShardID, ParentShardID: s.ParentShardID, AdjacentParentShardID: s.AdjacentParentShardID,
			Status: "OPEN", CreatedAt: s.CreatedAt.UTC().Format(time.RFC3339Nano), Records: s.Records, Bytes: s.Bytes, Segments: s.Segments}
		j.HashKeyRange.StartingHashKey = s.HashKeyRange.Start.String()
		j.HashKeyRange.EndingHashKey = s.HashKeyRange.End.String()
		j.SequenceNumberRange.StartingSequenceNumber = s.StartingSequenceNumber
		j.SequenceNumberRange.EndingSequenceNumber = s.EndingSequenceNumber
		if !s.Open {
			j.Status = "CLOSED"
			j.ClosedAt = s.ClosedAt.UTC().Format(time.RFC3339Nano)
		}
		out.Shards = append(out.Shards, j)
	}
	return out
}

func (a *invocation) streamsDescribe() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a stream's shards: hash key ranges, lineage, sequence numbers, sizes",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(true)
			if err != nil {
				return err
			}
			defer st.Close()
			d, err := st.DescribeStream(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, describeJSON(d))
			}
			fmt.Fprintf(a.stdout, "stream %s: %s, %d open of %s, retention %dh, created %s\n\n", d.Name, d.Status, d.OpenShards,
				plural(len(d.Shards), "shard", "shards"), d.RetentionHours, d.CreatedAt.UTC().Format(time.RFC3339))
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SHARD\tSTATUS\tPARENTS\tSTARTING HASH KEY\tENDING HASH KEY\tRECORDS\tBYTES\tSTARTING SEQUENCE NUMBER\tENDING SEQUENCE NUMBER")
			for _, s := range d.Shards {
				status, parents, ending := "OPEN", "-", "-"
				if !s.Open {
					status, ending = "CLOSED", s.EndingSequenceNumber
				}
				if s.ParentShardID != "" {
					parents = s.ParentShardID
					if s.AdjacentParentShardID != "" {
						parents += "," + s.AdjacentParentShardID
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", s.ShardID, status, parents,
					s.HashKeyRange.Start, s.HashKeyRange.End, s.Records, s.Bytes, s.StartingSequenceNumber, ending)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *invocation) streamsDelete() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a stream and all its records",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(func(st *streamstore.Store) error {
				if err := st.DeleteStream(args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted stream %s\n", args[0])
				return nil
			})
		},
	}
}

func (a *invocation) streamsSplit() *cobra.Command {
	return &cobra.Command{
		Use:   "split NAME SHARD_ID HASH_KEY",
		Short: "Split an open shard into two at HASH_KEY (the first hash key of the upper child)",
		Args:  exactArgs("NAME", "SHARD_ID", "HASH_KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reshard(args[0], func(st *streamstore.Store) error {
				return st.SplitShard(args[0], args[1], args[2])
			})
		},
	}
}

func (a *invocation) streamsMerge() *cobra.Command {
	return &cobra.Command{
		Use:   "merge NAME SHARD_ID ADJACENT_SHARD_ID",
		Short: "Merge two open shards whose hash key ranges are adjacent",
		Args:  exactArgs("NAME", "SHARD_ID", "ADJACENT_SHARD_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reshard(args[0], func(st *streamstore.Store) error {
				return st.MergeShards(args[0], args[1], args[2])
			})
		},
	}
}

func (a *invocation) streamsScale() *cobra.Command {
	var shards int
	cmd := &cobra.Command{
		Use:   "scale NAME --shards N",
		Short: "Reshape a stream to N open shards of uniform hash key ranges",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("shards") {
				return fmt.Errorf("scale needs --shards N, the number of open shards wanted")
			}
			if err := parseShardCount("shards", shards); err != nil {
				return err
			}
			return a.reshard(args[0], func(st *streamstore.Store) error {
				return st.UpdateShardCount(args[0], shards)
			})
		},
	}
	cmd.Flags().IntVar(&shards, "shards", 0, "number of open shards wanted")
	return cmd
}

// reshard runs a reshard and prints the open shards that result.
func (a *invocation) reshard(name string, fn func(st *streamstore.Store) error) error {
	return a.withStore(func(st *streamstore.Store) error {
		if err := fn(st); err != nil {
			return err
		}
		d, err := st.DescribeStream(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "stream %s now has %s:\n", name, plural(d.OpenShards, "open shard", "open shards"))
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		for _, s := range d.Shards {
			if s.Open {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.ShardID, s.HashKeyRange.Start, s.HashKeyRange.End)
			}
		}
		return tw.Flush()
	})
}

func (a *invocation) streamsRetention() *cobra.Command {
	var hours int
	cmd := &cobra.Command{
		Use:   "retention NAME --hours H",
		Short: "Set how long records are kept (24 to 8760 hours)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("hours") {
				return fmt.Errorf("retention needs --hours H (24 to 8760)")
			}
			return a.withStore(func(st *streamstore.Store) error {
				if err := st.SetRetention(args[0], hours); err != nil {
					return err
				}
				rep, err := st.EnforceRetention()
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "stream %s keeps records for %dh", args[0], hours)
				if rep.SegmentsRemoved > 0 {
					fmt.Fprintf(a.stdout, "; removed %s past retention", plural(rep.SegmentsRemoved, "segment", "segments"))
				}
				fmt.Fprintln(a.stdout)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&hours, "hours", 0, "retention in hours")
	return cmd
}

// exactArgs checks the positional arguments and names the missing or extra ones.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return fmt.Errorf("%s: missing %s (usage: %s)", cmd.CommandPath(), names[len(args)], cmd.UseLine())
		case len(args) > len(names):
			return fmt.Errorf("%s: unexpected argument %q (usage: %s)", cmd.CommandPath(), args[len(names)], cmd.UseLine())
		}
		return nil
	}
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
