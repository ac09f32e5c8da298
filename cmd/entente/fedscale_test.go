package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
)

// scaleNode is one node of a generated agreement among n parties.
type scaleNode struct {
	party, id, dir, addr, origin string
	key                          *node.Key
	token                        string // the admin token, once prepared
}

// scaleAgreement writes a signed agreement among n fictional parties, one
// node each on a free loopback port, every party sending every other
// TLP:CLEAR and GREEN indicators, each node witnessed by the next one
// (a ring, so that witnessing costs each node the same whatever n), and
// returns its file and nodes with their data directories and keys.
func scaleAgreement(t testing.TB, n int) (string, []*scaleNode) {
	t.Helper()
	root := t.TempDir()
	var nodes []*scaleNode
	var signers []note.Signer
	var b strings.Builder
	fmt.Fprintf(&b, "agreement: scale-%d\ntitle: A generated agreement among %d parties\nversion: 1\n", n, n)
	b.WriteString("validity:\n  effective: 2026-01-01\n  expires: 2031-01-01\n\nparties:\n")
	for i := range n {
		p := &scaleNode{party: fmt.Sprintf("state%03d", i), id: fmt.Sprintf("state%03d-node", i), addr: freeAddr(t)}
		p.dir = filepath.Join(root, p.id)
		p.origin = "cti.state" + fmt.Sprint(i) + ".example/ledger"
		if err := node.PrepareDataDir(p.dir); err != nil {
			t.Fatal(err)
		}
		skey, err := node.GenerateKey(p.id)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p.dir, keyFile), []byte(skey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if p.key, err = node.ParseKey(skey); err != nil {
			t.Fatal(err)
		}
		psk, pvk, err := note.GenerateKey(rand.Reader, p.party)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := note.NewSigner(psk)
		signers = append(signers, s)
		nodes = append(nodes, p)
		fmt.Fprintf(&b, `  - id: %[1]s
    name: State %[2]d
    jurisdiction: State %[2]d
    key: %[3]s
    authorities:
      - id: %[1]s-cert
        name: CERT of state %[2]d
        roles: [cert]
        contact:
          name: duty officer
          email: duty@cert.state%[2]d.example
          phone: "+999 555 %04[2]d"
          hours: 24/7
    nodes:
      - id: %[4]s
        url: https://%[5]s/taxii2/
        key: %[6]s
        authority: %[1]s-cert
        log: %[7]s
        witness_key: %[8]s
`, p.party, i, pvk, p.id, p.addr, p.key.VerifierKey, p.origin, p.key.WitnessVerifierKey())
		if n > 1 {
			fmt.Fprintf(&b, "        witnesses:\n          - node: state%03d-node\n        witness_threshold: 1\n", (i+1)%n)
		}
		fmt.Fprintf(&b, "    refusal_grounds: [political-offence, essential-interests, human-rights]\n")
	}
	b.WriteString("\nrules:\n")
	for _, from := range nodes {
		for _, to := range nodes {
			if from == to {
				continue
			}
			fmt.Fprintf(&b, `  - id: %[1]s-to-%[2]s
    from: %[1]s
    to: %[2]s
    types: [indicator]
    tlp: green
    unmarked: green
    pap: green
    conditions:
      confidential: true
      purposes: [network-defence]
      third_parties: never
      retention_days: 365
`, from.party, to.party)
		}
	}
	b.WriteString(`
deadlines:
  - workflow: incident-notification
    acknowledge_hours: 4
    answer_days: 3
escalation:
  - level: technical
    after_hours: 0

signatures: []
`)
	signed := []byte(b.String())
	for _, s := range signers {
		var err error
		if signed, _, err = agreement.Sign(signed, s); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(root, "agreement.yaml")
	if err := os.WriteFile(file, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	return file, nodes
}

func TestScaleAgreement(t *testing.T) {
	file, nodes := scaleAgreement(t, 5)
	if _, stderr, code := execEntente(t, "agreement", "verify", file); code != 0 {
		t.Fatalf("verify: %s", stderr)
	}
	if len(nodes) != 5 {
		t.Fatalf("%d nodes", len(nodes))
	}
}

// prepareScaleNode initializes n's store and shares its default
// collection with every other party, to read and to write.
func prepareScaleNode(tb testing.TB, n *scaleNode, nodes []*scaleNode) {
	tb.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, n.dir, "", true)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	ini, err := node.Initialize(ctx, st, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	n.token = ini.AdminToken
	for _, m := range nodes {
		if m == n {
			continue
		}
		for _, right := range []store.Right{store.RightRead, store.RightWrite} {
			if err := st.AddShare(ctx, store.Share{Party: m.party, Collection: ini.CollectionID, Right: right}); err != nil {
				tb.Fatal(err)
			}
		}
	}
}
