package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
)

// childArgsEnv holds the JSON arguments of the entente command that
// TestEntenteChild runs in a child process.
const childArgsEnv = "ENTENTE_TEST_CHILD_ARGS"

// TestEntenteChild is the child process of the tests that must kill a
// command with SIGKILL: it runs the command childCommand named, until it
// ends or is stopped (SIGTERM, interrupt) or killed.
func TestEntenteChild(t *testing.T) {
	v := os.Getenv(childArgsEnv)
	if v == "" {
		t.Skip("run by other tests in a child process")
	}
	var args []string
	if err := json.Unmarshal([]byte(v), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, &Env{Stdout: os.Stdout, Stderr: os.Stderr}, args))
}

// childCommand returns the test binary run again as `entente args...`,
// with env added to its environment; the caller starts it.
func childCommand(args []string, env ...string) *exec.Cmd {
	enc, err := json.Marshal(args)
	if err != nil {
		panic(err) // strings always encode
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEntenteChild$")
	cmd.Env = append(append(os.Environ(), childArgsEnv+"="+string(enc)), env...)
	return cmd
}
