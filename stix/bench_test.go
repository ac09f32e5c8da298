package stix

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// typicalIndicator is an indicator as feeds send them: a hash pattern,
// markings, a creator, labels and an external reference.
var typicalIndicator = []byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
"created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",
"indicator_types":["malicious-activity"],"name":"Poison Ivy Malware","description":"This file is part of Poison Ivy",
"pattern":"[ file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877' ]",
"pattern_type":"stix","pattern_version":"2.1","valid_from":"2016-01-01T00:00:00Z","confidence":75,"labels":["poison-ivy"],
"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
"external_references":[{"source_name":"acme","url":"https://example.com/reports/1","external_id":"R-1"}],
"kill_chain_phases":[{"kill_chain_name":"lockheed-martin-cyber-kill-chain","phase_name":"delivery"}]}`)

// BenchmarkParseValidate measures the ingest path of one object, Parse
// then Validate, against decoding the same bytes into a map with
// encoding/json, the least any ingest does.
func BenchmarkParseValidate(b *testing.B) {
	benchAgainst(b, func() {
		dec := json.NewDecoder(bytes.NewReader(typicalIndicator))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			b.Fatal(err)
		}
	}, func() {
		o, err := Parse(typicalIndicator)
		if err != nil {
			b.Fatal(err)
		}
		if err := Validate(o); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkCanonical measures the RFC 8785 form of a typical indicator,
// which every stored version is hashed and signed over, against
// compacting the same bytes with jsontext (validation and re-encoding
// without sorting or number checks).
func BenchmarkCanonical(b *testing.B) {
	benchAgainst(b, func() {
		v := jsontext.Value(bytes.Clone(typicalIndicator))
		if err := v.Compact(); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := Canonical(typicalIndicator); err != nil {
			b.Fatal(err)
		}
	})
}

// benchAgainst times measured, reporting it as the benchmark, and baseline
// in the same run. They run in alternating blocks so that both see the same
// machine load; x-baseline is the ratio of their times.
func benchAgainst(b *testing.B, baseline, measured func()) {
	const block = 64
	var base, meas time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		b.StopTimer()
		start := time.Now()
		for range n {
			baseline()
		}
		base += time.Since(start)
		b.StartTimer()
		start = time.Now()
		for range n {
			measured()
		}
		meas += time.Since(start)
	}
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "baseline-ns/op")
	if base > 0 {
		b.ReportMetric(float64(meas)/float64(base), "x-baseline")
	}
}
