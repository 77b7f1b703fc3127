package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/eddy-streams/eddy/cmd/eddy/internal/remote"
	"github.com/eddy-streams/eddy/connectors/streamstore"
)

// remoteFlags say which Kinesis endpoint a command acts on instead of the data directory.
type remoteFlags struct {
	endpoint, region, profile string
}

func (rf *remoteFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&rf.endpoint, "endpoint", "", "act on the streams of this Kinesis endpoint (eddy serve, AWS) instead of --data-dir")
	fs.StringVar(&rf.region, "region", "", "AWS region of --endpoint (default: AWS_REGION or the profile's, else us-east-1)")
	fs.StringVar(&rf.profile, "profile", "", "AWS profile whose credentials sign requests to --endpoint (default: AWS_PROFILE or default)")
}

// client connects to --endpoint. Credentials come from the AWS SDK's default chain;
// on a loopback endpoint without any, dummy ones are used.
func (rf *remoteFlags) client(ctx context.Context, cmd *cobra.Command) (*remote.Client, error) {
	if rf.endpoint == "" {
		for _, f := range []string{"region", "profile"} {
			if cmd.Flags().Changed(f) {
				return nil, fmt.Errorf("--%s applies to --endpoint; give --endpoint URL too", f)
			}
		}
		return nil, nil
	}
	return remote.New(ctx, remote.Options{Endpoint: rf.endpoint, Region: rf.region, Profile: rf.profile})
}

func (a *invocation) streamsCommand() *cobra.Command {
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "streams",
		Short: "Create, inspect, reshard and delete streams",
	}
	rf.add(cmd.PersistentFlags())
	cmd.AddCommand(a.streamsCreate(rf), a.streamsList(rf), a.streamsDescribe(rf), a.streamsDelete(rf),
		a.streamsSplit(rf), a.streamsMerge(rf), a.streamsScale(rf), a.streamsRetention(rf))
	return cmd
}

func (a *invocation) streamsCreate(rf *remoteFlags) *cobra.Command {
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
			rc, err := rf.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			return a.withStoreOr(rc, func(st *streamstore.Store) error {
				var err error
				if rc != nil {
					err = rc.CreateStream(cmd.Context(), args[0], shards)
				} else {
					err = st.CreateStream(args[0], shards)
				}
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

func (a *invocation) streamsList(rf *remoteFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List streams",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := rf.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			var names []string
			describe := func(name string) (streamstore.StreamDescription, error) { return rc.Summary(cmd.Context(), name) }
			if rc != nil {
				if names, err = rc.ListStreams(cmd.Context()); err != nil {
					return err
				}
				sort.Strings(names)
			} else {
				st, err := a.openStore(true)
				if err != nil {
					return err
				}
				defer st.Close()
				names, describe = st.ListStreams(), st.DescribeStream
			}
			type row struct {
				Name           string `json:"name"`
				OpenShards     int    `json:"openShards"`
				RetentionHours int    `json:"retentionHours"`
				CreatedAt      string `json:"createdAt"`
			}
			var rows []row
			for _, name := range names {
				d, err := describe(name)
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
	// Only a data directory knows these: over --endpoint they are left out.
	Records  *uint64 `json:"records,omitempty"`
	Bytes    *int64  `json:"bytes,omitempty"`
	Segments *int    `json:"segments,omitempty"`
}

type streamJSON struct {
	StreamName     string      `json:"streamName"`
	Status         string      `json:"status"`
	CreatedAt      string      `json:"createdAt"`
	RetentionHours int         `json:"retentionHours"`
	OpenShards     int         `json:"openShards"`
	Shards         []shardJSON `json:"shards"`
}

// describeJSON renders a description; local says it came from a data directory,
// which alone knows each shard's records, bytes, segments and closing time.
func describeJSON(d streamstore.StreamDescription, local bool) streamJSON {
	out := streamJSON{StreamName: d.Name, Status: d.Status, CreatedAt: d.CreatedAt.UTC().Format(time.RFC3339Nano),
		RetentionHours: d.RetentionHours, OpenShards: d.OpenShards, Shards: []shardJSON{}}
	for _, s := range d.Shards {
		j := shardJSON{ShardID: s.ShardID, ParentShardID: s.ParentShardID, AdjacentParentShardID: s.AdjacentParentShardID,
			Status: "OPEN", CreatedAt: s.CreatedAt.UTC().Format(time.RFC3339Nano)}
		if local {
			j.Records, j.Bytes, j.Segments = &s.Records, &s.Bytes, &s.Segments
		}
		j.HashKeyRange.StartingHashKey = s.HashKeyRange.Start.String()
		j.HashKeyRange.EndingHashKey = s.HashKeyRange.End.String()
		j.SequenceNumberRange.StartingSequenceNumber = s.StartingSequenceNumber
		j.SequenceNumberRange.EndingSequenceNumber = s.EndingSequenceNumber
		if !s.Open {
			j.Status = "CLOSED"
			if local {
				j.ClosedAt = s.ClosedAt.UTC().Format(time.RFC3339Nano)
			}
		}
		out.Shards = append(out.Shards, j)
	}
	return out
}

func (a *invocation) streamsDescribe(rf *remoteFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a stream's shards: hash key ranges, lineage, sequence numbers, sizes",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := rf.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			var d streamstore.StreamDescription
			if rc != nil {
				d, err = rc.DescribeStream(cmd.Context(), args[0])
			} else {
				var st *streamstore.Store
				if st, err = a.openStore(true); err != nil {
					return err
				}
				defer st.Close()
				d, err = st.DescribeStream(args[0])
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, describeJSON(d, rc == nil))
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
				records, bytes := "-", "-" // unknown over --endpoint
				if rc == nil {
					records, bytes = strconv.FormatUint(s.Records, 10), strconv.FormatInt(s.Bytes, 10)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ShardID, status, parents,
					s.HashKeyRange.Start, s.HashKeyRange.End, records, bytes, s.StartingSequenceNumber, ending)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *invocation) streamsDelete(rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a stream and all its records",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := rf.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			return a.withStoreOr(rc, func(st *streamstore.Store) error {
				var err error
				if rc != nil {
					err = rc.DeleteStream(cmd.Context(), args[0])
				} else {
					err = st.DeleteStream(args[0])
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted stream %s\n", args[0])
				return nil
			})
		},
	}
}

func (a *invocation) streamsSplit(rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "split NAME SHARD_ID HASH_KEY",
		Short: "Split an open shard into two at HASH_KEY (the first hash key of the upper child)",
		Args:  exactArgs("NAME", "SHARD_ID", "HASH_KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reshard(cmd, rf, args[0], func(st *streamstore.Store) error {
				return st.SplitShard(args[0], args[1], args[2])
			}, func(rc *remote.Client) error {
				return rc.SplitShard(cmd.Context(), args[0], args[1], args[2])
			})
		},
	}
}

func (a *invocation) streamsMerge(rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "merge NAME SHARD_ID ADJACENT_SHARD_ID",
		Short: "Merge two open shards whose hash key ranges are adjacent",
		Args:  exactArgs("NAME", "SHARD_ID", "ADJACENT_SHARD_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reshard(cmd, rf, args[0], func(st *streamstore.Store) error {
				return st.MergeShards(args[0], args[1], args[2])
			}, func(rc *remote.Client) error {
				return rc.MergeShards(cmd.Context(), args[0], args[1], args[2])
			})
		},
	}
}

func (a *invocation) streamsScale(rf *remoteFlags) *cobra.Command {
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
			return a.reshard(cmd, rf, args[0], func(st *streamstore.Store) error {
				return st.UpdateShardCount(args[0], shards)
			}, func(rc *remote.Client) error {
				return rc.UpdateShardCount(cmd.Context(), args[0], shards)
			})
		},
	}
	cmd.Flags().IntVar(&shards, "shards", 0, "number of open shards wanted")
	return cmd
}

// withStoreOr runs fn on the store opened for writing, or, with a remote client, on no store.
func (a *invocation) withStoreOr(rc *remote.Client, fn func(st *streamstore.Store) error) error {
	if rc != nil {
		return fn(nil)
	}
	return a.withStore(fn)
}

// reshard runs a reshard, on the data directory or (with --endpoint) remotely,
// and prints the open shards that result.
func (a *invocation) reshard(cmd *cobra.Command, rf *remoteFlags, name string, fn func(st *streamstore.Store) error, remoteFn func(rc *remote.Client) error) error {
	rc, err := rf.client(cmd.Context(), cmd)
	if err != nil {
		return err
	}
	return a.withStoreOr(rc, func(st *streamstore.Store) error {
		var d streamstore.StreamDescription
		var err error
		if rc != nil {
			if err := remoteFn(rc); err != nil {
				return err
			}
			d, err = rc.DescribeStream(cmd.Context(), name)
		} else {
			if err := fn(st); err != nil {
				return err
			}
			d, err = st.DescribeStream(name)
		}
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

func (a *invocation) streamsRetention(rf *remoteFlags) *cobra.Command {
	var hours int
	cmd := &cobra.Command{
		Use:   "retention NAME --hours H",
		Short: "Set how long records are kept (24 to 8760 hours)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("hours") {
				return fmt.Errorf("retention needs --hours H (24 to 8760)")
			}
			rc, err := rf.client(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			return a.withStoreOr(rc, func(st *streamstore.Store) error {
				var rep streamstore.RetentionReport
				if rc != nil {
					// The endpoint enforces retention itself and reports nothing.
					if err := rc.SetRetention(cmd.Context(), args[0], hours); err != nil {
						return err
					}
				} else {
					if err := st.SetRetention(args[0], hours); err != nil {
						return err
					}
					var err error
					if rep, err = st.EnforceRetention(); err != nil {
						return err
					}
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
