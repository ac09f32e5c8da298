package node_test

import (
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// BenchmarkPageRead reads a page of 1000 TLP:GREEN indicators over TLS
// from a real SQLite store, as a local reader account and as a partner node, in
// turns within each iteration, so that the machine's noise falls on both
// alike. The partner's read passes each version through policy.Decide and
// records or checks its disclosures. It reports the time of each read and
// the goal, partner ≥ 0.8× local, as local-per-partner: the local
// read's time over the partner's.
//
//   - again: both read the same page again and again; the partner's
//     disclosures were recorded by its first read, so only checked.
//   - fresh: both read a page of 1000 new versions each iteration (added
//     outside the timer), so that every partner read records 1000
//     disclosures: ledger entries and rows.
func BenchmarkPageRead(b *testing.B) {
	const n = 1000
	f := newFedNode(b, nil)
	seq := 0
	add := func() time.Time {
		since := time.Now() // the store's clock gives date_added
		objs := make([]string, n)
		for i := range objs {
			seq++
			objs[i] = fedIndicator(seq, tlpGreen, `,"labels":["malicious-activity"],"name":"an indicator as partners exchange them"`)
		}
		for len(objs) > 0 {
			m := min(len(objs), 500)
			f.post(b, objs[:m]...)
			objs = objs[m:]
		}
		return since
	}
	add()
	f.share(b, f.ini.CollectionID, store.RightRead)
	// The local account is a reader granted the collection: like the
	// partner, whose shares are read on each request, it has its grants
	// read on each request.
	token, err := node.CreateAccount(b.Context(), f.st, "reader1", store.RoleReader, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := node.Grant(b.Context(), f.st, "reader1", f.ini.CollectionID, store.RightRead); err != nil {
		b.Fatal(err)
	}
	cfg, err := node.NodeKeyTLSConfig(f.keys.self.VerifierKey)
	if err != nil {
		b.Fatal(err)
	}
	local, partner := f.client(b, cfg, token), f.partner(b)
	read := func(c *taxii.Client, q taxii.Query) time.Duration {
		start := time.Now()
		q.Limit = n
		env, _, err := c.Objects(b.Context(), node.DefaultAPIRoot, f.ini.CollectionID, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(env.Objects) != n {
			b.Fatalf("read %d objects; want %d", len(env.Objects), n)
		}
		return time.Since(start)
	}
	read(partner, taxii.Query{}) // records the first page's disclosures
	for _, fresh := range []bool{false, true} {
		name := "again"
		if fresh {
			name = "fresh"
		}
		b.Run(name, func(b *testing.B) {
			var tl, tp time.Duration
			i := 0
			for b.Loop() {
				var q taxii.Query
				if fresh {
					b.StopTimer()
					q.AddedAfter = add()
					b.StartTimer()
				}
				if i%2 == 0 {
					tl += read(local, q)
					tp += read(partner, q)
				} else {
					tp += read(partner, q)
					tl += read(local, q)
				}
				i++
			}
			b.ReportMetric(float64(tl.Nanoseconds())/float64(i), "ns/local-read")
			b.ReportMetric(float64(tp.Nanoseconds())/float64(i), "ns/partner-read")
			b.ReportMetric(float64(tl)/float64(tp), "local-per-partner")
		})
	}
}
