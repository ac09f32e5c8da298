//go:build !unix

package proctest

import "time"

// CPUTime is not measured here: it is 0, and a benchmark then reports no
// CPU figure.
func CPUTime() time.Duration { return 0 }
