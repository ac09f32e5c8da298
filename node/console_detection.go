package node

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/entente/entente/match"
	"github.com/entente/entente/stix"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// ConsoleCollection is a collection as the console offers it to an
// account: where it is, and what the account may do with it.
type ConsoleCollection struct {
	store.Collection
	Read, Write bool
}

// Name is how the console names the collection: its title, else its
// alias, else its id.
func (c ConsoleCollection) Name() string {
	return cmp.Or(c.Title, c.Alias, c.ID)
}

// VisibleCollections lists, in every API root, the collections c may see
// (node.Can with ActionSee), with what c may do with each.
func (n *Node) VisibleCollections(ctx context.Context, c *taxii.Caller) ([]ConsoleCollection, error) {
	p, err := n.consolePrincipal(ctx, c)
	if err != nil {
		return nil, err
	}
	roots, err := n.store.APIRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: reading API roots: %v", taxii.ErrUnavailable, err)
	}
	var out []ConsoleCollection
	for _, r := range roots {
		cols, err := n.store.Collections(ctx, r.Path)
		if err != nil {
			return nil, fmt.Errorf("%w: listing the collections of %q: %v", taxii.ErrUnavailable, r.Path, err)
		}
		for _, col := range cols {
			if Can(p, col.ID, ActionSee) {
				out = append(out, ConsoleCollection{Collection: col, Read: Can(p, col.ID, ActionRead), Write: Can(p, col.ID, ActionWrite)})
			}
		}
	}
	return out, nil
}

// SightingsQuery selects the sightings the console counts.
type SightingsQuery struct {
	// Since and Until bound the chart; the sightings read are those stored
	// since Since (a sighting stored before it was last seen before it).
	Since, Until time.Time
	// Bucket is the chart's bar width: an hour or a day.
	Bucket time.Duration
	// Cursor continues a scan that a previous page stopped at its cap.
	Cursor SightingsCursor
	// MaxScan caps the sighting versions read; zero means
	// DefaultSightingsScan.
	MaxScan int
	// MaxIndicators caps the indicators listed, the most sighted first;
	// zero means 100.
	MaxIndicators int
}

// DefaultSightingsScan is the number of sighting versions one console
// page reads at most.
const DefaultSightingsScan = 1000

// SightingsCursor is where a capped scan stopped: the collection it was
// reading and the last sequence number read there. The zero value starts
// at the first readable collection.
type SightingsCursor struct {
	Collection string
	After      int64
}

// IndicatorSightings is what the sightings read say about one indicator.
type IndicatorSightings struct {
	Indicator string // the indicator's id
	// Name and Pattern are the indicator's, when the caller may read a
	// collection that holds it.
	Name, Pattern string
	Sightings     int   // sighting objects
	Count         int64 // the sum of their counts: the times it was seen
	First, Last   time.Time
}

// SightingsBucket is one bar of the chart: the sightings first seen in
// [Start, Start+Bucket), and the times they count.
type SightingsBucket struct {
	Start     time.Time
	Sightings int
	Count     int64
}

// SightingsReport is what Sightings found.
type SightingsReport struct {
	ByIndicator []IndicatorSightings // most seen first
	// MoreIndicators is the number of indicators left out of ByIndicator.
	MoreIndicators int
	Buckets        []SightingsBucket // oldest first, every bucket of the window
	// Outside counts the sightings read that were first seen outside the
	// chart's window (an old log matched recently).
	Outside int
	// Scanned is the number of sighting versions read; Capped says the
	// scan stopped at its cap, and Next continues it.
	Scanned int
	Capped  bool
	Next    SightingsCursor
	// Collections is the number of collections read.
	Collections int
}

// Sightings counts the sightings stored since q.Since in the collections
// c may read, by indicator and by time of first sighting. The cost of one
// call is bounded whatever is stored: it reads at most q.MaxScan sighting
// versions, in sequence order, and says where it stopped.
func (n *Node) Sightings(ctx context.Context, c *taxii.Caller, q SightingsQuery) (SightingsReport, error) {
	if q.MaxScan <= 0 {
		q.MaxScan = DefaultSightingsScan
	}
	if q.MaxIndicators <= 0 {
		q.MaxIndicators = 100
	}
	if q.Bucket <= 0 || !q.Until.After(q.Since) {
		return SightingsReport{}, fmt.Errorf("%w: sightings: want a window and a bucket width", taxii.ErrBadRequest)
	}
	cols, err := n.readableWithRights(ctx, c)
	if err != nil {
		return SightingsReport{}, err
	}
	var rep SightingsReport
	start := q.Since.UTC().Truncate(q.Bucket)
	for t := start; t.Before(q.Until); t = t.Add(q.Bucket) {
		rep.Buckets = append(rep.Buckets, SightingsBucket{Start: t})
	}
	byID := map[string]*IndicatorSightings{}
	i := 0
	if q.Cursor.Collection != "" {
		i = slices.IndexFunc(cols, func(col ConsoleCollection) bool { return col.ID == q.Cursor.Collection })
		if i < 0 {
			return SightingsReport{}, fmt.Errorf("%w: the page's cursor names a collection this account may not read; start again from the first page", taxii.ErrBadRequest)
		}
	}
	after := q.Cursor.After
scan:
	for ; i < len(cols); i, after = i+1, 0 {
		rep.Collections++
		for {
			if rep.Scanned >= q.MaxScan {
				rep.Capped, rep.Next = true, SightingsCursor{Collection: cols[i].ID, After: after}
				break scan
			}
			limit := min(500, q.MaxScan-rep.Scanned)
			page, err := n.store.Objects(ctx, store.Query{Collection: cols[i].ID, After: after, AddedAfter: q.Since, Types: []string{"sighting"}, Limit: limit})
			if err != nil {
				return SightingsReport{}, fmt.Errorf("%w: reading the sightings of collection %s: %v", taxii.ErrUnavailable, cols[i].ID, err)
			}
			for _, o := range page.Objects {
				after = o.Seq
				rep.Scanned++
				s, ok := readSighting(o.Raw)
				if !ok {
					continue
				}
				is := byID[s.Of]
				if is == nil {
					is = &IndicatorSightings{Indicator: s.Of, First: s.First, Last: s.Last}
					byID[s.Of] = is
				}
				is.Sightings++
				is.Count += s.Count
				if s.First.Before(is.First) {
					is.First = s.First
				}
				if s.Last.After(is.Last) {
					is.Last = s.Last
				}
				if b := int(s.First.Sub(start) / q.Bucket); !s.First.Before(start) && s.First.Before(q.Until) && b < len(rep.Buckets) {
					rep.Buckets[b].Sightings++
					rep.Buckets[b].Count += s.Count
				} else {
					rep.Outside++
				}
			}
			if !page.More {
				break
			}
		}
	}
	for _, is := range byID {
		rep.ByIndicator = append(rep.ByIndicator, *is)
	}
	slices.SortFunc(rep.ByIndicator, func(a, b IndicatorSightings) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Indicator, b.Indicator))
	})
	if len(rep.ByIndicator) > q.MaxIndicators {
		rep.MoreIndicators = len(rep.ByIndicator) - q.MaxIndicators
		rep.ByIndicator = rep.ByIndicator[:q.MaxIndicators]
	}
	ids := make([]string, len(rep.ByIndicator))
	for i, is := range rep.ByIndicator {
		ids[i] = is.Indicator
	}
	described, err := n.indicatorsByID(ctx, cols, ids)
	if err != nil {
		return SightingsReport{}, err
	}
	for i := range rep.ByIndicator {
		if d, ok := described[rep.ByIndicator[i].Indicator]; ok {
			rep.ByIndicator[i].Name, rep.ByIndicator[i].Pattern = d.name, d.pattern
		}
	}
	return rep, nil
}

// readableWithRights lists the collections c may read, with its rights.
func (n *Node) readableWithRights(ctx context.Context, c *taxii.Caller) ([]ConsoleCollection, error) {
	all, err := n.VisibleCollections(ctx, c)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(col ConsoleCollection) bool { return !col.Read }), nil
}

// sightingFacts are what the console counts of a sighting.
type sightingFacts struct {
	Of          string
	Count       int64
	First, Last time.Time
}

// readSighting reads a stored sighting's reference, count and times. A
// sighting without first_seen counts from its created time; without a
// count, once.
func readSighting(raw []byte) (sightingFacts, bool) {
	var s struct {
		Of        string `json:"sighting_of_ref"`
		Count     *int64 `json:"count"`
		FirstSeen string `json:"first_seen"`
		LastSeen  string `json:"last_seen"`
		Created   string `json:"created"`
	}
	if json.Unmarshal(raw, &s) != nil || s.Of == "" {
		return sightingFacts{}, false
	}
	f := sightingFacts{Of: s.Of, Count: 1}
	if s.Count != nil {
		// STIX 2.1 §5.2 bounds count to 0..999,999,999: a stored value
		// beyond it cannot overflow the sums.
		f.Count = min(max(*s.Count, 0), 999_999_999)
	}
	created, _ := stix.ParseTime(s.Created)
	f.First, f.Last = created, created
	if t, err := stix.ParseTime(s.FirstSeen); err == nil {
		f.First = t
	}
	if t, err := stix.ParseTime(s.LastSeen); err == nil {
		f.Last = t
	} else {
		f.Last = f.First
	}
	return f, true
}

type indicatorText struct{ name, pattern string }

// indicatorsByID reads the name and pattern of the indicators with the
// given ids from cols, the latest version found first.
func (n *Node) indicatorsByID(ctx context.Context, cols []ConsoleCollection, ids []string) (map[string]indicatorText, error) {
	out := map[string]indicatorText{}
	err := n.eachIndicator(ctx, cols, ids, func(o store.Object) bool {
		var ind struct {
			Name    string `json:"name"`
			Pattern string `json:"pattern"`
		}
		if json.Unmarshal(o.Raw, &ind) != nil {
			return false
		}
		out[o.ID] = indicatorText{ind.Name, ind.Pattern}
		return true
	})
	return out, err
}

// eachIndicator reads the indicators with the given ids from cols, 100
// ids at a time, and passes their versions to take, the latest found
// first, until take accepts one version of each id.
func (n *Node) eachIndicator(ctx context.Context, cols []ConsoleCollection, ids []string, take func(store.Object) bool) error {
	taken := map[string]bool{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 100)]
		ids = ids[len(chunk):]
		for _, col := range cols {
			page, err := n.store.Objects(ctx, store.Query{Collection: col.ID, IDs: chunk, Types: []string{"indicator"}, Limit: len(chunk)})
			if err != nil {
				return fmt.Errorf("%w: reading indicators of collection %s: %v", taxii.ErrUnavailable, col.ID, err)
			}
			for _, o := range page.Objects {
				if !taken[o.ID] && take(o) {
					taken[o.ID] = true
				}
			}
		}
	}
	return nil
}

// MatchInput is a log to match against the indicators an account may
// read.
type MatchInput struct {
	// Root and Collection name the collection (its id or alias) the
	// sightings are recorded into; the caller must be allowed to write it.
	Root, Collection string
	// Format is "eve", "zeek", or "" to detect it from the log's start.
	Format string
	// Name is the log's file name: Zeek's reader learns the log type from
	// it, and errors about lines name it.
	Name string
	// Log is the log, plain or gzip-compressed.
	Log io.Reader
	// MaxIndicators caps the indicators compiled; zero means
	// DefaultMatchIndicators.
	MaxIndicators int
	// Workers is the number of parsing goroutines; zero means one per CPU.
	Workers int
}

// DefaultMatchIndicators is the number of indicators MatchLog compiles
// at most.
const DefaultMatchIndicators = 500_000

// IndicatorHits is what one matched indicator found in a log.
type IndicatorHits struct {
	Indicator     string
	Name, Pattern string
	Hits          int64 // the sightings' counts: the lines (or windows) that matched
	Sightings     int
}

// MatchResult is what MatchLog did.
type MatchResult struct {
	Format string
	Stats  match.Stats // lines, bytes, malformed lines and matches
	// Indicators is the number compiled; Unusable the number left out
	// (another pattern_type, a pattern the engine cannot run);
	// IndicatorsCapped says more were readable than MaxIndicators.
	Indicators, Unusable int
	IndicatorsCapped     bool
	// Recorded is the number of sightings stored, Objects the number of
	// objects (sightings, observed-data and observed objects) sent to
	// the collection.
	Recorded, Objects int
	Collection        store.Collection
	PerIndicator      []IndicatorHits // most hits first
	// BadLines are the first malformed lines (up to ten).
	BadLines []string
	// Drafts are the treaty cases opened as drafts for hits on declared
	// critical infrastructure (DraftDetections); DraftError says why
	// drafting failed, when it did.
	Drafts     []Drafts
	DraftError error
}

// ErrNoIndicators means the caller may read no indicator that can be
// matched.
var ErrNoIndicators = errors.New("node: no indicator to match: the account may read none that can be matched")

// ErrUnknownFormat means the log's format was not given and its start
// does not say.
var ErrUnknownFormat = errors.New("node: cannot tell the log's format from its first line; choose eve (Suricata EVE JSON) or zeek")

// MatchLog is the console's `entente match`: it compiles the indicators
// c may read (as the command compiles those it is given), streams the log
// through the engine, and records the sightings in the collection
// in.Collection through AddObjects, as the command posts them to a node;
// then it drafts the treaty cases that hits on this party's declared
// critical infrastructure call for (DraftDetections), when the node runs
// under an agreement.
func (n *Node) MatchLog(ctx context.Context, c *taxii.Caller, in MatchInput) (MatchResult, error) {
	var res MatchResult
	col, err := n.collection(ctx, c, in.Root, in.Collection, ActionWrite)
	if err != nil {
		return res, err
	}
	res.Collection = col
	br := bufio.NewReaderSize(in.Log, 64<<10)
	var log io.Reader = br
	if magic, _ := br.Peek(2); looksGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return res, fmt.Errorf("%w: %s: %v", taxii.ErrBadRequest, in.Name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		log = br
	}
	res.Format = in.Format
	if res.Format == "" {
		sample, _ := br.Peek(4096)
		if res.Format = match.DetectFormat(sample); res.Format == "" {
			return res, ErrUnknownFormat
		}
	}
	format, err := match.FormatNamed(res.Format)
	if err != nil {
		return res, fmt.Errorf("%w: %v", taxii.ErrBadRequest, err)
	}
	cols, err := n.readableWithRights(ctx, c)
	if err != nil {
		return res, err
	}
	if in.MaxIndicators <= 0 {
		in.MaxIndicators = DefaultMatchIndicators
	}
	inds, texts, unusable, capped, err := n.loadIndicators(ctx, cols, in.MaxIndicators)
	if err != nil {
		return res, err
	}
	res.Unusable, res.IndicatorsCapped = unusable, capped
	ix, problems := match.Compile(inds)
	res.Unusable += len(problems)
	if res.Indicators = ix.Len(); res.Indicators == 0 {
		return res, ErrNoIndicators
	}

	hits := map[string]*IndicatorHits{}
	var found []*stix.Object
	sink := func(ctx context.Context, objs []*stix.Object) error {
		const perEnvelope = 500
		for rest := objs; len(rest) > 0; {
			k := min(len(rest), perEnvelope)
			raws := make([]json.RawMessage, k)
			for i, o := range rest[:k] {
				raws[i] = o.Raw
			}
			st, err := n.AddObjects(ctx, c, in.Root, col.ID, raws)
			if err != nil {
				return err
			}
			if st.FailureCount > 0 {
				why := ""
				if len(st.Failures) > 0 {
					why = fmt.Sprintf("; first: %s: %s", st.Failures[0].ID, st.Failures[0].Message)
				}
				return fmt.Errorf("node: recording sightings in collection %s: %d of %d objects refused%s", col.ID, st.FailureCount, k, why)
			}
			res.Objects += k
			rest = rest[k:]
		}
		for _, o := range objs {
			if o.Type != "sighting" {
				continue
			}
			res.Recorded++
			s, ok := readSighting(o.Raw)
			if !ok {
				continue
			}
			h := hits[s.Of]
			if h == nil {
				h = &IndicatorHits{Indicator: s.Of}
				hits[s.Of] = h
			}
			h.Sightings++
			h.Hits += s.Count
		}
		found = append(found, objs...)
		return nil
	}
	p := match.NewPipeline(match.PipelineConfig{
		Format:  format,
		Matcher: match.NewMatcher(ix),
		Workers: in.Workers,
		Sink:    sink,
		OnBadLine: func(b *match.BadLine) {
			if len(res.BadLines) < 10 {
				res.BadLines = append(res.BadLines, b.Error())
			}
		},
	})
	if _, err := p.Run(ctx, in.Name, log); err != nil {
		return res, err
	}
	if res.Stats, err = p.Finish(ctx); err != nil {
		return res, err
	}
	for id, h := range hits {
		t := texts[id]
		h.Name, h.Pattern = t.name, t.pattern
		res.PerIndicator = append(res.PerIndicator, *h)
	}
	slices.SortFunc(res.PerIndicator, func(a, b IndicatorHits) int {
		return cmp.Or(cmp.Compare(b.Hits, a.Hits), cmp.Compare(a.Indicator, b.Indicator))
	})
	if len(found) > 0 {
		if _, _, err := n.caseParty(); err == nil {
			res.Drafts, res.DraftError = n.draftFromMatch(ctx, cols, found, res.PerIndicator)
		}
	}
	return res, nil
}

// loadIndicators reads the latest version of every indicator in cols, at
// most max of them, and returns those that can be matched with their
// name and pattern, and how many cannot.
func (n *Node) loadIndicators(ctx context.Context, cols []ConsoleCollection, max int) (inds []match.Indicator, texts map[string]indicatorText, unusable int, capped bool, err error) {
	texts = map[string]indicatorText{}
	seen := map[string]bool{}
	for _, col := range cols {
		var after int64
		for {
			page, err := n.store.Objects(ctx, store.Query{Collection: col.ID, After: after, Types: []string{"indicator"}, Limit: 1000})
			if err != nil {
				return nil, nil, 0, false, fmt.Errorf("%w: reading the indicators of collection %s: %v", taxii.ErrUnavailable, col.ID, err)
			}
			for _, so := range page.Objects {
				after = so.Seq
				if seen[so.ID] {
					continue // the same indicator in another collection
				}
				if len(seen) >= max {
					return inds, texts, unusable, true, nil
				}
				seen[so.ID] = true
				o, err := stix.Parse(so.Raw)
				if err != nil {
					unusable++
					continue
				}
				ind, err := match.IndicatorFromObject(o)
				if err != nil {
					unusable++
					continue
				}
				inds = append(inds, ind)
				name, _ := o.Props["name"].(string)
				texts[o.ID] = indicatorText{name, ind.Pattern}
			}
			if !page.More {
				break
			}
		}
	}
	return inds, texts, unusable, false, nil
}

// draftFromMatch hands DraftDetections what a match found, with the
// indicators the sightings are of (read again from cols, as `entente
// match --data` adds those of its indicators file).
func (n *Node) draftFromMatch(ctx context.Context, cols []ConsoleCollection, found []*stix.Object, hits []IndicatorHits) ([]Drafts, error) {
	objs := slices.Clone(found)
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.Indicator
	}
	err := n.eachIndicator(ctx, cols, ids, func(so store.Object) bool {
		o, err := stix.Parse(so.Raw)
		if err != nil {
			return false
		}
		objs = append(objs, o)
		return true
	})
	if err != nil {
		return nil, err
	}
	return n.DraftDetections(ctx, objs)
}

// looksGzip reports whether b starts like a gzip stream.
func looksGzip(b []byte) bool { return bytes.HasPrefix(b, []byte{0x1f, 0x8b}) }
