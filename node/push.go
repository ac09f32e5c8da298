package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/entente/entente/federation"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// A Pusher queues items for a partner node's inbox (a federation.Link's
// Enqueue) and reports whether a link to that node runs.
type Pusher func(node string, items ...federation.Incoming) bool

// SetPusher gives the node the links through which it pushes urgent items
// to partner nodes. Without one (or for a node without a running link) a
// partner gets them by its own pull.
func (n *Node) SetPusher(p Pusher) { n.pusher.Store(&p) }

// revocation is a revoking version the node's own accounts stored.
type revocation struct {
	col store.Collection
	id  string
}

// revocations returns the versions of puts, stored anew, that revoke an
// object ("revoked": true).
func revocations(col store.Collection, puts []store.Put, outcomes []store.AddOutcome) []revocation {
	var out []revocation
	for i, p := range puts {
		if i >= len(outcomes) || outcomes[i].Err != nil || outcomes[i].Duplicate {
			continue
		}
		raw := p.Object.Raw
		if !bytes.Contains(raw, []byte(`"revoked"`)) {
			continue
		}
		var head struct {
			Revoked bool `json:"revoked"`
		}
		if json.Unmarshal(raw, &head) == nil && head.Revoked {
			out = append(out, revocation{col: col, id: p.Object.ID})
		}
	}
	return out
}

// pushRevocations sends each revocation to exactly the partner nodes that
// received a version of the object it revokes (Disclosed), as the node
// releases it to each (release: policy, disclosure entry), into their
// inboxes. Failures are logged: the partners' pulls are the fallback.
func (n *Node) pushRevocations(ctx context.Context, rs []revocation) {
	pp := n.pusher.Load()
	if pp == nil || len(rs) == 0 {
		return
	}
	push := *pp
	for _, r := range rs {
		if err := n.pushRevocation(ctx, push, r); err != nil {
			n.log.WarnContext(ctx, "federation: pushing a revocation; partners will pull it",
				slog.String("id", r.id), slog.Any("error", err))
		}
	}
}

func (n *Node) pushRevocation(ctx context.Context, push Pusher, r revocation) error {
	ds, err := n.Disclosed(ctx, "", r.id)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, d := range ds {
		if seen[d.Node] {
			continue
		}
		seen[d.Node] = true
		c := &taxii.Caller{Name: d.Node, Role: taxii.RolePartner, Party: d.Party, Node: d.Node}
		page, err := n.release(ctx, c, r.col, store.Query{Collection: r.col.ID, IDs: []string{r.id},
			Versions: store.VersionFilter{Last: true}, SpecVersions: nil, Limit: 1})
		if err != nil {
			return fmt.Errorf("node: releasing the revocation of %s to %s: %w", r.id, d.Node, err)
		}
		for _, it := range page.Items {
			if push(d.Node, federation.Incoming{Object: it.Object, Provenance: it.Provenance}) {
				n.log.InfoContext(ctx, "federation: pushing a revocation", slog.String("id", r.id),
					slog.String("party", d.Party), slog.String("node", d.Node))
			}
		}
	}
	return nil
}
