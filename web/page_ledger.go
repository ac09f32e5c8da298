package web

import "net/http"

// routesLedger registers the ledger page.
func (s *Server) routesLedger(rt *router) {
	rt.page("GET /ui/ledger", roleReader, s.ledgerPage)
}

func (s *Server) ledgerPage(w http.ResponseWriter, r *http.Request, u *Session) {
	s.render(w, r, u, "ledger.html", nil)
}
