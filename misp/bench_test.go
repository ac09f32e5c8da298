package misp

import (
	"fmt"
	"testing"
)

// benchEvent returns a synthetic MISP event file with n attributes, a
// mix of the common types, three in five with to_ids set, as MISP feeds
// have them.
func benchEvent(ev, n int) []byte {
	b := fmt.Appendf(nil, `{"Event":{"uuid":"%08x-0000-4000-8000-000000000000","info":"bench %d","date":"2024-01-01","timestamp":"1704067200","distribution":"1","Orgc":{"uuid":"55f6ea5e-2c60-40e5-964f-47a8950d210f","name":"Bench"},"Tag":[{"name":"tlp:amber"}],"Attribute":[`, ev, ev)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		var typ, val string
		switch i % 5 {
		case 0:
			typ, val = "ip-dst", fmt.Sprintf("10.%d.%d.%d", ev&0xff, i>>8&0xff, i&0xff)
		case 1:
			typ, val = "domain", fmt.Sprintf("h%d-%d.bench.example", ev, i)
		case 2:
			typ, val = "sha256", fmt.Sprintf("%032x%032x", ev, i)
		case 3:
			typ, val = "url", fmt.Sprintf("https://h%d.bench.example/p/%d", ev, i)
		case 4:
			typ, val = "md5", fmt.Sprintf("%016x%016x", ev, i)
		}
		b = fmt.Appendf(b, `{"uuid":"%08x-%04x-4000-8000-%012x","type":%q,"category":"Network activity","value":%q,"to_ids":%t,"timestamp":"1704067200"}`,
			ev, i>>16, i, typ, val, i%5 < 3)
	}
	return append(b, "]}}"...)
}

// BenchmarkToSTIX decodes and maps events of 1,000 attributes.
func BenchmarkToSTIX(b *testing.B) {
	const perEvent = 1000
	data := benchEvent(1, perEvent)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		e, err := DecodeEvent(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ToSTIX(e, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*perEvent)/b.Elapsed().Seconds(), "attributes/s")
}
