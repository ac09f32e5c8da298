package signature

import (
	"errors"
	"strings"
	"testing"
)

// comment is a comment line of each language.
var comment = map[string]string{"suricata": "# c\n", "snort": "# c\n", "sigma": "# c\n", "yara": "// c\n"}

// fuzz checks that a parser never panics, fails only with an *Error whose
// position is inside the input, and, on success, parses its own input again
// the same way. A comment line put before an invalid input moves the
// error one line down, same column (unless the error is about the whole
// text, at its start, or is the YAML decoder's): the positions follow the
// text.
func fuzz(f *testing.F, lang string) {
	for _, s := range valid[lang] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		err := Check(lang, src)
		if err == nil {
			if Check(lang, src) != nil {
				t.Fatal("a second parse of the same input failed")
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if e.Offset < 0 || e.Offset > len(src) || e.Line < 1 || e.Column < 1 || e.Lang != lang {
			t.Fatalf("position out of the input (%d bytes): %+v", len(src), e)
		}
		shifted := Check(lang, comment[lang]+src)
		var s *Error
		if !errors.As(shifted, &s) {
			t.Fatalf("after a comment line: %v; want the error %q", shifted, e.Msg)
		}
		if e.Offset == 0 && s.Offset == 0 {
			return // an error about the whole text, at its start
		}
		if strings.HasPrefix(e.Msg, "not valid YAML") {
			return // where the YAML decoder's message has no line, the error is put on the first
		}
		if s.Line != e.Line+1 || s.Column != e.Column {
			t.Fatalf("after a comment line: %v; want line %d, column %d", shifted, e.Line+1, e.Column)
		}
	})
}

func FuzzSuricata(f *testing.F) { fuzz(f, "suricata") }
func FuzzSnort(f *testing.F)    { fuzz(f, "snort") }
func FuzzSigma(f *testing.F)    { fuzz(f, "sigma") }
func FuzzYARA(f *testing.F)     { fuzz(f, "yara") }
