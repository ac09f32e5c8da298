package web

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/internal/browsertest"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/store/sqlite"
	"github.com/entente/entente/taxii"
)

// env is a real node (SQLite, the trilateral example agreement, as
// Arcadia's node) whose console and TAXII API a TLS test server serves.
type env struct {
	t          testing.TB
	n          *node.Node
	st         store.Store
	tr         *node.Transparency
	ini        *node.Initialized
	console    *Server
	srv        *httptest.Server
	agreement  *agreement.Agreement
	tokens     map[string]string // account name → token
	collection string            // the default collection's id
}

// The example node this env runs as.
const (
	envNode  = "arcadia-node-1"
	envParty = "arcadia"
)

// newEnv starts a node with accounts admin, analyst and reader (the
// reader and the analyst hold read, the analyst also write, on the
// default collection). Options (envOption) change its defaults.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	cfg := envConfig{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "entente.db"), sqlite.WithClock(cfg.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ini, err := node.Initialize(ctx, st, cfg.now())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := examples.FS.ReadFile(examples.Trilateral)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	skey, err := examples.FS.ReadFile("keys/" + envNode + ".key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := node.ParseKey(string(skey))
	if err != nil {
		t.Fatal(err)
	}
	_, self, ok := a.Node(envNode)
	if !ok {
		t.Fatalf("the example agreement has no node %s", envNode)
	}
	n, err := node.New(ctx, node.Config{Store: st, Key: key, LogName: self.Log, Agreement: a, Self: envNode, Now: cfg.now})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := node.NewTransparency(n, node.TransparencyConfig{Cosigner: key.Cosigner(cfg.now)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Node: n, Transparency: tr, Secret: key.Secret("console"), Zone: time.UTC, Now: cfg.now, Language: cfg.lang})
	if err != nil {
		t.Fatal(err)
	}
	api := taxii.NewServer(n, taxii.Config{TokenKey: key.Secret("taxii next token")})
	e := &env{t: t, n: n, st: st, tr: tr, ini: ini, console: c, agreement: a,
		tokens: map[string]string{"admin": ini.AdminToken}, collection: ini.CollectionID}
	for _, acct := range []struct {
		name  string
		role  store.Role
		grant []store.Right
	}{
		{"analyst", store.RoleAnalyst, []store.Right{store.RightRead, store.RightWrite}},
		{"reader", store.RoleReader, []store.Right{store.RightRead}},
	} {
		tok, err := node.CreateAccount(ctx, st, acct.name, acct.role, cfg.now())
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[acct.name] = tok
		for _, r := range acct.grant {
			if _, _, err := node.Grant(ctx, st, acct.name, ini.CollectionID, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, Prefix) {
			c.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

// add stores objects (STIX JSON) in the default collection as the admin.
func (e *env) add(objs ...string) {
	e.t.Helper()
	raws := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		raws[i] = json.RawMessage(o)
	}
	st, err := e.n.AddObjects(context.Background(), &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}, node.DefaultAPIRoot, e.collection, raws)
	if err != nil {
		e.t.Fatal(err)
	}
	if st.FailureCount > 0 {
		e.t.Fatalf("adding objects: %+v", st.Failures)
	}
}

// client is a browser-like HTTP client: it keeps cookies and follows
// redirects.
type client struct {
	e    *env
	http *http.Client
	csrf string // the CSRF token the last page carried
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// anonymous returns a client that has not logged in.
func (e *env) anonymous() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	// A copy: srv.Client returns one shared client.
	hc := *e.srv.Client()
	hc.Jar = jar
	return &client{e: e, http: &hc}
}

// login logs in as account (admin, analyst or reader) through the login
// form and fails the test unless the overview follows.
func (e *env) login(t testing.TB, account string) *client {
	t.Helper()
	c := e.anonymous()
	if status, body := c.get(t, "/ui/login"); status != http.StatusOK {
		t.Fatalf("GET /ui/login: %d\n%s", status, body)
	}
	status, body := c.post(t, "/ui/login", url.Values{"account": {account}, "token": {e.tokens[account]}})
	if status != http.StatusOK || !strings.Contains(body, "<h1>Overview</h1>") {
		t.Fatalf("logging in as %s: %d\n%s", account, status, body)
	}
	return c
}

// get fetches path and returns the final status and body.
func (c *client) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := c.http.Get(c.e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return c.read(t, resp)
}

// post submits form to path with the CSRF token of the last page read.
func (c *client) post(t testing.TB, path string, form url.Values) (int, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && c.csrf != "" {
		form.Set("csrf", c.csrf)
	}
	resp, err := c.http.PostForm(c.e.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return c.read(t, resp)
}

func (c *client) read(t testing.TB, resp *http.Response) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b)
}

// browserEnv is the variable that makes a missing Chromium a failure, as
// CI sets it, rather than a reason to skip.
const browserEnv = browsertest.Env

// spki is the base64 SHA-256 of a certificate's public key, the form
// Chromium's --ignore-certificate-errors-spki-list takes: the browser
// trusts this one certificate by its fingerprint, and checks all else.
func spki(cert *x509.Certificate) string {
	h := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(h[:])
}

// browser returns a chromedp context on a headless Chromium that trusts
// the test server's certificate by its fingerprint.
func (e *env) browser(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(browsertest.New(t, spki(e.srv.Certificate())), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// browserLogin logs the browser in as account through the login page.
func (e *env) browserLogin(t testing.TB, ctx context.Context, account string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("account")),
		chromedp.SendKeys(chromedp.ID("account"), account),
		chromedp.SendKeys(chromedp.ID("token"), e.tokens[account]),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("form.logout")),
	)
	if err != nil {
		t.Fatalf("logging in as %s in the browser: %v", account, err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if h1 != "Overview" {
		t.Fatalf("after login the browser shows %q, want the overview", h1)
	}
}
