// Package entente_test checks invariants of the whole module: the import
// layering that doc/architecture.md describes, and that every package has a doc
// comment.
package entente_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/entente/entente"

// allowed lists, for each package of the module, the packages of the module
// it may import directly. Imports point down only. A new package must be
// added here, deliberately.
var allowed = map[string][]string{
	"stix/pattern":          {},
	"stix":                  {"stix/pattern"},
	"ledger":                {"stix"},
	"agreement":             {"stix", "ledger"},
	"policy":                {"stix", "agreement"},
	"provenance":            {"stix"},
	"match":                 {"stix", "stix/pattern"},
	"match/matchgen":        {"match", "stix"},
	"match/bench":           {"match", "match/matchgen", "stix/pattern"},
	"match/redis":           {},
	"casework":              {"stix", "agreement", "ledger"}, // ledger: transitions and the compliance record
	"misp":                  {"stix", "stix/pattern"},
	"misp/misphttp":         {"misp", "stix", "taxii"},
	"stix/stix20":           {"stix"},
	"signature":             {},
	"signature/sigtest":     {"signature"}, // tests only: the languages' own tools
	"export":                {"stix", "stix/pattern", "signature"},
	"taxii":                 {"stix"},
	"taxii/taxiitest":       {"taxii", "store", "stix"}, // store: the shared TAXII versioning rules
	"store":                 {"stix", "ledger"},
	"store/storetest":       {"store", "stix", "ledger"},
	"store/sqlite":          {"store", "stix", "ledger"},
	"store/postgres":        {"store", "stix", "ledger"},
	"store/postgres/pgtest": {},
	"federation":            {"taxii", "ledger", "agreement", "stix", "provenance"},
	"ledgerhttp":            {"ledger"},
	"node":                  {"stix", "stix/pattern", "signature", "ledger", "ledgerhttp", "agreement", "policy", "provenance", "match", "casework", "taxii", "store", "federation"},
	"notify":                {"agreement", "casework"},
	"notify/smtptest":       {},                                                                                                                                                                      // tests only: a real SMTP server
	"internal/browsertest":  {"internal/proctest"},                                                                                                                                                   // tests only: a real Chromium
	"internal/proctest":     {},                                                                                                                                                                      // tests only: CPU time, a buffer for a running command's output
	"web":                   {"node", "store", "stix", "stix/pattern", "agreement", "policy", "casework", "ledger", "taxii", "federation", "provenance", "match", "signature", "export", "examples"}, // node decides; the rest are its value types (never a concrete store)
	"examples":              {},                                                                                                                                                                      // embedded files only
	"cmd/entente":           {"*"},
}

// testOnly are the packages that exist for tests: only tests, and other
// packages of this list, import them, so that no command is built with
// test support in it.
var testOnly = []string{"internal/browsertest", "internal/proctest", "signature/sigtest", "notify/smtptest",
	"store/storetest", "store/postgres/pgtest", "taxii/taxiitest"}

// pure packages decide and compute; they never reach the network or a
// database, even indirectly.
var pure = []string{"stix/pattern", "stix", "ledger", "agreement", "policy", "provenance", "match", "match/matchgen", "match/bench", "casework", "misp", "stix/stix20", "signature", "export"}

var forbiddenInPure = []string{"net/http", "database/sql"}

// thirdParty lists the only non-standard modules a package may depend on,
// for packages whose dependencies are deliberately narrow.
var thirdParty = map[string][]string{
	"stix/pattern": {"golang.org/x/text", "github.com/dlclark/regexp2/v2"},
	// ledger: RFC 6962 trees and signed notes; the rest comes through stix,
	// whose RFC 8785 canonical form object digests are taken over.
	"ledger": {"golang.org/x/mod/sumdb/tlog", "golang.org/x/mod/sumdb/note",
		"github.com/go-json-experiment/json", "github.com/google/uuid", "golang.org/x/text",
		"github.com/dlclark/regexp2/v2"},
	// provenance: Ed25519 over RFC 8785 digests (through stix), RFC 6962
	// trees for batch signatures, and signed-note verifier keys, as the
	// agreement pins them.
	"provenance": {"golang.org/x/mod/sumdb/note", "golang.org/x/mod/sumdb/tlog", "github.com/go-json-experiment/json",
		"github.com/google/uuid", "golang.org/x/text", "github.com/dlclark/regexp2/v2"},
	// signature: the rule languages' parsers are written here; Sigma's
	// YAML is read with the YAML decoder the agreement uses.
	"signature": {"go.yaml.in/yaml/v3"},
	"export": {"go.yaml.in/yaml/v3", "github.com/go-json-experiment/json", "github.com/google/uuid",
		"golang.org/x/text", "github.com/dlclark/regexp2/v2"},
}

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Imports    []string
	Deps       []string
	Standard   bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Name,Doc,Imports,Deps,Standard", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

func TestImportLayering(t *testing.T) {
	for _, p := range listPackages(t) {
		name, _ := rel(p.ImportPath)
		if name == "" {
			continue // the root holds only this test
		}
		rules, ok := allowed[name]
		if !ok {
			t.Errorf("package %s is not in the layering table of deps_test.go: add it, with the packages it may import", name)
			continue
		}
		for _, imp := range p.Imports {
			r, internal := rel(imp)
			if !internal {
				continue
			}
			if !slices.Contains(rules, "*") && !slices.Contains(rules, r) {
				t.Errorf("%s imports %s, which the layering forbids (allowed: %v)", name, r, rules)
			}
		}
	}
}

func TestTestSupportOnlyInTests(t *testing.T) {
	for _, p := range listPackages(t) {
		name, _ := rel(p.ImportPath)
		if slices.Contains(testOnly, name) {
			continue
		}
		for _, dep := range p.Deps {
			if d, internal := rel(dep); internal && slices.Contains(testOnly, d) {
				t.Errorf("%s depends on %s, which is for tests only: import it from a _test.go file", p.ImportPath, d)
			}
		}
	}
}

func TestPurePackagesDoNoIO(t *testing.T) {
	for _, p := range listPackages(t) {
		name, _ := rel(p.ImportPath)
		if !slices.Contains(pure, name) {
			continue
		}
		for _, dep := range p.Deps {
			if slices.Contains(forbiddenInPure, dep) {
				t.Errorf("pure package %s depends on %s (directly or through a dependency)", name, dep)
			}
		}
		if mods, ok := thirdParty[name]; ok {
			for _, dep := range p.Deps {
				if isStandard(dep) {
					continue
				}
				if _, internal := rel(dep); internal {
					continue
				}
				if !slices.ContainsFunc(mods, func(m string) bool { return dep == m || strings.HasPrefix(dep, m+"/") }) {
					t.Errorf("%s depends on %s; it may use only the standard library and %v", name, dep, mods)
				}
			}
		}
	}
}

// isStandard reports whether an import path belongs to the standard library:
// its first element has no dot.
func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestEveryPackageHasDoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if name, _ := rel(p.ImportPath); name == "" {
			continue
		}
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no package doc comment", p.ImportPath)
		}
	}
}
