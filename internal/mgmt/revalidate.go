package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
)

// Policy documents and fragments reference named values ({{name}}),
// fragments (fragment-id="…") and backends (backend-id="…"). A change to one
// of those is refused when a document that uses it would no longer compile,
// so that a stored document is always one the gateway can run.

// revalidate compiles again, inside tx (which already holds the change),
// every policy document and fragment for which uses reports true.
func (s *Server) revalidate(ctx context.Context, tx store.Tx, what string, uses func(xml string) bool) error {
	for _, kind := range []model.Kind{model.KindPolicy, model.KindPolicyFragment} {
		recs, _, err := tx.List(ctx, string(kind), "", store.ListOptions{})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			var doc struct {
				Value string `json:"value"`
			}
			if err := json.Unmarshal(rec.Doc, &doc); err != nil || !uses(doc.Value) {
				continue
			}
			scope, where := rec.ID, "the policy at scope "+rec.ID
			if kind != model.KindPolicy {
				scope, where = "fragment", "policy fragment "+rec.ID
			}
			if err := validatePolicy(ctx, tx, scope, doc.Value); err != nil {
				msg := err.Error()
				var fe model.FieldErrors
				if errors.As(err, &fe) && len(fe) > 0 {
					msg = fe[0].Message
				}
				return conflict("", "this change to %s would break %s: %s", what, where, msg)
			}
		}
	}
	return nil
}

var namedValueRef = regexp.MustCompile(`\{\{([^{}]+)\}\}`)

// usesNamedValue reports whether xml references the named value name
// ({{name}}, compared case-insensitively like APIM).
func usesNamedValue(name string) func(string) bool {
	return func(xml string) bool {
		for _, m := range namedValueRef.FindAllStringSubmatch(xml, -1) {
			if strings.EqualFold(strings.TrimSpace(m[1]), name) {
				return true
			}
		}
		return false
	}
}

func usesAttr(attr, id string) func(string) bool {
	return func(xml string) bool {
		return strings.Contains(xml, attr+`="`+id+`"`) || strings.Contains(xml, attr+`='`+id+`'`)
	}
}

// installRevalidation hooks the kinds that policies reference.
func (s *Server) installRevalidation() {
	s.kind(model.KindNamedValue).after = func(ctx context.Context, tx store.Tx, id string, obj, old model.Resource) error {
		// both the new and the previous name: a rename must not orphan a
		// reference to the old one
		for _, o := range []model.Resource{obj, old} {
			if n, ok := o.(*model.NamedValue); ok {
				if err := s.revalidate(ctx, tx, "named value "+n.DisplayName, usesNamedValue(n.DisplayName)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	frag := s.kind(model.KindPolicyFragment)
	frag.prepare = func(ctx context.Context, tx store.Tx, op *writeOp) error {
		if err := validatePolicy(ctx, tx, "fragment", op.obj.(*model.PolicyFragment).Value); err != nil {
			var fe model.FieldErrors
			if errors.As(err, &fe) {
				return badRequest("the policy fragment is invalid: "+fe[0].Message, fe...)
			}
			return err
		}
		return nil
	}
	frag.after = func(ctx context.Context, tx store.Tx, id string, _, _ model.Resource) error {
		return s.revalidate(ctx, tx, "policy fragment "+id, usesAttr("fragment-id", id))
	}
	be := s.kind(model.KindBackend)
	be.after = func(ctx context.Context, tx store.Tx, id string, _, _ model.Resource) error {
		return s.revalidate(ctx, tx, "backend "+id, usesAttr("backend-id", id))
	}
}
