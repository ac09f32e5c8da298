package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeLinks runs two nodes under one agreement: Arcadia's node
// starts a link to Borealis's (found through --partner-url), pulls what
// Borealis shares with it, and shows the link in entente partners and on
// /metrics.
func TestServeLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two nodes")
	}
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "cti.cert.arcadia.example/ledger")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "taxii.cyber.borealis.example/ledger")
	doc := witnessAgreement(t, a, b)
	b.start(t, doc)
	if code, _, stderr := runCmd(t, "partner", "share", "--data", b.dir, "--agreement", doc, "arcadia", "default", "--right", "read"); code != 0 {
		t.Fatalf("partner share: %s", stderr)
	}
	b.add(t, 0, 25)
	a.run = startServe(t, a.dir, "--addr", a.addr, "--agreement", doc, "--node", a.id, "--checkpoint-interval", "50ms",
		"--sync-interval", "50ms", "--partner-url", "borealis-node-1=https://"+b.addr+"/taxii2/")

	var table string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		code, stdout, stderr := runCmd(t, "partners", "--data", a.dir)
		if code != 0 {
			t.Fatalf("partners: exit %d: %s", code, stderr)
		}
		table = stdout
		// Caught up, and borealis's log witnessed by arcadia's node.
		if regexp.MustCompile(`(?m)^borealis-node-1\s+borealis\s+idle\s+\S+\s+0\s+\d+\s+0\s+0\s+size [1-9]\d* root `).MatchString(table) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasPrefix(table, "PARTNER") || !regexp.MustCompile(`(?m)^borealis-node-1\s+borealis\s+idle\s.*size [1-9]`).MatchString(table) {
		t.Fatalf("entente partners never showed the link caught up and borealis's log cosigned:\n%s\n%s", table, a.run.stderr.String())
	}
	code, body := a.run.scrape(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`entente_federation_received_total{partner="borealis-node-1",party="borealis"} 25`,
		`entente_federation_link_caught_up{partner="borealis-node-1",party="borealis"} 1`,
		`entente_federation_refused_total{partner="borealis-node-1",party="borealis"} 0`,
		`entente_federation_cosigned_checkpoint_size{partner="borealis-node-1",party="borealis"} `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(body, "entente_federation"))
		}
	}
	// Borealis's objects are arcadia's now, received with their origin.
	code, out := a.run.get(t, "/api1/collections/default/objects/?limit=100", a.run.adminToken)
	if code != 200 || strings.Count(out, `"type":"indicator"`) != 25 {
		t.Errorf("arcadia's default collection: %d, %d indicators", code, strings.Count(out, `"type":"indicator"`))
	}
}

func TestPartnerURLFlag(t *testing.T) {
	p := partnerURLs{}
	for _, bad := range []string{"", "node", "=https://x/", "n=", "n=ftp://x/", "n=/relative"} {
		if err := p.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	if err := p.Set("b-1=https://127.0.0.1:8444/taxii2/"); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("b-1=https://127.0.0.1:8445/taxii2/"); err == nil {
		t.Error("a node given twice was accepted")
	}
	code, _, stderr := runCmd(t, "serve", "--data", t.TempDir(), "--partner-url", "b-1=https://127.0.0.1:1/")
	if code != 2 || !strings.Contains(stderr, "--partner-url needs --agreement") {
		t.Errorf("serve --partner-url without an agreement: exit %d, %s", code, stderr)
	}
}

func TestClientBase(t *testing.T) {
	for _, tc := range []struct{ in, base, root string }{
		{"https://cti.example/taxii2/", "https://cti.example/", ""},
		{"https://cti.example/taxii2", "https://cti.example/", ""},
		{"https://cti.example:8443/x/taxii2/", "https://cti.example:8443/x/", ""},
		{"https://taxii.example/api/", "https://taxii.example/", "https://taxii.example/api/"},
	} {
		base, root, err := clientBase(tc.in)
		if err != nil || base != tc.base || root != tc.root {
			t.Errorf("clientBase(%q) = %q, %q, %v; want %q, %q", tc.in, base, root, err, tc.base, tc.root)
		}
	}
}

func FuzzClientBase(f *testing.F) {
	for _, s := range []string{"https://cti.example/taxii2/", "https://taxii.example/api/", "http://[::1]:80/taxii2", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, root, err := clientBase(s)
		if err != nil {
			return
		}
		if !strings.HasSuffix(base, "/") || root != "" && root != s && !strings.HasPrefix(root, "http") {
			t.Errorf("clientBase(%q) = %q, %q", s, base, root)
		}
		if _, _, err := clientBase(base); err != nil {
			t.Errorf("the base %q of %q does not parse again: %v", base, s, err)
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
