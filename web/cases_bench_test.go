package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"
)

// BenchmarkAgreementCasesPages measures the server time of the agreement
// page, a page of the cases list, and one case's page, with
// ENTENTE_BENCH_CASES cases stored (default 300), as the analyst.
func BenchmarkAgreementCasesPages(b *testing.B) {
	n := 300
	if v, err := strconv.Atoi(os.Getenv("ENTENTE_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	e := newEnv(b)
	e.grantCases(b)
	var last string
	for i := range n {
		last = e.openCase(b, reachability(), "borealis", i%2 == 0).ID
	}
	c := e.login(b, "analyst")
	u, _ := url.Parse(e.srv.URL)
	cookies := c.http.Jar.Cookies(u)
	for _, page := range []struct{ name, path string }{
		{"agreement", "/ui/agreement"},
		{"cases", "/ui/cases"},
		{"case", "/ui/cases/" + last},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				w := httptest.NewRecorder()
				e.console.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", page.path, w.Code)
				}
			}
		})
	}
}
