package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
)

// clockOffsetEnv names a hidden test hook: a duration (such as "-10m")
// that entente serve adds to the node's clock, so that tests can run a
// federation in which one node's clock is wrong. It is for tests only and
// is not a documented flag: an operator fixes a wrong clock with NTP.
const clockOffsetEnv = "ENTENTE_CLOCK_OFFSET"

// clockFromEnv returns the node's clock: nil (time.Now) unless
// ENTENTE_CLOCK_OFFSET is set.
func clockFromEnv() (func() time.Time, error) {
	v := os.Getenv(clockOffsetEnv)
	if v == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %v; unset it, or give a duration such as -10m", clockOffsetEnv, v, err)
	}
	return func() time.Time { return time.Now().Add(d) }, nil
}

// openServeStore is openStore for serve, with the store's date_added clock
// skewed as the node's is when now is not nil.
func openServeStore(ctx context.Context, dir string, now func() time.Time) (store.Store, error) {
	if now == nil {
		return openStore(ctx, dir, true)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, dbFile), sqlite.WithClock(now))
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	return st, nil
}
