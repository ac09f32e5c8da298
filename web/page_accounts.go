package web

import "net/http"

// routesAccounts registers the accounts page.
func (s *Server) routesAccounts(rt *router) {
	rt.page("GET /ui/accounts", roleAdmin, s.accountsPage)
}

func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request, u *Session) {
	s.render(w, r, u, "accounts.html", nil)
}
