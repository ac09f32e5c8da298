package export

import (
	"fmt"
	"io"
	"testing"
)

// BenchmarkWriter is the export's own work on the common indicator shapes
// (an address, a domain name, an http URL, a file hash), without the store
// read that cmd/entente's BenchmarkExport adds: per indicator, decoding it
// and writing its rules or lines.
func BenchmarkWriter(b *testing.B) {
	objs := make([][]byte, 1000)
	for n := range objs {
		var p string
		switch n % 4 {
		case 0:
			p = fmt.Sprintf("[ipv4-addr:value = '10.0.%d.%d']", n>>8, n&0xff)
		case 1:
			p = fmt.Sprintf("[domain-name:value = 'host%d.bench.example']", n)
		case 2:
			p = fmt.Sprintf("[url:value = 'http://host%d.bench.example/path/%d']", n, n)
		default:
			p = fmt.Sprintf("[file:hashes.'SHA-256' = '%064x']", n)
		}
		objs[n] = ind(n, "stix", p)
	}
	for _, f := range []Format{Suricata, ZeekIntel} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x, err := NewWriter(io.Discard, Config{Format: f, Now: now})
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range objs {
					if err := x.Add(o); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := x.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(objs)), "ns/indicator")
		})
	}
}
