package match

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/stix"
)

func pipelineIndex(t *testing.T, patterns ...string) *Matcher {
	t.Helper()
	var inds []Indicator
	for i, p := range patterns {
		inds = append(inds, Indicator{ID: "indicator--00000000-0000-4000-8000-00000000000" + string(rune('1'+i)), Pattern: p})
	}
	ix, errs := Compile(inds)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return NewMatcher(ix)
}

func dnsLine(ts, name string) string {
	return `{"timestamp":"` + ts + `","event_type":"dns","dns":{"rrname":"` + name + `"}}` + "\n"
}

// TestPipeline runs two inputs, one of them gzip, and checks the totals
// and that every sighting reaches the sink once.
func TestPipeline(t *testing.T) {
	m := pipelineIndex(t, "[domain-name:value = 'a.example']")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(dnsLine("2026-01-01T00:00:02Z", "a.example") + "{bad\n"))
	zw.Close()
	var sightings int
	p := NewPipeline(PipelineConfig{
		Format:  EVE{},
		Matcher: m,
		Sink: func(_ context.Context, objs []*stix.Object) error {
			for _, o := range objs {
				if o.Type == "sighting" {
					sightings++
					if n := fmt.Sprint(o.Props["count"]); n != "2" {
						t.Errorf("count %v, want 2", n)
					}
				}
			}
			return nil
		},
	})
	if _, err := p.Run(t.Context(), "one", strings.NewReader(dnsLine("2026-01-01T00:00:01Z", "a.example")+dnsLine("2026-01-01T00:00:01Z", "b.example"))); err != nil {
		t.Fatal(err)
	}
	st, err := p.Run(t.Context(), "two.gz", &gz)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 2 || st.BadLines != 1 || st.Hits != 1 {
		t.Errorf("second input: %+v, want 2 lines, 1 bad, 1 hit", st)
	}
	if sightings != 0 {
		t.Errorf("%d sightings before Finish without a window", sightings)
	}
	total, err := p.Finish(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if total.Lines != 4 || total.Hits != 2 || total.BadLines != 1 {
		t.Errorf("totals %+v, want 4 lines, 2 hits, 1 bad", total)
	}
	if sightings != 1 {
		t.Errorf("%d sightings, want 1", sightings)
	}
}

// TestPipelineIncremental checks that with a window, sightings reach the
// sink as log time moves past their window, and that a sink error stops
// the pipeline.
func TestPipelineIncremental(t *testing.T) {
	m := pipelineIndex(t, "[domain-name:value = 'a.example']")
	var log strings.Builder
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2000 {
		log.WriteString(dnsLine(start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), "a.example"))
	}
	var calls int
	stop := errors.New("sink full")
	p := NewPipeline(PipelineConfig{
		Format: EVE{}, Matcher: m, Workers: 1, Incremental: true,
		Sightings: SightingConfig{Window: time.Hour},
		Sink: func(context.Context, []*stix.Object) error {
			calls++
			return stop
		},
	})
	_, err := p.Run(t.Context(), "log", strings.NewReader(log.String()))
	if !errors.Is(err, stop) {
		t.Fatalf("Run = %v, want the sink's error", err)
	}
	if calls != 1 {
		t.Errorf("sink called %d times, want once: the error stops the pipeline", calls)
	}
}

// TestPipelineUnreadable checks that an input of which no line parses is
// an error that says what the input looks like.
func TestPipelineUnreadable(t *testing.T) {
	for _, tc := range []struct{ name, input, looks string }{
		{"array", `[{"event_type":"dns"},{"event_type":"dns"}]` + "\n", "JSON array"},
		{"pretty array", "[\n  {\n    \"event_type\": \"dns\"\n  }\n]\n", "JSON array"},
		{"pretty", "{\n  \"event_type\": \"dns\"\n}\n", "several lines"},
		{"csv", "ts,host\n1,a.example\n", "comma-separated"},
		{"binary", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\n", "binary"},
	} {
		p := NewPipeline(PipelineConfig{Format: EVE{}, Matcher: pipelineIndex(t, "[domain-name:value = 'a.example']")})
		_, err := p.Run(t.Context(), tc.name, strings.NewReader(tc.input))
		var ue *UnreadableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.looks) {
			t.Errorf("%s: Run = %v, want an UnreadableError saying %q", tc.name, err, tc.looks)
		}
	}
	// One good line makes the input readable.
	p := NewPipeline(PipelineConfig{Format: EVE{}, Matcher: pipelineIndex(t, "[domain-name:value = 'a.example']")})
	if _, err := p.Run(t.Context(), "mixed", strings.NewReader("{bad\n"+dnsLine("2026-01-01T00:00:00Z", "b.example"))); err != nil {
		t.Errorf("Run with one good line: %v", err)
	}
}

// TestPipelineLive checks that the first records of a live stream are
// matched as they arrive, before the stream has sent a sample's worth or
// ended, in JSON and in Zeek's tab-separated format alike.
func TestPipelineLive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format Format
		input  string
	}{
		{"eve", EVE{}, dnsLine("2026-01-01T00:00:00Z", "a.example")},
		{"zeek tsv", Zeek{}, "#separator \\x09\n#fields\tts\tquery\n#types\ttime\tstring\n#path\tdns\n1767225600.0\ta.example\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			hit := make(chan struct{}, 1)
			p := NewPipeline(PipelineConfig{Format: tc.format, Matcher: pipelineIndex(t, "[domain-name:value = 'a.example']"), Workers: 1,
				OnProgress: func(st Stats) {
					if st.Hits > 0 {
						select {
						case hit <- struct{}{}:
						default:
						}
					}
				}})
			done := make(chan error, 1)
			go func() { _, err := p.Run(t.Context(), "live", pr); done <- err }()
			if _, err := io.WriteString(pw, tc.input); err != nil {
				t.Fatal(err)
			}
			select {
			case <-hit:
			case <-time.After(10 * time.Second):
				t.Fatal("no hit within 10s of the line's arrival; the pipeline waits for more input")
			}
			pw.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
