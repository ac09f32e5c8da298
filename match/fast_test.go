package match

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// fastCases are patterns at the edges of what compileFast accepts.
var fastCases = []string{
	"[domain-name:value = 'evil.example']",
	"[domain-name:value='evil.example']",
	"[ domain-name:value  =  'evil.example' ]",
	"[domain-name:value == 'evil.example']",
	"[domain-name:value = 'evil.example' ]",
	"[domain-name:value\t= 'evil.example']",
	"[domain-name:value = 'it\\'s']",
	"[domain-name:value = 'a' /* comment */]",
	"[domain-name:value = '']",
	"[domain-name:value LIKE '%.evil.example']",
	"[domain-name:value LIKE'%.evil.example']",
	"[domain-name:value like '%.evil.example']",
	"[domain-name:value NOT = 'evil.example']",
	"[domain-name:value != 'evil.example']",
	"[domain-name:value = 'a'] AND [domain-name:value = 'b']",
	"[domain-name:value = 'a' OR domain-name:value = 'b']",
	"[domain-name:value = 'bücher.example']",
	"[domain-name:value LIKE 'bu\u0308cher.%']",
	"[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
	"[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']",
	"[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85']",
	"[file:hashes.'SHA-256' = 'g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
	"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
	"[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']",
	"[file:hashes.md5 = 'd41d8cd98f00b204e9800998ecf8427e']",
	"[file:hashes.'SSDEEP' = '3:a:b']",
	"[file:hashes.'SHA-1' LIKE 'da39%']",
	"[file:name = 'a.exe']",
	"[file:parent_directory_ref.path = '/srv/share']",
	"[network-traffic:dst_ref.value = '10.0.0.1']",
	"[network-traffic:protocols[0] = 'tcp']",
	"[network-traffic:protocols[*] = 'tcp']",
	"[network-traffic:dst_port = 443]",
	"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'curl/8.4.0']",
	"[network-traffic:extensions.http-request-ext.request_method = 'GET']",
	"[email-message:from_ref.value = 'a@evil.example']",
	"[domain-name:resolves_to_refs[*].value = '10.0.0.1']",
	"[x-custom:value = 'a']",
	"[x_custom:value = 'a']",
	"[domain-name:true = 'a']",
	"[domain-name:b'x' = 'a']",
	"[domain-name:value.b = 'a']",
	"[domain-name:9value = 'a']",
	"[domain-name:Value = 'a']",
	"[Domain-name:value = 'a']",
	"[domain-name:value = h'6161']",
	"[domain-name:value = 'a'] WITHIN 60 SECONDS",
	"[domain-name:value = 'a']]",
	"[domain-name:value = 'a'",
	"[domain-name:]",
	"[:value = 'a']",
	"[domain-name:value = 'a\xff']",
	"[]",
	"[",
}

// checkFast fails if compileFast answers for src and its answer is not
// compileOne's.
func checkFast(t *testing.T, src string) (fast bool) {
	t.Helper()
	var c1, c2 compiler
	c1.intern, c2.intern = make(map[string]string), make(map[string]string)
	got, ok := c1.compileFast(src)
	if !ok {
		return false
	}
	want := c2.compileOne(src)
	if want.err != nil {
		t.Fatalf("%s: compileFast accepts it, compileOne says %v", src, want.err)
	}
	if got.decide != want.decide || !reflect.DeepEqual(got.anchors, want.anchors) {
		t.Fatalf("%s:\ncompileFast: decide %d, anchors %+v\ncompileOne:  decide %d, anchors %+v", src, got.decide, got.anchors, want.decide, want.anchors)
	}
	return true
}

// TestCompileFast holds the fast path to compileOne's answers, and checks
// that it takes the shapes a feed is made of.
func TestCompileFast(t *testing.T) {
	for _, src := range fastCases {
		checkFast(t, src)
	}
	r := rand.New(rand.NewPCG(3, 3))
	for _, ind := range randomIndicators(r, 3000) {
		checkFast(t, ind.Pattern)
	}
	// The shapes of a feed, as match/matchgen writes them.
	for _, src := range []string{
		"[domain-name:value = 'evil.example']",
		"[url:value = 'http://h1x2.x7.example.net/p/3kq.php']",
		"[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
		"[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
		"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
		"[ipv4-addr:value = '10.1.2.3']",
		"[ipv6-addr:value = '2001:db8:0:7::1f']",
		"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'curl/8.4.0']",
		"[domain-name:value LIKE '%.evil.example']",
	} {
		if !checkFast(t, src) {
			t.Errorf("the fast path does not take %s", src)
		}
	}
}

// FuzzCompileFast compiles a pattern both ways.
func FuzzCompileFast(f *testing.F) {
	for _, src := range fastCases {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkFast(t, src)
	})
}

// TestParseIPv4 holds the fast address reader to netip.ParseAddr.
func TestParseIPv4(t *testing.T) {
	for _, s := range []string{
		"10.0.0.1", "255.255.255.255", "0.0.0.0", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "256.1.1.1",
		"1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.4/24", "::1", "::ffff:1.2.3.4", "", "1.2.3.a", "1000.2.3.4",
		"1.2.3.4%eth0", " 1.2.3.4",
	} {
		checkIPv4(t, s)
	}
}

func checkIPv4(t *testing.T, s string) {
	got, ok := parseIPv4([]byte(s))
	if !ok {
		return
	}
	want, err := netip.ParseAddr(s)
	if err != nil || got != want {
		t.Fatalf("%q: parseIPv4 gives %v, netip.ParseAddr %v, %v", s, got, want, err)
	}
}

func FuzzParseIPv4(f *testing.F) {
	f.Add("192.0.2.1")
	f.Add("01.2.3.4")
	f.Fuzz(checkIPv4)
}

func TestIsASCII(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefgh", "abcdefghi", "abcdefgh\x80", "\xffbcdefgh", "bücher.example", "0123456789abcdef0"} {
		want := true
		for i := 0; i < len(s); i++ {
			want = want && s[i] < 0x80
		}
		if got := isASCII([]byte(s)); got != want {
			t.Errorf("isASCII(%q) = %v", s, got)
		}
	}
}

// TestMayCover checks the /16 filter of the CIDR tables: it may let an
// address through that no prefix holds, but never stops one that a prefix
// holds.
func TestMayCover(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	ix := &Index{paths: make([]pathInfo, 1)}
	var pfxs []netip.Prefix
	for range 200 {
		a := netip.AddrFrom4([4]byte{byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		p := netip.PrefixFrom(a, r.IntN(33)).Masked()
		pfxs = append(pfxs, p)
		ix.addCIDR(0, p, 0)
	}
	pi := &ix.paths[0]
	for range 20000 {
		a := netip.AddrFrom4([4]byte{byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		v := netip.PrefixFrom(a, 16+r.IntN(17)).Masked()
		held := false
		for _, p := range pfxs {
			held = held || p.Bits() <= v.Bits() && p.Contains(v.Addr())
		}
		if held && !pi.mayCover(v) {
			t.Fatalf("%v is in an indexed prefix, but the filter stops it", v)
		}
	}
}
