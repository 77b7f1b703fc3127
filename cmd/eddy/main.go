// Command eddy is the single binary of eddy: streams, delivery, analytics and
// video on one machine. This file only wires the process (signals, exit status)
// to the command tree in root.go.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal stops gracefully (eddy run takes a savepoint); a second
	// one gets the default behaviour and ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
