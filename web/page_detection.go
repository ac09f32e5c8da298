package web

import "net/http"

// routesDetection registers the detection page.
func (s *Server) routesDetection(rt *router) {
	rt.page("GET /ui/detection", roleReader, s.detectionPage)
}

func (s *Server) detectionPage(w http.ResponseWriter, r *http.Request, u *Session) {
	s.render(w, r, u, "detection.html", nil)
}
