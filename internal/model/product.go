package model

import (
	"strings"
	"time"
)

// Product states.
const (
	ProductNotPublished = "notPublished"
	ProductPublished    = "published"
)

// Product bundles APIs that developers subscribe to. Its APIs and groups are
// links managed through their own endpoints.
type Product struct {
	DisplayName          string `json:"displayName"`
	Description          string `json:"description,omitempty"`
	Terms                string `json:"terms,omitempty"`
	State                string `json:"state"`
	SubscriptionRequired *bool  `json:"subscriptionRequired"`
	ApprovalRequired     bool   `json:"approvalRequired"`
	// SubscriptionsLimit caps the active subscriptions one user may hold to
	// this product; nil means unlimited.
	SubscriptionsLimit *int `json:"subscriptionsLimit"`
}

// Normalize fills defaults: notPublished, subscription required.
func (p *Product) Normalize() {
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	if p.State == "" {
		p.State = ProductNotPublished
	}
	if p.SubscriptionRequired == nil {
		t := true
		p.SubscriptionRequired = &t
	}
}

// Validate checks the product's own fields and APIM's rules tying approval
// and limits to products that require a subscription.
func (p *Product) Validate() FieldErrors {
	var fe FieldErrors
	requireText(&fe, "displayName", p.DisplayName, 300)
	maxLen(&fe, "description", p.Description, 10000)
	maxLen(&fe, "terms", p.Terms, 100000)
	oneOf(&fe, "state", p.State, ProductNotPublished, ProductPublished)
	if p.SubscriptionRequired != nil && !*p.SubscriptionRequired {
		if p.ApprovalRequired {
			fe.Add("approvalRequired", "can only be true when subscriptionRequired is true")
		}
		if p.SubscriptionsLimit != nil {
			fe.Add("subscriptionsLimit", "can only be set when subscriptionRequired is true")
		}
	}
	if p.SubscriptionsLimit != nil && *p.SubscriptionsLimit < 0 {
		fe.Add("subscriptionsLimit", "must not be negative")
	}
	return fe
}

// Subscription states, as APIM names them.
const (
	SubActive    = "active"
	SubSuspended = "suspended"
	SubSubmitted = "submitted"
	SubRejected  = "rejected"
	SubCancelled = "cancelled"
	SubExpired   = "expired"
)

// Subscription is a pair of keys scoped to a product (/products/{id}), one
// API (/apis/{id}) or every API (/apis). The keys are write-only: the
// management API never returns them except through listSecrets.
type Subscription struct {
	Scope            string     `json:"scope"`
	OwnerID          string     `json:"ownerId,omitempty"`
	DisplayName      string     `json:"displayName"`
	State            string     `json:"state"`
	PrimaryKey       string     `json:"primaryKey,omitempty"`
	SecondaryKey     string     `json:"secondaryKey,omitempty"`
	AllowTracing     bool       `json:"allowTracing"`
	CreatedDate      *time.Time `json:"createdDate,omitempty"`
	StartDate        *time.Time `json:"startDate,omitempty"`
	ExpirationDate   *time.Time `json:"expirationDate,omitempty"`
	EndDate          *time.Time `json:"endDate,omitempty"`
	NotificationDate *time.Time `json:"notificationDate,omitempty"`
	StateComment     string     `json:"stateComment,omitempty"`
}

// ScopeKind splits a scope into its kind (KindProduct, KindAPI or
// KindAllAPIs) and target id; ok is false when the scope is malformed.
func ScopeKind(scope string) (kind Kind, id string, ok bool) {
	switch {
	case scope == "/apis":
		return KindAllAPIs, "", true
	case strings.HasPrefix(scope, "/apis/"):
		id = strings.TrimPrefix(scope, "/apis/")
		return KindAPI, id, ValidID(id)
	case strings.HasPrefix(scope, "/products/"):
		id = strings.TrimPrefix(scope, "/products/")
		return KindProduct, id, ValidID(id)
	}
	return "", "", false
}

// OwnerUserID returns the user id of an "/users/{id}" owner, or "".
func (s *Subscription) OwnerUserID() string {
	return strings.TrimPrefix(s.OwnerID, "/users/")
}

// Normalize fills defaults: state active.
func (s *Subscription) Normalize() {
	s.Scope = strings.TrimRight(strings.TrimSpace(s.Scope), "/")
	s.OwnerID = strings.TrimSpace(s.OwnerID)
	s.DisplayName = strings.TrimSpace(s.DisplayName)
	if s.State == "" {
		s.State = SubActive
	}
	s.PrimaryKey = strings.TrimSpace(s.PrimaryKey)
	s.SecondaryKey = strings.TrimSpace(s.SecondaryKey)
}

// Validate checks the subscription's own fields.
func (s *Subscription) Validate() FieldErrors {
	var fe FieldErrors
	if s.Scope == "" {
		fe.Add("scope", "is required")
	} else if _, _, ok := ScopeKind(s.Scope); !ok {
		fe.Add("scope", "must be /products/{productId}, /apis/{apiId} or /apis, got %q", s.Scope)
	}
	if s.OwnerID != "" {
		if !strings.HasPrefix(s.OwnerID, "/users/") || !ValidID(s.OwnerUserID()) {
			fe.Add("ownerId", "must be /users/{userId}, got %q", s.OwnerID)
		}
	}
	requireText(&fe, "displayName", s.DisplayName, 100)
	oneOf(&fe, "state", s.State, SubActive, SubSuspended, SubSubmitted, SubRejected, SubCancelled, SubExpired)
	for _, k := range []struct{ field, v string }{{"primaryKey", s.PrimaryKey}, {"secondaryKey", s.SecondaryKey}} {
		if k.v != "" && (len(k.v) < 16 || len(k.v) > 256) {
			fe.Add(k.field, "must be between 16 and 256 characters long")
		}
	}
	if s.PrimaryKey != "" && s.PrimaryKey == s.SecondaryKey {
		fe.Add("secondaryKey", "must differ from primaryKey")
	}
	maxLen(&fe, "stateComment", s.StateComment, 1000)
	return fe
}
