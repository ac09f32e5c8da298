package taxii

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name  string
		e     endpoint
		query string
		want  Filter
		next  string
	}{
		{"empty", objectsEndpoint, "", Filter{}, ""},
		{"added_after", objectsEndpoint, "added_after=2021-06-10T16:00:00.123456Z",
			Filter{AddedAfter: mustTime(t, "2021-06-10T16:00:00.123456Z")}, ""},
		{"added_after without fraction", manifestEndpoint, "added_after=2021-06-10T16:00:00Z",
			Filter{AddedAfter: mustTime(t, "2021-06-10T16:00:00Z")}, ""},
		{"limit", objectsEndpoint, "limit=10", Filter{Limit: 10}, ""},
		{"huge limit is clamped", objectsEndpoint, "limit=99999999999999999999999", Filter{Limit: maxLimit}, ""},
		{"next", objectsEndpoint, "next=abc", Filter{}, "abc"},
		{"empty next is absent", objectsEndpoint, "next=", Filter{}, ""},
		{"types sorted and deduplicated", objectsEndpoint, "match[type]=malware,indicator,malware",
			Filter{Types: []string{"indicator", "malware"}}, ""},
		{"ids", manifestEndpoint, "match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
			Filter{IDs: []string{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}}, ""},
		{"spec_version", objectsEndpoint, "match[spec_version]=2.1,2.0",
			Filter{SpecVersions: []string{"2.0", "2.1"}}, ""},
		{"version keywords", objectsEndpoint, "match[version]=first,last",
			Filter{Versions: VersionMatch{First: true, Last: true}}, ""},
		{"version all", objectEndpoint, "match[version]=all", Filter{Versions: VersionMatch{All: true}}, ""},
		{"version timestamps", objectsEndpoint, "match[version]=2016-01-01T01:01:01.123Z,first,2015-01-01T00:00:00.000000001Z",
			Filter{Versions: VersionMatch{First: true, Exact: []time.Time{
				mustTime(t, "2015-01-01T00:00:00.000000001Z"), mustTime(t, "2016-01-01T01:01:01.123Z")}}}, ""},
		{"unknown match field ignored", objectsEndpoint, "match[foo]=bar&match[]=x&match[type=y", Filter{}, ""},
		{"unknown parameter ignored", objectsEndpoint, "foo=bar&foo=baz", Filter{}, ""},
		{"match type not defined for versions", versionsEndpoint, "match[type]=NOT VALID", Filter{}, ""},
		{"paging not defined for delete", deleteEndpoint, "limit=0&next=x&added_after=x", Filter{}, ""},
		{"delete takes version", deleteEndpoint, "match[version]=2016-01-01T01:01:01.123Z",
			Filter{Versions: VersionMatch{Exact: []time.Time{mustTime(t, "2016-01-01T01:01:01.123Z")}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := parseQuery(tt.e, values)
			if err != nil {
				t.Fatalf("parseQuery(%q): %v", tt.query, err)
			}
			if !reflect.DeepEqual(q.Filter, tt.want) {
				t.Errorf("parseQuery(%q) = %+v, want %+v", tt.query, q.Filter, tt.want)
			}
			if q.next != tt.next {
				t.Errorf("parseQuery(%q).next = %q, want %q", tt.query, q.next, tt.next)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		query string
		e     endpoint
		want  string // in the message
	}{
		{"added_after=yesterday", objectsEndpoint, "added_after"},
		{"added_after=2021-06-10T16:00:00.1234567Z", objectsEndpoint, "at most 6 digits"},
		{"added_after=2021-06-10T16:00:00+01:00", objectsEndpoint, "added_after"},
		{"added_after=2021-06-10T16:00:00.Z", objectsEndpoint, "fraction"},
		{"added_after=2021-13-10T16:00:00Z", objectsEndpoint, "not a valid date"},
		{"added_after=", versionsEndpoint, "added_after"},
		{"limit=0", objectsEndpoint, "greater than 0"},
		{"limit=-1", objectsEndpoint, "limit"},
		{"limit=%2B5", objectsEndpoint, "limit"},
		{"limit=ten", manifestEndpoint, "limit"},
		{"limit=1&limit=2", objectsEndpoint, "given 2 times"},
		{"match[type]=", objectsEndpoint, "empty"},
		{"match[type]=indicator,,malware", objectsEndpoint, "position 2"},
		{"match[type]=indicator, malware", objectsEndpoint, `" malware"`},
		{"match[type]=Indicator", objectsEndpoint, "not a STIX type"},
		{"match[type]=a", objectsEndpoint, "not a STIX type"},
		{"match[type]=x&match[type]=y", objectsEndpoint, "given 2 times"},
		{"match[id]=indicator", objectsEndpoint, "not a STIX id"},
		{"match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3", objectsEndpoint, "not a STIX id"},
		{"match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3g", manifestEndpoint, "not a STIX id"},
		{"match[spec_version]=latest", objectsEndpoint, "specification version"},
		{"match[version]=all,first", objectsEndpoint, "combines all"},
		{"match[version]=newest", objectEndpoint, "neither first"},
		{"match[version]=2016-01-01", deleteEndpoint, "neither first"},
		{"match[spec_version]=2", versionsEndpoint, "specification version"},
		{"match[type]=" + strings.Repeat("x-a,", MaxMatchValues) + "x-a", objectsEndpoint, "at most 100 per match parameter"},
		{"match[id]=" + strings.Repeat(",", MaxMatchValues), manifestEndpoint, "holds 101 values"},
	}
	for _, tt := range tests {
		values, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseQuery(tt.e, values)
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("parseQuery(%s, %q) = %v, want ErrBadRequest", tt.e.name, tt.query, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseQuery(%s, %q) = %q, want it to mention %q", tt.e.name, tt.query, err, tt.want)
		}
	}
}

func TestFormatTimestamp(t *testing.T) {
	tm := time.Date(2021, 6, 10, 18, 0, 0, 1500, time.FixedZone("CEST", 2*3600))
	if got, want := FormatTimestamp(tm), "2021-06-10T16:00:00.000001Z"; got != want {
		t.Errorf("FormatTimestamp = %q, want %q", got, want)
	}
}

func testScope(f *Filter) *tokenScope {
	return &tokenScope{endpoint: objectsEndpoint, root: "api1", collection: "c1", caller: "alice", filter: f}
}

func TestTokenRoundTrip(t *testing.T) {
	tok := tokens{key: []byte("0123456789abcdef0123456789abcdef")}
	f := &Filter{Types: []string{"indicator"}}
	for _, pos := range []int64{0, 1, 1 << 40, 1<<63 - 1} {
		s := tok.encode(pos, testScope(f))
		got, err := tok.decode(s, testScope(f))
		if err != nil || got != pos {
			t.Errorf("decode(encode(%d)) = %d, %v", pos, got, err)
		}
	}
}

func TestTokenRejected(t *testing.T) {
	tok := tokens{key: []byte("0123456789abcdef0123456789abcdef")}
	f := &Filter{Types: []string{"indicator"}}
	good := tok.encode(42, testScope(f))
	other := func(change func(s *tokenScope)) *tokenScope {
		s := testScope(&Filter{Types: []string{"indicator"}})
		change(s)
		return s
	}
	scopes := map[string]*tokenScope{
		"other types":        other(func(s *tokenScope) { s.filter.Types = []string{"malware"} }),
		"added types":        other(func(s *tokenScope) { s.filter.Types = []string{"indicator", "malware"} }),
		"added_after":        other(func(s *tokenScope) { s.filter.AddedAfter = time.Unix(1, 0) }),
		"version":            other(func(s *tokenScope) { s.filter.Versions.All = true }),
		"manifest":           other(func(s *tokenScope) { s.filter.Manifest = true }),
		"other collection":   other(func(s *tokenScope) { s.collection = "c2" }),
		"other root":         other(func(s *tokenScope) { s.root = "api2" }),
		"other caller":       other(func(s *tokenScope) { s.caller = "mallory" }),
		"other endpoint":     other(func(s *tokenScope) { s.endpoint = objectEndpoint }),
		"object":             other(func(s *tokenScope) { s.object = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" }),
		"fields run into ea": other(func(s *tokenScope) { s.root, s.collection = "api1c", "1" }),
	}
	for name, s := range scopes {
		if _, err := tok.decode(good, s); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: decode = %v, want ErrBadRequest", name, err)
		}
	}
	if _, err := (tokens{key: []byte("another key")}).decode(good, testScope(f)); !errors.Is(err, ErrBadRequest) {
		t.Errorf("other key: decode = %v, want ErrBadRequest", err)
	}
	// Every single-character change, and every truncation, is caught.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(good) {
		for _, c := range []byte(alphabet) {
			if c == good[i] {
				continue
			}
			bad := good[:i] + string(c) + good[i+1:]
			if _, err := tok.decode(bad, testScope(f)); err == nil {
				t.Fatalf("token altered at %d to %q was accepted", i, c)
			}
		}
		if _, err := tok.decode(good[:i], testScope(f)); err == nil {
			t.Fatalf("token truncated to %d characters was accepted", i)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"added_after=2021-06-10T16:00:00.123456Z&limit=5",
		"match[type]=indicator,malware&match[version]=first,last",
		"match[version]=all&match[spec_version]=2.1",
		"match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f&next=AQ",
		"match[version]=2016-01-01T01:01:01.123456789Z",
		"limit=99999999999999999999&match[type]=a,,b",
	} {
		f.Add(s)
	}
	tok := tokens{key: []byte("fuzz")}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, e := range []endpoint{manifestEndpoint, objectsEndpoint, objectEndpoint, deleteEndpoint, versionsEndpoint} {
			q, err := parseQuery(e, values)
			if err != nil {
				if !errors.Is(err, ErrBadRequest) {
					t.Fatalf("parseQuery(%s, %q) = %v, want only ErrBadRequest errors", e.name, raw, err)
				}
				continue
			}
			if q.Limit < 0 || q.Limit > maxLimit {
				t.Fatalf("parseQuery(%s, %q).Limit = %d", e.name, raw, q.Limit)
			}
			if q.Versions.All && (q.Versions.First || q.Versions.Last || len(q.Versions.Exact) > 0) {
				t.Fatalf("parseQuery(%s, %q) combined all with other versions", e.name, raw)
			}
			// Whatever parses yields a token that verifies for the same
			// filter, and only for it.
			s := &tokenScope{endpoint: e, filter: &q.Filter}
			if pos, err := tok.decode(tok.encode(7, s), s); err != nil || pos != 7 {
				t.Fatalf("token round trip for %q: %d, %v", raw, pos, err)
			}
			if _, err := tok.decode(q.next, s); err == nil && q.next != tok.encode(7, s) {
				t.Fatalf("parseQuery(%q): a forged next token verified", raw)
			}
		}
	})
}

func FuzzNextToken(f *testing.F) {
	tok := tokens{key: []byte("0123456789abcdef0123456789abcdef")}
	scope := testScope(&Filter{Types: []string{"indicator"}})
	f.Add(tok.encode(1, scope))
	f.Add(tok.encode(1<<62, scope))
	f.Add("")
	f.Add("AQAAAAAAAAABxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	f.Fuzz(func(t *testing.T, s string) {
		pos, err := tok.decode(s, scope)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("decode(%q) = %v, want ErrBadRequest", s, err)
			}
			return
		}
		// Only the token the server would issue for pos verifies.
		if want := tok.encode(pos, scope); s != want {
			t.Fatalf("decode accepted %q for position %d; the issued token is %q", s, pos, want)
		}
	})
}
