package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
)

var tokenField = regexp.MustCompile(`id="new-token" class="mono token" readonly value="([^"]+)"`)

// TestAccountsCreateShowsTokenOnce creates an account through the form,
// reads its token on the answer, logs in with it, and finds the token on
// no later page.
func TestAccountsCreateShowsTokenOnce(t *testing.T) {
	e := newEnv(t)
	admin := e.login(t, "admin")
	admin.get(t, "/ui/accounts")
	status, body := admin.post(t, "/ui/accounts", url.Values{"name": {"duty-officer"}, "role": {"analyst"}})
	m := tokenField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil || !strings.Contains(body, "it will not be shown again") {
		t.Fatalf("creating an account: %d\n%s", status, body)
	}
	token := m[1]
	if !strings.HasPrefix(token, node.TokenPrefix) {
		t.Fatalf("the page shows %q, not a token", token)
	}
	e.tokens["duty-officer"] = token
	officer := e.login(t, "duty-officer")
	if _, body := officer.get(t, "/ui/"); !strings.Contains(body, "Logged in as duty-officer (analyst)") {
		t.Fatalf("the new account's session:\n%s", body)
	}
	status, body = admin.get(t, "/ui/accounts")
	if status != http.StatusOK || strings.Contains(body, token) || !strings.Contains(body, `<td class="mono">duty-officer</td><td>analyst</td>`) {
		t.Fatalf("the accounts list after creating: %d, shows the token: %v\n%s", status, strings.Contains(body, token), body)
	}
	// Creating it again, or with a bad name or role, is refused on the
	// form, which keeps what was typed; nothing is created.
	for _, tc := range []struct {
		name, role string
		status     int
		says       string
	}{
		{"duty-officer", "reader", http.StatusConflict, "exists already"},
		{"bad name!", "reader", http.StatusBadRequest, "is not allowed"},
		{"-dash", "reader", http.StatusBadRequest, "is not allowed"},
		{strings.Repeat("x", 65), "reader", http.StatusBadRequest, "1 to 64 characters"},
		{"nobody", "superuser", http.StatusBadRequest, "Choose a role"},
	} {
		status, body := admin.post(t, "/ui/accounts", url.Values{"name": {tc.name}, "role": {tc.role}})
		if status != tc.status || !strings.Contains(body, tc.says) || !strings.Contains(body, `role="alert" id="form-error"`) ||
			!strings.Contains(body, `value="`+tc.name+`"`) || tokenField.MatchString(body) {
			t.Errorf("creating %q (%s): %d, want %d saying %q on the form\n%s", tc.name, tc.role, status, tc.status, tc.says, body)
		}
	}
	if _, err := e.st.Account(context.Background(), "nobody"); err == nil {
		t.Error("an account with a bad role was created")
	}
}

// TestAccountsGrantRevoke: a grant made on the page lets the account see
// the collection's sightings, and the revocation takes them away.
func TestAccountsGrantRevoke(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tok, err := node.CreateAccount(ctx, e.st, "bob", store.RoleReader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["bob"] = tok
	seen := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	e.add(c2Indicator, `{"type":"sighting","spec_version":"2.1","id":"sighting--0f5b6f8e-9d2c-4c33-8a35-7b0d1e2f3a4b","created":"2026-01-06T10:00:00.000Z","modified":"2026-01-06T10:00:00.000Z","sighting_of_ref":"`+c2ID+`","count":4,"first_seen":"`+seen+`","last_seen":"`+seen+`"}`)
	bob := e.login(t, "bob")
	sees := func() bool {
		_, body := bob.get(t, "/ui/detection")
		s, n := indicatorRow(t, body, c2ID)
		return s == 1 && n == 4
	}
	if sees() {
		t.Fatal("bob sees the sighting before any grant")
	}
	admin := e.login(t, "admin")
	admin.get(t, "/ui/accounts")
	status, body := admin.post(t, "/ui/accounts/bob/grant", url.Values{"collection": {e.collection}, "right": {"read"}})
	if status != http.StatusOK || !strings.Contains(body, "Granted read on ") || !strings.Contains(body, " to bob.") {
		t.Fatalf("granting: %d\n%s", status, body)
	}
	if !sees() {
		t.Fatal("bob does not see the sighting after the grant")
	}
	// A reader is never granted write; the page says why.
	status, body = admin.post(t, "/ui/accounts/bob/grant", url.Values{"collection": {e.collection}, "right": {"write"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "readers never write") {
		t.Fatalf("granting write to a reader: %d\n%s", status, body)
	}
	status, body = admin.post(t, "/ui/accounts/bob/revoke", url.Values{"collection": {e.collection}, "right": {"read"}})
	if status != http.StatusOK || !strings.Contains(body, "Revoked read on ") {
		t.Fatalf("revoking: %d\n%s", status, body)
	}
	if sees() {
		t.Fatal("bob still sees the sighting after the revocation")
	}
	for path, says := range map[string]string{
		"/ui/accounts/nobody/grant": "There is no account named nobody",
		"/ui/accounts/admin/grant":  "is an admin account",
	} {
		status, body := admin.post(t, path, url.Values{"collection": {e.collection}, "right": {"read"}})
		if status/100 != 4 || !strings.Contains(body, says) {
			t.Errorf("POST %s: %d\n%s", path, status, body)
		}
	}
	status, body = admin.post(t, "/ui/accounts/bob/grant", url.Values{"collection": {"no-such"}, "right": {"read"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "no such collection") {
		t.Errorf("granting on a missing collection: %d\n%s", status, body)
	}
}

// TestAccountsAdminOnly: the analyst and the reader get 403 on every
// accounts route, with a valid CSRF token, and change nothing.
func TestAccountsAdminOnly(t *testing.T) {
	e := newEnv(t)
	var routes int
	for _, who := range []string{"analyst", "reader"} {
		c := e.login(t, who)
		// A refused request answers 403 itself: a redirect would mean it acted.
		c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		for _, r := range e.console.routeList {
			method, path, _ := strings.Cut(r.Pattern, " ")
			if !strings.HasPrefix(path, "/ui/accounts") {
				continue
			}
			routes++
			path = strings.ReplaceAll(path, "{name}", who)
			var status int
			if method == http.MethodGet {
				status, _ = c.get(t, path)
			} else {
				c.get(t, "/ui/") // a fresh CSRF token of this session
				status, _ = c.post(t, path, url.Values{"name": {"intruder"}, "role": {"admin"}, "collection": {e.collection}, "right": {"write"}})
			}
			if status != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", method, path, who, status)
			}
		}
	}
	if routes != 8 {
		t.Errorf("%d accounts routes walked, want 4 for each of two roles", routes)
	}
	if _, err := e.st.Account(context.Background(), "intruder"); err == nil {
		t.Error("a non-admin created an account")
	}
	for who, want := range map[string]int{"analyst": 2, "reader": 1} {
		if gs, err := e.st.Grants(context.Background(), who); err != nil || len(gs) != want {
			t.Errorf("the %s's grants changed: %v, %v", who, gs, err)
		}
	}
}

// TestAccountsPages: the list pages by name, a keyset cursor in the
// query.
func TestAccountsPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range accountsPerPage + 5 {
		if _, err := node.CreateAccount(ctx, e.st, "user"+string(rune('a'+i/26))+string(rune('a'+i%26)), store.RoleReader, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	admin := e.login(t, "admin")
	_, first := admin.get(t, "/ui/accounts")
	next := regexp.MustCompile(`href="/ui/accounts\?after=([^"]+)">Next page`).FindStringSubmatch(first)
	if next == nil {
		t.Fatalf("no next page on a list of %d accounts", accountsPerPage+8)
	}
	_, second := admin.get(t, "/ui/accounts?after="+next[1])
	rows := regexp.MustCompile(`<tr id="account-([^"]+)">`)
	var names []string
	for _, page := range []string{first, second} {
		for _, m := range rows.FindAllStringSubmatch(page, -1) {
			names = append(names, m[1])
		}
	}
	if len(names) != accountsPerPage+8 || strings.Contains(second, "Next page") {
		t.Fatalf("two pages list %d accounts, want %d", len(names), accountsPerPage+8)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("accounts out of order or repeated: %q before %q", names[i-1], names[i])
		}
	}
}
