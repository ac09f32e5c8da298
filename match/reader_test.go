package match

import (
	"bufio"
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
func describeLines(t *testing.T, f Format, name string, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	n := 0
	if in, ok := f.(InputFormat); ok {
		var err error
		if f, err = in.ForInput(name, bufio.NewReader(bytes.NewReader(data))); err != nil {
			t.Fatalf("ForInput(%s): %v", name, err)
		}
	}
	for line := range bytes.Lines(data) {
		n++
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec Record
		if err := f.Parse(line, &rec); err == errNotRecord {
			continue
		} else if err != nil {
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
		file   string
		format Format
	}{
		{"eve.jsonl", EVE{}},
		{"eve-dns.jsonl", EVE{}},
		{"zeek.jsonl", Zeek{}},
		{"zeek-logs.jsonl", Zeek{}},
		{"dns.log", Zeek{}},
		{"generic.jsonl", generic},
	} {
		name := strings.TrimSuffix(tc.file, filepath.Ext(tc.file))
		if filepath.Ext(tc.file) == ".log" {
			name += "-log"
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "readers", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, describeLines(t, tc.format, tc.file, data))
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

// TestZeekLogTypes checks that fields are read as their log type means
// them, and that a field of an unexpected JSON type is skipped rather than
// failing the line.
func TestZeekLogTypes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		format    Format
		line      string
		want, not []Property
	}{
		{"sip uri and method are not HTTP", Zeek{},
			`{"_path":"sip","id.orig_h":"10.0.0.1","uri":"sip:bob@evil.example","method":"INVITE","user_agent":"x","call_id":"1"}`,
			[]Property{SrcIP}, []Property{HTTPRequestValue, HTTPMethod, UserAgent, URL}},
		{"sip by file name", Zeek{Path: "sip"},
			`{"id.orig_h":"10.0.0.1","uri":"sip:bob@evil.example","method":"INVITE","host":"h"}`,
			[]Property{SrcIP}, []Property{HTTPRequestValue, HTTPMethod, HTTPHost}},
		{"kerberos service is not a protocol", Zeek{},
			`{"_path":"kerberos","id.orig_h":"10.0.0.1","request_type":"TGS","service":"krbtgt/EXAMPLE.ORG"}`,
			[]Property{SrcIP}, []Property{Protocol}},
		{"smtp subject is not a certificate's", Zeek{},
			`{"_path":"smtp","mailfrom":"a@evil.example","subject":"hello"}`,
			[]Property{EmailFrom, EmailSubject}, []Property{X509Subject}},
		{"known_services service array", Zeek{},
			`{"_path":"known_services","host":"198.51.100.1","port_num":443,"port_proto":"tcp","service":["SSL"]}`,
			[]Property{IPAddr, Protocol}, nil},
		{"odd types are skipped", Zeek{},
			`{"_path":"conn","id.orig_h":["10.0.0.1"],"id.orig_p":{"a":1},"id.resp_h":true,"proto":"tcp"}`,
			[]Property{SrcIP, Protocol}, []Property{SrcPort, DstIP}},
		{"http by its fields", Zeek{},
			`{"id.orig_h":"10.0.0.1","trans_depth":1,"method":"GET","host":"a.example","uri":"/x"}`,
			[]Property{HTTPMethod, HTTPHost, URL}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec Record
			if err := tc.format.Parse([]byte(tc.line), &rec); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			has := map[Property]bool{}
			for _, v := range rec.Values {
				has[v.Prop] = true
			}
			for _, p := range tc.want {
				if !has[p] {
					t.Errorf("no %s in %v", p, rec.Values)
				}
			}
			for _, p := range tc.not {
				if has[p] {
					t.Errorf("%s read from %s", p, tc.line)
				}
			}
		})
	}
}

// TestZeekTSV runs Zeek's default tab-separated format through a
// pipeline: the header is read, sets are split, and a second header with
// other columns is reported.
func TestZeekTSV(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "readers", "dns.log"))
	if err != nil {
		t.Fatal(err)
	}
	ix, errs := Compile([]Indicator{
		{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: "[domain-name:value = 'tsv.evil.example']"},
		{ID: "indicator--00000000-0000-4000-8000-000000000002", Pattern: "[domain-name:resolves_to_refs[*].value = '198.51.100.71']"},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var bad []string
	p := NewPipeline(PipelineConfig{Format: Zeek{}, Matcher: NewMatcher(ix), OnBadLine: func(b *BadLine) { bad = append(bad, b.Error()) }})
	st, err := p.Run(t.Context(), "dns.log", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if st.Hits != 2 || st.BadLines != 1 {
		t.Errorf("stats %+v, want 2 hits and 1 bad line; bad: %v", st, bad)
	}
	if len(bad) != 1 || !strings.Contains(bad[0], "dns.log:12: 4 fields") {
		t.Errorf("bad lines %q, want line 12 with 4 fields", bad)
	}

	second := strings.Replace(string(data), "#close", "#fields\tts\tquery\n#close", 1)
	bad = nil
	p = NewPipeline(PipelineConfig{Format: Zeek{}, Matcher: NewMatcher(ix), OnBadLine: func(b *BadLine) { bad = append(bad, b.Error()) }})
	if _, err := p.Run(t.Context(), "dns.log", strings.NewReader(second)); err != nil {
		t.Fatal(err)
	}
	if len(bad) != 2 || !strings.Contains(bad[1], "other #fields") {
		t.Errorf("bad lines %q, want the second header reported", bad)
	}

	for _, header := range []string{"#separator \\x09\n#path\tdns\n1\t2\n", "#separator \n#fields\tts\n"} {
		p := NewPipeline(PipelineConfig{Format: Zeek{}, Matcher: NewMatcher(ix)})
		if _, err := p.Run(t.Context(), "x.log", strings.NewReader(header)); !errors.Is(err, ErrZeekHeader) {
			t.Errorf("header %q: Run = %v, want ErrZeekHeader", header, err)
		}
	}
}

func TestZeekFieldNames(t *testing.T) {
	for f := zfNone + 1; f < numZeekFields; f++ {
		if got := zeekFieldOf([]byte(zeekFieldNames[f])); got != f {
			t.Errorf("zeekFieldOf(%q) = %d, want %d", zeekFieldNames[f], got, f)
		}
	}
}
