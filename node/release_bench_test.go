package node_test

import (
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// BenchmarkPageRead reads a page of 1000 TLP:GREEN indicators over TLS
// from a real SQLite store, as a local account and as a partner node. The
// partner's read passes each version through policy.Decide and records
// or checks its disclosures. The goal is partner ≥ 0.8× local, as
// ns/op of local / ns/op of partner, in one run:
//
//   - local and partner read the same page again and again: the partner's
//     disclosures were recorded by its first read, so only checked;
//   - local-fresh and partner-fresh read a page of 1000 new versions each
//     time (added between iterations, outside the timer), so that every
//     partner read records 1000 disclosures: ledger entries and rows.
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
	local, partner := f.admin(b), f.partner(b)
	read := func(c *taxii.Client, q taxii.Query) {
		q.Limit = n
		env, _, err := c.Objects(b.Context(), node.DefaultAPIRoot, f.ini.CollectionID, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(env.Objects) != n {
			b.Fatalf("read %d objects; want %d", len(env.Objects), n)
		}
	}
	read(partner, taxii.Query{}) // records the first page's disclosures
	for _, bc := range []struct {
		name string
		c    *taxii.Client
	}{{"local", local}, {"partner", partner}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				read(bc.c, taxii.Query{})
			}
		})
	}
	for _, bc := range []struct {
		name string
		c    *taxii.Client
	}{{"local-fresh", local}, {"partner-fresh", partner}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				since := add()
				b.StartTimer()
				read(bc.c, taxii.Query{AddedAfter: since})
			}
		})
	}
}
