package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// runningNode is an `entente serve` started in-process by startServe.
type runningNode struct {
	dir         string
	url         string // the discovery URL
	base        string // scheme://host:port
	fingerprint string
	adminToken  string
	metrics     string // the metrics URL; "" with --metrics-addr off
	stdout      *proctest.Buffer
	stderr      *proctest.Buffer
	client      *http.Client
	stop        context.CancelFunc
	done        chan int // receives serve's exit code

	// browserFingerprint and browserSPKI are the browser certificate's
	// SHA-256 and its key's (base64), as serve prints them.
	browserFingerprint, browserSPKI string
}

var (
	urlLine     = regexp.MustCompile(`(?m)^url: (\S+)$`)
	fpLine      = regexp.MustCompile(`(?m)^tls certificate sha-256 fingerprint: (\S+)$`)
	browserLine = regexp.MustCompile(`(?m)^browser certificate sha-256 fingerprint: (\S+)$`)
	spkiLine    = regexp.MustCompile(`(?m)^browser certificate spki sha-256: (\S+)$`)
	metricsLine = regexp.MustCompile(`(?m)^metrics: (\S+)$`)
	tokenLine   = regexp.MustCompile(`(?m)^admin token: (\S+)$`)
)

// startServe runs `entente serve --data dir --addr 127.0.0.1:0
// --metrics-addr 127.0.0.1:0 extra...` and waits until it prints its URL.
// The node stops at the end of the test.
func startServe(t testing.TB, dir string, extra ...string) *runningNode {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	n := &runningNode{dir: dir, stdout: &proctest.Buffer{}, stderr: &proctest.Buffer{}, stop: stop, done: make(chan int, 1)}
	args := append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn"}, extra...)
	go func() { n.done <- run(ctx, &Env{Stdout: n.stdout, Stderr: n.stderr}, args) }()
	t.Cleanup(func() {
		stop()
		<-n.done
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		out := n.stdout.String()
		if m := urlLine.FindStringSubmatch(out); m != nil {
			n.url = m[1]
			break
		}
		select {
		case code := <-n.done:
			t.Fatalf("serve exited with %d before printing its URL:\n%s%s", code, out, n.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no URL within 30s:\n%s%s", out, n.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := n.stdout.String()
	n.base = strings.TrimSuffix(n.url, "/taxii2/")
	if m := fpLine.FindStringSubmatch(out); m != nil {
		n.fingerprint = m[1]
	}
	if m := browserLine.FindStringSubmatch(out); m != nil {
		n.browserFingerprint = m[1]
	}
	if m := spkiLine.FindStringSubmatch(out); m != nil {
		n.browserSPKI = m[1]
	}
	if m := tokenLine.FindStringSubmatch(out); m != nil {
		n.adminToken = m[1]
	}
	if m := metricsLine.FindStringSubmatch(out); m != nil {
		n.metrics = m[1]
	}
	n.client = &http.Client{Timeout: 30 * time.Second}
	if n.fingerprint != "" {
		cfg, err := node.PinnedTLSConfig(n.fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		n.client.Transport = &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	}
	return n
}

// get sends a TAXII GET with a bearer token and returns the status and body.
func (n *runningNode) get(t testing.TB, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, n.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// scrape sends a GET to the metrics listener and returns the status and
// body.
func (n *runningNode) scrape(t testing.TB, path string) (int, string) {
	t.Helper()
	if n.metrics == "" {
		t.Fatal("the node serves no metrics")
	}
	resp, err := http.Get(strings.TrimSuffix(n.metrics, "/metrics") + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func runCmd(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	stdout, stderr, code = execEntente(t, args...)
	return code, stdout, stderr
}

func TestServeFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	n := startServe(t, dir)
	if !strings.HasPrefix(n.url, "https://127.0.0.1:") || !strings.HasSuffix(n.url, "/taxii2/") {
		t.Errorf("url = %q; want https://127.0.0.1:PORT/taxii2/", n.url)
	}
	if n.fingerprint == "" || n.adminToken == "" {
		t.Fatalf("first start printed no fingerprint or admin token:\n%s", n.stdout)
	}
	if code, body := n.get(t, "/taxii2/", n.adminToken); code != http.StatusOK || !strings.Contains(body, `"/api1/"`) {
		t.Errorf("GET /taxii2/ with the admin token = %d %s", code, body)
	}
	// The certificate is TLS 1.3 by preference.
	resp, err := n.client.Get(n.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS state = %+v; want TLS 1.3", resp.TLS)
	}
	n.stop()
	if code := <-n.done; code != 0 {
		t.Fatalf("serve exited with %d:\n%s", code, n.stderr)
	}
	n.done <- 0 // for the cleanup

	again := startServe(t, dir)
	if again.adminToken != "" {
		t.Errorf("the second start printed an admin token:\n%s", again.stdout)
	}
	if again.fingerprint != n.fingerprint {
		t.Errorf("the fingerprint changed across restarts: %s, then %s", n.fingerprint, again.fingerprint)
	}
	if n.browserFingerprint == "" || again.browserFingerprint != n.browserFingerprint || again.browserSPKI != n.browserSPKI {
		t.Errorf("the browser certificate changed across restarts: %s %s, then %s %s",
			n.browserFingerprint, n.browserSPKI, again.browserFingerprint, again.browserSPKI)
	}
	if code, _ := again.get(t, "/taxii2/", n.adminToken); code != http.StatusOK {
		t.Errorf("the first start's admin token no longer works: %d", code)
	}
}

// TestServeDataDirModes checks that a node's data is its owner's alone,
// also in a directory that was made before with wider access.
func TestServeDataDirModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	n := startServe(t, dir)
	if code, _ := n.get(t, "/taxii2/", n.adminToken); code != http.StatusOK {
		t.Fatalf("GET /taxii2/ = %d", code)
	}
	want := map[string]os.FileMode{".": 0o700, keyFile: 0o600, dbFile: 0o600, dbFile + "-wal": 0o600, dbFile + "-shm": 0o600}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
}

func TestServePlainHTTP(t *testing.T) {
	n := startServe(t, t.TempDir(), "--plain-http")
	if !strings.HasPrefix(n.url, "http://127.0.0.1:") || n.fingerprint != "" {
		t.Errorf("plain HTTP on loopback: url %q, fingerprint %q", n.url, n.fingerprint)
	}
	if code, _ := n.get(t, "/taxii2/", n.adminToken); code != http.StatusOK {
		t.Errorf("GET /taxii2/ = %d", code)
	}
}

func TestServeConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"plain HTTP on all IPv4 interfaces", []string{"--plain-http", "--addr", "0.0.0.0:0"}, "not a loopback address"},
		{"plain HTTP on all interfaces", []string{"--plain-http", "--addr", ":0"}, "not a loopback address"},
		{"plain HTTP on all IPv6 interfaces", []string{"--plain-http", "--addr", "[::]:0"}, "not a loopback address"},
		{"plain HTTP on a public address", []string{"--plain-http", "--addr", "192.0.2.1:8080"}, "not a loopback address"},
		{"plain HTTP with a certificate", []string{"--plain-http", "--tls-cert", "c", "--tls-key", "k"}, "cannot be combined"},
		{"address without port", []string{"--addr", "127.0.0.1"}, "HOST:PORT"},
		{"port out of range", []string{"--addr", "127.0.0.1:70000"}, "0 to 65535"},
		{"certificate without key", []string{"--tls-cert", "c"}, "go together"},
		{"metrics address without port", []string{"--metrics-addr", "127.0.0.1"}, "--metrics-addr"},
		{"metrics on the TAXII address", []string{"--addr", "127.0.0.1:8999", "--metrics-addr", "127.0.0.1:8999"}, "listener of their own"},
		{"log format", []string{"--log-format", "xml"}, "text or json"},
		{"log level", []string{"--log-level", "loud"}, "log-level"},
		{"positional argument", []string{"extra"}, "unexpected argument"},
		{"agreement without node", []string{"--agreement", "a.yaml"}, "--agreement and --node go together"},
		{"node without agreement", []string{"--node", "n1"}, "--agreement and --node go together"},
		{"SMTP relay without port", []string{"--smtp-addr", "mail.example", "--smtp-from", "e@x.example"}, "--smtp-addr"},
		{"SMTP relay without sender", []string{"--smtp-addr", "127.0.0.1:25"}, "--smtp-from"},
		{"SMTP sender with a name", []string{"--smtp-addr", "127.0.0.1:25", "--smtp-from", "Entente <e@x.example>"}, "bare address"},
		{"SMTP sender without relay", []string{"--smtp-from", "e@x.example"}, "goes with --smtp-addr"},
		{"SMTP without agreement", []string{"--smtp-addr", "127.0.0.1:25", "--smtp-from", "e@x.example"}, "contact points"},
		{"alarm interval", []string{"--alarm-interval", "0s"}, "--alarm-interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			code, _, stderr := runCmd(t, append([]string{"serve", "--data", dir}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestServeJSONLogs(t *testing.T) {
	n := startServe(t, t.TempDir(), "--log-format", "json", "--log-level", "info")
	n.stop()
	<-n.done
	n.done <- 0
	sc := bufio.NewScanner(strings.NewReader(n.stderr.String()))
	lines := 0
	for sc.Scan() {
		lines++
		if !strings.HasPrefix(sc.Text(), "{") {
			t.Errorf("log line is not JSON: %s", sc.Text())
		}
	}
	if lines == 0 {
		t.Error("no logs")
	}
}

func TestUserAddWhileServing(t *testing.T) {
	n := startServe(t, t.TempDir())

	// Flags after the name, as the command line contract writes them.
	code, stdout, stderr := runCmd(t, "user", "add", "--data", n.dir, "carol", "--role", "reader")
	if code != 0 {
		t.Fatalf("user add: exit %d: %s", code, stderr)
	}
	token := lastLine(stdout)
	if !strings.HasPrefix(token, node.TokenPrefix) || strings.ContainsAny(token, " \t") {
		t.Fatalf("the last line %q is not a token", token)
	}
	// Deny by default: the new account sees no collection, and is told
	// how to grant one.
	if code, body := n.get(t, "/api1/collections/", token); code != http.StatusOK || body != "{}" {
		t.Errorf("the new reader's GET collections = %d %s; want 200 {}", code, body)
	}
	if want := "entente user grant --data " + n.dir + " carol default read"; !strings.Contains(stderr, want) {
		t.Errorf("user add's stderr %q lacks the hint %q", stderr, want)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"taken name", []string{"--data", n.dir, "carol", "--role", "admin"}, 1, "exists already"},
		{"bad role", []string{"--data", n.dir, "dave", "--role", "root"}, 2, "admin, analyst or reader"},
		{"no role", []string{"--data", n.dir, "dave"}, 2, "--role is required"},
		{"bad name", []string{"--data", n.dir, "da:ve", "--role", "reader"}, 2, "not allowed"},
		{"no name", []string{"--data", n.dir, "--role", "reader"}, 2, "missing NAME"},
		{"two names", []string{"--data", n.dir, "a", "b", "--role", "reader"}, 2, "unexpected argument"},
		{"no node", []string{"--data", t.TempDir(), "dave", "--role", "reader"}, 1, "entente serve --data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append([]string{"user", "add"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if code, _, _ := runCmd(t, "user", "remove"); code != 2 {
		t.Errorf("user remove: exit %d; want 2", code)
	}
}

func TestCollectionAddWhileServing(t *testing.T) {
	n := startServe(t, t.TempDir())
	code, stdout, stderr := runCmd(t, "collection", "add", "--data", n.dir, "Phishing indicators", "--alias", "phishing")
	if code != 0 {
		t.Fatalf("collection add: exit %d: %s", code, stderr)
	}
	id := lastLine(stdout)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("the last line %q is not a UUIDv4", id)
	}
	code, body := n.get(t, "/api1/collections/"+id+"/", n.adminToken)
	if code != http.StatusOK || !strings.Contains(body, `"alias":"phishing"`) || !strings.Contains(body, `"Phishing indicators"`) {
		t.Errorf("GET the new collection = %d %s", code, body)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"taken alias", []string{"--data", n.dir, "Other", "--alias", "phishing"}, 1, "pick another alias"},
		{"bad alias", []string{"--data", n.dir, "Other", "--alias", "a/b"}, 1, "not allowed"},
		{"unknown API root", []string{"--data", n.dir, "Other", "--api-root", "nope"}, 2, "does not exist"},
		{"no title", []string{"--data", n.dir}, 2, "missing TITLE"},
		{"no node", []string{"--data", t.TempDir(), "Other"}, 1, "entente serve --data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append([]string{"collection", "add"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	n := startServe(t, t.TempDir())
	if code, body := n.get(t, "/healthz", ""); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q", code, body)
	}
	n.get(t, "/taxii2/", n.adminToken)
	n.get(t, "/taxii2/", "")
	env := `{"objects":[` + string(malware) + `]}`
	if code, body := n.send(t, "POST", "/api1/collections/default/objects/", n.adminToken, env); code != http.StatusAccepted {
		t.Fatalf("POST = %d %s", code, body)
	}

	// Not on the TAXII listener, with credentials or without.
	for _, token := range []string{n.adminToken, ""} {
		if code, body := n.get(t, "/metrics", token); code == http.StatusOK || strings.Contains(body, "entente_") {
			t.Errorf("GET /metrics on the TAXII listener = %d %s; want no metrics", code, body)
		}
	}
	if code, _ := n.get(t, "/metrics", n.adminToken); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the TAXII listener as admin = %d; want 404", code)
	}

	if !strings.HasPrefix(n.metrics, "http://127.0.0.1:") || !strings.HasSuffix(n.metrics, "/metrics") {
		t.Fatalf("serve printed the metrics URL %q; want http://127.0.0.1:PORT/metrics", n.metrics)
	}
	code, body := n.scrape(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d", n.metrics, code)
	}
	for _, want := range []string{
		`entente_http_requests_total{code="200",route="GET /taxii2/{$}"} 1`,
		`entente_http_requests_total{code="401",route="GET /taxii2/{$}"} 1`,
		`entente_http_request_duration_seconds_count{route="GET /taxii2/{$}"} 2`,
		"entente_objects_stored 1",
		"entente_http_requests_in_flight 0", // scrapes are not TAXII requests
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, body := n.scrape(t, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz on the metrics listener = %d %q", code, body)
	}
}

func TestMetricsOff(t *testing.T) {
	n := startServe(t, t.TempDir(), "--metrics-addr", "off")
	if n.metrics != "" || strings.Contains(n.stdout.String(), "metrics") {
		t.Errorf("serve --metrics-addr off printed %q", n.stdout.String())
	}
	if code, _ := n.get(t, "/healthz", ""); code != http.StatusOK {
		t.Errorf("GET /healthz = %d", code)
	}
}

// TestMetricsAddrTaken checks that serve says what to do when the metrics
// address is in use.
func TestMetricsAddrTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, stderr := runCmd(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-addr", ln.Addr().String())
	if code != 1 || !strings.Contains(stderr, "pick another --metrics-addr") {
		t.Errorf("exit %d, stderr %q; want 1 and a hint", code, stderr)
	}
}

// TestGracefulShutdown stops serve while a POST is half sent and checks
// that the request still completes and is stored.
func TestGracefulShutdown(t *testing.T) {
	n := startServe(t, t.TempDir())
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, n.base+"/api1/collections/default/objects/", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Content-Type", taxii.MediaType)
	req.Header.Set("Authorization", "Bearer "+n.adminToken)
	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := n.client.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, string(b), err}
	}()
	io.WriteString(pw, `{"objects":[`)

	// Wait until the server is handling the POST: the in-flight gauge
	// counts it.
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, m := n.scrape(t, "/metrics")
		if strings.Contains(m, "entente_http_requests_in_flight 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the POST never reached a handler")
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.stop()
	// Shutdown has begun once new connections are refused.
	for deadline := time.Now().Add(30 * time.Second); ; {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: n.client.Transport.(*http.Transport).TLSClientConfig}}
		resp, err := c.Get(n.base + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("serve kept accepting connections after it was stopped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Fprintf(pw, `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]}`)
	pw.Close()

	r := <-res
	if r.err != nil || r.code != http.StatusAccepted || !strings.Contains(r.body, `"success_count":1`) {
		t.Errorf("the in-flight POST = %d %s, %v; want 202 with one success", r.code, r.body, r.err)
	}
	if code := <-n.done; code != 0 {
		t.Errorf("serve exited with %d:\n%s", code, n.stderr)
	}
	n.done <- 0
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string // positionals joined by "|", then the flag
	}{
		{[]string{"a", "--x", "1", "b"}, "a|b x=1"},
		{[]string{"--x", "1", "a", "b"}, "a|b x=1"},
		{[]string{"a", "b", "--x=1"}, "a|b x=1"},
		{[]string{"a", "--", "--x", "b"}, "a|--x|b x="},
		{[]string{}, " x="},
	}
	for _, tt := range tests {
		fs := newTestFlagSet()
		x := fs.String("x", "", "")
		pos, err := interspersed(fs, tt.args)
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.args, err)
			continue
		}
		if got := strings.Join(pos, "|") + " x=" + *x; got != tt.want {
			t.Errorf("parseArgs(%q) = %q; want %q", tt.args, got, tt.want)
		}
	}
}

func newTestFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func TestServeWithCertificate(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}

	n := startServe(t, filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	if n.fingerprint != node.Fingerprint(der) {
		t.Errorf("printed fingerprint %s; the certificate's is %s", n.fingerprint, node.Fingerprint(der))
	}
	// The configured certificate replaces both of the node's.
	if n.browserFingerprint != "" || n.browserSPKI != "" {
		t.Errorf("with --tls-cert, serve printed a browser certificate:\n%s", n.stdout)
	}
	if code, _ := n.get(t, "/taxii2/", n.adminToken); code != http.StatusOK {
		t.Errorf("GET /taxii2/ = %d", code)
	}

	code, _, stderr := runCmd(t, "serve", "--data", filepath.Join(dir, "data2"), "--addr", "127.0.0.1:0", "--tls-cert", keyFile, "--tls-key", certFile)
	if code != 1 || !strings.Contains(stderr, "--tls-cert") {
		t.Errorf("swapped certificate and key: exit %d, %q; want 1 naming --tls-cert", code, stderr)
	}
}
