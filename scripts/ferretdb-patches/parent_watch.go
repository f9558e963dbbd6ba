// Added to FerretDB v1.24.2 by support-gateway's scripts/ensure-ferretdb.sh.

package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// With SUPPORT_GATEWAY_EXIT_WITH_STDIN=1 the server stops when its standard input reaches end of file. The
// gateway starts it with stdin a pipe it never writes to, and the kernel closes that pipe when the gateway dies,
// however it dies (kill -9 included), so the server never outlives the gateway that started it.
func init() {
	if os.Getenv("SUPPORT_GATEWAY_EXIT_WITH_STDIN") != "1" {
		return
	}

	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)

		// The same graceful stop as on SIGTERM; should it hang, exit anyway rather than stay behind.
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			_ = p.Signal(syscall.SIGTERM)
		}

		time.Sleep(10 * time.Second)
		fmt.Fprintln(os.Stderr, "the gateway that started this server is gone and the graceful stop took over 10 s: exiting")
		os.Exit(1)
	}()
}
