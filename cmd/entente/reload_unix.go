//go:build unix

package main

import (
	"os"
	"syscall"
)

// reloadSignals make entente serve read its agreement file again.
var reloadSignals = []os.Signal{syscall.SIGHUP}
