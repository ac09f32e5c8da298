package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entente/entente/internal/proctest"
)

// TestDemo runs entente demo for a moment and checks what it reports
// against the trilateral agreement's rules: what each partner received,
// directly or relayed, what was withheld and why, and ledgers cosigned by
// both partners. Then it stops on its own, removing its temporary data.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	stdout, stderr, code := execEntente(t, "demo", "--duration", "1s", "--settle", "90s")
	if code != 0 {
		t.Fatalf("demo exited with %d:\n%s\n%s", code, stdout, stderr)
	}
	t.Log(stdout)
	flows := demoFlows(t, stdout)
	for _, c := range []struct{ sample, to, want string }{ // want: a regular expression
		// Both ways are open to it: directly, and relayed by Caledonia,
		// whose rule allows onward transfer of TLP:CLEAR; whichever link
		// pulls first brings it.
		{"phishing domain login-arcadia-gov.example", "borealis-node-1", `^received(, ledger entry \d+| through caledonia)`},
		{"phishing domain login-arcadia-gov.example", "caledonia-node-1", `^received, ledger entry \d+`},
		{"botnet controller 198.51.100.77", "caledonia-node-1", `^withheld: .*\(rule arcadia-to-caledonia\)$`},
		{"GridLock ransomware", "borealis-node-1", "^received, "},
		{"GridLock ransomware", "caledonia-node-1", `^withheld: .*\(rule arcadia-to-caledonia\)$`},
		// Kept from Borealis by its label, but Caledonia may relay
		// Arcadia's TLP:CLEAR indicators, and its own rule to Borealis
		// does not exclude the label.
		{"scanner 198.51.100.200", "borealis-node-1", "^received through caledonia"},
		{"implant beacon 198.51.100.9", "borealis-node-1", "^withheld: "},
		{"implant beacon 198.51.100.9", "caledonia-node-1", "^withheld: "},
		{"RailHook loader", "caledonia-node-1", "^received, "},
		{"spear phishing of rail operators", "caledonia-node-1", `^withheld: .*\(rule borealis-to-caledonia\)$`},
		{"exfiltration host 203.0.113.66", "arcadia-node-1", "^received, "},
		{"exfiltration host 203.0.113.66", "caledonia-node-1", `^withheld: .*\(rule borealis-to-caledonia\)$`},
		{"bulletproof hosting cluster", "arcadia-node-1", `^withheld: .*\(rule caledonia-to-arcadia\)$`},
		{"bulletproof hosting cluster", "borealis-node-1", "^received, "},
		{"HarbourRAT", "borealis-node-1", "^received through arcadia"},
		{"red-team framework build", "arcadia-node-1", "^withheld: "},
	} {
		got, ok := flows[c.sample+" → "+c.to]
		if !ok || !regexp.MustCompile(c.want).MatchString(got) {
			t.Errorf("%s → %s: %q; want %s", c.sample, c.to, got, c.want)
		}
	}
	ledgers := regexp.MustCompile(`(?m)^  (\S+-node-1)\s+\S+/ledger\s+(\d+)\s+(\d+)\s+(.*)$`).FindAllStringSubmatch(stdout, -1)
	if len(ledgers) != 3 {
		t.Fatalf("the demo printed %d ledgers; want 3", len(ledgers))
	}
	for _, l := range ledgers {
		if l[2] == "0" || strings.Count(l[4], "-node-1") != 2 {
			t.Errorf("%s: %s entries, checkpoint %s, cosigned by %s; want entries and both partners' cosignatures", l[1], l[2], l[3], l[4])
		}
	}
	if !strings.Contains(stdout, "stopping the nodes") {
		t.Error("the demo did not say it stopped the nodes")
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "entente-demo-*")); len(left) > 0 {
		t.Errorf("the demo left %v behind", left)
	}
}

// demoFlows reads the flows the demo printed: "sample → node" to what
// became of it there.
func demoFlows(t *testing.T, out string) map[string]string {
	t.Helper()
	flows := map[string]string{}
	var sample string
	for _, line := range strings.Split(out, "\n") {
		if m := regexp.MustCompile(`^    \S+ "(.*)" \(`).FindStringSubmatch(line); m != nil {
			sample = m[1]
		} else if m := regexp.MustCompile(`^      → (\S+)\s+(.*)$`).FindStringSubmatch(line); m != nil {
			flows[sample+" → "+m[1]] = m[2]
		}
	}
	if len(flows) != len(demoSamples)*2 {
		t.Fatalf("the demo printed %d flows; want %d:\n%s", len(flows), len(demoSamples)*2, out)
	}
	return flows
}

// TestDemoInterrupt stops the demo as Ctrl-C does, and checks that it
// stops its nodes cleanly and keeps the data directory it was given.
func TestDemoInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &proctest.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &Env{Stdout: out, Stderr: out}, []string{"demo", "--data", dir, "--settle", "1s"})
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "press Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not get running:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			var logs strings.Builder
			for _, id := range []string{"arcadia-node-1", "borealis-node-1", "caledonia-node-1"} {
				b, _ := os.ReadFile(filepath.Join(dir, id, "serve.log"))
				fmt.Fprintf(&logs, "\n%s's serve.log:\n%s", id, b)
			}
			t.Fatalf("demo exited with %d after the interrupt:\n%s%s", code, out.String(), logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the demo did not stop within 60s of the interrupt")
	}
	for _, id := range []string{"arcadia-node-1", "borealis-node-1", "caledonia-node-1"} {
		if _, err := os.Stat(filepath.Join(dir, id, dbFile)); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if _, stderr, code := execEntente(t, "ledger", "verify", "--data", filepath.Join(dir, "arcadia-node-1")); code != 0 {
		t.Errorf("ledger verify after the demo: %s", stderr)
	}
}

func TestDemoUsage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	for _, args := range [][]string{
		{"demo", "--duration", "-1s"},
		{"demo", "--settle", "0s"},
		{"demo", "extra"},
		{"demo", "--data", dir},
	} {
		if _, stderr, code := execEntente(t, args...); code != 2 {
			t.Errorf("%v: exit %d, stderr %q; want 2", args, code, stderr)
		}
	}
}
