// Package proctest holds what the module's tests and benchmarks use to
// watch processes: the CPU time this process has used (getrusage(2)), and
// a buffer for what a running command or browser prints while the test
// reads it. Only tests import it; deps_test.go keeps it out of every
// package a command is built from.
package proctest

import (
	"bytes"
	"sync"
)

// Buffer is a bytes buffer that a running command may write while the
// test reads what it has printed so far. The zero value is empty and
// ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
