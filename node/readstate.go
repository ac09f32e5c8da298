package node

import (
	"context"
	"strconv"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// ReadState is what a caller's reads of a collection's objects depend on,
// beside the clock: a reader that keeps something it derived from them
// (a rendered export) may reuse it while a fresh ReadState for the same
// caller equals the one taken before deriving it.
type ReadState struct {
	// Collection is the collection's id, whether it was named by id or
	// by alias.
	Collection string
	// Objects changes with every version stored in or deleted from the
	// collection.
	Objects store.CollectionState
	// Agreement names the agreement in force and its version, "" when
	// the node works under none: an amendment may release otherwise.
	Agreement string
}

// Equal reports whether s and t are the same state.
func (s ReadState) Equal(t ReadState) bool {
	return s.Collection == t.Collection && s.Agreement == t.Agreement && s.Objects.Equal(t.Objects)
}

// ReadState decides whether c may read the collection that idOrAlias names
// in root, as Objects does, with the same errors, and returns the state of
// what its reads would return. It costs two small reads of the store (c's
// grants and the collection's row), whatever the collection holds. Take it
// before deriving anything from Objects: what Objects then returns is at
// least as new as the state, so a derived value is never marked newer
// than what it holds.
func (n *Node) ReadState(ctx context.Context, c *taxii.Caller, root, idOrAlias string) (ReadState, error) {
	col, err := n.collection(ctx, c, root, idOrAlias, ActionRead)
	if err != nil {
		return ReadState{}, err
	}
	st := ReadState{Collection: col.ID}
	if f := n.fed.Load(); f != nil {
		st.Agreement = f.agreement.ID + " version " + strconv.Itoa(f.agreement.Version)
	}
	if st.Objects, err = n.store.CollectionState(forCaller(ctx, c), col.ID); err != nil {
		return ReadState{}, notFound(err, "the state of collection %q", col.ID)
	}
	return st, nil
}
