// Added to FerretDB v1.24.2 by support-gateway's scripts/ensure-ferretdb.sh.

//go:build unix

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// dataDirLockedExitCode tells the gateway that another server already runs on the data directory.
const dataDirLockedExitCode = 75

// dataDirLock stays open for the life of the process: the kernel releases the lock when the process ends,
// however it ends, so a crash never leaves a stale lock behind.
var dataDirLock *os.File

// With SUPPORT_GATEWAY_LOCK_FILE set, the server takes an exclusive lock on that file before it opens its SQLite
// files, and exits with code 75 if another server holds it: two servers on one data directory would each cache
// the collections' metadata and miss the other's changes. The holder then writes who it is into the file:
// {"serverPid":…,"ownerPid":<the process that started it>,"port":<SUPPORT_GATEWAY_PORT>}.
func init() {
	path := os.Getenv("SUPPORT_GATEWAY_LOCK_FILE")
	if path == "" {
		return
	}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot open the data directory lock: %s\n", err)
		os.Exit(1)
	}

	if err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(os.Stderr, "another server holds the data directory lock %s\n", path)
		os.Exit(dataDirLockedExitCode)
	}

	port, _ := strconv.Atoi(os.Getenv("SUPPORT_GATEWAY_PORT"))
	holder := fmt.Sprintf(`{"serverPid":%d,"ownerPid":%d,"port":%d}`, os.Getpid(), os.Getppid(), port)

	if err = f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(holder), 0)
	}

	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot write the data directory lock: %s\n", err)
		os.Exit(1)
	}

	dataDirLock = f
}
