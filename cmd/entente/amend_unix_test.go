//go:build unix

package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/node"
)

// TestServeAmendOnSIGHUP runs `entente serve` as Arcadia's node under the
// bilateral example and moves it to Amendment No. 1 with SIGHUP. A broken
// file, an unsigned one, a changed text under version 1's signatures
// and another text signed as version 1 each leave it on version 1 with an
// error in its log; the same file again is
// "unchanged"; the signed version 2 is in force at once, and the console's
// agreement page shows what changed.
func TestServeAmendOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a serve process")
	}
	v1, err := examples.FS.ReadFile("arcadia-borealis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := examples.FS.ReadFile("arcadia-borealis-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := agreement.Parse(v2)
	if err != nil {
		t.Fatal(err)
	}
	effective, err := time.Parse(time.DateOnly, string(a2.Validity.Effective))
	if err != nil {
		t.Fatal(err)
	}
	// Version 2 takes effect later than version 1: the node's clock is
	// set a day past that, while version 1 is still in force.
	offset := max(0, time.Until(effective)+24*time.Hour)

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := node.PrepareDataDir(data); err != nil {
		t.Fatal(err)
	}
	skey, err := examples.FS.ReadFile("keys/arcadia-node-1.key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, keyFile), skey, 0o600); err != nil {
		t.Fatal(err)
	}
	// The bilateral example pins other node keys than the example key
	// files hold: both versions are made to pin this node's, and signed
	// again with the example party keys.
	key, err := node.ParseKey(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	orig := v1
	v1, v2 = amendResign(t, v1, key), amendResign(t, v2, key)
	file := filepath.Join(dir, "agreement.yaml")
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(v1)

	args := []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--metrics-addr", "off",
		"--agreement", file, "--node", "arcadia-node-1", "--sync-interval", "1h", "--checkpoint-interval", "1h"}
	cmd := childCommand(args, clockOffsetEnv+"="+offset.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &proctest.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	banner := make(chan map[string]string, 1)
	go func() {
		fields := map[string]string{}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ": "); ok {
				fields[k] = v
			}
			if strings.HasPrefix(sc.Text(), "admin token: ") {
				banner <- fields
			}
		}
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	var fields map[string]string
	select {
	case fields = <-banner:
	case <-exited:
		t.Fatalf("serve exited before serving:\n%s", stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve printed no admin token within 30s:\n%s", stderr)
	}
	base := strings.TrimSuffix(fields["url"], "/taxii2/")

	// The console, logged in as admin with the printed token.
	tlsConfig, err := node.NodeKeyTLSConfig(key.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	get := func(path string) string {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	m := csrf.FindStringSubmatch(get("/ui/login"))
	if m == nil {
		t.Fatal("the login page has no CSRF field")
	}
	resp, err := hc.PostForm(base+"/ui/login", url.Values{"account": {"admin"}, "token": {fields["admin token"]}, "csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logging in: %d", resp.StatusCode)
	}
	onVersion1 := func(when string) {
		t.Helper()
		page := get("/ui/agreement")
		if !strings.Contains(page, "No earlier version known to this node.") || strings.Contains(page, "Changes from version") {
			t.Fatalf("%s: the agreement page is not version 1's:\n%s", when, page)
		}
	}
	onVersion1("at start")

	// hup sends SIGHUP and waits for the n-th log line holding want.
	hup := func(want string, n int) {
		t.Helper()
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(stderr.String(), want) < n {
			if time.Now().After(deadline) {
				t.Fatalf("no %q (%d) in the log within 30s:\n%s", want, n, stderr)
			}
			select {
			case <-exited:
				t.Fatalf("serve exited on SIGHUP:\n%s", stderr)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	const failed = "agreement not amended"

	// The same file: nothing to do.
	hup(`msg="agreement unchanged"`, 1)
	onVersion1("after the same file")

	// A broken file.
	write([]byte("agreement: [\n"))
	hup(failed, 1)
	if log := stderr.String(); !strings.Contains(log, "file="+file) || !strings.Contains(log, `in_force="arcadia-borealis-cti version 1"`) {
		t.Fatalf("the error names neither the file nor the version in force:\n%s", log)
	}
	onVersion1("after a broken file")

	// Version 2 without its signatures.
	text := string(v2)
	write([]byte(text[:strings.Index(text, "\nsignatures:")+1] + "signatures: []\n"))
	hup(failed, 2)
	onVersion1("after an unsigned file")

	// Version 1's text changed, its signatures kept: they no longer verify.
	write([]byte(strings.Replace(string(v1), "retention_days: 365", "retention_days: 366", 1)))
	hup(failed, 3)
	onVersion1("after a changed version 1")

	// Version 1's text changed and signed again: a version is one text.
	write(amendResign(t, []byte(strings.Replace(string(orig), "retention_days: 365", "retention_days: 366", 1)), key))
	hup("its content differs; an amendment is a new version", 1)
	onVersion1("after another text of version 1")
	if strings.Contains(stderr.String(), `msg="agreement amended"`) {
		t.Fatalf("a bad file amended the agreement:\n%s", stderr)
	}

	// The signed amendment.
	write(v2)
	hup(`msg="agreement amended"`, 1)
	log := stderr.String()
	for _, want := range []string{"from_version=1", "to_version=2", "restart_for=", "the witnesses of this node's log"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	page := get("/ui/agreement")
	for _, want := range []string{"Changes from version 1 to version 2", "course-of-action", "730"} {
		if !strings.Contains(page, want) {
			t.Errorf("the agreement page lacks %q:\n%s", want, page)
		}
	}

	// The ledger records the amendment, once.
	amended := func() int {
		t.Helper()
		code, out, stderr := runCmd(t, "ledger", "show", "--data", data)
		if code != 0 {
			t.Fatalf("ledger show: exit %d: %s", code, stderr)
		}
		return strings.Count(out, "\tagreement-amended\t"+a2.ID+" amended from version 1 to 2, content sha256 ")
	}
	if n := amended(); n != 1 {
		t.Errorf("ledger show lists %d amendments to version 2; want 1", n)
	}

	// Sent again, the same file is unchanged.
	hup(`msg="agreement unchanged"`, 2)
	if n := amended(); n != 1 {
		t.Errorf("after an unchanged reload ledger show lists %d amendments; want 1", n)
	}
}

// amendResign returns the example agreement doc with Arcadia's node pinned
// to key, signed by both example parties.
func amendResign(t *testing.T, doc []byte, key *node.Key) []byte {
	t.Helper()
	ex, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, self, ok := ex.Node("arcadia-node-1")
	if !ok {
		t.Fatal("the example has no node arcadia-node-1")
	}
	text := string(doc)
	text = text[:strings.Index(text, "\nsignatures:")+1] + "signatures: []\n"
	for old, new := range map[string]string{"key: " + self.Key: "key: " + key.VerifierKey, "witness_key: " + self.WitnessKey: "witness_key: " + key.WitnessVerifierKey()} {
		if strings.Count(text, old) != 1 {
			t.Fatalf("the example holds %q %d times", old, strings.Count(text, old))
		}
		text = strings.Replace(text, old, new, 1)
	}
	return signAsExampleParties(t, ex, []byte(text))
}
