package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/entente/entente/store"
	"github.com/entente/entente/store/postgres"
	"github.com/entente/entente/store/sqlite"
)

// storeEnv names the environment variable that gives --store when the flag
// is not set.
const storeEnv = "ENTENTE_STORE"

// dataFlags adds --data and --store to a command's flags: every command
// that opens a node's store takes both. The node key and the other files
// stay in --data whichever store holds the node.
func dataFlags(fs *flag.FlagSet) (dir, storeURL *string) {
	dir = fs.String("data", defaultDataDir, "the node's data `directory`: its key and files, and its SQLite store unless --store")
	// The default is read when the store opens, not shown here: the URL
	// may hold a password, which usage messages must not print.
	storeURL = fs.String("store", "", "the node's store: a postgres:// `URL` (default $"+storeEnv+"; if neither, SQLite in --data)")
	return dir, storeURL
}

// openStore opens a node's store: the PostgreSQL database that storeURL
// (or $ENTENTE_STORE) names, with opts, or else the SQLite database in dir. Unless
// create is set, the store must hold a node already: the administration
// commands work on a node that serve initialized.
func openStore(ctx context.Context, dir, storeURL string, create bool, opts ...postgres.Option) (store.Store, error) {
	if storeURL == "" {
		storeURL = os.Getenv(storeEnv)
	}
	if storeURL == "" && len(opts) > 0 {
		return nil, usageError("--store-replica needs --store (or $%s): a replica serves a PostgreSQL store", storeEnv)
	}
	if storeURL == "" {
		path := filepath.Join(dir, dbFile)
		if !create {
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s holds no node; run 'entente serve --data %s' once to initialize it", dir, dir)
			}
		}
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("opening the store: %w", err)
		}
		return st, nil
	}
	if !strings.HasPrefix(storeURL, "postgres://") && !strings.HasPrefix(storeURL, "postgresql://") {
		return nil, usageError("--store (or $%s) %q: want a postgres:// URL, such as postgres://entente@db.example/entente, or nothing for SQLite in --data", storeEnv, redactURL(storeURL))
	}
	st, err := postgres.Open(ctx, storeURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("opening the store %s: %w", redactURL(storeURL), err)
	}
	if !create {
		roots, err := st.APIRoots(ctx)
		if err == nil && len(roots) == 0 {
			err = fmt.Errorf("the store %s holds no node; run 'entente serve --data DIR --store URL' once to initialize it", redactURL(storeURL))
		}
		if err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}

// redactURL hides the password of a database URL, for messages.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if slash := strings.Index(rest, "/"); slash >= 0 && at > slash {
		at = -1 // an @ in the path, not in the credentials
	}
	if at < 0 {
		return u
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return u
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
