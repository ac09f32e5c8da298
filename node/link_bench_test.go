package node_test

import (
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// BenchmarkSync measures a link pulling a partner's collection over
// loopback TLS into a fresh node (origin signatures checked, the sender's
// rule decided, received entries ledgered), against the same node's own
// ingest of the same objects posted over TLS by four clients at once in
// envelopes of 1000. Both are measured in each iteration; "ratio" is sync
// over ingest. sync-cpu-µs/object and ingest-cpu-µs/object are the
// process's processor time per object in each (both nodes of the sync, the
// one node and its clients for ingest): on a shared machine they say what
// the work costs when the rates say mostly what the other processes took.
// ENTENTE_SYNC_OBJECTS sets the number of objects (default 20000).
func BenchmarkSync(b *testing.B) {
	objects := 20000
	if v, err := strconv.Atoi(os.Getenv("ENTENTE_SYNC_OBJECTS")); err == nil && v > 0 {
		objects = v
	}
	a, p := twoParties(b, nil)
	p.share(b, "arcadia", store.RightRead)
	url := p.serve(b, nil)
	raws := indicators(0, objects)
	for i := 0; i < len(raws); i += 5000 {
		p.originate(b, nil, raws[i:min(i+5000, len(raws))]...)
	}
	var syncTime, ingestTime, syncCPU, ingestCPU time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		a.open(b)
		l := a.link(b, p, url, 1000)
		b.StartTimer()
		start, cpu := time.Now(), proctest.CPUTime()
		if err := l.Sync(b.Context()); err != nil {
			b.Fatal(err)
		}
		syncTime += time.Since(start)
		syncCPU += proctest.CPUTime() - cpu
		b.StopTimer()
		if h := l.Health(); h.Stored != int64(objects) {
			b.Fatalf("the link stored %d of %d objects: %+v", h.Stored, objects, h)
		}

		a.open(b)
		cpu = proctest.CPUTime()
		ingestTime += ingest(b, a, raws)
		ingestCPU += proctest.CPUTime() - cpu
		b.StartTimer()
	}
	syncRate := float64(objects*b.N) / syncTime.Seconds()
	ingestRate := float64(objects*b.N) / ingestTime.Seconds()
	b.ReportMetric(syncRate, "sync-objects/s")
	b.ReportMetric(ingestRate, "ingest-objects/s")
	b.ReportMetric(syncRate/ingestRate, "ratio")
	perObject := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(objects*b.N) }
	b.ReportMetric(perObject(syncCPU), "sync-cpu-µs/object")
	b.ReportMetric(perObject(ingestCPU), "ingest-cpu-µs/object")
}

// ingest posts raws to p's node over TLS from four clients, in envelopes
// of 1000, and returns the time it took.
func ingest(b *testing.B, p *party, raws []string) time.Duration {
	b.Helper()
	url := p.serve(b, nil)
	c, err := taxii.NewClient(url, taxii.ClientOptions{Token: p.ini.AdminToken, TLSConfig: insecure()})
	if err != nil {
		b.Fatal(err)
	}
	var envs [][]json.RawMessage
	for i := 0; i < len(raws); i += 1000 {
		var env []json.RawMessage
		for _, r := range raws[i:min(i+1000, len(raws))] {
			env = append(env, json.RawMessage(r))
		}
		envs = append(envs, env)
	}
	next := make(chan []json.RawMessage, len(envs))
	for _, e := range envs {
		next <- e
	}
	close(next)
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for env := range next {
				st, err := c.AddObjects(b.Context(), "api1", p.ini.CollectionID, env)
				if err != nil || st.SuccessCount != len(env) {
					b.Errorf("ingest: %v, %+v", err, st)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
