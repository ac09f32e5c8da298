// Package browsertest runs a real Chromium for tests, headless, driven
// through the Chrome DevTools Protocol by chromedp
// (https://github.com/chromedp/chromedp): Debian's chromium package, which
// .ci/chromium installs. Without a Chromium the test is skipped, saying how
// to run it, unless ENTENTE_TEST_BROWSER=1 (CI sets it), which fails the
// test instead, so that browser tests never pass unseen in CI.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/entente/entente/internal/proctest"
)

// Env is the environment variable that makes a missing Chromium a failure.
const Env = "ENTENTE_TEST_BROWSER"

// Path returns the Chromium to run: chromium (Debian's name) or
// chromium-browser on PATH, or else /usr/bin/chromium. Without one the test
// is skipped, or fails when ENTENTE_TEST_BROWSER=1.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium: install Debian's chromium package (apt-get install chromium, or .ci/chromium as root) to run the browser tests"
	if os.Getenv(Env) == "1" {
		t.Fatal(msg + " (" + Env + "=1 asks for them)")
	}
	t.Skip(msg + "; " + Env + "=1 makes this a failure")
	return ""
}

// Options returns the options of a headless Chromium that keeps its profile
// in a fresh directory of the test, starts no background networking,
// component updates or sync, and trusts a TLS server whose certificate chain holds a key whose
// SubjectPublicKeyInfo has one of spki as its base64 SHA-256 (as
// node.SPKIFingerprint gives it). Every other certificate error stays an
// error: the server is trusted by its key, certificate checks stay on.
// Chromium honours that list only with a user data directory of its own.
func Options(t testing.TB, spki ...string) []chromedp.ExecAllocatorOption {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	if len(spki) > 0 {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(spki, ",")))
	}
	return opts
}

// New starts a Chromium with Options(t, spki...) and returns the context of
// its tab, for chromedp.Run and chromedp.Do. Chromium stops when the test
// ends; what it printed is logged if the test failed. The browser is
// running already, so a context derived with a timeout bounds only the
// actions run on it, as chromedp.NewContext explains.
func New(t testing.TB, spki ...string) context.Context {
	t.Helper()
	out := &proctest.Buffer{}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(Options(t, spki...), chromedp.CombinedOutput(out))...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit
		if t.Failed() {
			t.Logf("chromium printed:\n%s", out.String())
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", Path(t), err)
	}
	return ctx
}
