package agreement

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/entente/entente/ledger"
)

// LedgerPath is the path under a node's host at which it serves its ledger
// (C2SP tlog-tiles) and its witness (C2SP tlog-witness add-checkpoint).
const LedgerPath = "/ledger/"

// LogWitness is a witness of a node's log, resolved: what a node needs to
// submit its checkpoints to it and to count its cosignatures.
type LogWitness struct {
	// Node is the witnessing node's id, or "" for a third-party witness.
	Node string
	// Name is the third-party witness's Name, or the node's party id.
	Name string
	// Key is the witness's cosignature verifier key.
	Key string
	// URL is the witness's tlog-witness prefix: add-checkpoint requests go
	// to URL + "add-checkpoint". It ends in "/".
	URL string
}

// LogWitnesses returns the witnesses of n's log, in the agreement's order.
// n must be a node of a validated agreement.
func (a *Agreement) LogWitnesses(n *Node) []LogWitness {
	var ws []LogWitness
	for _, w := range n.Witnesses {
		if w.Node == "" {
			ws = append(ws, LogWitness{Name: w.Name, Key: w.Key, URL: w.URL})
			continue
		}
		p, wn, ok := a.Node(w.Node)
		if !ok {
			continue // a validated agreement has no such reference
		}
		ws = append(ws, LogWitness{Node: wn.ID, Name: p.ID, Key: wn.WitnessKey, URL: wn.LedgerURL()})
	}
	return ws
}

// WitnessPolicy returns the policy that makes n's checkpoints final: the
// agreement's witness_threshold of its witnesses.
func (a *Agreement) WitnessPolicy(n *Node) (ledger.Policy, error) {
	var keys []string
	for _, w := range a.LogWitnesses(n) {
		keys = append(keys, w.Key)
	}
	p, err := ledger.NewPolicy(n.WitnessThreshold, keys...)
	if err != nil {
		return ledger.Policy{}, fmt.Errorf("agreement: node %s: %w", n.ID, err)
	}
	return p, nil
}

// NodeByLog returns the node whose log is origin and the party that runs it.
func (a *Agreement) NodeByLog(origin string) (*Party, *Node, bool) {
	for i := range a.Parties {
		for j := range a.Parties[i].Nodes {
			if a.Parties[i].Nodes[j].Log == origin {
				return &a.Parties[i], &a.Parties[i].Nodes[j], true
			}
		}
	}
	return nil, nil, false
}

// LedgerURL is where the node serves its ledger and witness: LedgerPath on
// the host of its TAXII URL.
func (n *Node) LedgerURL() string {
	u, err := url.Parse(n.URL)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: LedgerPath}).String()
}

// maxLogName bounds a log name; origins are short URLs.
const maxLogName = 255

// isLogName reports whether s can be a checkpoint's origin line: printable
// ASCII without spaces, and no URL scheme (C2SP tlog-checkpoint recommends
// a schema-less URL).
func isLogName(s string) bool {
	if s == "" || len(s) > maxLogName || strings.Contains(s, "://") {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// isWitnessURL reports whether s can be a third-party witness's prefix:
// an https URL ending in "/", without query or fragment. Plain http is
// accepted to a loopback address only: C2SP tlog-witness does not ask for
// TLS, and witnesses such as litewitness serve plain HTTP and leave TLS to
// a terminator in front of them, which may run on the node's own host (a
// tunnel to the witness). Off the host, the request must be encrypted.
func isWitnessURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !strings.HasSuffix(u.Path, "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		return host == "localhost" || ip != nil && ip.IsLoopback()
	}
	return false
}

// cosignatureKeyType returns the signed-note type byte of a verifier key,
// or 0 if the key is malformed.
func cosignatureKeyType(vkey string) byte {
	// The base64 of the key may itself hold '+'; the key field is the
	// third '+'-separated field.
	fields := strings.SplitN(vkey, "+", 3)
	if len(fields) != 3 {
		return 0
	}
	raw, err := base64.StdEncoding.DecodeString(fields[2])
	if err != nil || len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// ledgers checks the ledger fields of every node: they refer to nodes
// across parties, so they run after all parties are read.
func (v *validator) ledgers() {
	logs := map[string]string{}
	for i := range v.a.Parties {
		p := &v.a.Parties[i]
		for j := range p.Nodes {
			n := &p.Nodes[j]
			np := fmt.Sprintf("parties[%d].nodes[%d]", i, j)
			if v.required(np+".log", n.Log) {
				if !isLogName(n.Log) {
					v.fail(np+".log", "name the log by a schema-less URL such as cti.cert.arcadia.example/ledger",
						"%q is not a log name (printable ASCII, no spaces, no scheme, at most %d bytes)", n.Log, maxLogName)
				} else {
					v.unique(logs, np+".log", "log name", n.Log)
				}
			}
			if v.required(np+".witness_key", n.WitnessKey) {
				if _, err := ledger.NewCosignatureVerifier(n.WitnessKey); err != nil {
					v.fail(np+".witness_key", "paste the witness key that 'entente keygen' or 'entente serve' printed for the node", "invalid witness key: %v", err)
				} else if cosignatureKeyType(n.WitnessKey) != 0x04 {
					v.fail(np+".witness_key", "paste the node's witness key (type 0x04, printed as 'witness key'), not its node key",
						"%q is not a cosignature/v1 key", n.WitnessKey)
				}
			}
			v.witnesses(np, n)
		}
	}
}

func (v *validator) witnesses(np string, n *Node) {
	names := map[string]string{}
	for k, w := range n.Witnesses {
		wp := fmt.Sprintf("%s.witnesses[%d]", np, k)
		var key string
		if w.Node != "" {
			if w.Name != "" || w.Key != "" || w.URL != "" {
				v.fail(wp, "a witness is either a node (node:) or a third party (name:, key:, url:); remove the other keys",
					"witness names node %q and also gives name, key or url", w.Node)
				continue
			}
			_, wn, ok := v.a.Node(w.Node)
			switch {
			case !ok:
				v.fail(wp+".node", "name a node of the agreement, or describe a third-party witness with name, key and url",
					"%q is not a node of the agreement", w.Node)
				continue
			case wn == n:
				v.fail(wp+".node", "a node cannot witness its own log; name a partner's node or a third party",
					"node %q witnesses its own log", w.Node)
				continue
			}
			key = wn.WitnessKey
		} else {
			ok := v.required(wp+".name", w.Name)
			if v.required(wp+".key", w.Key) {
				if _, err := ledger.NewCosignatureVerifier(w.Key); err != nil {
					v.fail(wp+".key", "paste the witness's verifier key (name+hash+base64) as its operator publishes it", "invalid witness key: %v", err)
					ok = false
				}
			} else {
				ok = false
			}
			if v.required(wp+".url", w.URL) {
				if !isWitnessURL(w.URL) {
					v.fail(wp+".url", "write the witness's prefix as https://host/path/ (add-checkpoint is appended to it); plain http only to a loopback address", "%q is not an https prefix ending in /", w.URL)
					ok = false
				}
			} else {
				ok = false
			}
			if !ok {
				continue
			}
			key = w.Key
		}
		if cv, err := ledger.NewCosignatureVerifier(key); err == nil {
			v.unique(names, wp, "witness key name", cv.Name())
		}
	}
	switch {
	case len(n.Witnesses) == 0 && n.WitnessThreshold != 0:
		v.fail(np+".witness_threshold", "list the witnesses, or remove witness_threshold",
			"witness_threshold is %d but the node lists no witnesses", n.WitnessThreshold)
	case len(n.Witnesses) > 0 && (n.WitnessThreshold < 1 || n.WitnessThreshold > len(n.Witnesses)):
		v.fail(np+".witness_threshold", fmt.Sprintf("set it from 1 to %d: how many of the witnesses must cosign a checkpoint", len(n.Witnesses)),
			"witness_threshold %d is not between 1 and the %d witnesses", n.WitnessThreshold, len(n.Witnesses))
	}
}
