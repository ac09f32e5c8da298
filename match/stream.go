package match

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A Matcher holds the current index. Reload swaps it atomically: batches
// already being scanned finish on the old index, the next ones use the new,
// and the stream never pauses.
type Matcher struct {
	ix atomic.Pointer[Index]
}

// NewMatcher returns a Matcher over ix.
func NewMatcher(ix *Index) *Matcher {
	m := new(Matcher)
	m.ix.Store(ix)
	return m
}

// Index returns the current index.
func (m *Matcher) Index() *Index { return m.ix.Load() }

// Reload makes ix the current index.
func (m *Matcher) Reload(ix *Index) { m.ix.Store(ix) }

// A BadLine is a line a reader could not parse.
type BadLine struct {
	Source string
	Line   int64
	Err    error
}

// Error reports the line as source:line: error.
func (b *BadLine) Error() string {
	return fmt.Sprintf("%s:%d: %v", b.Source, b.Line, b.Err)
}

// Unwrap returns the parse error.
func (b *BadLine) Unwrap() error { return b.Err }

// Stats counts what a Stream has seen.
type Stats struct {
	Bytes    int64
	Lines    int64 // non-empty lines, but for headers and comments of formats that have them
	BadLines int64
	Hits     int64
}

// Stream runs log lines through a format and a matcher, on several cores.
// Hits and bad lines are reported from one goroutine, in input order,
// which is also where multi-observation patterns are decided.
type Stream struct {
	Format  Format
	Matcher *Matcher // nil parses without matching, the baseline of benchmarks
	Window  *Window  // nil ignores multi-observation patterns
	Workers int      // 0 means GOMAXPROCS
	// MaxLine bounds the memory a line may take; longer lines are reported
	// as bad and skipped. 0 means 1 MiB.
	MaxLine int
	Now     func() time.Time // the time of records without one; nil means time.Now
	// Location is the zone of timestamps written without an offset
	// ("2025-11-28T21:49:11.017869"); nil means UTC.
	Location *time.Location

	OnHit      func(Hit)
	OnBadLine  func(*BadLine)
	OnProgress func(Stats) // called after every batch
}

// ErrLineTooLong is the error of a BadLine longer than Stream.MaxLine.
var ErrLineTooLong = errors.New("line too long; raise the line limit or fix the log")

const batchSize = 256 << 10

type batch struct {
	seq   int64
	data  []byte
	first int64 // line number of the first line in data
	long  []int64
	lines int64 // line count of the batch, for numbering the next one
}

type windowOffer struct {
	ix  *Index
	n   uint32
	rec *Record
}

type batchResult struct {
	seq    int64
	stats  Stats
	hits   []Hit
	offers []windowOffer
	bad    []*BadLine
	buf    *[]byte
}

// Run reads r to the end (or until ctx is done) and returns what it saw.
// Malformed lines never stop it; read errors do.
func (s *Stream) Run(ctx context.Context, source string, r io.Reader) (Stats, error) {
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	maxLine := s.MaxLine
	if maxLine <= 0 {
		maxLine = 1 << 20
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pool := batchPool(batchSize + maxLine)
	batches := make(chan *batch, workers)
	results := make(chan *batchResult, workers*2)
	// inflight bounds the batches between reading and delivery, so that
	// one slow batch cannot make the others pile up in memory.
	inflight := make(chan struct{}, workers*4)
	var readErr error
	go func() {
		defer close(batches)
		readErr = s.read(ctx, r, maxLine, pool, inflight, batches)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { s.work(ctx, source, maxLine, batches, results, now) })
	}
	go func() { wg.Wait(); close(results) }()

	// Put results back in input order.
	var total Stats
	pending := make(map[int64]*batchResult)
	next := int64(0)
	var winErr error
	for res := range results {
		pending[res.seq] = res
		for {
			res, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := s.deliver(res, &total, now); err != nil && winErr == nil {
				winErr = err
			}
			pool.Put(res.buf)
			<-inflight
			if s.OnProgress != nil {
				s.OnProgress(total)
			}
		}
	}
	if readErr == nil {
		readErr = winErr
	}
	if readErr == nil {
		readErr = ctx.Err()
	}
	return total, readErr
}

func (s *Stream) deliver(res *batchResult, total *Stats, now func() time.Time) error {
	total.Bytes += res.stats.Bytes
	total.Lines += res.stats.Lines
	total.BadLines += res.stats.BadLines
	for _, b := range res.bad {
		if s.OnBadLine != nil {
			s.OnBadLine(b)
		}
	}
	for _, h := range res.hits {
		total.Hits++
		if s.OnHit != nil {
			s.OnHit(h)
		}
	}
	var err error
	for _, o := range res.offers {
		e := s.Window.Offer(o.ix, o.n, o.rec, now(), func(h Hit) {
			total.Hits++
			if s.OnHit != nil {
				s.OnHit(h)
			}
		})
		if e != nil && err == nil {
			err = e
		}
	}
	return err
}

// read cuts r into batches of whole lines. A line longer than maxLine is
// dropped on the way, keeping memory bounded, and reported by number.
func (s *Stream) read(ctx context.Context, r io.Reader, maxLine int, pool *sync.Pool, inflight chan struct{}, out chan<- *batch) error {
	var (
		seq     int64
		line    int64  = 1
		carry   []byte // the unfinished last line of the previous read
		skip    bool   // inside an over-long line
		longAt  []int64
		readBuf = make([]byte, batchSize)
	)
	emit := func(data []byte, lines int64) bool {
		select {
		case inflight <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		bp := pool.Get().(*[]byte)
		b := &batch{seq: seq, data: append((*bp)[:0], data...), first: line, long: longAt, lines: lines}
		*bp = b.data
		seq++
		line += lines
		longAt = nil
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		n, err := r.Read(readBuf)
		chunk := readBuf[:n]
		for len(chunk) > 0 {
			if skip {
				i := bytes.IndexByte(chunk, '\n')
				if i < 0 {
					chunk = nil
					break
				}
				chunk = chunk[i+1:]
				skip = false
				longAt = append(longAt, line)
				line++ // the over-long line counts, though it is not in a batch
				continue
			}
			last := bytes.LastIndexByte(chunk, '\n')
			if last < 0 {
				if len(carry)+len(chunk) > maxLine {
					carry, skip = carry[:0], true
					chunk = nil
					break
				}
				carry = append(carry, chunk...)
				chunk = nil
				break
			}
			data := chunk[:last+1]
			if len(carry) > 0 {
				i := bytes.IndexByte(chunk, '\n')
				if len(carry)+i > maxLine {
					// The carried line ends here but is too long.
					carry = carry[:0]
					longAt = append(longAt, line)
					line++
					data = chunk[i+1 : last+1]
				} else {
					carry = append(carry, data...)
					data = carry
				}
			}
			if len(data) > 0 && !emit(data, int64(bytes.Count(data, []byte{'\n'}))) {
				return ctx.Err()
			}
			carry = append(carry[:0], chunk[last+1:]...)
			chunk = nil
		}
		if err == io.EOF {
			if skip {
				longAt = append(longAt, line)
			}
			if len(carry) > 0 || len(longAt) > 0 {
				lines := int64(0)
				if len(carry) > 0 {
					carry = append(carry, '\n')
					lines = 1
				}
				if !emit(carry, lines) {
					return ctx.Err()
				}
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading line %d: %w", line, err)
		}
	}
}

func (s *Stream) work(ctx context.Context, source string, maxLine int, in <-chan *batch, out chan<- *batchResult, now func() time.Time) {
	var (
		rec Record
		sc  *Scanner
	)
	for b := range in {
		res := &batchResult{seq: b.seq, buf: &b.data}
		for _, n := range b.long {
			res.bad = append(res.bad, &BadLine{Source: source, Line: n, Err: ErrLineTooLong})
			res.stats.BadLines++
			res.stats.Lines++
		}
		var ix *Index
		if s.Matcher != nil {
			ix = s.Matcher.Index()
			if sc == nil || sc.Index() != ix {
				sc = NewScanner(ix)
			}
		}
		t := now()
		data, lineNo := b.data, b.first
		res.stats.Bytes = int64(len(data))
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			line := data[:i]
			data = data[i+1:]
			n := lineNo
			lineNo++
			line = bytes.TrimRight(line, "\r")
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			res.stats.Lines++
			if len(line) > maxLine {
				// Lines that fit in one read are not cut by read; hold them
				// to the same limit as those that span reads.
				res.stats.BadLines++
				res.bad = append(res.bad, &BadLine{Source: source, Line: n, Err: ErrLineTooLong})
				continue
			}
			rec.reset()
			rec.Line = n
			if err := s.Format.Parse(line, &rec); err != nil {
				if err == errNotRecord {
					res.stats.Lines--
					continue
				}
				res.stats.BadLines++
				res.bad = append(res.bad, &BadLine{Source: source, Line: n, Err: err})
				continue
			}
			if rec.zoneless && s.Location != nil && s.Location != time.UTC {
				rec.Time = inZone(rec.Time, s.Location)
			}
			if sc == nil {
				continue
			}
			window := sc.Scan(&rec, t, func(h Hit) {
				h.Records = []*Record{rec.Clone()}
				res.hits = append(res.hits, h)
			})
			if s.Window != nil && len(window) > 0 {
				c := rec.Clone()
				for _, n := range window {
					res.offers = append(res.offers, windowOffer{ix: ix, n: n, rec: c})
				}
			}
		}
		select {
		case out <- res:
		case <-ctx.Done():
			return
		}
	}
}

// batchPools holds the batch buffers of each size, shared by the runs of
// every Stream: a caller that runs many small inputs (batches from Redis)
// reuses them instead of clearing megabytes for each.
var batchPools sync.Map // int → *sync.Pool

func batchPool(size int) *sync.Pool {
	if p, ok := batchPools.Load(size); ok {
		return p.(*sync.Pool)
	}
	p, _ := batchPools.LoadOrStore(size, &sync.Pool{New: func() any { b := make([]byte, 0, size); return &b }})
	return p.(*sync.Pool)
}
