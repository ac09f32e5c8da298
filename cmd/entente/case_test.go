package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/notify/smtptest"
)

// TestCaseCommandsBetweenTwoNodes runs the case and compliance commands
// against two serving nodes under one agreement: a reachability test
// opened and sent on Arcadia's node reaches Borealis's (by its pull, since
// the command line pushes nothing), is acknowledged there, and both nodes
// print the same compliance record, from their own ledger and the
// partner's openings, and sign its digest.
func TestCaseCommandsBetweenTwoNodes(t *testing.T) {
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "")
	file := witnessAgreement(t, a, b)
	mail := smtptest.Start(t)
	for _, p := range []*partnerNode{a, b} {
		args := []string{"--addr", p.addr, "--agreement", file, "--node", p.id, "--checkpoint-interval", "50ms", "--sync-interval", "100ms"}
		if p == b {
			args = append(args, "--smtp-addr", mail.Addr, "--smtp-from", "entente@taxii.cyber.borealis.example", "--alarm-interval", "100ms")
		}
		p.run = startServe(t, p.dir, args...)
	}
	for _, sh := range []struct {
		p     *partnerNode
		other string
	}{{a, "borealis"}, {b, "arcadia"}} {
		for _, r := range []string{"read", "write"} {
			if code, _, stderr := runCmd(t, "partner", "share", "--data", sh.p.dir, "--agreement", file, sh.other, "cases", "--right", r); code != 0 {
				t.Fatalf("partner share: %s", stderr)
			}
		}
	}
	fields := filepath.Join(t.TempDir(), "ping.json")
	if err := os.WriteFile(fields, []byte(`{"authority":"borealis-cert","channel":"node"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Errors name what is wrong.
	if code, _, stderr := runCmd(t, "case", "new", "--data", a.dir, "--agreement", file, "--type", "content-blocking-request", "--to", "borealis", fields); code != 2 || !strings.Contains(stderr, "content-blocking-request") {
		t.Errorf("an unknown type: exit %d, %s", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"channel":"node"}`), 0o600)
	if code, _, stderr := runCmd(t, "case", "new", "--data", a.dir, "--agreement", file, "--type", "reachability-test", "--to", "borealis", bad); code != 2 || !strings.Contains(stderr, "authority") {
		t.Errorf("a missing field: exit %d, %s", code, stderr)
	}

	code, stdout, stderr := runCmd(t, "case", "new", "--data", a.dir, "--agreement", file, "--type", "reachability-test", "--to", "borealis", fields)
	if code != 0 {
		t.Fatalf("case new: %s", stderr)
	}
	id := lastLine(stdout)
	if !strings.HasPrefix(id, "entente-reachability-test--") {
		t.Fatalf("case new printed %q", stdout)
	}
	if code, _, stderr := runCmd(t, "case", "step", "--data", a.dir, "--agreement", file, id, "approve"); code != 0 {
		t.Fatalf("case step approve: %s", stderr)
	}
	waitShow := func(p *partnerNode, want string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, stdout, _ := runCmd(t, "case", "show", "--data", p.dir, "--agreement", file, id)
			if code == 0 && strings.Contains(stdout, want) {
				return stdout
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: case show never showed %q: %s", p.id, want, stdout)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitShow(b, "send")
	// Borealis's node tells its CERT's contact point.
	if _, ok := mail.Wait(20*time.Second, func(m smtptest.Message) bool {
		return slices.Contains(m.To, "soc@cyber.borealis.example") && strings.Contains(string(m.Data), id)
	}); !ok {
		t.Errorf("no mail to borealis's contact point: %+v", mail.Messages())
	}
	if code, _, stderr := runCmd(t, "case", "step", "--data", b.dir, "--agreement", file, id, "acknowledge", "--note", "duty officer answered"); code != 0 {
		t.Fatalf("case step acknowledge: %s", stderr)
	}
	show := waitShow(a, "duty officer answered")
	for _, want := range []string{"TIMELINE", "open", "send", "acknowledge", "duty officer answered", "acknowledged"} {
		if !strings.Contains(show, want) {
			t.Errorf("case show lacks %q:\n%s", want, show)
		}
	}
	if code, stdout, _ := runCmd(t, "case", "list", "--data", a.dir, "--agreement", file); code != 0 || !strings.Contains(stdout, id) || !strings.Contains(stdout, "STATE") {
		t.Errorf("case list: %s", stdout)
	}
	// A step the agreement forbids says which rule.
	if code, _, stderr := runCmd(t, "case", "step", "--data", a.dir, "--agreement", file, id, "acknowledge"); code != 1 || !strings.Contains(stderr, "refused") {
		t.Errorf("arcadia acknowledging its own ping: exit %d, %s", code, stderr)
	}

	period := time.Now().UTC().Format("2006-01")
	report := func(p, q *partnerNode, extra ...string) string {
		t.Helper()
		args := append([]string{"compliance", "report", "--data", p.dir, "--agreement", file, "--period", period, "--partner", q.id + "=" + q.run.base}, extra...)
		code, stdout, stderr := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("compliance report on %s: %s", p.id, stderr)
		}
		return stdout
	}
	// Borealis's checkpoint must cover the acknowledgement before
	// Arcadia reads it; the records agree once both logs are caught up.
	deadline := time.Now().Add(20 * time.Second)
	var ja, jb string
	for {
		ja, jb = report(a, b, "--json"), report(b, a, "--json")
		if ja == jb && strings.Contains(ja, `"reachability-test"`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ja != jb {
		t.Fatalf("the two nodes' records differ:\n%s\n%s", ja, jb)
	}
	if !strings.Contains(ja, `"conflicts":0`) {
		t.Errorf("record: %s", ja)
	}
	sa, sb := report(a, b, "--sign"), report(b, a, "--sign")
	if !strings.Contains(sa, "entente compliance report v1") || !strings.Contains(sa, "— arcadia-node-1") {
		t.Errorf("signed note: %s", sa)
	}
	// Each party signs the same text: together, the two signature lines
	// are the record countersigned.
	ta, _, _ := strings.Cut(sa, "\n\n")
	tb, sigb, _ := strings.Cut(sb, "\n\n")
	if ta != tb || !strings.Contains(sigb, "— borealis-node-1") {
		t.Errorf("the parties signed different records:\n%s\n%s", sa, sb)
	}
	n, err := note.Open([]byte(sa+sigb), note.VerifierList(mustNoteVerifier(t, a.key.VerifierKey), mustNoteVerifier(t, b.key.VerifierKey)))
	if err != nil || len(n.Sigs) != 2 {
		t.Errorf("the record countersigned by both nodes: %v, %+v", err, n)
	}
	if s := report(a, b); !strings.Contains(s, "reachability-test") {
		t.Errorf("text record: %s", s)
	}
}

// TestMatchDraftsCasesFromProtectedHits: entente match --data drafts an
// incident notification, an assistance request and a consultation when
// the logs show Borealis's address space reaching infrastructure Arcadia
// declared protected; none is sent until approved.
func TestMatchDraftsCasesFromProtectedHits(t *testing.T) {
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "")
	file := witnessAgreement(t, a, b)
	a.start(t, file)
	dir := t.TempDir()
	inds := filepath.Join(dir, "indicators.json")
	os.WriteFile(inds, []byte(`{"type":"bundle","id":"bundle--0e1d7c8e-0000-4000-8000-000000000001","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--6b1c3f4e-2a8d-4f5e-9c3b-0d1e2f3a4b5c","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}`), 0o600)
	logs := filepath.Join(dir, "eve.json")
	os.WriteFile(logs, []byte(`{"timestamp":"2027-01-04T02:14:00.000000+0000","event_type":"flow","src_ip":"203.0.113.7","src_port":40000,"dest_ip":"198.51.100.10","dest_port":502,"proto":"TCP"}
{"timestamp":"2027-01-04T02:15:00.000000+0000","event_type":"flow","src_ip":"198.51.100.20","src_port":40001,"dest_ip":"203.0.113.7","dest_port":443,"proto":"TCP"}
`), 0o600)
	code, _, stderr := runCmd(t, "match", "--indicators", inds, "--format", "eve", "--out", filepath.Join(dir, "sightings.json"), "--data", a.dir, "--agreement", file, logs)
	if code != 0 || !strings.Contains(stderr, "drafted, not sent") || strings.Count(stderr, "approve: entente case step") != 3 {
		t.Fatalf("match: exit %d\n%s", code, stderr)
	}
	_, list, _ := runCmd(t, "case", "list", "--data", a.dir, "--agreement", file)
	if strings.Count(list, " draft ") != 3 || !strings.Contains(list, "incident-notification") || !strings.Contains(list, "borealis") {
		t.Errorf("case list:\n%s", list)
	}
	if code, _, stderr := runCmd(t, "match", "--indicators", inds, "--format", "eve", "--data", a.dir, logs); code != 2 || !strings.Contains(stderr, "go together") {
		t.Errorf("--data without --agreement: exit %d, %s", code, stderr)
	}
}

// TestEveryCaseTypeThroughServe runs every case type end to end between
// two serving nodes with the case commands alone: each step taken on one
// node's data directory reaches the other node, which verifies it.
func TestEveryCaseTypeThroughServe(t *testing.T) {
	if testing.Short() {
		t.Skip("six cases between two serving nodes")
	}
	a := newPartnerNode(t, "arcadia-node-1", "arcadia", "")
	b := newPartnerNode(t, "borealis-node-1", "borealis", "")
	file := witnessAgreement(t, a, b)
	for _, p := range []*partnerNode{a, b} {
		p.run = startServe(t, p.dir, "--addr", p.addr, "--agreement", file, "--node", p.id, "--checkpoint-interval", "50ms", "--sync-interval", "50ms")
	}
	for _, sh := range []struct {
		p     *partnerNode
		other string
	}{{a, "borealis"}, {b, "arcadia"}} {
		if code, _, stderr := runCmd(t, "partner", "share", "--data", sh.p.dir, "--agreement", file, sh.other, "cases", "--right", "read"); code != 0 {
			t.Fatalf("partner share: %s", stderr)
		}
	}
	now := time.Now().UTC()
	later := now.Add(20 * 24 * time.Hour).Format(time.RFC3339)
	type move struct {
		by   *partnerNode
		args []string
	}
	for _, tc := range []struct {
		typ    string
		fields any
		moves  []move
	}{
		{"incident-notification", casework.Incident{Stage: "early-warning", Category: "intrusions", Severity: "high", Sectors: []string{"energy"},
			Detected: now.Add(-time.Hour), AffectsDeclaredCI: true, Summary: "Intrusion into a grid operator's network.", RequestedActions: []string{"investigate-source"}},
			[]move{{a, []string{"send"}}, {b, []string{"acknowledge"}}, {b, []string{"reply"}}, {a, []string{"finalize"}}, {b, []string{"close"}}}},
		{"assistance-request", casework.Assistance{Kind: "mitigate-activity", Purpose: "incident-response", Description: "Please help stop the scanning."},
			[]move{{a, []string{"send"}}, {b, []string{"acknowledge"}}, {b, []string{"decline", "--ground", "essential-interests"}}}},
		{"preservation-request", casework.Preservation{RequestingAuthority: "arcadia-police-cyber", Offence: "illegal access (art. 2)",
			Facts: "A gateway was accessed.", Data: "subscriber data", Identifiers: []string{"203.0.113.7"}, Relationship: "the address logged in",
			Custodian: "a hosting provider", Necessity: "logs are kept 30 days", IntendsMLA: true, PeriodDays: 90, LegalBasis: "Budapest Convention art. 29", Purpose: "criminal-investigation"},
			[]move{{a, []string{"send"}}, {b, []string{"acknowledge"}}, {b, []string{"preserve"}}, {a, []string{"link-mla", "--ref", "MLA/2027/17"}}}},
		{"consultation", casework.Consultation{Topic: "Quarterly review", Level: "technical", Scheduled: true, Proposed: now.Add(10 * 24 * time.Hour), Venue: "video call"},
			[]move{{a, []string{"send"}}, {b, []string{"propose", "--at", later}}, {a, []string{"accept"}}}},
		{"reachability-test", casework.Reachability{Authority: "borealis-cert", Channel: "node"},
			[]move{{a, []string{"send"}}, {b, []string{"acknowledge"}}}},
		{"ci-declaration", casework.Declaration{Sectors: []string{"energy"}, CIDRs: []string{"198.51.100.0/25"}},
			[]move{{a, []string{"send"}}, {b, []string{"acknowledge", "--pledge"}}}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			data, err := json.Marshal(tc.fields)
			if err != nil {
				t.Fatal(err)
			}
			fields := filepath.Join(t.TempDir(), "fields.json")
			os.WriteFile(fields, data, 0o600)
			code, stdout, stderr := runCmd(t, "case", "new", "--data", a.dir, "--agreement", file, "--type", tc.typ, "--to", "borealis", fields)
			if code != 0 {
				t.Fatalf("case new: %s", stderr)
			}
			id := lastLine(stdout)
			for i, m := range tc.moves {
				other := b
				if m.by == b {
					other = a
				}
				if code, _, stderr := runCmd(t, append([]string{"case", "step", "--data", m.by.dir, "--agreement", file, id}, m.args...)...); code != 0 {
					t.Fatalf("step %d (%s) on %s: %s", i, m.args[0], m.by.id, stderr)
				}
				// The other node holds as many versions as were sent.
				want := i + 1
				if other == a {
					want = i + 2 // arcadia holds its draft too
				}
				// Each look opens the node's store beside serve; under a
				// loaded machine, looks less often and waits longer.
				deadline := time.Now().Add(60 * time.Second)
				for {
					_, show, _ := runCmd(t, "case", "show", "--data", other.dir, "--agreement", file, id)
					if strings.Count(show[strings.Index(show, "TIMELINE")+1:], "\n")-1 >= want {
						break
					}
					if time.Now().After(deadline) {
						_, partners, _ := runCmd(t, "partners", "--data", other.dir)
						t.Fatalf("%s did not get step %d (%s):\n%s\n%s\nits log:\n%s", other.id, i, m.args[0], show, partners, tail(other.run.stderr.String(), 40))
					}
					time.Sleep(250 * time.Millisecond)
				}
			}
		})
	}
}

// FuzzParseOpenings: a partner's openings answer never panics the reader,
// and what it accepts lies within the log and parses again the same.
func FuzzParseOpenings(f *testing.F) {
	o, _, err := ledger.Commit(ledger.Entry{Time: time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC),
		Event: ledger.Transition{Workflow: "reachability-test", Case: "c", From: "draft", To: "sent", Party: "borealis"}}, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	raw, err := o.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("0 "+base64.StdEncoding.EncodeToString(raw)+"\n"), int64(1))
	f.Add([]byte("7 "+base64.StdEncoding.EncodeToString(raw)+"\n"), int64(3))
	f.Add([]byte("0 !!!\n"), int64(1))
	f.Add([]byte("-1 AAAA\n"), int64(1))
	f.Fuzz(func(t *testing.T, body []byte, size int64) {
		ops, err := parseOpenings(body, size)
		if err != nil {
			return
		}
		for _, op := range ops {
			if op.index < 0 || op.index >= size {
				t.Fatalf("index %d outside %d", op.index, size)
			}
			b, err := op.opening.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ledger.ParseOpening(b); err != nil {
				t.Fatalf("an accepted opening does not parse again: %v", err)
			}
		}
	})
}

func mustNoteVerifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
