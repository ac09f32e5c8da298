package main

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entente/entente/internal/browsertest"
	"github.com/entente/entente/node"
)

var (
	consoleLine = regexp.MustCompile(`(?m)^console: (\S+)$`)
	nodeKeyLine = regexp.MustCompile(`(?m)^node key: (\S+)$`)
)

// TestServeBrowser opens a node in Chromium on the node's default
// certificates, and logs in to its console with the printed admin token. Chromium does not support Ed25519 in TLS, so on the node's
// certificate alone the handshake fails (ERR_SSL_VERSION_OR_CIPHER_MISMATCH);
// it gets the browser certificate, which it trusts by the key fingerprint
// serve prints, with every certificate check left on, and which the node
// key serve prints has issued.
func TestServeBrowser(t *testing.T) {
	n := startServe(t, t.TempDir())
	out := n.stdout.String()
	console := n.base + "/ui/"
	if m := consoleLine.FindStringSubmatch(out); m == nil || m[1] != console {
		t.Errorf("the banner names no console at %s:\n%s", console, out)
	}
	vkey := nodeKeyLine.FindStringSubmatch(out)
	if n.browserSPKI == "" || n.browserFingerprint == "" || vkey == nil {
		t.Fatalf("the banner shows no browser certificate or node key:\n%s", out)
	}

	t.Run("trusted by its key", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(browsertest.New(t, n.browserSPKI), time.Minute)
		defer cancel()
		err := chromedp.Do(ctx, chromedp.Navigate(n.base+"/healthz"))
		if err != nil {
			t.Fatalf("loading %s/healthz: %v", n.base, err)
		}
		body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(body) != "ok" {
			t.Errorf("the page shows %q; want ok", body)
		}
		// The console at the URL the banner gives, logged into with the
		// admin token the first start printed.
		err = chromedp.Do(ctx,
			chromedp.Navigate(console),
			chromedp.WaitVisible(chromedp.ID("account")),
			chromedp.SendKeys(chromedp.ID("account"), "admin"),
			chromedp.SendKeys(chromedp.ID("token"), n.adminToken),
			chromedp.Submit(chromedp.ID("token")),
			chromedp.WaitVisible(chromedp.CSS("form.logout")),
		)
		if err != nil {
			t.Fatalf("logging in to the console at %s: %v", console, err)
		}
		who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who")))
		if err != nil {
			t.Fatal(err)
		}
		if who != "Logged in as admin (admin)" {
			t.Errorf("after login the console shows %q", who)
		}

		// The certificate Chromium accepted.
		got, err := chromedp.Call(ctx, network.GetCertificate, network.GetCertificateParams{Origin: n.base})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.TableNames) == 0 {
			t.Fatal("Chromium reports no certificate for the node")
		}
		der, err := base64.StdEncoding.DecodeString(got.TableNames[0])
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		if fp := node.Fingerprint(der); fp != n.browserFingerprint {
			t.Errorf("Chromium got the certificate %s; serve printed %s", fp, n.browserFingerprint)
		}
		if err := node.VerifyBrowserCertificate(cert, vkey[1]); err != nil {
			t.Error(err)
		}
		// As an operator checks it, saved from the browser as PEM.
		pemFile := filepath.Join(t.TempDir(), "node.pem")
		if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		if stdout, stderr, code := execEntente(t, "tls", "verify", "--node-key", vkey[1], pemFile); code != 0 || !strings.Contains(stdout, "spki sha-256: "+n.browserSPKI) {
			t.Errorf("entente tls verify: exit %d\n%s%s", code, stdout, stderr)
		}
	})

	// Without the fingerprint, the handshake still succeeds, and the
	// certificate is refused as one that no authority vouches for: an
	// error an operator may override, having compared the fingerprint.
	t.Run("untrusted", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(browsertest.New(t), time.Minute)
		defer cancel()
		err := chromedp.Do(ctx, chromedp.Navigate(n.base+"/healthz"))
		if err == nil || !strings.Contains(err.Error(), "ERR_CERT_AUTHORITY_INVALID") {
			t.Errorf("loading %s/healthz without trusting the node: %v; want ERR_CERT_AUTHORITY_INVALID", n.base, err)
		}
	})
}

// TestServePlainHTTPBrowser logs in to the console of `serve --plain-http`
// in Chromium, at the URL the banner gives, with the printed admin token.
// The console's cookies stay Secure and __Host- prefixed: Chromium keeps
// them over plain HTTP because the banner's address is a loopback one,
// which it counts as potentially trustworthy (doc/console.md).
func TestServePlainHTTPBrowser(t *testing.T) {
	n := startServe(t, t.TempDir(), "--plain-http")
	m := consoleLine.FindStringSubmatch(n.stdout.String())
	if m == nil || !strings.HasPrefix(m[1], "http://127.0.0.1:") {
		t.Fatalf("the banner names no plain-HTTP console:\n%s", n.stdout.String())
	}
	ctx, cancel := context.WithTimeout(browsertest.New(t), time.Minute)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(m[1]),
		chromedp.WaitVisible(chromedp.ID("account")),
		chromedp.SendKeys(chromedp.ID("account"), "admin"),
		chromedp.SendKeys(chromedp.ID("token"), n.adminToken),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("form.logout")),
	)
	if err != nil {
		t.Fatalf("logging in to the console at %s: %v", m[1], err)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who")))
	if err != nil {
		t.Fatal(err)
	}
	if who != "Logged in as admin (admin)" {
		t.Errorf("after login the console shows %q", who)
	}
	secure, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.isSecureContext`))
	if err != nil || !secure {
		t.Errorf("Chromium does not count %s a secure context (%v): the console's cookies would not be kept", m[1], err)
	}
}
