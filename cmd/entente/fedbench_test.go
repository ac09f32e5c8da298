package main

// Benchmarks of federation, each over real nodes on loopback TLS:
//
//   - FederationUrgentPush: the time from a revocation's acknowledgement
//     on one node to its being stored and ledgered on the partner that
//     received the original, by push alone (the partner's pull is made too
//     slow to matter); reports p50 and p99.
//   - FederationCatchUp: a node that was away while its partner took in n
//     objects catches up; reports the rate and the catching-up process's
//     peak resident memory, for two n, to show it does not grow with n.
//   - FederationParties: 5, 10 and 20 parties, each node in this process,
//     each creating objects every other may receive; reports the time to
//     converge and what one node stores and ledgers.
//
// They do a fixed amount of work per iteration; run them once:
//
//	go test ./cmd/entente -run '^$' -bench Federation -benchtime 1x -timeout 30m

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// fedIndicator returns version modified of indicator n, TLP:GREEN,
// revoked when asked.
func fedIndicator(n int, modified string, revoked bool) json.RawMessage {
	extra := ""
	if revoked {
		extra = `,"revoked":true`
	}
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-2222-4222-8222-222222222222",`+
		`"created":"2026-03-01T00:00:00.000Z","modified":%q,"pattern":"[ipv4-addr:value = '198.51.100.%d']",`+
		`"pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z","object_marking_refs":[%q]%s}`, n, modified, n%250, tlp20["green"], extra))
}

// fedVulnerability returns vulnerability n, TLP:GREEN: an object that,
// unlike an indicator, the receiving node's detection index does not keep
// in memory, so that memory measures federation alone.
func fedVulnerability(n int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--%08x-3333-4333-8333-333333333333",`+
		`"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"CVE-2026-%d",`+
		`"object_marking_refs":[%q]}`, n, 10000+n, tlp20["green"]))
}

func fedIndicatorID(n int) string {
	return fmt.Sprintf("indicator--%08x-2222-4222-8222-222222222222", n)
}

// versionsHeld returns how many versions of id the store holds, and
// whether every one is ledgered.
func versionsHeld(ctx context.Context, st store.Store, collection, id string) (int, bool, error) {
	p, err := st.Objects(ctx, store.Query{Collection: collection, IDs: []string{id}, Versions: store.VersionFilter{All: true}, Limit: 10, WithoutContent: true})
	if err != nil {
		return 0, false, err
	}
	ledgered := true
	for _, o := range p.Objects {
		ledgered = ledgered && o.LedgerIndex >= 0
	}
	return len(p.Objects), ledgered, nil
}

func BenchmarkFederationUrgentPush(b *testing.B) {
	const revocations = 100
	for b.Loop() {
		f := newFederation(b)
		a, bo := f.nodes["arcadia"], f.nodes["borealis"]
		// Borealis pulls once at start and then only every hour: what
		// arrives later arrives by push.
		saved := fedServeFlags
		fedServeFlags = []string{"--sync-interval", "1h"}
		f.start(a)
		var objs []json.RawMessage
		for i := range revocations {
			objs = append(objs, fedIndicator(i, "2026-03-01T00:00:00.000Z", false))
		}
		a.add(b, objs)
		f.start(bo)
		fedServeFlags = saved
		st, err := openStore(b.Context(), bo.dir, "", false)
		if err != nil {
			b.Fatal(err)
		}
		cols, _ := st.Collections(b.Context(), node.DefaultAPIRoot)
		col := cols[0].ID
		waitUntil(b, "Borealis to pull the originals", func() bool {
			n, _, _ := versionsHeld(b.Context(), st, col, fedIndicatorID(revocations-1))
			return n == 1
		})
		var lat []time.Duration
		for i := range revocations {
			start := time.Now()
			a.add(b, []json.RawMessage{fedIndicator(i, "2026-03-02T00:00:00.000Z", true)})
			acked := time.Now()
			for {
				n, ledgered, err := versionsHeld(b.Context(), st, col, fedIndicatorID(i))
				if err != nil {
					b.Fatal(err)
				}
				if n == 2 && ledgered {
					break
				}
				if time.Since(start) > 30*time.Second {
					b.Fatalf("revocation %d not pushed within 30s:\n%s", i, a.stderr.String())
				}
				time.Sleep(time.Millisecond)
			}
			lat = append(lat, time.Since(acked))
		}
		st.Close()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(time.Second)/float64(lat[len(lat)*99/100]), "goal-ratio(1s/p99)")
		for _, p := range f.order {
			f.stop(f.nodes[p])
		}
	}
}

// waitUntil polls ok for up to two minutes.
func waitUntil(tb testing.TB, what string, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// peakRSS returns a process's peak resident set size (VmHWM), in bytes.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// heapSampler samples a node's Go heap in use, from its metrics, until
// stopped, and keeps the peak.
type heapSampler struct {
	stop chan struct{}
	done chan int64
}

func sampleHeap(url string) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		var peak int64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := heapInUse(url); v > peak {
				peak = v
			}
			select {
			case <-h.stop:
				h.done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) peak() int64 {
	close(h.stop)
	return <-h.done
}

// heapInUse reads go_memstats_heap_inuse_bytes from a metrics URL; 0 if
// it cannot.
func heapInUse(url string) int64 {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int64(f)
		}
	}
	return 0
}

func BenchmarkFederationCatchUp(b *testing.B) {
	sizes := []int{5_000, 20_000}
	if heavy() {
		sizes = append(sizes, 80_000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			saved := fedServeFlags
			fedServeFlags = append(slices.Clip(saved), "--metrics-addr", "127.0.0.1:0")
			defer func() { fedServeFlags = saved }()
			for b.Loop() {
				f := newFederation(b)
				a, bo := f.nodes["arcadia"], f.nodes["borealis"]
				f.start(a)
				// Borealis is away (a partition) while Arcadia takes in n.
				objs := make([]json.RawMessage, 0, 1000)
				for i := range n {
					objs = append(objs, fedVulnerability(i))
					if len(objs) == cap(objs) || i == n-1 {
						a.add(b, objs)
						objs = objs[:0]
					}
				}
				f.start(bo)
				start := time.Now()
				heap := sampleHeap(bo.metrics)
				st, err := openStore(b.Context(), bo.dir, "", false)
				if err != nil {
					b.Fatal(err)
				}
				waitUntil(b, "Borealis to catch up", func() bool {
					s, err := st.Stats(b.Context())
					return err == nil && s.Objects >= int64(n)
				})
				d := time.Since(start)
				peakHeap := heap.peak()
				rss, err := peakRSS(bo.cmd.Process.Pid)
				if err != nil {
					rss = 0 // no /proc
				}
				st.Close()
				b.ReportMetric(float64(n)/d.Seconds(), "objects/s")
				b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
				for _, p := range f.order {
					f.stop(f.nodes[p])
				}
			}
		})
	}
}

func BenchmarkFederationParties(b *testing.B) {
	const (
		perNode      = 10
		syncInterval = 500 * time.Millisecond
	)
	for _, parties := range []int{5, 10, 20} {
		b.Run(fmt.Sprint(parties), func(b *testing.B) {
			for b.Loop() {
				file, nodes := scaleAgreement(b, parties)
				var running []*runningNode
				for _, n := range nodes {
					prepareScaleNode(b, n, nodes)
				}
				for _, n := range nodes {
					args := []string{"--addr", n.addr, "--agreement", file, "--node", n.id, "--metrics-addr", "off",
						"--checkpoint-interval", "1s", "--sync-interval", syncInterval.String()}
					for _, m := range nodes {
						if m != n {
							args = append(args, "--partner-url", m.id+"=https://"+m.addr+"/taxii2/")
						}
					}
					running = append(running, startServe(b, n.dir, args...))
				}
				stores := make([]store.Store, len(nodes))
				for i, n := range nodes {
					st, err := openStore(b.Context(), n.dir, "", false)
					if err != nil {
						b.Fatal(err)
					}
					stores[i] = st
				}
				// Nodes started before their partners back off from them;
				// the measure starts once every link has caught up once.
				waitUntil(b, "every link to catch up", func() bool {
					for _, st := range stores {
						hs, err := st.LinkHealth(b.Context())
						if err != nil || len(hs) < parties-1 {
							return false
						}
						for _, h := range hs {
							if h.CaughtUp.IsZero() {
								return false
							}
						}
					}
					return true
				})
				start, cpuStart := time.Now(), proctest.CPUTime()
				for i, n := range nodes {
					var objs []json.RawMessage
					for j := range perNode {
						objs = append(objs, fedIndicator(i*perNode+j, "2026-03-01T00:00:00.000Z", false))
					}
					c, err := taxii.NewClient(running[i].base+"/", taxii.ClientOptions{Token: n.token, HTTPClient: running[i].client})
					if err != nil {
						b.Fatal(err)
					}
					if st, err := c.AddObjects(b.Context(), node.DefaultAPIRoot, "default", objs); err != nil || st.SuccessCount != perNode {
						b.Fatalf("AddObjects: %+v %v", st, err)
					}
				}
				want := int64(parties * perNode)
				waitUntil(b, "every node to hold every object", func() bool {
					for _, st := range stores {
						s, err := st.Stats(b.Context())
						if err != nil || s.Objects < want {
							return false
						}
					}
					return true
				})
				d, work := time.Since(start), proctest.CPUTime()-cpuStart
				// The idle cost: every link polling its partner, nothing to
				// pull. The nodes are this process, so its CPU time is theirs.
				const idle = 5 * time.Second
				cpu0 := proctest.CPUTime()
				time.Sleep(idle)
				b.ReportMetric(float64((proctest.CPUTime()-cpu0).Milliseconds())/float64(parties)/idle.Seconds(), "idle-cpu-ms/s/node")
				b.ReportMetric(float64(work.Milliseconds())/float64(parties), "converge-cpu-ms/node")
				size, _ := stores[0].LedgerSize(b.Context())
				for _, st := range stores {
					st.Close()
				}
				b.ReportMetric(d.Seconds(), "converge-s")
				b.ReportMetric(float64(size), "ledger-entries/node")
				b.ReportMetric(float64(parties-1), "links/node")
				for _, r := range running {
					r.stop()
					r.done <- <-r.done // for startServe's cleanup, which waits for it too
				}
			}
		})
	}
}
