package agreement

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestLedgerFields resolves the witnesses and policy of the example nodes.
func TestLedgerFields(t *testing.T) {
	a := mustParse(t, readFile(t, "../examples/arcadia-borealis-v2.yaml"))
	_, n, ok := a.NodeByLog("cti.cert.arcadia.example/ledger")
	if !ok || n.ID != "arcadia-node-1" {
		t.Fatalf("NodeByLog = %v, %v", n, ok)
	}
	_, b, _ := a.Node("borealis-node-1")
	ws := a.LogWitnesses(n)
	if len(ws) != 2 {
		t.Fatalf("LogWitnesses = %+v, want 2", ws)
	}
	if ws[0] != (LogWitness{Node: "borealis-node-1", Name: "borealis", Key: b.WitnessKey, URL: "https://taxii.cyber.borealis.example/ledger/"}) {
		t.Errorf("node witness resolved to %+v", ws[0])
	}
	if ws[1].Node != "" || ws[1].URL != "https://witness.neutral.example/tlog/" || !strings.HasPrefix(ws[1].Key, "witness.neutral.example+") {
		t.Errorf("third-party witness resolved to %+v", ws[1])
	}
	p, err := a.WitnessPolicy(n)
	if err != nil || p.Threshold != 2 || len(p.Witnesses) != 2 {
		t.Errorf("WitnessPolicy = %+v, %v; want 2 of 2", p, err)
	}
}

// TestLoopbackWitnessURL accepts plain http to a third-party witness on a
// loopback address only (a witness such as litewitness serves plain HTTP
// behind a TLS terminator, which may be a tunnel on the node's host).
func TestLoopbackWitnessURL(t *testing.T) {
	doc := readFile(t, "../examples/arcadia-borealis-v2.yaml")
	for _, u := range []string{"http://127.0.0.1:7380/", "http://[::1]:7380/", "http://localhost:7380/witness/"} {
		a, err := Parse(bytes.Replace(doc, []byte("https://witness.neutral.example/tlog/"), []byte(u), 1))
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		_, n, _ := a.Node("arcadia-node-1")
		if ws := a.LogWitnesses(n); ws[1].URL != u {
			t.Errorf("%s resolved to %q", u, ws[1].URL)
		}
	}
	for _, u := range []string{"http://127.0.0.1.example/", "http://10.0.0.1/", "ftp://127.0.0.1/", "http://u:p@127.0.0.1/"} {
		if _, err := Parse(bytes.Replace(doc, []byte("https://witness.neutral.example/tlog/"), []byte(u), 1)); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

// TestLedgerFieldsInvalid edits the example's ledger fields into each
// mistake the validator must name, with the field's path.
func TestLedgerFieldsInvalid(t *testing.T) {
	const (
		arcLog  = "log: cti.cert.arcadia.example/ledger"
		nodeKey = "arcadia-node-1+1daf95b7+AZ8Mdt1CEf2JlEWHRUVAqsLS1+GGnI8P1Kg3GZm44Vpt"
	)
	doc := readFile(t, "../examples/arcadia-borealis-v2.yaml")
	a := mustParse(t, doc)
	_, arc, _ := a.Node("arcadia-node-1")
	for _, tc := range []struct {
		name, old, new, path, want string
	}{
		{"missing log", "        " + arcLog + "\n", "", "parties[0].nodes[0].log", "log is required"},
		{"log with a scheme", arcLog, "log: https://cti.cert.arcadia.example/ledger", "parties[0].nodes[0].log", "not a log name"},
		{"log with a space", arcLog, `log: "cti arcadia"`, "parties[0].nodes[0].log", "not a log name"},
		{"duplicate log", "log: taxii.cyber.borealis.example/ledger", arcLog, "parties[1].nodes[0].log", "duplicate log name"},
		{"missing witness key", "        witness_key: " + arc.WitnessKey + "\n", "", "parties[0].nodes[0].witness_key", "witness_key is required"},
		{"node key as witness key", "witness_key: " + arc.WitnessKey, "witness_key: " + nodeKey, "parties[0].nodes[0].witness_key", "not a cosignature/v1 key"},
		{"malformed witness key", "witness_key: " + arc.WitnessKey, "witness_key: arcadia-node-1+00000000+BAAA", "parties[0].nodes[0].witness_key", "invalid witness key"},
		{"unknown witness node", "- node: borealis-node-1", "- node: borealis-node-9", "parties[0].nodes[0].witnesses[0].node", "not a node of the agreement"},
		{"self witness", "- node: borealis-node-1", "- node: arcadia-node-1", "parties[0].nodes[0].witnesses[0].node", "its own log"},
		{"node and key", "- node: borealis-node-1", "- node: borealis-node-1\n            key: x", "parties[0].nodes[0].witnesses[0]", "also gives name, key or url"},
		{"plain http witness", "https://witness.neutral.example/tlog/", "http://witness.neutral.example/tlog/", "parties[0].nodes[0].witnesses[1].url", "not an https prefix"},
		{"plain http witness, not loopback", "https://witness.neutral.example/tlog/", "http://192.0.2.7:7380/", "parties[0].nodes[0].witnesses[1].url", "not an https prefix"},
		{"witness url with a query", "https://witness.neutral.example/tlog/", "https://witness.neutral.example/tlog/?a=b", "parties[0].nodes[0].witnesses[1].url", "not an https prefix"},
		{"witness url without slash", "https://witness.neutral.example/tlog/", "https://witness.neutral.example/tlog", "parties[0].nodes[0].witnesses[1].url", "not an https prefix"},
		{"third party without key", "            key: witness.neutral.example", "            kez: witness.neutral.example", "parties[0].nodes[0].witnesses[1].kez", "unknown key"},
		{"threshold above n", "witness_threshold: 2 # both", "witness_threshold: 3 # both", "parties[0].nodes[0].witness_threshold", "not between 1 and the 2 witnesses"},
		{"threshold zero", "witness_threshold: 2 # both", "witness_threshold: 0 # both", "parties[0].nodes[0].witness_threshold", "not between 1"},
		{"threshold without witnesses", "        witnesses:\n          - node: arcadia-node-1\n", "", "parties[1].nodes[0].witness_threshold", "lists no witnesses"},
		{"witness listed twice", "          - name: Neutral", "          - node: borealis-node-1\n          - name: Neutral", "parties[0].nodes[0].witnesses[1]", "duplicate witness key name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(doc, []byte(tc.old)) {
				t.Fatalf("the example no longer holds %q", tc.old)
			}
			_, err := Parse(bytes.Replace(doc, []byte(tc.old), []byte(tc.new), 1))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %v, want an *Error", err)
			}
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, err := range errs {
				if errors.As(err, &e) && e.Path == tc.path && strings.Contains(e.Msg, tc.want) && e.Fix != "" && e.Line > 0 {
					return
				}
			}
			t.Errorf("errors:\n%v\nwant one at %s saying %q, with a fix and a line", err, tc.path, tc.want)
		})
	}
}
