package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/connectors/api/kinesisapi"
)

type serveFlags struct {
	listen         string
	accountID      string
	region         string
	stateDelay     time.Duration
	insecureNoAuth bool
}

func (a *invocation) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:4567]",
		Short: "Serve the Kinesis Data Streams API over the data directory",
		Long: `Serve hosts the Kinesis Data Streams API (AWS JSON 1.1 and CBOR over HTTP) over the
streams of the data directory, so AWS SDKs, the AWS CLI, the KPL and the KCL work
against eddy with --endpoint-url http://127.0.0.1:4567. It listens on loopback unless
told otherwise, and stops gracefully on Ctrl-C or SIGTERM: requests in flight finish,
then the store is closed.

Streams report CREATING after CreateStream and UPDATING after a reshard for
--state-delay, as Kinesis does for a while. ARNs name --account-id and the region of
each request's SigV4 credential scope (us-east-1 when unsigned).`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.serve(cmd.Context(), f)
		},
	}
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:4567", "address to listen on (port 0 picks a free one)")
	cmd.Flags().StringVar(&f.accountID, "account-id", kinesisapi.DefaultAccountID, "account id in ARNs and messages (12 digits)")
	cmd.Flags().StringVar(&f.region, "region", kinesisapi.DefaultRegion, "region in ARNs of requests that carry no SigV4 credential scope")
	cmd.Flags().DurationVar(&f.stateDelay, "state-delay", kinesisapi.DefaultStateDelay, "how long new streams stay CREATING and resharded ones UPDATING (0s: not at all)")
	cmd.Flags().BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "allow listening on a non-loopback address although no request is authenticated")
	return cmd
}

func (a *invocation) serve(ctx context.Context, f serveFlags) error {
	if len(f.accountID) != 12 || !allDigits(f.accountID) {
		return fmt.Errorf("--account-id %q: an account id is 12 digits", f.accountID)
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", f.listen, err)
	}
	if !isLoopback(host) && !f.insecureNoAuth {
		return fmt.Errorf("--listen %s is not a loopback address, and this server authenticates no request: anyone who can reach it could read and delete every stream; listen on 127.0.0.1, or pass --insecure-no-auth", f.listen)
	}
	delay := f.stateDelay
	if delay == 0 {
		delay = -1 // the flag's 0 means none; the handler's 0 means its default
	}
	st, err := a.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	log := a.logger()
	h, err := kinesisapi.New(st, kinesisapi.Options{AccountID: f.accountID, Region: f.region, StateDelay: delay, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("eddy serve: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: nil}
	fmt.Fprintf(a.stdout, "eddy serve: Kinesis API on http://%s (data dir %s)\n", ln.Addr(), a.dataDir)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// Streams created or changed by other processes (eddy put, eddy run) appear
	// on Refresh; retention is enforced on the streams this server writes.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastRetention := time.Now()
	for {
		select {
		case err := <-served:
			return fmt.Errorf("eddy serve: %w", err)
		case <-tick.C:
			if err := st.Refresh(); err != nil {
				log.Warn("refresh streams", "err", err)
			}
			if time.Since(lastRetention) >= time.Minute {
				lastRetention = time.Now()
				if _, err := st.EnforceRetention(); err != nil {
					log.Warn("enforce retention", "err", err)
				}
			}
			continue
		case <-ctx.Done():
		}
		break
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("eddy serve: shut down: %w", err)
	}
	fmt.Fprintln(a.stdout, "eddy serve: stopped")
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
