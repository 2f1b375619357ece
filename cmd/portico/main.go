// Command portico is Portico's single binary: the all-in-one server (serve),
// the management plane alone (mgmt), a self-hosted gateway (gateway) and
// version. Flags may also be given as PORTICO_* environment variables
// (--data-dir is PORTICO_DATA_DIR); a flag on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/portico-gw/portico/internal/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// options are the flags shared by every subcommand.
type options struct {
	dataDir     string
	store       string
	mgmtAddr    string
	gatewayAddr string
	gatewayTLS  string
	portalAddr  string
	opsAddr     string
	echoAddr    string
	redis       string
	redisPrefix string
	logFormat   string
	logLevel    string
	tlsCert     string
	tlsKey      string
	mgmtURL     string
	token       string
	mgmtCA      string
	backupDir   string

	smtpAddr, smtpFrom, smtpUsername, smtpPassword string
	noTelemetry                                    bool
	shutdown                                       time.Duration

	// gateway limits and timeouts
	backendConnectTimeout time.Duration
	backendTimeout        time.Duration
	requestTimeout        time.Duration
	maxHeaderBytes        int
	maxBodyBytes          int64

	// telemetry
	accessLog          bool
	accessLogOut       io.Writer // where --access-log writes (serve's stdout); not a flag
	telemetryRetention time.Duration

	otlpEndpoint string

	// secure defaults (security.go)
	mgmtTLSCert, mgmtTLSKey string
	adminTokenFile          string
	trustedProxies          []netip.Prefix
	bodyReadTimeout         time.Duration

	// traceRedactHeaders are headers policy debugger traces hide, besides
	// the built-in list (--trace-redact-headers)
	traceRedactHeaders []string

	// policy debugger (not flags): shared by the management API and the
	// built-in gateway of one serve process
	debugger *debugger

	// openStore opens serve's store (not a flag; tests wrap the store);
	// nil: store.Open
	openStore func(ctx context.Context, dsn string) (store.Store, error)
}

func newFlagSet(name string, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dataDir, "data-dir", "./portico-data", "directory for the SQLite store, the admin token and backups")
	fs.StringVar(&o.store, "store", "", "store: empty for SQLite in the data dir, a file path, or postgres://user@host/db")
	fs.StringVar(&o.mgmtAddr, "mgmt-addr", defaultMgmtAddr, "management API and admin console listen address (loopback by default; :8001 for every interface)")
	fs.StringVar(&o.gatewayAddr, "gateway-addr", ":8080", "gateway listen address")
	fs.StringVar(&o.gatewayTLS, "gateway-tls-addr", "", "gateway (self-hosted): HTTPS listen address presenting the certificates of the gateway's hostname configurations by SNI (--tls-cert as the default)")
	fs.StringVar(&o.portalAddr, "portal-addr", ":8002", "developer portal listen address")
	fs.StringVar(&o.opsAddr, "ops-addr", defaultOpsAddr, "operations address: /metrics, /healthz, /readyz (loopback by default; :8081 for every interface, e.g. for Kubernetes probes)")
	fs.StringVar(&o.echoAddr, "echo-addr", "127.0.0.1:0", "loopback address of the built-in echo backend (port 0 picks a free one)")
	fs.StringVar(&o.redis, "redis", "", "redis://host:port/db to share rate-limit and quota counters between gateways")
	fs.StringVar(&o.redisPrefix, "redis-prefix", "", "gateway: start of every Redis key (default portico:<installation id>:, the id of the store, so that two installations on one Redis do not share counters)")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate for the gateway's TLS listener")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key for the gateway's TLS listener")
	fs.StringVar(&o.mgmtURL, "mgmt-url", "", "gateway: URL of the management plane")
	fs.StringVar(&o.token, "token", "", "gateway: gateway token (also PORTICO_GATEWAY_TOKEN)")
	fs.StringVar(&o.mgmtCA, "mgmt-ca", "", "gateway: PEM CA bundle to trust for the management plane")
	fs.StringVar(&o.backupDir, "backup-dir", "", "gateway: directory of the last good configuration and the instance id (default <data-dir>/gateway-backup)")
	fs.StringVar(&o.smtpAddr, "smtp-addr", "", "portal: SMTP server host:port for confirmation and reset e-mails (unset: written to the log and the console's outbox)")
	fs.StringVar(&o.smtpFrom, "smtp-from", "portico@localhost", "portal: sender address of e-mails")
	fs.StringVar(&o.smtpUsername, "smtp-username", "", "portal: SMTP user (PLAIN auth)")
	fs.StringVar(&o.smtpPassword, "smtp-password", "", "portal: SMTP password (prefer PORTICO_SMTP_PASSWORD to keep it out of the process list)")
	fs.DurationVar(&o.shutdown, "shutdown-timeout", 30*time.Second, "how long to let in-flight requests finish on shutdown")
	fs.DurationVar(&o.backendConnectTimeout, "backend-connect-timeout", 10*time.Second, "gateway: time to connect to a backend (TCP and TLS)")
	fs.DurationVar(&o.backendTimeout, "backend-timeout", 300*time.Second, "gateway: time to wait for a backend's response headers (504 after it)")
	fs.DurationVar(&o.requestTimeout, "request-timeout", 0, "gateway: time for a whole proxied exchange, body included (0: no limit)")
	fs.IntVar(&o.maxHeaderBytes, "max-header-bytes", 32<<10, "gateway: largest request line and headers (431 above it)")
	fs.Int64Var(&o.maxBodyBytes, "max-body-bytes", 100<<20, "gateway: largest request body of APIs that set no maxRequestBodyBytes (413 above it)")
	fs.StringVar(&o.otlpEndpoint, "otlp-endpoint", "", "gateway: OTLP/HTTP collector URL, e.g. http://localhost:4318, to export spans of requests, policy sections and backend calls to (JSON encoding)")
	fs.Func("trace-redact-headers", "gateway: comma-separated headers whose values policy debugger traces show as *** (Authorization, Proxy-Authorization, Cookie, Set-Cookie and the subscription key headers always are)", func(v string) error {
		h, err := parseHeaderList(v)
		o.traceRedactHeaders = h
		return err
	})
	fs.Var(invertedBool{&o.noTelemetry}, "telemetry", "built-in gateway: record every request for reports and the access log (--telemetry=false turns records off)")
	fs.BoolVar(&o.accessLog, "access-log", false, "gateway: write one JSON line per request (the telemetry record) to stdout")
	o.telemetryRetention = defaultTelemetryRetention
	fs.Var(retentionFlag{&o.telemetryRetention}, "telemetry-retention", "management plane: keep request records and reports this long, e.g. 30d or 72h (0: forever)")
	addSecurityFlags(fs, o)
	return fs
}

// envName maps a flag name to its environment variable.
func envName(flagName string) string {
	switch flagName {
	case "token":
		return "PORTICO_GATEWAY_TOKEN"
	case "token-file":
		return "PORTICO_GATEWAY_TOKEN_FILE"
	}
	return "PORTICO_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse applies PORTICO_* variables for flags not given, then the arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
			}
			given[f.Name] = v != ""
		}
	})
	errs = append(errs, readSecretFiles(fs, given))
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	return errors.Join(errs...)
}

func newLogger(o *options, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch o.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", o.logFormat)
}

const usage = `Portico — self-hosted API management.

Usage:
  portico serve     all in one: management API (127.0.0.1:8001), gateway (:8080),
                    portal (:8002), ops (127.0.0.1:8081)
  portico mgmt      management plane without a built-in gateway
  portico gateway   self-hosted gateway: --mgmt-url URL --token TOKEN
  portico version   print the version

Run "portico <command> -h" for the flags of a command. Every flag can also be
set as an environment variable: --data-dir is PORTICO_DATA_DIR, and so on.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command of args until SIGINT or SIGTERM and returns the
// process's exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext is run until ctx ends: flags, logger, the command, its exit
// code.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "portico %s\n", versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "serve", "mgmt", "gateway":
	default:
		fmt.Fprintf(stderr, "portico: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var o options
	fs := newFlagSet(cmd, &o, stderr)
	if err := parse(fs, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "portico %s: %v\n", cmd, err)
		return 2
	}
	log, err := newLogger(&o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "portico %s: %v\n", cmd, err)
		return 2
	}
	switch cmd {
	case "serve":
		err = serve(ctx, &o, log, stdout, true)
	case "mgmt":
		err = serve(ctx, &o, log, stdout, false)
	case "gateway":
		err = runSelfHosted(ctx, &o, log, stdout)
	}
	if err != nil {
		log.Error("portico stopped", "command", cmd, "err", err)
		return 1
	}
	return 0
}

// invertedBool is a boolean flag stored negated, so that the zero value of
// options keeps the flag's default (true).
type invertedBool struct{ off *bool }

func (b invertedBool) String() string {
	if b.off == nil || !*b.off {
		return "true"
	}
	return "false"
}

func (b invertedBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*b.off = !v
	return nil
}

// IsBoolFlag lets --telemetry be given without a value.
func (b invertedBool) IsBoolFlag() bool { return true }
