package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	for _, p := range []*partnerNode{a, b} {
		p.run = startServe(t, p.dir, "--addr", p.addr, "--agreement", file, "--node", p.id, "--checkpoint-interval", "50ms", "--sync-interval", "100ms")
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
	if s := report(a, b, "--sign"); !strings.Contains(s, "entente compliance report v1") || !strings.Contains(s, "— arcadia-node-1") {
		t.Errorf("signed note: %s", s)
	}
	if s := report(a, b); !strings.Contains(s, "reachability-test") {
		t.Errorf("text record: %s", s)
	}
}
