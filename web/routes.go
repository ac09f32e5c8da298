package web

import "net/http"

// routes registers every page. Each page's routes are in its own file.
func (s *Server) routes(rt *router) {
	rt.public("GET /ui/login", s.loginPage)
	rt.public("POST /ui/login", s.login)
	rt.page("POST /ui/logout", roleReader, s.logout)
	rt.public("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
	})
	s.routesOverview(rt)
	s.routesObjects(rt)
	s.routesAgreement(rt)
	s.routesCases(rt)
	s.routesLedger(rt)
	s.routesDetection(rt)
	s.routesAccounts(rt)
	// Anything else under /ui/ is a page that does not exist.
	rt.page("/ui/", roleReader, func(w http.ResponseWriter, r *http.Request, u *Session) {
		s.fail(w, r, u, http.StatusNotFound, u.T("This page does not exist."))
	})
}
