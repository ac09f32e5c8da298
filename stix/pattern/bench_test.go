package pattern

import (
	"testing"
)

// Run with: go test -run '^$' -bench . -benchmem -cpu 1 ./stix/pattern

var simplePatterns = []string{
	"[ipv4-addr:value = '198.51.100.7']",
	"[domain-name:value = 'www.5z8.info']",
	"[url:value = 'http://example.com/foo']",
	"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
}

var compoundPatterns = []string{
	"([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
	"[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 180 SECONDS",
	"([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']",
	"[ipv4-addr:value ISSUBSET '198.51.100.0/24' OR ipv4-addr:value IN ('203.0.113.1', '203.0.113.2', '203.0.113.3')]",
}

func benchmarkParse(b *testing.B, patterns []string) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Parse(patterns[i%len(patterns)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkParseSimple(b *testing.B)   { benchmarkParse(b, simplePatterns) }
func BenchmarkParseCompound(b *testing.B) { benchmarkParse(b, compoundPatterns) }

// benchObservation is one observed-data with two SCOs, as decoded from JSON.
func benchObservation() *Observation {
	objs := map[string]map[string]any{
		"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd": {
			"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.7",
		},
		"network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734": {
			"type": "network-traffic", "id": "network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734",
			"dst_ref": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "dst_port": 443,
		},
	}
	return &Observation{
		ID:      "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
		Count:   1,
		Objects: objs,
		Roots:   []string{"network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734", "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"},
	}
}

func benchmarkMatchOne(b *testing.B, pattern string, want bool) {
	p, err := Parse(pattern)
	if err != nil {
		b.Fatal(err)
	}
	o := benchObservation()
	b.ReportAllocs()
	for b.Loop() {
		if p.MatchOne(o) != want {
			b.Fatal("wrong result")
		}
	}
}

func BenchmarkMatchOneHit(b *testing.B) {
	benchmarkMatchOne(b, "[ipv4-addr:value = '198.51.100.7']", true)
}

func BenchmarkMatchOneMiss(b *testing.B) {
	benchmarkMatchOne(b, "[ipv4-addr:value = '198.51.100.8']", false)
}

// BenchmarkBaselineMiss does the least any evaluator must: find the
// ipv4-addr among the observation's roots and compare its value as a
// string. MatchOne's overhead is its ratio to this.
func BenchmarkBaselineMiss(b *testing.B) {
	o := benchObservation()
	want := "198.51.100.8"
	b.ReportAllocs()
	for b.Loop() {
		hit := false
		for _, id := range o.Roots {
			obj := o.Objects[id]
			if obj["type"] == "ipv4-addr" && obj["value"] == want {
				hit = true
			}
		}
		if hit {
			b.Fatal("wrong result")
		}
	}
}

// BenchmarkMatchMulti evaluates a FOLLOWEDBY pattern across observations
// through the general search.
func BenchmarkMatchMulti(b *testing.B) {
	p, err := Parse("[network-traffic:dst_port = 443] FOLLOWEDBY [ipv4-addr:value = '198.51.100.7'] WITHIN 60 SECONDS")
	if err != nil {
		b.Fatal(err)
	}
	obs := []Observation{*benchObservation(), *benchObservation()}
	obs[0].Count, obs[1].Count = 1, 1
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Match(obs); !ok {
			b.Fatal("no match")
		}
	}
}
