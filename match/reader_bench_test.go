package match

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse measures each reader alone, over the well-formed lines of
// its sample log, and reports lines per second.
func BenchmarkParse(b *testing.B) {
	for _, tc := range []struct {
		name   string
		format Format
		file   string
	}{
		{"eve", EVE{}, "eve.jsonl"},
		{"zeek", Zeek{}, "zeek.jsonl"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join("testdata", "readers", tc.file))
			if err != nil {
				b.Fatal(err)
			}
			var lines [][]byte
			var rec Record
			for line := range bytes.Lines(data) {
				line = bytes.TrimRight(line, "\n")
				rec.reset()
				if len(line) > 0 && tc.format.Parse(line, &rec) == nil {
					lines = append(lines, line)
				}
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, line := range lines {
					rec.reset()
					if err := tc.format.Parse(line, &rec); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
