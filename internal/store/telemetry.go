package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/telemetry"
)

// Telemetry stores request records and answers the reports over them. It
// is not configuration: nothing here moves the config revision.
type Telemetry interface {
	// IngestBatch stores the records of b and adds them to the per-minute
	// rollups, in one transaction keyed by b.ID: when a batch with that id
	// was ingested before (and not yet pruned) it does nothing and returns
	// false. Records are sanitized (telemetry.Record.Sanitize) on the way.
	IngestBatch(ctx context.Context, b *telemetry.Batch) (inserted bool, err error)
	// Report aggregates the rollups of [q.From, q.To) grouped by q.By and
	// returns one page of rows ordered by their key, and the number of rows
	// in all pages.
	Report(ctx context.Context, q ReportQuery) ([]ReportRow, int, error)
	// RequestLog returns one page of the raw records of [q.From, q.To),
	// newest first, and how many there are in all.
	RequestLog(ctx context.Context, q RequestQuery) ([]telemetry.Record, int, error)
	// PruneTelemetry deletes records, rollups and batch ids older than
	// before and returns how many records it deleted.
	PruneTelemetry(ctx context.Context, before time.Time) (int64, error)
}

// Report groupings (ReportQuery.By).
const (
	ByAPI          = "api"
	ByOperation    = "operation"
	ByProduct      = "product"
	BySubscription = "subscription"
	ByUser         = "user"
	ByTime         = "time"
)

// ReportFilter restricts a report to rows whose Field (a record property
// named as in its JSON form: apiId, operationId, productId,
// subscriptionId, userId, gatewayId; for RequestLog also instanceId,
// requestId, method and responseCode) is (Op "eq") or is not (Op "ne")
// Value. Values are compared exactly.
type ReportFilter struct {
	Field, Op, Value string
}

// ReportQuery selects a report. Rollups have minute resolution: From is
// rounded down and To up to the minute.
type ReportQuery struct {
	By       string
	From, To time.Time
	// Interval is the width of the ByTime groups, a whole number of
	// minutes; the groups start at From rounded down to the minute.
	Interval time.Duration
	Filters  []ReportFilter
	// Top <= 0 means no limit.
	Top, Skip int
}

// RequestQuery selects raw records: From inclusive, To exclusive.
type RequestQuery struct {
	From, To  time.Time
	Filters   []ReportFilter
	Top, Skip int
}

// ReportRow is one group of a report. Only the key fields of the grouping
// are set (APIID for ByAPI, APIID and OperationID for ByOperation, …,
// Timestamp for ByTime).
type ReportRow struct {
	APIID, OperationID, ProductID, SubscriptionID, UserID string
	Timestamp                                             time.Time

	// Calls counts the calls of each telemetry.Outcome.
	Calls                  [telemetry.NumOutcomes]int64
	Total                  int64
	Bandwidth              int64
	CacheHits, CacheMisses int64
	APITimeSum             time.Duration
	APITimeMin, APITimeMax time.Duration
	ServiceCalls           int64
	ServiceTimeSum         time.Duration
	ServiceTimeMin         time.Duration
	ServiceTimeMax         time.Duration
	Histogram              [telemetry.HistogramBuckets]int64
}

// reportKeys are the rollup columns of each grouping.
var reportKeys = map[string][]string{
	ByAPI:          {"api_id"},
	ByOperation:    {"api_id", "operation_id"},
	ByProduct:      {"product_id"},
	BySubscription: {"subscription_id"},
	ByUser:         {"user_id"},
}

// filterColumns maps filterable record properties to columns of both
// tables; requestColumns adds those of the raw records only.
var (
	filterColumns = map[string]string{
		"apiId": "api_id", "operationId": "operation_id", "productId": "product_id",
		"subscriptionId": "subscription_id", "userId": "user_id", "gatewayId": "gateway_id",
	}
	requestColumns = map[string]string{
		"instanceId": "instance_id", "requestId": "request_id", "method": "method", "responseCode": "response_code",
	}
)

// ReportFilterFields lists the filterable properties of rollup reports and,
// with requests, of the request log.
func ReportFilterFields(requests bool) []string {
	var out []string
	for f := range filterColumns {
		out = append(out, f)
	}
	if requests {
		for f := range requestColumns {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// filterSQL renders filters as " AND …" conditions.
func filterSQL(fs []ReportFilter, requests bool) (string, []any, error) {
	var b strings.Builder
	var args []any
	for _, f := range fs {
		col, ok := filterColumns[f.Field]
		if !ok && requests {
			col, ok = requestColumns[f.Field]
		}
		if !ok {
			return "", nil, fmt.Errorf("cannot filter on %q", f.Field)
		}
		var op string
		switch f.Op {
		case "eq":
			op = " = ?"
		case "ne":
			op = " <> ?"
		default:
			return "", nil, fmt.Errorf("invalid filter operator %q", f.Op)
		}
		var v any = f.Value
		if col == "response_code" {
			n, err := strconv.Atoi(f.Value)
			if err != nil {
				return "", nil, fmt.Errorf("responseCode must be an integer, got %q", f.Value)
			}
			v = n
		}
		b.WriteString(" AND " + col + op)
		args = append(args, v)
	}
	return b.String(), args, nil
}

const requestCols = "time, request_id, gateway_id, instance_id, api_id, operation_id, product_id, subscription_id, user_id, " +
	"client_ip, method, url, response_code, backend_response_code, outcome, request_size, response_size, " +
	"total_time, backend_time, client_time, cache, last_error_source, last_error_section, last_error_reason, last_error_message, backend_url"

const requestNCols = 26

// rowsPerInsert bounds a multi-row INSERT (26 parameters a row).
const rowsPerInsert = 100

var (
	rollupCols = func() string {
		cols := "minute, gateway_id, api_id, operation_id, product_id, subscription_id, user_id, outcome, calls, bandwidth, " +
			"cache_hits, cache_misses, api_time_sum, api_time_min, api_time_max, service_calls, service_time_sum, service_time_min, service_time_max"
		for i := range telemetry.HistogramBuckets {
			cols += fmt.Sprintf(", h%02d", i)
		}
		return cols
	}()
	rollupNCols = 19 + telemetry.HistogramBuckets
)

// rollupsPerUpsert bounds a multi-row rollup upsert (59 parameters a row).
const rollupsPerUpsert = 100

// rollupUpsert adds n rollup rows, of distinct keys, to the rows with the
// same keys.
func (d dialect) rollupUpsert(n int) string {
	least, greatest := "LEAST", "GREATEST"
	if d.name == "sqlite" {
		least, greatest = "min", "max"
	}
	var b strings.Builder
	b.WriteString("INSERT INTO request_rollups (" + rollupCols + ") VALUES ")
	row := "(" + strings.Repeat("?, ", rollupNCols-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT (minute, gateway_id, api_id, operation_id, product_id, subscription_id, user_id, outcome) DO UPDATE SET ")
	sum := func(c string) string { return c + " = request_rollups." + c + " + excluded." + c }
	sets := []string{sum("calls"), sum("bandwidth"), sum("cache_hits"), sum("cache_misses"), sum("api_time_sum"),
		"api_time_min = " + least + "(request_rollups.api_time_min, excluded.api_time_min)",
		"api_time_max = " + greatest + "(request_rollups.api_time_max, excluded.api_time_max)",
		sum("service_calls"), sum("service_time_sum"),
		// NULL (no call reached a backend) on either side yields the other.
		"service_time_min = " + least + "(COALESCE(request_rollups.service_time_min, excluded.service_time_min), COALESCE(excluded.service_time_min, request_rollups.service_time_min))",
		"service_time_max = " + greatest + "(request_rollups.service_time_max, excluded.service_time_max)",
	}
	for i := range telemetry.HistogramBuckets {
		sets = append(sets, sum(fmt.Sprintf("h%02d", i)))
	}
	b.WriteString(strings.Join(sets, ", "))
	return d.rebind(b.String())
}

// rollupKey identifies one rollup row.
type rollupKey struct {
	minute                                               int64
	gateway, api, operation, product, subscription, user string
	outcome                                              telemetry.Outcome
}

type rollup struct {
	calls, bandwidth, cacheHits, cacheMisses int64
	apiSum, apiMin, apiMax                   int64
	serviceCalls, serviceSum                 int64
	serviceMin                               sql.NullInt64
	serviceMax                               int64
	hist                                     [telemetry.HistogramBuckets]int64
}

func (r *rollup) add(rec *telemetry.Record) {
	api := rec.TotalTime.Microseconds()
	if r.calls == 0 || api < r.apiMin {
		r.apiMin = api
	}
	r.apiMax = max(r.apiMax, api)
	r.calls++
	r.apiSum += api
	r.bandwidth += rec.RequestSize + rec.ResponseSize
	switch rec.Cache {
	case telemetry.CacheHit:
		r.cacheHits++
	case telemetry.CacheMiss:
		r.cacheMisses++
	}
	r.hist[telemetry.Bucket(rec.TotalTime)]++
	if rec.Served() {
		svc := rec.BackendTime.Microseconds()
		if !r.serviceMin.Valid || svc < r.serviceMin.Int64 {
			r.serviceMin = sql.NullInt64{Int64: svc, Valid: true}
		}
		r.serviceMax = max(r.serviceMax, svc)
		r.serviceCalls++
		r.serviceSum += svc
	}
}

// IngestBatch implements Telemetry.
func (s *SQLStore) IngestBatch(ctx context.Context, b *telemetry.Batch) (bool, error) {
	if !telemetry.ValidBatchID(b.ID) {
		return false, fmt.Errorf("invalid batch id %q", b.ID)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin telemetry batch: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	res, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO telemetry_batches (batch_id, gateway_id, instance_id, records, received_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING`), b.ID, b.GatewayID, b.InstanceID, len(b.Records), time.Now().UnixMicro())
	if err != nil {
		return false, fmt.Errorf("record telemetry batch %s: %w", b.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err // ingested before: nothing to do
	}

	recs := make([]telemetry.Record, len(b.Records))
	rollups := map[rollupKey]*rollup{}
	for i := range b.Records {
		r := &recs[i]
		*r = b.Records[i]
		if r.GatewayID == "" {
			r.GatewayID = b.GatewayID
		}
		if r.InstanceID == "" {
			r.InstanceID = b.InstanceID
		}
		r.Sanitize()
		r.Time = r.Time.Truncate(time.Microsecond)
		sec := r.Time.Unix()
		k := rollupKey{minute: sec - mod(sec, 60), gateway: r.GatewayID, api: r.APIID, operation: r.OperationID, product: r.ProductID,
			subscription: r.SubscriptionID, user: r.UserID, outcome: r.Outcome()}
		ru := rollups[k]
		if ru == nil {
			ru = &rollup{}
			rollups[k] = ru
		}
		ru.add(r)
	}

	if err := s.insertRecords(ctx, tx, recs); err != nil {
		return false, fmt.Errorf("store telemetry batch %s: %w", b.ID, err)
	}

	// Upsert in key order so that concurrent batches lock rows in the same
	// order (no deadlock on PostgreSQL).
	keys := make([]rollupKey, 0, len(rollups))
	for k := range rollups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareRollupKeys)
	if err := s.upsertRollups(ctx, tx, keys, rollups); err != nil {
		return false, fmt.Errorf("update telemetry rollups: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit telemetry batch %s: %w", b.ID, err)
	}
	return true, nil
}

// upsertRollups adds the rollups of a batch (distinct keys, sorted).
func (s *SQLStore) upsertRollups(ctx context.Context, tx *sql.Tx, keys []rollupKey, rollups map[rollupKey]*rollup) error {
	if s.d.name == "postgres" {
		return upsertRollupsUnnest(ctx, tx, keys, rollups)
	}
	args := make([]any, 0, min(len(keys), rollupsPerUpsert)*rollupNCols)
	for start := 0; start < len(keys); start += rollupsPerUpsert {
		chunk := keys[start:min(start+rollupsPerUpsert, len(keys))]
		args = args[:0]
		for _, k := range chunk {
			r := rollups[k]
			args = append(args, k.minute, k.gateway, k.api, k.operation, k.product, k.subscription, k.user, int(k.outcome),
				r.calls, r.bandwidth, r.cacheHits, r.cacheMisses, r.apiSum, r.apiMin, r.apiMax,
				r.serviceCalls, r.serviceSum, r.serviceMin, r.serviceMax)
			for _, h := range r.hist {
				args = append(args, h)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.rollupUpsert(len(chunk)), args...); err != nil {
			return err
		}
	}
	return nil
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func compareRollupKeys(a, b rollupKey) int {
	if a.minute != b.minute {
		if a.minute < b.minute {
			return -1
		}
		return 1
	}
	for _, p := range [][2]string{{a.gateway, b.gateway}, {a.api, b.api}, {a.operation, b.operation}, {a.product, b.product},
		{a.subscription, b.subscription}, {a.user, b.user}} {
		if c := strings.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	return int(a.outcome) - int(b.outcome)
}

// insertRecords inserts raw records: on PostgreSQL in one statement of
// column arrays, on SQLite in multi-row INSERTs of rowsPerInsert rows.
func (s *SQLStore) insertRecords(ctx context.Context, tx *sql.Tx, recs []telemetry.Record) error {
	if s.d.name == "postgres" {
		return insertRecordsUnnest(ctx, tx, recs)
	}
	for start := 0; start < len(recs); start += rowsPerInsert {
		if err := s.insertRecordRows(ctx, tx, recs[start:min(start+rowsPerInsert, len(recs))]); err != nil {
			return err
		}
	}
	return nil
}

func (s *SQLStore) insertRecordRows(ctx context.Context, tx *sql.Tx, recs []telemetry.Record) error {
	var q strings.Builder
	q.WriteString("INSERT INTO requests (" + requestCols + ") VALUES ")
	row := "(" + strings.Repeat("?, ", requestNCols-1) + "?)"
	args := make([]any, 0, len(recs)*requestNCols)
	for i := range recs {
		r := &recs[i]
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
		args = append(args, r.Time.UnixMicro(), r.RequestID, r.GatewayID, r.InstanceID, r.APIID, r.OperationID, r.ProductID,
			r.SubscriptionID, r.UserID, r.ClientIP, r.Method, r.URL, r.ResponseCode, r.BackendResponseCode, int(r.Outcome()),
			r.RequestSize, r.ResponseSize, r.TotalTime.Microseconds(), r.BackendTime.Microseconds(), r.ClientTime.Microseconds(),
			r.Cache, r.LastErrorSource, r.LastErrorSection, r.LastErrorReason, r.LastErrorMessage, r.BackendURL)
	}
	_, err := tx.ExecContext(ctx, s.d.rebind(q.String()), args...)
	return err
}

// minuteRange returns the rollup minutes [from, to) covering [From, To):
// From rounded down, To rounded up to the minute, in Unix seconds.
func minuteRange(from, to time.Time) (int64, int64) {
	f := from.Unix()
	f -= mod(f, 60)
	t := to.Unix()
	if to.Nanosecond() > 0 {
		t++
	}
	if m := mod(t, 60); m != 0 {
		t += 60 - m
	}
	return f, t
}

// Report implements Telemetry.
func (s *SQLStore) Report(ctx context.Context, q ReportQuery) ([]ReportRow, int, error) {
	from, to := minuteRange(q.From, q.To)
	var keys []string
	var group string
	switch q.By {
	case ByTime:
		iv := int64(q.Interval / time.Second)
		if iv < 60 || iv%60 != 0 {
			return nil, 0, fmt.Errorf("report interval must be a whole number of minutes, got %v", q.Interval)
		}
		// The minutes and the interval are integers computed here, not
		// input text: inlining them keeps the division integral everywhere.
		group = fmt.Sprintf("(minute - %d) / %d", from, iv)
		keys = []string{group}
	default:
		var ok bool
		if keys, ok = reportKeys[q.By]; !ok {
			return nil, 0, fmt.Errorf("unknown report grouping %q", q.By)
		}
		group = strings.Join(keys, ", ")
	}
	cond, args, err := filterSQL(q.Filters, false)
	if err != nil {
		return nil, 0, err
	}
	where := " FROM request_rollups WHERE minute >= ? AND minute < ?" + cond
	args = append([]any{from, to}, args...)

	var total int
	if err := s.reader.QueryRowContext(ctx, s.d.rebind("SELECT COUNT(*) FROM (SELECT 1 AS one"+where+" GROUP BY "+group+") g"), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count report rows: %w", err)
	}
	sel := make([]string, 0, 64)
	sel = append(sel, keys...)
	sum := func(e string) string { return "CAST(SUM(" + e + ") AS BIGINT)" }
	for o := range telemetry.NumOutcomes {
		sel = append(sel, sum(fmt.Sprintf("CASE WHEN outcome = %d THEN calls ELSE 0 END", o)))
	}
	sel = append(sel, sum("calls"), sum("bandwidth"), sum("cache_hits"), sum("cache_misses"), sum("api_time_sum"), "MIN(api_time_min)", "MAX(api_time_max)",
		sum("service_calls"), sum("service_time_sum"), "MIN(service_time_min)", "MAX(service_time_max)")
	for i := range telemetry.HistogramBuckets {
		sel = append(sel, sum(fmt.Sprintf("h%02d", i)))
	}
	query := "SELECT " + strings.Join(sel, ", ") + where + " GROUP BY " + group + " ORDER BY " + group + page(s.d, q.Top, q.Skip)
	rows, err := s.reader.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("report by %s: %w", q.By, err)
	}
	defer rows.Close()
	var out []ReportRow
	for rows.Next() {
		var r ReportRow
		var keyVals [2]string
		var slot int64
		var apiSum, apiMin, apiMax, svcSum, svcMax int64
		var svcMin sql.NullInt64
		dest := make([]any, 0, len(sel))
		if q.By == ByTime {
			dest = append(dest, &slot)
		} else {
			for i := range keys {
				dest = append(dest, &keyVals[i])
			}
		}
		for o := range r.Calls {
			dest = append(dest, &r.Calls[o])
		}
		dest = append(dest, &r.Total, &r.Bandwidth, &r.CacheHits, &r.CacheMisses, &apiSum, &apiMin, &apiMax, &r.ServiceCalls, &svcSum, &svcMin, &svcMax)
		for i := range r.Histogram {
			dest = append(dest, &r.Histogram[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, fmt.Errorf("report by %s: %w", q.By, err)
		}
		switch q.By {
		case ByTime:
			r.Timestamp = time.Unix(from+slot*int64(q.Interval/time.Second), 0).UTC()
		case ByAPI:
			r.APIID = keyVals[0]
		case ByOperation:
			r.APIID, r.OperationID = keyVals[0], keyVals[1]
		case ByProduct:
			r.ProductID = keyVals[0]
		case BySubscription:
			r.SubscriptionID = keyVals[0]
		case ByUser:
			r.UserID = keyVals[0]
		}
		us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
		r.APITimeSum, r.APITimeMin, r.APITimeMax = us(apiSum), us(apiMin), us(apiMax)
		r.ServiceTimeSum, r.ServiceTimeMin, r.ServiceTimeMax = us(svcSum), us(svcMin.Int64), us(svcMax)
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// page renders LIMIT and OFFSET; top <= 0 means no limit.
func page(d dialect, top, skip int) string {
	var q string
	if top > 0 {
		q = " LIMIT " + strconv.Itoa(top)
	} else if skip > 0 {
		if d.name == "postgres" {
			q = " LIMIT ALL"
		} else {
			q = " LIMIT -1"
		}
	}
	if skip > 0 {
		q += " OFFSET " + strconv.Itoa(skip)
	}
	return q
}

// RequestLog implements Telemetry.
func (s *SQLStore) RequestLog(ctx context.Context, q RequestQuery) ([]telemetry.Record, int, error) {
	cond, args, err := filterSQL(q.Filters, true)
	if err != nil {
		return nil, 0, err
	}
	where := " FROM requests WHERE time >= ? AND time < ?" + cond
	args = append([]any{q.From.UnixMicro(), q.To.UnixMicro()}, args...)
	var total int
	if err := s.reader.QueryRowContext(ctx, s.d.rebind("SELECT COUNT(*)"+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count request records: %w", err)
	}
	rows, err := s.reader.QueryContext(ctx, s.d.rebind("SELECT "+requestCols+where+" ORDER BY time DESC, id DESC"+page(s.d, q.Top, q.Skip)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list request records: %w", err)
	}
	defer rows.Close()
	var out []telemetry.Record
	for rows.Next() {
		var r telemetry.Record
		var at, totalUS, backendUS, clientUS int64
		var outcome int
		if err := rows.Scan(&at, &r.RequestID, &r.GatewayID, &r.InstanceID, &r.APIID, &r.OperationID, &r.ProductID,
			&r.SubscriptionID, &r.UserID, &r.ClientIP, &r.Method, &r.URL, &r.ResponseCode, &r.BackendResponseCode, &outcome,
			&r.RequestSize, &r.ResponseSize, &totalUS, &backendUS, &clientUS, &r.Cache, &r.LastErrorSource, &r.LastErrorSection,
			&r.LastErrorReason, &r.LastErrorMessage, &r.BackendURL); err != nil {
			return nil, 0, fmt.Errorf("list request records: %w", err)
		}
		r.Time = time.UnixMicro(at).UTC()
		r.TotalTime, r.BackendTime, r.ClientTime = time.Duration(totalUS)*time.Microsecond, time.Duration(backendUS)*time.Microsecond, time.Duration(clientUS)*time.Microsecond
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// pruneChunk bounds one DELETE of old records, so that pruning a large
// backlog does not hold SQLite's writer for long.
const pruneChunk = 5000

// PruneTelemetry implements Telemetry.
func (s *SQLStore) PruneTelemetry(ctx context.Context, before time.Time) (int64, error) {
	var deleted int64
	for {
		res, err := s.writer.ExecContext(ctx, s.d.rebind("DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE time < ? ORDER BY time LIMIT "+strconv.Itoa(pruneChunk)+")"), before.UnixMicro())
		if err != nil {
			return deleted, fmt.Errorf("prune request records: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return deleted, err
		}
		deleted += n
		if n < pruneChunk {
			break
		}
	}
	minute := before.Unix()
	minute -= mod(minute, 60)
	var errs []error
	if _, err := s.writer.ExecContext(ctx, s.d.rebind("DELETE FROM request_rollups WHERE minute < ?"), minute); err != nil {
		errs = append(errs, fmt.Errorf("prune request rollups: %w", err))
	}
	if _, err := s.writer.ExecContext(ctx, s.d.rebind("DELETE FROM telemetry_batches WHERE received_at < ?"), before.UnixMicro()); err != nil {
		errs = append(errs, fmt.Errorf("prune telemetry batch ids: %w", err))
	}
	return deleted, errors.Join(errs...)
}

// insertRecordsUnnest inserts records on PostgreSQL in one statement whose
// parameters are one array per column: parsed once, whatever the number of
// rows.
func insertRecordsUnnest(ctx context.Context, tx *sql.Tx, recs []telemetry.Record) error {
	n := len(recs)
	var (
		ints  [9][]int64 // time, response_code, backend_response_code, outcome, request_size, response_size, total, backend, client
		texts [17][]string
	)
	for i := range ints {
		ints[i] = make([]int64, n)
	}
	for i := range texts {
		texts[i] = make([]string, n)
	}
	for i := range recs {
		r := &recs[i]
		for j, v := range [...]int64{r.Time.UnixMicro(), int64(r.ResponseCode), int64(r.BackendResponseCode), int64(r.Outcome()),
			r.RequestSize, r.ResponseSize, r.TotalTime.Microseconds(), r.BackendTime.Microseconds(), r.ClientTime.Microseconds()} {
			ints[j][i] = v
		}
		for j, v := range [...]string{r.RequestID, r.GatewayID, r.InstanceID, r.APIID, r.OperationID, r.ProductID, r.SubscriptionID, r.UserID,
			r.ClientIP, r.Method, r.URL, r.Cache, r.LastErrorSource, r.LastErrorSection, r.LastErrorReason, r.LastErrorMessage, r.BackendURL} {
			texts[j][i] = v
		}
	}
	const q = `INSERT INTO requests (` + requestCols + `)
SELECT t0, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, t1, t2, t3, t4, t5, t6, t7, t8, s11, s12, s13, s14, s15, s16
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
	$10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[],
	$18::bigint[], $19::bigint[], $20::bigint[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::text[])
	AS u(t0, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, t1, t2, t3, t4, t5, t6, t7, t8, s11, s12, s13, s14, s15, s16)`
	_, err := tx.ExecContext(ctx, q, ints[0], texts[0], texts[1], texts[2], texts[3], texts[4], texts[5], texts[6], texts[7],
		texts[8], texts[9], texts[10], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], ints[7], ints[8],
		texts[11], texts[12], texts[13], texts[14], texts[15], texts[16])
	return err
}

// upsertRollupsUnnest adds rollup rows on PostgreSQL in one statement of
// column arrays (keys are distinct and sorted).
func upsertRollupsUnnest(ctx context.Context, tx *sql.Tx, keys []rollupKey, rollups map[rollupKey]*rollup) error {
	n := len(keys)
	cols := make([]any, rollupNCols)
	minute, outcome := make([]int64, n), make([]int64, n)
	var texts [6][]string
	for i := range texts {
		texts[i] = make([]string, n)
	}
	var nums [10][]int64 // calls … service_time_sum, service_time_max (service_time_min apart)
	for i := range nums {
		nums[i] = make([]int64, n)
	}
	svcMin := make([]*int64, n)
	hist := make([][]int64, telemetry.HistogramBuckets)
	for i := range hist {
		hist[i] = make([]int64, n)
	}
	for i, k := range keys {
		r := rollups[k]
		minute[i], outcome[i] = k.minute, int64(k.outcome)
		for j, v := range [...]string{k.gateway, k.api, k.operation, k.product, k.subscription, k.user} {
			texts[j][i] = v
		}
		for j, v := range [...]int64{r.calls, r.bandwidth, r.cacheHits, r.cacheMisses, r.apiSum, r.apiMin, r.apiMax, r.serviceCalls, r.serviceSum, r.serviceMax} {
			nums[j][i] = v
		}
		if r.serviceMin.Valid {
			v := r.serviceMin.Int64
			svcMin[i] = &v
		}
		for j, h := range r.hist {
			hist[j][i] = h
		}
	}
	cols[0] = minute
	for j := range texts {
		cols[1+j] = texts[j]
	}
	cols[7] = outcome
	for j := range 9 { // calls … service_time_sum
		cols[8+j] = nums[j]
	}
	cols[17], cols[18] = svcMin, nums[9]
	for j := range hist {
		cols[19+j] = hist[j]
	}
	var params, names []string
	for i := range rollupNCols {
		typ := "bigint[]"
		if i >= 1 && i <= 6 {
			typ = "text[]"
		}
		params = append(params, fmt.Sprintf("$%d::%s", i+1, typ))
		names = append(names, fmt.Sprintf("c%d", i))
	}
	upsert := postgresDialect.rollupUpsert(1)
	conflict := upsert[strings.Index(upsert, " ON CONFLICT"):]
	q := "INSERT INTO request_rollups (" + rollupCols + ") SELECT " + strings.Join(names, ", ") +
		" FROM unnest(" + strings.Join(params, ", ") + ") AS u(" + strings.Join(names, ", ") + ")" + conflict
	_, err := tx.ExecContext(ctx, q, cols...)
	return err
}
