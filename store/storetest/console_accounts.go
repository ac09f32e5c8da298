package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/entente/entente/store"
)

var consoleAccountsTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AccountsList", testAccountsList},
}

// testAccountsList checks that Accounts pages through every account in
// byte order of names (upper case before lower case, digits first), with
// each account's role and creation time.
func testAccountsList(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.Accounts(ctx, "", 10); err != nil || len(got) != 0 {
		t.Fatalf("Accounts on an empty store = %v, %v; want none", got, err)
	}
	created := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)
	names := []string{"zoe", "Zed", "alice", "9lives", "bob@cert.example", "alice.b", "Alice"}
	for i, name := range names {
		a := store.Account{Name: name, Role: store.RoleReader, TokenHash: []byte(fmt.Sprintf("token hash of account number %d", i)), Created: created.Add(time.Duration(i) * time.Second)}
		if i%2 == 1 {
			a.Role = store.RoleAnalyst
		}
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	want := slices.Clone(names)
	slices.Sort(want) // Go compares strings byte by byte
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > len(names) {
			t.Fatalf("Accounts does not end: %v", got)
		}
		page, err := s.Accounts(ctx, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("Accounts(%q, 3) returned %d accounts", after, len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			i := slices.Index(names, a.Name)
			if i < 0 {
				t.Fatalf("Accounts returned unknown account %q", a.Name)
			}
			wantRole := store.RoleReader
			if i%2 == 1 {
				wantRole = store.RoleAnalyst
			}
			if a.Role != wantRole || !a.Created.Equal(created.Add(time.Duration(i)*time.Second)) || len(a.TokenHash) == 0 {
				t.Errorf("account %q = %+v; want role %s, created %s", a.Name, a, wantRole, created.Add(time.Duration(i)*time.Second))
			}
			got = append(got, a.Name)
		}
		after = page[len(page)-1].Name
	}
	if !slices.Equal(got, want) {
		t.Errorf("Accounts pages gave %v, want %v", got, want)
	}
	if page, err := s.Accounts(ctx, "alice", 2); err != nil || len(page) != 2 || page[0].Name != "alice.b" || page[1].Name != "bob@cert.example" {
		t.Errorf("Accounts(alice, 2) = %v, %v; want alice.b, bob@cert.example", page, err)
	}
}
