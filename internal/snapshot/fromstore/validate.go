package fromstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/store"
)

// ValidatePolicy compiles a policy document (or, for scope "fragment", a
// policy fragment) against the real policy registry, the expression
// compiler and the named values, fragments and backends in rd, as the
// snapshot will. The management plane validates every policy document and
// fragment with it before saving: a document that would not compile is
// refused with model.FieldErrors naming the field "value" and a message
// holding the path, line and column, e.g. `inbound/choose/when[2]/set-header:
// attribute "exists-action" must be one of override, skip, append, delete
// (line 7, column 9)`. Messages never hold the value of a secret named value.
func ValidatePolicy(ctx context.Context, rd store.Reader, scope, xml string) error {
	l := loader{ctx: ctx, rd: rd, cfg: &snapshot.Config{}}
	for _, step := range []func(map[string]bool) error{l.backends, l.namedValues, l.fragments} {
		if err := step(nil); err != nil {
			return err
		}
	}
	values := make(map[string]snapshot.NamedValue, len(l.cfg.NamedValues))
	for _, nv := range l.cfg.NamedValues {
		values[strings.ToLower(nv.DisplayName)] = nv
	}
	frags := make(map[string]string, len(l.cfg.PolicyFragments))
	for _, f := range l.cfg.PolicyFragments {
		frags[f.ID] = f.Value
	}
	backends := make(map[string]string, len(l.cfg.Backends))
	for _, b := range l.cfg.Backends {
		backends[b.ID] = b.URL
	}
	env := snapshot.PolicyEnv(scope,
		func(name string) (string, bool, bool) {
			nv, ok := values[strings.ToLower(name)]
			return nv.Value, nv.Secret, ok
		},
		func(id string) (string, bool) { f, ok := frags[id]; return f, ok },
		func(id string) (*url.URL, bool) {
			raw, ok := backends[id]
			if !ok {
				return nil, false
			}
			u, err := url.Parse(raw)
			return u, err == nil
		})
	var err error
	if scope == "fragment" {
		err = policy.CompileFragment(xml, env)
	} else {
		_, err = policy.CompileDocument(xml, env)
	}
	var ce *policy.CompileError
	if errors.As(err, &ce) {
		return model.FieldErrors{{Field: "value", Message: ce.Error()}}
	}
	if err != nil {
		return fmt.Errorf("validate policy: %w", err)
	}
	return nil
}
