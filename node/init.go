package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// What Initialize creates. The API root is named "api1" as in the examples
// of TAXII 2.1 itself, so that scripts written from the specification find
// it where they expect; the first collection is reachable by its alias.
const (
	DefaultAPIRoot         = "api1"
	DefaultCollectionAlias = "default"
	AdminAccount           = "admin"

	// DefaultMaxContentLength is the largest request body the default API
	// root accepts: 16 MiB, room for envelopes of a few thousand objects.
	DefaultMaxContentLength = 16 << 20
)

// Initialized is what Initialize found or created.
type Initialized struct {
	APIRoot      string
	CollectionID string // the first collection of APIRoot
	// AdminToken is the token of the admin account if Initialize created
	// it, shown this once since only its hash is stored; "" otherwise.
	AdminToken string
}

// Initialize brings a store to what a new node holds: the API root
// DefaultAPIRoot, one collection in it and the admin account AdminAccount.
// It creates only what is missing, so it is safe on every start, and a
// first start that was interrupted midway completes on the next one.
func Initialize(ctx context.Context, st store.Store, now time.Time) (*Initialized, error) {
	err := st.CreateAPIRoot(ctx, store.APIRoot{
		Path:             DefaultAPIRoot,
		Title:            "Default API root",
		Description:      "Created when this node was initialized.",
		MaxContentLength: DefaultMaxContentLength,
	})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return nil, fmt.Errorf("node: creating API root %q: %w", DefaultAPIRoot, err)
	}
	ini := &Initialized{APIRoot: DefaultAPIRoot}

	cols, err := st.Collections(ctx, DefaultAPIRoot)
	if err != nil {
		return nil, fmt.Errorf("node: listing the collections of %q: %w", DefaultAPIRoot, err)
	}
	if len(cols) == 0 {
		// Several processes of one node may start together on an empty
		// store: the one whose collection takes the alias first wins, and
		// the others use it.
		_, err := CreateCollection(ctx, st, DefaultAPIRoot, "Default collection", DefaultCollectionAlias)
		if err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
		if cols, err = st.Collections(ctx, DefaultAPIRoot); err != nil {
			return nil, fmt.Errorf("node: listing the collections of %q: %w", DefaultAPIRoot, err)
		}
	}
	ini.CollectionID = cols[0].ID

	switch _, err := st.Account(ctx, AdminAccount); {
	case errors.Is(err, store.ErrNotFound):
		ini.AdminToken, err = CreateAccount(ctx, st, AdminAccount, store.RoleAdmin, now)
		if errors.Is(err, store.ErrExists) {
			// Another process created it meanwhile, and shows its token.
			ini.AdminToken, err = "", nil
		}
		if err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("node: looking up account %q: %w", AdminAccount, err)
	}
	return ini, nil
}

// CreateCollection creates a collection of STIX 2.1 objects in an API root
// and returns its id, a new UUIDv4 (TAXII 2.1 §5.2.1). alias may be empty.
func CreateCollection(ctx context.Context, st store.Store, apiRoot, title, alias string) (string, error) {
	if title == "" {
		return "", errors.New("node: a collection needs a title")
	}
	if alias != "" {
		if err := validAlias(alias); err != nil {
			return "", err
		}
	}
	id := uuid.NewString()
	err := st.CreateCollection(ctx, store.Collection{
		ID:         id,
		APIRoot:    apiRoot,
		Title:      title,
		Alias:      alias,
		MediaTypes: []string{taxii.STIXMediaType},
	})
	if err != nil {
		return "", fmt.Errorf("node: creating collection %q in API root %q: %w", title, apiRoot, err)
	}
	return id, nil
}

// validAlias keeps aliases to what fits in a URL path segment unescaped,
// since clients put them where a collection id goes.
func validAlias(alias string) error {
	if len(alias) > 100 {
		return fmt.Errorf("node: alias %q is longer than 100 characters", alias)
	}
	for i, r := range alias {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return fmt.Errorf("node: alias %q: character %q at position %d is not allowed; use letters, digits, '-', '_' and '.'", alias, r, i)
		}
	}
	if strings.Trim(alias, ".") == "" {
		return fmt.Errorf("node: alias %q is a relative path segment; include a letter or digit", alias)
	}
	if _, err := uuid.Parse(alias); err == nil {
		return fmt.Errorf("node: alias %q looks like a collection id; pick a name that does not", alias)
	}
	return nil
}

// PrepareDataDir creates a node's data directory, readable by its owner
// only, or takes group and other access away from an existing one: it
// holds the node key, token hashes and every object.
func PrepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("node: creating the data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("node: data directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("node: data directory %s is not a directory; give --data a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, perm&0o700|0o700); err != nil {
			return fmt.Errorf("node: data directory: %w; hint: make %s accessible by its owner only (chmod 700)", err, dir)
		}
	}
	return nil
}
