package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// server returns the URL of the test Redis server and a client to it, or
// skips the test.
func server(t testing.TB) (string, *goredis.Client) {
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

// key returns a key of its own for a test, deleted at its end.
func key(t testing.TB, c *goredis.Client) string {
	k := fmt.Sprintf("entente-test:%s:%d", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() { c.Del(context.Background(), k) })
	return k
}

func record(i int) string { return fmt.Sprintf(`{"event_type":"dns","n":%d}`, i) }

// collect runs a feed until it has seen n records, and returns them.
func collect(t *testing.T, f *Feed, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got []string
	err := f.Run(ctx, func(_ context.Context, b *Batch) error {
		got = append(got, strings.Split(strings.TrimSuffix(string(b.Lines), "\n"), "\n")...)
		if len(got) >= n {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLists(t *testing.T) {
	base, c := server(t)
	for _, tt := range []struct {
		mode, query string
		push        func(ctx context.Context, key string, values ...any) *goredis.IntCmd
	}{
		{"list", "", c.LPush}, // Suricata's default: LPUSH, and the key's type picks list mode
		{"rpush", "?mode=rpush", c.RPush},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			k := key(t, c)
			for i := range 1000 {
				tt.push(t.Context(), k, record(i))
			}
			f, err := Open(t.Context(), Config{URL: base + "/" + k + tt.query, Batch: 64, Block: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got := collect(t, f, 1000)
			if len(got) != 1000 {
				t.Fatalf("%d records, want 1000", len(got))
			}
			for i, g := range got {
				if g != record(i) {
					t.Fatalf("record %d is %s: lists are read oldest first", i, g)
				}
			}
		})
	}
}

// TestStreamGroup shares one stream between two consumers of a group:
// each entry is handled by one of them, once, and acknowledged.
func TestStreamGroup(t *testing.T) {
	base, c := server(t)
	k := key(t, c)
	const n = 2000
	for i := range n {
		c.XAdd(t.Context(), &goredis.XAddArgs{Stream: k, Values: []string{"eve", record(i)}})
	}
	var mu sync.Mutex
	seen := map[string]int{}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		f, err := Open(ctx, Config{URL: base + "/" + k, Consumer: name, Batch: 50, Block: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if f.Mode() != Stream {
			t.Fatalf("mode %s, want stream", f.Mode())
		}
		wg.Go(func() {
			err := f.Run(ctx, func(_ context.Context, b *Batch) error {
				mu.Lock()
				defer mu.Unlock()
				for _, l := range strings.Split(strings.TrimSuffix(string(b.Lines), "\n"), "\n") {
					seen[l]++
				}
				if len(seen) == n {
					cancel()
				}
				time.Sleep(time.Millisecond) // let the other consumer take a share
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		if seen[record(i)] != 1 {
			t.Errorf("record %d handled %d times", i, seen[record(i)])
		}
	}
	p, err := c.XPending(context.Background(), k, "entente").Result()
	if err != nil || p.Count != 0 {
		t.Errorf("pending after the run: %+v, %v; want none", p, err)
	}
}

// TestStreamClaim: a consumer that dies holding a batch leaves it pending;
// another claims it once idle, handles it, with the same key, and
// acknowledges it.
func TestStreamClaim(t *testing.T) {
	base, c := server(t)
	k := key(t, c)
	for i := range 30 {
		c.XAdd(t.Context(), &goredis.XAddArgs{Stream: k, Values: map[string]any{"eve": record(i)}})
	}
	dead, err := Open(t.Context(), Config{URL: base + "/" + k, Consumer: "dead", Batch: 10, Block: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	died := errors.New("died")
	var deadKey string
	if err := dead.Run(t.Context(), func(_ context.Context, b *Batch) error { deadKey = b.Key; return died }); !errors.Is(err, died) {
		t.Fatalf("Run = %v, want the handler's error", err)
	}
	// Its batch, and the one it read ahead if that read was done before
	// the handler failed (it runs beside the handler).
	p, _ := c.XPending(t.Context(), k, "entente").Result()
	if p.Count != 10 && p.Count != 20 {
		t.Fatalf("%d pending, want the 10 of the dead consumer's batch, or 20 with the one it read ahead", p.Count)
	}
	deadBatches := int(p.Count / 10)
	alive, err := Open(t.Context(), Config{URL: base + "/" + k + "?consumer=alive", Batch: 10, Block: 100 * time.Millisecond, ClaimIdle: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var claimed []*Batch
	total := 0
	alive.Run(ctx, func(_ context.Context, b *Batch) error {
		total += b.Records
		if b.Claimed {
			claimed = append(claimed, b)
		}
		if total == 30 {
			cancel()
		}
		return nil
	})
	if total != 30 || len(claimed) != deadBatches || claimed[0].Key != deadKey || claimed[0].Records != 10 || claimed[len(claimed)-1].Records != 10 {
		t.Fatalf("handled %d records, claimed batches %+v; want 30, and the dead consumer's %d batches claimed, the first keyed %s", total, claimed, deadBatches, deadKey)
	}
	if p, _ := c.XPending(context.Background(), k, "entente").Result(); p.Count != 0 {
		t.Errorf("%d still pending", p.Count)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{"http://h/k", "redis://h", "redis://h/k?mode=pubsub", "redis://h/k?db=x"} {
		if _, err := Open(t.Context(), Config{URL: u}); err == nil {
			t.Errorf("Open(%s) succeeded", u)
		}
	}
	base, c := server(t)
	k := key(t, c)
	c.Set(t.Context(), k, "x", 0)
	if _, err := Open(t.Context(), Config{URL: base + "/" + k}); err == nil || !strings.Contains(err.Error(), "is a string") {
		t.Errorf("Open on a string key: %v", err)
	}
}
