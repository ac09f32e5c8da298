package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// TestAmplification replays the memory and disk amplification attacks on
// a serving node and reports the peak heap each took: a body of
// max_content_length holding 1.2M tiny objects, an envelope of as many tiny
// broken objects as one may hold, and an envelope of real indicators of
// max_content_length; one, two and three at once. The goal is under four
// times max_content_length of heap per request in flight for the attacks,
// and no growth of the database from requests that store nothing beyond
// their small status.
//
//	ENTENTE_HEAVY=1 go test ./cmd/entente -run TestAmplification -v
func TestAmplification(t *testing.T) {
	if testing.Short() || os.Getenv("ENTENTE_HEAVY") == "" {
		t.Skip("posts envelopes of 16 MiB, about a minute of CPU; set ENTENTE_HEAVY=1 to run it")
	}
	const limit = node.DefaultMaxContentLength
	tiny := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString(`{"objects":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"type":"x"}`)
		}
		b.WriteString(`]}`)
		return b.Bytes()
	}
	flood := tiny((limit - 20) / 13)                // 1.29M objects: refused
	broken := tiny(taxii.DefaultMaxEnvelopeObjects) // as many as allowed, each failing
	// Real indicators, padded to fill max_content_length within the cap.
	var real [][]byte
	pad := make([]byte, limit/taxii.DefaultMaxEnvelopeObjects-400)
	for i := range pad {
		pad[i] = 'a' + byte(i%26)
	}
	for i := range taxii.DefaultMaxEnvelopeObjects {
		real = append(real, fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s",`+
			`"pattern":"[ipv4-addr:value = '10.0.%d.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`,
			i, pad, i>>8&0xff, i&0xff))
	}
	genuine := envelope(real)
	if len(genuine) > limit {
		t.Fatalf("the envelope of real indicators is %d bytes, over %d", len(genuine), limit)
	}

	n := startServe(t, t.TempDir())
	dbSize := func() int64 {
		var total int64
		for _, name := range []string{dbFile, dbFile + "-wal"} {
			if fi, err := os.Stat(filepath.Join(n.dir, name)); err == nil {
				total += fi.Size()
			}
		}
		return total
	}
	post := func(body []byte) (int, int) {
		req, err := http.NewRequest(http.MethodPost, n.base+"/api1/collections/default/objects/", bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return 0, 0
		}
		req.Header.Set("Accept", taxii.MediaType)
		req.Header.Set("Content-Type", taxii.MediaType)
		req.Header.Set("Authorization", "Bearer "+n.adminToken)
		resp, err := n.client.Do(req)
		if err != nil {
			t.Error(err)
			return 0, 0
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Error(err)
		}
		return resp.StatusCode, len(answer)
	}
	// peakHeap runs f and returns the most heap it saw in use beyond what
	// was in use before.
	peakHeap := func(f func()) uint64 {
		sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		read := func() uint64 { rtmetrics.Read(sample); return sample[0].Value.Uint64() }
		runtime.GC()
		base := read()
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		})
		f()
		close(stop)
		wg.Wait()
		return max(peak.Load(), base) - base
	}

	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		stores bool // the request stores objects
		// most is the most heap per request in flight, in multiples of
		// max_content_length: 4 for the attacks. A full envelope of real
		// objects allocates about five times its size in garbage while it
		// is parsed and validated, and how much of it the collector lets
		// pile up depends on the CPU it gets; measured, 2.2-3.5× on an
		// idle machine, up to 5.5× on a loaded one.
		most float64
	}{
		{"1.29M tiny objects", flood, http.StatusRequestEntityTooLarge, false, 4},
		{"10k broken objects", broken, http.StatusAccepted, false, 4},
		{"10k real indicators", genuine, http.StatusAccepted, true, 8},
	} {
		for _, parallel := range []int{1, 2, 3} {
			before := dbSize()
			var answers atomic.Int64
			peak := peakHeap(func() {
				var wg sync.WaitGroup
				for range parallel {
					wg.Go(func() {
						status, size := post(tc.body)
						if status != tc.status {
							t.Errorf("%s: %d, want %d", tc.name, status, tc.status)
						}
						answers.Add(int64(size))
					})
				}
				wg.Wait()
			})
			growth := dbSize() - before
			perRequest := float64(peak) / float64(parallel) / limit
			t.Logf("%-20s ×%d: body %5.1f MiB, peak heap %6.1f MiB (%.2f× max_content_length per request), answers %5.2f MiB, database grew %d KiB",
				tc.name, parallel, float64(len(tc.body))/(1<<20), float64(peak)/(1<<20), perRequest,
				float64(answers.Load())/(1<<20)/float64(parallel), growth>>10)
			if perRequest > tc.most {
				t.Errorf("%s ×%d: %.2f× max_content_length of heap per request, want under %g", tc.name, parallel, perRequest, tc.most)
			}
			if !tc.stores && growth > int64(parallel)*64<<10 {
				t.Errorf("%s ×%d: the database grew by %d KiB from requests that store nothing", tc.name, parallel, growth>>10)
			}
		}
	}
}
