package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := Run(t.Context(), &out, Config{Seed: 1, Indicators: 2000, Lines: 2000, HitRate: 0.05, Substrings: 100, Workers: 2, ScanBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"load:", "memory:", "prefix:", "stream:  1 core(s)", "stream:  2 core(s)", "substr:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
