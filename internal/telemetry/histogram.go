package telemetry

import (
	"math"
	"time"
)

// HistogramBuckets is the number of buckets of the latency histogram that
// per-minute rollups keep, so that percentiles can be computed over any
// set of rollup rows by adding their counts.
//
// Bucket 0 holds durations below 100 µs; bucket i (1 ≤ i ≤ 38) holds
// [100 µs·2^((i-1)/2), 100 µs·2^(i/2)); bucket 39 holds 52.4 s and above.
// Successive bounds differ by a factor √2, so a percentile interpolated
// inside its bucket is within about 20 % of the true value (it is also
// clamped to the exact minimum and maximum).
const HistogramBuckets = 40

// histBase is the upper bound of bucket 0.
const histBase = 100 * time.Microsecond

// bounds[i] is the upper bound of bucket i, for i < HistogramBuckets-1.
var bounds = func() (b [HistogramBuckets - 1]time.Duration) {
	for i := range b {
		b[i] = time.Duration(math.Round(float64(histBase) * math.Pow(2, float64(i)/2)))
	}
	return b
}()

// Bucket returns the histogram bucket of d.
func Bucket(d time.Duration) int {
	lo, hi := 0, len(bounds)
	for lo < hi {
		m := (lo + hi) / 2
		if d < bounds[m] {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// BucketBounds returns the range [lo, hi) of bucket i; hi is 0 for the
// last, unbounded bucket.
func BucketBounds(i int) (lo, hi time.Duration) {
	if i > 0 {
		lo = bounds[i-1]
	}
	if i < len(bounds) {
		hi = bounds[i]
	}
	return lo, hi
}

// Quantile estimates the q-quantile (0 < q ≤ 1) of the durations counted
// in counts, whose exact minimum and maximum are lo and hi: it finds the
// bucket holding the rank ⌈q·n⌉ and interpolates linearly inside it. It
// returns 0 when counts is empty.
func Quantile(counts []int64, q float64, lo, hi time.Duration) time.Duration {
	var n int64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var cum int64
	for i, c := range counts {
		if c == 0 || cum+c < rank {
			cum += c
			continue
		}
		blo, bhi := BucketBounds(i)
		blo = max(blo, lo)
		if bhi == 0 || bhi > hi {
			bhi = hi
		}
		if bhi < blo {
			bhi = blo
		}
		frac := float64(rank-cum) / float64(c)
		d := blo + time.Duration(frac*float64(bhi-blo))
		return min(max(d, lo), hi)
	}
	return hi
}
