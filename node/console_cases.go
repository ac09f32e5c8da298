package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/entente/entente/casework"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// The console's reads and steps of cases. Each authorizes the caller on
// the cases collection through Can, as the TAXII paths do: reading the
// cases takes the right to read that collection, opening and stepping
// one the right to write it (an admin holds both).

// CasePage is one page of the cases a caller may read.
type CasePage struct {
	// Cases are the cases' last versions, ordered by their last step,
	// oldest first.
	Cases []casework.Case
	// Next is the cursor of the next page (CasesPage's after); 0 when
	// this page is the last.
	Next int64
}

// maxCasePage bounds a page of cases.
const maxCasePage = 500

// casesFor returns the cases collection if c may do act with it. Without
// the collection, or without the right to see it, the error wraps
// taxii.ErrNotFound; with the right to see it but not act, ErrForbidden.
func (n *Node) casesFor(ctx context.Context, c *taxii.Caller, act Action) (store.Collection, error) {
	col, err := n.casesCollection(ctx)
	if err != nil {
		return store.Collection{}, err
	}
	return n.collection(ctx, c, col.APIRoot, CasesAlias, act)
}

// casesCollection finds the cases collection without creating it
// (CasesCollection does), whatever the caller may do with it. Without
// it, the error wraps taxii.ErrNotFound.
func (n *Node) casesCollection(ctx context.Context) (store.Collection, error) {
	roots, err := n.store.APIRoots(ctx)
	if err != nil {
		return store.Collection{}, fmt.Errorf("%w: reading API roots: %v", taxii.ErrUnavailable, err)
	}
	if len(roots) == 0 {
		return store.Collection{}, noCollection("", CasesAlias)
	}
	return n.lookup(ctx, roots[0].Path, CasesAlias)
}

// CasesPage returns up to limit cases after cursor after (0 for the
// first page), if c may read the cases collection.
func (n *Node) CasesPage(ctx context.Context, c *taxii.Caller, after int64, limit int) (CasePage, error) {
	col, err := n.casesFor(ctx, c, ActionRead)
	if err != nil {
		return CasePage{}, err
	}
	limit = min(max(limit, 1), maxCasePage)
	p, err := n.store.Objects(ctx, store.Query{Collection: col.ID, Types: caseTypes(), After: after,
		Versions: store.VersionFilter{Last: true}, Limit: limit})
	if err != nil {
		return CasePage{}, fmt.Errorf("node: reading cases: %w", err)
	}
	cs, err := decodeCases(p.Objects)
	if err != nil {
		return CasePage{}, err
	}
	out := CasePage{Cases: cs}
	if p.More && len(p.Objects) > 0 {
		out.Next = p.Objects[len(p.Objects)-1].Seq
	}
	return out, nil
}

// CaseStep is one version of a case in its timeline.
type CaseStep struct {
	casework.Case
	// LedgerIndex is the index of the node's ledger entry that records
	// this version; -1 when none does (yet).
	LedgerIndex int64
}

// CaseTimeline returns every stored version of case id, oldest first,
// each with the ledger entry that records it, if c may read the cases
// collection. A case the node does not hold is ErrNoCase.
func (n *Node) CaseTimeline(ctx context.Context, c *taxii.Caller, id string) ([]CaseStep, error) {
	col, err := n.casesFor(ctx, c, ActionRead)
	if err != nil {
		return nil, err
	}
	if _, ok := casework.ParseType(caseTypeOf(id)); !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoCase, id)
	}
	p, err := n.store.Objects(ctx, store.Query{Collection: col.ID, IDs: []string{id},
		Versions: store.VersionFilter{All: true}, Limit: maxCaseVersions})
	if err != nil {
		return nil, fmt.Errorf("node: reading case %s: %w", id, err)
	}
	if len(p.Objects) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoCase, id)
	}
	cs, err := decodeCases(p.Objects)
	if err != nil {
		return nil, err
	}
	out := make([]CaseStep, len(cs))
	for i, so := range p.Objects {
		out[i] = CaseStep{Case: cs[i], LedgerIndex: so.LedgerIndex}
		if so.LedgerIndex >= 0 {
			continue
		}
		r, err := n.store.LedgerRecordOf(ctx, so.Seq)
		switch {
		case err == nil:
			out[i].LedgerIndex = r.Index
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("node: the ledger entry of case %s: %w", id, err)
		}
	}
	slices.SortStableFunc(out, func(a, b CaseStep) int { return a.Modified.Compare(b.Modified) })
	return out, nil
}

// caseTypeOf is the workflow name a case id's STIX type names
// ("entente-consultation--…" → "consultation").
func caseTypeOf(id string) string {
	typ, _, _ := strings.Cut(id, "--")
	name, _ := strings.CutPrefix(typ, "entente-")
	return name
}

// OpenCaseAs is OpenCase for the account c, which must hold the right to
// write the cases collection.
func (n *Node) OpenCaseAs(ctx context.Context, c *taxii.Caller, t casework.Type, f casework.Fields, observables []*stix.Object, to string) (casework.Case, error) {
	if err := n.mayWriteCases(ctx, c); err != nil {
		return casework.Case{}, err
	}
	return n.OpenCase(ctx, t, f, observables, to)
}

// StepCaseAs is StepCase for the account c, which must hold the right to
// write the cases collection.
func (n *Node) StepCaseAs(ctx context.Context, c *taxii.Caller, id string, e casework.Event) (casework.Case, error) {
	if err := n.mayWriteCases(ctx, c); err != nil {
		return casework.Case{}, err
	}
	return n.StepCase(ctx, id, e)
}

func (n *Node) mayWriteCases(ctx context.Context, c *taxii.Caller) error {
	if _, err := n.CasesCollection(ctx); err != nil {
		return err
	}
	_, err := n.casesFor(ctx, c, ActionWrite)
	return err
}
