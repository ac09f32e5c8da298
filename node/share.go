package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/store"
)

// ErrNoParty means a share named a party the agreement does not name as
// another party. Name one of the partners (entente agreement show lists
// them).
var ErrNoParty = errors.New("node: not a partner party under the agreement")

// Share shares the collection that idOrAlias names with party, a partner
// party of agreement a of which self is the node's own party: to read it
// (store.RightRead) or to write into it (store.RightWrite, its inbox). It
// returns the collection; changed is false when the share was held
// already. Nothing is shared by default, so every share is one an
// operator made.
func Share(ctx context.Context, st store.Store, a *agreement.Agreement, self, party, idOrAlias string, r store.Right) (col store.Collection, changed bool, err error) {
	col, err = shareTarget(ctx, st, a, self, party, idOrAlias, r)
	if err != nil {
		return store.Collection{}, false, err
	}
	err = st.AddShare(ctx, store.Share{Party: party, Collection: col.ID, Right: r})
	switch {
	case errors.Is(err, store.ErrExists):
		return col, false, nil
	case err != nil:
		return store.Collection{}, false, fmt.Errorf("node: sharing collection %s with %q: %w", col.ID, party, err)
	}
	return col, true, nil
}

// Unshare takes a share away. changed is false when it was not held. It
// needs no agreement: a share outlives the party's place in one, and must
// still be removable.
func Unshare(ctx context.Context, st store.Store, party, idOrAlias string, r store.Right) (col store.Collection, changed bool, err error) {
	if err := checkShareRight(r); err != nil {
		return store.Collection{}, false, err
	}
	if col, err = FindCollection(ctx, st, idOrAlias); err != nil {
		return store.Collection{}, false, err
	}
	err = st.RemoveShare(ctx, store.Share{Party: party, Collection: col.ID, Right: r})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return col, false, nil
	case err != nil:
		return store.Collection{}, false, fmt.Errorf("node: unsharing collection %s from %q: %w", col.ID, party, err)
	}
	return col, true, nil
}

func checkShareRight(r store.Right) error {
	if r != store.RightRead && r != store.RightWrite {
		return fmt.Errorf("node: right %q: want read or write", r)
	}
	return nil
}

// shareTarget checks a share and finds its collection.
func shareTarget(ctx context.Context, st store.Store, a *agreement.Agreement, self, party, idOrAlias string, r store.Right) (store.Collection, error) {
	if err := checkShareRight(r); err != nil {
		return store.Collection{}, err
	}
	if _, ok := a.Party(party); !ok || party == self {
		var others []string
		for _, p := range a.Parties {
			if p.ID != self {
				others = append(others, p.ID)
			}
		}
		return store.Collection{}, fmt.Errorf("%w: %q (agreement %s version %d; its partner parties are: %s)",
			ErrNoParty, party, a.ID, a.Version, strings.Join(others, ", "))
	}
	return FindCollection(ctx, st, idOrAlias)
}
