package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/google/uuid"

	"github.com/entente/entente/match"
	"github.com/entente/entente/match/redis"
)

// redisConfig is what entente match --redis reads with.
type redisConfig struct {
	// URL is redis://HOST[:PORT]/KEY (see match/redis.Config.URL).
	URL string
	// Group and Consumer name the consumer group and this process in it.
	Group, Consumer string
	// Batch is the most records handled, and acknowledged, at once.
	Batch int
	// ClaimIdle is how long another consumer's unacknowledged records wait
	// before this one claims them.
	ClaimIdle string
}

// batchIDs gives sightings ids that a batch's key decides, so that a batch
// handled again, after the consumer that handled it first died before
// acknowledging it, yields the same sighting objects (a new version of
// each, where a store keeps them) rather than counting its records twice.
type batchIDs struct {
	key string
	n   int
}

// idSpace is the UUIDv5 namespace of the sightings of Redis batches.
var idSpace = uuid.MustParse("6f0e9a3c-2d1b-4c55-9a59-3f1d1b7e5a10")

func (b *batchIDs) reset(key string) { b.key, b.n = key, 0 }

func (b *batchIDs) next(typ string) string {
	if b.key == "" {
		return typ + "--" + uuid.NewString()
	}
	b.n++
	return typ + "--" + uuid.NewSHA1(idSpace, []byte(b.key+"\x00"+typ+"\x00"+strconv.Itoa(b.n))).String()
}

// matchRedis runs the records of a Redis list or stream through p until
// ctx ends: each batch is matched, its sightings handed to the sink, and
// only then, for a stream, acknowledged.
func matchRedis(ctx context.Context, p *match.Pipeline, c *matchConfig, ids *batchIDs, stderr io.Writer) error {
	feed, err := redis.Open(ctx, redis.Config{URL: c.Redis.URL, Group: c.Redis.Group, Consumer: c.Redis.Consumer,
		Batch: c.Redis.Batch, ClaimIdle: c.redisClaimIdle})
	if err != nil {
		return err
	}
	defer feed.Close()
	fmt.Fprintf(stderr, "entente match: reading %s in %s mode until interrupted\n", feed.Source, feed.Mode())
	return feed.Run(ctx, func(ctx context.Context, b *redis.Batch) error {
		ids.reset(b.Key)
		_, err := p.Run(ctx, feed.Source, bytes.NewReader(b.Lines))
		var unreadable *match.UnreadableError
		if errors.As(err, &unreadable) {
			fmt.Fprintf(stderr, "entente match: %v\n", err)
		} else if err != nil {
			return err
		}
		_, err = p.Finish(ctx)
		return err
	})
}

// forRedis checks the flags for --redis: no log files, and sightings
// written as each batch is matched (JSON lines, or posted to --node), since
// a stream's records are acknowledged once their sightings are recorded.
func (c *matchConfig) forRedis(fs interface{ Visit(func(*flag.Flag)) }) error {
	if len(c.Logs) > 0 {
		return fmt.Errorf("--redis reads the records from Redis; give no log files (%s)", c.Logs[0])
	}
	if c.Format == "jsonl" {
		return errors.New("--redis reads eve or zeek records")
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "output" })
	if explicit && c.Output == "bundle" {
		return errors.New("--redis writes sightings as each batch is matched: use --output jsonl")
	}
	c.Output = "jsonl"
	if c.Redis.Batch <= 0 {
		return fmt.Errorf("--redis-batch %d: want at least 1", c.Redis.Batch)
	}
	if c.redisClaimIdle <= 0 {
		return fmt.Errorf("--redis-claim-idle %s: want a positive duration", c.redisClaimIdle)
	}
	return nil
}
