package match

import (
	"fmt"
	"testing"
	"time"

	"github.com/entente/entente/stix/pattern"
)

// engineCase is one indicator against one record, checked in the compiled
// engine and in the reference evaluator.
type engineCase struct {
	pattern string
	values  []Value
	want    bool
}

func val(p Property, s string) Value { return Value{Prop: p, Data: []byte(s)} }

// scanOne compiles one indicator, scans one record and reports whether it
// hit, after checking that the reference evaluator agrees.
func scanOne(t *testing.T, src string, at time.Time, values ...Value) (bool, IndexStats) {
	t.Helper()
	ind := Indicator{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: src}
	ix, errs := Compile([]Indicator{ind})
	if len(errs) > 0 {
		t.Fatalf("Compile(%s): %v", src, errs)
	}
	rec := &Record{Line: 1, Time: at}
	for _, v := range values {
		rec.Add(v.Prop, v.Data)
	}
	p, err := pattern.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := Observation(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got, want bool
	if !persistently(func() bool {
		got = false
		NewScanner(ix).Scan(rec, at, func(Hit) { got = true })
		want = p.MatchOne(obs)
		return got == want
	}) {
		t.Errorf("%s on %s: engine %v, reference evaluator %v", src, describe(rec), got, want)
	}
	return got, ix.Stats()
}

var someTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func runEngineCases(t *testing.T, cases []engineCase) {
	t.Helper()
	for _, c := range cases {
		if got, _ := scanOne(t, c.pattern, someTime, c.values...); got != c.want {
			t.Errorf("%s on %v: hit %v, want %v", c.pattern, c.values, got, c.want)
		}
	}
}

// TestOctetConstantsOnText checks section 9.2's comparison of text with
// binary and hex constants, as UTF-8 octets, and that a string never equals
// a number however the lookup tables see it.
func TestOctetConstantsOnText(t *testing.T) {
	runEngineCases(t, []engineCase{
		{"[file:name = h'666f6f2e646c6c']", []Value{val(FileName, "foo.dll")}, true},
		{"[file:name = b'Zm9vLmRsbA==']", []Value{val(FileName, "foo.dll")}, true},
		{"[file:name IN (h'00', h'666f6f2e646c6c')]", []Value{val(FileName, "foo.dll")}, true},
		{"[file:name = h'666f6f2e646c6c']", []Value{val(FileName, "foo.dlm")}, false},
		{"[file:name = h'63616665cc812e747874']", []Value{val(FileName, "cafe\u0301.txt")}, true},
		{"[file:size = '10']", []Value{val(FileSize, "10")}, false},
		{"[file:size = h'3130']", []Value{val(FileSize, "10")}, false},
		{"[file:size IN ('10', '11')]", []Value{val(FileSize, "10")}, false},
		{"[file:size LIKE '1%']", []Value{val(FileSize, "10")}, false},
		{"[network-traffic:dst_port MATCHES '443']", []Value{val(DstPort, "443")}, false},
		{"[file:size = 10]", []Value{val(FileSize, "10")}, true},
	})
	// The octet constant is an exact lookup, not a scan of every record.
	if _, st := scanOne(t, "[file:name = h'666f6f2e646c6c']", someTime); st.Direct != 1 || st.Unanchored != 0 {
		t.Errorf("[file:name = h'…'] compiled to %+v, want one direct indicator", st)
	}
}

// TestValidityWindow checks valid_from and valid_until at the ends of the
// compact representation and beyond it: an indicator without valid_until
// never stops matching.
func TestValidityWindow(t *testing.T) {
	at := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		from, until time.Time
		at          time.Time
		want        bool
	}{
		{at(2020), time.Time{}, at(2026), true},
		{at(2020), time.Time{}, time.Date(2106, 2, 7, 6, 28, 15, 0, time.UTC), true},
		{at(2020), time.Time{}, at(2107), true},
		{at(2020), time.Time{}, at(40000), true}, // beyond 2^40 seconds
		{at(2020), time.Time{}, at(2019), false},
		{time.Time{}, time.Time{}, at(1900), true},
		{at(2020), at(2030), at(2029), true},
		{at(2020), at(2030), at(2030), false},
		{at(2020), at(2200), at(2150), true},
		{at(2020), at(2200), at(2201), false},
		{at(2150), at(2200), at(2149), false},
		{at(2150), time.Time{}, at(2151), true},
		{at(1960), at(1965), at(1962), true},
		{at(1960), at(1965), at(1966), false},
		{at(1960), time.Time{}, at(1959), false},
		{at(2020).Add(time.Millisecond), time.Time{}, at(2020), false},
	}
	for _, tt := range tests {
		ind := Indicator{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: "[domain-name:value = 'evil.example']",
			ValidFrom: tt.from, ValidUntil: tt.until}
		ix, errs := Compile([]Indicator{ind})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		rec := &Record{Line: 1, Time: tt.at}
		rec.Add(DomainName, []byte("evil.example"))
		got := false
		NewScanner(ix).Scan(rec, tt.at, func(Hit) { got = true })
		if got != tt.want {
			t.Errorf("valid [%v, %v) at %v: hit %v, want %v", tt.from, tt.until, tt.at, got, tt.want)
		}
	}
}

// TestLikeDecidedByLookup checks that an anchored LIKE is decided by its
// lookup, without the evaluator, and still agrees with it.
func TestLikeDecidedByLookup(t *testing.T) {
	tests := []struct {
		pattern string
		direct  bool
	}{
		{"[domain-name:value LIKE '%.evil.example']", true},
		{"[domain-name:value LIKE 'evil.%']", true},
		{"[domain-name:value LIKE 'evil.example']", true},
		{"[url:value LIKE 'http://evil.example/%' OR domain-name:value LIKE '%.evil.example']", true},
		{"[domain-name:value LIKE '%.evil.example' OR domain-name:value = 'x.example']", true},
		{"[domain-name:value LIKE '%evil%']", false},
		{"[domain-name:value LIKE 'e_il.example']", false},
		{"[domain-name:value LIKE '%.evil.example' AND domain-name:value != 'a.evil.example']", false},
		{"[domain-name:value LIKE '\ufffd%']", false},
		{"[domain-name:resolves_to_refs[*].value LIKE '10.%']", false},
		{"[domain-name:value MATCHES '^\ufffd']", false},
	}
	values := [][]Value{
		{val(DomainName, "a.evil.example")},
		{val(DomainName, "evil.example")},
		{val(DomainName, "\xff.evil.example")},
		{val(DomainName, "\xffvil.example")},
		{val(DomainName, "evil.example.org")},
		{val(DomainName, "x.example")},
		{val(DomainName, "e\u0301vil.example")},
		{val(URL, "http://evil.example/a")},
		{val(DomainName, "a.evil.example"), val(ResolvesTo, "10.0.0.1")},
	}
	for _, tt := range tests {
		for _, vs := range values {
			scanOne(t, tt.pattern, someTime, vs...) // fails on disagreement
		}
		_, st := scanOne(t, tt.pattern, someTime)
		if got := st.Direct == 1; got != tt.direct {
			t.Errorf("%s: decided by lookup %v, want %v (%+v)", tt.pattern, got, tt.direct, st)
		}
	}
}

// BenchmarkLikeSuffixHits matches domain names against LIKE '%.suffix'
// indicators that hit on every record. "decided" is the plain LIKE, which
// its suffix lookup decides; "evaluated" adds a comparison the lookup does
// not decide, so that every hit goes through the reference evaluator.
func BenchmarkLikeSuffixHits(b *testing.B) {
	for _, bc := range []struct{ name, extra string }{
		{"decided", ""},
		{"evaluated", " AND EXISTS domain-name:value"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var inds []Indicator
			for i := range 9 {
				inds = append(inds, Indicator{
					ID:      fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i),
					Pattern: fmt.Sprintf("[domain-name:value LIKE '%%.s%d.example'%s]", i, bc.extra),
				})
			}
			ix, errs := Compile(inds)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			recs := make([]*Record, 64)
			for i := range recs {
				recs[i] = &Record{Line: 1, Time: someTime}
				recs[i].Add(DomainName, fmt.Appendf(nil, "host%d.s%d.example", i, i%9))
				recs[i].Add(SrcIP, []byte("10.0.0.1"))
			}
			sc := NewScanner(ix)
			hits := 0
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				sc.Scan(recs[i%len(recs)], someTime, func(Hit) { hits++ })
			}
			if hits == 0 {
				b.Fatal("no hits")
			}
		})
	}
}

// TestValuesCompareAsProtocolsDo checks that addresses, domain names and
// URL hosts match in any of their spellings, on both sides.
func TestValuesCompareAsProtocolsDo(t *testing.T) {
	runEngineCases(t, []engineCase{
		{"[ipv6-addr:value = 'ff02::1:3']", []Value{val(DstIP, "ff02:0000:0000:0000:0000:0000:0001:0003")}, true},
		{"[ipv6-addr:value = 'ff02:0000:0000:0000:0000:0000:0001:0003']", []Value{val(DstIP, "ff02::1:3")}, true},
		{"[network-traffic:dst_ref.value = 'FF02::1:3']", []Value{val(DstIP, "ff02:0:0:0:0:0:1:3")}, true},
		{"[ipv6-addr:value IN ('::1', 'ff02::1:3')]", []Value{val(IPAddr, "FF02::0001:0003")}, true},
		{"[ipv6-addr:value = 'ff02::1:3']", []Value{val(DstIP, "ff02::1:4")}, false},
		{"[domain-name:value = 'sunnystation.com']", []Value{val(DomainName, "SUNNYSTATION.COM")}, true},
		{"[domain-name:value = 'SUNNYSTATION.COM']", []Value{val(DomainName, "sunnystation.com")}, true},
		{"[domain-name:value = 'connectivity-check.ubuntu.com']", []Value{val(DomainName, "connectivity-check.ubuntu.com.")}, true},
		{"[domain-name:value = 'connectivity-check.ubuntu.com.']", []Value{val(DomainName, "Connectivity-Check.Ubuntu.com")}, true},
		{"[domain-name:value LIKE '%.UBUNTU.COM.']", []Value{val(DomainName, "connectivity-check.ubuntu.com")}, true},
		{"[domain-name:value LIKE 'connectivity-%']", []Value{val(DomainName, "CONNECTIVITY-CHECK.ubuntu.com")}, true},
		{"[domain-name:value MATCHES 'ubuntu\\\\.com$']", []Value{val(DomainName, "Connectivity-Check.UBUNTU.COM.")}, true},
		{"[url:value = 'http://evil.example/a.php']", []Value{val(URL, "HTTP://EVIL.EXAMPLE./a.php")}, true},
		{"[url:value = 'http://evil.example/A.php']", []Value{val(URL, "http://evil.example/a.php")}, false},
		{"[url:value = 'http://[2001:db8::1]:8080/x']", []Value{val(URL, "http://[2001:0DB8:0:0:0:0:0:1]:8080/x")}, true},
		{"[email-addr:value = 'Alice@evil.example']", []Value{val(EmailAddr, "alice@evil.example")}, false},
	})
}

// TestPCREOnCandidates checks that MATCHES expressions using PCRE
// features RE2 lacks match in the engine as in the evaluator, and run only
// on values that hold the literal every match needs.
func TestPCREOnCandidates(t *testing.T) {
	runEngineCases(t, []engineCase{
		{"[domain-name:value MATCHES '(?<=\\\\.)evil\\\\.example$']", []Value{val(DomainName, "a.evil.example")}, true},
		{"[domain-name:value MATCHES '(?<=\\\\.)evil\\\\.example$']", []Value{val(DomainName, "evil.example")}, false},
		{"[domain-name:value MATCHES '^(\\\\w)\\\\1\\\\.evil']", []Value{val(DomainName, "aa.evil.example")}, true},
		{"[domain-name:value MATCHES '^(\\\\w)\\\\1\\\\.evil']", []Value{val(DomainName, "ab.evil.example")}, false},
		{"[url:value MATCHES '^https?+://(?>[^/]+)/drop\\\\.exe']", []Value{val(URL, "http://203.0.113.200/drop.exe")}, true},
		{"[file:name MATCHES '(?<n>\\\\w)\\\\k<n>\\\\.exe\\\\Z']", []Value{val(FileName, "aa.exe")}, true},
	})
	src := "[domain-name:value MATCHES '(?<=\\\\.)evil\\\\.example$']"
	ix, errs := Compile([]Indicator{{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: src}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if st := ix.Stats(); st.Substrings != 1 || st.Unanchored != 0 {
		t.Errorf("%s compiled to %+v, want one substring anchor", src, st)
	}
}
