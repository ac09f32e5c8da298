package node_test

import (
	"errors"
	"testing"
	"time"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// TestConsoleCasesAuthorize: the console's case reads and steps decide
// the cases collection with Can, as TAXII does.
func TestConsoleCasesAuthorize(t *testing.T) {
	a, b := twoParties(t, nil)
	ctx := t.Context()
	admin := &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}
	reader := &taxii.Caller{Name: "ann", Role: string(store.RoleReader)}
	analyst := &taxii.Caller{Name: "bob", Role: string(store.RoleAnalyst)}
	for _, acct := range []struct {
		c    *taxii.Caller
		role store.Role
	}{{reader, store.RoleReader}, {analyst, store.RoleAnalyst}} {
		if _, err := node.CreateAccount(ctx, a.st, acct.c.Name, acct.role, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// No cases collection yet: nothing to read, for anyone.
	if _, err := a.n.CasesPage(ctx, admin, 0, 10); !errors.Is(err, taxii.ErrNotFound) {
		t.Fatalf("reading cases before there is a collection: %v", err)
	}
	f := &casework.Reachability{Authority: b.ag.Parties[1].Authorities[0].ID, Channel: "email"}
	if _, err := a.n.OpenCaseAs(ctx, analyst, casework.TypeReachability, f, nil, b.id); !errors.Is(err, taxii.ErrNotFound) {
		t.Fatalf("an analyst without rights opened a case: %v", err)
	}
	c, err := a.n.OpenCaseAs(ctx, admin, casework.TypeReachability, f, nil, b.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.n.CaseTimeline(ctx, reader, c.ID); !errors.Is(err, taxii.ErrNotFound) {
		t.Fatalf("a reader without the right to read the cases read one: %v", err)
	}
	if _, _, err := node.Grant(ctx, a.st, reader.Name, node.CasesAlias, store.RightRead); err != nil {
		t.Fatal(err)
	}
	if _, _, err := node.Grant(ctx, a.st, analyst.Name, node.CasesAlias, store.RightRead); err != nil {
		t.Fatal(err)
	}
	p, err := a.n.CasesPage(ctx, reader, 0, 10)
	if err != nil || len(p.Cases) != 1 || p.Cases[0].ID != c.ID || p.Next != 0 {
		t.Fatalf("the reader's page: %+v, %v", p, err)
	}
	if _, err := a.n.StepCaseAs(ctx, analyst, c.ID, casework.Event{Kind: casework.EventSend}); !errors.Is(err, taxii.ErrForbidden) {
		t.Fatalf("an analyst with read only stepped a case: %v", err)
	}
	if _, _, err := node.Grant(ctx, a.st, analyst.Name, node.CasesAlias, store.RightWrite); err != nil {
		t.Fatal(err)
	}
	if _, err := a.n.StepCaseAs(ctx, analyst, c.ID, casework.Event{Kind: casework.EventSend}); err != nil {
		t.Fatal(err)
	}
	steps, err := a.n.CaseTimeline(ctx, reader, c.ID)
	if err != nil || len(steps) != 2 || steps[0].State != casework.StateDraft || steps[1].State != casework.StateSent {
		t.Fatalf("the timeline: %+v, %v", steps, err)
	}
	for _, st := range steps {
		if st.LedgerIndex < 0 {
			t.Errorf("the %s version has no ledger entry", st.State)
		}
	}
	if steps[0].LedgerIndex == steps[1].LedgerIndex {
		t.Error("two versions share a ledger entry")
	}
	if _, err := a.n.CaseTimeline(ctx, reader, "entente-reachability-test--00000000-0000-4000-8000-000000000000"); !errors.Is(err, node.ErrNoCase) {
		t.Fatalf("a case the node does not hold: %v", err)
	}
}

// TestConsoleCasesPageByKeyset: pages follow each other by their cursor
// and together hold every case once.
func TestConsoleCasesPageByKeyset(t *testing.T) {
	a, b := twoParties(t, nil)
	ctx := t.Context()
	admin := &taxii.Caller{Name: "admin", Role: string(store.RoleAdmin)}
	f := &casework.Reachability{Authority: b.ag.Parties[1].Authorities[0].ID, Channel: "email"}
	want := map[string]bool{}
	for range 5 {
		c, err := a.n.OpenCaseAs(ctx, admin, casework.TypeReachability, f, nil, b.id)
		if err != nil {
			t.Fatal(err)
		}
		want[c.ID] = true
	}
	seen := map[string]bool{}
	var after int64
	for pages := 0; ; pages++ {
		p, err := a.n.CasesPage(ctx, admin, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Cases {
			if seen[c.ID] {
				t.Fatalf("case %s on two pages", c.ID)
			}
			seen[c.ID] = true
		}
		if p.Next == 0 {
			break
		}
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
		after = p.Next
	}
	if len(seen) != len(want) {
		t.Fatalf("the pages hold %d cases, want %d", len(seen), len(want))
	}
}
