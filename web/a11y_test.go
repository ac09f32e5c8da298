package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The accessibility check runs axe-core (Deque's engine, from npm) in
// Chromium over every page of the console, with the WCAG 2.2 A and AA
// rules, and fails on any violation. CI installs axe-core and names it:
//
//	export ENTENTE_AXE=$(.ci/axe)
//
// Without ENTENTE_AXE the test skips, unless ENTENTE_TEST_BROWSER is set
// (CI sets it for every browser test): then a missing axe-core is a
// failure, so that CI cannot pass without running the check.
const axeEnv = "ENTENTE_AXE"

// axeTags are the rule sets the check runs: WCAG 2.0, 2.1 and 2.2, levels A
// and AA (axe has no A rules that are new in 2.2).
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// viewports are the screens the console must fit: a laptop and a wall
// screen. On each, no page may scroll sideways.
var viewports = []struct {
	name          string
	width, height int64
}{
	{"laptop", 1366, 768},
	{"wall", 3840, 2160},
}

// paramPaths gives, for each GET route with a wildcard, the path of a
// page of the fixture (addFixture) to check. A page that adds such a
// route adds a line here, or the check fails: it must see every page.
var paramPaths = map[string]func(f fixture) string{
	"GET /ui/objects/{id}":         func(f fixture) string { return "/ui/objects/" + f.Indicator },
	"GET /ui/cases/{id}":           func(f fixture) string { return f.CasePath },
	"GET /ui/detection/match/{id}": func(f fixture) string { return f.MatchPath },
}

// addCaseAndMatch opens a request for assistance to Borealis and matches
// a Suricata EVE log through the console as the admin, for the pages
// that show one case and one match result; it returns their paths.
func (e *env) addCaseAndMatch(t testing.TB) (casePath, matchPath string) {
	t.Helper()
	c := e.openCase(t, assistance(), "borealis", true)
	admin := e.login(t, "admin")
	admin.get(t, "/ui/detection")
	admin.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp := admin.uploadResponse(t, "eve.json", eveSnippet(time.Now()), map[string]string{"format": "eve", "collection": e.defaultTarget()})
	resp.Body.Close()
	matchPath = resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(matchPath, "/ui/detection/match/") {
		t.Fatalf("matching a log through the console: %d, Location %q", resp.StatusCode, matchPath)
	}
	return "/ui/cases/" + c.ID, matchPath
}

// axeScript returns axe.min.js, or skips the test when it is not named.
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv(axeEnv)
	if path == "" {
		if os.Getenv(browserEnv) != "" {
			t.Fatalf("%s is set but %s is not; set it to axe-core's axe.min.js: export %s=$(.ci/axe)", browserEnv, axeEnv, axeEnv)
		}
		t.Skipf("%s is not set; run with %s=$(.ci/axe) to check accessibility in Chromium", axeEnv, axeEnv)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", axeEnv, err)
	}
	if !strings.Contains(string(b), "axe") || len(b) < 100_000 {
		t.Fatalf("%s=%s does not look like axe-core's axe.min.js", axeEnv, path)
	}
	return string(b)
}

// pagesToCheck lists the path of every GET page the console registers,
// with the fixture's ids in the routes that take one, and the status each
// must answer, and the routes with a wildcard that paramPaths does not
// know.
func pagesToCheck(routes []route, f fixture) (pages map[string]int, unknown []string) {
	pages = map[string]int{"/ui/no-such-page": http.StatusNotFound}
	for _, r := range routes {
		method, path, _ := strings.Cut(r.Pattern, " ")
		// The public GET routes are the login page, checked before
		// login, and a redirect; the catch-all (no method) shows the
		// error page, checked above.
		if method != "GET" || r.Least == 0 {
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		if strings.Contains(path, "{") {
			p, ok := paramPaths[r.Pattern]
			if !ok {
				unknown = append(unknown, r.Pattern)
				continue
			}
			path = p(f)
		}
		pages[path] = http.StatusOK
	}
	return pages, unknown
}

// axeViolation is what the check reports of one violation.
type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n\t\t%v  %s", n.Target, n.HTML)
	}
	return b.String()
}

// runAxe runs axe-core over the page the browser shows, with axeTags,
// and returns the violations it finds.
func runAxe(ctx context.Context, axe string) ([]axeViolation, error) {
	// Runtime.evaluate, as the DevTools console does, is not subject to
	// the page's Content-Security-Policy, which forbids every script but
	// the console's own: axe runs in the page as served.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
			return nil, fmt.Errorf("injecting axe-core: %w", err)
		}
	}
	opts, _ := json.Marshal(map[string]any{
		"runOnly":     map[string]any{"type": "tag", "values": axeTags},
		"resultTypes": []string{"violations"},
	})
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, `+string(opts)+`).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	var vs []axeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		return nil, fmt.Errorf("axe-core's result: %w\n%s", err, raw)
	}
	return vs, nil
}

// checkPage runs axe-core over the page the browser shows, at each
// viewport, and checks that the page does not scroll sideways.
func checkPage(t *testing.T, ctx context.Context, axe, path string) {
	t.Helper()
	for _, vp := range viewports {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height)); err != nil {
			t.Fatal(err)
		}
		vs, err := runAxe(ctx, axe)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, v := range vs {
			t.Errorf("%s on a %s screen (%dx%d): %v", path, vp.name, vp.width, vp.height, v)
		}
		var size struct{ Scroll, Client int }
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
			`({Scroll: document.documentElement.scrollWidth, Client: document.documentElement.clientWidth})`))
		if err == nil {
			err = json.Unmarshal(raw, &size)
		}
		if err != nil {
			t.Fatalf("%s: measuring the page: %v", path, err)
		}
		if size.Client == 0 || size.Scroll > size.Client {
			t.Errorf("%s on a %s screen (%dx%d): the page is %d pixels wide in a window of %d; it scrolls sideways",
				path, vp.name, vp.width, vp.height, size.Scroll, size.Client)
		}
	}
}

// maxTabs bounds the keyboard walk of one page: the layout's controls and
// the first of the page's own are enough to find a missing focus style.
const maxTabs = 40

// focused describes the element that has the keyboard focus.
type focused struct {
	HTML                string
	ID, Class           string
	Visible             bool // it shows an outline or a shadow while focused
	Left, Width, Height float64
}

const focusedJS = `(() => {
	const el = document.activeElement;
	if (!el || el === document.body || el === document.documentElement) return null;
	const cs = getComputedStyle(el), r = el.getBoundingClientRect();
	return {
		HTML: el.outerHTML.slice(0, 160), ID: el.id, Class: el.className,
		Visible: (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== "none",
		Left: r.left, Width: r.width, Height: r.height,
	};
})()`

// checkKeyboard walks the page with the Tab key from its start: the
// first stop is the skip link, shown on screen, which moves the focus to
// the page's content; every control the walk reaches shows that it has
// the focus (WCAG 2.4.7) and is on screen.
func checkKeyboard(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	at := func() *focused {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](focusedJS))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var f *focused
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return f
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	skip := at()
	if skip == nil || skip.Class != "skip" || skip.Left < 0 || !skip.Visible {
		t.Errorf("%s: the first Tab stop is %+v, want the skip link, visible on screen", path, skip)
	}
	for i := 0; i < maxTabs; i++ {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		f := at()
		if f == nil {
			break // past the last control
		}
		if !f.Visible || f.Width == 0 || f.Height == 0 || f.Left < 0 {
			t.Errorf("%s: Tab stop %d does not show the focus, or is off screen: %+v", path, i+2, f)
		}
	}
	// The skip link moves the focus to the content.
	err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`),
		chromedp.Focus(chromedp.CSS("a.skip")),
		chromedp.KeyEvent("\r"),
	)
	if err != nil {
		t.Fatalf("%s: following the skip link: %v", path, err)
	}
	if f := at(); f == nil || f.ID != "main" {
		t.Errorf("%s: after the skip link the focus is on %+v, want main", path, f)
	}
}

// visit opens path in the browser, checks its status and CSP, and runs
// the checks over it.
func visit(t *testing.T, ctx context.Context, axe, url, path string, want int) {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url+path))
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	if int(resp.Status) != want {
		t.Errorf("%s: status %d, want %d", path, resp.Status, want)
	}
	var csp string
	for k, v := range resp.Headers {
		if strings.EqualFold(k, "Content-Security-Policy") {
			csp = fmt.Sprint(v)
		}
	}
	if !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("%s: served without the console's Content-Security-Policy (%q): the check would not see the page as operators do", path, csp)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewports[0].width, viewports[0].height)); err != nil {
		t.Fatal(err)
	}
	checkKeyboard(t, ctx, path)
	checkPage(t, ctx, axe, path)
}

// TestAccessibility checks the login page, then, as the admin (who sees
// every page), every GET page and the error page.
func TestAccessibility(t *testing.T) {
	axe := axeScript(t)
	e := newEnv(t)
	f := e.addFixture()
	f.CasePath, f.MatchPath = e.addCaseAndMatch(t)
	pages, unknown := pagesToCheck(e.console.routeList, f)
	for _, r := range unknown {
		t.Errorf("route %q takes a parameter, and paramPaths has no page of the fixture for it: add one", r)
	}
	ctx := e.browser(t)

	visit(t, ctx, axe, e.srv.URL, "/ui/login", http.StatusOK)
	// The page's CSP is in force while axe runs: a script the page adds
	// inline does not run.
	ran, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const s = document.createElement("script");
		s.textContent = "window.inlineRan = true";
		document.head.appendChild(s);
		return window.inlineRan === true;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("an inline script ran on the login page: its Content-Security-Policy is not in force")
	}
	// The check finds what it should: an unlabelled field, an image
	// without a text alternative, and text too faint to read.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const d = document.createElement("div");
		d.innerHTML = '<input id="unlabelled"><img src="/ui/static/none.png"><p class="faint">faint</p>';
		document.querySelector("main").appendChild(d);
		d.querySelector(".faint").style.color = "#eeeeee";
	})()`)); err != nil {
		t.Fatal(err)
	}
	vs, err := runAxe(ctx, axe)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range vs {
		found[v.ID] = true
	}
	if !found["label"] || !found["image-alt"] || !found["color-contrast"] {
		t.Errorf("axe-core missed violations added to the page: found %v, want label, image-alt and color-contrast", vs)
	}

	e.browserLogin(t, ctx, "admin")
	paths := make([]string, 0, len(pages))
	for p := range pages {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		visit(t, ctx, axe, e.srv.URL, p, pages[p])
	}
	t.Logf("axe-core checked %d pages at %d screen sizes", len(paths)+1, len(viewports))
}

// TestPagesToCheck: the walk covers every GET page, gives the routes with
// a wildcard a real path, and fails on one it cannot fill in.
func TestPagesToCheck(t *testing.T) {
	routes := []route{
		{"GET /ui/login", 0},
		{"GET /ui/{$}", roleReader},
		{"GET /ui/objects", roleReader},
		{"GET /ui/objects/{id}", roleReader},
		{"POST /ui/objects", roleAnalyst},
		{"/ui/", roleReader},
	}
	got, unknown := pagesToCheck(routes, theFixture)
	want := map[string]int{
		"/ui/": 200, "/ui/objects": 200, "/ui/objects/" + theFixture.Indicator: 200, "/ui/no-such-page": 404,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(unknown) != 0 {
		t.Errorf("pagesToCheck = %v, %v; want %v and none unknown", got, unknown, want)
	}
	_, unknown = pagesToCheck(append(routes, route{"GET /ui/cases/{case}", roleReader}), theFixture)
	if fmt.Sprint(unknown) != "[GET /ui/cases/{case}]" {
		t.Errorf("a route with a wildcard that paramPaths does not know: unknown = %v", unknown)
	}
}
