package web

import "net/http"

// routesCases registers the cases page.
func (s *Server) routesCases(rt *router) {
	rt.page("GET /ui/cases", roleReader, s.casesPage)
}

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request, u *Session) {
	s.render(w, r, u, "cases.html", nil)
}
