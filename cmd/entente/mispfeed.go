package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/entente/entente/misp/misphttp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// withMISPFeed serves each authenticated caller a MISP feed of every
// collection it may read, under /misp/<api root>/<collection>/, from the
// node's TAXII read path (so the same rights and release policy apply),
// and sends every other request to next.
func withMISPFeed(next http.Handler, n *node.Node, logger *slog.Logger) http.Handler {
	feeds := misphttp.NewServer(mispBackend{n}, misphttp.Config{Logger: logger})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, misphttp.Prefix) {
			feeds.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// mispBackend is the node as the feed server's backend, with the node's
// ReadState as the feed's state, so that a built feed is kept exactly
// while what it was built from is unchanged.
type mispBackend struct{ *node.Node }

var _ misphttp.StateReader = mispBackend{}

func (b mispBackend) State(ctx context.Context, c *taxii.Caller, root, collection string) (string, error) {
	if c.Role == taxii.RolePartner {
		return "", nil // what a partner reads also depends on what it was sent before
	}
	st, err := b.ReadState(ctx, c, root, collection)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d %d %s", st.Collection, st.Objects.LastAdded.UnixMicro(), st.Objects.Versions, st.Agreement), nil
}
