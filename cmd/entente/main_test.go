package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// execEntente runs one command line in-process and returns its stdout,
// stderr and exit code.
func execEntente(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return execEntenteInput(t, "", args...)
}

// execEntenteInput is execEntente with stdin.
func execEntenteInput(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}, args)
	return out.String(), errOut.String(), code
}

func TestUnknownCommand(t *testing.T) {
	_, stderr, code := execEntente(t, "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("code %d, stderr %q; want 2 and a message naming the command", code, stderr)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	_, stderr, code := execEntente(t, "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(stderr, c.name) {
			t.Errorf("help does not list %q", c.name)
		}
	}
}
