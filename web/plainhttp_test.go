package web

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entente/entente/internal/browsertest"
)

// Under serve --plain-http the console is served over plain HTTP on a
// loopback address, and its cookies are still Secure and __Host-
// prefixed. Chromium keeps such cookies for http://127.0.0.1,
// http://[::1] and http://localhost, which it counts as potentially
// trustworthy origins, so login works there; for any other name it
// drops them, and the login form says to use HTTPS or a loopback address.

// plainServer serves the env's console and TAXII API over plain HTTP on
// addr, a loopback address, as serve --plain-http does.
func (e *env) plainServer(t testing.TB, addr string) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("no loopback listener on %s: %v", addr, err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: e.srv.Config.Handler}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// plainBrowser is a Chromium that resolves every host name to the
// loopback address, so that a page can be opened by a name that is not a
// loopback one while the test still serves it on loopback only.
func plainBrowser(t *testing.T, names ...string) context.Context {
	t.Helper()
	opts := browsertest.Options(t)
	if len(names) > 0 {
		rules := make([]string, len(names))
		for i, n := range names {
			rules[i] = "MAP " + n + " 127.0.0.1"
		}
		opts = append(opts, chromedp.Flag("host-resolver-rules", strings.Join(rules, ", ")))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(func() {
		cancel()
		cancelBrowser()
		cancelAlloc()
	})
	return ctx
}

// TestBrowserPlainHTTPLoopback logs in to the console over plain HTTP at
// each loopback address serve --plain-http may listen on, and out again.
func TestBrowserPlainHTTPLoopback(t *testing.T) {
	e := newEnv(t)
	v4 := e.plainServer(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(v4.Listener.Addr().String())
	for _, base := range []string{
		v4.URL,
		"http://localhost:" + port,
		e.plainServer(t, "[::1]:0").URL,
	} {
		t.Run(strings.TrimPrefix(base, "http://"), func(t *testing.T) {
			ctx := plainBrowser(t)
			err := chromedp.Do(ctx,
				chromedp.Navigate(base+"/ui/objects"),
				chromedp.WaitVisible(chromedp.ID("account")),
				chromedp.SendKeys(chromedp.ID("account"), "reader"),
				chromedp.SendKeys(chromedp.ID("token"), e.tokens["reader"]),
				chromedp.Submit(chromedp.ID("token")),
				chromedp.WaitVisible(chromedp.CSS("form.logout")),
			)
			if err != nil {
				t.Fatalf("logging in over plain HTTP at %s: %v", base, err)
			}
			h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
			if err != nil {
				t.Fatal(err)
			}
			who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who")))
			if err != nil {
				t.Fatal(err)
			}
			if h1 != "Objects" || who != "Logged in as reader (reader)" {
				t.Fatalf("after login at %s the browser shows %q, %q", base, h1, who)
			}
			err = chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS("form.logout button")),
				chromedp.WaitVisible(chromedp.ID("account")),
				chromedp.Navigate(base+"/ui/"),
				chromedp.WaitVisible(chromedp.ID("account")),
			)
			if err != nil {
				t.Fatalf("logging out at %s: %v", base, err)
			}
		})
	}
}

// TestBrowserPlainHTTPOtherName: by a name that is not a loopback one,
// Chromium drops the console's Secure cookies, and the login form says
// so and where to go, rather than that the form expired.
func TestBrowserPlainHTTPOtherName(t *testing.T) {
	e := newEnv(t)
	srv := e.plainServer(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ctx := plainBrowser(t, "entente.test")
	err := chromedp.Do(ctx,
		chromedp.Navigate("http://entente.test:"+port+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("account")),
		chromedp.SendKeys(chromedp.ID("account"), "reader"),
		chromedp.SendKeys(chromedp.ID("token"), e.tokens["reader"]),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[role="alert"]`)))
	if err != nil {
		t.Fatal(err)
	}
	want := "open the console over HTTPS, or at http://127.0.0.1:" + port + "/ui/login, and log in again"
	if !strings.Contains(msg, want) {
		t.Fatalf("the login form says %q; want it to say %q", msg, want)
	}
}

// TestLoginPlainHTTPWithoutCookie: a login posted over plain HTTP
// without the login cookie (dropped: Go's cookie jar, like Chromium,
// keeps Secure cookies over plain HTTP only for a loopback host, and this
// client names the server otherwise) is refused with the message that
// says to use HTTPS or the loopback address; over HTTPS the message
// stays that the form expired.
func TestLoginPlainHTTPWithoutCookie(t *testing.T) {
	e := newEnv(t)
	srv := e.plainServer(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	c := e.anonymous()
	dial := &net.Dialer{}
	c.http = &http.Client{Jar: c.http.Jar, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial.DialContext(ctx, network, srv.Listener.Addr().String())
		}}}
	base := "http://entente.test:" + port
	resp, err := c.http.Get(base + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := c.read(t, resp); status != http.StatusOK {
		t.Fatalf("GET /ui/login over plain HTTP: %d", status)
	}
	if ck := c.http.Jar.Cookies(mustURL(t, base+"/ui/")); len(ck) != 0 {
		t.Fatalf("the jar sends %v over plain HTTP; the test needs one that drops Secure cookies", ck)
	}
	resp, err = c.http.PostForm(base+"/ui/login", url.Values{"account": {"reader"}, "token": {e.tokens["reader"]}, "csrf": {c.csrf}})
	if err != nil {
		t.Fatal(err)
	}
	status, body := c.read(t, resp)
	want := "open the console over HTTPS, or at http://127.0.0.1:" + port + "/ui/login, and log in again"
	if status != http.StatusForbidden || !strings.Contains(text(body), want) {
		t.Errorf("a plain-HTTP login without the cookie: %d\n%s", status, text(body))
	}

	// Over HTTPS, a missing cookie means the form expired.
	c = e.anonymous()
	status, body = c.post(t, "/ui/login", url.Values{"account": {"reader"}, "token": {e.tokens["reader"]}, "csrf": {"x"}})
	if status != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
		t.Errorf("an HTTPS login without the cookie: %d\n%s", status, text(body))
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
