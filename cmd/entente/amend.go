package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/node"
)

// amender moves a serving node to an amended agreement when the operator
// asks (SIGHUP): it reads the --agreement file again and, if it holds a
// verified amendment of the agreement in force, calls node.Amend. What
// Amend swaps applies at once; what serve set up from the agreement at
// start (links, witnesses, mail) stays as it was until a restart, and
// the log says which of those the agreement now in force changes.
type amender struct {
	n      *node.Node
	path   string // the --agreement file
	nodeID string
	key    *node.Key
	now    func() time.Time // the node's clock
	mail   bool             // serve mails case events to contact points
	logger *slog.Logger
	// started is the agreement serve set its links and witnesses up
	// from, which later amendments leave as they were.
	started *agreement.Agreement
}

// amendApplies is what an amendment changes in a running node.
const amendApplies = "the policy, the parties and their authorities, and which partner node keys the TLS handshake accepts"

// reload reads the agreement file again and amends the node if it holds a
// new version. A file that fails leaves the node as it was.
func (am *amender) reload(ctx context.Context) {
	cur, _ := am.n.Agreement()
	if cur == nil {
		am.logger.ErrorContext(ctx, "agreement not amended: serve was started without --agreement, so there is none to amend; restart it with --agreement FILE --node ID")
		return
	}
	inForce := fmt.Sprintf("%s version %d", cur.ID, cur.Version)
	fail := func(err error) {
		am.logger.ErrorContext(ctx, "agreement not amended; the node stays on the agreement in force, nothing is lost; fix the file (check it with entente agreement verify) and send SIGHUP again",
			slog.String("file", am.path), slog.String("in_force", inForce), slog.Any("error", err))
	}
	setup, err := loadLedgerSetup(am.path, am.nodeID, am.key, am.now())
	if err != nil {
		fail(err)
		return
	}
	next := setup.agreement
	if next.ID == cur.ID && next.Version == cur.Version {
		same, err := sameContent(cur, next)
		if err != nil {
			fail(err)
			return
		}
		if !same {
			fail(fmt.Errorf("%s: version %d is the one in force, but its content differs; an amendment is a new version with supersedes: %d", am.path, next.Version, cur.Version))
			return
		}
		am.logger.InfoContext(ctx, "agreement unchanged", slog.String("file", am.path), slog.String("in_force", inForce))
		return
	}
	if err := am.n.Amend(ctx, next); err != nil {
		fail(fmt.Errorf("%s: %w", am.path, err))
		return
	}
	am.logger.InfoContext(ctx, "agreement amended", slog.String("file", am.path), slog.String("agreement", next.ID),
		slog.Int("from_version", cur.Version), slog.Int("to_version", next.Version), slog.String("applied", amendApplies))
	if needs := restartNeeds(am.started, next, am.nodeID, am.mail); len(needs) > 0 {
		am.logger.WarnContext(ctx, "the amendment also changes what serve sets up only at start; restart it to apply them",
			slog.String("agreement", next.ID), slog.Int("version", next.Version), slog.String("restart_for", strings.Join(needs, "; ")))
	}
}

// sameContent reports whether a and b have the content their parties
// sign: the same text, whatever signatures each file carries.
func sameContent(a, b *agreement.Agreement) (bool, error) {
	ca, err := a.Content()
	if err != nil {
		return false, err
	}
	cb, err := b.Content()
	if err != nil {
		return false, err
	}
	return bytes.Equal(ca, cb), nil
}

// restartNeeds lists what serve set up at start from the agreement
// started that next changes, and that Amend does not: the links to partner nodes (their
// URLs, logs and pinned keys), the witnesses of this node's log, the
// partner logs this node witnesses and, with mail, the contact points.
func restartNeeds(started, next *agreement.Agreement, self string, mail bool) []string {
	var needs []string
	if !sameJSON(partnerNodes(started, self), partnerNodes(next, self)) {
		needs = append(needs, "the links to partner nodes (a partner node added, removed, or its URL, log or key changed)")
	}
	if !sameJSON(ownWitnesses(started, self), ownWitnesses(next, self)) {
		needs = append(needs, "the witnesses of this node's log")
	}
	if !sameJSON(witnessedLogs(started, self), witnessedLogs(next, self)) {
		needs = append(needs, "the partner logs this node witnesses")
	}
	if mail && !sameJSON(authorities(started), authorities(next)) {
		needs = append(needs, "the contact points case mail goes to")
	}
	return needs
}

// partnerNodes are the nodes of the other parties, as links use them.
func partnerNodes(a *agreement.Agreement, self string) []agreement.Node {
	p, _, _ := a.Node(self)
	var out []agreement.Node
	for _, q := range a.Parties {
		if p != nil && q.ID == p.ID {
			continue
		}
		for _, n := range q.Nodes {
			out = append(out, agreement.Node{ID: n.ID, URL: n.URL, Key: n.Key, Log: n.Log})
		}
	}
	return out
}

// ownWitnesses are the witnesses of self's log and how many must cosign.
func ownWitnesses(a *agreement.Agreement, self string) any {
	_, n, _ := a.Node(self)
	if n == nil {
		return nil
	}
	return struct {
		W []agreement.LogWitness
		K int
	}{a.LogWitnesses(n), n.WitnessThreshold}
}

// witnessedLogs are the logs of the nodes that name self as a witness.
func witnessedLogs(a *agreement.Agreement, self string) []agreement.Node {
	var out []agreement.Node
	for _, p := range a.Parties {
		for i := range p.Nodes {
			if n := &p.Nodes[i]; n.ID != self && witnessedBy(n, self) {
				out = append(out, agreement.Node{ID: n.ID, Key: n.Key, Log: n.Log})
			}
		}
	}
	return out
}

func authorities(a *agreement.Agreement) [][]agreement.Authority {
	var out [][]agreement.Authority
	for _, p := range a.Parties {
		out = append(out, p.Authorities)
	}
	return out
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// watch reloads the agreement on each reload signal until ctx ends; sigs
// is nil where the platform has no such signal.
func (am *amender) watch(ctx context.Context, sigs <-chan os.Signal) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sigs:
			am.reload(ctx)
		}
	}
}

// notifyReload returns a channel of the reload signals (SIGHUP), and a
// function that stops them; nil where the platform has none.
func notifyReload() (<-chan os.Signal, func()) {
	if len(reloadSignals) == 0 {
		return nil, func() {}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, reloadSignals...)
	return ch, func() { signal.Stop(ch) }
}
