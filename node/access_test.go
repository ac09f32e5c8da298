package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

func TestCan(t *testing.T) {
	const col, other = "c1", "c2"
	grant := func(account, collection string, r store.Right) store.Grant {
		return store.Grant{Account: account, Collection: collection, Right: r}
	}
	share := func(party, collection string, r store.Right) store.Share {
		return store.Share{Party: party, Collection: collection, Right: r}
	}
	read, write := grant("a", col, store.RightRead), grant("a", col, store.RightWrite)
	tests := []struct {
		name   string
		p      Principal
		see    bool
		read   bool
		write  bool
		delete bool
	}{
		{"admin without grants", Principal{Account: "a", Role: store.RoleAdmin}, true, true, true, true},
		{"analyst without grants", Principal{Account: "a", Role: store.RoleAnalyst}, false, false, false, false},
		{"reader without grants", Principal{Account: "a", Role: store.RoleReader}, false, false, false, false},
		{"analyst, read", Principal{Account: "a", Role: store.RoleAnalyst, Grants: []store.Grant{read}}, true, true, false, false},
		{"analyst, write", Principal{Account: "a", Role: store.RoleAnalyst, Grants: []store.Grant{write}}, true, false, true, false},
		{"analyst, read and write", Principal{Account: "a", Role: store.RoleAnalyst, Grants: []store.Grant{read, write}}, true, true, true, true},
		{"reader, read", Principal{Account: "a", Role: store.RoleReader, Grants: []store.Grant{read}}, true, true, false, false},
		// The role caps the rights: a reader's write grant counts for nothing.
		{"reader, read and write", Principal{Account: "a", Role: store.RoleReader, Grants: []store.Grant{read, write}}, true, true, false, false},
		{"reader, write", Principal{Account: "a", Role: store.RoleReader, Grants: []store.Grant{write}}, false, false, false, false},
		{"grants on another collection", Principal{Account: "a", Role: store.RoleAnalyst, Grants: []store.Grant{grant("a", other, store.RightRead), grant("a", other, store.RightWrite)}}, false, false, false, false},
		{"another account's grants", Principal{Account: "a", Role: store.RoleAnalyst, Grants: []store.Grant{grant("b", col, store.RightRead)}}, false, false, false, false},
		{"unknown role", Principal{Account: "a", Role: "root", Grants: []store.Grant{read, write}}, false, false, false, false},
		{"no role", Principal{Account: "a"}, false, false, false, false},
		{"unknown right", Principal{Account: "a", Role: store.RoleAnalyst, Grants: []store.Grant{grant("a", col, "delete")}}, false, false, false, false},
		// A partner node: only what is shared with its party, and never a delete.
		{"partner without shares", Principal{Account: "b-node", Role: RolePartner, Party: "b"}, false, false, false, false},
		{"partner, read", Principal{Account: "b-node", Role: RolePartner, Party: "b", Shares: []store.Share{share("b", col, store.RightRead)}}, true, true, false, false},
		{"partner, write", Principal{Account: "b-node", Role: RolePartner, Party: "b", Shares: []store.Share{share("b", col, store.RightWrite)}}, true, false, true, false},
		{"partner, read and write", Principal{Account: "b-node", Role: RolePartner, Party: "b", Shares: []store.Share{share("b", col, store.RightRead), share("b", col, store.RightWrite)}}, true, true, true, false},
		{"partner, another party's share", Principal{Account: "b-node", Role: RolePartner, Party: "b", Shares: []store.Share{share("c", col, store.RightRead)}}, false, false, false, false},
		{"partner, share of another collection", Principal{Account: "b-node", Role: RolePartner, Party: "b", Shares: []store.Share{share("b", other, store.RightRead)}}, false, false, false, false},
		{"partner without a party", Principal{Account: "b-node", Role: RolePartner, Shares: []store.Share{share("", col, store.RightRead)}}, false, false, false, false},
		{"partner role with account grants", Principal{Account: "a", Role: RolePartner, Party: "b", Grants: []store.Grant{read, write}}, false, false, false, false},
		{"account with shares", Principal{Account: "a", Role: store.RoleReader, Party: "b", Shares: []store.Share{share("b", col, store.RightRead)}}, false, false, false, false},
	}
	for _, tt := range tests {
		got := [4]bool{Can(tt.p, col, ActionSee), Can(tt.p, col, ActionRead), Can(tt.p, col, ActionWrite), Can(tt.p, col, ActionDelete)}
		if want := [4]bool{tt.see, tt.read, tt.write, tt.delete}; got != want {
			t.Errorf("%s: see, read, write, delete = %v; want %v", tt.name, got, want)
		}
		if Can(tt.p, col, 0) || Can(tt.p, col, ActionDelete+1) {
			if tt.p.Role != store.RoleAdmin {
				t.Errorf("%s: an unknown action is allowed", tt.name)
			}
		}
	}
}

// TestPermissions drives every Backend method that takes a collection with
// each kind of caller, on collections they hold different rights on.
func TestPermissions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	secret, err := CreateCollection(ctx, f.st, DefaultAPIRoot, "Secret", "secret")
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := CreateCollection(ctx, f.st, DefaultAPIRoot, "Inbox", "inbox")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Grant(ctx, f.st, "analyst1", "inbox", store.RightWrite); err != nil {
		t.Fatal(err)
	}
	def := f.ini.CollectionID
	admin := f.callers[store.RoleAdmin]
	obj := indicator(7, "2024-01-01T00:00:00.000Z")
	const objID = "indicator--00000007-0000-4000-8000-000000000000"
	for _, col := range []string{def, secret, inbox} {
		if _, err := f.node.AddObjects(ctx, admin, DefaultAPIRoot, col, []json.RawMessage{obj}); err != nil {
			t.Fatal(err)
		}
	}

	// Per caller and collection: what Collection, Objects, AddObjects and
	// DeleteObject answer ("ok", "403" or "404").
	type answers struct{ see, read, add, del string }
	tests := []struct {
		role store.Role
		want map[string]answers
	}{
		{store.RoleAdmin, map[string]answers{
			def: {"ok", "ok", "ok", "ok"}, secret: {"ok", "ok", "ok", "ok"}, inbox: {"ok", "ok", "ok", "ok"}}},
		{store.RoleAnalyst, map[string]answers{
			def: {"ok", "ok", "ok", "ok"}, secret: {"404", "404", "404", "404"}, inbox: {"ok", "403", "ok", "403"}}},
		{store.RoleReader, map[string]answers{
			def: {"ok", "ok", "403", "403"}, secret: {"404", "404", "404", "404"}, inbox: {"404", "404", "404", "404"}}},
	}
	answer := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, taxii.ErrForbidden):
			return "403"
		case errors.Is(err, taxii.ErrNotFound):
			return "404"
		}
		return err.Error()
	}
	for _, tt := range tests {
		c := f.callers[tt.role]
		for col, want := range tt.want {
			var got answers
			_, err := f.node.Collection(ctx, c, DefaultAPIRoot, col)
			got.see = answer(err)
			_, err = f.node.Objects(ctx, c, DefaultAPIRoot, col, &taxii.Filter{Limit: 10})
			got.read = answer(err)
			_, err = f.node.AddObjects(ctx, c, DefaultAPIRoot, col, []json.RawMessage{obj})
			got.add = answer(err)
			got.del = answer(f.node.DeleteObject(ctx, c, DefaultAPIRoot, col, objID, &taxii.Filter{Versions: taxii.VersionMatch{All: true}}))
			if got != want {
				t.Errorf("%s on %s: see, read, add, delete = %v; want %v", tt.role, col, got, want)
			}
			// Put back what a delete removed.
			if _, err := f.node.AddObjects(ctx, admin, DefaultAPIRoot, col, []json.RawMessage{obj}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The collections resource lists what each caller may see, with its
	// rights.
	for role, want := range map[store.Role]string{
		store.RoleAdmin:   "default:rw secret:rw inbox:rw",
		store.RoleAnalyst: "default:rw inbox:-w",
		store.RoleReader:  "default:r-",
	} {
		cs, err := f.node.Collections(ctx, f.callers[role], DefaultAPIRoot)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cs {
			got = append(got, fmt.Sprintf("%s:%s%s", c.Alias, map[bool]string{true: "r", false: "-"}[c.CanRead], map[bool]string{true: "w", false: "-"}[c.CanWrite]))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s lists %q; want %q", role, strings.Join(got, " "), want)
		}
	}

	// A hidden collection's 404 says what an absent one's says.
	_, hidden := f.node.Objects(ctx, f.callers[store.RoleReader], DefaultAPIRoot, "secret", &taxii.Filter{Limit: 10})
	_, absent := f.node.Objects(ctx, f.callers[store.RoleReader], DefaultAPIRoot, "absent", &taxii.Filter{Limit: 10})
	if strings.ReplaceAll(hidden.Error(), "secret", "absent") != absent.Error() {
		t.Errorf("hidden collection: %q\nabsent collection: %q\nwant the same answer", hidden, absent)
	}

	// A revocation applies to the next request.
	if _, _, err := Revoke(ctx, f.st, "reader1", def, store.RightRead); err != nil {
		t.Fatal(err)
	}
	if _, err := f.node.Objects(ctx, f.callers[store.RoleReader], DefaultAPIRoot, def, &taxii.Filter{Limit: 10}); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("read after revocation: %v; want 404", err)
	}
}

func TestPermissionsStoreFailure(t *testing.T) {
	f := newFixture(t)
	f.st.fail = errors.New("disk on fire")
	_, err := f.node.Objects(t.Context(), f.callers[store.RoleReader], DefaultAPIRoot, f.ini.CollectionID, &taxii.Filter{Limit: 10})
	if err == nil || errors.Is(err, taxii.ErrNotFound) || errors.Is(err, taxii.ErrForbidden) {
		t.Errorf("Objects when grants cannot be read: %v; want an internal error, neither 403 nor 404", err)
	}
}

func TestGrantAndRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := CreateCollection(ctx, f.st, DefaultAPIRoot, "Phishing", "phishing"); err != nil {
		t.Fatal(err)
	}
	col, changed, err := Grant(ctx, f.st, "reader1", "phishing", store.RightRead)
	if err != nil || !changed || col.Alias != "phishing" {
		t.Fatalf("Grant by alias = %+v, %v, %v", col, changed, err)
	}
	if _, changed, err := Grant(ctx, f.st, "reader1", col.ID, store.RightRead); err != nil || changed {
		t.Errorf("Grant by id, held already = %v, %v; want unchanged", changed, err)
	}
	if _, changed, err := Revoke(ctx, f.st, "reader1", col.ID, store.RightRead); err != nil || !changed {
		t.Errorf("Revoke = %v, %v", changed, err)
	}
	if _, changed, err := Revoke(ctx, f.st, "reader1", "phishing", store.RightRead); err != nil || changed {
		t.Errorf("Revoke, not held = %v, %v; want unchanged", changed, err)
	}
	if gs, _ := f.st.Grants(ctx, "reader1"); slices.ContainsFunc(gs, func(g store.Grant) bool { return g.Collection == col.ID }) {
		t.Errorf("grants after revoking: %v", gs)
	}

	for _, tt := range []struct {
		name, account, collection string
		right                     store.Right
		want                      string
	}{
		{"admin", "admin", "phishing", store.RightRead, "admin account, which may read and write every collection"},
		{"write to a reader", "reader1", "phishing", store.RightWrite, "readers never write"},
		{"unknown account", "nobody", "phishing", store.RightRead, "no such account"},
		{"unknown collection", "reader1", "nope", store.RightRead, `no collection has the id or alias "nope"; the collections are: default (` + f.ini.CollectionID + "), phishing ("},
		{"unknown right", "reader1", "phishing", "delete", `right "delete"`},
	} {
		for name, fn := range map[string]func() error{
			"Grant":  func() error { _, _, err := Grant(ctx, f.st, tt.account, tt.collection, tt.right); return err },
			"Revoke": func() error { _, _, err := Revoke(ctx, f.st, tt.account, tt.collection, tt.right); return err },
		} {
			if err := fn(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s, %s: %v; want an error saying %q", name, tt.name, err, tt.want)
			}
		}
	}

	// An alias taken in two API roots is ambiguous.
	if err := f.st.CreateAPIRoot(ctx, store.APIRoot{Path: "api2", Title: "Two", MaxContentLength: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateCollection(ctx, f.st, "api2", "Phishing too", "phishing"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Grant(ctx, f.st, "reader1", "phishing", store.RightRead); err == nil || !strings.Contains(err.Error(), "give the collection's id") {
		t.Errorf("Grant with an ambiguous alias: %v", err)
	}
}
