package match

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	for file, want := range map[string]string{
		"eve.jsonl":       "eve",
		"eve-dns.jsonl":   "eve",
		"zeek.jsonl":      "zeek",
		"zeek-logs.jsonl": "zeek",
		"dns.log":         "zeek",
		"generic.jsonl":   "",
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "readers", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := DetectFormat(data); got != want {
			t.Errorf("DetectFormat(%s) = %q, want %q", file, got, want)
		}
		// A sample cut in the middle of its first line still tells.
		if cut := data[:min(len(data), 120)]; DetectFormat(cut) != want {
			t.Errorf("DetectFormat(the first 120 bytes of %s) = %q, want %q", file, DetectFormat(cut), want)
		}
	}
	for sample, want := range map[string]string{
		"":                             "",
		"\n\n  \n":                     "",
		"timestamp,src_ip\n":           "",
		"[{\"event_type\":\"alert\"}]": "",
		"{\"event_type\":\"alert\"}":   "",
		"{\"alert\":{\"event_type\":1,\"timestamp\":2}}":             "",
		"\xef\xbb\xbf\n{\"timestamp\":\"x\",\"event_type\":\"dns\"}": "eve",
		"{\"ts\":1.5,\"uid\":\"C1\"}":                                "zeek",
		"#fields\tts\tuid\n":                                         "zeek",
	} {
		if got := DetectFormat([]byte(sample)); got != want {
			t.Errorf("DetectFormat(%q) = %q, want %q", sample, got, want)
		}
	}
}

func TestFormatNamed(t *testing.T) {
	for _, name := range []string{"eve", "zeek"} {
		if f, err := FormatNamed(name); err != nil || f == nil {
			t.Errorf("FormatNamed(%q) = %v, %v", name, f, err)
		}
	}
	if _, err := FormatNamed("jsonl"); err == nil {
		t.Error("FormatNamed(jsonl) needs a mapping and must fail")
	}
}

// FuzzDetectFormat checks that DetectFormat never panics and answers one
// of its three answers, and that what it calls EVE or Zeek JSON starts
// with a JSON object.
func FuzzDetectFormat(f *testing.F) {
	for _, file := range []string{"eve.jsonl", "zeek.jsonl", "dns.log", "generic.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", "readers", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), 300)])
	}
	f.Fuzz(func(t *testing.T, sample []byte) {
		switch DetectFormat(sample) {
		case "", "eve", "zeek":
		default:
			t.Fatalf("DetectFormat(%q) answered something else", sample)
		}
	})
}
