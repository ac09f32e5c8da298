package match

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/stix/pattern"
)

// The differential tests check the compiled engine against the reference
// evaluator of stix/pattern on random indicators and random records drawn
// from small pools, so that hits are frequent. A seed that finds a bug is
// added to differentialSeeds.
var differentialSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}

var pools = struct {
	ips, domains, urls, hashes, emails, userAgents, names []string
}{
	// Addresses, names and URLs come in several spellings of one value
	// (IPv6 zero-padded or compressed, names in any case and with a final
	// dot), which must compare as protocols compare them.
	ips: []string{"10.0.0.1", "10.0.0.2", "10.1.2.3", "192.0.2.7", "198.51.100.9", "203.0.113.200", "2001:db8::1", "2001:db8::2:1", "fe80::1",
		"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:DB8::2:1", "FE80:0:0:0:0:0:0:1"},
	domains: []string{"evil.example", "a.evil.example", "good.example", "cdn.good.example", "xn--bcher-kva.example", "bücher.example", "example.org",
		"EVIL.example", "a.evil.example.", "Good.Example.", "BÜCHER.example"},
	urls: []string{"http://evil.example/a.php", "http://evil.example/b/c?x=1", "https://good.example/", "http://203.0.113.200/drop.exe",
		"HTTP://EVIL.example./a.php", "https://Good.Example:443/", "http://[2001:0db8::1]/x", "http://[2001:db8::1]/x"},
	hashes:     []string{"d41d8cd98f00b204e9800998ecf8427e", "D41D8CD98F00B204E9800998ECF8427E", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	emails:     []string{"alice@evil.example", "bob@good.example", "carol@example.org"},
	userAgents: []string{"Mozilla/5.0", "curl/8.4.0", "python-requests/2.31", "EvilBot/1.0 (+http://evil.example)"},
	names:      []string{"a.exe", "invoice.pdf", "README", "drop.exe"},
}

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// randomRecord fills a record with one to six random values.
func randomRecord(r *rand.Rand) *Record {
	rec := &Record{Line: 1, Time: time.Date(2026, 1, 1, 0, 0, r.IntN(100), 0, time.UTC)}
	for range 1 + r.IntN(6) {
		switch r.IntN(14) {
		case 13:
			rec.Add(Protocol, []byte([]string{"tcp", "udp", "http"}[r.IntN(3)]))
		case 0:
			rec.Add(SrcIP, []byte(pick(r, pools.ips)))
		case 1:
			rec.Add(DstIP, []byte(pick(r, pools.ips)))
		case 2:
			rec.Add(DomainName, []byte(pick(r, pools.domains)))
		case 3:
			rec.Add(URL, []byte(pick(r, pools.urls)))
		case 4:
			rec.Add(FileSHA256, []byte(pick(r, pools.hashes)))
		case 5:
			rec.Add(FileMD5, []byte(pick(r, pools.hashes)))
		case 6:
			rec.Add(EmailFrom, []byte(pick(r, pools.emails)))
		case 7:
			rec.Add(EmailTo, []byte(pick(r, pools.emails)))
		case 8:
			rec.Add(UserAgent, []byte(pick(r, pools.userAgents)))
		case 9:
			rec.Add(FileName, []byte(pick(r, pools.names)))
		case 10:
			rec.Add(DstPort, []byte(fmt.Sprint([]int{53, 80, 443}[r.IntN(3)])))
		case 11:
			rec.Add(ResolvesTo, []byte(pick(r, pools.ips)))
		case 12:
			rec.Add(IPAddr, []byte(pick(r, pools.ips)))
		}
	}
	return rec
}

// quote writes a STIX string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

type pathPool struct {
	path string
	vals []string
}

var patternPaths = []pathPool{
	{"ipv4-addr:value", pools.ips},
	{"ipv6-addr:value", pools.ips},
	{"network-traffic:src_ref.value", pools.ips},
	{"network-traffic:dst_ref.value", pools.ips},
	{"domain-name:value", pools.domains},
	{"domain-name:resolves_to_refs[*].value", pools.ips},
	{"domain-name:resolves_to_refs[0].value", pools.ips},
	{"url:value", pools.urls},
	{"file:hashes.'SHA-256'", pools.hashes},
	{"file:hashes.MD5", pools.hashes},
	{"file:name", pools.names},
	{"email-addr:value", pools.emails},
	{"email-message:from_ref.value", pools.emails},
	{"email-message:to_refs[*].value", pools.emails},
	{"network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'", pools.userAgents},
	{"artifact:mime_type", pools.names},
	{"network-traffic:protocols[*]", []string{"tcp", "udp", "http", "dns"}},
	{"network-traffic:protocols[1]", []string{"tcp", "udp", "http", "dns"}},
	{"network-traffic:protocols[-1]", []string{"tcp", "udp", "http", "dns"}},
}

// randomComparison writes one comparison on a random path.
func randomComparison(r *rand.Rand) string {
	pp := patternPaths[r.IntN(len(patternPaths))]
	v := pick(r, pp.vals)
	not := ""
	if r.IntN(8) == 0 {
		not = "NOT "
	}
	switch r.IntN(13) {
	case 0, 1, 2:
		return fmt.Sprintf("%s %s= %s", pp.path, not, quote(v))
	case 3:
		return fmt.Sprintf("%s != %s", pp.path, quote(v))
	case 4:
		return fmt.Sprintf("%s %sIN (%s, %s)", pp.path, not, quote(v), quote(pick(r, pp.vals)))
	case 5:
		return fmt.Sprintf("%s %sLIKE %s", pp.path, not, quote(likeOf(r, v)))
	case 6:
		return fmt.Sprintf("%s %sMATCHES %s", pp.path, not, quote(regexOf(r, v)))
	case 7:
		if strings.Contains(pp.path, "ip") || strings.Contains(pp.path, "ref") {
			cidr := []string{"10.0.0.0/8", "10.0.0.0/24", "10.0.0.1/32", "192.0.2.0/24", "2001:db8::/32", "0.0.0.0/0"}[r.IntN(6)]
			return fmt.Sprintf("%s %sISSUBSET '%s'", pp.path, not, cidr)
		}
		return fmt.Sprintf("%s > %s", pp.path, quote(v))
	case 8:
		return fmt.Sprintf("%sEXISTS %s", not, pp.path)
	case 9:
		return fmt.Sprintf("network-traffic:dst_port %s= %d", not, []int{53, 80, 443}[r.IntN(3)])
	case 10:
		return fmt.Sprintf("%s < %s", pp.path, quote(v))
	case 11:
		// Text compares with octet constants as its UTF-8 encoding.
		return fmt.Sprintf("%s %s= h'%x'", pp.path, not, v)
	default:
		return fmt.Sprintf("%s = %s", pp.path, quote(v))
	}
}

// likeOf makes a LIKE operand that matches v, or a near miss of it.
func likeOf(r *rand.Rand, s string) string {
	v := []rune(s)
	if len(v) < 4 {
		return s + "%"
	}
	i := 1 + r.IntN(len(v)-2)
	switch r.IntN(6) {
	case 0:
		return string(v[:i]) + "%"
	case 1:
		return "%" + string(v[i:])
	case 2:
		return "%" + string(v[1:i]) + "%"
	case 3:
		return string(v[:i]) + "_" + string(v[i+1:])
	case 4:
		return s
	}
	return "%" + string(v[i:]) + "x"
}

func regexOf(r *rand.Rand, v string) string {
	lit := strings.NewReplacer(".", `\.`, "?", `\?`, "+", `\+`, "(", `\(`, ")", `\)`).Replace(v)
	switch r.IntN(8) {
	case 0:
		return "^" + lit + "$"
	case 4:
		// PCRE features RE2 lacks run on the backtracking engine.
		return lit + "(?!x)"
	case 5:
		return "(?>" + lit + ")"
	case 6:
		return `(\w)\1|` + lit
	case 1:
		if rs := []rune(lit); len(rs) > 4 && rs[len(rs)/2-1] != '\\' {
			return string(rs[:len(rs)/2]) + ".*"
		}
	case 2:
		return "(?i)" + lit
	case 3:
		return "a|b"
	}
	return lit
}

func randomComparisonExpr(r *rand.Rand, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		return randomComparison(r)
	}
	op := " AND "
	if r.IntN(2) == 0 {
		op = " OR "
	}
	e := randomComparisonExpr(r, depth-1) + op + randomComparisonExpr(r, depth-1)
	if r.IntN(3) == 0 {
		e = "(" + e + ")"
	}
	return e
}

// randomIndicators returns n valid single-observation indicators.
func randomIndicators(r *rand.Rand, n int) []Indicator {
	var inds []Indicator
	for len(inds) < n {
		src := "[" + randomComparisonExpr(r, 2) + "]"
		if _, err := pattern.Parse(src); err != nil {
			continue // random AND across root types is rejected; draw again
		}
		inds = append(inds, Indicator{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", len(inds)), Pattern: src})
	}
	return inds
}

func TestDifferentialSingle(t *testing.T) {
	for _, seed := range differentialSeeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			inds := randomIndicators(r, 400)
			ix, errs := Compile(inds)
			if len(errs) > 0 {
				t.Fatalf("Compile: %v", errs)
			}
			pats := make([]*pattern.Pattern, len(inds))
			for i, ind := range inds {
				pats[i], _ = pattern.Parse(ind.Pattern)
			}
			sc := NewScanner(ix)
			for range 250 {
				rec := randomRecord(r)
				obs, err := Observation(rec)
				if err != nil {
					t.Fatal(err)
				}
				var got, want []string
				agree := persistently(func() bool {
					want = want[:0]
					for i, p := range pats {
						if p.MatchOne(obs) {
							want = append(want, inds[i].ID)
						}
					}
					got = got[:0]
					sc.Scan(rec, rec.Time, func(h Hit) { got = append(got, h.Indicator) })
					slices.Sort(got)
					return slices.Equal(got, want)
				})
				if !agree {
					t.Fatalf("record %s:\n%s", describe(rec), diffPatterns(inds, got, want))
				}
			}
		})
	}
}

// firstMatches returns the index of the record at which the reference
// evaluator, given every record so far, first finds a match of p, and that
// at which the window engine first reports one; -1 for none. It stops at
// the reference's first match.
func firstMatches(t *testing.T, p *pattern.Pattern, ix *Index, recs []*Record) (wantAt, gotAt int) {
	t.Helper()
	sc, w := NewScanner(ix), NewWindow()
	var stream []pattern.Observation
	wantAt, gotAt = -1, -1
	for i, rec := range recs {
		obs, err := Observation(rec)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, *obs)
		if _, ok := p.Match(stream); ok && wantAt < 0 {
			wantAt = i
		}
		for _, n := range sc.Scan(rec, rec.Time, func(Hit) {}) {
			err := w.Offer(ix, n, rec, rec.Time, func(Hit) {
				if gotAt < 0 {
					gotAt = i
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if wantAt >= 0 {
			break
		}
	}
	return wantAt, gotAt
}

// persistently runs a comparison of the engine with the evaluator and
// reports whether they agree. A backtracking MATCHES cut short by
// pattern.PCREBudget, as on a loaded machine, is the one way they may
// differ without a bug, and only now and then; a real difference persists,
// so a comparison counts as failed only when it fails three times.
func persistently(agree func() bool) bool {
	for range 3 {
		if agree() {
			return true
		}
	}
	return false
}

func describe(rec *Record) string {
	var b strings.Builder
	for _, v := range rec.Values {
		fmt.Fprintf(&b, "%s=%q ", v.Prop, v.Data)
	}
	return b.String()
}

func diffPatterns(inds []Indicator, got, want []string) string {
	var b strings.Builder
	byID := make(map[string]string)
	for _, ind := range inds {
		byID[ind.ID] = ind.Pattern
	}
	for _, id := range got {
		if !slices.Contains(want, id) {
			fmt.Fprintf(&b, "extra:   %s\n", byID[id])
		}
	}
	for _, id := range want {
		if !slices.Contains(got, id) {
			fmt.Fprintf(&b, "missing: %s\n", byID[id])
		}
	}
	return b.String()
}

// randomWindowPattern joins two or three simple observation expressions
// with observation operators and qualifiers.
func randomWindowPattern(r *rand.Rand) string {
	leaf := func() string { return "[" + randomComparison(r) + "]" }
	e := leaf()
	for range 1 + r.IntN(2) {
		op := []string{" AND ", " OR ", " FOLLOWEDBY "}[r.IntN(3)]
		e = e + op + leaf()
	}
	switch r.IntN(4) {
	case 0:
		e = "(" + e + ") WITHIN " + fmt.Sprint(1+r.IntN(30)) + " SECONDS"
	case 1:
		e = leaf() + " REPEATS " + fmt.Sprint(2+r.IntN(2)) + " TIMES"
	case 2:
		e = "(" + e + ") START t'2026-01-01T00:00:10Z' STOP t'2026-01-01T00:01:00Z'"
	}
	return e
}

// TestDifferentialWindow checks that the window engine reports a pattern's
// first match at the record where the reference evaluator, given every
// record so far, first finds one.
func TestDifferentialWindow(t *testing.T) {
	for _, seed := range differentialSeeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			matched := 0
			for c := range 60 {
				src := randomWindowPattern(r)
				p, err := pattern.Parse(src)
				if err != nil {
					continue
				}
				if _, simple := p.Expr.(*pattern.ObservationSimple); simple {
					continue
				}
				ind := Indicator{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", c), Pattern: src}
				ix, errs := Compile([]Indicator{ind})
				if len(errs) > 0 {
					t.Fatal(errs)
				}
				base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				recs := make([]*Record, 40)
				for i := range recs {
					recs[i] = randomRecord(r)
					recs[i].Time = base.Add(time.Duration(i*2) * time.Second)
				}
				var wantAt, gotAt int
				persistently(func() bool {
					wantAt, gotAt = firstMatches(t, p, ix, recs)
					return wantAt == gotAt
				})
				if wantAt >= 0 {
					matched++
				}
				if gotAt != wantAt {
					t.Errorf("%s: window engine first matched at record %d, reference at %d", src, gotAt, wantAt)
				}
			}
			if matched == 0 {
				t.Error("no generated case matched; the generator no longer exercises the engine")
			}
		})
	}
}
