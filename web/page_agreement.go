package web

import "net/http"

// routesAgreement registers the agreement page.
func (s *Server) routesAgreement(rt *router) {
	rt.page("GET /ui/agreement", roleReader, s.agreementPage)
}

func (s *Server) agreementPage(w http.ResponseWriter, r *http.Request, u *Session) {
	s.render(w, r, u, "agreement.html", nil)
}
