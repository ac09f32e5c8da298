// Package redis reads sensor records that Suricata's EVE output (and Zeek
// writers that do the same) put into Redis, for match.Pipeline.
//
// Suricata's redis output has two shapes (suricata.yaml, outputs.eve-log.
// redis.mode). In list mode (list, lpush or rpush) each record is pushed on
// a list; a [Feed] pops them, oldest first, a batch at a time (RPOP with a
// count for lpush, LPOP for rpush, waiting with BRPOP or BLPOP only when the
// list is empty). A popped record is gone from Redis, so a process that dies
// holding one loses it: list mode is at most once. In stream mode (stream or xadd) each record is a stream entry
// (XADD key MAXLEN ~ n * eve <json>); a Feed reads them through a consumer
// group (XREADGROUP), so that several processes on several machines share
// one feed, each entry delivered to one of them, and acknowledges a batch
// (XACK) only after its handler has returned, that is after its sightings
// were recorded. Entries a consumer took and never acknowledged, because it
// died, are claimed by the others once idle for ClaimIdle (XAUTOCLAIM), and
// handled again: stream mode is at least once, and exactly once for every
// batch whose handler did not die between recording and acknowledging.
// [Batch.Key] names a batch by its entries, so that a handler can make what
// it records of a batch handled twice the same (match's sightings take
// their ids from it).
//
// Specifications: Redis streams (https://redis.io/docs/latest/develop/data-types/streams/),
// Suricata's EVE Redis output (https://docs.suricata.io/en/latest/output/eve/eve-json-output.html).
package redis

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Mode is how records are kept in Redis.
type Mode string

// The modes, as Suricata's redis output names them.
const (
	List   Mode = "list"   // LPUSH: pop from the right
	RPush  Mode = "rpush"  // RPUSH: pop from the left
	Stream Mode = "stream" // XADD: consumer groups
)

// Config configures a Feed.
type Config struct {
	// URL is redis://[user:password@]host[:port]/KEY or rediss:// for TLS.
	// Its query may set db, mode (list, lpush, rpush, stream, xadd; by
	// default the key's type decides, a stream or else a list), group and
	// consumer.
	URL string
	// Group is the consumer group of a stream; default "entente".
	Group string
	// Consumer names this process in the group; default host-pid.
	Consumer string
	// Batch is the most records handled at once; default 2000.
	Batch int
	// Block is how long a read waits for records; default 2s, and at most
	// half of ClaimIdle.
	Block time.Duration
	// ClaimIdle is how long a record may stay unacknowledged by a
	// consumer before another claims it; default 30s.
	ClaimIdle time.Duration
	// Field is the stream entry field that holds the record; default
	// "eve", Suricata's. An entry with one field is read whatever its name.
	Field string
}

// A Feed reads records from one Redis key.
type Feed struct {
	client *goredis.Client
	key    string
	mode   Mode
	cfg    Config
	// Source names the feed in reports: redis://host/key.
	Source string
}

// A Batch is records read together, one per line in Lines.
type Batch struct {
	Lines []byte
	// Records is the number of records (entries or list elements).
	Records int
	// Key names the batch by its first stream entry and its size: the same
	// entries claimed again make the same key. Empty in list mode.
	Key string
	// Claimed reports entries another consumer took and left.
	Claimed bool
	ids     []string
}

// Open connects to the Redis server the URL names and checks the key.
func Open(ctx context.Context, cfg Config) (*Feed, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return nil, fmt.Errorf("redis: %q: want redis://HOST[:PORT]/KEY", cfg.URL)
	}
	key := strings.TrimPrefix(u.Path, "/")
	if key == "" {
		return nil, fmt.Errorf("redis: %q names no key: want redis://HOST[:PORT]/KEY", cfg.URL)
	}
	q := u.Query()
	opts := &goredis.Options{Addr: u.Host, Protocol: 2}
	if u.Port() == "" {
		opts.Addr = u.Host + ":6379"
	}
	if u.User != nil {
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	if db := q.Get("db"); db != "" {
		if opts.DB, err = strconv.Atoi(db); err != nil {
			return nil, fmt.Errorf("redis: db=%q: want a database number", db)
		}
	}
	if u.Scheme == "rediss" {
		opts.TLSConfig = tlsConfig(u.Hostname())
	}
	cfg.Group = cmp.Or(q.Get("group"), cfg.Group, "entente")
	host, _ := os.Hostname()
	cfg.Consumer = cmp.Or(q.Get("consumer"), cfg.Consumer, fmt.Sprintf("%s-%d", host, os.Getpid()))
	cfg.Field = cmp.Or(cfg.Field, "eve")
	if cfg.Batch <= 0 {
		cfg.Batch = 2000
	}
	if cfg.Block <= 0 {
		cfg.Block = 2 * time.Second
	}
	if cfg.ClaimIdle <= 0 {
		cfg.ClaimIdle = 30 * time.Second
	}
	// Claims are looked for between reads: a read waits at most half the
	// claim time.
	cfg.Block = min(cfg.Block, max(cfg.ClaimIdle/2, time.Millisecond))
	// A blocking read must not be cut by the client's own read timeout.
	opts.ReadTimeout = cfg.Block + 10*time.Second
	f := &Feed{client: goredis.NewClient(opts), key: key, cfg: cfg, Source: "redis://" + u.Host + "/" + key}
	switch m := q.Get("mode"); m {
	case "list", "lpush":
		f.mode = List
	case "rpush":
		f.mode = RPush
	case "stream", "xadd":
		f.mode = Stream
	case "":
		typ, err := f.client.Type(ctx, key).Result()
		if err != nil {
			f.client.Close()
			return nil, fmt.Errorf("redis: %s: %w", f.Source, err)
		}
		switch typ {
		case "stream":
			f.mode = Stream
		case "list", "none":
			f.mode = List
		default:
			f.client.Close()
			return nil, fmt.Errorf("redis: %s is a %s, not a list or stream of records", f.Source, typ)
		}
	default:
		f.client.Close()
		return nil, fmt.Errorf("redis: mode=%q: want list, lpush, rpush, stream or xadd", m)
	}
	if f.mode == Stream {
		err := f.client.XGroupCreateMkStream(ctx, key, cfg.Group, "0").Err()
		if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			f.client.Close()
			return nil, fmt.Errorf("redis: creating consumer group %s on %s: %w", cfg.Group, f.Source, err)
		}
	}
	return f, nil
}

// Mode returns the feed's mode.
func (f *Feed) Mode() Mode { return f.mode }

// Close closes the connection.
func (f *Feed) Close() error { return f.client.Close() }

// Run reads batches until ctx ends, and hands each to handle; in stream
// mode it acknowledges a batch when handle returns nil. An error from
// handle stops Run, leaving the batch unacknowledged for a consumer to
// claim. Run returns nil when ctx ends.
func (f *Feed) Run(ctx context.Context, handle func(context.Context, *Batch) error) error {
	var err error
	if f.mode == Stream {
		err = f.runStream(ctx, handle)
	} else {
		err = f.runList(ctx, handle)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (f *Feed) runList(ctx context.Context, handle func(context.Context, *Batch) error) error {
	bpop, pop := f.client.BRPop, f.client.RPopCount
	if f.mode == RPush {
		bpop, pop = f.client.BLPop, f.client.LPopCount
	}
	for ctx.Err() == nil {
		// One RPOP (LPOP) with a count while the list has records; BRPOP
		// (BLPOP) waits only when it is empty. Nothing is popped ahead of
		// the batch handled, so that a process stopped between batches
		// loses none.
		vals, err := pop(ctx, f.key, f.cfg.Batch).Result()
		if errors.Is(err, goredis.Nil) {
			err = nil
		}
		if err == nil && len(vals) == 0 {
			// BLPOP and BRPOP wait whole seconds.
			kv, berr := bpop(ctx, max(f.cfg.Block.Round(time.Second), time.Second), f.key).Result()
			if errors.Is(berr, goredis.Nil) {
				continue
			}
			if err = berr; err == nil {
				vals = []string{kv[1]}
				if f.cfg.Batch > 1 {
					more, perr := pop(ctx, f.key, f.cfg.Batch-1).Result()
					if perr != nil && !errors.Is(perr, goredis.Nil) {
						err = perr
					}
					vals = append(vals, more...)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("redis: reading %s: %w", f.Source, err)
		}
		b := &Batch{Records: len(vals), Lines: joinLines(vals)}
		if err := handle(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// joinLines puts the records one per line, each without the line end it
// may carry.
func joinLines(records []string) []byte {
	size := 0
	for _, r := range records {
		size += len(r) + 1
	}
	buf := make([]byte, 0, size)
	for _, r := range records {
		buf = append(buf, strings.TrimRight(r, "\r\n")...)
		buf = append(buf, '\n')
	}
	return buf
}

func (f *Feed) runStream(ctx context.Context, handle func(context.Context, *Batch) error) error {
	// One goroutine reads ahead while the batch before is handled, so
	// that the round trips to Redis overlap the matching. The batch read
	// ahead is pending for this consumer until handled: if the process
	// stops, the group claims it after ClaimIdle.
	type fetched struct {
		msgs    []goredis.XMessage
		claimed bool
		err     error
	}
	// Unbuffered: the reader holds at most the one batch it read while
	// the one before is handled.
	ahead := make(chan fetched)
	readCtx, cancel := context.WithCancel(ctx)
	readerDone := make(chan struct{})
	// Run returns only once the reader has stopped, so that every entry
	// this consumer will ever hold is pending when Run returns, never
	// read into it afterwards.
	defer func() {
		cancel()
		<-readerDone
	}()
	go func() {
		defer close(readerDone)
		defer close(ahead)
		lastClaim := time.Time{}
		for readCtx.Err() == nil {
			var fb fetched
			// Entries a dead consumer left go first, in batches of their own.
			if time.Since(lastClaim) >= f.cfg.ClaimIdle/2 {
				fb.msgs, fb.err = f.claim(readCtx)
				fb.claimed = true
				if len(fb.msgs) == 0 {
					lastClaim = time.Now()
				}
			} else {
				fb.msgs, fb.err = f.read(readCtx)
			}
			if len(fb.msgs) == 0 && fb.err == nil {
				continue
			}
			select {
			case ahead <- fb:
			case <-readCtx.Done():
				return
			}
			if fb.err != nil {
				return
			}
		}
	}()
	// Acknowledgements go out on a goroutine of their own, in order, so
	// that the next batch is handled during the round trip. At most one
	// handled batch waits for its XACK while another is handled; Run
	// returns only once every handled batch is acknowledged.
	acks := make(chan []string, 1)
	ackErr := make(chan error, 1)
	go func() {
		defer close(ackErr)
		// Acknowledge even when ctx has ended: the batches were handled.
		ack := context.WithoutCancel(ctx)
		for ids := range acks {
			if err := f.client.XAck(ack, f.key, f.cfg.Group, ids...).Err(); err != nil {
				ackErr <- fmt.Errorf("redis: acknowledging %d entries of %s: %w", len(ids), f.Source, err)
				for range acks {
				}
				return
			}
		}
	}()
	err := func() error {
		for fb := range ahead {
			if fb.err != nil {
				return fb.err
			}
			select {
			case err := <-ackErr:
				return err
			default:
			}
			if err := f.handle(ctx, fb.msgs, fb.claimed, handle, acks); err != nil {
				return err
			}
		}
		return nil
	}()
	close(acks)
	if aerr := <-ackErr; err == nil {
		err = aerr
	}
	return err
}

// read takes the next batch of new entries for this consumer.
func (f *Feed) read(ctx context.Context) ([]goredis.XMessage, error) {
	streams, err := f.client.XReadGroup(ctx, &goredis.XReadGroupArgs{
		Group: f.cfg.Group, Consumer: f.cfg.Consumer, Streams: []string{f.key, ">"},
		Count: int64(f.cfg.Batch), Block: f.cfg.Block,
	}).Result()
	if errors.Is(err, goredis.Nil) || ctx.Err() != nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis: reading %s as %s in group %s: %w", f.Source, f.cfg.Consumer, f.cfg.Group, err)
	}
	var msgs []goredis.XMessage
	for _, s := range streams {
		msgs = append(msgs, s.Messages...)
	}
	return msgs, nil
}

// claim takes one batch of entries idle for ClaimIdle from other
// consumers.
func (f *Feed) claim(ctx context.Context) ([]goredis.XMessage, error) {
	msgs, _, err := f.client.XAutoClaim(ctx, &goredis.XAutoClaimArgs{
		Stream: f.key, Group: f.cfg.Group, Consumer: f.cfg.Consumer,
		MinIdle: f.cfg.ClaimIdle, Start: "0", Count: int64(f.cfg.Batch),
	}).Result()
	if ctx.Err() != nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis: claiming idle entries of %s in group %s: %w", f.Source, f.cfg.Group, err)
	}
	return msgs, nil
}

func (f *Feed) handle(ctx context.Context, msgs []goredis.XMessage, claimed bool, handle func(context.Context, *Batch) error, acks chan<- []string) error {
	if len(msgs) == 0 {
		return nil
	}
	b := &Batch{Claimed: claimed, Key: fmt.Sprintf("%s/%s+%d", f.key, msgs[0].ID, len(msgs)), Records: len(msgs)}
	b.ids = make([]string, len(msgs))
	records := make([]string, len(msgs))
	for i, m := range msgs {
		b.ids[i] = m.ID
		v, ok := m.Values[f.cfg.Field]
		if !ok && len(m.Values) == 1 {
			for _, only := range m.Values {
				v = only
			}
		}
		// An entry without the record still counts, as a bad line.
		records[i], _ = v.(string)
	}
	b.Lines = joinLines(records)
	if err := handle(ctx, b); err != nil {
		return err
	}
	acks <- b.ids
	return nil
}

func tlsConfig(host string) *tls.Config {
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
}
