// Package matchgen generates reproducible indicator sets and Suricata EVE
// logs for testing and benchmarking the match package.
//
// Everything is derived from a seed: the same Config always yields the same
// indicators and the same lines, so benchmark figures from different runs
// and machines compare like with like. Indicator values are computed from
// their number rather than stored, so that log lines can quote them
// without keeping millions of strings around.
//
// The indicator mix follows the issue that introduced it: half domains and
// URLs, 30% file hashes, 15% addresses and networks, and 5% LIKE, MATCHES
// and compound patterns. EVE lines follow the layout of Suricata 7
// (https://docs.suricata.io/en/latest/output/eve/eve-json-format.html).
package matchgen

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/entente/entente/match"
)

// Config says what to generate.
type Config struct {
	Seed       uint64
	Indicators int
	Lines      int
	// HitRate is the fraction of lines that quote an indicator's value.
	HitRate float64
	// Start is the time of the first line; lines are 1 ms apart.
	Start time.Time
}

// Kinds of generated indicators, by share of the whole (in thousandths).
const (
	kindDomain = iota
	kindURL
	kindSHA256
	kindMD5
	kindSHA1
	kindIPv4
	kindIPv6
	kindCIDR
	kindLikeSuffix
	kindMatches
	kindCompound
	kindFollowedBy
	numKinds
)

var shares = [numKinds]int{
	kindDomain:     250,
	kindURL:        250,
	kindSHA256:     150,
	kindMD5:        80,
	kindSHA1:       70,
	kindIPv4:       110,
	kindIPv6:       20,
	kindCIDR:       20,
	kindLikeSuffix: 20,
	kindMatches:    10,
	kindCompound:   10,
	kindFollowedBy: 10,
}

// kindOf spreads the kinds evenly over indicator numbers.
func kindOf(i int) int {
	slot := int(mix(uint64(i), 0x5eed) % 1000)
	for k, s := range shares {
		if slot < s {
			return k
		}
		slot -= s
	}
	return kindDomain
}

// mix is SplitMix64: a cheap bijective scrambler.
func mix(x, seed uint64) uint64 {
	x += seed + 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// Gen derives values from a seed.
type Gen struct {
	cfg Config
}

// New returns a generator for cfg.
func New(cfg Config) *Gen {
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	return &Gen{cfg: cfg}
}

func (g *Gen) h(i int, salt uint64) uint64 { return mix(uint64(i)^salt<<40, g.cfg.Seed) }

func (g *Gen) domain(i int) string {
	return "h" + strconv.FormatUint(g.h(i, 1)%1e9, 36) + ".x" + strconv.Itoa(i) + ".example.net"
}

func (g *Gen) url(i int) string {
	return "http://" + g.domain(i) + "/p/" + strconv.FormatUint(g.h(i, 2), 36) + ".php"
}

func (g *Gen) digest(i, n int) string {
	b := make([]byte, 0, 64)
	for s := uint64(3); len(b) < n; s++ {
		b = binary.LittleEndian.AppendUint64(b, g.h(i, s))
	}
	return hex.EncodeToString(b[:n])
}

// ipv4 gives indicator addresses in 10.0.0.0/8, unique per number.
func (g *Gen) ipv4(i int) string {
	v := uint32(mix(uint64(i), 0xA11CE)) | 1
	return fmt.Sprintf("%d.%d.%d.%d", 10, byte(v>>16), byte(v>>8), byte(v))
}

func (g *Gen) ipv6(i int) string {
	return fmt.Sprintf("2001:db8:%x:%x::%x", uint16(i>>16), uint16(i), uint16(g.h(i, 4)))
}

// cidr gives indicator networks: distinct /24s outside 10.0.0.0/8, where
// the address indicators are.
func (g *Gen) cidr(i int) string {
	return fmt.Sprintf("%d.%d.%d.0/24", 11+(i>>16)%100, byte(i>>8), byte(i))
}

// Pattern returns indicator i's pattern.
func (g *Gen) Pattern(i int) string {
	switch kindOf(i) {
	case kindURL:
		return "[url:value = '" + g.url(i) + "']"
	case kindSHA256:
		return "[file:hashes.'SHA-256' = '" + g.digest(i, 32) + "']"
	case kindMD5:
		return "[file:hashes.MD5 = '" + g.digest(i, 16) + "']"
	case kindSHA1:
		return "[file:hashes.'SHA-1' = '" + g.digest(i, 20) + "']"
	case kindIPv4:
		return "[ipv4-addr:value = '" + g.ipv4(i) + "']"
	case kindIPv6:
		return "[ipv6-addr:value = '" + g.ipv6(i) + "']"
	case kindCIDR:
		return "[ipv4-addr:value ISSUBSET '" + g.cidr(i) + "']"
	case kindLikeSuffix:
		return "[domain-name:value LIKE '%.x" + strconv.Itoa(i) + ".example.org']"
	case kindMatches:
		return "[url:value MATCHES '/q" + strconv.Itoa(i) + "/[a-z]+\\\\.cgi$']"
	case kindCompound:
		return "[network-traffic:dst_ref.value = '" + g.ipv4(i) + "' AND network-traffic:dst_port = 443]"
	case kindFollowedBy:
		return "[domain-name:value = '" + g.domain(i) + "'] FOLLOWEDBY [url:value = '" + g.url(i) + "'] WITHIN 600 SECONDS"
	}
	return "[domain-name:value = '" + g.domain(i) + "']"
}

// Indicators returns the configured number of indicators.
func (g *Gen) Indicators() []match.Indicator {
	inds := make([]match.Indicator, g.cfg.Indicators)
	for i := range inds {
		inds[i] = match.Indicator{
			ID:        fmt.Sprintf("indicator--%08x-%04x-4%03x-8%03x-%012x", uint32(g.h(i, 9)), uint16(i>>16), uint16(i)&0xfff, i>>28&0xfff, g.h(i, 10)&0xffffffffffff),
			Pattern:   g.Pattern(i),
			ValidFrom: g.cfg.Start.Add(-24 * time.Hour),
		}
	}
	return inds
}

// Lines returns the configured number of EVE lines, newline-terminated, in
// one buffer.
func (g *Gen) Lines() []byte {
	r := rand.New(rand.NewPCG(g.cfg.Seed, 0xE7E))
	out := make([]byte, 0, g.cfg.Lines*420)
	for n := range g.cfg.Lines {
		out = g.line(out, r, n)
		out = append(out, '\n')
	}
	return out
}

// line appends one EVE event. A hit quotes an indicator's value in the
// field its kind is matched against.
func (g *Gen) line(b []byte, r *rand.Rand, n int) []byte {
	ts := g.cfg.Start.Add(time.Duration(n) * time.Millisecond).Format("2006-01-02T15:04:05.000000-0700")
	src := fmt.Sprintf("192.168.%d.%d", r.IntN(256), 1+r.IntN(254))
	dst := fmt.Sprintf("198.51.%d.%d", r.IntN(100), 1+r.IntN(254))
	domain := "www" + strconv.Itoa(r.IntN(50000)) + ".benign.example.com"
	path := "/static/" + strconv.Itoa(r.IntN(1e6)) + "/app.js"
	hash := ""
	hit := g.cfg.Indicators > 0 && r.Float64() < g.cfg.HitRate
	event := []string{"dns", "dns", "dns", "http", "http", "tls", "flow", "flow", "fileinfo", "alert"}[r.IntN(10)]
	if hit {
		i := r.IntN(g.cfg.Indicators)
		switch kindOf(i) {
		case kindDomain, kindFollowedBy:
			domain, event = g.domain(i), []string{"dns", "tls"}[r.IntN(2)]
		case kindURL:
			domain, path, event = g.domain(i), g.url(i)[len("http://")+len(g.domain(i)):], "http"
		case kindSHA256, kindMD5, kindSHA1:
			hash, event = g.digestFor(i), "fileinfo"
		case kindIPv4, kindCompound:
			dst = g.ipv4(i)
		case kindCIDR:
			dst = fmt.Sprintf("%d.%d.%d.%d", 11+(i>>16)%100, byte(i>>8), byte(i), 1+r.IntN(254))
		case kindIPv6:
			src, dst = "2001:db8:ffff::1", g.ipv6(i)
		case kindLikeSuffix:
			domain, event = "a.x"+strconv.Itoa(i)+".example.org", "dns"
		case kindMatches:
			domain, path, event = "cgi.example.com", "/q"+strconv.Itoa(i)+"/run.cgi", "http"
		}
	}
	sport, dport := 1024+r.IntN(60000), []int{53, 80, 443}[r.IntN(3)]
	proto := "TCP"
	if event == "dns" {
		proto, dport = "UDP", 53
	}
	b = fmt.Appendf(b, `{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"%s","src_ip":"%s","src_port":%d,"dest_ip":"%s","dest_port":%d,"proto":"%s"`,
		ts, r.Uint64()>>12, event, src, sport, dst, dport, proto)
	switch event {
	case "dns":
		b = fmt.Appendf(b, `,"dns":{"version":2,"type":"answer","id":%d,"flags":"8180","qr":true,"rd":true,"ra":true,"rrname":"%s","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"%s","rrtype":"A","ttl":300,"rdata":"%s"}]}`,
			r.IntN(65536), domain, domain, dst)
	case "http":
		b = fmt.Appendf(b, `,"tx_id":0,"http":{"hostname":"%s","url":"%s","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36","http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":%d}`,
			domain, path, r.IntN(100000))
	case "tls":
		b = fmt.Appendf(b, `,"tls":{"subject":"CN=%s","issuerdn":"C=US, O=Let's Encrypt, CN=R3","serial":"04:%02X:%02X","fingerprint":"%s","sni":"%s","version":"TLS 1.3","notbefore":"2026-10-01T00:00:00","notafter":"2026-12-30T00:00:00","ja3":{"hash":"%s"},"ja3s":{"hash":"%s"}}`,
			domain, r.IntN(256), r.IntN(256), colonHex(r), domain, hex.EncodeToString(rnd(r, 16)), hex.EncodeToString(rnd(r, 16)))
	case "fileinfo":
		if hash == "" {
			hash = `"sha256":"` + hex.EncodeToString(rnd(r, 32)) + `"`
		}
		b = fmt.Appendf(b, `,"http":{"hostname":"%s","url":"%s","http_method":"GET","status":200},"app_proto":"http","fileinfo":{"filename":"/download/setup%d.exe","gaps":false,"state":"CLOSED",%s,"stored":false,"size":%d,"tx_id":0}`,
			domain, path, r.IntN(1000), hash, r.IntN(1<<20))
	case "alert":
		b = fmt.Appendf(b, `,"alert":{"action":"allowed","gid":1,"signature_id":%d,"rev":1,"signature":"ET POLICY Example","category":"Potential Corporate Privacy Violation","severity":2},"app_proto":"http"`,
			2000000+r.IntN(100000))
	default:
		b = fmt.Appendf(b, `,"app_proto":"tls","flow":{"pkts_toserver":%d,"pkts_toclient":%d,"bytes_toserver":%d,"bytes_toclient":%d,"start":"%s","end":"%s","age":1,"state":"closed","reason":"timeout","alerted":false}`,
			r.IntN(100), r.IntN(100), r.IntN(100000), r.IntN(100000), ts, ts)
	}
	return append(b, '}')
}

// digestFor writes the EVE fileinfo hash member quoting indicator i.
func (g *Gen) digestFor(i int) string {
	switch kindOf(i) {
	case kindMD5:
		return `"md5":"` + g.digest(i, 16) + `"`
	case kindSHA1:
		return `"sha1":"` + g.digest(i, 20) + `"`
	}
	return `"sha256":"` + g.digest(i, 32) + `"`
}

func rnd(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func colonHex(r *rand.Rand) string {
	b := rnd(r, 20)
	out := make([]byte, 0, 59)
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = hex.AppendEncode(out, []byte{c})
	}
	return string(out)
}

// Substrings returns n LIKE indicators of the form '%literal%' on URLs,
// for measuring the substring prefilter.
func (g *Gen) Substrings(n int) []match.Indicator {
	inds := make([]match.Indicator, n)
	for i := range inds {
		inds[i] = match.Indicator{
			ID:      fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", i, g.h(i, 11)&0xffffffffffff),
			Pattern: "[url:value LIKE '%/" + strconv.FormatUint(g.h(i, 12), 36) + "/%']",
		}
	}
	return inds
}
