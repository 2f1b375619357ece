package snapshot

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/policy"
)

// PolicyEnv returns the environment policy documents of cfg compile in:
// its named values, fragments and backends, and the expression compiler.
// The same environment serves validation on save (see fromstore).
func PolicyEnv(scope string, values func(name string) (string, bool, bool), frags func(id string) (string, bool), backends func(id string) (*url.URL, bool)) *policy.Env {
	return &policy.Env{Scope: scope, NamedValue: values, Fragment: frags, Backend: backends, Expressions: policy.DefaultExpressions()}
}

func (s *Snapshot) policyEnv(scope string) *policy.Env {
	env := PolicyEnv(scope,
		func(name string) (string, bool, bool) {
			nv := s.NamedValue(name)
			if nv == nil {
				return "", false, false
			}
			return nv.Value, nv.Secret, true
		},
		func(id string) (string, bool) {
			f := s.PolicyFragment(id)
			if f == nil {
				return "", false
			}
			return f.Value, true
		},
		func(id string) (*url.URL, bool) {
			b := s.Backend(id)
			if b == nil {
				return nil, false
			}
			return b.URL, true
		})
	env.Keys = s.opts.Keys
	return env
}

// compilePipelines compiles each scope's policy document once, then
// composes the effective pipeline of every operation for every way in (no
// product, or each product containing its API). A document that does not
// compile is reported as a policy ObjectError and isolates the operations
// that depend on it: they answer 500 until it is fixed, while everything
// else stays live.
func (s *Snapshot) compilePipelines() {
	docs := make(map[string]*policy.Document, len(s.policies))
	broken := map[string]error{}
	for i := range s.cfg.Policies {
		p := &s.cfg.Policies[i]
		if s.policies[p.Scope] != p {
			continue // skipped as a duplicate
		}
		d, err := policy.CompileDocument(p.Value, s.policyEnv(p.Scope))
		if err != nil {
			s.fail(KindPolicy, p.Scope, err)
			broken[p.Scope] = fmt.Errorf("the policy at scope %q does not compile", p.Scope)
			continue
		}
		docs[p.Scope] = d
	}
	doc := func(scope string) (*policy.Document, error) { return docs[scope], broken[scope] }
	global, gerr := doc("global")
	for _, a := range s.apis {
		apiDoc, aerr := doc("apis/" + a.ID)
		for _, o := range a.Operations {
			opDoc, oerr := doc("apis/" + a.ID + "/operations/" + o.ID)
			o.pipelines = make(map[string]*policy.Pipeline, len(a.Products)+1)
			o.policyErr = firstErr(gerr, aerr, oerr)
			if o.policyErr != nil {
				continue
			}
			add := func(productID string, prodDoc *policy.Document) {
				p := policy.Compose(global, prodDoc, apiDoc, opDoc)
				if p.Trivial() {
					p = nil
				}
				o.pipelines[productID] = p
			}
			add("", nil)
			for _, p := range a.Products {
				pd, perr := doc("products/" + p.ID)
				if perr != nil {
					o.productErrs = append(o.productErrs, productErr{p.ID, perr})
					continue
				}
				add(p.ID, pd)
			}
		}
	}
}

type productErr struct {
	id  string
	err error
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Pipeline returns the effective policy of the operation for a request that
// came through product (nil when none): nil when it only forwards the
// request. err is not nil when a policy document on the way does not
// compile; the request must then be refused.
func (o *CompiledOperation) Pipeline(product *CompiledProduct) (*policy.Pipeline, error) {
	if o.policyErr != nil {
		return nil, o.policyErr
	}
	id := ""
	if product != nil {
		id = product.ID
		for _, pe := range o.productErrs {
			if pe.id == id {
				return nil, pe.err
			}
		}
	}
	p, ok := o.pipelines[id]
	if !ok && id != "" {
		return nil, fmt.Errorf("product %q has no pipeline for operation %q", id, strings.TrimSpace(o.ID))
	}
	return p, nil
}
