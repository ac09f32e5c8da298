package node_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/federation"
	"github.com/entente/entente/store"
)

func TestRevocationPushReachesTheRecipients(t *testing.T) {
	a, b := twoParties(t, nil)
	b.share(t, "arcadia", store.RightRead)
	a.share(t, "borealis", store.RightWrite) // arcadia's inbox
	bURL, aURL := b.serve(t, nil), a.serve(t, nil)
	ctx := t.Context()

	admin, err := b.n.Authenticate(ctx, "", b.ini.AdminToken)
	if err != nil {
		t.Fatal(err)
	}
	post := func(raws ...string) {
		t.Helper()
		var objs []json.RawMessage
		for _, r := range raws {
			objs = append(objs, json.RawMessage(r))
		}
		st, err := b.n.AddObjects(ctx, admin, "api1", b.ini.CollectionID, objs)
		if err != nil || st.FailureCount > 0 {
			t.Fatalf("posting to borealis: %v, %+v", err, st)
		}
	}
	// Arcadia receives x; y is borealis's alone (never released: no
	// attack-pattern goes to arcadia).
	x, y := indicatorRaw(1), sdo("attack-pattern", 2, `,"name":"y"`)
	post(x, y)
	if err := a.link(t, b, bURL, 100).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(a.held(t)); n != 1 {
		t.Fatalf("arcadia holds %d versions, want x only", n)
	}

	// Borealis's link to arcadia pushes; arcadia pulls nothing more.
	push := b.link(t, a, aURL, 100)
	b.n.SetPusher(func(partner string, items ...federation.Incoming) bool {
		if partner != a.nodeID {
			t.Errorf("pushed to %s", partner)
			return false
		}
		push.Enqueue(items...)
		return true
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- push.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	revoke := func(raw string) string {
		return strings.Replace(strings.Replace(raw, `"modified":"2026-02-01T00:00:00.000Z"`, `"modified":"2026-02-02T00:00:00.000Z"`, 1), `}`, `,"revoked":true}`, 1)
	}
	xr, yr := revoke(x), revoke(y)
	if !strings.HasSuffix(xr, `"revoked":true}`) {
		t.Fatalf("revoke(x) = %s", xr)
	}
	post(xr, yr)
	deadline := time.Now().Add(10 * time.Second)
	want := "indicator--00000000-0000-4000-8000-000000000001@2026-02-02T00:00:00.000Z"
	for time.Now().Before(deadline) {
		if _, ok := a.held(t)[want]; ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	held := a.held(t)
	o, ok := held[want]
	if !ok {
		t.Fatalf("the revocation of x did not reach arcadia: it holds %v (queue %d, health %+v)", held, push.Queued(), push.Health())
	}
	if len(held) != 2 || o.FromParty != "borealis" {
		t.Errorf("arcadia holds %v; the revocation came from %q", held, o.FromParty)
	}
	ds, err := b.n.Disclosed(ctx, "", "attack-pattern--00000000-0000-4000-8000-000000000002")
	if err != nil || len(ds) != 0 {
		t.Errorf("y's revocation went to %+v, %v; want nowhere", ds, err)
	}
}

// TestRevocationPushSkipsNodesThatNeverReceived: with three parties, a
// revocation goes to the partner that pulled the object and not to the
// one that could have (it is shared with it, and it has an inbox) but
// never did.
func TestRevocationPushSkipsNodesThatNeverReceived(t *testing.T) {
	a, b, c := threeParties(t)
	ctx := t.Context()
	b.share(t, "arcadia", store.RightRead)
	b.share(t, "caledonia", store.RightRead)
	a.share(t, "borealis", store.RightWrite)
	c.share(t, "borealis", store.RightWrite)
	bURL, aURL, cURL := b.serve(t, nil), a.serve(t, nil), c.serve(t, nil)

	x := indicatorRaw(1)
	b.addAsAdmin(t, x)
	if err := a.link(t, b, bURL, 100).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	links := map[string]*federation.Link{a.nodeID: b.link(t, a, aURL, 100), c.nodeID: b.link(t, c, cURL, 100)}
	b.n.SetPusher(func(partner string, items ...federation.Incoming) bool {
		l, ok := links[partner]
		if ok {
			l.Enqueue(items...)
		}
		return ok
	})
	runCtx, cancel := context.WithCancel(ctx)
	var done []chan error
	for _, l := range links {
		ch := make(chan error, 1)
		done = append(done, ch)
		go func() { ch <- l.Run(runCtx) }()
	}
	defer func() {
		cancel()
		for _, ch := range done {
			<-ch
		}
	}()

	xr := strings.Replace(strings.Replace(x, `"modified":"2026-02-01T00:00:00.000Z"`, `"modified":"2026-02-02T00:00:00.000Z"`, 1), `}`, `,"revoked":true}`, 1)
	b.addAsAdmin(t, xr)
	want := "indicator--00000000-0000-4000-8000-000000000001@2026-02-02T00:00:00.000Z"
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := a.held(t)[want]; ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := a.held(t)[want]; !ok {
		t.Fatalf("the revocation did not reach arcadia, which received x: %v", a.held(t))
	}
	if q := links[c.nodeID].Queued(); q != 0 {
		t.Errorf("%d items queued for caledonia", q)
	}
	if held := c.held(t); len(held) != 0 {
		t.Errorf("caledonia, which never received x, holds %v", held)
	}
	ds, err := b.n.Disclosed(ctx, "", "indicator--00000000-0000-4000-8000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Node != a.nodeID {
			t.Errorf("borealis disclosed %s@%s to %s", d.ID, d.Version, d.Node)
		}
	}
	if len(ds) != 2 {
		t.Errorf("borealis recorded %d disclosures of x, want 2 (x and its revocation, to arcadia)", len(ds))
	}
}

// TestRunWaitsForRevocationPushes: the push an add starts after its commit
// is waited for by Run (and Wait), so that a node stopping does not leave
// it reading a store its caller then closes.
func TestRunWaitsForRevocationPushes(t *testing.T) {
	a, b := twoParties(t, nil)
	b.share(t, "arcadia", store.RightRead)
	bURL := b.serve(t, nil)
	ctx := t.Context()
	x := indicatorRaw(1)
	b.addAsAdmin(t, x)
	if err := a.link(t, b, bURL, 100).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	b.n.SetPusher(func(string, ...federation.Incoming) bool {
		close(entered)
		<-release
		return true
	})
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- b.n.Run(runCtx) }()
	xr := strings.Replace(strings.Replace(x, `"modified":"2026-02-01T00:00:00.000Z"`, `"modified":"2026-02-02T00:00:00.000Z"`, 1), `}`, `,"revoked":true}`, 1)
	b.addAsAdmin(t, xr)
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no push started for the revocation")
	}
	stop()
	waited := make(chan struct{})
	go func() { b.n.Wait(); close(waited) }()
	// Neither returns while the push is in flight; a wrong answer shows
	// at once, a right one only once the push ends.
	select {
	case err := <-ran:
		t.Fatalf("Run returned (%v) while a push was in flight", err)
	case <-waited:
		t.Fatal("Wait returned while a push was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	<-waited
}

// addAsAdmin adds raw to p's default collection as its admin.
func (p *party) addAsAdmin(t testing.TB, raw string) {
	t.Helper()
	admin, err := p.n.Authenticate(t.Context(), "", p.ini.AdminToken)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.n.AddObjects(t.Context(), admin, "api1", p.ini.CollectionID, []json.RawMessage{json.RawMessage(raw)}); err != nil || st.SuccessCount != 1 {
		t.Fatalf("posting to %s: %v, %+v", p.nodeID, err, st)
	}
}
