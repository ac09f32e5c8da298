package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/entente/entente/store"
)

var _ store.Elector = (*Store)(nil)

// leaderPoll is how often a process that does not hold a role tries to
// take it, and how often the holder checks that it still holds it: a
// holder that dies loses the role as soon as PostgreSQL sees its
// connection close (at once for a killed process), and another takes it
// within leaderPoll.
const leaderPoll = 500 * time.Millisecond

// leaderKey is the advisory lock key of a role.
func leaderKey(role string) int64 {
	h := fnv.New64a()
	h.Write([]byte("entente leader " + role))
	return int64(h.Sum64())
}

// Lead implements store.Elector with a session-level advisory lock, held
// by a connection taken out of the pool for as long as the role is held:
// PostgreSQL releases the lock when that connection's session ends, which
// is when the process dies or loses the database.
func (s *Store) Lead(ctx context.Context, role string) (context.Context, func(), error) {
	key := leaderKey(role)
	for {
		pc, err := s.pool.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			return nil, nil, fmt.Errorf("postgres: electing the %s leader: %w", role, err)
		}
		conn := pc.Hijack() // the session holds the lock: keep it out of the pool
		for {
			var got bool
			if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
				conn.Close(context.Background())
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				break // a new connection, after a pause
			}
			if got {
				held, lose := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() {
					defer close(done)
					t := time.NewTicker(leaderPoll)
					defer t.Stop()
					for {
						select {
						case <-held.Done():
							return
						case <-t.C:
						}
						pctx, cancel := context.WithTimeout(held, leaderPoll)
						err := conn.Ping(pctx)
						cancel()
						if err != nil {
							lose()
							return
						}
					}
				}()
				release := func() {
					lose()
					<-done
					// Closing the session releases the lock.
					conn.Close(context.Background())
				}
				return held, release, nil
			}
			select {
			case <-ctx.Done():
				conn.Close(context.Background())
				return nil, nil, ctx.Err()
			case <-time.After(leaderPoll):
			}
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(leaderPoll):
		}
	}
}
