package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// Keys the console uses: in templates {{t "key" ...}}, in Go u.T("key"),
// s.printer().Sprintf("key") and p.Sprintf("key") where p is a printer.
var (
	templateKey = regexp.MustCompile(`\{\{-?\s*(?:[^{}]*\(\s*)?t\s+("(?:[^"\\]|\\.)*")`)
	goKey       = regexp.MustCompile(`(?:\.T|printer\(\)\.Sprintf|\bp\.Sprintf)\(\s*("(?:[^"\\]|\\.)*")`)
)

// TestCatalogComplete fails when a template or handler shows a string the
// English catalog does not hold, so that a translation can be complete.
func TestCatalogComplete(t *testing.T) {
	en := registered[language.English]
	used := map[string]string{} // key → where
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		if err != nil {
			return err
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			k, err := strconv.Unquote(m[1])
			if err != nil {
				t.Errorf("%s: %s: %v", path, m[1], err)
				continue
			}
			used[k] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gos, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range gos {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			k, err := strconv.Unquote(m[1])
			if err != nil {
				t.Errorf("%s: %s: %v", f, m[1], err)
				continue
			}
			used[k] = f
		}
	}
	for _, n := range nav {
		used[n.Label] = "the menu (render.go)"
	}
	if len(used) < 20 {
		t.Fatalf("found only %d keys in use; the patterns no longer match the code", len(used))
	}
	for k, where := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("%s uses %q, which no messages_*.go registers in English", where, k)
		}
	}
}

// TestCatalogTranslates checks that the catalog is what pages print
// through: a string registered for another language replaces the
// English one there, and falls back to English where it is missing.
func TestCatalogTranslates(t *testing.T) {
	fr := language.French
	registerLang(fr, map[string]string{"Log out": "Se déconnecter"})
	e := newEnv(t, withLanguage(fr))
	c := e.login(t, "reader")
	_, body := c.get(t, "/ui/")
	if !strings.Contains(body, "Se déconnecter") || !strings.Contains(body, "Skip to content") {
		t.Fatalf("the French page does not show the French string and the English fallback:\n%s", body)
	}
}
