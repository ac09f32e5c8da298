package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
)

// TestRestartNeeds checks what an amendment changes that serve sets up
// only at start, and so what the log tells the operator to restart for.
func TestRestartNeeds(t *testing.T) {
	parse := func(name string, edit func(string) string) *agreement.Agreement {
		t.Helper()
		doc, err := examples.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		a, err := agreement.Parse([]byte(edit(string(doc))))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	same := func(s string) string { return s }
	v1 := parse("arcadia-borealis.yaml", same)
	v2 := parse("arcadia-borealis-v2.yaml", same)
	moved := parse("arcadia-borealis-v2.yaml", func(s string) string {
		return strings.Replace(s, "https://taxii.cyber.borealis.example/api/", "https://taxii2.cyber.borealis.example/api/", 1)
	})
	renamed := parse("arcadia-borealis-v2.yaml", func(s string) string {
		return strings.Replace(s, "log: taxii.cyber.borealis.example/ledger", "log: taxii.cyber.borealis.example/ledger2", 1)
	})
	contact := parse("arcadia-borealis-v2.yaml", func(s string) string {
		return strings.Replace(s, "hours: 24/7", "hours: 08:00-18:00 UTC", 1)
	})
	const (
		links     = "the links to partner nodes (a partner node added, removed, or its URL, log or key changed)"
		witnesses = "the witnesses of this node's log"
		witnessed = "the partner logs this node witnesses"
		mail      = "the contact points case mail goes to"
	)
	for _, c := range []struct {
		name string
		next *agreement.Agreement
		self string
		mail bool
		want []string
	}{
		{"same", v1, "arcadia-node-1", true, nil},
		// Amendment No. 1 adds a witness of Arcadia's log only.
		{"v2 at arcadia", v2, "arcadia-node-1", true, []string{witnesses}},
		{"v2 at borealis", v2, "borealis-node-1", true, nil},
		{"partner moved", moved, "arcadia-node-1", false, []string{links, witnesses}},
		// A node's own URL is for its partners.
		{"own node moved", moved, "borealis-node-1", false, nil},
		{"partner log renamed", renamed, "arcadia-node-1", false, []string{links, witnesses, witnessed}},
		{"contact without mail", contact, "borealis-node-1", false, nil},
		{"contact with mail", contact, "borealis-node-1", true, []string{mail}},
	} {
		if got := restartNeeds(v1, c.next, c.self, c.mail); !slices.Equal(got, c.want) {
			t.Errorf("%s: restartNeeds = %q, want %q", c.name, got, c.want)
		}
	}
}
