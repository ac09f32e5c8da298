package node_test

import (
	"slices"
	"testing"
	"time"

	"github.com/entente/entente/casework"
)

// BenchmarkCaseDelivery measures how long an incident notification takes
// from the operator's send on one node to its storage, verified, on the
// partner's node, by push over mutual TLS on loopback (the partner's pull
// runs only hourly, so it does not help). It reports the 50th and 99th
// percentiles (goal: p99 under 1 s).
func BenchmarkCaseDelivery(b *testing.B) {
	cn := newCaseNet(b, time.Hour, nil)
	pa, pb := cn.a, cn.b
	ctx := b.Context()
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		c, err := pa.n.OpenCase(ctx, casework.TypeIncident, caseFields(casework.TypeIncident), nil, pb.id)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		sent, err := pa.n.StepCase(ctx, c.ID, casework.Event{Kind: casework.EventSend})
		if err != nil {
			b.Fatal(err)
		}
		for {
			got, err := pb.n.LatestCase(ctx, sent.ID)
			if err == nil && got.Modified.Equal(sent.Modified) {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("not delivered in 30 s")
			}
			time.Sleep(500 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}
