package match

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/entente/entente/stix"
)

// SightingConfig configures an Aggregator.
type SightingConfig struct {
	// Identity is the id of the agency's identity object, written as
	// where_sighted_refs and created_by_ref. Empty omits both.
	Identity string
	// Window is the aggregation period: hits of one indicator within one
	// period make one sighting. Zero aggregates over the whole run.
	Window time.Duration
	// MaxEvidence caps the observed-data objects kept per sighting; the
	// count covers every hit regardless. Zero means 10.
	MaxEvidence int
	// Now stamps created and modified; nil means time.Now.
	Now func() time.Time
	// NewID returns a fresh UUIDv4 identifier for the given type; nil uses
	// random ones. Tests set it to get stable output.
	NewID func(typ string) string
}

// An Aggregator folds hits into STIX 2.1 sightings (section 5.2), one per
// indicator and window, with the observed-data behind them as evidence.
// It is not safe for concurrent use.
type Aggregator struct {
	cfg  SightingConfig
	open map[aggKey]*aggregate
	seq  int64 // order in which aggregates were opened, for stable output
}

type aggKey struct {
	indicator string
	window    int64
}

type aggregate struct {
	seq         int64
	indicator   string
	first, last time.Time
	count       int64
	evidence    [][]*Record
}

// NewAggregator returns an Aggregator.
func NewAggregator(cfg SightingConfig) *Aggregator {
	if cfg.MaxEvidence <= 0 {
		cfg.MaxEvidence = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = func(typ string) string { return typ + "--" + uuid.NewString() }
	}
	return &Aggregator{cfg: cfg, open: make(map[aggKey]*aggregate)}
}

// Add records a hit. Its records are copied when kept as evidence.
func (a *Aggregator) Add(h Hit) {
	key := aggKey{indicator: h.Indicator}
	if a.cfg.Window > 0 {
		key.window = h.Time.UnixNano() / int64(a.cfg.Window)
	}
	ag := a.open[key]
	if ag == nil {
		ag = &aggregate{seq: a.seq, indicator: h.Indicator, first: h.Time, last: h.Time}
		a.seq++
		a.open[key] = ag
	}
	ag.count++
	for _, r := range h.Records {
		if !r.Time.IsZero() && r.Time.Before(ag.first) {
			ag.first = r.Time
		}
	}
	if h.Time.Before(ag.first) {
		ag.first = h.Time
	}
	if h.Time.After(ag.last) {
		ag.last = h.Time
	}
	if len(ag.evidence) < a.cfg.MaxEvidence {
		recs := make([]*Record, len(h.Records))
		for i, r := range h.Records {
			recs[i] = r.Clone()
		}
		ag.evidence = append(ag.evidence, recs)
	}
}

// Len returns the number of sightings not yet flushed.
func (a *Aggregator) Len() int { return len(a.open) }

// Flush returns the STIX objects of the sightings whose window ended at or
// before t (all of them when t is zero) and forgets them: each sighting
// followed by its observed-data and, once per flush, the SCOs they refer to.
func (a *Aggregator) Flush(t time.Time) ([]*stix.Object, error) {
	var done []*aggregate
	for k, ag := range a.open {
		if !t.IsZero() && a.cfg.Window > 0 && time.Unix(0, (k.window+1)*int64(a.cfg.Window)).After(t) {
			continue
		}
		if !t.IsZero() && a.cfg.Window == 0 {
			continue
		}
		done = append(done, ag)
		delete(a.open, k)
	}
	slices.SortFunc(done, func(x, y *aggregate) int { return int(x.seq - y.seq) })
	now := stix.FormatTime(a.cfg.Now())
	seen := make(map[string]bool)
	var out []*stix.Object
	for _, ag := range done {
		objs, err := a.sighting(ag, now, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func (a *Aggregator) sighting(ag *aggregate, now string, seen map[string]bool) ([]*stix.Object, error) {
	var refs []any
	var evidence, scos []map[string]any
	for _, recs := range ag.evidence {
		for _, rec := range recs {
			objs, err := evidenceObjects(rec)
			if err != nil {
				return nil, err
			}
			var ids []any
			for _, o := range objs {
				id := o["id"].(string)
				if !slices.Contains(ids, any(id)) {
					ids = append(ids, id)
				}
				if !seen[id] {
					seen[id] = true
					o["spec_version"] = "2.1"
					scos = append(scos, o)
				}
			}
			if len(ids) == 0 {
				continue
			}
			t := rec.Time
			if t.IsZero() {
				t = ag.last
			}
			od := map[string]any{
				"type":            "observed-data",
				"spec_version":    "2.1",
				"id":              a.cfg.NewID("observed-data"),
				"created":         now,
				"modified":        now,
				"first_observed":  stix.FormatTime(t),
				"last_observed":   stix.FormatTime(t),
				"number_observed": 1,
				"object_refs":     ids,
			}
			if a.cfg.Identity != "" {
				od["created_by_ref"] = a.cfg.Identity
			}
			refs = append(refs, od["id"])
			evidence = append(evidence, od)
		}
	}
	s := map[string]any{
		"type":            "sighting",
		"spec_version":    "2.1",
		"id":              a.cfg.NewID("sighting"),
		"created":         now,
		"modified":        now,
		"sighting_of_ref": ag.indicator,
		"first_seen":      stix.FormatTime(ag.first),
		"last_seen":       stix.FormatTime(ag.last),
		// STIX caps count at 999,999,999.
		"count": min(ag.count, 999_999_999),
	}
	if len(refs) > 0 {
		s["observed_data_refs"] = refs
	}
	if a.cfg.Identity != "" {
		s["where_sighted_refs"] = []any{a.cfg.Identity}
		s["created_by_ref"] = a.cfg.Identity
	}
	all := append([]map[string]any{s}, evidence...)
	all = append(all, scos...)
	out := make([]*stix.Object, 0, len(all))
	for _, props := range all {
		o, err := stix.New(props)
		if err != nil {
			return nil, fmt.Errorf("match: building sighting of %s: %w", ag.indicator, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// WriteBundle writes objects as one STIX 2.1 bundle.
func WriteBundle(w io.Writer, objs []*stix.Object, newID func(typ string) string) error {
	if newID == nil {
		newID = func(typ string) string { return typ + "--" + uuid.NewString() }
	}
	list := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		list[i] = o.Raw
	}
	b, err := json.MarshalIndent(map[string]any{
		"type":    "bundle",
		"id":      newID("bundle"),
		"objects": list,
	}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteJSONLines writes objects one per line.
func WriteJSONLines(w io.Writer, objs []*stix.Object) error {
	for _, o := range objs {
		if _, err := w.Write(append(append([]byte(nil), o.Raw...), '\n')); err != nil {
			return err
		}
	}
	return nil
}

// evidenceObjects returns a record's objects as a node will validate them.
// Objects describes what the log said, which is what patterns are matched
// against; STIX 2.1 requires a few properties logs do not always give, so
// the evidence fills them in, and leaves out a file known only by its size.
func evidenceObjects(rec *Record) ([]map[string]any, error) {
	objs, err := rec.Objects()
	if err != nil {
		return nil, err
	}
	out := objs[:0]
	for _, o := range objs {
		switch o["type"] {
		case "network-traffic":
			if _, ok := o["protocols"]; !ok {
				// The address family is the least that is known; an HTTP
				// request says more. protocols contributes to the id.
				o["protocols"] = []any{networkProtocol(o, objs)}
				if err := setID(o); err != nil {
					return nil, err
				}
			}
		case "email-message":
			if _, ok := o["is_multipart"]; !ok {
				o["is_multipart"] = false
			}
		case "file":
			_, name := o["name"]
			_, hashes := o["hashes"]
			if !name && !hashes {
				continue
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func networkProtocol(nt map[string]any, objs []map[string]any) string {
	if _, ok := get(nt, []string{"extensions", "http-request-ext"}); ok {
		return "http"
	}
	for _, o := range objs {
		if o["id"] == nt["src_ref"] || o["id"] == nt["dst_ref"] {
			if o["type"] == "ipv6-addr" {
				return "ipv6"
			}
		}
	}
	return "ipv4"
}
