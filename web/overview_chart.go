package web

import (
	"strconv"
	"time"

	"github.com/entente/entente/node"
)

// The overview's chart of what each partner sent and was disclosed per
// day: an SVG drawn on the server (bars with their numbers in <title>),
// and a table of the same numbers for those who cannot see it.

// activityView is the chart and the table of a node.Activity.
type activityView struct {
	Parties []partyKey
	Charts  []chartView
	Rows    []activityRow
	// Incomplete says the count stopped at its budget: some days show
	// lower bounds.
	Incomplete bool
	Budget     int
}

type partyKey struct {
	ID    string
	Class string // the bars' class: p0, p1, …
}

type activityRow struct {
	Day     string // 2026-11-29
	Counted bool
	Cells   []activityCell
}

type activityCell struct {
	Party, Dir, Day string
	N               int64
}

type chartView struct {
	ID, Title, Desc string
	Dir             string // received or disclosed
	Width, Height   int
	PlotTop         int // y of the top of the plot area
	PlotBottom      int // y of the axis
	PlotLeft        int
	Bars            []chartBar
	Ticks           []chartTick
	Labels          []chartLabel
}

type chartBar struct {
	X, Y, W, H      int
	Class           string
	Party, Day, Dir string
	N               int64
	Title           string
}

type chartTick struct {
	Y     int
	Label string
}

type chartLabel struct {
	X     int
	Label string
}

// Chart geometry, in the SVG's user units (it scales to its box).
const (
	chartBarWidth = 9
	chartDayGap   = 10
	chartLeft     = 44
	chartTop      = 10
	chartPlot     = 150
	chartBottom   = 28
	chartRight    = 8
)

func (s *Server) activityView(u *Session, a *node.Activity) activityView {
	v := activityView{Budget: node.ActivityBudget}
	for i, p := range a.Parties {
		v.Parties = append(v.Parties, partyKey{ID: p, Class: "p" + strconv.Itoa(i%6)})
	}
	for i, day := range a.Days {
		row := activityRow{Day: day.Format(time.DateOnly), Counted: a.Counted[i]}
		if !row.Counted {
			v.Incomplete = true
		}
		for _, p := range a.Parties {
			row.Cells = append(row.Cells,
				activityCell{Party: p, Dir: "received", Day: row.Day, N: a.Received[p][i]},
				activityCell{Party: p, Dir: "disclosed", Day: row.Day, N: a.Disclosed[p][i]})
		}
		v.Rows = append(v.Rows, row)
	}
	v.Charts = []chartView{
		s.chart(u, a, "received", a.Received, u.T("Objects received from each partner per day"),
			u.T("Bars per day and partner, over the last %d days. The same numbers are in the table below.", len(a.Days))),
		s.chart(u, a, "disclosed", a.Disclosed, u.T("Objects disclosed to each partner per day"),
			u.T("Bars per day and partner, over the last %d days. The same numbers are in the table below.", len(a.Days))),
	}
	return v
}

func (s *Server) chart(u *Session, a *node.Activity, dir string, counts map[string][]int64, title, desc string) chartView {
	np := max(len(a.Parties), 1)
	group := np*chartBarWidth + chartDayGap
	c := chartView{ID: "chart-" + dir, Title: title, Desc: desc, Dir: dir,
		Width:   chartLeft + len(a.Days)*group + chartRight,
		Height:  chartTop + chartPlot + chartBottom,
		PlotTop: chartTop, PlotBottom: chartTop + chartPlot, PlotLeft: chartLeft}
	var top int64
	for _, p := range a.Parties {
		for _, n := range counts[p] {
			top = max(top, n)
		}
	}
	top = niceCeil(top)
	for _, f := range []int64{0, 1, 2} {
		val := top * f / 2
		c.Ticks = append(c.Ticks, chartTick{Y: c.PlotBottom - int(int64(chartPlot)*val/top), Label: strconv.FormatInt(val, 10)})
	}
	for i, day := range a.Days {
		x0 := chartLeft + i*group + chartDayGap/2
		if i%2 == len(a.Days)%2 || i == len(a.Days)-1 {
			c.Labels = append(c.Labels, chartLabel{X: x0 + np*chartBarWidth/2, Label: day.Format("01-02")})
		}
		for j, p := range a.Parties {
			n := counts[p][i]
			h := int(int64(chartPlot) * n / top)
			if n > 0 && h == 0 {
				h = 1 // a bar for every count above zero
			}
			words := u.T("%s, %s: %d received", p, day.Format(time.DateOnly), n)
			if dir == "disclosed" {
				words = u.T("%s, %s: %d disclosed", p, day.Format(time.DateOnly), n)
			}
			c.Bars = append(c.Bars, chartBar{X: x0 + j*chartBarWidth, Y: c.PlotBottom - h, W: chartBarWidth - 1, H: h,
				Class: "bar p" + strconv.Itoa(j%6), Party: p, Day: day.Format(time.DateOnly), Dir: dir, N: n, Title: words})
		}
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 2, so
// that the middle tick is a whole number).
func niceCeil(n int64) int64 {
	if n <= 2 {
		return 2
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n && (m*p)%2 == 0 {
				return m * p
			}
		}
		if p > 1e17 {
			return n + n%2
		}
	}
}
