package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/entente/entente/taxii"
	"github.com/entente/entente/taxii/taxiitest"
)

const (
	token   = "partner-token"
	outbox  = "8c4a6a5c-8d3d-4b55-9a39-6a1f5a3d0001"
	inboxID = "8c4a6a5c-8d3d-4b55-9a39-6a1f5a3d0002"
)

var peer = Peer{Party: "borealis", Node: "borealis-1", Log: "borealis.example/ledger"}

// partner is a partner's TAXII server over TLS, backed by taxiitest.Fake.
type partner struct {
	fake   *taxiitest.Fake
	server *httptest.Server
	// replay, when set, makes Objects ignore added_after: an old page
	// replayed.
	mu     sync.Mutex
	replay bool
}

// replaying wraps the fake to answer as a lying partner would.
type replaying struct {
	*taxiitest.Fake
	p *partner
}

func (r replaying) Objects(ctx context.Context, c *taxii.Caller, root, id string, f *taxii.Filter) (*taxii.Page, error) {
	r.p.mu.Lock()
	replay := r.p.replay
	r.p.mu.Unlock()
	if replay {
		g := *f
		g.AddedAfter = time.Time{}
		f = &g
	}
	return r.Fake.Objects(ctx, c, root, id, f)
}

func newPartner(t *testing.T) *partner {
	t.Helper()
	p := &partner{fake: taxiitest.New()}
	p.fake.AddAccount("arcadia-1", "partner", token)
	p.fake.AddAPIRoot("api1", taxii.APIRoot{Title: "api1", Versions: []string{taxii.MediaType}, MaxContentLength: 10 << 20})
	if err := p.fake.AddCollection("api1", taxii.Collection{ID: outbox, Title: "shared", Alias: "shared"},
		map[string]taxiitest.Perm{"partner": {Read: true}, "admin": {Read: true, Write: true}}); err != nil {
		t.Fatal(err)
	}
	if err := p.fake.AddCollection("api1", taxii.Collection{ID: inboxID, Title: "inbox", Alias: "inbox"},
		map[string]taxiitest.Perm{"partner": {Write: true}, "admin": {Read: true, Write: true}}); err != nil {
		t.Fatal(err)
	}
	p.server = httptest.NewTLSServer(taxii.NewServer(replaying{p.fake, p}, taxii.Config{MaxPageSize: 1000}))
	t.Cleanup(p.server.Close)
	return p
}

func (p *partner) client(t *testing.T) *taxii.Client {
	t.Helper()
	c, err := taxii.NewClient(p.server.URL, taxii.ClientOptions{Token: token, HTTPClient: p.server.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func indicator(n int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, n, n%250))
}

// add stores objects n..m-1 in the partner's shared collection.
func (p *partner) add(t *testing.T, from, to int) {
	t.Helper()
	var objs []json.RawMessage
	for i := from; i < to; i++ {
		objs = append(objs, indicator(i))
	}
	st, err := p.fake.AddObjects(t.Context(), &taxii.Caller{Name: "admin", Role: "admin"}, "api1", outbox, objs)
	if err != nil || st.FailureCount > 0 {
		t.Fatalf("adding to the partner: %v, %+v", err, st)
	}
}

// sink is a Sink in memory that stores what it receives by id and
// version, counting every duplicate it is given, with fault injection.
type sink struct {
	mu        sync.Mutex
	stored    map[string]json.RawMessage
	order     []string
	dups      int
	cursors   map[string]time.Time
	health    Health
	alerts    []Alert
	suspended bool
	failNext  int // fail that many Receive calls
	refuse    func(json.RawMessage) bool
}

func newSink() *sink {
	return &sink{stored: map[string]json.RawMessage{}, cursors: map[string]time.Time{}}
}

func (s *sink) Receive(ctx context.Context, from Peer, collection string, items []Incoming) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from != peer || collection != "shared" {
		return Result{}, fmt.Errorf("Receive from %+v, %q", from, collection)
	}
	if s.failNext > 0 {
		s.failNext--
		return Result{}, errors.New("store outage")
	}
	var r Result
	for _, it := range items {
		var head struct{ ID, Modified string }
		if err := json.Unmarshal(it.Object, &head); err != nil {
			return r, err
		}
		if s.refuse != nil && s.refuse(it.Object) {
			r.Refused++
			continue
		}
		k := head.ID + "@" + head.Modified
		if _, ok := s.stored[k]; ok {
			s.dups++
			r.Duplicates++
			continue
		}
		s.stored[k] = it.Object
		s.order = append(s.order, head.ID)
		r.Stored++
	}
	return r, nil
}

func (s *sink) Cursor(ctx context.Context, node, collection string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[node+"/"+collection], nil
}

func (s *sink) SaveCursor(ctx context.Context, node, collection string, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.cursors[node+"/"+collection]; t.Before(old) {
		return fmt.Errorf("cursor moved back from %v to %v", old, t)
	}
	s.cursors[node+"/"+collection] = t
	return nil
}

func (s *sink) SaveHealth(ctx context.Context, h Health) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = h
	return nil
}

func (s *sink) Alert(ctx context.Context, a Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts = append(s.alerts, a)
	return nil
}

func (s *sink) Suspended(ctx context.Context, origin string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if origin != peer.Log {
		return false, fmt.Errorf("Suspended(%q)", origin)
	}
	return s.suspended, nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stored)
}

func newLink(t *testing.T, p *partner, s Sink, page int) *Link {
	t.Helper()
	l, err := New(Config{Peer: peer, Client: p.client(t), Sink: s, PageSize: page,
		Interval: 10 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSyncPagesAndResumes(t *testing.T) {
	p := newPartner(t)
	p.add(t, 0, 25)
	s := newSink()
	if err := newLink(t, p, s, 7).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.count() != 25 || s.dups != 0 {
		t.Fatalf("after the first sync: %d stored, %d duplicates; want 25, 0", s.count(), s.dups)
	}
	// A restart: a new Link on the same durable state pulls only what is
	// new, and nothing twice.
	p.add(t, 25, 40)
	l := newLink(t, p, s, 7)
	if err := l.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.count() != 40 || s.dups != 0 {
		t.Errorf("after the restart: %d stored, %d duplicates; want 40, 0", s.count(), s.dups)
	}
	h := l.Health()
	if h.State != StateIdle || h.Stored != 15 || h.Behind != 0 || h.Pending || h.CaughtUp.IsZero() || h.LastError != "" {
		t.Errorf("health after catching up: %+v", h)
	}
	// Nothing new: a sync asks and stores nothing.
	if err := l.Sync(t.Context()); err != nil || s.count() != 40 || s.dups != 0 {
		t.Errorf("idle sync: %v, %d stored, %d duplicates", err, s.count(), s.dups)
	}
	for i, id := range s.order {
		if want := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i); id != want {
			t.Fatalf("stored[%d] = %s, want %s (date_added order)", i, id, want)
		}
	}
}

func TestSyncRetriesAPageTheSinkFailed(t *testing.T) {
	p := newPartner(t)
	p.add(t, 0, 10)
	s := newSink()
	s.failNext = 1
	l := newLink(t, p, s, 4)
	if err := l.Sync(t.Context()); err == nil {
		t.Fatal("Sync succeeded though the sink failed")
	}
	if c := s.cursors[peer.Node+"/"+outbox]; !c.IsZero() {
		t.Errorf("the cursor moved to %v past a page the sink did not store", c)
	}
	if h := l.Health(); h.Errors != 1 || h.LastError == "" {
		t.Errorf("health after a failure: %+v", h)
	}
	if err := l.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.count() != 10 || s.dups != 0 {
		t.Errorf("%d stored, %d duplicates; want 10, 0", s.count(), s.dups)
	}
}

func TestReplayedPageIsRefused(t *testing.T) {
	p := newPartner(t)
	p.add(t, 0, 5)
	s := newSink()
	l := newLink(t, p, s, 100)
	if err := l.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	p.add(t, 5, 6)
	p.mu.Lock()
	p.replay = true
	p.mu.Unlock()
	err := l.Sync(t.Context())
	if !errors.Is(err, ErrReplay) {
		t.Fatalf("Sync against a replayed page: %v, want ErrReplay", err)
	}
	if s.count() != 5 || s.dups != 0 {
		t.Errorf("a replayed page reached the sink: %d stored, %d duplicates", s.count(), s.dups)
	}
	if len(s.alerts) != 1 || s.alerts[0].Kind != AlertReplay || s.alerts[0].Peer != peer {
		t.Errorf("alerts = %+v, want one replay alert", s.alerts)
	}
}

func TestRunBacksOffAndRecovers(t *testing.T) {
	p := newPartner(t)
	p.add(t, 0, 3)
	var (
		mu    sync.Mutex
		calls []time.Time
	)
	p.fake.SetFail(func(method string) error {
		if method != "Discovery" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, time.Now())
		if len(calls) <= 4 {
			return errors.New("partner down") // a 500, without Retry-After
		}
		return nil
	})
	s := newSink()
	l := newLink(t, p, s, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s.count() != 3 {
		t.Fatalf("after the partner recovered: %d stored, want 3; %+v", s.count(), l.Health())
	}
	if h := l.Health(); h.Errors < 4 || h.State != StateStopped {
		t.Errorf("health: %+v, want at least 4 errors and stopped", h)
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	l := &Link{cfg: Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}}
	for failures := 1; failures < 40; failures++ {
		bound := min(100*time.Millisecond<<min(failures-1, 30), 2*time.Second)
		seen := map[time.Duration]bool{}
		for range 50 {
			d := l.backoff(failures, errors.New("x"))
			if d < 50*time.Millisecond || d > bound {
				t.Fatalf("backoff(%d) = %v, outside [50ms, %v]", failures, d, bound)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) drew %d distinct waits of 50: no jitter", failures, len(seen))
		}
	}
	busy := &taxii.ResponseError{StatusCode: 503, RetryAfter: 30 * time.Second}
	if d := l.backoff(1, fmt.Errorf("wrapped: %w", busy)); d != 30*time.Second {
		t.Errorf("backoff after Retry-After 30s = %v", d)
	}
}

func TestSuspendedLinkStops(t *testing.T) {
	p := newPartner(t)
	p.add(t, 0, 3)
	s := newSink()
	s.suspended = true
	l := newLink(t, p, s, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for l.Health().State != StateSuspended && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // several polls
	if h := l.Health(); h.State != StateSuspended || h.Suspended == "" {
		t.Fatalf("health of a suspended link: %+v", h)
	}
	if s.count() != 0 {
		t.Errorf("a suspended link received %d objects", s.count())
	}
	s.mu.Lock()
	if len(s.alerts) != 1 || s.alerts[0].Kind != AlertSuspended {
		t.Errorf("alerts = %+v, want one suspension alert", s.alerts)
	}
	s.suspended = false // an operator resumed the log
	s.mu.Unlock()
	for s.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if s.count() != 3 || l.Health().Suspended != "" {
		t.Errorf("after the resumption: %d stored, health %+v", s.count(), l.Health())
	}
}

func TestPushReachesTheInbox(t *testing.T) {
	p := newPartner(t)
	s := newSink()
	l := newLink(t, p, s, 100)
	fails := 2
	var mu sync.Mutex
	p.fake.SetFail(func(method string) error {
		mu.Lock()
		defer mu.Unlock()
		if method == "AddObjects" && fails > 0 {
			fails--
			return errors.New("partner down")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	l.Enqueue(Incoming{Object: indicator(1)}, Incoming{Object: indicator(2)})
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		page, err := p.fake.Objects(t.Context(), &taxii.Caller{Name: "admin", Role: "admin"}, "api1", inboxID, &taxii.Filter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		if len(got) == 2 && l.Queued() == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	slices.Sort(got)
	want := []string{"indicator--00000000-0000-4000-8000-000000000001", "indicator--00000000-0000-4000-8000-000000000002"}
	if !slices.Equal(got, want) || l.Queued() != 0 {
		t.Errorf("inbox holds %v (queue %d), want %v", got, l.Queued(), want)
	}
}

func TestPushDoesNotRetryWhatThePartnerRefused(t *testing.T) {
	p := newPartner(t)
	l := newLink(t, p, newSink(), 100)
	bad := json.RawMessage(`{"type":"indicator","id":"not an id"}`)
	if err := l.Push(t.Context(), []Incoming{{Object: bad}, {Object: indicator(7)}}); err != nil {
		t.Fatalf("Push with one refused object: %v; want it dropped, not retried", err)
	}
	page, err := p.fake.Objects(t.Context(), &taxii.Caller{Name: "admin", Role: "admin"}, "api1", inboxID, &taxii.Filter{Limit: 10})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("inbox holds %d objects, %v; want the valid one", len(page.Items), err)
	}
}
