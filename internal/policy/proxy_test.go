package policy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestProxy(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string // Request.Proxy after inbound, or the compile error
		wantErr   bool
	}{
		{"literal with credentials", `<proxy url="http://proxy:3128" username="u" password="p w"/>`, "http://u:p%20w@proxy:3128", false},
		{"no credentials", `<proxy url="http://10.0.0.1:8080/"/>`, "http://10.0.0.1:8080", false},
		{"expression", `<proxy url="@(&quot;http://&quot; + &quot;px:1&quot;)" username="@(&quot;a&quot;)" password="b"/>`, "http://a:b@px:1", false},
		{"named value password", `<proxy url="http://px:1" username="svc" password="{{secret-pass}}"/>`, "http://svc:s3cr3t-PASSWORD@px:1", false},
		{"missing url", `<proxy username="u"/>`, `attribute "url" is required`, true},
		{"https proxy refused", `<proxy url="https://px:1"/>`, "not an http://host:port proxy URL", true},
		{"path refused", `<proxy url="http://px:1/x"/>`, "not an http://host:port proxy URL", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := `<policies><inbound>` + tc.doc + `<return-response/></inbound></policies>`
			env := testEnv("global")
			env.Expressions = DefaultExpressions()
			d, err := CompileDocument(src, env)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "inbound/proxy") {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", "http://gw/api/r", nil)
			c := newCtx(req, &fakeBackend{}, nil, time.Now())
			Compose(d).Run(c)
			if c.Request.Proxy == nil || c.Request.Proxy.String() != tc.want {
				t.Fatalf("proxy = %v, want %s", c.Request.Proxy, tc.want)
			}
		})
	}
}
