package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFlagsFromEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(o *options) bool
	}{
		{"defaults", nil, nil, func(o *options) bool {
			return o.dataDir == "./portico-data" && o.mgmtAddr == "127.0.0.1:8001" && o.gatewayAddr == ":8080" && o.portalAddr == ":8002" && o.opsAddr == "127.0.0.1:8081"
		}},
		{"env sets a flag", map[string]string{"PORTICO_DATA_DIR": "/tmp/x", "PORTICO_MGMT_ADDR": ":9001"}, nil, func(o *options) bool {
			return o.dataDir == "/tmp/x" && o.mgmtAddr == ":9001"
		}},
		{"command line wins", map[string]string{"PORTICO_DATA_DIR": "/tmp/x"}, []string{"--data-dir", "/tmp/y"}, func(o *options) bool { return o.dataDir == "/tmp/y" }},
		{"gateway token variable", map[string]string{"PORTICO_GATEWAY_TOKEN": "tok"}, nil, func(o *options) bool { return o.token == "tok" }},
		{"durations", map[string]string{"PORTICO_BACKEND_TIMEOUT": "5s"}, nil, func(o *options) bool { return o.backendTimeout == 5*time.Second }},
		{"telemetry on by default", nil, nil, func(o *options) bool { return !o.noTelemetry }},
		{"telemetry off", nil, []string{"--telemetry=false"}, func(o *options) bool { return o.noTelemetry }},
		{"telemetry off from the environment", map[string]string{"PORTICO_TELEMETRY": "false"}, nil, func(o *options) bool { return o.noTelemetry }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var o options
			fs := newFlagSet("serve", &o, &bytes.Buffer{})
			if err := parse(fs, tc.args); err != nil {
				t.Fatal(err)
			}
			if !tc.check(&o) {
				t.Fatalf("options = %+v", o)
			}
		})
	}
	t.Run("bad env value is an error naming the variable", func(t *testing.T) {
		t.Setenv("PORTICO_SHUTDOWN_TIMEOUT", "soon")
		var o options
		err := parse(newFlagSet("serve", &o, &bytes.Buffer{}), nil)
		if err == nil || !strings.Contains(err.Error(), "PORTICO_SHUTDOWN_TIMEOUT") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRunCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "portico ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errb.String())
	}
	if code := run([]string{"serve", "--no-such-flag"}, &out, &errb); code != 2 {
		t.Fatalf("bad flag: %d", code)
	}
}
