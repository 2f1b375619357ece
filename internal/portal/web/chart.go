package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is one time bucket of a chart: one value per series. A NaN value
// means "no data" (a gap in a line).
type Point struct {
	At     time.Time
	Values []float64
}

// Chart is a time chart rendered as inline SVG (no script, no styles:
// colours come from the stylesheet through class names).
type Chart struct {
	Title string
	Unit  string // shown on the y axis, e.g. "calls" or "ms"
	Stack bool   // stacked bars; otherwise one line per series
	// Integer keeps the y axis on whole numbers (counts).
	Integer bool
	Series  []string // series names, in the order of Point.Values
	Points  []Point
}

// Empty reports whether the chart has no non-zero value.
func (c Chart) Empty() bool {
	for _, p := range c.Points {
		for _, v := range p.Values {
			if v != 0 && !math.IsNaN(v) {
				return false
			}
		}
	}
	return true
}

// Total sums series i over all points.
func (c Chart) Total(i int) float64 {
	t := 0.0
	for _, p := range c.Points {
		if i < len(p.Values) && !math.IsNaN(p.Values[i]) {
			t += p.Values[i]
		}
	}
	return t
}

func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*exp >= v {
			return m * exp
		}
	}
	return 10 * exp
}

// FormatNumber renders v with at most two decimals ("" for NaN).
func FormatNumber(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

func fmtNum(v float64) string { return FormatNumber(v) }

// SVG renders the chart. Its accessible name is the title and a summary.
func (c Chart) SVG() template.HTML {
	const w, h, left, right, top, bottom = 640.0, 230.0, 52.0, 12.0, 24.0, 30.0
	pw, ph := w-left-right, h-top-bottom
	maxV := 0.0
	for _, p := range c.Points {
		sum := 0.0
		for _, v := range p.Values {
			if math.IsNaN(v) {
				continue
			}
			if c.Stack {
				sum += v
			} else {
				maxV = math.Max(maxV, v)
			}
		}
		maxV = math.Max(maxV, sum)
	}
	maxV = niceMax(maxV)
	if c.Integer {
		maxV = math.Max(4, math.Ceil(maxV/4)*4)
	}
	var summary []string
	for i, s := range c.Series {
		summary = append(summary, fmt.Sprintf("%s %s", s, fmtNum(c.Total(i))))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, html.EscapeString(c.Title+": "+strings.Join(summary, ", ")))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(c.Title))
	for i := 0; i <= 4; i++ {
		y := top + ph - ph*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, y, left+pw, y)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, left-6, y+4, fmtNum(maxV*float64(i)/4))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="12" text-anchor="end">%s</text>`, left-6, html.EscapeString(c.Unit))
	n := len(c.Points)
	if n > 0 {
		slot := pw / float64(n)
		step := int(math.Ceil(float64(n) / 6))
		for i, p := range c.Points {
			x := left + slot*float64(i)
			if i%step == 0 {
				fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x+slot/2, h-10, p.At.UTC().Format("15:04"))
			}
		}
		if c.Stack {
			for i, p := range c.Points {
				x := left + slot*float64(i) + slot*0.15
				base := 0.0
				for si, v := range p.Values {
					if v <= 0 {
						continue
					}
					bh := ph * v / maxV
					y := top + ph - ph*base/maxV - bh
					fmt.Fprintf(&b, `<rect class="s%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %s</title></rect>`,
						si, x, y, slot*0.7, bh, p.At.UTC().Format("15:04"), html.EscapeString(c.Series[si]), fmtNum(v))
					base += v
				}
			}
		} else {
			for si := range c.Series {
				var seg []string
				flush := func() {
					switch len(seg) {
					case 0:
					case 1:
						var x, y float64
						fmt.Sscanf(seg[0], "%f,%f", &x, &y)
						fmt.Fprintf(&b, `<circle class="l%d" cx="%.1f" cy="%.1f" r="3"/>`, si, x, y)
					default:
						fmt.Fprintf(&b, `<polyline class="l%d" points="%s"/>`, si, strings.Join(seg, " "))
					}
					seg = seg[:0]
				}
				for i, p := range c.Points {
					if si >= len(p.Values) || math.IsNaN(p.Values[si]) {
						flush()
						continue
					}
					x := left + slot*float64(i) + slot/2
					y := top + ph - ph*p.Values[si]/maxV
					seg = append(seg, fmt.Sprintf("%.1f,%.1f", x, y))
				}
				flush()
			}
		}
	}
	fmt.Fprintf(&b, `<line class="axisline" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, top+ph, left+pw, top+ph)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every interpolated string above is escaped
}
