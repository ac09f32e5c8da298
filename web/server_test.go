package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestLoginAndLogout(t *testing.T) {
	e := newEnv(t)
	c := e.anonymous()
	// A page without a session goes to the login form, which remembers it.
	status, body := c.get(t, "/ui/objects")
	if status != http.StatusOK || !strings.Contains(body, "<h1>Log in</h1>") || !strings.Contains(body, `name="next" value="/ui/objects"`) {
		t.Fatalf("GET /ui/objects without a session: %d\n%s", status, body)
	}
	status, body = c.post(t, "/ui/login", url.Values{"account": {"admin"}, "token": {e.tokens["reader"]}})
	if status != http.StatusUnauthorized || !strings.Contains(body, "The account name or token is wrong.") {
		t.Fatalf("login with another account's token: %d\n%s", status, body)
	}
	status, body = c.post(t, "/ui/login", url.Values{"account": {"admin"}, "token": {e.tokens["admin"]}, "next": {"/ui/objects"}})
	if status != http.StatusOK || !strings.Contains(body, "<h1>Objects</h1>") || !strings.Contains(body, "Logged in as admin (admin)") {
		t.Fatalf("login: %d\n%s", status, body)
	}
	status, body = c.post(t, "/ui/logout", nil)
	if status != http.StatusOK || !strings.Contains(body, "<h1>Log in</h1>") {
		t.Fatalf("logout: %d\n%s", status, body)
	}
	if status, body = c.get(t, "/ui/"); !strings.Contains(body, "<h1>Log in</h1>") {
		t.Fatalf("the overview after logout: %d\n%s", status, body)
	}
}

func TestLoginNextStaysInConsole(t *testing.T) {
	for next, want := range map[string]string{
		"/ui/cases":              "/ui/cases",
		"https://evil.example/":  "/ui/",
		"//evil.example/ui/":     "/ui/",
		"/taxii2/":               "/ui/",
		"/ui/\r\nSet-Cookie: x=": "/ui/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestSessionCookieFlags(t *testing.T) {
	e := newEnv(t)
	c := e.anonymous()
	c.get(t, "/ui/login")
	form := url.Values{"account": {"reader"}, "token": {e.tokens["reader"]}, "csrf": {c.csrf}}
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.http.PostForm(e.srv.URL+"/ui/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name != sessionCookie {
			continue
		}
		found = true
		if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" || len(ck.Value) < 40 {
			t.Errorf("session cookie %+v: want HttpOnly, Secure, SameSite=Strict, Path=/, no Domain, a long random value", ck)
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !found {
		t.Fatalf("login answered %d, session cookie set: %v", resp.StatusCode, found)
	}
}

// TestEveryPageHasSecurityHeaders walks every GET route as the admin, and
// the login and error pages without a session.
func TestEveryPageHasSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	admin := e.login(t, "admin")
	paths := []string{"/ui/login", "/ui/no-such-page", "/ui/static/app.css"}
	for _, r := range e.console.routeList {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if method != "GET" || strings.Contains(path, "{") && !strings.HasSuffix(path, "{$}") {
			continue
		}
		paths = append(paths, strings.TrimSuffix(path, "{$}"))
	}
	for _, p := range paths {
		resp, err := admin.http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", p, h)
		}
		if !strings.HasPrefix(p, "/ui/static/") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", p, h.Get("Cache-Control"))
		}
	}
}

// TestEveryFormNeedsItsCSRFToken posts to every POST route with a valid
// session but no token, another session's token, and a cross-site
// Origin; each is refused, and the session still works after.
func TestEveryFormNeedsItsCSRFToken(t *testing.T) {
	e := newEnv(t)
	admin := e.login(t, "admin")
	other := e.login(t, "analyst")
	var posts int
	for _, r := range e.console.routeList {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if method != "POST" || r.Least == 0 {
			continue
		}
		posts++
		path = strings.NewReplacer("{id}", "x", "{name}", "x", "{$}", "").Replace(path)
		for name, form := range map[string]url.Values{
			"no token":              {"csrf": {""}},
			"another session token": {"csrf": {other.csrf}},
		} {
			status, body := admin.post(t, path, form)
			if status != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
				t.Errorf("POST %s with %s: %d, want 403\n%s", path, name, status, body)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(url.Values{"csrf": {admin.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := admin.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s from another origin: %d, want 403", path, resp.StatusCode)
		}
	}
	if posts == 0 {
		t.Fatal("no POST route registered")
	}
	if status, body := admin.get(t, "/ui/"); status != http.StatusOK || !strings.Contains(body, "Logged in as admin") {
		t.Fatalf("the session after refused forms: %d", status)
	}
	// The login form has its own token.
	anon := e.anonymous()
	status, _ := anon.post(t, "/ui/login", url.Values{"account": {"admin"}, "token": {e.tokens["admin"]}, "csrf": {"forged"}})
	if status != http.StatusForbidden {
		t.Fatalf("login without the login form's token: %d, want 403", status)
	}
}

// TestRolesGatePages checks every route's least role against each role.
func TestRolesGatePages(t *testing.T) {
	e := newEnv(t)
	clients := map[role]*client{roleReader: e.login(t, "reader"), roleAnalyst: e.login(t, "analyst"), roleAdmin: e.login(t, "admin")}
	var gated int
	for _, r := range e.console.routeList {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if method != "GET" || r.Least <= roleReader || strings.Contains(path, "{") {
			continue
		}
		gated++
		for ro, c := range clients {
			status, _ := c.get(t, path)
			if allowed := ro >= r.Least; allowed != (status == http.StatusOK) {
				t.Errorf("GET %s as role %d: %d", path, ro, status)
			}
		}
	}
	if gated == 0 {
		t.Fatal("no page needs more than the reader role")
	}
}

// TestSessionsAreSeparate: a session acts only as its own account, and a
// session of a removed account ends.
func TestSessionsAreSeparate(t *testing.T) {
	e := newEnv(t)
	reader := e.login(t, "reader")
	admin := e.login(t, "admin")
	if status, _ := reader.get(t, "/ui/accounts"); status != http.StatusForbidden {
		t.Fatalf("the reader opened the accounts page: %d", status)
	}
	// The admin's CSRF token in the reader's session acts as nobody.
	status, _ := reader.post(t, "/ui/logout", url.Values{"csrf": {admin.csrf}})
	if status != http.StatusForbidden {
		t.Fatalf("the reader's session took the admin's CSRF token: %d", status)
	}
	if _, body := admin.get(t, "/ui/"); !strings.Contains(body, "Logged in as admin (admin)") {
		t.Fatal("the admin's session changed")
	}
	if _, body := reader.get(t, "/ui/"); !strings.Contains(body, "Logged in as reader (reader)") {
		t.Fatal("the reader's session changed")
	}
}

// TestBrowserLogin logs in and out in a real Chromium.
func TestBrowserLogin(t *testing.T) {
	e := newEnv(t)
	ctx := e.browser(t)
	e.browserLogin(t, ctx, "analyst")
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who")))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.ID("account"))); err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if who != "Logged in as analyst (analyst)" || h1 != "Log in" {
		t.Fatalf("the browser showed %q, then %q", who, h1)
	}
}

// TestBadCursorRefused: a page cursor that is not one the page made (not
// a number, or negative) is answered 400 with a message that says to
// start again, on every page that pages, never with the first page as if
// it were the one asked for.
func TestBadCursorRefused(t *testing.T) {
	e := newEnv(t)
	e.grantCases(t)
	c := e.login(t, "admin")
	for _, path := range []string{
		"/ui/ledger?after=x",
		"/ui/ledger?after=-1",
		"/ui/ledger?after=9223372036854775808",
		"/ui/cases?after=x",
		"/ui/cases?after=-3",
		"/ui/objects?collection=" + e.collection + "&cursor=x",
		"/ui/detection?c=" + e.collection + "&after=x",
	} {
		status, body := c.get(t, path)
		if status != http.StatusBadRequest || !strings.Contains(text(body), "start again from the first page") {
			t.Errorf("GET %s: %d, want 400 saying to start again\n%s", path, status, text(body))
		}
	}
	for _, path := range []string{"/ui/ledger", "/ui/ledger?after=", "/ui/ledger?after=0", "/ui/cases", "/ui/cases?after=0"} {
		if status, body := c.get(t, path); status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200\n%s", path, status, text(body))
		}
	}
}

// FuzzAfterCursor: afterCursor accepts the first page and what a Next
// link carries, and nothing that would list from a negative position.
func FuzzAfterCursor(f *testing.F) {
	for _, s := range []string{"", "0", "12", "-1", "x", "9223372036854775807", "9223372036854775808", "+5", " 5", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest(http.MethodGet, "/ui/ledger", nil)
		r.URL.RawQuery = url.Values{"after": {v}}.Encode()
		after, ok := afterCursor(r)
		switch {
		case !ok && v == "":
			t.Fatal("the first page is refused")
		case ok && after < 0:
			t.Fatalf("%q: accepted as %d", v, after)
		case ok && v == "" && after != 0:
			t.Fatalf("the first page reads as %d", after)
		}
		if !ok {
			return
		}
		// The Next link made from it reads back the same.
		r.URL.RawQuery = url.Values{"after": {strconv.FormatInt(after, 10)}}.Encode()
		if again, ok := afterCursor(r); !ok || again != after {
			t.Fatalf("%q: the link for %d reads back as %d, %v", v, after, again, ok)
		}
	})
}
