package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/message"
)

// pageTemplate is a page's template set: the layout and the page.
type pageTemplate struct {
	t *template.Template
}

// parsePages parses every page, templates/*.html but the layout and the
// partials, with the layout and the partials (templates/_*.html: the
// templates that several pages share).
func parsePages(funcs template.FuncMap) (map[string]*pageTemplate, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	partials, err := fs.Glob(templateFS, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*pageTemplate{}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		files := append([]string{"templates/layout.html", name}, partials...)
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("web: parsing %s: %w", name, err)
		}
		pages[base] = &pageTemplate{t: t}
	}
	return pages, nil
}

// view is what layout.html and every page template execute on.
type view struct {
	Session *Session // nil on the login and error pages before login
	CSRF    string   // the form token: the session's, or the login form's
	Data    any
	Path    string // the request's path, to mark the current page in the menu
	Now     time.Time
	Status  int
}

// Nav is the menu: path, label (a catalog key) and the least role.
type navItem struct {
	Path, Label string
	Least       role
}

var nav = []navItem{
	{Prefix, "Overview", roleReader},
	{Prefix + "objects", "Objects", roleReader},
	{Prefix + "agreement", "Agreement", roleReader},
	{Prefix + "cases", "Cases", roleReader},
	{Prefix + "ledger", "Ledger", roleReader},
	{Prefix + "detection", "Detection", roleReader},
	{Prefix + "accounts", "Accounts", roleAdmin},
}

// Nav returns the menu entries the session's account may open.
func (v *view) Nav() []navItem {
	if v.Session == nil {
		return nil
	}
	var out []navItem
	for _, n := range nav {
		if v.Session.role >= n.Least {
			out = append(out, n)
		}
	}
	return out
}

// Current reports whether p is the page shown (or a page under it).
func (v *view) Current(p string) bool {
	if p == Prefix {
		return v.Path == Prefix
	}
	return v.Path == p || strings.HasPrefix(v.Path, p+"/")
}

// printer returns the message printer of the console's language. It is
// made once, in New: a Printer does not change once made, so every
// request and every {{t}} of a page shares it.
func (s *Server) printer() *message.Printer {
	return s.p
}

// render writes page with data for u, with status 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, u *Session, page string, data any) {
	s.renderStatus(w, r, u, http.StatusOK, page, data, "")
}

// renderStatus executes the page into a buffer first, so that a template
// error becomes a clean error page rather than half a page.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, u *Session, status int, page string, data any, csrf string) {
	pt, ok := s.pages[page]
	if !ok {
		s.log.ErrorContext(r.Context(), "console: no such template", "page", page)
		http.Error(w, "no such page template", http.StatusInternalServerError)
		return
	}
	if u != nil && csrf == "" {
		csrf = u.CSRF
	}
	v := &view{Session: u, CSRF: csrf, Data: data, Path: r.URL.Path, Now: s.now(), Status: status}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.ErrorContext(r.Context(), "console: rendering", "page", page, "error", err)
		http.Error(w, "the page failed to render; the error is in the node's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

type failData struct {
	Message string
}

// fail renders the error page with status and a message for the operator.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, u *Session, status int, msg string) {
	s.renderStatus(w, r, u, status, "error.html", failData{Message: msg}, "")
}

// afterCursor reads the "after" cursor of a page that lists by sequence
// number or size: absent, it is the first page's (0); ok is false for a
// value no Next link carries, which the page answers with badCursor.
func afterCursor(r *http.Request) (after int64, ok bool) {
	v := r.URL.Query().Get("after")
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// badCursor answers a page cursor the console did not make: 400, saying
// to start again, rather than a first page shown as if it were the page
// asked for.
func (s *Server) badCursor(w http.ResponseWriter, r *http.Request, u *Session) {
	s.fail(w, r, u, http.StatusBadRequest, u.T("The page's cursor is malformed; start again from the first page."))
}

// funcs are the template functions.
func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		// t looks key up in the message catalog and formats args into it.
		"t": func(key string, args ...any) string { return s.printer().Sprintf(key, args...) },
		// when shows a time in UTC, in a <time> element app.js adds the
		// operator's zone to; the zero time shows as a dash.
		"when": func(t time.Time) template.HTML {
			if t.IsZero() {
				return "—"
			}
			u := t.UTC()
			local := t.In(s.zone)
			return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time>`,
				u.Format(time.RFC3339), template.HTMLEscapeString(local.Format("2006-01-02 15:04 MST")),
				u.Format("2006-01-02 15:04 UTC")))
		},
		// ago says how long before now t was, in the largest unit.
		"ago": func(t time.Time) string { return s.ago(t) },
		// short shortens a STIX id or hash for a table cell.
		"short": func(id string) string {
			if len(id) <= 20 {
				return id
			}
			if i := strings.Index(id, "--"); i >= 0 && len(id) > i+10 {
				return id[:i+10] + "…"
			}
			return id[:16] + "…"
		},
		"csrfToken": func(v *view) string { return v.CSRF },
	}
}

// ago says how long before now t was.
func (s *Server) ago(t time.Time) string {
	p := s.printer()
	if t.IsZero() {
		return p.Sprintf("never")
	}
	d := s.now().Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var out string
	switch {
	case d < time.Minute:
		out = p.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		out = p.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		out = p.Sprintf("%d h", int(d/time.Hour))
	default:
		out = p.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	if future {
		return p.Sprintf("in %s", out)
	}
	return p.Sprintf("%s ago", out)
}
