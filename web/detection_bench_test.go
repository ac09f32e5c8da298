package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// BenchmarkDetectionPage measures the detection page's server time with
// more sightings stored in the window than one page reads (the worst
// case: every page reads node.DefaultSightingsScan of them). It reports
// the process's CPU time per page beside the wall time.
// ENTENTE_BENCH_SIGHTINGS sets how many are stored (default 5000).
func BenchmarkDetectionPage(b *testing.B) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("ENTENTE_BENCH_SIGHTINGS")); err == nil && v > 0 {
		n = v
	}
	e := newEnv(b)
	e.add(c2Indicator)
	ctx := context.Background()
	admin := &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}
	seen := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	for i := 0; i < n; i += 500 {
		var raws []json.RawMessage
		for j := i; j < min(n, i+500); j++ {
			raws = append(raws, json.RawMessage(fmt.Sprintf(`{"type":"sighting","spec_version":"2.1","id":"sighting--0f5b6f8e-9d2c-4c33-8a35-%012d","created":"2026-01-06T10:00:00.000Z","modified":"2026-01-06T10:00:00.000Z","sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-%012d","count":3,"first_seen":"%s","last_seen":"%s"}`, j, j%300, seen, seen)))
		}
		if st, err := e.n.AddObjects(ctx, admin, node.DefaultAPIRoot, e.collection, raws); err != nil || st.FailureCount > 0 {
			b.Fatalf("storing sightings: %v %+v", err, st)
		}
	}
	// The console is called in process with the session's cookie: the
	// figure is the server's time, without TLS and the client.
	c := e.login(b, "admin")
	u, _ := url.Parse(e.srv.URL)
	cookies := c.http.Jar.Cookies(u)
	cpu := proctest.CPUTime()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/ui/detection", nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		e.console.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "The counts cover the first 1,000 sightings") {
			b.Fatalf("detection page: %d\n%s", w.Code, w.Body)
		}
	}
	// CPU time per page: on a shared machine, wall time mostly measures
	// the wait for a core.
	b.ReportMetric(float64(proctest.CPUTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
}
