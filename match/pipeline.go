package match

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"time"

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

// Run reads one input to its end, decompressing it if it is gzip. It
// returns what it saw of this input. Malformed lines do not stop it.
func (p *Pipeline) Run(ctx context.Context, source string, r io.Reader) (Stats, error) {
	br := bufio.NewReaderSize(r, 1<<20)
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
