package match

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/entente/entente/stix"
)

// PipelineConfig configures a [Pipeline].
type PipelineConfig struct {
	// Format reads the logs. A Format that is also an [InputFormat] first
	// reads what each input says of itself (a header, its name).
	Format Format
	// Matcher holds the indicators; a reload swaps them mid-stream.
	Matcher *Matcher
	// Workers is the number of parsing goroutines; 0 means GOMAXPROCS.
	Workers int
	// Location is the zone of timestamps written without an offset; nil
	// means UTC.
	Location *time.Location
	// Sightings says how hits become sightings.
	Sightings SightingConfig
	// Incremental hands sightings to Sink as soon as their window
	// (Sightings.Window) has closed in log time, rather than all at the
	// end. It needs a window; without one every sighting waits for Finish.
	Incremental bool
	// Sink receives the sightings, each with its observed-data and the
	// observed objects. An error stops the pipeline.
	Sink func(ctx context.Context, objs []*stix.Object) error
	// OnBadLine, if set, is told of each line a reader could not parse.
	OnBadLine func(*BadLine)
	// OnProgress, if set, is called as the logs advance with the totals
	// of every input so far.
	OnProgress func(Stats)
}

// A Pipeline runs logs through a Matcher and turns the hits into STIX
// sightings: readers, then the compiled engine and the window of
// multi-observation patterns, then an [Aggregator]. Feed it each input
// with Run, in order, and end with Finish. Its hooks are called from the
// goroutine that calls Run. A Pipeline is not safe for concurrent use.
type Pipeline struct {
	cfg    PipelineConfig
	window *Window
	agg    *Aggregator
	total  Stats
	latest time.Time // latest hit time: log time, which closes windows
}

// NewPipeline returns a pipeline that cfg describes.
func NewPipeline(cfg PipelineConfig) *Pipeline {
	return &Pipeline{cfg: cfg, window: NewWindow(), agg: NewAggregator(cfg.Sightings)}
}

// An InputFormat is a Format that needs to see each input before its
// lines: [Zeek] reads the header of its tab-separated logs, and the log
// type a file's name gives.
type InputFormat interface {
	Format
	// ForInput returns the Format for the input of the given name, whose
	// start r holds; it may consume a header from r.
	ForInput(name string, r *bufio.Reader) (Format, error)
}

// An UnreadableError reports an input of which no line could be read, and
// what the input looks like instead.
type UnreadableError struct {
	Source string
	Lines  int64
	Looks  string // "a JSON array, not one JSON value per line", ...
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("%s: none of its %d lines could be read; it looks like %s", e.Source, e.Lines, e.Looks)
}

// Run reads one input to its end, decompressing it if it is gzip. It
// returns what it saw of this input. Malformed lines do not stop it, but
// an input of which no line could be read is an [UnreadableError].
func (p *Pipeline) Run(ctx context.Context, source string, r io.Reader) (Stats, error) {
	size := 1 << 20
	if l, ok := r.(interface{ Len() int }); ok {
		// An input in memory (a batch from Redis) needs no larger buffer.
		size = min(size, max(l.Len()+1, 4096))
	}
	br := bufio.NewReaderSize(r, size)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w", source, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	format := p.cfg.Format
	if f, ok := format.(InputFormat); ok {
		var err error
		if format, err = f.ForInput(source, br); err != nil {
			return Stats{}, fmt.Errorf("%s: %w", source, err)
		}
	}
	// Sample only what has arrived: a live stream must not wait for more.
	br.Peek(1)
	sample, _ := br.Peek(min(sampleSize, br.Buffered()))
	sample = append([]byte(nil), sample...)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sinkErr error
	base := p.total
	s := &Stream{
		Format:    format,
		Matcher:   p.cfg.Matcher,
		Window:    p.window,
		Workers:   p.cfg.Workers,
		Location:  p.cfg.Location,
		OnBadLine: p.cfg.OnBadLine,
		OnHit: func(h Hit) {
			p.agg.Add(h)
			if h.Time.After(p.latest) {
				p.latest = h.Time
			}
		},
		OnProgress: func(st Stats) {
			if p.cfg.OnProgress != nil {
				p.cfg.OnProgress(base.add(st))
			}
			if p.cfg.Incremental && p.cfg.Sightings.Window > 0 && sinkErr == nil {
				if sinkErr = p.flush(ctx, p.latest.Add(-p.cfg.Sightings.Window)); sinkErr != nil {
					cancel()
				}
			}
		},
	}
	st, err := s.Run(ctx, source, br)
	p.total = base.add(st)
	switch {
	case sinkErr != nil:
		return st, sinkErr
	case err != nil:
		return st, fmt.Errorf("%s: %w", source, err)
	case st.Lines > 0 && st.BadLines == st.Lines:
		return st, &UnreadableError{Source: source, Lines: st.Lines, Looks: looksLike(sample)}
	}
	return st, nil
}

// Finish hands every remaining sighting to Sink and returns the totals of
// all inputs.
func (p *Pipeline) Finish(ctx context.Context) (Stats, error) {
	return p.total, p.flush(ctx, time.Time{})
}

// flush hands the sightings whose window closed before t to Sink; the
// zero t hands them all.
func (p *Pipeline) flush(ctx context.Context, t time.Time) error {
	objs, err := p.agg.Flush(t)
	if err != nil || len(objs) == 0 || p.cfg.Sink == nil {
		return err
	}
	return p.cfg.Sink(ctx, objs)
}

func (a Stats) add(b Stats) Stats {
	return Stats{Bytes: a.Bytes + b.Bytes, Lines: a.Lines + b.Lines, BadLines: a.BadLines + b.BadLines, Hits: a.Hits + b.Hits}
}

// sampleSize is how much of an input looksLike sees.
const sampleSize = 4096

// looksLike says what the start of an unreadable input looks like, and how
// to make it readable, for the error that reports it.
func looksLike(sample []byte) string {
	sample = bytes.TrimPrefix(sample, []byte("\xef\xbb\xbf"))
	first, _, _ := bytes.Cut(sample, []byte("\n"))
	first = bytes.TrimSpace(first)
	switch {
	case isBinary(sample):
		return "binary data, not text lines (a pcap or a compressed format other than gzip?)"
	case bytes.HasPrefix(first, []byte("#separator")) || bytes.HasPrefix(first, []byte("#fields")):
		return "a Zeek log in Zeek's tab-separated format, which the zeek format reads"
	case bytes.HasPrefix(first, []byte("[")):
		return "a JSON array, not one JSON value per line; write one object per line (jq -c '.[]' does)"
	case bytes.HasPrefix(first, []byte("{")) && !bytes.HasSuffix(first, []byte("}")):
		return "JSON written over several lines; write one object per line (jq -c . does)"
	case bytes.HasPrefix(first, []byte("{")):
		return "JSON lines, but not ones this format reads"
	case bytes.IndexByte(first, '\t') >= 0:
		return "tab-separated text, not JSON lines"
	case bytes.IndexByte(first, ',') >= 0:
		return "comma-separated or other text, not JSON lines"
	}
	return "text that is not JSON lines"
}

// isBinary reports whether b holds a NUL byte or is not UTF-8, allowing
// for a character cut at its end.
func isBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			return len(b) >= utf8.UTFMax
		}
		b = b[n:]
	}
	return false
}
