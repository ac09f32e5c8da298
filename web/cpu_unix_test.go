//go:build unix

package web

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used, user and system. On a
// shared machine it shows what a page costs apart from the time the
// process spent waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
