package web

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/examples"
	"github.com/entente/entente/node"
)

// text is a page's body without tags and with entities decoded, for
// assertions on what a reader sees.
func text(body string) string {
	tags := regexp.MustCompile(`<[^>]*>`)
	return strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(body, " "))), " ")
}

func TestAgreementPageShowsPartiesRulesSignatures(t *testing.T) {
	e := newEnv(t)
	c := e.login(t, "reader")
	status, body := c.get(t, "/ui/agreement")
	if status != http.StatusOK {
		t.Fatalf("GET /ui/agreement: %d\n%s", status, body)
	}
	page := text(body)
	a := e.agreement
	for _, p := range a.Parties {
		for _, want := range []string{p.Name + " (" + p.ID, p.Name + " (" + p.ID + ") verified"} {
			if !strings.Contains(page, want) {
				t.Errorf("the page does not show %q", want)
			}
		}
		for _, n := range p.Nodes {
			if !strings.Contains(page, n.URL) || !strings.Contains(page, keyFingerprint(n.Key)) {
				t.Errorf("the page does not show node %s's URL and key fingerprint", n.ID)
			}
		}
		for _, au := range p.Authorities {
			if !strings.Contains(page, au.Contact.Email) {
				t.Errorf("the page does not show the contact point %s", au.Contact.Email)
			}
		}
	}
	for _, want := range []string{
		"every party's signature verified",
		"in force",
		"From Republic of Arcadia (arcadia) to Federation of Borealis (borealis)",
		"Republic of Arcadia (arcadia) may send Federation of Borealis (borealis) these STIX types: indicator, malware",
		"Data marked up to TLP:AMBER may go",
		"TLP:AMBER and TLP:AMBER+STRICT go only to: borealis-cert.",
		"Objects labelled under-investigation stay home.",
		"Onward transfer: none; Federation of Borealis (borealis) may pass none of Republic of Arcadia (arcadia)'s data on",
		"Onward transfer: Republic of Arcadia (arcadia) may pass Federation of Borealis (borealis)'s TLP:CLEAR and TLP:GREEN data on",
		"kept at most 365 days",
		"No earlier version known to this node.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
}

// TestAgreementSignatureStatus: a party whose signature does not
// match is named, and the page does not claim every signature verifies.
func TestAgreementSignatureStatus(t *testing.T) {
	e := newEnv(t)
	broken := *e.agreement
	broken.Title += " (edited)"
	sv, all := signatures(&Session{p: e.console.printer()}, &broken)
	if all {
		t.Fatal("an edited agreement's signatures all verified")
	}
	for _, s := range sv {
		if s.OK || s.Status != "does not match the content" {
			t.Errorf("%s: %+v", s.Party, s)
		}
	}
	unsigned := *e.agreement
	unsigned.Signatures = unsigned.Signatures[1:]
	sv, all = signatures(&Session{p: e.console.printer()}, &unsigned)
	if all || sv[0].OK || !strings.HasPrefix(sv[0].Status, "missing") || !sv[1].OK {
		t.Fatalf("one signature removed: %+v", sv)
	}
}

// TestAgreementPageShowsAmendment: after the node moves to an amendment,
// the page shows what changed from the version before.
func TestAgreementPageShowsAmendment(t *testing.T) {
	e := newEnv(t)
	doc, err := examples.FS.ReadFile(examples.Trilateral)
	if err != nil {
		t.Fatal(err)
	}
	next, err := agreement.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	next.Version, next.Supersedes = e.agreement.Version+1, e.agreement.Version
	r, _ := next.Rule("arcadia", "borealis")
	r.Types = append(r.Types, "course-of-action")
	r.Conditions.RetentionDays = 730
	if err := e.n.Amend(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	_, body := e.login(t, "reader").get(t, "/ui/agreement")
	page := text(body)
	for _, want := range []string{
		"Changes from version 1 to version 2",
		"rules rules[arcadia-to-borealis].types added course-of-action",
		"rules rules[arcadia-to-borealis].conditions.retention_days changed 365 730",
		// The amendment is not signed: the page says so.
		"not every signature verifies",
		"does not match the content",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	if strings.Contains(page, "No earlier version known") {
		t.Error("the page says it knows no earlier version")
	}
	// The ledger page names the amendment the log recorded.
	_, body = e.login(t, "reader").get(t, "/ui/ledger")
	if want := "Agreement " + next.ID + " amended from version 1 to version 2"; !strings.Contains(text(body), want) {
		t.Errorf("the ledger page does not say %q", want)
	}
}

// TestAgreementPageValidity: outside its validity the page says the
// agreement is not in force, and why.
func TestAgreementPageValidity(t *testing.T) {
	e := newEnv(t)
	c := e.login(t, "reader")
	exp, err := e.agreement.Validity.Expires.Time()
	if err != nil {
		t.Fatal(err)
	}
	eff, err := e.agreement.Validity.Effective.Time()
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[time.Time]string{
		exp.Add(time.Hour):  "not in force Not in force: it expired on " + string(e.agreement.Validity.Expires),
		eff.Add(-time.Hour): "not in force Not in force: it takes effect on " + string(e.agreement.Validity.Effective),
		eff.Add(time.Hour):  "in force In force from " + string(e.agreement.Validity.Effective),
	} {
		e.console.now = func() time.Time { return at }
		_, body := c.get(t, "/ui/agreement")
		if !strings.Contains(text(body), want) {
			t.Errorf("at %s the page does not say %q", at, want)
		}
	}
}

// TestKeyFingerprint: a node key's fingerprint is the SHA-256 of its
// Ed25519 public key.
func TestKeyFingerprint(t *testing.T) {
	skey, err := examples.FS.ReadFile("keys/" + envNode + ".key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := node.ParseKey(string(skey))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(key.Private.Public().(ed25519.PublicKey))
	want := strings.ToUpper(hex.EncodeToString(sum[:]))
	got := keyFingerprint(key.VerifierKey)
	if strings.ReplaceAll(got, ":", "") != want || len(got) != 95 {
		t.Fatalf("keyFingerprint = %s, want the SHA-256 %s in colon-separated pairs", got, want)
	}
	for _, bad := range []string{"", "name+hash", "name+hash+!!!", "name+hash+AQ=="} {
		if got := keyFingerprint(bad); got != "" {
			t.Errorf("keyFingerprint(%q) = %q", bad, got)
		}
	}
}
