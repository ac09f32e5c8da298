package examples_test

import (
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/node"
)

// TestTrilateral checks that the trilateral example is signed by its three
// parties and in force, that the node keys under keys/ are the ones it pins
// (the demo serves with them), and that it keeps the rules the
// documentation promises: one forbidding onward transfer, one allowing only
// TLP:CLEAR indicators, and different rules in each direction.
func TestTrilateral(t *testing.T) {
	doc, err := examples.FS.ReadFile(examples.Trilateral)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if len(a.Parties) != 3 || len(a.Signatures) != 3 {
		t.Fatalf("%d parties, %d signatures; want 3 and 3", len(a.Parties), len(a.Signatures))
	}
	for _, p := range a.Parties {
		if len(p.Nodes) != 1 {
			t.Fatalf("party %s has %d nodes; the demo runs one each", p.ID, len(p.Nodes))
		}
		n := p.Nodes[0]
		text, err := examples.FS.ReadFile("keys/" + n.ID + ".key")
		if err != nil {
			t.Fatal(err)
		}
		k, err := node.ParseKey(strings.TrimSpace(string(text)))
		if err != nil {
			t.Fatalf("keys/%s.key: %v", n.ID, err)
		}
		if k.VerifierKey != n.Key || k.WitnessVerifierKey() != n.WitnessKey {
			t.Errorf("node %s: keys/%s.key does not hold the pinned key %s and witness key %s", n.ID, n.ID, n.Key, n.WitnessKey)
		}
		if len(n.Witnesses) != 2 || n.WitnessThreshold < 1 {
			t.Errorf("node %s: witnesses %v, threshold %d; want both partners", n.ID, n.Witnesses, n.WitnessThreshold)
		}
		if _, err := examples.FS.ReadFile("keys/" + p.ID + ".key"); err != nil {
			t.Errorf("party %s: %v", p.ID, err)
		}
	}
	var noOnward, clearIndicators bool
	for _, r := range a.Rules {
		back, ok := a.Rule(r.To, r.From)
		if !ok {
			t.Fatalf("no rule from %s to %s", r.To, r.From)
		}
		if strings.Join(r.Types, ",") == strings.Join(back.Types, ",") && r.TLP == back.TLP && r.OnwardTransfer == back.OnwardTransfer {
			t.Errorf("rules %s and %s are alike; the example shows rules that differ per direction", r.ID, back.ID)
		}
		noOnward = noOnward || !r.OnwardTransfer
		clearIndicators = clearIndicators || strings.Join(r.Types, ",") == "indicator" && r.TLP == "clear" && (r.Unmarked == "" || r.Unmarked == "clear")
	}
	if len(a.Rules) != 6 || !noOnward || !clearIndicators {
		t.Errorf("%d rules, one without onward transfer %v, one for TLP:CLEAR indicators only %v", len(a.Rules), noOnward, clearIndicators)
	}
}
