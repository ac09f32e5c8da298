package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/ledger"
	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
)

// ledgerSetup is what the agreement says about this node's ledger: its log
// name, the partner logs it witnesses and the witnesses of its own log.
type ledgerSetup struct {
	// agreement is the verified agreement, and self this node's id in it;
	// nil and "" without one.
	agreement *agreement.Agreement
	self      string
	logName   string
	partners  []node.PartnerLog
	witnesses []ledgerhttp.Witness
}

// witnessClientTimeout bounds one add-checkpoint exchange.
const witnessClientTimeout = 30 * time.Second

// loadLedgerSetup reads the agreement at path, checks its signatures and
// that it is in force, finds this node (nodeID) in it and checks that the
// node key and witness key it pins are this node's.
func loadLedgerSetup(path, nodeID string, key *node.Key, now time.Time) (*ledgerSetup, error) {
	a, err := loadAgreement(path)
	if err != nil {
		return nil, err
	}
	if err := a.Verify(now); err != nil {
		return nil, fmt.Errorf("%s: %w; serve only under a signed agreement in force (check it with entente agreement verify)", path, err)
	}
	_, self, ok := a.Node(nodeID)
	if !ok {
		return nil, fmt.Errorf("%s: --node %q is not a node of the agreement; give the id of this node's entry under parties[].nodes", path, nodeID)
	}
	if self.Key != key.VerifierKey {
		return nil, fmt.Errorf("%s: node %s: the agreement pins the key %s, but this node's key is %s; run with the data directory of that node, or have the agreement amended",
			path, nodeID, self.Key, key.VerifierKey)
	}
	if wk := key.WitnessVerifierKey(); self.WitnessKey != wk {
		return nil, fmt.Errorf("%s: node %s: the agreement pins the witness key %s, but this node's is %s; have the agreement amended",
			path, nodeID, self.WitnessKey, wk)
	}
	s := &ledgerSetup{agreement: a, self: nodeID, logName: self.Log}
	// The partner logs this node witnesses: those that name it.
	for i := range a.Parties {
		p := &a.Parties[i]
		for j := range p.Nodes {
			n := &p.Nodes[j]
			if n == self || !witnessedBy(n, nodeID) {
				continue
			}
			v, err := note.NewVerifier(n.Key)
			if err != nil {
				return nil, fmt.Errorf("%s: node %s: %w", path, n.ID, err)
			}
			s.partners = append(s.partners, node.PartnerLog{Origin: n.Log, Party: p.ID, Key: v})
		}
	}
	for _, w := range a.LogWitnesses(self) {
		v, err := ledger.NewCosignatureVerifier(w.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: a witness of node %s: %w", path, nodeID, err)
		}
		client := &http.Client{Timeout: witnessClientTimeout}
		if w.Node != "" {
			// A partner node is reached by its node key, which its
			// self-signed certificate holds.
			_, wn, _ := a.Node(w.Node)
			tlsConfig, err := node.NodeKeyTLSConfig(wn.Key)
			if err != nil {
				return nil, fmt.Errorf("%s: node %s: %w", path, wn.ID, err)
			}
			client.Transport = &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true}
		}
		name := w.Name
		if w.Node != "" {
			name = w.Node
		}
		s.witnesses = append(s.witnesses, ledgerhttp.Witness{Name: name, URL: w.URL, Key: v, Client: client})
	}
	return s, nil
}

// reachWitnessesAt sends checkpoints to a partner node that witnesses the
// log at the host --partner-url gives for it, rather than the agreement's:
// the partner is one node, reached one way.
func (s *ledgerSetup) reachWitnessesAt(urls partnerURLs) {
	for i, w := range s.witnesses {
		raw, ok := urls[w.Name]
		if !ok {
			continue
		}
		if u, err := url.Parse(raw); err == nil {
			s.witnesses[i].URL = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: agreement.LedgerPath}).String()
		}
	}
}

func witnessedBy(n *agreement.Node, id string) bool {
	for _, w := range n.Witnesses {
		if w.Node == id {
			return true
		}
	}
	return false
}

// runWitness implements "entente witness list|resume": the partner logs
// the node suspended after they showed an inconsistent checkpoint.
func runWitness(ctx context.Context, env *Env, args []string) error {
	usage := func() {
		fmt.Fprintln(env.Stderr, "usage: entente witness list --data DIR")
		fmt.Fprintln(env.Stderr, "       entente witness resume --data DIR ORIGIN")
		fmt.Fprintln(env.Stderr, "\nLists the partner logs this node suspended after they showed an inconsistent checkpoint (a fork or a")
		fmt.Fprintln(env.Stderr, "rollback), or resumes one once the partner has explained and the parties agree to go on.")
	}
	if len(args) == 0 {
		usage()
		return &exitError{Code: 2}
	}
	fs := flag.NewFlagSet("witness "+args[0], flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = usage
	dir := fs.String("data", defaultDataDir, "the node's data `directory`")
	var names []string
	switch args[0] {
	case "list":
	case "resume":
		names = []string{"ORIGIN"}
	default:
		usage()
		return usageError("unknown witness command %q", args[0])
	}
	pos, err := parseArgs(fs, args[1:], names...)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dir, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "list" {
		ss, err := st.Suspensions(ctx)
		if err != nil {
			return err
		}
		for _, s := range ss {
			fmt.Fprintf(env.Stdout, "%s\tsuspended %s\t%s\n", s.Origin, s.Since.Format(time.RFC3339), s.Reason)
		}
		if len(ss) == 0 {
			fmt.Fprintln(env.Stderr, "no partner log is suspended")
		}
		return nil
	}
	origin := pos[0]
	if err := st.ResumeLog(ctx, origin); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%q is not suspended; 'entente witness list --data %s' lists the suspended logs", origin, *dir)
	} else if err != nil {
		return err
	}
	n, err := node.New(ctx, node.Config{Store: st})
	if err != nil {
		return err
	}
	if err := n.RecordResumption(ctx, origin, ""); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s resumed; the next checkpoint it submits must be consistent with the one this node cosigned\n", origin)
	return nil
}
