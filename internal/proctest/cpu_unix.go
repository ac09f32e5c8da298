//go:build unix

package proctest

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time the process has used, user and system. On a
// shared machine it shows what a benchmark's work costs apart from the
// time the process spent waiting for a core. It is 0 where the system
// does not say.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
