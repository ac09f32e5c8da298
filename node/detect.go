package node

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/casework"
	"github.com/entente/entente/stix"
)

// A ProtectedHit is a sighting that touches infrastructure a party
// declared protected, from an address in another party's address space.
type ProtectedHit struct {
	// Protected is the party that declared the infrastructure, Target
	// the address or domain name hit.
	Protected, Target string
	// Source is the party whose declared address space holds Address.
	Source, Address string
	// Sighting is the sighting's id.
	Sighting string
}

// ProtectedHits reads the objects a match.Pipeline hands its sink
// (sightings, their observed-data and the observed objects) and returns
// each sighting whose observed addresses or domain names include one a
// party declared critical infrastructure (declarations:
// critical_infrastructure cidrs and domains) and another address in the
// declared address space of another party. It is pure.
func ProtectedHits(a *agreement.Agreement, objs []*stix.Object) []ProtectedHit {
	byID := make(map[string]*stix.Object, len(objs))
	for _, o := range objs {
		byID[o.ID] = o
	}
	var out []ProtectedHit
	for _, s := range objs {
		if s.Type != "sighting" {
			continue
		}
		// Where the traffic's direction is known (network-traffic src_ref
		// and dst_ref), the target is its destination and the source its
		// source; otherwise any observed address may be either.
		var addrs, domains, srcs, dsts []string
		value := func(id string) string {
			if o, ok := byID[id]; ok {
				v, _ := o.Props["value"].(string)
				return v
			}
			return ""
		}
		for _, od := range strs(s.Props["observed_data_refs"]) {
			o, ok := byID[od]
			if !ok {
				continue
			}
			for _, ref := range strs(o.Props["object_refs"]) {
				sco, ok := byID[ref]
				if !ok {
					continue
				}
				v, _ := sco.Props["value"].(string)
				switch sco.Type {
				case "ipv4-addr", "ipv6-addr":
					addrs = append(addrs, v)
				case "domain-name":
					domains = append(domains, strings.ToLower(strings.TrimSuffix(v, ".")))
				case "network-traffic":
					if src, _ := sco.Props["src_ref"].(string); value(src) != "" {
						srcs = append(srcs, value(src))
					}
					if dst, _ := sco.Props["dst_ref"].(string); value(dst) != "" {
						dsts = append(dsts, value(dst))
					}
				}
			}
		}
		if len(srcs) == 0 && len(dsts) == 0 {
			srcs, dsts = addrs, addrs
		}
		for _, p := range a.Parties {
			target := protectedTarget(p.Declarations.CriticalInfrastructure, dsts, domains)
			if target == "" {
				continue
			}
			for _, q := range a.Parties {
				if q.ID == p.ID {
					continue
				}
				if addr := within(q.Declarations.AddressSpace, srcs); addr != "" {
					out = append(out, ProtectedHit{Protected: p.ID, Target: target, Source: q.ID, Address: addr, Sighting: s.ID})
				}
			}
		}
	}
	return out
}

// protectedTarget returns the first of addrs or domains that ci declares,
// "" if none.
func protectedTarget(ci agreement.Infrastructure, addrs, domains []string) string {
	if a := within(ci.CIDRs, addrs); a != "" {
		return a
	}
	for _, d := range domains {
		for _, pd := range ci.Domains {
			pd = strings.ToLower(strings.TrimSuffix(pd, "."))
			if d == pd || strings.HasSuffix(d, "."+pd) {
				return d
			}
		}
	}
	return ""
}

// within returns the first of addrs inside one of the cidrs, "" if none.
func within(cidrs, addrs []string) string {
	for _, s := range addrs {
		ip, err := netip.ParseAddr(strings.Split(s, "/")[0])
		if err != nil {
			continue
		}
		for _, c := range cidrs {
			if p, err := netip.ParsePrefix(c); err == nil && p.Contains(ip.Unmap()) {
				return s
			}
		}
	}
	return ""
}

// strs reads a list of strings from a decoded property.
func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// DetectionSeverity is the severity of a notification drafted from a hit
// on declared critical infrastructure: the floor casework sets for it.
const DetectionSeverity = "high"

// Drafts are the cases DraftDetections opened for one source party.
type Drafts struct {
	To           string
	Notification casework.Case
	Assistance   casework.Case
	Consultation casework.Case
	Hits         []ProtectedHit
}

// DraftDetections looks at what a detection run found (the objects a
// match.Pipeline's sink receives, and the indicators they are sightings
// of, which go with them) for hits on infrastructure this node's
// party declared protected from another party's address space, and for
// each such party opens, as drafts that only an operator's send releases:
// an incident notification (affects_declared_ci, severity at least high,
// the sightings and their evidence as observables, stored beside it), a
// request for assistance to stop the activity, and an ad hoc
// consultation. Hits on another party's infrastructure are not this
// node's to notify.
func (n *Node) DraftDetections(ctx context.Context, objs []*stix.Object) ([]Drafts, error) {
	a, self, err := n.caseParty()
	if err != nil {
		return nil, err
	}
	bySource := map[string][]ProtectedHit{}
	var order []string
	for _, h := range ProtectedHits(a, objs) {
		if h.Protected != self {
			continue
		}
		if _, ok := bySource[h.Source]; !ok {
			order = append(order, h.Source)
		}
		bySource[h.Source] = append(bySource[h.Source], h)
	}
	var out []Drafts
	now := n.now().UTC()
	for _, src := range order {
		hits := bySource[src]
		evidence, ids := evidenceOf(objs, hits)
		detected := now
		var targets, addrs []string
		for _, h := range hits {
			if !slices.Contains(targets, h.Target) {
				targets = append(targets, h.Target)
			}
			if !slices.Contains(addrs, h.Address) {
				addrs = append(addrs, h.Address)
			}
		}
		p, _ := a.Party(self)
		inc := &casework.Incident{Stage: "early-warning", Category: "intrusion-attempts", Severity: DetectionSeverity,
			Sectors: p.Declarations.CriticalInfrastructure.Sectors, Detected: detected, AffectsDeclaredCI: true, CrossBorder: true,
			Summary: fmt.Sprintf("Detection matched activity against declared critical infrastructure (%s) from addresses in %s's declared address space (%s); %d sightings attached.",
				strings.Join(targets, ", "), src, strings.Join(addrs, ", "), len(hits)),
			RequestedActions: []string{"investigate-source", "mitigate-activity"}, Observables: ids}
		d := Drafts{To: src, Hits: hits}
		if d.Notification, err = n.OpenCase(ctx, casework.TypeIncident, inc, evidence, src); err != nil {
			return out, fmt.Errorf("node: drafting the notification to %s: %w", src, err)
		}
		as := &casework.Assistance{Kind: "mitigate-activity", Purpose: "incident-response", Urgent: true,
			Related:     []string{d.Notification.ID},
			Description: fmt.Sprintf("Please help stop the activity from %s against declared critical infrastructure (%s).", strings.Join(addrs, ", "), strings.Join(targets, ", "))}
		if d.Assistance, err = n.OpenCase(ctx, casework.TypeAssistance, as, nil, src); err != nil {
			return out, fmt.Errorf("node: drafting the assistance request to %s: %w", src, err)
		}
		co := &casework.Consultation{Topic: "Activity against declared critical infrastructure", Level: "technical",
			Proposed: now.Add(72 * time.Hour).Truncate(time.Hour), Venue: "to be agreed", Related: []string{d.Notification.ID}}
		if d.Consultation, err = n.OpenCase(ctx, casework.TypeConsultation, co, nil, src); err != nil {
			return out, fmt.Errorf("node: drafting the consultation with %s: %w", src, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// evidenceOf returns the objects behind hits (each sighting, its
// observed-data and their observed objects) and the ids of the sightings
// and observed-data, the notification's observables.
func evidenceOf(objs []*stix.Object, hits []ProtectedHit) ([]*stix.Object, []string) {
	byID := make(map[string]*stix.Object, len(objs))
	for _, o := range objs {
		byID[o.ID] = o
	}
	seen := map[string]bool{}
	var out []*stix.Object
	var ids []string
	add := func(id string, observable bool) {
		if o, ok := byID[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, o)
			if observable {
				ids = append(ids, id)
			}
		}
	}
	for _, h := range hits {
		s := byID[h.Sighting]
		// What the sighting is of goes first, when the caller gave it:
		// a partner's release sends a sighting only with what it names.
		if of, _ := s.Props["sighting_of_ref"].(string); of != "" {
			add(of, false)
		}
		add(h.Sighting, true)
		for _, od := range strs(s.Props["observed_data_refs"]) {
			add(od, true)
			if o, ok := byID[od]; ok {
				for _, ref := range strs(o.Props["object_refs"]) {
					add(ref, false)
				}
			}
		}
	}
	return out, ids
}
