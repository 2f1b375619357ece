package model

import (
	"net/mail"
	"strings"
	"time"
)

// User states.
const (
	UserActive  = "active"
	UserBlocked = "blocked"
	UserPending = "pending"
)

// User is a developer or administrator. Password is write-only: it is hashed
// (argon2id) into PasswordHash by the management plane and never returned.
type User struct {
	Email            string     `json:"email"`
	FirstName        string     `json:"firstName"`
	LastName         string     `json:"lastName"`
	State            string     `json:"state"`
	Note             string     `json:"note,omitempty"`
	Password         string     `json:"password,omitempty"`
	PasswordHash     string     `json:"passwordHash,omitempty"`
	RegistrationDate *time.Time `json:"registrationDate,omitempty"`
}

// Normalize lower-cases the email and defaults the state to active.
func (u *User) Normalize() {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.FirstName = strings.TrimSpace(u.FirstName)
	u.LastName = strings.TrimSpace(u.LastName)
	if u.State == "" {
		u.State = UserActive
	}
}

// Validate checks the user's own fields.
func (u *User) Validate() FieldErrors {
	var fe FieldErrors
	if u.Email == "" {
		fe.Add("email", "is required")
	} else if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		fe.Add("email", "is not a valid email address: %q", u.Email)
	}
	maxLen(&fe, "email", u.Email, 254)
	requireText(&fe, "firstName", u.FirstName, 100)
	requireText(&fe, "lastName", u.LastName, 100)
	oneOf(&fe, "state", u.State, UserActive, UserBlocked, UserPending)
	maxLen(&fe, "note", u.Note, 1000)
	if u.Password != "" && len(u.Password) < 8 {
		fe.Add("password", "must be at least 8 characters long")
	}
	maxLen(&fe, "password", u.Password, 256)
	return fe
}

// Group types.
const (
	GroupSystem   = "system"
	GroupCustom   = "custom"
	GroupExternal = "external"
)

// Built-in group ids.
const (
	GroupAdministrators = "administrators"
	GroupDevelopers     = "developers"
	GroupGuests         = "guests"
)

// Group collects users; products are visible to groups. System groups are
// seeded and cannot be changed or deleted.
type Group struct {
	DisplayName string `json:"displayName"`
	Description string `json:"description,omitempty"`
	BuiltIn     bool   `json:"builtIn"`
	Type        string `json:"type"`
	ExternalID  string `json:"externalId,omitempty"`
}

// Normalize defaults the type to custom.
func (g *Group) Normalize() {
	g.DisplayName = strings.TrimSpace(g.DisplayName)
	if g.Type == "" {
		g.Type = GroupCustom
	}
}

// Validate checks the group's own fields.
func (g *Group) Validate() FieldErrors {
	var fe FieldErrors
	requireText(&fe, "displayName", g.DisplayName, 300)
	maxLen(&fe, "description", g.Description, 1000)
	oneOf(&fe, "type", g.Type, GroupSystem, GroupCustom, GroupExternal)
	return fe
}
