package web

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// benchObjectsEnv sets how many objects BenchmarkObjectsPages stores,
// e.g. ENTENTE_BENCH_OBJECTS=1000000 for the goal; the default
// keeps `go test -bench` quick.
const benchObjectsEnv = "ENTENTE_BENCH_OBJECTS"

// BenchmarkObjectsPages measures the server time of the objects list
// (the first page, a filtered page, a text search that reaches the scan
// cap, a deep keyset page) and of object pages, on a SQLite store filled
// with indicators, malware and relationships of mixed markings and
// origins. It reports each page's median and 99th percentile; the goal
// is 50 ms and 300 ms with 1M objects stored.
func BenchmarkObjectsPages(b *testing.B) {
	n := 20000
	if v := os.Getenv(benchObjectsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("%s=%q: want a number of objects, at least 1000", benchObjectsEnv, v)
		}
	}
	e := newEnv(b)
	start := time.Now()
	ids, lastSeq := fillBench(b, e, n)
	b.Logf("stored %d objects in %s", n, time.Since(start).Round(time.Second))
	cookie, _ := e.console.sessions.start(&taxii.Caller{Name: "reader", Role: "reader"})
	col := "collection=" + e.collection
	rng := rand.New(rand.NewPCG(1, 2))
	pages := []struct {
		name string
		path func() string
	}{
		{"first", func() string { return "/ui/objects?" + col }},
		{"filtered", func() string { return "/ui/objects?" + col + "&type=indicator&tlp=amber&origin=borealis" }},
		{"text-capped", func() string { return "/ui/objects?" + col + "&q=no-such-text" }},
		{"deep", func() string {
			return "/ui/objects?" + col + "&cursor=" + strconv.FormatInt(lastSeq-int64(rng.IntN(1000))-objectsPageSize*2, 10)
		}},
		{"object", func() string {
			return "/ui/objects/" + ids[rng.IntN(len(ids))] + "?" + col
		}},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, pg.path(), nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
				w := httptest.NewRecorder()
				t0 := time.Now()
				e.console.ServeHTTP(w, req)
				times = append(times, time.Since(t0))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d\n%s", req.URL, w.Code, w.Body)
				}
			}
			slices.Sort(times)
			ms := func(q float64) float64 {
				return float64(times[min(len(times)-1, int(q*float64(len(times))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
		})
	}
}

// fillBench stores n objects in the default collection in batches, as a
// partner's and the node's own mix: 70% indicators, 10% malware, 20%
// relationships between them; TLP:CLEAR to RED; 30% from Borealis. It
// returns the ids of some indicators that relationships reference, and
// the last sequence number.
func fillBench(b *testing.B, e *env, n int) (ids []string, last int64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	tlps := []stix.TLP{stix.TLPClear, stix.TLPGreen, stix.TLPAmber, stix.TLPRed}
	var recent []string // indicators and malware, for relationships to join
	const batch = 5000
	for done := 0; done < n; {
		puts := make([]store.Put, 0, batch)
		for ; len(puts) < batch && done < n; done++ {
			tlp := stix.TLP2ID(tlps[rng.IntN(len(tlps))])
			var raw string
			switch k := rng.IntN(10); {
			case k < 7 || len(recent) < 2:
				id := "indicator--" + uuid.NewString()
				raw = fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"Beacon %d","description":"Command and control beacon seen in campaign %d","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z","labels":["malicious-activity"],"object_marking_refs":[%q]}`,
					id, done, done%97, done%256, tlp)
				recent = append(recent, id)
			case k < 8:
				id := "malware--" + uuid.NewString()
				raw = fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":%q,"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"Family %d","is_family":true,"object_marking_refs":[%q]}`,
					id, done, tlp)
				recent = append(recent, id)
			default:
				src := recent[len(recent)-1-rng.IntN(min(len(recent), 50))]
				dst := recent[len(recent)-1-rng.IntN(min(len(recent), 50))]
				raw = fmt.Sprintf(`{"type":"relationship","spec_version":"2.1","id":"relationship--%s","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","relationship_type":"indicates","source_ref":%q,"target_ref":%q,"object_marking_refs":[%q]}`,
					uuid.NewString(), src, dst, tlp)
				if len(ids) < 1000 && rng.IntN(4) == 0 {
					ids = append(ids, src)
				}
			}
			if len(recent) > 200 {
				recent = recent[100:]
			}
			o, err := stix.Parse([]byte(raw))
			if err != nil {
				b.Fatal(err)
			}
			p, err := store.NewPut(o)
			if err != nil {
				b.Fatal(err)
			}
			if rng.IntN(10) < 3 {
				p.FromParty, p.FromNode = "borealis", "borealis-node-1"
			}
			puts = append(puts, p)
		}
		err := e.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			out, err := tx.AddObjects(ctx, e.collection, puts)
			if err == nil && len(out) > 0 {
				last = out[len(out)-1].Seq
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if len(ids) == 0 {
		b.Fatal("no relationship was stored")
	}
	return ids, last
}
