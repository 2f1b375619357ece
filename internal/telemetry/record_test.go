package telemetry

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestMaskQuery(t *testing.T) {
	tests := []struct {
		name, query, param, want string
	}{
		{name: "empty", query: "", param: "subscription-key", want: ""},
		{name: "absent", query: "a=1&b=2", param: "subscription-key", want: "a=1&b=2"},
		{name: "only", query: "subscription-key=abc", param: "subscription-key", want: "subscription-key=***"},
		{name: "middle", query: "a=1&subscription-key=abc&b=2", param: "subscription-key", want: "a=1&subscription-key=***&b=2"},
		{name: "last", query: "a=1&subscription-key=abc", param: "subscription-key", want: "a=1&subscription-key=***"},
		{name: "twice", query: "subscription-key=a&x=1&subscription-key=b", param: "subscription-key", want: "subscription-key=***&x=1&subscription-key=***"},
		{name: "escaped name", query: "subscription%2Dkey=abc&a=%20", param: "subscription-key", want: "subscription%2Dkey=***&a=%20"},
		{name: "custom name", query: "apikey=abc&subscription-key=x", param: "apikey", want: "apikey=***&subscription-key=x"},
		{name: "prefix is not the name", query: "subscription-key2=abc", param: "subscription-key", want: "subscription-key2=abc"},
		{name: "no value", query: "subscription-key&a=1", param: "subscription-key", want: "subscription-key&a=1"},
		{name: "empty value", query: "subscription-key=&a=1", param: "subscription-key", want: "subscription-key=&a=1"},
		{name: "empty pairs kept", query: "&&subscription-key=k&", param: "subscription-key", want: "&&subscription-key=***&"},
		{name: "other case", query: "a=1&Subscription-Key=abc", param: "subscription-key", want: "a=1&Subscription-Key=***"},
		{name: "upper case escaped", query: "SUBSCRIPTION%2dKEY=abc", param: "subscription-key", want: "SUBSCRIPTION%2dKEY=***"},
		{name: "custom name in odd case", query: "ApiKey=abc&x=apikey", param: "apikey", want: "ApiKey=***&x=apikey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MaskQuery(tc.query, tc.param); got != tc.want {
				t.Fatalf("MaskQuery(%q, %q) = %q, want %q", tc.query, tc.param, got, tc.want)
			}
		})
	}
	if got := MaskQuery("apikey=a&Subscription-Key=b&c=3", "apikey", "subscription-key"); got != "apikey=***&Subscription-Key=***&c=3" {
		t.Fatalf("two names: %q", got)
	}
	if got := MaskQuery("subscription-key=a", ""); got != "subscription-key=a" {
		t.Fatalf("empty name: %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { MaskQuery("a=1&b=2&c=3", "subscription-key") }); n != 0 {
		t.Fatalf("MaskQuery allocates %v times when there is nothing to mask", n)
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		name    string
		rec     Record
		outcome Outcome
	}{
		{name: "200", rec: Record{ResponseCode: 200, BackendResponseCode: 200}, outcome: OutcomeSuccess},
		{name: "304", rec: Record{ResponseCode: 304, BackendResponseCode: 304}, outcome: OutcomeSuccess},
		{name: "101 websocket", rec: Record{ResponseCode: 101, BackendResponseCode: 101}, outcome: OutcomeSuccess},
		{name: "401 missing key", rec: Record{ResponseCode: 401, LastErrorReason: "SubscriptionKeyNotFound"}, outcome: OutcomeBlocked},
		{name: "403 ip filter", rec: Record{ResponseCode: 403, LastErrorReason: "CallerIpNotAllowed"}, outcome: OutcomeBlocked},
		{name: "429 rate limit", rec: Record{ResponseCode: 429, LastErrorReason: "RateLimitExceeded"}, outcome: OutcomeBlocked},
		{name: "403 return-response", rec: Record{ResponseCode: 403}, outcome: OutcomeBlocked},
		{name: "401 from the backend", rec: Record{ResponseCode: 401, BackendResponseCode: 401}, outcome: OutcomeOther},
		{name: "404 no api", rec: Record{ResponseCode: 404, LastErrorReason: "ApiNotFound"}, outcome: OutcomeOther},
		{name: "400 from the backend", rec: Record{ResponseCode: 400, BackendResponseCode: 400}, outcome: OutcomeOther},
		{name: "499 client gone", rec: Record{ResponseCode: 499, LastErrorReason: "ClientConnectionFailure"}, outcome: OutcomeOther},
		{name: "500 from the backend", rec: Record{ResponseCode: 500, BackendResponseCode: 500}, outcome: OutcomeFailed},
		{name: "502 backend down", rec: Record{ResponseCode: 502, LastErrorReason: "BackendConnectionFailure"}, outcome: OutcomeFailed},
		{name: "504 timeout", rec: Record{ResponseCode: 504, LastErrorReason: "Timeout"}, outcome: OutcomeFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rec.Outcome(); got != tc.outcome {
				t.Fatalf("outcome %v, want %v", got, tc.outcome)
			}
		})
	}
}

func sampleRecord() Record {
	return Record{
		Time: time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC), RequestID: "r-1", GatewayID: "managed", InstanceID: "host-a",
		APIID: "echo-api", OperationID: "retrieve-resource", ProductID: "starter", SubscriptionID: "admin-starter", UserID: "1",
		ClientIP: "127.0.0.1", Method: "GET", URL: "http://gw/echo/resource?x=\"1\"\n&subscription-key=***",
		ResponseCode: 200, BackendResponseCode: 200, RequestSize: 12, ResponseSize: 345,
		TotalTime: 1234567 * time.Nanosecond, BackendTime: 1000 * time.Microsecond, ClientTime: 7 * time.Microsecond,
		Cache: CacheNone, LastErrorSource: "rate-limit", LastErrorSection: "inbound", LastErrorReason: "RateLimitExceeded",
		LastErrorMessage: "bad \x01 byte \xff and \u2028", BackendURL: "http://backend/resource",
	}
}

func TestRecordJSONRoundTrip(t *testing.T) {
	in := sampleRecord()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(raw) || strings.ContainsAny(string(raw), "\n\u2028") {
		t.Fatalf("not one valid JSON line: %s", raw)
	}
	var out Record
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	want := in
	want.TotalTime = 1234 * time.Microsecond // truncated to microseconds
	want.LastErrorMessage = "bad \x01 byte \uFFFD and \u2028"
	if out != want {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, want)
	}
	for _, field := range []string{`"totalTime":1.234`, `"backendTime":1,`, `"clientTime":0.007`, `"time":"2026-03-04T05:06:07.123456Z"`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("%s missing from %s", field, raw)
		}
	}
}

func TestSanitize(t *testing.T) {
	r := Record{APIID: strings.Repeat("a", 1000), URL: strings.Repeat("u", 5000), LastErrorMessage: strings.Repeat("é", 1000),
		RequestSize: -1, TotalTime: -time.Second, ResponseCode: 12345}
	r.Sanitize()
	if len(r.APIID) != MaxIDLength || len(r.URL) != MaxURLLength || len(r.LastErrorMessage) > MaxMessageLength+3 ||
		r.RequestSize != 0 || r.TotalTime != 0 || r.ResponseCode != 0 || r.Cache != CacheNone {
		t.Fatalf("sanitized: %d %d %d %d %v %d %q", len(r.APIID), len(r.URL), len(r.LastErrorMessage), r.RequestSize, r.TotalTime, r.ResponseCode, r.Cache)
	}
}

func TestHistogram(t *testing.T) {
	tests := []struct {
		name   string
		d      time.Duration
		bucket int
	}{
		{name: "zero", d: 0, bucket: 0},
		{name: "below base", d: 99 * time.Microsecond, bucket: 0},
		{name: "base", d: 100 * time.Microsecond, bucket: 1},
		{name: "1ms", d: time.Millisecond, bucket: 7},
		{name: "1s", d: time.Second, bucket: 27},
		{name: "huge", d: time.Hour, bucket: HistogramBuckets - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := Bucket(tc.d)
			if b != tc.bucket {
				t.Fatalf("Bucket(%v) = %d, want %d", tc.d, b, tc.bucket)
			}
			lo, hi := BucketBounds(b)
			if tc.d < lo || hi != 0 && tc.d >= hi {
				t.Fatalf("%v outside its bucket [%v, %v)", tc.d, lo, hi)
			}
		})
	}

	// 1000 values 1..1000 ms: quantiles within the bucket resolution (√2).
	var counts [HistogramBuckets]int64
	for i := 1; i <= 1000; i++ {
		counts[Bucket(time.Duration(i)*time.Millisecond)]++
	}
	for _, q := range []float64{0.5, 0.95, 0.99} {
		got := Quantile(counts[:], q, time.Millisecond, time.Second)
		exact := time.Duration(q*1000) * time.Millisecond
		if ratio := float64(got) / float64(exact); ratio < 0.75 || ratio > 1.33 {
			t.Errorf("p%v = %v, exact %v", q*100, got, exact)
		}
	}
	if got := Quantile(counts[:], 1, time.Millisecond, time.Second); got != time.Second {
		t.Errorf("p100 = %v, want the maximum", got)
	}
	var one [HistogramBuckets]int64
	one[Bucket(3*time.Millisecond)] = 1
	if got := Quantile(one[:], 0.5, 3*time.Millisecond, 3*time.Millisecond); got != 3*time.Millisecond {
		t.Errorf("single value: %v", got)
	}
	if got := Quantile(make([]int64, HistogramBuckets), 0.5, 0, 0); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	r := sampleRecord()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendJSON(buf[:0])
	}
}
