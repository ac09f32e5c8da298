package web

import "net/http"

// routesOverview registers the overview page.
func (s *Server) routesOverview(rt *router) {
	rt.page("GET /ui/{$}", roleReader, s.overviewPage)
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request, u *Session) {
	s.render(w, r, u, "overview.html", nil)
}
