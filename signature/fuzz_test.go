package signature

import (
	"errors"
	"testing"
)

// fuzz checks that a parser never panics, fails only with an *Error whose
// position is inside the input, and, on success, parses its own input again
// the same way.
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
	})
}

func FuzzSuricata(f *testing.F) { fuzz(f, "suricata") }
func FuzzSnort(f *testing.F)    { fuzz(f, "snort") }
func FuzzSigma(f *testing.F)    { fuzz(f, "sigma") }
func FuzzYARA(f *testing.F)     { fuzz(f, "yara") }
