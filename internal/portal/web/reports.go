package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
)

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
func FetchUsage(ctx context.Context, c *mgmtclient.Client, span, interval time.Duration, to time.Time, filter string) (Usage, error) {
	to = to.UTC().Truncate(interval).Add(interval)
	from := to.Add(-span)
	u := Usage{
		Calls:   Chart{Title: "Calls", Unit: "calls", Stack: true, Integer: true, Series: []string{"successful", "errors"}},
		Latency: Chart{Title: "Response time", Unit: "ms", Series: []string{"average", "maximum"}},
	}
	recs, err := c.ReportByTime(ctx, from, to, isoDuration(interval), filter)
	if mgmtclient.IsStatus(err, http.StatusNotFound) {
		return u, nil
	}
	if err != nil {
		return u, err
	}
	u.Available = true
	byTime := map[int64]mgmtclient.ReportRecord{}
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
