package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"
)

// ReportRecord is one row of GET /api/v1/reports/byTime, with APIM's
// property names (unknown properties are ignored).
type ReportRecord struct {
	Timestamp        time.Time `json:"timestamp"`
	Interval         string    `json:"interval"`
	CallCountSuccess float64   `json:"callCountSuccess"`
	CallCountBlocked float64   `json:"callCountBlocked"`
	CallCountFailed  float64   `json:"callCountFailed"`
	CallCountOther   float64   `json:"callCountOther"`
	CallCountTotal   float64   `json:"callCountTotal"`
	APITimeAvg       float64   `json:"apiTimeAvg"`
	APITimeMax       float64   `json:"apiTimeMax"`
	ServiceTimeAvg   float64   `json:"serviceTimeAvg"`
}

// Usage is calls and latency over time, ready to draw.
type Usage struct {
	// Available is false when the management plane has no reports API
	// (it answered 404): the page says "no data yet".
	Available bool
	Calls     Chart // stacked: successful, errors (blocked, failed, other)
	Latency   Chart // lines: average and maximum response time
	Total     float64
	Errors    float64
}

// isoDuration renders d as an ISO 8601 duration (PT5M, PT1H, P1D).
func isoDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("P%dD", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("PT%dH", d/time.Hour)
	default:
		return fmt.Sprintf("PT%dM", d/time.Minute)
	}
}

// FetchUsage reads the reports API by time for [to-span, to) in buckets of
// interval, restricted by an OData filter (may be empty).
func FetchUsage(ctx context.Context, c *Client, span, interval time.Duration, to time.Time, filter string) (Usage, error) {
	to = to.UTC().Truncate(interval).Add(interval)
	from := to.Add(-span)
	q := url.Values{}
	q.Set("from", from.Format(time.RFC3339))
	q.Set("to", to.Format(time.RFC3339))
	q.Set("interval", isoDuration(interval))
	if filter != "" {
		q.Set("filter", filter)
	}
	u := Usage{
		Calls:   Chart{Title: "Calls", Unit: "calls", Stack: true, Integer: true, Series: []string{"successful", "errors"}},
		Latency: Chart{Title: "Response time", Unit: "ms", Series: []string{"average", "maximum"}},
	}
	recs, err := List[ReportRecord](ctx, c, "/api/v1/reports/byTime?"+q.Encode())
	if IsStatus(err, http.StatusNotFound) {
		return u, nil
	}
	if err != nil {
		return u, err
	}
	u.Available = true
	byTime := map[int64]ReportRecord{}
	for _, r := range recs {
		byTime[r.Timestamp.UTC().Truncate(interval).Unix()] = r
	}
	for t := from; t.Before(to); t = t.Add(interval) {
		r := byTime[t.Unix()]
		total := r.CallCountTotal
		if total == 0 {
			total = r.CallCountSuccess + r.CallCountBlocked + r.CallCountFailed + r.CallCountOther
		}
		errs := total - r.CallCountSuccess
		if errs < 0 {
			errs = 0
		}
		u.Total += total
		u.Errors += errs
		u.Calls.Points = append(u.Calls.Points, Point{At: t, Values: []float64{r.CallCountSuccess, errs}})
		lat := Point{At: t, Values: []float64{r.APITimeAvg, r.APITimeMax}}
		if total == 0 {
			lat.Values = []float64{math.NaN(), math.NaN()}
		}
		u.Latency.Points = append(u.Latency.Points, lat)
	}
	return u, nil
}
