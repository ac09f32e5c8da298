package match

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/stix"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// describeLines parses every line of a log with f and describes the
// records and their STIX objects, or the error.
func describeLines(t *testing.T, f Format, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	n := 0
	for line := range bytes.Lines(data) {
		n++
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec Record
		if err := f.Parse(line, &rec); err != nil {
			fmt.Fprintf(&out, "line %d: error: %v\n", n, err)
			continue
		}
		fmt.Fprintf(&out, "line %d: time %s\n", n, rec.Time.Format(time.RFC3339Nano))
		for _, v := range rec.Values {
			fmt.Fprintf(&out, "  %s = %q\n", v.Prop, v.Data)
		}
		objs, err := rec.Objects()
		if err != nil {
			t.Fatalf("line %d: Objects: %v", n, err)
		}
		for _, o := range objs {
			if _, err := stix.SCOID(o); err != nil {
				t.Errorf("line %d: object %v: %v", n, o, err)
			}
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "  %s\n", b)
		}
	}
	return out.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "readers", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s; run go test -update and review the diff.\ngot:\n%s", name, path, got)
	}
}

func TestReadersGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "readers", "generic.mapping.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMapping(data)
	if err != nil {
		t.Fatal(err)
	}
	generic, err := NewJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		format Format
	}{
		{"eve", EVE{}},
		{"eve-dns", EVE{}},
		{"zeek", Zeek{}},
		{"generic", generic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "readers", tc.name+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, describeLines(t, tc.format, data))
		})
	}
}

func TestParseMappingErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`{}`, "no fields"},
		{`{"fields": {"a": "domain-name:nope"}}`, `fields.a: unknown property "domain-name:nope"`},
		{`{"fields": {"": "url:value"}}`, "empty field name"},
		{`{"fields": {"a": "url:value"}, "extra": 1}`, `unknown field "extra"`},
		{`not json`, "mapping:"},
	} {
		_, err := ParseMapping([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseMapping(%s) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in       string
		want     time.Time
		zoneless bool
	}{
		{"2026-11-26T08:30:00.123456+0000", time.Date(2026, 11, 26, 8, 30, 0, 123456000, time.UTC), false},
		{"2026-11-26T08:30:00Z", time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC), false},
		{"2026-11-26T09:30:00.5+01:00", time.Date(2026, 11, 26, 8, 30, 0, 500000000, time.UTC), false},
		{"2026-11-26T08:30:00-0130", time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), false},
		{"2026-02-31T08:30:00Z", time.Time{}, false},
		{"2026-11-26T08:30:00", time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC), true},
		{"2025-11-28T21:49:11.017869", time.Date(2025, 11, 28, 21, 49, 11, 17869000, time.UTC), true},
		{"2025-11-28 21:49:11", time.Date(2025, 11, 28, 21, 49, 11, 0, time.UTC), true},
		{"2026-11-26T08:30:00+01", time.Time{}, false},
		{"2026-11-26T08:30:00.Z", time.Time{}, false},
		{"2026-11-26T25:30:00Z", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	} {
		if got, zoneless := parseTimestamp([]byte(tc.in)); !got.Equal(tc.want) || zoneless != tc.zoneless {
			t.Errorf("parseTimestamp(%q) = %v, %v, want %v, %v", tc.in, got, zoneless, tc.want, tc.zoneless)
		}
	}
	if got, want := parseEpoch([]byte("1764145800.25")), time.Date(2025, 11, 26, 8, 30, 0, 250000000, time.UTC); !got.Equal(want) {
		t.Errorf("parseEpoch = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "-1", "1e9", "12.5.6", "99999999999999999999"} {
		if got := parseEpoch([]byte(bad)); !got.IsZero() {
			t.Errorf("parseEpoch(%q) = %v, want zero", bad, got)
		}
	}
}

// TestStreamBadLines checks that malformed and over-long lines are counted
// and reported with their numbers, and never stop the stream.
func TestStreamBadLines(t *testing.T) {
	long := `{"event_type":"dns","dns":{"rrname":"` + strings.Repeat("a", 300) + `"}}`
	input := strings.Join([]string{
		`{"event_type":"dns","dns":{"rrname":"one.example"}}`,
		`{broken`,
		long,
		``,
		`{"event_type":"dns","dns":{"rrname":"two.example"}}`,
		long,
		`{"event_type":"dns","dns":{"rrname":"three.example"}}`,
	}, "\n") // no final newline: the last line still counts
	ix, errs := Compile([]Indicator{
		{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: "[domain-name:value = 'three.example']"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, workers := range []int{1, 3} {
		var bad []string
		var hits []int64
		s := &Stream{
			Format:    EVE{},
			Matcher:   NewMatcher(ix),
			Workers:   workers,
			MaxLine:   200,
			OnBadLine: func(b *BadLine) { bad = append(bad, fmt.Sprintf("%d %v", b.Line, errors.Is(b, ErrLineTooLong))) },
			OnHit:     func(h Hit) { hits = append(hits, h.Records[0].Line) },
		}
		st, err := s.Run(context.Background(), "test", strings.NewReader(input))
		if err != nil {
			t.Fatal(err)
		}
		if st.Lines != 6 || st.BadLines != 3 || st.Hits != 1 {
			t.Errorf("workers %d: stats %+v, want 6 lines, 3 bad, 1 hit", workers, st)
		}
		if want := []string{"3 true", "6 true", "2 false"}; fmt.Sprint(sortedStrings(bad)) != fmt.Sprint(sortedStrings(want)) {
			t.Errorf("workers %d: bad lines %v, want %v", workers, bad, want)
		}
		if len(hits) != 1 || hits[0] != 7 {
			t.Errorf("workers %d: hits on lines %v, want [7]", workers, hits)
		}
	}
}

func sortedStrings(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

// TestMatcherReload swaps the index while a stream runs: lines read after
// the swap see the new indicators, and the stream does not stop.
func TestMatcherReload(t *testing.T) {
	compile := func(domain string) *Index {
		ix, errs := Compile([]Indicator{{ID: "indicator--00000000-0000-4000-8000-00000000000" + domain[:1], Pattern: "[domain-name:value = '" + domain + "']"}})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return ix
	}
	line := func(domain string) string {
		return `{"timestamp":"2026-11-26T08:30:00Z","dns":{"rrname":"` + domain + `"}}` + "\n"
	}
	m := NewMatcher(compile("1.example"))
	pr, pw := io.Pipe()
	progress := make(chan int64, 16)
	var hits []string
	s := &Stream{
		Format:     EVE{},
		Matcher:    m,
		Workers:    2,
		OnHit:      func(h Hit) { hits = append(hits, h.Indicator) },
		OnProgress: func(st Stats) { progress <- st.Lines },
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(t.Context(), "pipe", pr)
		done <- err
	}()
	write := func(s string) {
		if _, err := io.WriteString(pw, s); err != nil {
			t.Fatal(err)
		}
	}
	write(line("1.example") + line("2.example"))
	if n := <-progress; n != 2 {
		t.Fatalf("first batch: %d lines", n)
	}
	m.Reload(compile("2.example"))
	write(line("1.example") + line("2.example"))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{"indicator--00000000-0000-4000-8000-000000000001", "indicator--00000000-0000-4000-8000-000000000002"}
	if fmt.Sprint(hits) != fmt.Sprint(want) {
		t.Errorf("hits %v, want %v", hits, want)
	}
}

// scanLine parses one line with f and returns the ids of the indicators
// (of patterns, numbered from 1) that match it.
func scanLine(t *testing.T, f Format, line string, patterns ...string) []string {
	t.Helper()
	var inds []Indicator
	for i, p := range patterns {
		inds = append(inds, Indicator{ID: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i+1), Pattern: p})
	}
	ix, errs := Compile(inds)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	var rec Record
	if err := f.Parse([]byte(line), &rec); err != nil {
		t.Fatalf("Parse(%s): %v", line, err)
	}
	var ids []string
	NewScanner(ix).Scan(&rec, time.Now(), func(h Hit) { ids = append(ids, h.Indicator) })
	return ids
}

// TestEVEAlertDNS checks that alerts carrying their DNS transaction, as
// Suricata 6 and 7 log it (dns.query[], dns.answer{}) and as Suricata 8
// does (queries[]), match the names they hold.
func TestEVEAlertDNS(t *testing.T) {
	for _, tc := range []struct{ line, pattern string }{
		{`{"timestamp":"2023-11-01T00:46:34.435874+0100","event_type":"alert","src_ip":"10.10.31.101","dest_ip":"10.10.31.1","dns":{"query":[{"type":"query","rrname":"grafielucho.com","rrtype":"A"}]}}`,
			"[domain-name:value = 'grafielucho.com']"},
		{`{"event_type":"alert","dns":{"answer":{"version":2,"type":"answer","rrname":"a.example","rrtype":"A","answers":[{"rrname":"a.example","rrtype":"A","rdata":"198.51.100.7"}]}}}`,
			"[domain-name:resolves_to_refs[*].value = '198.51.100.7']"},
		{`{"event_type":"alert","dns":{"version":3,"type":"request","queries":[{"rrname":"b.example","rrtype":"A"}]}}`,
			"[domain-name:value = 'b.example']"},
		{`{"event_type":"dns","dns":{"type":"answer","rrname":"c.example","rrtype":"CNAME","rdata":"d.example"}}`,
			"[domain-name:value = 'd.example']"},
	} {
		if got := scanLine(t, EVE{}, tc.line, tc.pattern); len(got) != 1 {
			t.Errorf("%s on %s: %d hits, want 1", tc.pattern, tc.line, len(got))
		}
	}
}

// TestStreamZonelessTime checks that a timestamp without an offset dates
// the hit as UTC, or in the Stream's Location, rather than as "now".
func TestStreamZonelessTime(t *testing.T) {
	ix, errs := Compile([]Indicator{{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: "[domain-name:value = 'a.example']"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	line := `{"timestamp":"2025-11-28T21:49:11.017869","event_type":"dns","dns":{"rrname":"a.example"}}` + "\n"
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		loc  *time.Location
		want time.Time
	}{
		{nil, time.Date(2025, 11, 28, 21, 49, 11, 17869000, time.UTC)},
		{paris, time.Date(2025, 11, 28, 20, 49, 11, 17869000, time.UTC)},
	} {
		var got []time.Time
		s := &Stream{Format: EVE{}, Matcher: NewMatcher(ix), Location: tc.loc,
			Now:   func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) },
			OnHit: func(h Hit) { got = append(got, h.Time) }}
		if _, err := s.Run(t.Context(), "test", strings.NewReader(line)); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !got[0].Equal(tc.want) {
			t.Errorf("Location %v: hit times %v, want [%v]", tc.loc, got, tc.want)
		}
	}
}
