// Package model defines Portico's resource types (APIs, operations, products,
// subscriptions, users, groups, backends, named values, policies, gateways)
// and their validation. Property names follow Azure API Management's
// camelCase JSON names so that APIM users' payloads carry over.
//
// The package has no dependencies on storage or transport: a value that passes
// Validate is well-formed on its own; cross-resource rules (does the scope of a
// subscription exist, is a path unique) are enforced by the management plane.
package model

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// MaxIDLength is the longest resource id accepted.
const MaxIDLength = 80

var idPattern = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)

// ValidID reports whether id is a valid resource id: 1 to 80 lowercase
// letters, digits, '-' or '_'.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// FieldError is one validation failure, located by a JSON field path such as
// "subscriptionKeyParameterNames.header" or "templateParameters[1].name".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// FieldErrors collects validation failures; a nil or empty value means valid.
type FieldErrors []FieldError

// Add appends a failure for field.
func (fe *FieldErrors) Add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns fe as an error, or nil when fe is empty.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Resource is implemented by every stored resource type.
//
// Normalize fills defaults and canonicalises values (trimming, lowering
// where the rule is case-insensitive); it must be idempotent. Validate reports
// every field-level problem; it must not depend on other resources.
type Resource interface {
	Normalize()
	Validate() FieldErrors
}

func requireText(fe *FieldErrors, field, v string, max int) {
	if strings.TrimSpace(v) == "" {
		fe.Add(field, "is required")
		return
	}
	maxLen(fe, field, v, max)
}

func maxLen(fe *FieldErrors, field, v string, max int) {
	if len(v) > max {
		fe.Add(field, "must be at most %d characters long", max)
	}
}

func oneOf(fe *FieldErrors, field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	fe.Add(field, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
}

func validTags(fe *FieldErrors, field string, tags []string) {
	seen := map[string]bool{}
	for i, t := range tags {
		f := fmt.Sprintf("%s[%d]", field, i)
		if strings.TrimSpace(t) == "" {
			fe.Add(f, "must not be empty")
		}
		maxLen(fe, f, t, 160)
		if seen[strings.ToLower(t)] {
			fe.Add(f, "duplicates tag %q", t)
		}
		seen[strings.ToLower(t)] = true
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
