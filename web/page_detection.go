package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entente/entente/match"
	"github.com/entente/entente/node"
	"github.com/entente/entente/taxii"
)

// maxUpload caps a log uploaded for matching. A larger log belongs to
// `entente match`, which streams files of any size from the command line.
const maxUpload = 64 << 20

// uploadSlack is what a multipart body may hold beyond the file: the
// form's other fields and the parts' headers.
const uploadSlack = 1 << 20

// detectionState is what the detection page keeps between requests: one
// slot for a match at a time (each compiles the account's indicators and
// uses every core), and the results of recent matches, which a
// post/redirect/get shows.
type detectionState struct {
	slot    chan struct{}
	mu      sync.Mutex
	results map[string]*matchView // by random id
	order   []string              // oldest first
}

// keptResults bounds the results held; each is small (at most
// maxShownIndicators rows), and they go after keptFor.
const (
	keptResults = 200
	keptFor     = time.Hour
)

func newDetectionState() *detectionState {
	return &detectionState{slot: make(chan struct{}, 1), results: map[string]*matchView{}}
}

func (d *detectionState) keep(v *matchView) string {
	id := randomToken(16)
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.order) >= keptResults {
		delete(d.results, d.order[0])
		d.order = d.order[1:]
	}
	d.results[id] = v
	d.order = append(d.order, id)
	return id
}

func (d *detectionState) get(id, account string, now time.Time) (*matchView, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.results[id]
	if !ok || v.Account != account || now.Sub(v.At) > keptFor {
		return nil, false
	}
	return v, true
}

// routesDetection registers the detection page, the upload of a log to
// match, and the page of its result.
func (s *Server) routesDetection(rt *router) {
	s.detection = newDetectionState()
	rt.page("GET /ui/detection", roleReader, s.detectionPage)
	rt.page("GET /ui/detection/match/{id}", roleAnalyst, s.matchResultPage)
	// The upload's body is capped before anything reads it: the route is
	// registered on a mux of its own, behind limitUpload.
	upload := &router{s: s, mux: http.NewServeMux()}
	upload.page("POST /ui/detection/match", roleAnalyst, s.matchUpload)
	rt.mux.HandleFunc("POST /ui/detection/match", func(w http.ResponseWriter, r *http.Request) {
		s.limitUpload(w, r, upload.mux)
	})
}

// limitUpload caps the upload's body, and refuses one over the cap with
// 413 and a page that says so, before the form is checked; the form
// (CSRF token, role) is then checked as every form is. Only a logged-in
// analyst or admin posting from the console's own origin gets the body
// read here: anyone else is refused by next, which reads at most the cap.
func (s *Server) limitUpload(w http.ResponseWriter, r *http.Request, next http.Handler) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+uploadSlack)
	u, err := s.session(r)
	if err != nil || u.role < roleAnalyst || !sameOrigin(r) {
		next.ServeHTTP(w, r)
		return
	}
	tooLarge := func() {
		s.fail(w, r, u, http.StatusRequestEntityTooLarge, u.T("The file is larger than %d MiB, the most the console accepts. Match it with entente match on the command line, or split it.", maxUpload>>20))
	}
	if r.ContentLength > maxUpload+uploadSlack {
		tooLarge()
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// Up to 1 MiB stays in memory; the rest of the file goes to a
		// temporary file, which the server removes after the request.
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				tooLarge()
				return
			}
			s.fail(w, r, u, http.StatusBadRequest, u.T("The upload could not be read: %v", err))
			return
		}
	}
	next.ServeHTTP(w, r)
}

// The windows the page offers: the last day by hour, the last 30 days by
// day.
type detectionWindow struct {
	Key    string
	Label  string // catalog key
	Span   time.Duration
	Bucket time.Duration
}

var detectionWindows = []detectionWindow{
	{"24h", "Last 24 hours, by hour", 24 * time.Hour, time.Hour},
	{"30d", "Last 30 days, by day", 30 * 24 * time.Hour, 24 * time.Hour},
}

type detectionData struct {
	Window     detectionWindow
	Windows    []detectionWindow
	Report     node.SightingsReport
	Chart      chart
	Buckets    []bucketRow
	Since      time.Time
	SinceLabel string
	Next       string // the next page's query, "" when the scan was not capped
	Continued  bool   // this page continues a capped scan
	Writable   []collectionOption
	MaxUpload  int
	MaxScan    int
	Formats    []string
}

type bucketRow struct {
	Label     string
	Start     time.Time
	Sightings int
	Count     int64
}

type collectionOption struct {
	Value, Label string
}

// chart is an SVG bar chart, laid out here so that the template writes
// only numbers (the CSP forbids inline style; SVG attributes are not).
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int64
	FirstLabel    string
	LastLabel     string
	Summary       string
}

type bar struct {
	X, Y, W, H int
	Title      string
}

func (s *Server) detectionPage(w http.ResponseWriter, r *http.Request, u *Session) {
	q := r.URL.Query()
	win := detectionWindows[0]
	for _, dw := range detectionWindows {
		if dw.Key == q.Get("window") {
			win = dw
		}
	}
	now := s.now().UTC()
	// The last bar is the current hour (or day), so far.
	sq := node.SightingsQuery{Since: now.Truncate(win.Bucket).Add(win.Bucket - win.Span), Until: now, Bucket: win.Bucket}
	if c := q.Get("c"); c != "" {
		after, err := strconv.ParseInt(q.Get("after"), 10, 64)
		if err != nil || after < 0 {
			s.badCursor(w, r, u)
			return
		}
		sq.Cursor = node.SightingsCursor{Collection: c, After: after}
	}
	rep, err := s.node.Sightings(r.Context(), u.Caller, sq)
	if errors.Is(err, taxii.ErrBadRequest) {
		s.badCursor(w, r, u)
		return
	}
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	d := detectionData{Window: win, Windows: detectionWindows, Report: rep, Since: sq.Since, SinceLabel: sq.Since.UTC().Format("2006-01-02 15:04") + " UTC", Continued: sq.Cursor.Collection != "",
		MaxUpload: maxUpload >> 20, MaxScan: node.DefaultSightingsScan, Formats: []string{"eve", "zeek"}}
	if rep.Capped {
		d.Next = "?" + url.Values{"window": {win.Key}, "c": {rep.Next.Collection}, "after": {strconv.FormatInt(rep.Next.After, 10)}}.Encode()
	}
	for _, b := range rep.Buckets {
		d.Buckets = append(d.Buckets, bucketRow{Label: bucketLabel(b.Start, win.Bucket), Start: b.Start, Sightings: b.Sightings, Count: b.Count})
	}
	d.Chart = s.barChart(u, d.Buckets)
	if u.IsAnalyst() {
		cols, err := s.node.VisibleCollections(r.Context(), u.Caller)
		if err != nil {
			s.internal(w, r, u, err)
			return
		}
		d.Writable = writableOptions(cols)
	}
	s.render(w, r, u, "detection.html", d)
}

func writableOptions(cols []node.ConsoleCollection) []collectionOption {
	var out []collectionOption
	for _, c := range cols {
		if c.Write {
			out = append(out, collectionOption{Value: c.APIRoot + "/" + c.ID, Label: c.Name()})
		}
	}
	return out
}

func bucketLabel(t time.Time, width time.Duration) string {
	if width >= 24*time.Hour {
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}

// barChart lays the buckets out as bars of times seen.
func (s *Server) barChart(u *Session, rows []bucketRow) chart {
	c := chart{Width: 720, Height: 160}
	for _, r := range rows {
		c.Max = max(c.Max, r.Count)
	}
	if len(rows) == 0 {
		return c
	}
	slot := c.Width / len(rows)
	for i, r := range rows {
		h := 0
		if c.Max > 0 {
			h = int(int64(c.Height-4) * r.Count / c.Max)
		}
		if r.Count > 0 && h < 2 {
			h = 2 // a bar that counts is never invisible
		}
		c.Bars = append(c.Bars, bar{X: i*slot + 1, Y: c.Height - h, W: max(slot-2, 1), H: h,
			Title: u.T("%s: seen %d times in %d sightings", r.Label, r.Count, r.Sightings)})
	}
	c.FirstLabel, c.LastLabel = rows[0].Label, rows[len(rows)-1].Label
	c.Summary = u.T("Bar chart of times seen from %s to %s, at most %d in one bar; the table below gives the same numbers.", c.FirstLabel, c.LastLabel, c.Max)
	return c
}

// matchView is the result page of one match, kept for the account that
// ran it.
type matchView struct {
	Account    string
	At         time.Time
	AtLabel    string
	File       string
	Size       string // in MiB
	Format     string
	Collection string
	Result     node.MatchResult
	Drafts     []draftView
	DraftError string
	// Shown is PerIndicator cut to maxShownIndicators; Hidden the rest.
	Shown  []node.IndicatorHits
	Hidden int
}

type draftView struct {
	To, Notification, Assistance, Consultation string
	Hits                                       int
}

const maxShownIndicators = 200

// matchUpload matches an uploaded log against the indicators the account
// may read, records the sightings, and sends the browser to the result's
// page (post/redirect/get): reloading the result then shows it again
// rather than matching the log a second time, which would record its
// sightings twice.
func (s *Server) matchUpload(w http.ResponseWriter, r *http.Request, u *Session) {
	f, hdr, err := r.FormFile("log")
	if err != nil {
		s.fail(w, r, u, http.StatusBadRequest, u.T("Choose a log file to upload."))
		return
	}
	defer f.Close()
	if hdr.Size > maxUpload {
		s.fail(w, r, u, http.StatusRequestEntityTooLarge, u.T("The file is larger than %d MiB, the most the console accepts. Match it with entente match on the command line, or split it.", maxUpload>>20))
		return
	}
	format := r.PostFormValue("format")
	switch format {
	case "auto":
		format = ""
	case "", "eve", "zeek":
	default:
		s.fail(w, r, u, http.StatusBadRequest, u.T("Choose the log's format: EVE, Zeek, or detect it."))
		return
	}
	root, col, ok := strings.Cut(r.PostFormValue("collection"), "/")
	if !ok || root == "" || col == "" {
		s.fail(w, r, u, http.StatusBadRequest, u.T("Choose the collection the sightings go to."))
		return
	}
	name := path.Base(strings.ReplaceAll(hdr.Filename, "\\", "/"))
	if name == "." || name == "/" {
		name = "upload"
	}
	select {
	case s.detection.slot <- struct{}{}:
		defer func() { <-s.detection.slot }()
	case <-r.Context().Done():
		return
	}
	res, err := s.node.MatchLog(r.Context(), u.Caller, node.MatchInput{Root: root, Collection: col, Format: format, Name: name, Log: f})
	var unreadable *match.UnreadableError
	switch {
	case errors.Is(err, node.ErrUnknownFormat):
		s.fail(w, r, u, http.StatusBadRequest, u.T("The log's format cannot be told from its first line. Choose EVE or Zeek in the form."))
		return
	case errors.Is(err, node.ErrNoIndicators):
		s.fail(w, r, u, http.StatusConflict, u.T("There is nothing to match: your account may read no indicator with a STIX pattern."))
		return
	case errors.As(err, &unreadable):
		s.fail(w, r, u, http.StatusBadRequest, u.T("No line of the log could be read as %s: it looks like %s.", res.Format, unreadable.Looks))
		return
	case errors.Is(err, taxii.ErrBadRequest):
		s.fail(w, r, u, http.StatusBadRequest, u.T("The log could not be read: %v", err))
		return
	case err != nil:
		s.internal(w, r, u, err)
		return
	}
	v := &matchView{Account: u.Account(), At: s.now(), AtLabel: s.now().UTC().Format("2006-01-02 15:04:05") + " UTC", File: name, Size: fmt.Sprintf("%.1f", float64(hdr.Size)/(1<<20)), Format: res.Format,
		Collection: cmp.Or(res.Collection.Title, res.Collection.Alias, res.Collection.ID), Result: res}
	v.Shown = res.PerIndicator
	if len(v.Shown) > maxShownIndicators {
		v.Hidden = len(v.Shown) - maxShownIndicators
		v.Shown = v.Shown[:maxShownIndicators]
	}
	v.Result.PerIndicator = nil
	for _, d := range res.Drafts {
		v.Drafts = append(v.Drafts, draftView{To: d.To, Notification: d.Notification.ID, Assistance: d.Assistance.ID, Consultation: d.Consultation.ID, Hits: len(d.Hits)})
	}
	v.Result.Drafts = nil
	if res.DraftError != nil {
		s.log.ErrorContext(r.Context(), "console: drafting cases from a match", "error", res.DraftError)
		v.DraftError = u.T("Drafting the treaty cases these hits call for failed; the error is in the node's log.")
	}
	s.log.InfoContext(r.Context(), "console match", "account", u.Account(), "file", name, "lines", res.Stats.Lines, "hits", res.Stats.Hits, "sightings", res.Recorded)
	http.Redirect(w, r, Prefix+"detection/match/"+s.detection.keep(v), http.StatusSeeOther)
}

// matchResultPage shows a match's result to the account that ran it.
func (s *Server) matchResultPage(w http.ResponseWriter, r *http.Request, u *Session) {
	v, ok := s.detection.get(r.PathValue("id"), u.Account(), s.now())
	if !ok {
		s.fail(w, r, u, http.StatusNotFound, u.T("This match result is gone: results are kept for an hour. The sightings it recorded are on the detection page."))
		return
	}
	s.render(w, r, u, "detection_match.html", v)
}
