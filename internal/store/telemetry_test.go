package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/testenv"
)

// base is a whole minute, so that record times fall in known rollups.
var base = time.Date(2025, 5, 6, 10, 0, 0, 0, time.UTC) // before now: PruneTelemetry keeps batch ids received now

// rec builds a record at base+offset.
func rec(offset time.Duration, api, op, product, sub string, status, backendStatus int, total, backend time.Duration) telemetry.Record {
	return telemetry.Record{Time: base.Add(offset), RequestID: fmt.Sprintf("%s-%v-%d", api, offset, status), GatewayID: "managed",
		APIID: api, OperationID: op, ProductID: product, SubscriptionID: sub, UserID: "u-" + sub, Method: "GET", URL: "http://gw/" + api,
		ResponseCode: status, BackendResponseCode: backendStatus, RequestSize: 10, ResponseSize: 100,
		TotalTime: total, BackendTime: backend}
}

// sampleBatch holds, in minute 0: echo 3 successes (1, 2, 3 ms; backend
// 0.5, 1, 1.5 ms), 2 blocked (401, 429), 1 failed (502 without backend
// answer), 1 backend 500; other api 1 success; no api 1 404. In minute 1:
// echo 1 success (10 ms).
func sampleBatch(id string) *telemetry.Batch {
	ms := time.Millisecond
	return &telemetry.Batch{ID: id, GatewayID: "managed", InstanceID: "i1", Records: []telemetry.Record{
		rec(1*time.Second, "echo", "get", "starter", "s1", 200, 200, 1*ms, ms/2),
		rec(2*time.Second, "echo", "get", "starter", "s1", 200, 200, 2*ms, 1*ms),
		rec(3*time.Second, "echo", "post", "starter", "s1", 201, 201, 3*ms, ms*3/2),
		{Time: base.Add(4 * time.Second), RequestID: "b1", APIID: "echo", OperationID: "get", ResponseCode: 401, LastErrorReason: "SubscriptionKeyNotFound", TotalTime: ms / 10},
		rec(5*time.Second, "echo", "get", "starter", "s1", 429, 0, ms/5, 0),
		{Time: base.Add(6 * time.Second), RequestID: "f1", APIID: "echo", OperationID: "get", ProductID: "starter", SubscriptionID: "s1", UserID: "u-s1",
			ResponseCode: 502, LastErrorReason: "BackendConnectionFailure", TotalTime: 4 * ms, BackendTime: 4 * ms},
		rec(7*time.Second, "echo", "get", "starter", "s1", 500, 500, 5*ms, 5*ms),
		rec(8*time.Second, "other", "get", "unlimited", "s2", 200, 200, 6*ms, 2*ms),
		{Time: base.Add(9 * time.Second), RequestID: "n1", ResponseCode: 404, LastErrorReason: "ApiNotFound", TotalTime: ms / 10},
		rec(70*time.Second, "echo", "get", "starter", "s1", 200, 200, 10*ms, 8*ms),
	}}
}

func ingest(t *testing.T, s store.Store, b *telemetry.Batch) bool {
	t.Helper()
	ok, err := s.IngestBatch(context.Background(), b)
	if err != nil {
		t.Fatalf("ingest %s: %v", b.ID, err)
	}
	return ok
}

func report(t *testing.T, s store.Store, q store.ReportQuery) ([]store.ReportRow, int) {
	t.Helper()
	if q.From.IsZero() {
		q.From, q.To = base.Add(-time.Hour), base.Add(time.Hour)
	}
	rows, total, err := s.Report(context.Background(), q)
	if err != nil {
		t.Fatalf("report %+v: %v", q, err)
	}
	return rows, total
}

// counts renders a row's call counts as success/blocked/failed/other/total.
func counts(r store.ReportRow) string {
	return fmt.Sprintf("%d/%d/%d/%d/%d", r.Calls[telemetry.OutcomeSuccess], r.Calls[telemetry.OutcomeBlocked],
		r.Calls[telemetry.OutcomeFailed], r.Calls[telemetry.OutcomeOther], r.Total)
}

func TestTelemetryReports(t *testing.T) {
	openStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		rev0, _ := s.Revision(ctx)
		if !ingest(t, s, sampleBatch("batch-1")) {
			t.Fatal("a new batch was not inserted")
		}
		if ingest(t, s, sampleBatch("batch-1")) {
			t.Fatal("a replayed batch was inserted again")
		}
		if rev, _ := s.Revision(ctx); rev != rev0 {
			t.Fatalf("telemetry moved the config revision: %d -> %d", rev0, rev)
		}

		t.Run("by api", func(t *testing.T) {
			rows, total := report(t, s, store.ReportQuery{By: store.ByAPI})
			if total != 3 || len(rows) != 3 {
				t.Fatalf("%d rows (total %d), want 3", len(rows), total)
			}
			want := map[string]string{"": "0/0/0/1/1", "echo": "4/2/2/0/8", "other": "1/0/0/0/1"}
			for _, r := range rows {
				if counts(r) != want[r.APIID] {
					t.Errorf("api %q: %s, want %s", r.APIID, counts(r), want[r.APIID])
				}
			}
			echo := rows[1]
			ms := time.Millisecond
			if echo.APIID != "echo" || echo.Bandwidth != 6*110 || echo.APITimeMin != ms/10 || echo.APITimeMax != 10*ms ||
				echo.APITimeSum != ms/10+ms/5+(1+2+3+4+5+10)*ms {
				t.Errorf("echo times: %+v", echo)
			}
			// Service time: the calls that reached a backend, including the
			// 502 whose attempt took 4 ms.
			if echo.ServiceCalls != 6 || echo.ServiceTimeMin != ms/2 || echo.ServiceTimeMax != 8*ms || echo.ServiceTimeSum != (ms/2+ms+ms*3/2+4*ms+5*ms+8*ms) {
				t.Errorf("echo service: %d calls, %v..%v sum %v", echo.ServiceCalls, echo.ServiceTimeMin, echo.ServiceTimeMax, echo.ServiceTimeSum)
			}
			var n int64
			for _, h := range echo.Histogram {
				n += h
			}
			if n != echo.Total {
				t.Errorf("histogram holds %d calls, want %d", n, echo.Total)
			}
		})

		t.Run("groupings and filters", func(t *testing.T) {
			tests := []struct {
				name  string
				q     store.ReportQuery
				want  []string // key: counts
				total int
			}{
				{name: "by operation", q: store.ReportQuery{By: store.ByOperation}, want: []string{"/:0/0/0/1/1", "echo/get:3/2/2/0/7", "echo/post:1/0/0/0/1", "other/get:1/0/0/0/1"}},
				{name: "by product", q: store.ReportQuery{By: store.ByProduct}, want: []string{":0/1/0/1/2", "starter:4/1/2/0/7", "unlimited:1/0/0/0/1"}},
				{name: "by subscription filtered", q: store.ReportQuery{By: store.BySubscription, Filters: []store.ReportFilter{{Field: "apiId", Op: "eq", Value: "echo"}}},
					want: []string{":0/1/0/0/1", "s1:4/1/2/0/7"}},
				{name: "by user excluding an api", q: store.ReportQuery{By: store.ByUser, Filters: []store.ReportFilter{{Field: "apiId", Op: "ne", Value: "echo"}}},
					want: []string{":0/0/0/1/1", "u-s2:1/0/0/0/1"}},
				{name: "by time, one minute", q: store.ReportQuery{By: store.ByTime, Interval: time.Minute},
					want: []string{"10:00:4/2/2/1/9", "10:01:1/0/0/0/1"}},
				{name: "by time, one hour from a later start", q: store.ReportQuery{By: store.ByTime, Interval: time.Hour, From: base.Add(30 * time.Second), To: base.Add(2 * time.Hour)},
					want: []string{"10:00:5/2/2/1/10"}},
				{name: "from and to round to the minute", q: store.ReportQuery{By: store.ByAPI, From: base.Add(61 * time.Second), To: base.Add(61 * time.Second)},
					want: []string{"echo:1/0/0/0/1"}},
				{name: "empty range", q: store.ReportQuery{By: store.ByAPI, From: base.Add(time.Hour), To: base.Add(2 * time.Hour)}},
				{name: "paged", q: store.ReportQuery{By: store.ByOperation, Top: 2, Skip: 1}, want: []string{"echo/get:3/2/2/0/7", "echo/post:1/0/0/0/1"}, total: 4},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					rows, total := report(t, s, tc.q)
					var got []string
					for _, r := range rows {
						key := r.APIID + r.ProductID + r.SubscriptionID + r.UserID
						switch tc.q.By {
						case store.ByOperation:
							key = r.APIID + "/" + r.OperationID
						case store.ByTime:
							key = r.Timestamp.Format("15:04")
						}
						got = append(got, key+":"+counts(r))
					}
					if fmt.Sprint(got) != fmt.Sprint(tc.want) {
						t.Fatalf("rows %v, want %v", got, tc.want)
					}
					if want := max(tc.total, len(tc.want)); total != want {
						t.Fatalf("total %d, want %d", total, want)
					}
				})
			}
		})

		t.Run("request log", func(t *testing.T) {
			recs, total, err := s.RequestLog(ctx, store.RequestQuery{From: base, To: base.Add(time.Hour), Top: 3})
			if err != nil {
				t.Fatal(err)
			}
			if total != 10 || len(recs) != 3 || recs[0].RequestID != "echo-1m10s-200" || recs[1].RequestID != "n1" || recs[2].RequestID != "other-8s-200" {
				t.Fatalf("total %d, first ids %v", total, ids(recs))
			}
			want := sampleBatch("x").Records[9]
			want.InstanceID, want.Cache = "i1", telemetry.CacheNone
			if recs[0] != want {
				t.Fatalf("stored record\n got %+v\nwant %+v", recs[0], want)
			}
			recs, total, err = s.RequestLog(ctx, store.RequestQuery{From: base, To: base.Add(time.Hour),
				Filters: []store.ReportFilter{{Field: "responseCode", Op: "eq", Value: "401"}}})
			if err != nil || total != 1 || recs[0].RequestID != "b1" || recs[0].GatewayID != "managed" {
				t.Fatalf("filtered: %v %d %v", err, total, ids(recs))
			}
			// To is exclusive, From inclusive.
			_, total, err = s.RequestLog(ctx, store.RequestQuery{From: base.Add(time.Second), To: base.Add(3 * time.Second)})
			if err != nil || total != 2 {
				t.Fatalf("range: %v %d", err, total)
			}
		})

		t.Run("another batch id counts again", func(t *testing.T) {
			if !ingest(t, s, sampleBatch("batch-2")) {
				t.Fatal("not inserted")
			}
			rows, _ := report(t, s, store.ReportQuery{By: store.ByAPI, Filters: []store.ReportFilter{{Field: "apiId", Op: "eq", Value: "echo"}}})
			if len(rows) != 1 || counts(rows[0]) != "8/4/4/0/16" || rows[0].APITimeMax != 10*time.Millisecond {
				t.Fatalf("after a second batch: %v", rows)
			}
		})

		t.Run("prune", func(t *testing.T) {
			n, err := s.PruneTelemetry(ctx, base.Add(time.Minute))
			if err != nil || n != 18 {
				t.Fatalf("pruned %d: %v", n, err)
			}
			_, total, _ := s.RequestLog(ctx, store.RequestQuery{From: base.Add(-time.Hour), To: base.Add(time.Hour)})
			rows, _ := report(t, s, store.ReportQuery{By: store.ByAPI})
			if total != 2 || len(rows) != 1 || counts(rows[0]) != "2/0/0/0/2" {
				t.Fatalf("after prune: %d records, rows %v", total, rows)
			}
			// The batch ids were received now, so they are kept: a replay
			// of a pruned batch is still refused.
			if ingest(t, s, sampleBatch("batch-1")) {
				t.Fatal("replay after a prune was inserted")
			}
			if _, err := s.PruneTelemetry(ctx, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if !ingest(t, s, sampleBatch("batch-1")) {
				t.Fatal("a batch id pruned by retention stays refused")
			}
		})
	})
}

func ids(recs []telemetry.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.RequestID)
	}
	return out
}

// TestTelemetryConcurrentReplay sends the same batch from several
// goroutines at once: exactly one insert wins.
func TestTelemetryConcurrentReplay(t *testing.T) {
	openStores(t, func(t *testing.T, s store.Store) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		inserted := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.IngestBatch(context.Background(), sampleBatch("same"))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					inserted++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		rows, _ := report(t, s, store.ReportQuery{By: store.ByAPI, Filters: []store.ReportFilter{{Field: "apiId", Op: "eq", Value: "echo"}}})
		if inserted != 1 || len(rows) != 1 || rows[0].Total != 8 {
			t.Fatalf("inserted %d times, rows %v", inserted, rows)
		}
	})
}

func TestTelemetryInvalidQueries(t *testing.T) {
	openStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		tests := []struct {
			name string
			run  func() error
		}{
			{name: "bad batch id", run: func() error { _, err := s.IngestBatch(ctx, &telemetry.Batch{ID: "no spaces"}); return err }},
			{name: "bad grouping", run: func() error { _, _, err := s.Report(ctx, store.ReportQuery{By: "country", To: base}); return err }},
			{name: "bad interval", run: func() error {
				_, _, err := s.Report(ctx, store.ReportQuery{By: store.ByTime, Interval: 90 * time.Second, To: base})
				return err
			}},
			{name: "bad filter field", run: func() error {
				_, _, err := s.Report(ctx, store.ReportQuery{By: store.ByAPI, To: base, Filters: []store.ReportFilter{{Field: "requestId", Op: "eq", Value: "x"}}})
				return err
			}},
			{name: "bad response code", run: func() error {
				_, _, err := s.RequestLog(ctx, store.RequestQuery{To: base, Filters: []store.ReportFilter{{Field: "responseCode", Op: "eq", Value: "x"}}})
				return err
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.run(); err == nil {
					t.Fatal("no error")
				}
			})
		}
	})
}

// BenchmarkIngest measures ingestion throughput: batches of 500 records
// spread over 10 APIs, 3 operations, 50 subscriptions and the four
// outcomes, all within one minute.
func BenchmarkIngest(b *testing.B) {
	for _, st := range testenv.Stores() {
		b.Run(st.Name, func(b *testing.B) {
			s, err := store.Open(context.Background(), st.DSN(b))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const size = 500
			recs := make([]telemetry.Record, size)
			statuses := []int{200, 200, 200, 200, 200, 200, 201, 401, 429, 404, 500, 502}
			for i := range recs {
				sub := fmt.Sprintf("sub-%d", i%50)
				recs[i] = rec(time.Duration(i)*time.Millisecond, fmt.Sprintf("api-%d", i%10), fmt.Sprintf("op-%d", i%3), "starter", sub,
					statuses[i%len(statuses)], 200, time.Duration(1+i%40)*time.Millisecond, time.Millisecond)
				recs[i].RequestID = fmt.Sprintf("req-%d", i)
			}
			n := 0
			start := time.Now()
			for b.Loop() {
				n++
				if _, err := s.IngestBatch(context.Background(), &telemetry.Batch{ID: fmt.Sprintf("bench-%d", n), GatewayID: "managed", Records: recs}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*size)/time.Since(start).Seconds(), "records/s")
		})
	}
}
