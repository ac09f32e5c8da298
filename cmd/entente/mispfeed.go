package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/entente/entente/misp/misphttp"
)

// withMISPFeed serves each authenticated caller a MISP feed of every
// collection it may read, under /misp/<api root>/<collection>/, from the
// node's TAXII read path (so the same rights and release policy apply),
// and sends every other request to next.
func withMISPFeed(next http.Handler, backend misphttp.Backend, logger *slog.Logger) http.Handler {
	feeds := misphttp.NewServer(backend, misphttp.Config{Logger: logger})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, misphttp.Prefix) {
			feeds.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
