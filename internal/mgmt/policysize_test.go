package mgmt_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/model"
)

// TestPolicySizeLimit: a policy document or fragment larger than APIM's
// 256 KiB is refused with a 400 problem that names the limit, at every
// scope, whether sent as XML or JSON; one at the limit is stored.
func TestPolicySizeLimit(t *testing.T) {
	// Comments keep the documents valid whatever their size.
	pad := func(root string, size int) string {
		head, tail := "<"+root+"><!--", "--></"+root+">"
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	over, atLimit := pad("policies", model.MaxPolicyBytes+1), pad("policies", model.MaxPolicyBytes)
	fragOver, fragAtLimit := pad("fragment", model.MaxPolicyBytes+1), pad("fragment", model.MaxPolicyBytes)
	xml := []string{"Content-Type", "application/xml"}
	const limit = "at most 262144 bytes (256 KiB)"
	forEachStore(t, func(t *testing.T, e *env) {
		e.run(t, []call{
			{name: "global", method: "PUT", path: "/api/v1/policy", body: over, hdr: xml, wantStatus: 400, wantField: "value", wantIn: limit},
			{name: "product", method: "PUT", path: "/api/v1/products/starter/policy", body: over, hdr: xml, wantStatus: 400, wantField: "value", wantIn: limit},
			{name: "api", method: "PUT", path: "/api/v1/apis/echo-api/policy", body: over, hdr: xml, wantStatus: 400, wantField: "value", wantIn: limit},
			{name: "api json", method: "PUT", path: "/api/v1/apis/echo-api/policy", body: map[string]any{"format": "rawxml", "value": over}, wantStatus: 400, wantField: "value", wantIn: limit},
			{name: "operation", method: "PUT", path: "/api/v1/apis/echo-api/operations/retrieve-resource/policy", body: over, hdr: xml, wantStatus: 400, wantField: "value", wantIn: limit},
			{name: "fragment", method: "PUT", path: "/api/v1/policyFragments/big", body: map[string]any{"value": fragOver}, wantStatus: 400, wantField: "value", wantIn: limit},
			{name: "global at the limit", method: "PUT", path: "/api/v1/policy", body: atLimit, hdr: xml, wantStatus: 201},
			{name: "fragment at the limit", method: "PUT", path: "/api/v1/policyFragments/big", body: map[string]any{"value": fragAtLimit}, wantStatus: 201},
		})
	})
}
