package casework

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestStepTable enumerates the state machines: every state of every case
// type × every event, taken by the initiator and by the recipient, gives
// the result recorded in testdata/steps.golden. Each state is reached from
// a new case by steps, so the table also shows every state is reachable.
func TestStepTable(t *testing.T) {
	a := testAgreement(t)
	var out bytes.Buffer
	for _, typ := range Types {
		m, _ := MachineOf(typ)
		reached := reachAll(t, a, typ)
		fmt.Fprintf(&out, "# %s\n", typ)
		for _, st := range m.States {
			c, ok := reached[st]
			if !ok {
				t.Errorf("%s: state %s is unreachable", typ, st)
				continue
			}
			for _, k := range Events() {
				fmt.Fprintf(&out, "%s %s %s:", typ, st, k)
				for _, actor := range []string{"arcadia", "borealis"} {
					e, now := canonicalEvent(c, k, actor, a)
					next, err := Step(c, e, a, now)
					var re *RuleError
					switch {
					case err == nil:
						fmt.Fprintf(&out, " | %s -> %s", actor, next.State)
					case errors.As(err, &re):
						fmt.Fprintf(&out, " | %s refused [%s]", actor, re.Rule)
						if next.State != c.State || next.Modified != c.Modified {
							t.Errorf("%s %s %s: a refused step changed the case", typ, st, k)
						}
					default:
						t.Errorf("%s %s %s: error %v is not a *RuleError", typ, st, k, err)
					}
				}
				out.WriteByte('\n')
			}
		}
	}
	golden(t, "testdata/steps.golden", out.Bytes())
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the result; if the change is intended, run go test -update and review the diff", path)
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w []byte
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if !bytes.Equal(g, w) {
				t.Errorf("line %d:\n got  %s\n want %s", i+1, g, w)
				break
			}
		}
	}
}
