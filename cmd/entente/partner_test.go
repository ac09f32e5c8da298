package main

import (
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// partnerClient is a TAXII client of node to, presenting the node key
// of from as its client certificate, with no account token.
func partnerClient(t *testing.T, to *partnerNode, from *node.Key) *taxii.Client {
	t.Helper()
	cfg, err := node.NodeKeyTLSConfig(to.key.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := from.SelfSignedCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := taxii.NewClient(to.run.base+"/", taxii.ClientOptions{HTTPClient: &http.Client{Transport: tr, Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPartnerShare runs a node under an agreement and shares its default
// collection with the partner party from the command line while it
// serves: the partner node, known by its certificate alone, reads nothing
// before, and then only what the agreement's rule allows.
func TestPartnerShare(t *testing.T) {
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "")
	file := witnessAgreement(t, a, b)
	a.start(t, file)
	ctx := t.Context()

	green := `{"type":"indicator","spec_version":"2.1","id":"indicator--6a2e5bb4-0a4e-4d6f-9d68-5b2f0c6b1a01","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.66']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`
	red := strings.NewReplacer("6a2e5bb4", "7b3f6cc5", "34098fce-860f-48ae-8e50-ebd3cc5e41da", "5e57c739-391a-4eb3-b6be-7d15ca92d5ed").Replace(green)
	if code, body := a.run.send(t, "POST", "/api1/collections/default/objects/", a.run.adminToken, `{"objects":[`+green+`,`+red+`]}`); code != http.StatusAccepted {
		t.Fatalf("POST = %d %s", code, body)
	}

	p := partnerClient(t, a, b.key)
	if cols, err := p.Collections(ctx, "api1"); err != nil || len(cols) != 0 {
		t.Fatalf("the partner's collections before a share: %v, %v; want none", cols, err)
	}
	if _, err := partnerClient(t, a, newPartnerNode(t, "borealis-node-1", "borealis", "").key).Discovery(ctx); err == nil {
		t.Error("a node key the agreement does not pin was accepted")
	}

	out := mustRun(t, "partner", "share", "--data", a.dir, "--agreement", file, "borealis", "default", "--right", "read")
	if !strings.Contains(out, `shared read on collection "Default collection"`) {
		t.Errorf("share printed %q", out)
	}
	if out := mustRun(t, "partner", "share", "--data", a.dir, "--agreement", file, "borealis", "default", "--right", "read"); !strings.Contains(out, "nothing changed") {
		t.Errorf("sharing again printed %q; want nothing changed", out)
	}
	if out := mustRun(t, "partner", "list", "--data", a.dir); !strings.HasPrefix(out, "borealis\tread\t") {
		t.Errorf("list printed %q", out)
	}
	env, _, err := p.Objects(ctx, "api1", "default", taxii.Query{})
	if err != nil || len(env.Objects) != 1 || !strings.Contains(string(env.Objects[0]), "6a2e5bb4") {
		t.Errorf("the partner reads %v, %v; want the TLP:GREEN indicator alone", env, err)
	}

	mustRun(t, "partner", "unshare", "--data", a.dir, "borealis", "default", "--right", "read")
	if _, _, err := p.Objects(ctx, "api1", "default", taxii.Query{}); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("after unshare: %v; want 404", err)
	}
}

// TestPartnerShareErrors: each mistake is named, with what to do.
func TestPartnerShareErrors(t *testing.T) {
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "")
	file := witnessAgreement(t, a, b)
	a.start(t, file)
	stranger := newPartnerNode(t, "borealis-node-1", "borealis", "")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no right", []string{"share", "--data", a.dir, "--agreement", file, "borealis", "default"}, 2, "--right is missing"},
		{"bad right", []string{"share", "--data", a.dir, "--agreement", file, "borealis", "default", "--right", "delete"}, 2, `--right "delete" is not read or write`},
		{"no agreement", []string{"share", "--data", a.dir, "borealis", "default", "--right", "read"}, 2, "--agreement is missing"},
		{"unknown party", []string{"share", "--data", a.dir, "--agreement", file, "dystopia", "default", "--right", "read"}, 1, `"dystopia" (agreement arcadia-borealis-cti version 1; its partner parties are: borealis)`},
		{"own party", []string{"share", "--data", a.dir, "--agreement", file, "arcadia", "default", "--right", "read"}, 1, "not a partner party"},
		{"unknown collection", []string{"share", "--data", a.dir, "--agreement", file, "borealis", "nope", "--right", "read"}, 1, "create it with 'entente collection add"},
		{"not this node's agreement", []string{"share", "--data", stranger.dir, "--agreement", file, "borealis", "default", "--right", "read"}, 1, "no node of the agreement has this node's key"},
		{"missing party", []string{"unshare", "--data", a.dir, "default", "--right", "read"}, 2, "missing COLLECTION"},
		{"unknown subcommand", []string{"give"}, 2, "share, unshare, list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append([]string{"partner"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}
