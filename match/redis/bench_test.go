package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entente/entente/match"
	"github.com/entente/entente/match/redis"
)

// BenchmarkRedis compares reading EVE records from Redis, a stream through
// a consumer group and a list, with reading the same lines from a file,
// through the same pipeline; the goal is at least 0.8 times the
// file reader's lines per second. Each round fills Redis (not timed), then
// times the file, the stream and the list one after the other.
func BenchmarkRedis(b *testing.B) {
	for _, batch := range []int{500, 2000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchmarkRedis(b, batch) })
	}
}

func benchmarkRedis(b *testing.B, benchBatch int) {
	base := os.Getenv("ENTENTE_TEST_REDIS")
	if base == "" {
		b.Skip("set ENTENTE_TEST_REDIS to a Redis server's URL; export ENTENTE_TEST_REDIS=$(.ci/redis) starts a throwaway one")
	}
	base = strings.TrimSuffix(base, "/")
	sample, err := os.ReadFile(filepath.Join("..", "testdata", "readers", "eve.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	var lines []string
	for l := range bytes.Lines(sample) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, string(l))
		}
	}
	const n = 100_000
	var file bytes.Buffer
	for i := range n {
		file.WriteString(lines[i%len(lines)])
		file.WriteByte('\n')
	}
	inds, _, err := match.ParseIndicators([]byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000001-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'evil.example']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}`))
	if err != nil {
		b.Fatal(err)
	}
	ix, _ := match.Compile(inds)
	pipeline := func() *match.Pipeline {
		return match.NewPipeline(match.PipelineConfig{Format: match.EVE{}, Matcher: match.NewMatcher(ix)})
	}
	opt, _ := goredis.ParseURL(base)
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	key := fmt.Sprintf("entente-bench:%d", time.Now().UnixNano())
	defer c.Del(ctx, key, key+":list")

	fill := func() {
		c.Del(ctx, key, key+":list")
		for i := 0; i < n; i += 1000 {
			pipe := c.Pipeline()
			for j := i; j < min(i+1000, n); j++ {
				pipe.XAdd(ctx, &goredis.XAddArgs{Stream: key, Values: []string{"eve", lines[j%len(lines)]}})
				pipe.LPush(ctx, key+":list", lines[j%len(lines)])
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	drain := func(url string) time.Duration {
		f, err := redis.Open(ctx, redis.Config{URL: url, Batch: benchBatch, Block: 50 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		p := pipeline()
		start := time.Now()
		got := 0
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		err = f.Run(ctx, func(ctx context.Context, batch *redis.Batch) error {
			if _, err := p.Run(ctx, f.Source, bytes.NewReader(batch.Lines)); err != nil {
				return err
			}
			if _, err := p.Finish(ctx); err != nil {
				return err
			}
			if got += batch.Records; got == n {
				cancel()
			}
			return nil
		})
		if err != nil || got != n {
			b.Fatalf("read %d of %d: %v", got, n, err)
		}
		return time.Since(start)
	}
	// The server's own time in the commands of each mode, from its
	// command statistics: what no client can save, and what the Redis
	// server takes from the cores the matcher shares.
	serverTime := func(cmds ...string) time.Duration {
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			b.Fatal(err)
		}
		var usec int64
		for line := range strings.SplitSeq(info, "\n") {
			name, stats, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok || !slices.Contains(cmds, strings.TrimPrefix(name, "cmdstat_")) {
				continue
			}
			for kv := range strings.SplitSeq(stats, ",") {
				if v, ok := strings.CutPrefix(kv, "usec="); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					usec += n
				}
			}
		}
		return time.Duration(usec) * time.Microsecond
	}
	var fileT, streamT, listT, streamServer, listServer time.Duration
	for b.Loop() {
		b.StopTimer()
		fill()
		b.StartTimer()
		start := time.Now()
		p := pipeline()
		if st, err := p.Run(ctx, "file", bytes.NewReader(file.Bytes())); err != nil || st.Lines != n {
			b.Fatalf("file: %d lines, %v", st.Lines, err)
		}
		p.Finish(ctx)
		fileT += time.Since(start)
		streamCmds, listCmds := []string{"xreadgroup", "xack", "xautoclaim"}, []string{"rpop", "lpop", "brpop", "blpop"}
		s0, l0 := serverTime(streamCmds...), serverTime(listCmds...)
		streamT += drain(base + "/" + key + "?mode=stream&group=bench")
		listT += drain(base + "/" + key + ":list")
		streamServer += serverTime(streamCmds...) - s0
		listServer += serverTime(listCmds...) - l0
	}
	perSec := func(d time.Duration) float64 { return float64(n) * float64(b.N) / d.Seconds() }
	b.ReportMetric(perSec(fileT), "file-lines/s")
	b.ReportMetric(perSec(streamT)/perSec(fileT), "stream/file")
	b.ReportMetric(perSec(listT)/perSec(fileT), "list/file")
	perRecord := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n*b.N) }
	b.ReportMetric(perRecord(fileT), "file-ns/line")
	b.ReportMetric(perRecord(streamServer), "stream-server-ns/record")
	b.ReportMetric(perRecord(listServer), "list-server-ns/record")
}
