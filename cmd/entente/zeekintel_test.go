package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/export"
)

// zeekIntel is Zeek's Intel framework as base/frameworks/intel/main.zeek
// defines its matching: an address matches an Intel::ADDR item equal to
// it or an Intel::SUBNET item holding it; any other value matches an item
// of its type whose indicator equals it, both lower-cased.
type zeekIntel struct {
	addrs   map[netip.Addr][]string
	subnets map[netip.Prefix][]string
	others  map[string][]string // type + "\x00" + lower-case indicator
}

// loadIntel reads an Intel input file, the way Zeek's input framework
// does: a #fields header, then tab-separated fields, - for none.
func loadIntel(t *testing.T, data []byte) *zeekIntel {
	t.Helper()
	z := &zeekIntel{addrs: map[netip.Addr][]string{}, subnets: map[netip.Prefix][]string{}, others: map[string][]string{}}
	var fields []string
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(rest, "\t")
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != len(fields) {
			t.Fatalf("intel line %d: %d fields, the header names %d", i+1, len(f), len(fields))
		}
		item := map[string]string{}
		for j, name := range fields {
			item[name] = f[j]
		}
		desc := strings.Fields(item["meta.desc"])[0] // the STIX id
		switch typ, v := item["indicator_type"], item["indicator"]; typ {
		case "Intel::ADDR":
			a, err := netip.ParseAddr(v)
			if err != nil {
				t.Fatalf("intel line %d: %v", i+1, err)
			}
			z.addrs[a] = append(z.addrs[a], desc)
		case "Intel::SUBNET":
			p, err := netip.ParsePrefix(v)
			if err != nil {
				t.Fatalf("intel line %d: %v", i+1, err)
			}
			z.subnets[p] = append(z.subnets[p], desc)
		default:
			k := typ + "\x00" + strings.ToLower(v)
			z.others[k] = append(z.others[k], desc)
		}
	}
	return z
}

// seen returns the items an observation matches (Intel::seen).
func (z *zeekIntel) seen(value, typ string) []string {
	if typ == "Intel::ADDR" {
		a, err := netip.ParseAddr(value)
		if err != nil {
			return nil
		}
		out := slices.Clone(z.addrs[a])
		for p, ds := range z.subnets {
			if p.Contains(a) {
				out = append(out, ds...)
			}
		}
		return out
	}
	return z.others[typ+"\x00"+strings.ToLower(value)]
}

// zeekSeen lists what Zeek's intel seen scripts (policy/frameworks/intel/
// seen) report of a log record: the connection's addresses (conn-established),
// DNS queries (dns), the HTTP Host header and URL (http-headers, http-url),
// the TLS server name (ssl), file hashes (file-hashes) and the SMTP
// addresses (smtp).
func zeekSeen(rec map[string]any) [][2]string {
	str := func(k string) string { s, _ := rec[k].(string); return s }
	var out [][2]string
	add := func(v, typ string) {
		if v != "" && v != "-" {
			out = append(out, [2]string{v, typ})
		}
	}
	switch str("_path") {
	case "conn":
		add(str("id.orig_h"), "Intel::ADDR")
		add(str("id.resp_h"), "Intel::ADDR")
	case "dns":
		add(str("query"), "Intel::DOMAIN")
	case "http":
		host := str("host")
		if _, err := netip.ParseAddr(host); err == nil {
			add(host, "Intel::ADDR")
		} else {
			add(host, "Intel::DOMAIN")
		}
		add(host+str("uri"), "Intel::URL") // HTTP::build_url: no scheme
	case "ssl":
		add(str("server_name"), "Intel::DOMAIN")
	case "files":
		for _, h := range []string{"md5", "sha1", "sha256"} {
			add(str(h), "Intel::FILE_HASH")
		}
	case "smtp":
		add(str("mailfrom"), "Intel::EMAIL")
		if to, ok := rec["rcptto"].([]any); ok {
			for _, v := range to {
				s, _ := v.(string)
				add(s, "Intel::EMAIL")
			}
		}
	}
	return out
}

// TestZeekIntelAgreesWithMatch matches the same indicators against the
// same Zeek log twice, through entente match and through the Zeek Intel
// file that export writes, with Zeek's matching semantics: for every
// indicator the export holds, both find it in the same records.
//
// Two differences are left out of the log on purpose, and written down in
// doc/ecosystem.md: entente matches an address indicator against DNS
// answers (a domain-name's resolves_to_refs), which Zeek's seen scripts do
// not report; and Zeek compares URLs lower-cased whole, where STIX and
// entente compare the path as written.
func TestZeekIntelAgreesWithMatch(t *testing.T) {
	dir := t.TempDir()
	const sha256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
	const md5 = "d41d8cd98f00b204e9800998ecf8427e"
	patterns := []string{
		"[ipv4-addr:value = '198.51.100.1']",
		"[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
		"[ipv6-addr:value = '2001:db8::5']",
		"[domain-name:value = 'evil.example']",
		"[domain-name:value IN ('a.example', 'b.example')]",
		"[url:value = 'http://dl.example/payload.bin']",
		"[file:hashes.'SHA-256' = '" + sha256 + "']",
		"[file:hashes.MD5 = '" + md5 + "'] OR [email-addr:value = 'phish@evil.example']",
		"[ipv4-addr:value = '198.51.100.9'] AND [domain-name:value = 'x.example']", // not expressible
	}
	var objs bytes.Buffer
	for i, p := range patterns {
		fmt.Fprintf(&objs, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-0000000000ff","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"i%d","pattern":%q,"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`+"\n", i, i, p)
	}
	logLines := []string{
		`{"_path":"conn","ts":1767225600.0,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":50000,"id.resp_h":"198.51.100.1","id.resp_p":443,"proto":"tcp","conn_state":"SF"}`,
		`{"_path":"conn","ts":1767225601.0,"uid":"C2","id.orig_h":"203.0.113.77","id.orig_p":50001,"id.resp_h":"10.0.0.1","id.resp_p":22,"proto":"tcp","conn_state":"S0"}`,
		`{"_path":"conn","ts":1767225602.0,"uid":"C3","id.orig_h":"2001:db8:0:0:0:0:0:5","id.orig_p":50002,"id.resp_h":"2001:db8::6","id.resp_p":80,"proto":"tcp","conn_state":"SF"}`,
		`{"_path":"conn","ts":1767225603.0,"uid":"C4","id.orig_h":"10.0.0.2","id.orig_p":50003,"id.resp_h":"192.0.2.1","id.resp_p":80,"proto":"tcp","conn_state":"SF"}`,
		`{"_path":"dns","ts":1767225604.0,"uid":"D1","id.orig_h":"10.0.0.1","id.orig_p":53000,"id.resp_h":"10.0.0.53","id.resp_p":53,"proto":"udp","trans_id":1,"query":"evil.example","qtype_name":"A","answers":["192.0.2.10"]}`,
		`{"_path":"dns","ts":1767225605.0,"uid":"D2","id.orig_h":"10.0.0.1","id.orig_p":53001,"id.resp_h":"10.0.0.53","id.resp_p":53,"proto":"udp","trans_id":2,"query":"B.Example","qtype_name":"A"}`,
		`{"_path":"dns","ts":1767225606.0,"uid":"D3","id.orig_h":"10.0.0.1","id.orig_p":53002,"id.resp_h":"10.0.0.53","id.resp_p":53,"proto":"udp","trans_id":3,"query":"sub.evil.example","qtype_name":"A"}`,
		`{"_path":"http","ts":1767225607.0,"uid":"H1","id.orig_h":"10.0.0.3","id.orig_p":50010,"id.resp_h":"192.0.2.20","id.resp_p":80,"trans_depth":1,"method":"GET","host":"dl.example","uri":"/payload.bin"}`,
		`{"_path":"http","ts":1767225608.0,"uid":"H2","id.orig_h":"10.0.0.3","id.orig_p":50011,"id.resp_h":"192.0.2.20","id.resp_p":80,"trans_depth":1,"method":"GET","host":"a.example","uri":"/index.html"}`,
		`{"_path":"http","ts":1767225609.0,"uid":"H3","id.orig_h":"10.0.0.3","id.orig_p":50012,"id.resp_h":"192.0.2.20","id.resp_p":80,"trans_depth":1,"method":"GET","host":"dl.example","uri":"/other.bin"}`,
		`{"_path":"ssl","ts":1767225610.0,"uid":"S1","id.orig_h":"10.0.0.4","id.orig_p":50020,"id.resp_h":"192.0.2.30","id.resp_p":443,"version":"TLSv13","server_name":"evil.example"}`,
		`{"_path":"files","ts":1767225611.0,"fuid":"F1","tx_hosts":["192.0.2.20"],"rx_hosts":["10.0.0.3"],"source":"HTTP","mime_type":"application/octet-stream","total_bytes":10,"md5":"` + md5 + `","sha256":"` + sha256 + `"}`,
		`{"_path":"smtp","ts":1767225612.0,"uid":"M1","id.orig_h":"192.0.2.40","id.orig_p":50030,"id.resp_h":"10.0.0.25","id.resp_p":25,"trans_depth":1,"mailfrom":"phish@evil.example","rcptto":["user@agency.example"]}`,
		`{"_path":"conn","ts":1767225613.0,"uid":"C5","id.orig_h":"198.51.100.9","id.orig_p":50004,"id.resp_h":"10.0.0.1","id.resp_p":80,"proto":"tcp","conn_state":"SF"}`,
	}
	indFile := filepath.Join(dir, "indicators.jsonl")
	logFile := filepath.Join(dir, "zeek.log")
	os.WriteFile(indFile, objs.Bytes(), 0o600)
	os.WriteFile(logFile, []byte(strings.Join(logLines, "\n")+"\n"), 0o600)

	// entente match: hits per indicator.
	stdout, stderr, code := execEntente(t, "match", "--indicators", indFile, "--format", "zeek", "--output", "jsonl", logFile)
	if code != 0 {
		t.Fatalf("match: exit %d: %s", code, stderr)
	}
	byMatch := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var s struct {
			Type  string `json:"type"`
			Of    string `json:"sighting_of_ref"`
			Count int    `json:"count"`
		}
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.Type == "sighting" {
			byMatch[s.Of] += s.Count
		}
	}

	// The exported Zeek Intel file, matched as Zeek would: the records
	// each indicator is seen in.
	var intel bytes.Buffer
	x, err := export.NewWriter(&intel, export.Config{Format: export.ZeekIntel, Now: time.Now(), Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(objs.Bytes()) {
		if err := x.Add(bytes.TrimSpace(line)); err != nil {
			t.Fatal(err)
		}
	}
	report, err := x.Close()
	if err != nil {
		t.Fatal(err)
	}
	z := loadIntel(t, intel.Bytes())
	byIntel := map[string]int{}
	for _, l := range logLines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		hit := map[string]bool{}
		for _, s := range zeekSeen(rec) {
			for _, id := range z.seen(s[0], s[1]) {
				hit[id] = true
			}
		}
		for id := range hit {
			byIntel[id]++
		}
	}

	skipped := map[string]bool{}
	for _, s := range report.Skipped {
		skipped[s.ID] = true
	}
	if len(skipped) != 1 || !skipped["indicator--00000008-0000-4000-8000-0000000000ff"] {
		t.Errorf("skipped %v; want the AND pattern only", report.Skipped)
	}
	for id := range byMatch {
		if skipped[id] {
			delete(byMatch, id) // not in the intel file: the report says so
		}
	}
	if !maps.Equal(byMatch, byIntel) {
		t.Errorf("records per indicator:\nentente match %v\nZeek Intel    %v", byMatch, byIntel)
	}
	if len(byIntel) != 8 {
		t.Errorf("%d indicators seen, want all 8 exported ones: %v", len(byIntel), byIntel)
	}
}
