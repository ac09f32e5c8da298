package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func redisServer(t testing.TB) (string, *goredis.Client) {
	t.Helper()
	base := os.Getenv("ENTENTE_TEST_REDIS")
	if base == "" {
		t.Skip("set ENTENTE_TEST_REDIS to a Redis server's URL to run the Redis tests; export ENTENTE_TEST_REDIS=$(.ci/redis) starts a throwaway one")
	}
	opt, err := goredis.ParseURL(base)
	if err != nil {
		t.Fatalf("ENTENTE_TEST_REDIS=%q: %v", base, err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return strings.TrimSuffix(base, "/"), c
}

func dnsEVE(i int) string {
	return fmt.Sprintf(`{"timestamp":"2026-01-01T00:00:%02d.%06d+0000","event_type":"dns","src_ip":"10.0.0.1","src_port":5353,"dest_ip":"10.0.0.2","dest_port":53,"proto":"UDP","dns":{"type":"query","id":1,"rrname":"d%d.example","rrtype":"A"}}`, i%60, i, i)
}

// TestMatchRedisKill runs two entente match processes in one consumer
// group over a Redis stream that a sensor fills while they run, and kills
// one of them with SIGKILL in the middle: every record is still matched
// exactly once. Each record hits an indicator of its own, so the sightings
// (the latest version of each, where a reclaimed batch wrote one again)
// must count each indicator once.
func TestMatchRedisKill(t *testing.T) {
	base, c := redisServer(t)
	const n = 2000
	dir := t.TempDir()
	var inds bytes.Buffer
	for i := range n {
		fmt.Fprintf(&inds, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'd%d.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`+"\n", i, i)
	}
	indFile := filepath.Join(dir, "indicators.jsonl")
	if err := os.WriteFile(indFile, inds.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("entente-test:eve:%d", time.Now().UnixNano())
	t.Cleanup(func() { c.Del(context.Background(), key) })

	start := func(name string) (*exec.Cmd, string, *bytes.Buffer) {
		out := filepath.Join(dir, name+".jsonl")
		cmd := childCommand([]string{"match", "--indicators", indFile, "--format", "eve", "--redis", base + "/" + key + "?mode=stream",
			"--redis-consumer", name, "--redis-batch", "25", "--redis-claim-idle", "1s", "--out", out, "--workers", "1"})
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, out, &stderr
	}
	// The group exists before the sensor writes, as when the matchers run
	// before it.
	if err := c.XGroupCreateMkStream(t.Context(), key, "entente", "0").Err(); err != nil {
		t.Fatal(err)
	}
	a, outA, errA := start("a")
	b, outB, errB := start("b")

	// The sensor: 2000 records, 30 at a time.
	produced := make(chan error, 1)
	go func() {
		for i := 0; i < n; i += 30 {
			pipe := c.Pipeline()
			for j := i; j < min(i+30, n); j++ {
				pipe.XAdd(context.Background(), &goredis.XAddArgs{Stream: key, Values: []string{"eve", dnsEVE(j)}})
			}
			if _, err := pipe.Exec(context.Background()); err != nil {
				produced <- err
				return
			}
			time.Sleep(3 * time.Millisecond)
		}
		produced <- nil
	}()

	// Kill a once it has recorded sightings, while the sensor still writes.
	deadline := time.Now().Add(30 * time.Second)
	for lines(outA) < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("a wrote no sightings in 30s:\n%s", errA)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Best when a holds a batch: read, perhaps recorded, not acknowledged.
	for range 2000 {
		if p, err := c.XPendingExt(t.Context(), &goredis.XPendingExtArgs{Stream: key, Group: "entente", Consumer: "a", Start: "-", End: "+", Count: 1}).Result(); err == nil && len(p) > 0 {
			break
		}
	}
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	pendingAtKill, _ := c.XPendingExt(t.Context(), &goredis.XPendingExtArgs{Stream: key, Group: "entente", Consumer: "a", Start: "-", End: "+", Count: 1000}).Result()
	if err := <-produced; err != nil {
		t.Fatal(err)
	}

	// b handles the rest, and a's pending batch once idle.
	for {
		groups, err := c.XInfoGroups(t.Context(), key).Result()
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.XPending(t.Context(), key, "entente").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) == 1 && groups[0].EntriesRead == n && groups[0].Lag == 0 && p.Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all records handled in time: %+v, %d pending\n%s", groups, p.Count, errB)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Process.Signal(syscall.SIGTERM)
	if err := b.Wait(); err != nil {
		t.Fatalf("b: %v\n%s", err, errB)
	}

	// Each sighting once (the last copy of an id), then each indicator's
	// hits summed.
	counts := map[string]float64{}
	ofs := map[string]string{}
	fromA, fromB := 0, 0
	for _, f := range []string{outA, outB} {
		for _, s := range sightings(t, f) {
			counts[s.ID] = s.Count
			ofs[s.ID] = s.Of
			if f == outA {
				fromA++
			} else {
				fromB++
			}
		}
	}
	hits := map[string]float64{}
	for id, c := range counts {
		hits[ofs[id]] += c
	}
	for i := range n {
		id := fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", i)
		if hits[id] != 1 {
			t.Errorf("record %d counted %v times", i, hits[id])
		}
	}
	if fromA == 0 || fromB == 0 {
		t.Errorf("sightings from a %d, from b %d: both should have taken a share", fromA, fromB)
	}
	t.Logf("a recorded %d sightings before SIGKILL, holding %d unacknowledged records; b recorded %d", fromA, len(pendingAtKill), fromB)
}

type sighting struct {
	ID    string
	Of    string
	Count float64
}

// sightings reads the sightings of a JSON lines output; a line cut by
// SIGKILL is not a recorded sighting.
func sightings(t *testing.T, path string) []sighting {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []sighting
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var o struct {
			Type  string  `json:"type"`
			ID    string  `json:"id"`
			Of    string  `json:"sighting_of_ref"`
			Count float64 `json:"count"`
		}
		if json.Unmarshal(sc.Bytes(), &o) != nil || o.Type != "sighting" {
			continue
		}
		out = append(out, sighting{o.ID, o.Of, o.Count})
	}
	return out
}

func lines(path string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte("\n"))
}

func TestMatchRedisUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--output", "bundle"}, "use --output jsonl"},
		{[]string{"some.log"}, "give no log files (some.log)"},
		{[]string{"--redis-batch", "0"}, "--redis-batch 0"},
		{[]string{"--redis-claim-idle", "0s"}, "--redis-claim-idle 0s"},
	} {
		args := append([]string{"match", "--indicators", "x.json", "--format", "eve", "--redis", "redis://127.0.0.1:1/k"}, tt.args...)
		_, stderr, code := execEntente(t, args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	// A server that is not there: the error names the feed.
	dir := t.TempDir()
	ind := filepath.Join(dir, "i.json")
	os.WriteFile(ind, []byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000001-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'a.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`), 0o600)
	_, stderr, code := execEntente(t, "match", "--indicators", ind, "--format", "eve", "--redis", "redis://127.0.0.1:1/k")
	if code != 2 || !strings.Contains(stderr, "redis://127.0.0.1:1/k") {
		t.Errorf("no server: exit %d, %q", code, stderr)
	}
}
