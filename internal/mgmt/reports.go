package mgmt

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/telemetry"
)

// reportKinds maps the report names of /api/v1/reports/{report} to store
// groupings; byRequest lists raw records instead.
var reportKinds = map[string]string{
	"byApi":          store.ByAPI,
	"byOperation":    store.ByOperation,
	"byProduct":      store.ByProduct,
	"bySubscription": store.BySubscription,
	"byUser":         store.ByUser,
	"byTime":         store.ByTime,
	"byRequest":      "",
}

// defaultReportSpan is the range of a report without from.
const defaultReportSpan = 24 * time.Hour

func (s *Server) routeReports() {
	s.mux.HandleFunc("GET /api/v1/reports/{report}", s.handleReport)
}

// reportRow is one row of a rollup report, with APIM's property names.
// Times are milliseconds.
type reportRow struct {
	Name           string  `json:"name"`
	Timestamp      string  `json:"timestamp,omitempty"`
	Interval       string  `json:"interval,omitempty"`
	APIID          string  `json:"apiId,omitempty"`
	OperationID    string  `json:"operationId,omitempty"`
	ProductID      string  `json:"productId,omitempty"`
	SubscriptionID string  `json:"subscriptionId,omitempty"`
	UserID         string  `json:"userId,omitempty"`
	Success        int64   `json:"callCountSuccess"`
	Blocked        int64   `json:"callCountBlocked"`
	Failed         int64   `json:"callCountFailed"`
	Other          int64   `json:"callCountOther"`
	Total          int64   `json:"callCountTotal"`
	Bandwidth      int64   `json:"bandwidth"`
	CacheHits      int64   `json:"cacheHitCount"`
	CacheMisses    int64   `json:"cacheMissCount"`
	APITimeAvg     float64 `json:"apiTimeAvg"`
	APITimeMin     float64 `json:"apiTimeMin"`
	APITimeMax     float64 `json:"apiTimeMax"`
	ServiceTimeAvg float64 `json:"serviceTimeAvg"`
	ServiceTimeMin float64 `json:"serviceTimeMin"`
	ServiceTimeMax float64 `json:"serviceTimeMax"`
	APITimeP50     float64 `json:"apiTimeP50"`
	APITimeP95     float64 `json:"apiTimeP95"`
	APITimeP99     float64 `json:"apiTimeP99"`
}

// reportParams are the parsed query parameters of a report.
type reportParams struct {
	from, to  time.Time
	interval  time.Duration
	filters   []store.ReportFilter
	top, skip int
}

func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("report")
	by, ok := reportKinds[name]
	if !ok {
		kinds := make([]string, 0, len(reportKinds))
		for k := range reportKinds {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		writeProblem(w, problem(http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("no report %q; reports: %s", name, strings.Join(kinds, ", "))))
		return
	}
	p, err := parseReportParams(r, name, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Pin the range in nextLink, so that pages of a default range ("the
	// last 24 hours") do not move while they are read.
	q := r.URL.Query()
	q.Set("from", p.from.Format(time.RFC3339Nano))
	q.Set("to", p.to.Format(time.RFC3339Nano))
	q.Del("$from")
	q.Del("$to")
	r.URL.RawQuery = q.Encode()
	if name == "byRequest" {
		recs, total, err := s.store.RequestLog(r.Context(), store.RequestQuery{From: p.from, To: p.to, Filters: p.filters, Top: p.top, Skip: p.skip})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if recs == nil {
			recs = []telemetry.Record{}
		}
		writeJSON(w, http.StatusOK, listPage(r, recs, total, p.top, p.skip))
		return
	}
	rows, total, err := s.store.Report(r.Context(), store.ReportQuery{By: by, From: p.from, To: p.to, Interval: p.interval, Filters: p.filters, Top: p.top, Skip: p.skip})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]reportRow, 0, len(rows))
	for _, row := range rows {
		out = append(out, toReportRow(by, row, p.interval))
	}
	writeJSON(w, http.StatusOK, listPage(r, out, total, p.top, p.skip))
}

func toReportRow(by string, r store.ReportRow, interval time.Duration) reportRow {
	ms := func(d time.Duration) float64 { return telemetry.Millis(d) }
	avg := func(sum time.Duration, n int64) float64 {
		if n == 0 {
			return 0
		}
		return math.Round(float64(sum.Microseconds())/float64(n)) / 1000
	}
	q := func(p float64) float64 { return ms(telemetry.Quantile(r.Histogram[:], p, r.APITimeMin, r.APITimeMax)) }
	out := reportRow{
		APIID: r.APIID, OperationID: r.OperationID, ProductID: r.ProductID, SubscriptionID: r.SubscriptionID, UserID: r.UserID,
		Success: r.Calls[telemetry.OutcomeSuccess], Blocked: r.Calls[telemetry.OutcomeBlocked],
		Failed: r.Calls[telemetry.OutcomeFailed], Other: r.Calls[telemetry.OutcomeOther], Total: r.Total,
		Bandwidth: r.Bandwidth, CacheHits: r.CacheHits, CacheMisses: r.CacheMisses,
		APITimeAvg: avg(r.APITimeSum, r.Total), APITimeMin: ms(r.APITimeMin), APITimeMax: ms(r.APITimeMax),
		ServiceTimeAvg: avg(r.ServiceTimeSum, r.ServiceCalls), ServiceTimeMin: ms(r.ServiceTimeMin), ServiceTimeMax: ms(r.ServiceTimeMax),
		APITimeP50: q(0.5), APITimeP95: q(0.95), APITimeP99: q(0.99),
	}
	switch by {
	case store.ByAPI:
		out.Name = r.APIID
	case store.ByOperation:
		out.Name = r.OperationID
	case store.ByProduct:
		out.Name = r.ProductID
	case store.BySubscription:
		out.Name = r.SubscriptionID
	case store.ByUser:
		out.Name = r.UserID
	case store.ByTime:
		out.Timestamp = r.Timestamp.UTC().Format(time.RFC3339)
		out.Name = out.Timestamp
		out.Interval = formatISODuration(interval)
	}
	return out
}

// timestampClause is APIM's way of giving the range in the filter:
// "timestamp ge datetime'2026-01-01T00:00:00'".
var timestampClause = regexp.MustCompile(`^(?i:timestamp)\s+(?i:(ge|gt|le|lt))\s+(?i:datetime)?'([^']*)'$`)

// parseReportParams reads from, to, interval, filter, top and skip.
func parseReportParams(r *http.Request, report string, now time.Time) (*reportParams, error) {
	p := &reportParams{}
	var err error
	if p.top, p.skip, err = paging(r); err != nil {
		return nil, err
	}
	var haveFrom, haveTo bool
	if v := queryParam(r, "from"); v != "" {
		if p.from, err = parseTime(v); err != nil {
			return nil, fieldError("from", "must be an ISO 8601 date-time such as 2026-01-02T15:04:05Z, got %q", v)
		}
		haveFrom = true
	}
	if v := queryParam(r, "to"); v != "" {
		if p.to, err = parseTime(v); err != nil {
			return nil, fieldError("to", "must be an ISO 8601 date-time such as 2026-01-02T15:04:05Z, got %q", v)
		}
		haveTo = true
	}
	allowed := store.ReportFilterFields(report == "byRequest")
	if expr := strings.TrimSpace(queryParam(r, "filter")); expr != "" {
		for _, clause := range splitAnd(expr) {
			clause = strings.TrimSpace(clause)
			if m := timestampClause.FindStringSubmatch(clause); m != nil {
				t, err := parseTime(m[2])
				if err != nil {
					return nil, fieldError("filter", "timestamp must be an ISO 8601 date-time, got %q", m[2])
				}
				switch strings.ToLower(m[1]) {
				case "ge", "gt":
					p.from, haveFrom = t, true
				default:
					p.to, haveTo = t, true
				}
				continue
			}
			m := filterCmp.FindStringSubmatch(clause)
			if m == nil {
				return nil, fieldError("filter", "cannot parse %q: use field eq 'value' or field ne 'value' joined by and, over %s", clause, strings.Join(allowed, ", "))
			}
			field, op, val := m[1], strings.ToLower(m[2]), strings.ReplaceAll(m[3], "''", "'")
			if !slices.Contains(allowed, field) {
				return nil, fieldError("filter", "cannot filter %s on %q; allowed: %s", report, field, strings.Join(allowed, ", "))
			}
			if field == "responseCode" {
				if _, err := strconv.Atoi(val); err != nil {
					return nil, fieldError("filter", "responseCode must be an integer, got %q", val)
				}
			}
			p.filters = append(p.filters, store.ReportFilter{Field: field, Op: op, Value: val})
		}
	}
	if !haveTo {
		p.to = now
	}
	if !haveFrom {
		p.from = p.to.Add(-defaultReportSpan)
	}
	if !p.from.Before(p.to) {
		return nil, fieldError("to", "must be after from (%s), got %s", p.from.Format(time.RFC3339), p.to.Format(time.RFC3339))
	}
	if report == "byTime" {
		v := queryParam(r, "interval")
		if v == "" {
			return nil, fieldError("interval", "is required for byTime: an ISO 8601 duration of whole minutes such as PT5M, PT1H or P1D")
		}
		d, err := parseISODuration(v)
		if err != nil || d < time.Minute || d%time.Minute != 0 {
			return nil, fieldError("interval", "must be an ISO 8601 duration of whole minutes such as PT5M, PT1H or P1D, got %q", v)
		}
		p.interval = d
	}
	return p, nil
}

// timeLayouts are the accepted forms of from and to; those without a zone
// are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

func parseTime(v string) (time.Time, error) {
	var err error
	for _, l := range timeLayouts {
		var t time.Time
		if t, err = time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// parseISODuration parses the ISO 8601 durations of fixed length: weeks,
// days, hours, minutes and seconds (PT15M, PT1H, P1D, P1DT12H).
func parseISODuration(v string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(strings.ToUpper(v))
	if m == nil || v == "P" || strings.HasSuffix(strings.ToUpper(v), "T") {
		return 0, fmt.Errorf("invalid ISO 8601 duration %q", v)
	}
	units := []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var d time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(100*365*24*time.Hour/u) {
			return 0, fmt.Errorf("invalid ISO 8601 duration %q", v)
		}
		d += time.Duration(n) * u
	}
	return d, nil
}

// formatISODuration renders d (whole seconds) as an ISO 8601 duration.
func formatISODuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m, s := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	out := "P"
	if days > 0 {
		out += strconv.FormatInt(int64(days), 10) + "D"
	}
	if h > 0 || m > 0 || s > 0 {
		out += "T"
		if h > 0 {
			out += strconv.FormatInt(int64(h), 10) + "H"
		}
		if m > 0 {
			out += strconv.FormatInt(int64(m), 10) + "M"
		}
		if s > 0 {
			out += strconv.FormatInt(int64(s), 10) + "S"
		}
	}
	return out
}

// addReportDocs describes the reports in the management API's OpenAPI
// document.
func addReportDocs(paths obj, problem obj) {
	params := []obj{
		{"name": "from", "in": "query", "description": "start (inclusive), ISO 8601 date-time; default: to minus 24 hours", "schema": obj{"type": "string", "format": "date-time"}},
		{"name": "to", "in": "query", "description": "end (exclusive), ISO 8601 date-time; default: now", "schema": obj{"type": "string", "format": "date-time"}},
		{"name": "filter", "in": "query", "description": "field eq|ne 'value' joined by and (apiId, operationId, productId, subscriptionId, userId, gatewayId; byRequest also instanceId, requestId, method, responseCode), and APIM's timestamp ge|le datetime'…'", "schema": obj{"type": "string"}},
		{"name": "top", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": maxTop}},
		{"name": "skip", "in": "query", "schema": obj{"type": "integer", "minimum": 0}},
	}
	for name := range reportKinds {
		ps := params
		desc := "rollup rows: call counts by class, bandwidth, api and service time average, minimum, maximum and percentiles"
		if name == "byTime" {
			ps = append(slices.Clone(params), obj{"name": "interval", "in": "query", "required": true, "description": "ISO 8601 duration of whole minutes: PT5M, PT1H, P1D", "schema": obj{"type": "string"}})
		}
		if name == "byRequest" {
			desc = "raw request records, newest first"
		}
		paths["/api/v1/reports/"+name] = obj{"get": obj{"operationId": "report-" + name, "tags": []string{"reports"}, "parameters": ps,
			"responses": obj{"200": obj{"description": desc}, "default": problem}}}
	}
}
