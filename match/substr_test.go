package match

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSubstrFilter checks the prefilter against strings.Count on random
// literals and texts over a small alphabet, where literals share grams.
func TestSubstrFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab01/."[r.IntN(6)]
		}
		return string(b)
	}
	var lits []substrLiteral
	for i := range 500 {
		lits = append(lits, substrLiteral{lit: word(1 + r.IntN(20)), ind: uint32(i)})
	}
	f := newSubstrFilter(lits)
	for range 3000 {
		text := word(r.IntN(80))
		if r.IntN(2) == 0 {
			// Plant a literal at every alignment, so that each tier and
			// stride offset is exercised.
			text = word(r.IntN(9)) + lits[r.IntN(len(lits))].lit + word(r.IntN(9))
		}
		var got []uint32
		f.find([]byte(text), func(n uint32) {
			if !slices.Contains(got, n) {
				got = append(got, n)
			}
		})
		slices.Sort(got)
		var want []uint32
		for _, l := range lits {
			if strings.Contains(text, l.lit) {
				want = append(want, l.ind)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("text %q: found %v, want %v", text, got, want)
		}
	}
}

// BenchmarkSubstrFilter scans raw log text with the prefilter alone, 100k
// literals of the kind matchgen's substring indicators use.
func BenchmarkSubstrFilter(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var lits []substrLiteral
	for i := range 100_000 {
		lits = append(lits, substrLiteral{lit: fmt.Sprintf("/%x/", r.Uint64()), ind: uint32(i)})
	}
	f := newSubstrFilter(lits)
	var text []byte
	for i := range 2000 {
		text = fmt.Appendf(text, `{"timestamp":"2026-11-26T08:30:00.%06d+0000","event_type":"http","src_ip":"192.168.1.%d","http":{"hostname":"www%d.example.com","url":"/static/%d/app.js","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}}`+"\n", i, i%250, i, i*7919)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		f.find(text, func(uint32) {})
	}
}
