package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/atomicfile"
)

// DefaultSpoolBytes bounds an on-disk spool.
const DefaultSpoolBytes = 64 << 20

// maxSpoolBody bounds what DecodeBatch reads from one spool file.
const maxSpoolBody = 64 << 20

// SpoolConfig configures OpenSpool.
type SpoolConfig struct {
	// Dir holds the batch files; it is created (0700) when missing.
	Dir string
	// MaxBytes bounds the files' total size (DefaultSpoolBytes); beyond it
	// the oldest batches are dropped and counted (reason buffer_full).
	MaxBytes int64
	// Metrics counts dropped records and failed deliveries (the queue's
	// metrics); nil keeps them unexported.
	Metrics *Metrics
	// Registerer receives portico_telemetry_buffer_bytes and
	// portico_telemetry_buffer_records; nil keeps them unexported.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Spool is a bounded on-disk buffer of batches waiting to be delivered:
// one gzip-compressed JSON file per batch, named
// <sequence>-<records>-<batch id>.json.gz so that batches are delivered in
// order and a dropped file is counted without being read. Each file is
// written atomically and synced before Add returns, so a batch once added
// survives a crash of the process (and of the machine); it is removed once
// delivered. Batches keep their id, so one delivered twice (a crash between
// the delivery and the removal) is counted once by the store.
//
// A self-hosted gateway spools every batch and forwards them to the
// management plane; portico serve spools only the batches its store
// refused (SpoolShipper).
type Spool struct {
	dir      string
	maxBytes int64
	m        *Metrics
	log      *slog.Logger

	mu      sync.Mutex
	files   []SpoolFile // oldest first
	size    int64
	records int
	seq     uint64
	wake    chan struct{}

	dropLog     time.Time // last "spool full" log
	dropUnseen  int       // records dropped since that log
	strikes     map[string]int
	forwardFail bool // the last delivery attempt failed (for logging transitions)
}

// SpoolFile is one spooled batch.
type SpoolFile struct {
	Name    string
	Size    int64
	Records int
}

func parseSpoolName(name string) (seq uint64, records int, ok bool) {
	base, found := strings.CutSuffix(name, ".json.gz")
	if !found {
		return 0, 0, false
	}
	parts := strings.SplitN(base, "-", 3)
	if len(parts) != 3 || !ValidBatchID(parts[2]) {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(parts[0], 10, 64)
	n, err2 := strconv.Atoi(parts[1])
	return seq, n, err1 == nil && err2 == nil && n >= 0
}

// OpenSpool opens (creating) the spool in cfg.Dir and lists the batches
// left there by a previous run, which are delivered first.
func OpenSpool(cfg SpoolConfig) (*Spool, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultSpoolBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		m, err := NewMetrics("", nil)
		if err != nil {
			return nil, err
		}
		cfg.Metrics = m
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("telemetry spool: %w", err)
	}
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("telemetry spool: %w", err)
	}
	s := &Spool{dir: cfg.Dir, maxBytes: cfg.MaxBytes, m: cfg.Metrics, log: cfg.Logger.With("component", "telemetry-spool"),
		wake: make(chan struct{}, 1), strikes: map[string]int{}}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") { // an interrupted write
			_ = os.Remove(filepath.Join(cfg.Dir, e.Name()))
			continue
		}
		seq, n, ok := parseSpoolName(e.Name())
		info, err := e.Info()
		if !ok || err != nil || !e.Type().IsRegular() {
			continue
		}
		s.files = append(s.files, SpoolFile{Name: e.Name(), Size: info.Size(), Records: n})
		s.size += info.Size()
		s.records += n
		s.seq = max(s.seq, seq)
	}
	slices.SortFunc(s.files, func(a, b SpoolFile) int { return strings.Compare(a.Name, b.Name) })
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portico_telemetry_buffer_bytes",
				Help: "Size of the on-disk buffer of telemetry batches waiting to be delivered."},
				func() float64 { return float64(s.Bytes()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portico_telemetry_buffer_records",
				Help: "Request records in the on-disk buffer waiting to be delivered."},
				func() float64 { return float64(s.Records()) }),
		} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register telemetry spool metrics: %w", err)
			}
		}
	}
	if len(s.files) > 0 {
		s.log.Info("request records from a previous run wait in the telemetry spool", "dir", s.dir, "batches", len(s.files), "records", s.records)
	}
	return s, nil
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Len is the number of batches waiting.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

// Records is the number of records waiting.
func (s *Spool) Records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records
}

// Bytes is the size of the batch files waiting.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Ship implements Shipper: it adds b to the spool.
func (s *Spool) Ship(_ context.Context, b *Batch) error { return s.Add(b) }

// Add writes b as the newest batch, synced to disk before it returns, and
// drops the oldest batches beyond the bound (counted as buffer_full and
// logged at most once a minute). It does not keep b.
func (s *Spool) Add(b *Batch) error {
	if !ValidBatchID(b.ID) {
		return fmt.Errorf("telemetry spool: invalid batch id %q", b.ID)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	name := fmt.Sprintf("%020d-%d-%s.json.gz", s.seq, len(b.Records), b.ID)
	if err := atomicfile.Write(filepath.Join(s.dir, name), buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("telemetry spool: %w", err)
	}
	s.files = append(s.files, SpoolFile{Name: name, Size: int64(buf.Len()), Records: len(b.Records)})
	s.size += int64(buf.Len())
	s.records += len(b.Records)
	dropped := 0
	for s.size > s.maxBytes && len(s.files) > 1 {
		old := s.files[0]
		_ = os.Remove(filepath.Join(s.dir, old.Name))
		s.forget(0)
		s.m.Dropped(DropBufferFull, old.Records)
		dropped += old.Records
	}
	if dropped > 0 {
		s.dropUnseen += dropped
		if time.Since(s.dropLog) >= time.Minute {
			s.log.Error("telemetry spool full: the oldest request records were dropped", "dir", s.dir, "maxBytes", s.maxBytes,
				"droppedRecords", s.dropUnseen)
			s.dropLog, s.dropUnseen = time.Now(), 0
		}
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// forget removes files[i] from the index; s.mu is held.
func (s *Spool) forget(i int) {
	f := s.files[i]
	s.files = slices.Delete(s.files, i, i+1)
	s.size -= f.Size
	s.records -= f.Records
	delete(s.strikes, f.Name)
}

// oldest returns the oldest batch file and, if any, the one after it.
func (s *Spool) oldest() (first, second SpoolFile, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = len(s.files)
	if n > 0 {
		first = s.files[0]
	}
	if n > 1 {
		second = s.files[1]
	}
	return first, second, n
}

// remove deletes a delivered (or refused) batch file.
func (s *Spool) remove(f SpoolFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.files, func(x SpoolFile) bool { return x.Name == f.Name })
	if i < 0 {
		return // dropped meanwhile
	}
	_ = os.Remove(filepath.Join(s.dir, f.Name))
	s.forget(i)
}

// DecodeBatch decodes a spool file's body (gzip-compressed JSON).
func DecodeBatch(body []byte) (*Batch, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var b Batch
	if err := json.NewDecoder(io.LimitReader(zr, maxSpoolBody)).Decode(&b); err != nil {
		return nil, err
	}
	return &b, nil
}

// ErrRejected marks a batch that will never be accepted: Forward drops it
// (counted as rejected) instead of retrying it.
var ErrRejected = errors.New("telemetry batch rejected")

// SendFunc delivers one spooled batch, given as the gzip-compressed JSON of
// a Batch. An error wrapping ErrRejected drops the batch; any other error
// keeps it for a later attempt.
type SendFunc func(ctx context.Context, body []byte) error

// ForwardOptions tune Spool.Forward. Zero values select the defaults.
type ForwardOptions struct {
	// MinBackoff and MaxBackoff bound the wait after a failed delivery
	// (doubling, with jitter): 1 s and 30 s by default.
	MinBackoff, MaxBackoff time.Duration
	// FinalDrain is how long Forward keeps delivering once ctx has ended
	// (until the spool is empty or a delivery fails); what remains is
	// delivered by the next run.
	FinalDrain time.Duration
	// Delivered, when set, hears of each delivered batch's record count.
	Delivered func(records int)
}

// maxStrikes is how many times a batch may fail while the batch after it is
// delivered before it is dropped as rejected: a batch that the destination
// refuses while it accepts others would otherwise block the spool forever.
const maxStrikes = 3

// Forward delivers the spooled batches with send, oldest first, until ctx
// ends: at once when a batch is added, after a backoff when a delivery
// fails. A batch is removed once delivered. When a delivery fails, the
// next batch is tried: if it is delivered, the destination is up and the
// failure was the batch's own; a batch that fails that way maxStrikes
// times is dropped, logged and counted as rejected. Forward must run in one
// goroutine at a time.
func (s *Spool) Forward(ctx context.Context, send SendFunc, o ForwardOptions) {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
	o.MinBackoff = min(o.MinBackoff, o.MaxBackoff)
	backoff := o.MinBackoff
	for {
		f, g, n := s.oldest()
		if n == 0 {
			s.recovered()
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			s.drain(send, o)
			return
		}
		err := s.deliver(ctx, f, send, o)
		if err == nil {
			backoff = o.MinBackoff
			continue
		}
		if ctx.Err() != nil {
			s.drain(send, o)
			return
		}
		if n > 1 && s.deliver(ctx, g, send, o) == nil {
			// The destination takes other batches: try f again now, and
			// count a strike against it if it fails once more.
			if err = s.deliver(ctx, f, send, o); err == nil {
				continue
			}
			if s.strike(f) {
				s.log.Error("telemetry batch dropped: refused again and again while later batches were accepted", "file", f.Name, "records", f.Records, "err", err)
				s.remove(f)
				s.m.Dropped(DropRejected, f.Records)
			}
			continue
		}
		s.m.ShipFailed()
		s.failed(f, err)
		if !sleepCtx(ctx, jitter(backoff)) {
			s.drain(send, o)
			return
		}
		backoff = min(2*backoff, o.MaxBackoff)
	}
}

// deliver sends f and removes it when delivered or rejected; it returns the
// error of a delivery to retry.
func (s *Spool) deliver(ctx context.Context, f SpoolFile, send SendFunc, o ForwardOptions) error {
	body, err := os.ReadFile(filepath.Join(s.dir, f.Name))
	if err == nil {
		err = send(ctx, body)
	} else if errors.Is(err, os.ErrNotExist) {
		s.remove(f) // dropped for space meanwhile
		return nil
	} else {
		err = fmt.Errorf("%w: unreadable spool file: %v", ErrRejected, err)
	}
	switch {
	case err == nil:
		s.remove(f)
		if o.Delivered != nil {
			o.Delivered(f.Records)
		}
		return nil
	case errors.Is(err, ErrRejected):
		s.log.Error("telemetry batch refused; dropped", "file", f.Name, "records", f.Records, "err", err)
		s.remove(f)
		s.m.Dropped(DropRejected, f.Records)
		return nil
	}
	return err
}

func (s *Spool) strike(f SpoolFile) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.strikes[f.Name]++
	return s.strikes[f.Name] >= maxStrikes
}

// failed logs the start of a run of failed deliveries (warning) and each
// failure (debug).
func (s *Spool) failed(f SpoolFile, err error) {
	s.mu.Lock()
	first := !s.forwardFail
	s.forwardFail = true
	waiting := s.records
	s.mu.Unlock()
	if first {
		s.log.Warn("request records cannot be delivered yet; they wait on disk and are retried", "dir", s.dir, "records", waiting, "err", err)
	}
	s.log.Debug("telemetry batch not delivered; kept in the spool", "file", f.Name, "err", err)
}

// recovered logs the end of a run of failed deliveries.
func (s *Spool) recovered() {
	s.mu.Lock()
	was := s.forwardFail
	s.forwardFail = false
	s.mu.Unlock()
	if was {
		s.log.Info("every spooled request record has been delivered", "dir", s.dir)
	}
}

// drain delivers what is spooled for at most o.FinalDrain, stopping at the
// first failure.
func (s *Spool) drain(send SendFunc, o ForwardOptions) {
	if o.FinalDrain <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.FinalDrain)
	defer cancel()
	for ctx.Err() == nil {
		f, _, n := s.oldest()
		if n == 0 || s.deliver(ctx, f, send, o) != nil {
			return
		}
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// DefaultDirectTimeout bounds one attempt of SpoolShipper to store a batch
// directly before spooling it.
const DefaultDirectTimeout = 5 * time.Second

// SpoolShipper ships batches to a direct shipper (portico serve's store)
// and, when that fails, to a spool from which Run retries them until they
// are accepted. While batches wait in the spool, new ones join them there
// without trying the direct shipper, so that a queue feeding a store that
// is down never waits for it. The direct shipper must be idempotent on the
// batch id (the store is).
type SpoolShipper struct {
	direct  Shipper
	spool   *Spool
	timeout time.Duration
	log     *slog.Logger
}

// NewSpoolShipper ships to direct, spooling to spool what direct refuses;
// start its retries with Run.
func NewSpoolShipper(direct Shipper, spool *Spool, log *slog.Logger) *SpoolShipper {
	if log == nil {
		log = slog.Default()
	}
	return &SpoolShipper{direct: direct, spool: spool, timeout: DefaultDirectTimeout, log: log.With("component", "telemetry")}
}

// Ship implements Shipper.
func (s *SpoolShipper) Ship(ctx context.Context, b *Batch) error {
	if s.spool.Len() == 0 {
		dctx, cancel := context.WithTimeout(ctx, s.timeout)
		err := s.direct.Ship(dctx, b)
		cancel()
		if err == nil {
			return nil
		}
		s.log.Warn("request records cannot be stored; spooling them to disk until the store takes them", "dir", s.spool.Dir(), "batch", b.ID, "records", len(b.Records), "err", err)
	}
	return s.spool.Add(b)
}

// Run retries the spooled batches against the direct shipper until ctx
// ends (backoff from 250 ms to 5 s), then for at most a few seconds more;
// stop it after the queue feeding Ship.
func (s *SpoolShipper) Run(ctx context.Context) {
	s.spool.Forward(ctx, func(ctx context.Context, body []byte) error {
		b, err := DecodeBatch(body)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		dctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		return s.direct.Ship(dctx, b)
	}, ForwardOptions{MinBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second, FinalDrain: 3 * time.Second})
}
