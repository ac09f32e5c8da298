package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/signature"
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// ind returns an indicator's JSON; extra holds more properties.
func ind(n int, patternType, pattern string, extra ...string) []byte {
	p, _ := json.Marshal(pattern)
	more := ""
	for _, e := range extra {
		more += "," + e
	}
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"ind %d","pattern_type":%q,"pattern":%s,`+
		`"valid_from":"2024-01-01T00:00:00Z"%s}`, n, n, patternType, p, more)
}

func id(n int) string { return fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", n) }

var sample = [][]byte{
	ind(1, "stix", "[ipv4-addr:value = '198.51.100.1']"),
	ind(2, "stix", "[domain-name:value = 'Evil.Example']"),
	ind(3, "stix", "[url:value = 'http://evil.example:8080/a;b\"c?q=1']"),
	ind(4, "stix", "[file:hashes.'SHA-256' = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']"),
	ind(5, "stix", "[ipv6-addr:value ISSUBSET '2001:db8::/32'] OR [network-traffic:dst_ref.value = '203.0.113.7']"),
	ind(6, "stix", "[ipv4-addr:value = '198.51.100.6'] AND [domain-name:value = 'x.example']"),
	ind(7, "stix", "[ipv4-addr:value = '198.51.100.7']", `"revoked":true`),
	ind(8, "stix", "[ipv4-addr:value = '198.51.100.8']", `"valid_until":"2025-01-01T00:00:00Z"`),
	ind(9, "suricata", `alert tls any any -> any any (msg:"partner rule"; tls.sni; content:"p.example"; sid:2100001; rev:3;)`),
	ind(10, "stix", "[url:value = 'https://secure.example/login']"),
	ind(11, "stix", "[email-addr:value = 'Phish@Evil.Example'] OR [file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"),
	ind(12, "stix", "[domain-name:value IN ('a.example', 'b.example')]"),
	ind(13, "stix", "[file:size > 10]"),
	ind(14, "yara", "rule one { strings: $a = \"x\" condition: $a }"),
	ind(15, "yara", "rule one { condition: true }"),
	ind(16, "sigma", "title: t\nlogsource: {product: windows}\ndetection:\n  s: {Image|endswith: '\\\\x.exe'}\n  condition: s\n"),
	ind(17, "snort", `alert tcp any any -> any 445 (msg:"smb"; content:"|FF|SMB"; sid:2465;)`),

	ind(18, "stix", "[ipv4-addr:value = '198.51.100.18']", `"valid_until":"2027-01-01T00:00:00Z"`, `"external_references":[{"source_name":"x","url":"https://ref.example/18"}]`),
}

func run(t *testing.T, cfg Config, objs [][]byte) (string, *Report) {
	t.Helper()
	cfg.Now = now
	var out bytes.Buffer
	x, err := NewWriter(&out, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if len(o) == 0 {
			continue
		}
		if err := x.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	r, err := x.Close()
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), r
}

func skipped(r *Report) map[string]string {
	m := map[string]string{}
	for _, s := range r.Skipped {
		m[s.ID] = s.Reason
	}
	return m
}

func TestSuricata(t *testing.T) {
	out, r := run(t, Config{Format: Suricata, Source: "node-a/col"}, sample)
	// Every line that is not a comment is a rule Suricata's grammar reads.
	rules, err := signature.ParseSuricata(out)
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, out)
	}
	bySID := map[uint32]*signature.Rule{}
	stixIDs := map[string]int{}
	for _, rule := range rules {
		if bySID[rule.SID()] != nil {
			t.Errorf("sid %d given twice", rule.SID())
		}
		bySID[rule.SID()] = rule
		if m, ok := rule.Value("metadata"); ok {
			if _, after, ok := strings.Cut(m, "stix_id "); ok {
				stixIDs[strings.SplitN(after, ",", 2)[0]]++
			}
		}
	}
	want := map[int]int{1: 1, 2: 3, 3: 1, 5: 2, 11: 0, 12: 6, 18: 1}
	for n, k := range want {
		if stixIDs[id(n)] != k {
			t.Errorf("%s: %d generated rules, want %d", id(n), stixIDs[id(n)], k)
		}
	}
	for _, s := range []string{
		`alert ip [198.51.100.1] any <> any any (msg:"entente ind 1"; threshold:type limit, track by_both, count 1, seconds 3600; sid:`,
		`alert dns any any -> any any (msg:"entente ind 2"; dns.query; content:"evil.example"; nocase; startswith; endswith; sid:`,
		`alert tls any any -> any any (msg:"entente ind 2"; tls.sni; content:"evil.example"; nocase; startswith; endswith;`,
		`alert http any any -> any any (msg:"entente ind 2"; http.host; content:"evil.example"; startswith; endswith;`,
		`alert http any any -> any 8080 (msg:"entente ind 3"; http.host; content:"evil.example"; startswith; endswith; http.uri.raw; content:"/a|3B|b|22|c?q=1"; startswith; endswith;`,
		`alert ip [2001:db8::/32] any <> any any`,
		`alert ip any any -> [203.0.113.7] any`,
		`alert tls any any -> any any (msg:"partner rule"; tls.sni; content:"p.example"; sid:2100001; rev:3;)`,
		`alert tcp any any -> any 445 (msg:"smb"; content:"|FF|SMB"; sid:2465;)`,
		`filesha256:entente-sha256.lst; sid:2999999986;`,
		`metadata:stix_id ` + id(1) + `, entente_source node-a/col;`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("the export lacks %s", s)
		}
	}
	if r.Expired != 1 || r.Revoked != 1 {
		t.Errorf("expired %d, revoked %d; want 1 and 1", r.Expired, r.Revoked)
	}
	sk := skipped(r)
	for n, reason := range map[int]string{6: "AND", 10: "https", 11: "e-mail", 13: "file:size"} {
		if !strings.Contains(sk[id(n)], reason) {
			t.Errorf("%s: skipped as %q; want a reason with %q", id(n), sk[id(n)], reason)
		}
	}
	if len(sk) != 4 {
		t.Errorf("skipped %v; want 4", sk)
	}
	// The hash-only part of indicator 11 is not exported: the indicator
	// as a whole cannot be.
	if strings.Contains(out, "filemd5") && !strings.Contains(out, "filemd5:entente-md5.lst") {
		t.Error("bad md5 rule")
	}
}

// TestSIDsStable checks that an indicator keeps its sids when others are
// added after it, and across exports.
func TestSIDsStable(t *testing.T) {
	sids := func(objs [][]byte) map[string]string {
		out, _ := run(t, Config{Format: Suricata}, objs)
		m := map[string]string{}
		for line := range strings.Lines(out) {
			if sid := regexp.MustCompile(`sid:(\d+);.*stix_id ([^,]+),`).FindStringSubmatch(line); sid != nil {
				m[sid[2]] += sid[1] + " "
			}
		}
		return m
	}
	var many [][]byte
	for n := range 2000 {
		many = append(many, ind(1000+n, "stix", fmt.Sprintf("[ipv4-addr:value = '10.%d.%d.1']", n/250, n%250)))
	}
	first := sids(many[:1000])
	again := sids(many)
	for k, v := range first {
		if again[k] != v {
			t.Errorf("%s: sids %s, then %s", k, v, again[k])
		}
	}
	if len(again) != 2000 {
		t.Errorf("%d indicators with rules, want 2000", len(again))
	}
}

func TestZeekIntel(t *testing.T) {
	out, r := run(t, Config{Format: ZeekIntel, Source: "node-a"}, sample)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if lines[0] != "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url" {
		t.Fatalf("header %q", lines[0])
	}
	got := map[string]string{}
	for i, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != 5 {
			t.Fatalf("line %d: %d fields, want 5: %q", i+2, len(f), l)
		}
		for j, v := range f {
			if v == "" || strings.ContainsAny(v, "\r\n") {
				t.Errorf("line %d field %d empty or broken: %q", i+2, j+1, v)
			}
		}
		if msg := checkIntelValue(f[0], f[1]); msg != "" {
			t.Errorf("line %d: %s: %q", i+2, msg, l)
		}
		if f[2] != "node-a" || !strings.HasPrefix(f[3], "indicator--") {
			t.Errorf("line %d: meta %q", i+2, l)
		}
		got[f[0]] = f[1] + " " + f[4]
	}
	want := map[string]string{
		"198.51.100.1":                 "Intel::ADDR -",
		"evil.example":                 "Intel::DOMAIN -",
		"evil.example:8080/a;b\"c?q=1": "Intel::URL -",
		"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f": "Intel::FILE_HASH -",
		"phish@evil.example":               "Intel::EMAIL -",
		"d41d8cd98f00b204e9800998ecf8427e": "Intel::FILE_HASH -",
		"a.example":                        "Intel::DOMAIN -",
		"b.example":                        "Intel::DOMAIN -",
		"198.51.100.18":                    "Intel::ADDR https://ref.example/18",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("lines for %v; want %v", got, want)
	}
	sk := skipped(r)
	for n, reason := range map[int]string{5: "either direction", 6: "AND", 10: "https", 13: "file:size"} {
		if !strings.Contains(sk[id(n)], reason) {
			t.Errorf("%s: skipped as %q; want a reason with %q", id(n), sk[id(n)], reason)
		}
	}
	subnet, _ := run(t, Config{Format: ZeekIntel}, [][]byte{ind(1, "stix", "[ipv4-addr:value ISSUBSET '10.1.0.0/16']")})
	if !strings.Contains(subnet, "10.1.0.0/16\tIntel::SUBNET\t") {
		t.Errorf("subnet: %q", subnet)
	}
}

// checkIntelValue checks a value against the form Zeek's Intel framework
// expects for its type.
func checkIntelValue(v, typ string) string {
	switch typ {
	case "Intel::ADDR":
		if _, err := netip.ParseAddr(v); err != nil {
			return "not an address"
		}
	case "Intel::SUBNET":
		if _, err := netip.ParsePrefix(v); err != nil {
			return "not a subnet"
		}
	case "Intel::DOMAIN":
		if strings.ContainsAny(v, "/: ") || v != strings.ToLower(v) {
			return "not a lower-case domain name"
		}
	case "Intel::URL":
		if strings.Contains(v, "://") {
			return "an Intel::URL has no scheme"
		}
	case "Intel::FILE_HASH":
		if !regexp.MustCompile(`^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$`).MatchString(v) {
			return "not a lower-case hex digest"
		}
	case "Intel::EMAIL":
		if !strings.Contains(v, "@") {
			return "not an e-mail address"
		}
	case "Intel::FILE_NAME", "Intel::USER_NAME", "Intel::SOFTWARE", "Intel::CERT_HASH", "Intel::PUBKEY_HASH":
	default:
		return "unknown Intel type"
	}
	return ""
}

func TestSuricataDatasets(t *testing.T) {
	out, r := run(t, Config{Format: SuricataDatasets, Hash: "sha256"}, sample)
	if out != "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f\n" {
		t.Errorf("sha256 list %q", out)
	}
	if r.Exported != 1 {
		t.Errorf("report %+v", r)
	}
	if _, err := NewWriter(&bytes.Buffer{}, Config{Format: SuricataDatasets}); err == nil {
		t.Error("a dataset export without a hash must fail")
	}
}

func TestSigmaAndYARA(t *testing.T) {
	out, r := run(t, Config{Format: YARA}, sample)
	y, err := signature.ParseYARA(out)
	if err != nil || len(y.Rules) != 1 {
		t.Fatalf("the YARA export does not parse as one rule: %v\n%s", err, out)
	}
	if !strings.Contains(skipped(r)[id(15)], "unique names") {
		t.Errorf("the second rule named one: %v", r.Skipped)
	}
	out, r = run(t, Config{Format: Sigma}, sample)
	docs := strings.Split(out, "---\n")
	if len(docs) != 2 || docs[1] != "" || r.Exported != 1 {
		t.Fatalf("sigma export %q", out)
	}
	if _, err := signature.ParseSigma(docs[0]); err != nil {
		t.Errorf("the Sigma export does not parse: %v", err)
	}
}

// TestFastAtom holds the fast reading of the common pattern shape to what
// the parser reads.
func TestFastAtom(t *testing.T) {
	for _, p := range []string{
		"[ipv4-addr:value = '198.51.100.1']",
		"[ipv6-addr:value = '2001:DB8::1']",
		"[domain-name:value = 'EXAMPLE.com']",
		"[url:value = 'HTTP://Example.com/A']",
		"[file:hashes.'SHA-256' = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']",
		"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
		"[network-traffic:dst_ref.value = '10.0.0.1']",
		"[ipv4-addr:value = '10.0.0.0/8']",
		"[email-addr:value = 'A@B.example']",
	} {
		fast, ok := fastAtom(p)
		if !ok {
			t.Errorf("%s: not read fast", p)
			continue
		}
		slow := atomsWithParser(t, p)
		if len(slow) != 1 || slow[0] != fast {
			t.Errorf("%s: fast %+v, parser %+v", p, fast, slow)
		}
	}
	for _, p := range []string{"[ipv4-addr:value = 'x\\'y']", "[ipv4-addr:value  = '1.2.3.4']", "[file:size = '1']"} {
		if _, ok := fastAtom(p); ok {
			t.Errorf("%s: read fast", p)
		}
	}
}

func atomsWithParser(t *testing.T, p string) []atom {
	t.Helper()
	atoms, reason := atomsOf("(" + p + ")") // parentheses keep it off the fast path
	if reason != "" {
		t.Fatal(reason)
	}
	return atoms
}

// TestValidity: an indicator is exported while valid_from <= Now <
// valid_until, and Until is the first instant after Now at which that
// changes for one of them; a revoked one never comes back, so it does not
// count.
func TestValidity(t *testing.T) {
	at := func(n int, from, until string, extra string) []byte {
		v := `"valid_from":"` + from + `"`
		if until != "" {
			v += `,"valid_until":"` + until + `"`
		}
		return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00.000Z",`+
			`"modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.%d']",%s%s}`,
			id(n), n, v, extra)
	}
	objs := [][]byte{
		at(1, "2024-01-01T00:00:00Z", "", ""),                                    // valid from before Now, for ever
		at(2, "2024-01-01T00:00:00Z", "2026-05-01T00:00:00Z", ""),                // expired
		at(3, "2024-01-01T00:00:00Z", "2026-09-01T00:00:00Z", ""),                // expires after Now
		at(4, "2026-07-01T00:00:00.5Z", "2026-08-01T00:00:00Z", ""),              // not valid yet
		at(5, "2024-01-01T00:00:00Z", "2026-06-02T00:00:00Z", `,"revoked":true`), // revoked
		at(6, "2026-06-01T00:00:00Z", "", ""),                                    // valid from Now exactly
	}
	export := func(now time.Time) (string, *Report) {
		t.Helper()
		var out bytes.Buffer
		x, err := NewWriter(&out, Config{Format: ZeekIntel, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if err := x.Add(o); err != nil {
				t.Fatal(err)
			}
		}
		r, err := x.Close()
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), r
	}
	has := func(out string, n int) bool { return strings.Contains(out, fmt.Sprintf("198.51.100.%d\t", n)) }

	out, r := export(now)
	for n, want := range map[int]bool{1: true, 2: false, 3: true, 4: false, 5: false, 6: true} {
		if has(out, n) != want {
			t.Errorf("at %v, indicator %d exported: %v, want %v", now, n, !want, want)
		}
	}
	if r.Expired != 1 || r.Early != 1 || r.Revoked != 1 || r.Exported != 3 {
		t.Errorf("report %+v; want 3 exported, 1 expired, 1 not valid yet, 1 revoked", r)
	}
	if want := time.Date(2026, 7, 1, 0, 0, 0, 5e8, time.UTC); !r.Until.Equal(want) {
		t.Errorf("Until = %v; want %v, when indicator 4 becomes valid", r.Until, want)
	}
	var report strings.Builder
	r.WriteTo(&report)
	if !strings.Contains(report.String(), "left out: 1 expired, 1 not valid yet, 1 revoked, 0 not expressible") {
		t.Errorf("report %q", report.String())
	}

	// Just before Until the export is the same; at Until it is not.
	if before, _ := export(r.Until.Add(-time.Nanosecond)); before != out {
		t.Errorf("the export changed before Until:\n%s\nwas\n%s", before, out)
	}
	out, r = export(r.Until)
	if !has(out, 4) {
		t.Errorf("at Until, indicator 4 is not exported:\n%s", out)
	}
	if want := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC); !r.Until.Equal(want) {
		t.Errorf("then Until = %v; want %v, when indicator 4 expires", r.Until, want)
	}
	if _, r = export(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); !r.Until.IsZero() {
		t.Errorf("once every dated indicator expired, Until = %v; want zero", r.Until)
	}
}
