package main

import (
	"io"
	"slices"
	"testing"
)

func TestTraceRedactHeadersFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		want    []string
		wantErr bool
	}{
		{name: "default"},
		{name: "list", args: []string{"--trace-redact-headers", "X-Tenant-Token, x-internal-secret,"}, want: []string{"X-Tenant-Token", "x-internal-secret"}},
		{name: "from the environment", env: "X-A,X-B", want: []string{"X-A", "X-B"}},
		{name: "not a header name", args: []string{"--trace-redact-headers=X-A,Bad:Name"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("PORTICO_TRACE_REDACT_HEADERS", tc.env)
			}
			var o options
			err := parse(newFlagSet("gateway", &o, io.Discard), tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if !tc.wantErr && !slices.Equal(o.traceRedactHeaders, tc.want) {
				t.Fatalf("headers %q, want %q", o.traceRedactHeaders, tc.want)
			}
		})
	}
}
