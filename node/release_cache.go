package node

import (
	"encoding/json"
	"sync"

	"github.com/entente/entente/ledger"
	"github.com/entente/entente/policy"
)

// maxCachedEntries bounds the release caches, which empty when full: they
// only spare work, so losing them costs time, never correctness.
const maxCachedEntries = 1 << 16

// releaseCache spares a partner's repeated reads the work whose answer
// cannot have changed. Both caches name a version by its sequence number:
// a stored version's content never changes, and a new one gets a new
// number. They are kept per agreement version, since an amendment may
// decide otherwise, and per recipient; a page finds its maps once.
type releaseCache struct {
	mu sync.Mutex
	// decisions holds the decisions that depended on the version alone.
	decisions map[decisionScope]map[decisionKey]cachedDecision
	// recorded holds the disclosures known to be recorded: the store
	// never removes one, and what a version's release sends (so its
	// digest) depends only on the agreement version, the recipient node
	// and the version.
	recorded map[recordedScope]map[int64]struct{}
	// entries counts what both hold, for the bound.
	entries int
}

// decisionScope and decisionKey are what a decision that consulted
// neither Lookup nor Released depends on: policy.Decide is pure, so the
// same agreement version, recipient, origin and content give the same
// decision.
type decisionScope struct {
	fed *terms
	to  policy.Recipient
}

type decisionKey struct {
	seq          int64
	receivedFrom string
}

// recordedScope is a partner node under one agreement version.
type recordedScope struct {
	fed  *terms
	node string
}

// cachedDecision is a decision and, for a redaction, what goes out.
type cachedDecision struct {
	decision   policy.Decision
	raw        []byte // the redacted copy; nil unless Redact
	digest     ledger.Digest
	provenance json.RawMessage
}

// scopes returns the maps of one page's recipient, made if need be.
func (c *releaseCache) scopes(d decisionScope, r recordedScope) (map[decisionKey]cachedDecision, map[int64]struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.decisions == nil {
		c.decisions = map[decisionScope]map[decisionKey]cachedDecision{}
		c.recorded = map[recordedScope]map[int64]struct{}{}
	}
	dm, rm := c.decisions[d], c.recorded[r]
	if dm == nil {
		dm = map[decisionKey]cachedDecision{}
		c.decisions[d] = dm
	}
	if rm == nil {
		rm = map[int64]struct{}{}
		c.recorded[r] = rm
	}
	return dm, rm
}

// grow counts a new entry, and empties the caches when they are full.
// The maps a page holds stay usable; they are only no longer shared.
func (c *releaseCache) grow() {
	c.entries++
	if c.entries > maxCachedEntries {
		c.decisions, c.recorded, c.entries = nil, nil, 0
	}
}

func (c *releaseCache) decision(m map[decisionKey]cachedDecision, k decisionKey) (cachedDecision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := m[k]
	return d, ok
}

func (c *releaseCache) putDecision(m map[decisionKey]cachedDecision, k decisionKey, d cachedDecision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m[k] = d
	c.grow()
}

func (c *releaseCache) isRecorded(m map[int64]struct{}, seq int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := m[seq]
	return ok
}

func (c *releaseCache) putRecorded(m map[int64]struct{}, seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m[seq] = struct{}{}
	c.grow()
}
