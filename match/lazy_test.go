package match

import (
	"sync"
	"testing"
)

// TestLazyPatterns checks that evaluated indicators get their tree on
// demand, the same tree for every caller, and direct ones none.
func TestLazyPatterns(t *testing.T) {
	inds := []Indicator{
		{ID: "indicator--00000000-0000-4000-8000-000000000000", Pattern: "[domain-name:value = 'a.example']"},
		{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: "[domain-name:value LIKE '%.evil.example']"},
		{ID: "indicator--00000000-0000-4000-8000-000000000002", Pattern: "[url:value = 'http://a.example/'] FOLLOWEDBY [domain-name:value = 'b.example'] WITHIN 60 SECONDS"},
		{ID: "indicator--00000000-0000-4000-8000-000000000003", Pattern: "[ipv4-addr:value = '10.0.0.1']"},
		{ID: "indicator--00000000-0000-4000-8000-000000000004", Pattern: "[network-traffic:dst_ref.value = '10.0.0.1' AND network-traffic:dst_port = 443]"},
	}
	ix, errs := Compile(inds)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for n, ind := range inds {
		const callers = 4
		got := make([]any, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() { got[i] = ix.pattern(uint32(n)) })
		}
		wg.Wait()
		p := ix.pattern(uint32(n))
		if direct := ix.decide[n] == decideDirect; direct != (p == nil) {
			t.Fatalf("%s: decide %d, tree %v", ind.Pattern, ix.decide[n], p)
		}
		for _, g := range got {
			if g != any(p) {
				t.Fatalf("%s: callers got different trees", ind.Pattern)
			}
		}
		if p != nil && p.String() != ind.Pattern {
			t.Errorf("indicator %d: tree of %q, want %q", n, p.String(), ind.Pattern)
		}
	}
}
