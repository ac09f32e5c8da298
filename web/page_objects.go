package web

import "net/http"

// routesObjects registers the objects page.
func (s *Server) routesObjects(rt *router) {
	rt.page("GET /ui/objects", roleReader, s.objectsPage)
}

func (s *Server) objectsPage(w http.ResponseWriter, r *http.Request, u *Session) {
	s.render(w, r, u, "objects.html", nil)
}
