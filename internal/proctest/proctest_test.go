package proctest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBufferConcurrent writes from several goroutines while reading; the
// race detector checks the locking, and every write is kept whole.
func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				fmt.Fprintf(&b, "w%d-%d\n", i, j)
			}
		}()
	}
	for range 50 {
		_ = b.String()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("%d lines, want 400", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	for i := range 4 {
		for j := range 100 {
			if w := fmt.Sprintf("w%d-%d", i, j); !seen[w] {
				t.Fatalf("write %q is missing or torn", w)
			}
		}
	}
}

// TestCPUTimeAdvances: work done on this process's thread shows in its CPU
// time.
func TestCPUTimeAdvances(t *testing.T) {
	before := CPUTime()
	if before == 0 {
		t.Skip("CPU time is not measured on", runtime.GOOS)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if after := CPUTime(); after <= before {
		t.Errorf("CPU time went from %v to %v over 50 ms of work (%d loops)", before, after, x)
	}
}
