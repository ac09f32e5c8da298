package node

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// indicator returns a valid STIX 2.1 indicator with the given UUID suffix
// and modified time.
func indicator(n int, modified string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":%q,"pattern":"[ipv4-addr:value = '198.51.100.%d']",`+
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, n, modified, n%250))
}

type fixture struct {
	st    *fakeStore
	node  *Node
	ini   *Initialized
	clock time.Time
	// callers by role, with their tokens
	callers map[store.Role]*taxii.Caller
	tokens  map[store.Role]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{
		st:      newFakeStore(),
		clock:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		callers: map[store.Role]*taxii.Caller{},
		tokens:  map[store.Role]string{},
	}
	ini, err := Initialize(ctx, f.st, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.ini = ini
	f.node, err = New(ctx, Config{Store: f.st, Now: func() time.Time { return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	f.tokens[store.RoleAdmin] = ini.AdminToken
	for _, r := range []store.Role{store.RoleAnalyst, store.RoleReader} {
		tok, err := CreateAccount(ctx, f.st, string(r)+"1", r, f.clock)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = tok
	}
	// As an operator would: the analyst may read and write the default
	// collection, the reader may read it.
	for _, g := range []store.Grant{
		{Account: "analyst1", Collection: ini.CollectionID, Right: store.RightRead},
		{Account: "analyst1", Collection: ini.CollectionID, Right: store.RightWrite},
		{Account: "reader1", Collection: ini.CollectionID, Right: store.RightRead},
	} {
		if _, _, err := Grant(ctx, f.st, g.Account, g.Collection, g.Right); err != nil {
			t.Fatal(err)
		}
	}
	for r, tok := range f.tokens {
		c, err := f.node.Authenticate(ctx, "", tok)
		if err != nil {
			t.Fatalf("authenticating the %s: %v", r, err)
		}
		f.callers[r] = c
	}
	return f
}

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestInitialize(t *testing.T) {
	ctx := t.Context()
	st := newFakeStore()
	first, err := Initialize(ctx, st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if first.APIRoot != DefaultAPIRoot || first.CollectionID == "" || !strings.HasPrefix(first.AdminToken, TokenPrefix) {
		t.Fatalf("Initialize = %+v; want API root %q, a collection and an admin token", first, DefaultAPIRoot)
	}
	a, err := st.Account(ctx, AdminAccount)
	if err != nil || a.Role != store.RoleAdmin {
		t.Fatalf("admin account = %+v, %v", a, err)
	}
	if string(a.TokenHash) != string(HashToken(first.AdminToken)) {
		t.Error("the stored hash is not the SHA-256 of the printed token")
	}

	again, err := Initialize(ctx, st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if again.AdminToken != "" || again.CollectionID != first.CollectionID {
		t.Errorf("second Initialize = %+v; want no token and collection %s", again, first.CollectionID)
	}
	if len(st.collections) != 1 || len(st.roots) != 1 || len(st.accounts) != 1 {
		t.Errorf("after two Initialize: %d roots, %d collections, %d accounts; want 1 each", len(st.roots), len(st.collections), len(st.accounts))
	}

	// A first start interrupted after the API root completes later.
	half := newFakeStore()
	if err := half.CreateAPIRoot(ctx, store.APIRoot{Path: DefaultAPIRoot, Title: "x", MaxContentLength: 1}); err != nil {
		t.Fatal(err)
	}
	done, err := Initialize(ctx, half, time.Now())
	if err != nil || done.AdminToken == "" || len(half.collections) != 1 {
		t.Errorf("Initialize on a half-initialized store = %+v, %v, %d collections", done, err, len(half.collections))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ctx := t.Context()
	for name, cfg := range map[string]Config{
		"no store":         {},
		"short retention":  {Store: newFakeStore(), StatusRetention: time.Hour},
		"negative prune":   {Store: newFakeStore(), PruneInterval: -time.Second},
		"uninitialized st": {Store: newFakeStore()},
	} {
		if _, err := New(ctx, cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestTokens(t *testing.T) {
	tok, hash := NewToken()
	other, _ := NewToken()
	if tok == other {
		t.Fatal("two tokens are equal")
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+43 {
		t.Errorf("token %q: want %q and 43 base64url characters", tok, TokenPrefix)
	}
	if sum := sha256.Sum256([]byte(tok)); string(sum[:]) != string(hash) {
		t.Error("hash is not the SHA-256 of the token")
	}
	if !wellFormedToken(tok) {
		t.Error("a new token is not well formed")
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	admin, analyst := f.tokens[store.RoleAdmin], f.tokens[store.RoleAnalyst]
	tests := []struct {
		name        string
		user, token string
		want        string // caller name; "" for ErrUnauthorized
	}{
		{"bearer", "", admin, "admin"},
		{"basic", "analyst1", analyst, "analyst1"},
		{"basic with another account's token", "admin", analyst, ""},
		{"basic with unknown user", "nobody", analyst, ""},
		{"unknown token", "", TokenPrefix + strings.Repeat("A", 43), ""},
		{"token without prefix", "", strings.TrimPrefix(admin, TokenPrefix), ""},
		{"truncated token", "", admin[:len(admin)-1], ""},
		{"token with bad base64", "", admin[:len(admin)-1] + "=", ""},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.node.Authenticate(t.Context(), tt.user, tt.token)
			if tt.want == "" {
				if !errors.Is(err, taxii.ErrUnauthorized) {
					t.Errorf("Authenticate = %+v, %v; want ErrUnauthorized", c, err)
				}
				return
			}
			if err != nil || c.Name != tt.want {
				t.Errorf("Authenticate = %+v, %v; want %s", c, err, tt.want)
			}
		})
	}
}

func TestAuthenticateStoreFailure(t *testing.T) {
	f := newFixture(t)
	f.st.fail = errors.New("disk on fire")
	_, err := f.node.Authenticate(t.Context(), "", f.tokens[store.RoleAdmin])
	if err == nil || errors.Is(err, taxii.ErrUnauthorized) {
		t.Errorf("Authenticate with a failing store = %v; want an internal error, not 401", err)
	}
}

func TestNotFound(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.callers[store.RoleAdmin]
	col := f.ini.CollectionID
	checks := map[string]error{}
	_, checks["API root"] = f.node.APIRoot(ctx, c, "nope")
	_, checks["collections of unknown root"] = f.node.Collections(ctx, c, "nope")
	_, checks["collection"] = f.node.Collection(ctx, c, DefaultAPIRoot, "00000000-0000-4000-8000-000000000000")
	_, checks["objects of unknown collection"] = f.node.Objects(ctx, c, DefaultAPIRoot, "nope", &taxii.Filter{Limit: 10})
	_, checks["add to unknown collection"] = f.node.AddObjects(ctx, c, DefaultAPIRoot, "nope", nil)
	checks["delete from unknown collection"] = f.node.DeleteObject(ctx, c, DefaultAPIRoot, "nope", "indicator--x", &taxii.Filter{})
	checks["delete unknown object"] = f.node.DeleteObject(ctx, c, DefaultAPIRoot, col, "indicator--00000000-0000-4000-8000-000000000000", &taxii.Filter{})
	_, checks["status"] = f.node.Status(ctx, c, DefaultAPIRoot, "00000000-0000-4000-8000-000000000000")
	for name, err := range checks {
		if !errors.Is(err, taxii.ErrNotFound) {
			t.Errorf("%s: %v; want ErrNotFound", name, err)
		}
	}
}

func TestAddObjects(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	analyst := f.callers[store.RoleAnalyst]
	col := f.ini.CollectionID

	stored := indicator(1, "2024-01-01T00:00:00.000Z")
	if _, err := f.node.AddObjects(ctx, analyst, DefaultAPIRoot, col, []json.RawMessage{stored}); err != nil {
		t.Fatal(err)
	}
	conflicting := json.RawMessage(strings.Replace(string(stored), "198.51.100.1'", "198.51.100.99'", 1))
	envelope := []json.RawMessage{
		indicator(2, "2024-01-02T00:00:00.000Z"), // new
		stored,                                   // duplicate
		conflicting,                              // same id and version, other content
		json.RawMessage(`[1,2]`),                 // not an object
		json.RawMessage(strings.Replace(string(indicator(3, "2024-01-01T00:00:00.000Z")), `"created":"2024-01-01T00:00:00.000Z"`, `"created":"2024-01-01T00:00:00Z"`, 1)),
		json.RawMessage(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`),
	}
	s, err := f.node.AddObjects(ctx, analyst, DefaultAPIRoot, col, envelope)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != "complete" || s.TotalCount != 6 || s.SuccessCount != 2 || s.FailureCount != 4 || s.PendingCount != 0 {
		t.Fatalf("status counts = %+v; want complete, 6 total, 2 successes, 4 failures", s)
	}
	if len(s.Successes) != 2 || len(s.Failures) != 4 {
		t.Fatalf("status lists: %d successes, %d failures", len(s.Successes), len(s.Failures))
	}
	wantFailures := []struct{ id, version, in string }{
		{"indicator--00000001-0000-4000-8000-000000000000", "2024-01-01T00:00:00.000Z", "modified timestamp"},
		{"", "", "not a JSON object"},
		{"indicator--00000003-0000-4000-8000-000000000000", "2024-01-01T00:00:00.000Z", "created:"},
		{"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "", "(not-bundle)"},
	}
	for i, w := range wantFailures {
		got := s.Failures[i]
		if got.ID != w.id || got.Version != w.version || !strings.Contains(got.Message, w.in) {
			t.Errorf("failure %d = %+v; want id %q, version %q, a message containing %q", i, got, w.id, w.version, w.in)
		}
	}
	// The validation failure names the rule as well as the path.
	if !strings.Contains(s.Failures[2].Message, "(timestamp-precision)") {
		t.Errorf("validation message %q does not name the rule", s.Failures[2].Message)
	}
	if !strings.Contains(s.Successes[1].Message, "already stored") {
		t.Errorf("duplicate's message = %q", s.Successes[1].Message)
	}
	if len(f.st.objects) != 2 {
		t.Errorf("%d objects stored; want 2", len(f.st.objects))
	}

	// The status is kept for the caller and admins, hidden from others.
	if got, err := f.node.Status(ctx, analyst, DefaultAPIRoot, s.ID); err != nil || got.SuccessCount != 2 {
		t.Errorf("Status for its owner = %+v, %v", got, err)
	}
	if _, err := f.node.Status(ctx, f.callers[store.RoleAdmin], DefaultAPIRoot, s.ID); err != nil {
		t.Errorf("Status for an admin: %v", err)
	}
	if _, err := f.node.Status(ctx, f.callers[store.RoleReader], DefaultAPIRoot, s.ID); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("Status for another account: %v; want ErrNotFound", err)
	}
	if s.RequestTimestamp != "2026-01-02T03:04:05.000000Z" {
		t.Errorf("request_timestamp = %q", s.RequestTimestamp)
	}
}

func TestAddObjectsStoreFailure(t *testing.T) {
	f := newFixture(t)
	c := f.callers[store.RoleAdmin]
	f.st.fail = errors.New("disk full")
	_, err := f.node.AddObjects(t.Context(), c, DefaultAPIRoot, f.ini.CollectionID, []json.RawMessage{indicator(1, "2024-01-01T00:00:00.000Z")})
	if err == nil || errors.Is(err, taxii.ErrNotFound) || errors.Is(err, taxii.ErrBadRequest) {
		t.Errorf("AddObjects with a failing store: %v; want an internal error", err)
	}
}

func TestObjectsPaging(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.callers[store.RoleReader]
	col := f.ini.CollectionID
	var env []json.RawMessage
	for i := range 5 {
		env = append(env, indicator(i, "2024-01-01T00:00:00.000Z"))
	}
	if _, err := f.node.AddObjects(ctx, f.callers[store.RoleAdmin], DefaultAPIRoot, col, env); err != nil {
		t.Fatal(err)
	}

	var seen []string
	after := int64(0)
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		p, err := f.node.Objects(ctx, c, DefaultAPIRoot, col, &taxii.Filter{Limit: 2, After: after, Types: []string{"indicator"}})
		if err != nil {
			t.Fatal(err)
		}
		if f.st.lastQuery.After != after || f.st.lastQuery.Limit != 2 || f.st.lastQuery.Types[0] != "indicator" {
			t.Errorf("store query = %+v", f.st.lastQuery)
		}
		for _, it := range p.Items {
			if it.MediaType != taxii.STIXMediaType || len(it.Object) == 0 {
				t.Errorf("item %+v lacks its media type or content", it)
			}
			seen = append(seen, it.ID)
		}
		if !p.More {
			break
		}
		after = p.Next
	}
	if len(seen) != 5 {
		t.Errorf("paged through %d objects; want 5", len(seen))
	}

	p, err := f.node.Objects(ctx, c, DefaultAPIRoot, col, &taxii.Filter{Manifest: true})
	if err != nil {
		t.Fatal(err)
	}
	if !f.st.lastQuery.WithoutContent || f.st.lastQuery.Limit != maxPage || len(p.Items) != 5 || p.Items[0].Object != nil {
		t.Errorf("manifest query %+v gave %d items", f.st.lastQuery, len(p.Items))
	}
}

func TestPruneStatuses(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.callers[store.RoleAdmin]
	old, err := f.node.AddObjects(ctx, c, DefaultAPIRoot, f.ini.CollectionID, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.clock = f.clock.Add(DefaultStatusRetention - time.Hour)
	recent, err := f.node.AddObjects(ctx, c, DefaultAPIRoot, f.ini.CollectionID, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.clock = f.clock.Add(2 * time.Hour)
	if n, err := f.node.PruneStatuses(ctx); err != nil || n != 1 {
		t.Fatalf("PruneStatuses = %d, %v; want 1", n, err)
	}
	if _, err := f.node.Status(ctx, c, DefaultAPIRoot, old.ID); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("the expired status is still there: %v", err)
	}
	if _, err := f.node.Status(ctx, c, DefaultAPIRoot, recent.ID); err != nil {
		t.Errorf("the recent status is gone: %v", err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- f.node.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v; want nil after cancel", err)
	}
}

func TestDiscovery(t *testing.T) {
	f := newFixture(t)
	d, err := f.node.Discovery(t.Context(), f.callers[store.RoleReader])
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != DefaultTitle || d.Default != "/api1/" || len(d.APIRoots) != 1 || d.APIRoots[0] != "/api1/" {
		t.Errorf("Discovery = %+v", d)
	}
	r, err := f.node.APIRoot(t.Context(), f.callers[store.RoleReader], DefaultAPIRoot)
	if err != nil || r.MaxContentLength != DefaultMaxContentLength || r.Versions[0] != taxii.MediaType {
		t.Errorf("APIRoot = %+v, %v", r, err)
	}
	cs, err := f.node.Collections(t.Context(), f.callers[store.RoleReader], DefaultAPIRoot)
	if err != nil || len(cs) != 1 || cs[0].Alias != DefaultCollectionAlias || cs[0].CanWrite {
		t.Errorf("Collections = %+v, %v", cs, err)
	}
}

func TestNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"alice", true}, {"bot-1.ci@example", true}, {"", false}, {"a:b", false},
		{"-x", false}, {"é", false}, {strings.Repeat("a", 65), false},
	} {
		if err := ValidAccountName(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidAccountName(%q) = %v; want ok %v", tt.name, err, tt.ok)
		}
	}
	for _, tt := range []struct {
		alias string
		ok    bool
	}{
		{"default", true}, {"tlp-green_2.0", true}, {"..", false}, {"a/b", false},
		{"5d0092c5-5f74-4287-9642-33f4c354e56d", false}, {"a b", false},
	} {
		if err := validAlias(tt.alias); (err == nil) != tt.ok {
			t.Errorf("validAlias(%q) = %v; want ok %v", tt.alias, err, tt.ok)
		}
	}
}

func TestCollectionByAlias(t *testing.T) {
	f := newFixture(t)
	c := f.callers[store.RoleReader]
	col, err := f.node.Collection(t.Context(), c, DefaultAPIRoot, DefaultCollectionAlias)
	if err != nil || col.ID != f.ini.CollectionID {
		t.Fatalf("Collection by alias = %+v, %v; want %s", col, err, f.ini.CollectionID)
	}
	if _, err := f.node.Objects(t.Context(), c, DefaultAPIRoot, DefaultCollectionAlias, &taxii.Filter{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if f.st.lastQuery.Collection != f.ini.CollectionID {
		t.Errorf("the store was queried for collection %q; want the id %s", f.st.lastQuery.Collection, f.ini.CollectionID)
	}
}

// TestAddObjectsLargeEnvelope covers the parallel checks: every outcome
// lands in its object's place.
func TestAddObjectsLargeEnvelope(t *testing.T) {
	f := newFixture(t)
	const n = 3*parallelCheck + 5
	env := make([]json.RawMessage, n)
	var wantFailed []string
	for i := range env {
		env[i] = indicator(i, "2024-01-01T00:00:00.000Z")
		if i%7 == 3 {
			env[i] = json.RawMessage(strings.Replace(string(env[i]), `"pattern_type":"stix",`, "", 1))
			wantFailed = append(wantFailed, fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", i))
		}
	}
	s, err := f.node.AddObjects(t.Context(), f.callers[store.RoleAnalyst], DefaultAPIRoot, f.ini.CollectionID, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.FailureCount != len(wantFailed) || s.SuccessCount != n-len(wantFailed) {
		t.Fatalf("%d successes, %d failures; want %d, %d", s.SuccessCount, s.FailureCount, n-len(wantFailed), len(wantFailed))
	}
	for i, d := range s.Failures {
		if d.ID != wantFailed[i] || !strings.Contains(d.Message, "pattern_type") {
			t.Errorf("failure %d = %+v; want %s missing pattern_type", i, d, wantFailed[i])
		}
	}
	if len(f.st.objects) != s.SuccessCount {
		t.Errorf("%d objects stored; want %d", len(f.st.objects), s.SuccessCount)
	}
}

func TestCollectionCache(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.callers[store.RoleAdmin]
	// A miss is not remembered: the collection may be created later, by
	// another process.
	if _, err := f.node.Collection(ctx, c, DefaultAPIRoot, "later"); !errors.Is(err, taxii.ErrNotFound) {
		t.Fatalf("unknown alias: %v", err)
	}
	id, err := CreateCollection(ctx, f.st, DefaultAPIRoot, "Later", "later")
	if err != nil {
		t.Fatal(err)
	}
	if col, err := f.node.Collection(ctx, c, DefaultAPIRoot, "later"); err != nil || col.ID != id {
		t.Fatalf("after creation: %+v, %v", col, err)
	}
	// A hit is: the store is not asked again.
	f.st.fail = errors.New("store down")
	if col, err := f.node.Collection(ctx, c, DefaultAPIRoot, "later"); err != nil || col.ID != id {
		t.Errorf("cached lookup: %+v, %v", col, err)
	}
}
