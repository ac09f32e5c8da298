package ledgerhttp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

var (
	benchLogOnce sync.Once
	benchLog     *memLog
)

// BenchmarkServeProof serves inclusion and consistency proofs and a hash
// tile of a 2^20-leaf log through the HTTP handler (authentication,
// parameter checks, proof and encoding), the backend in memory: the
// server's own cost per request. A proof reads O(log n) stored hashes,
// so a 10M-entry log costs three or four more.
func BenchmarkServeProof(b *testing.B) {
	benchLogOnce.Do(func() { benchLog = newMemLog(b, 1<<20) })
	srv := NewServer(benchLog, Config{})
	n := benchLog.size
	for _, bc := range []struct{ name, path string }{
		{"inclusion", fmt.Sprintf("proof/inclusion?index=%d", n/3)},
		{"consistency", fmt.Sprintf("proof/consistency?old=%d", n/3)},
		{"tile", "tile/0/x001/000"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", Prefix+bc.path, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			for b.Loop() {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.path, rec.Code, rec.Body)
				}
			}
		})
	}
}
