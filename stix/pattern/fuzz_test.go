package pattern

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that every error is an *Error
// inside the input, and that whatever parses prints to a canonical form
// that parses back to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[ipv4-addr:value = '198.51.100.7']",
		"([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
		"[a:b MATCHES '(?s)x+' AND a:c LIKE 'a%_' AND NOT EXISTS a:d[*].e_ref.f] REPEATS 2 TIMES START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z'",
		"[a:b IN (b'AAAA', h'00ff')] /* c */ OR [a:'x y' ISSUBSET '10.0.0.0/8'] // d",
		"[network-traffic:protocols[-1] = 'tls' AND network-traffic:protocols[+1] != 'x']",
		// PCRE features that run on the backtracking engine, and ones
		// that no engine runs.
		`[a:b MATCHES '(?<n>a)\\1(?=b)(?!c)(?<=a)(?<!d)(?>e+)f++\\G\\k<n>(?P=n)\\g{-1}\\Z']`,
		`[a:b MATCHES '(?R)' OR a:c MATCHES '(?1)(a)' OR a:d MATCHES '\\K(?|a)(*SKIP)']`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) returned %T, want *Error", s, err)
			}
			if perr.Pos < 0 || perr.Pos > len(s) {
				t.Fatalf("Parse(%q): position %d outside the input", s, perr.Pos)
			}
			return
		}
		canon := p.String()
		q, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if again := q.String(); again != canon {
			t.Fatalf("canonical form unstable: %q then %q", canon, again)
		}
	})
}

// FuzzMatch runs patterns against bundles. Whatever the input, Match must
// return (within its work limits) without panicking, and a match must come
// with bindings that satisfy their expressions.
func FuzzMatch(f *testing.F) {
	bundle := `{"type":"bundle","id":"bundle--1","objects":[
{"type":"observed-data","id":"observed-data--1","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:01:00Z","number_observed":3,"object_refs":["ipv4-addr--1","network-traffic--1"]},
{"type":"observed-data","id":"observed-data--2","first_observed":"2020-01-01T00:02:00Z","last_observed":"2020-01-01T00:02:00Z","number_observed":1,"objects":{"0":{"type":"file","name":"a.exe","size":10,"payload_bin":"AAEC","x_hex":"ff00"},"1":{"type":"directory","path":"C:\\x","contains_refs":["0"]}}},
{"type":"ipv4-addr","id":"ipv4-addr--1","value":"198.51.100.7"},
{"type":"network-traffic","id":"network-traffic--1","dst_ref":"ipv4-addr--1","protocols":["tcp"],"dst_port":443}]}`
	for _, p := range []string{
		"[ipv4-addr:value = '198.51.100.7']",
		"[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24'] REPEATS 3 TIMES WITHIN 60 SECONDS",
		"[network-traffic:protocols[*] = 'tcp'] FOLLOWEDBY [file:size > 9.5]",
		"[directory:contains_refs[*].name LIKE '%.exe' AND directory:path NOT MATCHES '^D'] AND [ipv4-addr:value != 1]",
		"[file:payload_bin = b'AAEC' OR file:x_hex > 'a'] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
		`[file:name MATCHES '^(a|a?)+(?=b)' OR file:name MATCHES '(?<=a\\.)(e)\\1' OR file:payload_bin MATCHES '(?>\\x00+)\\x01']`,
		`[ipv4-addr:value MATCHES '^(\\d+)\\.\\1?(?!0)'] FOLLOWEDBY [file:name MATCHES '\\Ga(?P<x>\\.)(?P=x)?exe\\Z']`,
	} {
		f.Add(p, bundle)
	}
	f.Fuzz(func(t *testing.T, pattern, bundle string) {
		p, err := Parse(pattern)
		if err != nil {
			return
		}
		obs, err := ObservationsFromBundle([]byte(bundle))
		if err != nil {
			return
		}
		start := time.Now()
		res, ok := p.Match(obs)
		// Backtracking expressions are bounded per match; no pattern may
		// stall an evaluation (the limit leaves room for a loaded machine).
		if took := time.Since(start); took > time.Minute {
			t.Fatalf("Match(%q) took %v", pattern, took)
		}
		if ok && res.Truncated {
			t.Fatalf("a match reported as truncated")
		}
		for _, b := range res.Bindings {
			o := &obs[b.Observation]
			if !EvalComparison(b.Expr.Comparison, o, o.Objects[b.Root]) {
				t.Fatalf("binding %d/%s does not satisfy its expression", b.Observation, b.Root)
			}
		}
		for i := range obs {
			p.MatchOne(&obs[i])
		}
	})
}

// FuzzCanonical checks that canonical forms are stable: a canonical value
// is its own canonical form, for every type.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"ff02:0000:0000:0000:0000:0000:0001:0003", "2001:DB8::/32", "EVIL.example.", ".",
		"HTTP://User@Evil.Example.:8080/A?b#c", "http://[2001:0db8::1%eth0]/", "ftp://[::1", "x://", "10.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range []string{"ipv4-addr", "ipv6-addr", "domain-name", "url", "file"} {
			c := Canonical(typ, s)
			if again := Canonical(typ, c); again != c {
				t.Fatalf("Canonical(%s, %q) = %q, but Canonical(%s, %q) = %q", typ, s, c, typ, c, again)
			}
		}
	})
}
